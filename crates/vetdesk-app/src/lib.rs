//! vetdesk's application layer: the one place every use case runs.
//!
//! The CLI, the HTTP server and the desktop app's commands are thin adapters
//! over [`App`]. Each use case opens a store transaction, asks the pure core
//! (`vetdesk-core`) what is allowed, writes, and commits. This is the outermost
//! layer that knows the time: it reads it from its [`Clock`] once per use case
//! and passes it down.

mod appointments;
pub mod demo;
mod error;
mod records;
mod scheduling;
pub mod views;

pub use appointments::{BookRequest, RescheduleRequest};
pub use error::{AppError, ErrorCode, Result};
pub use records::*;
pub use scheduling::{AvailabilityRequest, CalendarRequest, ConflictRequest, ExplainRequest};

use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};
use vetdesk_store::Store;
pub use vetdesk_store::{Change, ChangeOp};

/// Where the application reads the time. Tests and the demo seeder use [`ManualClock`].
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock, truncated to the millisecond (what the store keeps).
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }
}

/// A clock that says what it is told.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(t: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(t))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }
    pub fn advance(&self, d: Duration) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *g += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Clinic-wide scheduling settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The longest date range availability and lists accept.
    pub max_range_days: i64,
    /// Slot grid when a request names none.
    pub default_grid_min: u32,
    /// How far ahead of now the earliest bookable start lies.
    pub min_notice: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_range_days: 92,
            default_grid_min: 15,
            min_notice: Duration::zero(),
        }
    }
}

/// The application service.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Settings,
}

impl App {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        App {
            store,
            clock,
            settings,
        }
    }

    /// Open the store a URL names, with the wall clock and default settings.
    pub async fn open(url: &str) -> Result<Self> {
        let store = vetdesk_store::open(url).await?;
        Ok(App::new(store, Arc::new(SystemClock), Settings::default()))
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
    /// Every committed change from now on (live calendars refresh from this).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.store.subscribe()
    }
    /// The same application on another clock (the demo seeder books "in the past" this way).
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> App {
        App {
            store: self.store.clone(),
            clock,
            settings: self.settings.clone(),
        }
    }
}
