//! vetdesk's scheduling core.
//!
//! Pure values in, values out: no database, no network, no clock. Callers pass
//! `now` and the clinic's time zone. This is where the scheduling rules live
//! (ARCHITECTURE.md "Scheduling rules", "Time", "Lifecycle").

pub mod auth;
pub mod availability;
pub mod calendar;
pub mod conflicts;
#[cfg(feature = "test-support")]
pub mod fixture;
pub mod ids;
pub mod lifecycle;
pub mod message;
pub mod model;
pub mod notification;
#[cfg(feature = "test-support")]
pub mod reference;
pub mod schedule;
pub mod time;
pub mod validate;

pub use auth::{
    ClinicScope, Denied, Password, Permission, Principal, Role, ThrottleRule, User, Username,
};
pub use availability::{
    availability, availability_runs, expand_runs, free_blocks, validate_grid, SlotQuery, SlotRun,
    VetRuns, VetSlots, GRID_MAX_MINUTES, GRID_MIN_MINUTES,
};
pub use calendar::{group_by_local_day, view_range, View};
pub use conflicts::{check, explain, Conflict, Explanation, Proposal};
pub use ids::*;
pub use lifecycle::{transition, Action, Status, TransitionError};
pub use message::{CalendarEvent, Facts, Rendered, Template};
pub use model::*;
pub use notification::{
    MessageChannel, MessageKind, MessageStatus, NotificationSettings, PendingMessage, Plan,
    PlannedMessage, QuietHours, Readiness,
};
pub use schedule::{Absence, Booking, DayOverride, LocalDays, VetSchedule, WeeklyRule};
pub use time::{resolve_local, DateRange, Interval, LocalSpan};
pub use validate::*;
