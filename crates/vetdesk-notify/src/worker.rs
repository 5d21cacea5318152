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
//! the same message. A record the store refuses is tried again a few times
//! and, failing that, kept and recorded before anything else is claimed: a
//! message that went is not sent again because the database hiccuped once.

use crate::channel::{Channel, SendError};
use crate::redact::redact;
use crate::worker_config::{Bucket, WorkerConfig, WorkerConfigError, RECORD_PAUSES, RECORD_ROOM};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use vetdesk_app::{App, AppError, Claimed, ErrorCode, Prepared};
use vetdesk_core::notification::backoff;
use vetdesk_core::MessageChannel;
use vetdesk_store::{ClaimScope, DesktopScope, Finish};

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
    /// Outcomes the store would not take after their retries, oldest first:
    /// recorded before anything else is claimed. The claim token in each
    /// still holds its message unless the lease ran out and another worker
    /// took it.
    unrecorded: Vec<(Claimed, Finish)>,
    /// When old recipients are next forgotten (app clock).
    next_forget: Option<chrono::DateTime<chrono::Utc>>,
}

/// Whether recording may work if tried again: the store was busy, locked,
/// unreachable or failed; not a refusal of the request itself.
fn worth_retrying(e: &AppError) -> bool {
    matches!(
        e.code(),
        ErrorCode::Busy | ErrorCode::StoreUnavailable | ErrorCode::Internal
    )
}

impl Worker {
    /// A worker on `app`, sending by `channels`; a `config` that cannot work
    /// (a lease too short for the send timeout, …) is refused, naming the
    /// settings.
    pub fn new(
        app: App,
        channels: Channels,
        config: WorkerConfig,
    ) -> Result<Self, WorkerConfigError> {
        config.check()?;
        let (stop_tx, stop) = watch::channel(false);
        Ok(Worker {
            app,
            email_bucket: Bucket::new(config.email_rate),
            sms_bucket: Bucket::new(config.sms_rate),
            channels,
            config,
            stop_tx,
            stop,
            unrecorded: Vec::new(),
            next_forget: None,
        })
    }

    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.stop_tx.clone())
    }

    pub fn scope(&self) -> ClaimScope {
        self.channels.scope()
    }

    /// How many outcomes wait to be recorded (the store refused them).
    pub fn unrecorded(&self) -> usize {
        self.unrecorded.len()
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Whether a message started now can be sent and recorded within a
    /// lease that ends at `deadline` (this process's monotonic clock: the
    /// lease was granted after `deadline - lease`, whatever the clocks say).
    fn room_to_send(&self, deadline: Instant) -> bool {
        Instant::now() + self.config.send_timeout + RECORD_ROOM <= deadline
    }

    /// Record `finish` for `c` (and prepare `next` in the same transaction),
    /// trying again after [`RECORD_PAUSES`] while the store fails: the
    /// outcome alone then, in case preparing `next` was what failed.
    async fn record(
        &self,
        c: &Claimed,
        finish: &Finish,
        next: Option<&Claimed>,
    ) -> Result<Option<Prepared>, AppError> {
        let mut pauses = RECORD_PAUSES.iter();
        let mut next = next;
        loop {
            match self.app.finish_and_prepare(c, finish.clone(), next).await {
                Ok((_, prepared)) => return Ok(prepared),
                Err(e) if worth_retrying(&e) => match pauses.next() {
                    Some(pause) => {
                        next = None;
                        tracing::warn!(message = %c.message.id, error = %e, retry_in_ms = pause.as_millis() as u64, "recording an outcome failed; trying again");
                        tokio::time::sleep(*pause).await;
                    }
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }

    /// Record what earlier steps could not, oldest first; stop at the first
    /// the store still refuses.
    async fn record_unrecorded(&mut self) -> Result<(), AppError> {
        while let Some((c, finish)) = self.unrecorded.first().cloned() {
            self.record(&c, &finish, None).await?;
            tracing::info!(message = %c.message.id, "an outcome kept from an earlier step is recorded");
            self.unrecorded.remove(0);
        }
        Ok(())
    }

    /// Keep `finish` for `c` and a release of each of `rest` (not started)
    /// to record before the next claim, and say why the step stops.
    fn keep(
        &mut self,
        c: Option<(&Claimed, Finish)>,
        rest: &[Claimed],
        e: AppError,
    ) -> WorkerError {
        if let Some((c, finish)) = c {
            self.unrecorded.push((c.clone(), finish));
        }
        for r in rest {
            let back = Finish::Release {
                at: r.message.next_attempt_at,
                note: None,
            };
            self.unrecorded.push((r.clone(), back));
        }
        tracing::warn!(error = %e, kept = self.unrecorded.len(), "the store refused the worker's records; they are kept and recorded before the next claim");
        WorkerError::App(e)
    }

    /// Claim one due batch, send each message, record each outcome. Outcomes
    /// kept from a step the store failed are recorded first; while that
    /// fails, nothing is claimed.
    #[tracing::instrument(skip_all, fields(worker = %self.config.name))]
    pub async fn step(&mut self) -> Result<StepReport, WorkerError> {
        let scope = self.scope();
        if scope.is_empty() {
            return Err(WorkerError::NoChannels);
        }
        self.record_unrecorded().await?;
        self.forget_when_due().await?;
        let lease =
            chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::minutes(2));
        let asked = Instant::now();
        let batch = self
            .app
            .claim_messages(
                &scope,
                &self.config.name,
                lease,
                self.config.batch,
                self.config.max_attempts,
            )
            .await?;
        let deadline = asked + self.config.lease;
        let claimed = batch.messages;
        let mut report = StepReport {
            claimed: claimed.len(),
            failed: batch.gave_up.len(),
            ..StepReport::default()
        };
        // What the previous message's record prepared for this one, in the
        // same transaction (App::finish_and_prepare).
        let mut prepared: Option<Prepared> = None;
        for (i, c) in claimed.iter().enumerate() {
            if self.stopping() || !self.room_to_send(deadline) {
                for (j, rest) in claimed[i..].iter().enumerate() {
                    let back = Finish::Release {
                        at: rest.message.next_attempt_at,
                        note: None,
                    };
                    if let Err(e) = self.record(rest, &back, None).await {
                        return Err(self.keep(Some((rest, back)), &claimed[i + j + 1..], e));
                    }
                    report.released += 1;
                }
                break;
            }
            let now_prepared = match prepared.take() {
                Some(p) => p,
                None => match self.app.prepare_message(c).await {
                    Ok(p) => p,
                    Err(e) => return Err(self.keep(None, &claimed[i..], e)),
                },
            };
            let (r, finish) = self.handle(c, now_prepared, deadline).await;
            report.add(r);
            match self.record(c, &finish, claimed.get(i + 1)).await {
                Ok(next) => prepared = next,
                Err(e) => return Err(self.keep(Some((c, finish)), &claimed[i + 1..], e)),
            }
        }
        if report.claimed > 0 || report.failed > 0 {
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
    async fn handle(
        &mut self,
        c: &Claimed,
        prepared: Prepared,
        deadline: Instant,
    ) -> (StepReport, Finish) {
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
                // Waiting for the rate may have used up the lease.
                if !self.room_to_send(deadline) {
                    r.released += 1;
                    return (
                        r,
                        Finish::Release {
                            at: c.message.next_attempt_at,
                            note: None,
                        },
                    );
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

    /// Forget the recipients of messages finished longer ago than
    /// `keep_recipients`, at most once an hour (by the app's clock).
    async fn forget_when_due(&mut self) -> Result<(), WorkerError> {
        let Some(keep) = self.config.keep_recipients else {
            return Ok(());
        };
        let now = self.app.now();
        if self.next_forget.is_some_and(|t| now < t) {
            return Ok(());
        }
        let keep = chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::days(36_500));
        self.app.forget_recipients(keep).await?;
        self.next_forget = Some(now + chrono::Duration::hours(1));
        Ok(())
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
        // One last try at what the store refused, so that a message that
        // went is not sent again by the next worker to claim it.
        if let Err(e) = self.record_unrecorded().await {
            tracing::warn!(error = %e, unrecorded = self.unrecorded.len(), "stopping with outcomes the store refused: those messages will be claimed again after their lease");
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
