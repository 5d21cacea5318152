//! An owner's data rights: reading everything the store holds about one owner
//! (for an export), erasing it, and forgetting where sent messages went.
//!
//! A part of the [`Tx`](crate::Tx) contract of its own ([`PrivacyTx`] is a
//! supertrait of `Tx`), written once for both engines in `sql/privacy.rs`.

use crate::{OutboxRecord, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vetdesk_core::{Client, ClientId, Pet};

/// The name an erased owner keeps (a name is required; this one is nobody's).
pub const ERASED_CLIENT_NAME: &str = "Erased owner";
/// The name an erased owner's pets keep.
pub const ERASED_PET_NAME: &str = "Erased pet";
/// Why an erased owner's pending messages were voided (the outbox's `last_error`).
pub const ERASED_REASON: &str = "not sent: the owner's data was erased";

/// An owner's row, whether or not it was deleted or erased.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRecord {
    pub client: Client,
    pub deleted_at: Option<DateTime<Utc>>,
    pub erased_at: Option<DateTime<Utc>>,
}

/// What an erasure changed. All zeros (and `already` set) for an owner erased before.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erased {
    /// The owner had been erased already: nothing was changed.
    pub already: bool,
    pub pets: u64,
    /// Appointments whose free text (reason, notes, cancellation reason) was cleared.
    /// Their times, statuses, vets and types stay.
    pub appointments: u64,
    /// History lines whose note was cleared.
    pub history_notes: u64,
    /// Pending messages voided.
    pub messages_voided: u64,
    /// Messages whose recipient, error text or provider id was forgotten.
    pub messages_forgotten: u64,
}

#[async_trait]
pub trait PrivacyTx: Send {
    /// The owner, including one deleted (tombstoned) or erased.
    async fn client_record(&mut self, id: ClientId) -> Result<Option<ClientRecord>>;
    /// Every pet the owner has, including deleted ones.
    async fn client_pets(&mut self, id: ClientId) -> Result<Vec<Pet>>;
    /// Every message about the owner's appointments, oldest due first.
    async fn client_messages(&mut self, id: ClientId) -> Result<Vec<OutboxRecord>>;
    /// Erase the owner: anonymise them and their pets (names, contact details,
    /// breed, date of birth), tombstone both, clear their appointments' free
    /// text and history notes, void their pending messages and forget where
    /// sent ones went. Each changed row gets a new version and a change-log
    /// line. An owner erased before is left as it is (`Erased::already`).
    /// `NotFound` when there is no such owner.
    async fn erase_client(&mut self, id: ClientId, at: DateTime<Utc>) -> Result<Erased>;
    /// Forget the recipient (`sent_to`) and the error text (which may quote
    /// it) of every message finished before `before`; returns how many.
    async fn forget_recipients(&mut self, before: DateTime<Utc>) -> Result<u64>;
}
