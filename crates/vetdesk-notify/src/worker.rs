//! The worker: [`Worker::step`] claims one due batch, sends each message in
//! turn and records how it went; [`Worker::run`] repeats it, sleeping until the
//! next message falls due, a change is committed (the store's change stream),
//! or it is told to stop. It runs inside `vetdesk serve`, alone as
//! `vetdesk worker`, and (later) inside the desktop app.
//!
//! Exactly-once is out of reach over SMTP and HTTP; what holds is: a message
//! is recorded as sent right after the far end took it, one message is in
//! flight at a time, and claims are leased. A worker killed mid-send leaves at
//! most that one message to be sent again (with the same `Message-ID` and
//! idempotency header) once its lease runs out; two live workers never hold
//! the same message.

use crate::channel::{Channel, SendError};
use crate::redact::redact;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use vetdesk_app::{App, AppError, Claimed, Prepared};
use vetdesk_core::notification::backoff;
use vetdesk_core::MessageChannel;
use vetdesk_store::{ClaimScope, DesktopScope, Finish};

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

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How this worker names itself in its claims (host and process id by default).
    pub name: String,
    /// Messages claimed at a time.
    pub batch: u32,
    /// How long a claim holds before another worker may take the message.
    pub lease: Duration,
    /// Attempts before a message is marked failed.
    pub max_attempts: u32,
    /// The first retry's pause; it doubles each time, up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// The longest sleep between looks at the queue (changes made by other
    /// processes on SQLite are not announced, so the worker looks this often).
    pub idle_poll: Duration,
    /// The longest a channel may take over one message (it is never started
    /// with less than this left on the lease).
    pub send_timeout: Duration,
    pub email_rate: Rate,
    pub sms_rate: Rate,
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
        }
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

/// The channels a worker can send by; a channel left `None` is not claimed for.
#[derive(Clone, Default)]
pub struct Channels {
    pub email: Option<Arc<dyn Channel>>,
    pub sms: Option<Arc<dyn Channel>>,
    /// The desktop channel, and whose staff messages this workstation shows.
    pub desktop: Option<(Arc<dyn Channel>, DesktopScope)>,
}

impl Channels {
    pub fn scope(&self) -> ClaimScope {
        ClaimScope {
            email: self.email.is_some(),
            sms: self.sms.is_some(),
            desktop: self
                .desktop
                .as_ref()
                .map_or(DesktopScope::None, |(_, s)| *s),
        }
    }

    fn get(&self, c: MessageChannel) -> Option<&Arc<dyn Channel>> {
        match c {
            MessageChannel::Email => self.email.as_ref(),
            MessageChannel::Sms => self.sms.as_ref(),
            MessageChannel::Desktop => self.desktop.as_ref().map(|(c, _)| c),
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub skipped: usize,
    pub deferred: usize,
    /// Handed back unsent (the worker is stopping, or the lease ran short).
    pub released: usize,
}

impl StepReport {
    fn add(&mut self, o: StepReport) {
        self.claimed += o.claimed;
        self.sent += o.sent;
        self.retried += o.retried;
        self.failed += o.failed;
        self.skipped += o.skipped;
        self.deferred += o.deferred;
        self.released += o.released;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("the worker has no channel to send by (configure SMTP, SMS or desktop notifications)")]
    NoChannels,
}

/// A token bucket: `take` waits until the rate allows one more message.
struct Bucket {
    rate: Rate,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: Rate) -> Self {
        Bucket {
            rate,
            tokens: f64::from(rate.burst.min(1_000_000)),
            last: Instant::now(),
        }
    }
    async fn take(&mut self) {
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

fn jitter() -> f64 {
    let bits = RandomState::new().build_hasher().finish();
    (bits % 10_000) as f64 / 10_000.0
}

/// Stops a running [`Worker`]: the message in flight finishes and is recorded;
/// the rest of the batch goes back to the queue.
#[derive(Clone)]
pub struct StopHandle(watch::Sender<bool>);

impl StopHandle {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

pub struct Worker {
    app: App,
    channels: Channels,
    config: WorkerConfig,
    email_bucket: Bucket,
    sms_bucket: Bucket,
    stop_tx: watch::Sender<bool>,
    stop: watch::Receiver<bool>,
}

impl Worker {
    pub fn new(app: App, channels: Channels, config: WorkerConfig) -> Self {
        let (stop_tx, stop) = watch::channel(false);
        Worker {
            app,
            email_bucket: Bucket::new(config.email_rate),
            sms_bucket: Bucket::new(config.sms_rate),
            channels,
            config,
            stop_tx,
            stop,
        }
    }

    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.stop_tx.clone())
    }

    pub fn scope(&self) -> ClaimScope {
        self.channels.scope()
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Claim one due batch, send each message, record each outcome.
    #[tracing::instrument(skip_all, fields(worker = %self.config.name))]
    pub async fn step(&mut self) -> Result<StepReport, WorkerError> {
        let scope = self.scope();
        if scope.is_empty() {
            return Err(WorkerError::NoChannels);
        }
        let lease =
            chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::minutes(2));
        let claimed = self
            .app
            .claim_messages(&scope, &self.config.name, lease, self.config.batch)
            .await?;
        let mut report = StepReport {
            claimed: claimed.len(),
            ..StepReport::default()
        };
        let margin = chrono::Duration::from_std(self.config.send_timeout)
            .unwrap_or(chrono::Duration::seconds(30));
        // What the previous message's record prepared for this one, in the
        // same transaction (App::finish_and_prepare).
        let mut prepared: Option<Prepared> = None;
        for (i, c) in claimed.iter().enumerate() {
            let lease_short = c
                .message
                .lease_until
                .is_some_and(|until| self.app.now() + margin >= until);
            if self.stopping() || lease_short {
                for rest in &claimed[i..] {
                    let back = Finish::Release {
                        at: rest.message.next_attempt_at,
                        note: None,
                    };
                    self.app.finish_message(rest, back).await?;
                    report.released += 1;
                }
                break;
            }
            let now_prepared = match prepared.take() {
                Some(p) => p,
                None => self.app.prepare_message(c).await?,
            };
            let (r, finish) = self.handle(c, now_prepared).await;
            report.add(r);
            let (_, next) = self
                .app
                .finish_and_prepare(c, finish, claimed.get(i + 1))
                .await?;
            prepared = next;
        }
        if report.claimed > 0 {
            tracing::info!(
                claimed = report.claimed,
                sent = report.sent,
                retried = report.retried,
                failed = report.failed,
                skipped = report.skipped,
                deferred = report.deferred,
                released = report.released,
                "outbox batch done"
            );
        }
        Ok(report)
    }

    /// Act on a prepared message (send it, or not): what happened, and the
    /// outcome to record.
    async fn handle(&mut self, c: &Claimed, prepared: Prepared) -> (StepReport, Finish) {
        let mut r = StepReport::default();
        let finish = match prepared {
            Prepared::Skip { reason } => {
                r.skipped += 1;
                Finish::Skipped { reason }
            }
            Prepared::Defer { until, why } => {
                r.deferred += 1;
                Finish::Release {
                    at: until,
                    note: Some(why),
                }
            }
            Prepared::Send(out) => {
                let Some(channel) = self.channels.get(out.channel).cloned() else {
                    // Not in scope: cannot happen, as claims are scoped; hand it back.
                    r.released += 1;
                    return (
                        r,
                        Finish::Release {
                            at: c.message.next_attempt_at,
                            note: None,
                        },
                    );
                };
                match out.channel {
                    MessageChannel::Email => self.email_bucket.take().await,
                    MessageChannel::Sms => self.sms_bucket.take().await,
                    MessageChannel::Desktop => {}
                }
                let outcome = channel.send(&out).await;
                match outcome {
                    Ok(d) => {
                        r.sent += 1;
                        tracing::debug!(message = %out.id, key = %out.key, "sent");
                        Finish::Sent {
                            to: out.to.address.clone(),
                            provider_id: d.provider_id,
                        }
                    }
                    Err(SendError::Unavailable(reason)) => {
                        r.skipped += 1;
                        Finish::Skipped { reason }
                    }
                    Err(SendError::Permanent(error)) => {
                        r.failed += 1;
                        tracing::warn!(message = %out.id, error = %redact(&error, &out.to.address), "message refused for good");
                        Finish::Failed { error }
                    }
                    Err(SendError::Transient(error)) => {
                        if c.message.attempts >= self.config.max_attempts {
                            r.failed += 1;
                            tracing::warn!(message = %out.id, error = %redact(&error, &out.to.address), attempts = c.message.attempts, "message failed after its last attempt");
                            Finish::Failed {
                                error: format!(
                                    "{error} (gave up after {} attempts)",
                                    c.message.attempts
                                ),
                            }
                        } else {
                            r.retried += 1;
                            let pause = backoff(
                                chrono::Duration::from_std(self.config.retry_base)
                                    .unwrap_or(chrono::Duration::seconds(30)),
                                chrono::Duration::from_std(self.config.retry_cap)
                                    .unwrap_or(chrono::Duration::hours(1)),
                                c.message.attempts,
                                jitter(),
                            );
                            tracing::info!(message = %out.id, error = %redact(&error, &out.to.address), retry_in_s = pause.num_seconds(), "message will be retried");
                            Finish::Retry {
                                at: self.app.now() + pause,
                                error,
                            }
                        }
                    }
                }
            }
        };
        (r, finish)
    }

    /// Step until nothing due is left (tests and the CLI's `--once`).
    pub async fn drain(&mut self) -> Result<StepReport, WorkerError> {
        let mut total = StepReport::default();
        loop {
            let r = self.step().await?;
            total.add(r);
            if r.claimed == 0 || self.stopping() {
                return Ok(total);
            }
        }
    }

    /// Run until stopped (through a [`StopHandle`]), sleeping between batches
    /// until the next message is due, a change is committed, or `idle_poll` passes.
    pub async fn run(mut self) -> Result<(), WorkerError> {
        let scope = self.scope();
        if scope.is_empty() {
            return Err(WorkerError::NoChannels);
        }
        tracing::info!(worker = %self.config.name, email = scope.email, sms = scope.sms, desktop = ?scope.desktop, "notification worker started");
        let mut changes = self.app.subscribe();
        let mut failures = 0u32;
        while !self.stopping() {
            let claimed = match self.step().await {
                Ok(r) => {
                    failures = 0;
                    r.claimed
                }
                Err(e) => {
                    failures += 1;
                    let pause = Duration::from_millis(250 * u64::from(failures.min(20)));
                    tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "outbox step failed");
                    self.sleep(pause, None).await;
                    continue;
                }
            };
            if claimed as u32 >= self.config.batch {
                continue;
            }
            let wait = match self.app.next_message_due(&scope).await {
                Ok(Some(t)) => (t - self.app.now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(self.config.idle_poll),
                _ => self.config.idle_poll,
            };
            // Due rows that could not be claimed (held by another worker's
            // lease that is about to run out) must not make this spin.
            let wait = wait.max(Duration::from_millis(if claimed == 0 { 50 } else { 0 }));
            self.sleep(wait, Some(&mut changes)).await;
        }
        tracing::info!(worker = %self.config.name, "notification worker stopped");
        Ok(())
    }

    async fn sleep(
        &mut self,
        d: Duration,
        changes: Option<&mut tokio::sync::broadcast::Receiver<vetdesk_app::Change>>,
    ) {
        let mut stop = self.stop.clone();
        let woken = async {
            match changes {
                Some(rx) => {
                    // Lagging is a wake-up too; a closed stream leaves the timer.
                    if let Err(tokio::sync::broadcast::error::RecvError::Closed) = rx.recv().await {
                        std::future::pending::<()>().await;
                    }
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = stop.changed() => {}
            _ = woken => {}
        }
    }
}
