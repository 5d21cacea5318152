//! Schedules read for availability, kept between requests while the store
//! says nothing has changed. Working hours, overrides and time off change
//! rarely, and even a busy clinic asks for the same week again and again
//! between two bookings: reading 30,000 appointments' blocked time each time
//! is most of what an availability request costs.
//!
//! An entry is good exactly while the store's change-log position stands
//! ([`Tx::change_position`]): every write appends to the change log in its own
//! transaction, and on SQLite writes commit in position order, so the same
//! position in a later snapshot means the same data, whichever process or
//! workstation wrote. PostgreSQL cannot promise that order, so there nothing
//! is cached and every request reads afresh.

use crate::reads::Reads;
use crate::scheduling::{load_schedules, Blocked};
use crate::Result;
use chrono::NaiveDate;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use vetdesk_core::{AppointmentId, Clinic, ClinicId, VetId, VetSchedule};
use vetdesk_store::Tx;

/// How many (clinic, vets, dates) answers are kept: a few screens' worth.
const ENTRIES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    clinic: ClinicId,
    vets: Vec<VetId>,
    first: NaiveDate,
    last: NaiveDate,
    ignoring: Option<AppointmentId>,
}

/// Each answer with the change-log position it was read at.
type Entries = LruCache<Key, (i64, Arc<Vec<VetSchedule>>)>;

pub(crate) struct ScheduleCache {
    entries: Mutex<Entries>,
}

impl Default for ScheduleCache {
    fn default() -> Self {
        let size = NonZeroUsize::new(ENTRIES).unwrap_or(NonZeroUsize::MIN);
        ScheduleCache {
            entries: Mutex::new(LruCache::new(size)),
        }
    }
}

impl ScheduleCache {
    /// The schedules `load_schedules` would read for availability in `tx`'s
    /// snapshot: from the cache when the store's position has not moved
    /// since they were read, else read now (and kept, when the store has a
    /// position to check them against).
    pub(crate) async fn availability_schedules(
        &self,
        tx: &mut dyn Tx,
        clinic: &Clinic,
        vets: &[VetId],
        first: NaiveDate,
        last: NaiveDate,
        ignoring: Option<AppointmentId>,
    ) -> Result<Arc<Vec<VetSchedule>>> {
        let position = tx.change_position().await?;
        let key = Key {
            clinic: clinic.id,
            vets: vets.to_vec(),
            first,
            last,
            ignoring,
        };
        if let Some(position) = position {
            if let Some((at, found)) = self.lock().get(&key) {
                if *at == position {
                    tracing::debug!(position, "schedules from the cache");
                    return Ok(found.clone());
                }
            }
        }
        let read = Arc::new(
            load_schedules(
                tx,
                &mut Reads::default(),
                clinic,
                vets,
                first,
                last,
                Blocked::Anonymous { ignoring },
            )
            .await?,
        );
        if let Some(position) = position {
            self.lock().put(key, (position, read.clone()));
        }
        Ok(read)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves nothing half-written worth refusing.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
