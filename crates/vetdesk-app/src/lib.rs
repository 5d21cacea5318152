//! vetdesk's application layer: the one place every use case runs.
//!
//! The CLI, the HTTP server and the desktop app's commands are thin adapters
//! over [`App`]. Each use case opens a store transaction, asks the pure core
//! (`vetdesk-core`) what is allowed, writes, and commits. This is the outermost
//! layer that knows the time: it reads it from its [`Clock`] once per use case
//! and passes it down.

mod access;
mod appointments;
mod availability;
pub mod backups;
mod clinic_scope;
pub mod demo;
mod error;
mod notifications;
mod paging;
pub mod privacy;
mod reads;
mod records;
mod schedule_cache;
mod scheduling;
mod sending;
mod sessions;
mod signin;
mod throttle;
pub mod views;

pub use paging::DEFAULT_PAGE;

pub use access::{UserInput, UserPatch, MAX_AUDIT_PAGE};
pub use appointments::{BookRequest, RescheduleRequest, MAX_BOOK_BATCH, MAX_PAGE};
pub use availability::AvailabilityRequest;
pub use error::{AppError, ErrorCode, Result};
pub use notifications::{
    MessagePreview, OutboxQuery, SettingsPatch, SettingsView, TemplateInput, TemplateView,
    MAX_OUTBOX_PAGE,
};
pub use privacy::{ClientExport, ErasureReport, ExportedAppointment};
pub use records::*;
pub use scheduling::{CalendarRequest, ConflictRequest, ExplainRequest, MAX_NOTICE_MINUTES};
pub use sending::{Claimed, ClaimedBatch, Outgoing, Prepared, Recipient, MAX_ATTEMPTS, MAX_CLAIM};
pub use sessions::{LiveSession, StreamTicket, LAST_SEEN_STEP_SECS, STREAM_TICKET_SECS};
pub use signin::SessionGrant;
pub use throttle::{address_group, SignInStats, ThrottleRule, MAX_THROTTLE_KEYS};

use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};
use throttle::SignInThrottle;
use vetdesk_core::{Actor, MessageChannel, Principal};
pub use vetdesk_store::{Change, ChangeOp};
use vetdesk_store::{ClaimScope, DesktopScope, Store};

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
    /// How long a sign-in lasts (a working day and then some).
    pub session_ttl: Duration,
    /// A session unused for this long ends (shared front-desk PCs); `None`:
    /// never. Off here; `vetdesk serve` sets it (`--session-idle-mins`).
    pub session_idle: Option<Duration>,
    /// How often a live event stream looks at its session, to end when the
    /// session does; a sign-out in this process or a change to a user is
    /// looked at at once, so this bounds only what another server did.
    pub stream_recheck: std::time::Duration,
    /// Failed sign-ins allowed per username.
    pub login_per_user: ThrottleRule,
    /// Failed sign-ins allowed per client address (IPv6 by its /64).
    pub login_per_source: ThrottleRule,
    /// Password verifications (argon2id, ~19 MiB each) that may run at once;
    /// about the number of CPUs.
    pub max_concurrent_verifications: usize,
    /// How long a sign-in waits for a verification slot before it is told to
    /// try again (429 with `Retry-After`).
    pub verification_wait: std::time::Duration,
    /// Flush the worker's outcome records (sent, failed, skipped) to disk
    /// before the next message goes out. Off by default: without it a power
    /// cut may resend a message (same Message-ID), never lose one
    /// (ARCHITECTURE.md, Invariants); on, every message costs one fsync.
    pub durable_message_records: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_range_days: 92,
            default_grid_min: 15,
            min_notice: Duration::zero(),
            session_ttl: Duration::hours(12),
            session_idle: None,
            stream_recheck: std::time::Duration::from_secs(5),
            login_per_user: ThrottleRule {
                max_failures: 5,
                window: Duration::minutes(15),
            },
            login_per_source: ThrottleRule {
                max_failures: 20,
                window: Duration::minutes(15),
            },
            max_concurrent_verifications: std::thread::available_parallelism()
                .map_or(2, std::num::NonZeroUsize::get),
            verification_wait: std::time::Duration::from_secs(10),
            durable_message_records: false,
        }
    }
}

/// The application service, acting as one [`Principal`]: the local operator
/// (admin) unless made to act as a signed-in user with [`App::acting_as`].
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    principal: Arc<Principal>,
    throttle: Arc<SignInThrottle>,
    /// The channels the notification worker beside this application sends
    /// through, as the process that runs it says (empty: nothing goes out).
    sending: Arc<Mutex<Vec<MessageChannel>>>,
    /// Availability's schedules while the store has not changed.
    schedules: Arc<schedule_cache::ScheduleCache>,
    /// Bumped when a session of this process ends (live streams look at once).
    sessions_changed: Arc<tokio::sync::watch::Sender<u64>>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        let throttle = SignInThrottle::new(&settings);
        App {
            store,
            clock,
            settings,
            principal: Arc::new(Principal::local("local")),
            throttle: Arc::new(throttle),
            sending: Arc::default(),
            schedules: Arc::default(),
            sessions_changed: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }

    /// Record what this process's notification worker sends (`vetdesk serve`
    /// and the desktop app call it when their worker starts, and with an empty
    /// scope when it stops).
    pub fn set_sending(&self, scope: &ClaimScope) {
        let on = [
            (scope.email, MessageChannel::Email),
            (scope.sms, MessageChannel::Sms),
            (scope.desktop != DesktopScope::None, MessageChannel::Desktop),
        ];
        *self.sending.lock().unwrap_or_else(|e| e.into_inner()) = on
            .into_iter()
            .filter(|(yes, _)| *yes)
            .map(|(_, c)| c)
            .collect();
    }

    /// The channels this process's notification worker sends through; empty
    /// when it runs none, so owners' messages only wait in the outbox.
    pub fn sending_channels(&self) -> Vec<MessageChannel> {
        self.sending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The same application acting as `principal`: what it may do, and whom
    /// the audit log names.
    pub fn acting_as(&self, principal: Principal) -> App {
        App {
            principal: Arc::new(principal),
            ..self.clone()
        }
    }

    /// Who an appointment's history and `created_by`/`updated_by` name for
    /// this application's changes: its principal, in this one place, never
    /// a name an adapter passes beside it.
    pub(crate) fn actor(&self) -> Actor {
        Actor::new(self.principal.username.clone())
    }

    /// Who this application acts as.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Open the store a URL names, with the wall clock and default settings.
    pub async fn open(url: &str) -> Result<Self> {
        App::open_with(url, vetdesk_store::Schema::Migrate).await
    }

    /// [`App::open`], saying what to do about missing migrations (a server
    /// on PostgreSQL applies none: its runtime role may not).
    pub async fn open_with(url: &str, schema: vetdesk_store::Schema) -> Result<Self> {
        let store = vetdesk_store::open_with(url, schema).await?;
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
    /// How many password verifications this process has run, and the most at once.
    pub fn sign_in_stats(&self) -> SignInStats {
        self.throttle.stats()
    }
    /// Every committed change from now on (live calendars refresh from this).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.store.subscribe()
    }
    /// The same application with another idle time for sessions (`None`:
    /// never) and stream recheck period; what `vetdesk serve` and the tests use.
    pub fn with_session_policy(
        &self,
        idle: Option<Duration>,
        stream_recheck: std::time::Duration,
    ) -> App {
        let mut settings = self.settings.clone();
        settings.session_idle = idle;
        settings.stream_recheck = stream_recheck;
        App {
            settings,
            ..self.clone()
        }
    }
    /// The same application on another clock (the demo seeder books "in the past" this way).
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> App {
        App {
            clock,
            ..self.clone()
        }
    }
}
