//! How a [`Worker`](crate::Worker) is set up, and the rules that setting
//! must keep: a lease long enough to send one message and record it, a
//! batch and an attempt count the application accepts.

use std::time::{Duration, Instant};
use vetdesk_app::{MAX_ATTEMPTS, MAX_CLAIM};

/// How much longer than the send timeout a lease must be. A message is only
/// started with its send timeout and [`RECORD_ROOM`] left on the lease, and
/// the claim itself and preparing the message take a moment first: with
/// less, a claimed batch would be handed back unsent, claim after claim.
pub const LEASE_MARGIN: Duration = Duration::from_secs(2);

/// What a message must have left on its lease beyond the send timeout to be
/// started: room to record its outcome, retries included
/// ([`RECORD_PAUSES`] sum to 1.05 s), before another worker may take it.
pub const RECORD_ROOM: Duration = Duration::from_millis(1500);

/// The pauses between tries at recording an outcome the store refused
/// (busy, locked, connection lost): four tries in all before the worker
/// keeps the outcome to record first on its next step.
pub const RECORD_PAUSES: [Duration; 3] = [
    Duration::from_millis(50),
    Duration::from_millis(200),
    Duration::from_millis(800),
];

/// A sending rate: a steady `per_second`, with bursts of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

impl Rate {
    /// No limit worth the name (benchmarks, tests).
    pub const UNLIMITED: Rate = Rate {
        per_second: 1.0e9,
        burst: u32::MAX,
    };
}

/// A token bucket: `take` waits until the rate allows one more message.
pub(crate) struct Bucket {
    rate: Rate,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new(rate: Rate) -> Self {
        Bucket {
            rate,
            tokens: f64::from(rate.burst.min(1_000_000)),
            last: Instant::now(),
        }
    }
    pub(crate) async fn take(&mut self) {
        let cap = f64::from(self.rate.burst.min(1_000_000)).max(1.0);
        loop {
            let now = Instant::now();
            self.tokens = (self.tokens
                + now.duration_since(self.last).as_secs_f64() * self.rate.per_second)
                .min(cap);
            self.last = now;
            if self.tokens >= 1.0 {
                self.tokens -= 1.0;
                return;
            }
            let wait = (1.0 - self.tokens) / self.rate.per_second.max(1e-9);
            tokio::time::sleep(Duration::from_secs_f64(wait.min(60.0))).await;
        }
    }
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How this worker names itself in its claims (host and process id by default).
    pub name: String,
    /// Messages claimed at a time.
    pub batch: u32,
    /// How long a claim holds before another worker may take the message
    /// (by the database's clock on PostgreSQL).
    pub lease: Duration,
    /// Attempts before a message is marked failed; also how many times one
    /// message may be claimed at all (a worker that dies mid-send never
    /// records its attempt).
    pub max_attempts: u32,
    /// The first retry's pause; it doubles each time, up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// The longest sleep between looks at the queue (changes made by other
    /// processes on SQLite are not announced, so the worker looks this often).
    pub idle_poll: Duration,
    /// The longest a channel may take over one message (it is never started
    /// with less than this and [`RECORD_ROOM`] left on the lease).
    pub send_timeout: Duration,
    pub email_rate: Rate,
    pub sms_rate: Rate,
    /// How long a finished message keeps its recipient (and error text, which
    /// may quote it); `None` keeps them. Checked at most hourly, by the app's clock.
    pub keep_recipients: Option<Duration>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            name: default_name(),
            batch: 20,
            lease: Duration::from_secs(120),
            max_attempts: 5,
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(3600),
            idle_poll: Duration::from_secs(10),
            send_timeout: Duration::from_secs(30),
            email_rate: Rate {
                per_second: 10.0,
                burst: 50,
            },
            sms_rate: Rate {
                per_second: 1.0,
                burst: 10,
            },
            keep_recipients: Some(crate::config::DEFAULT_KEEP_RECIPIENTS),
        }
    }
}

/// A worker setting that cannot work. Each names the settings at fault as
/// `vetdesk worker` / `vetdesk serve` take them (flag and variable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkerConfigError {
    #[error(
        "the lease (--lease-secs, VETDESK_WORKER_LEASE_SECS: {lease:?}) must exceed the send timeout \
         (--send-timeout-secs, VETDESK_SEND_TIMEOUT_SECS: {send_timeout:?}) by at least {margin:?}, \
         so that a message sent late in its lease is recorded before another worker may take it"
    )]
    LeaseTooShort {
        lease: Duration,
        send_timeout: Duration,
        margin: Duration,
    },
    #[error("the send timeout (--send-timeout-secs, VETDESK_SEND_TIMEOUT_SECS) must be positive")]
    NoSendTimeout,
    #[error("--max-attempts (VETDESK_WORKER_MAX_ATTEMPTS) must be between 1 and {MAX_ATTEMPTS}, not {0}")]
    MaxAttempts(u32),
    #[error("--batch (VETDESK_WORKER_BATCH) must be between 1 and {MAX_CLAIM}, not {0}")]
    Batch(u32),
}

impl WorkerConfig {
    /// Refuse a setting that cannot work, naming it.
    pub fn check(&self) -> Result<(), WorkerConfigError> {
        if self.send_timeout.is_zero() {
            return Err(WorkerConfigError::NoSendTimeout);
        }
        if self.lease < self.send_timeout + LEASE_MARGIN {
            return Err(WorkerConfigError::LeaseTooShort {
                lease: self.lease,
                send_timeout: self.send_timeout,
                margin: LEASE_MARGIN,
            });
        }
        if self.max_attempts == 0 || self.max_attempts > MAX_ATTEMPTS {
            return Err(WorkerConfigError::MaxAttempts(self.max_attempts));
        }
        if self.batch == 0 || self.batch > MAX_CLAIM {
            return Err(WorkerConfigError::Batch(self.batch));
        }
        Ok(())
    }
}

/// `host:pid`.
pub fn default_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "vetdesk".into());
    format!("{host}:{}", std::process::id())
}
