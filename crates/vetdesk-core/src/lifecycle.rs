//! The appointment lifecycle (ARCHITECTURE.md "Lifecycle") as a pure state machine.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Scheduled,
    Confirmed,
    CheckedIn,
    InProgress,
    Completed,
    Cancelled,
    NoShow,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Scheduled,
        Status::Confirmed,
        Status::CheckedIn,
        Status::InProgress,
        Status::Completed,
        Status::Cancelled,
        Status::NoShow,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Confirmed => "confirmed",
            Status::CheckedIn => "checked_in",
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Cancelled => "cancelled",
            Status::NoShow => "no_show",
        }
    }

    /// Only cancelled and no-show appointments free their time.
    pub fn holds_time(&self) -> bool {
        !matches!(self, Status::Cancelled | Status::NoShow)
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self, Status::Completed | Status::Cancelled | Status::NoShow)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = crate::ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == norm)
            .ok_or_else(|| crate::ValidationError::Choice {
                field: "status",
                value: s.to_string(),
                expected:
                    "scheduled, confirmed, checked_in, in_progress, completed, cancelled, no_show",
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Confirm,
    CheckIn,
    Start,
    Complete,
    Cancel,
    NoShow,
    Reschedule,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Confirm,
        Action::CheckIn,
        Action::Start,
        Action::Complete,
        Action::Cancel,
        Action::NoShow,
        Action::Reschedule,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Confirm => "confirm",
            Action::CheckIn => "check_in",
            Action::Start => "start",
            Action::Complete => "complete",
            Action::Cancel => "cancel",
            Action::NoShow => "no_show",
            Action::Reschedule => "reschedule",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum TransitionError {
    #[error("cannot {action} an appointment that is {from}")]
    NotAllowed { from: Status, action: Action },
    #[error("cannot mark a no-show before the appointment's start ({start})")]
    NoShowBeforeStart { start: DateTime<Utc> },
}

/// The status an action leads to from `from`, or why it may not happen.
/// `now` and `start` matter only for no-show, which needs the start time to have passed.
pub fn transition(
    from: Status,
    action: Action,
    now: DateTime<Utc>,
    start: DateTime<Utc>,
) -> Result<Status, TransitionError> {
    use Action as A;
    use Status as S;
    let to = match (from, action) {
        (S::Scheduled, A::Confirm) => S::Confirmed,
        (S::Scheduled | S::Confirmed, A::CheckIn) => S::CheckedIn,
        (S::Scheduled | S::Confirmed | S::CheckedIn, A::Start) => S::InProgress,
        (S::InProgress, A::Complete) => S::Completed,
        (S::Scheduled | S::Confirmed, A::Cancel) => S::Cancelled,
        (S::Scheduled | S::Confirmed, A::NoShow) => {
            if now < start {
                return Err(TransitionError::NoShowBeforeStart { start });
            }
            S::NoShow
        }
        (S::Scheduled | S::Confirmed, A::Reschedule) => S::Scheduled,
        _ => return Err(TransitionError::NotAllowed { from, action }),
    };
    Ok(to)
}
