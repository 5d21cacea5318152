//! Sign-in throttling, in this process's memory: failed attempts per username
//! and per client address in a sliding window, and a cap on how many password
//! verifications (argon2id, ~19 MiB each) run at once.
//!
//! An attempt is *reserved* as a failure before its password is verified, in
//! the same lock as the check, so N parallel guesses cannot all pass the check
//! before the first failure is recorded: they are counted as they arrive. A
//! sign-in that succeeds (or never reached verification) gives its reservation
//! back.
//!
//! Keys are hashed with a per-process secret (SipHash, `RandomState`) into a
//! fixed-size `u64` and kept in a least-recently-used map of bounded size, so
//! a client spraying long usernames cannot grow the memory they take.

use chrono::{DateTime, Duration, Utc};
use lru::LruCache;
use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;
pub use vetdesk_core::ThrottleRule;

/// How many keys each throttle remembers at most (the least recently used go first).
pub const MAX_THROTTLE_KEYS: usize = 100_000;

/// Failed sign-ins per key in a sliding window. The caller passes the time.
pub(crate) struct LoginThrottle {
    rule: ThrottleRule,
    hasher: RandomState,
    failures: LruCache<u64, VecDeque<DateTime<Utc>>>,
}

impl LoginThrottle {
    pub(crate) fn new(rule: ThrottleRule, capacity: NonZeroUsize) -> Self {
        LoginThrottle {
            rule,
            hasher: RandomState::new(),
            failures: LruCache::new(capacity),
        }
    }

    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Count one more failure for `key` now, unless it has used them all up:
    /// then `Err(wait)`, how long until the oldest one leaves the window.
    pub(crate) fn reserve(&mut self, key: &str, now: DateTime<Utc>) -> Result<(), Duration> {
        let rule = self.rule;
        let h = self.hash(key);
        let q = self.failures.get_or_insert_mut(h, VecDeque::new);
        while q.front().is_some_and(|t| *t + rule.window <= now) {
            q.pop_front();
        }
        match q.front() {
            Some(oldest) if q.len() >= rule.max_failures => Err(*oldest + rule.window - now),
            _ => {
                q.push_back(now);
                Ok(())
            }
        }
    }

    /// Give back one reservation made at `at` (the attempt did not fail).
    pub(crate) fn release(&mut self, key: &str, at: DateTime<Utc>) {
        let h = self.hash(key);
        if let Some(q) = self.failures.peek_mut(&h) {
            if let Some(i) = q.iter().rposition(|t| *t == at) {
                q.remove(i);
            }
            if q.is_empty() {
                self.failures.pop(&h);
            }
        }
    }

    /// Forget every failure of `key` (its user signed in).
    pub(crate) fn clear(&mut self, key: &str) {
        let h = self.hash(key);
        self.failures.pop(&h);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.failures.len()
    }
}

/// The throttle key of a client address: IPv4 as it is (an IPv4-mapped IPv6
/// address counts as its IPv4), IPv6 by its /64, the block one subscriber is
/// usually given, so rotating addresses inside it gains nothing.
pub fn address_group(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// The per-source key: an address by its group, any other label as it is.
fn source_key(source: &str) -> String {
    match source.parse::<IpAddr>() {
        Ok(ip) => format!("addr:{}", address_group(ip)),
        Err(_) => format!("src:{source}"),
    }
}

/// How many password verifications have run, and the most at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignInStats {
    pub verified: u64,
    pub peak_concurrent: usize,
}

/// One sign-in attempt's reservations, given back unless it failed.
pub(crate) struct Attempt {
    user_key: String,
    source_key: Option<String>,
    at: DateTime<Utc>,
}

/// Verifications made, running and the most at once.
#[derive(Default)]
struct Counters {
    verified: AtomicU64,
    running: AtomicUsize,
    peak: AtomicUsize,
}

/// Everything sign-in throttling keeps, shared by every clone of an `App`.
pub(crate) struct SignInThrottle {
    keys: Mutex<(LoginThrottle, LoginThrottle)>,
    verifications: Arc<Semaphore>,
    wait: std::time::Duration,
    counters: Arc<Counters>,
}

/// Why an attempt may not go ahead.
pub(crate) enum Refused {
    /// Too many failures: wait this long.
    Throttled(Duration),
    /// Every verification slot stayed busy for the whole wait.
    Busy(std::time::Duration),
}

impl SignInThrottle {
    pub(crate) fn new(settings: &crate::Settings) -> Self {
        let capacity = NonZeroUsize::new(MAX_THROTTLE_KEYS).unwrap_or(NonZeroUsize::MIN);
        SignInThrottle {
            keys: Mutex::new((
                LoginThrottle::new(settings.login_per_user, capacity),
                LoginThrottle::new(settings.login_per_source, capacity),
            )),
            verifications: Arc::new(Semaphore::new(settings.max_concurrent_verifications.max(1))),
            wait: settings.verification_wait,
            counters: Arc::default(),
        }
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, (LoginThrottle, LoginThrottle)> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserve a failure for the username and the source, both or neither.
    pub(crate) fn reserve(
        &self,
        username: &str,
        source: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Attempt, Refused> {
        let attempt = Attempt {
            user_key: username.trim().to_lowercase(),
            source_key: source.map(source_key),
            at: now,
        };
        let mut keys = self.keys();
        let (per_user, per_source) = &mut *keys;
        per_user
            .reserve(&attempt.user_key, now)
            .map_err(Refused::Throttled)?;
        if let Some(k) = &attempt.source_key {
            if let Err(wait) = per_source.reserve(k, now) {
                per_user.release(&attempt.user_key, now);
                return Err(Refused::Throttled(wait));
            }
        }
        Ok(attempt)
    }

    /// The attempt did not fail (the store was down, the server too busy).
    pub(crate) fn release(&self, a: &Attempt) {
        let mut keys = self.keys();
        keys.0.release(&a.user_key, a.at);
        if let Some(k) = &a.source_key {
            keys.1.release(k, a.at);
        }
    }

    /// The attempt signed in: the user's failures are forgotten, the source's reservation returned.
    pub(crate) fn succeed(&self, a: &Attempt) {
        let mut keys = self.keys();
        keys.0.clear(&a.user_key);
        if let Some(k) = &a.source_key {
            keys.1.release(k, a.at);
        }
    }

    /// Run `verify` (a blocking argon2 check) once a verification slot is
    /// free, waiting at most the configured time for one. The slot goes with
    /// the blocking task, so a sign-in abandoned mid-check (the client hung
    /// up) still holds it until its check is done.
    pub(crate) async fn verify<F>(&self, verify: F) -> Result<Result<bool, String>, Refused>
    where
        F: FnOnce() -> bool + Send + 'static,
    {
        let acquire = self.verifications.clone().acquire_owned();
        let slot = match tokio::time::timeout(self.wait, acquire).await {
            Ok(Ok(slot)) => slot,
            Ok(Err(_)) | Err(_) => return Err(Refused::Busy(self.wait)),
        };
        let counters = self.counters.clone();
        counters.verified.fetch_add(1, Ordering::SeqCst);
        let check = move || {
            let running = counters.running.fetch_add(1, Ordering::SeqCst) + 1;
            counters.peak.fetch_max(running, Ordering::SeqCst);
            let ok = verify();
            counters.running.fetch_sub(1, Ordering::SeqCst);
            drop(slot);
            ok
        };
        Ok(tokio::task::spawn_blocking(check)
            .await
            .map_err(|e| e.to_string()))
    }

    pub(crate) fn stats(&self) -> SignInStats {
        SignInStats {
            verified: self.counters.verified.load(Ordering::SeqCst),
            peak_concurrent: self.counters.peak.load(Ordering::SeqCst),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn throttle(max: usize, capacity: usize) -> LoginThrottle {
        LoginThrottle::new(
            ThrottleRule {
                max_failures: max,
                window: Duration::minutes(15),
            },
            NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
        )
    }

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0)
            .single()
            .unwrap_or_default()
            + Duration::minutes(min)
    }

    #[test]
    fn reservations_count_before_any_outcome_and_the_window_slides() {
        let mut t = throttle(3, 10);
        for _ in 0..3 {
            assert!(t.reserve("desk", at(0)).is_ok());
        }
        assert_eq!(t.reserve("desk", at(5)), Err(Duration::minutes(10)));
        // Another key is not affected.
        assert!(t.reserve("admin", at(5)).is_ok());
        // Once the oldest failures leave the window, attempts go ahead again.
        assert!(t.reserve("desk", at(15)).is_ok());
    }

    #[test]
    fn a_released_reservation_is_not_a_failure() {
        let mut t = throttle(2, 10);
        assert!(t.reserve("desk", at(0)).is_ok());
        t.release("desk", at(0));
        assert!(t.reserve("desk", at(1)).is_ok());
        assert!(t.reserve("desk", at(1)).is_ok());
        assert!(t.reserve("desk", at(1)).is_err());
        t.clear("desk");
        assert!(t.reserve("desk", at(1)).is_ok());
    }

    #[test]
    fn the_map_never_holds_more_keys_than_its_capacity() {
        let mut t = throttle(5, 1000);
        for i in 0..10_000 {
            let _ = t.reserve(&format!("guess-{i}-{}", "x".repeat(200)), at(0));
        }
        assert_eq!(t.len(), 1000);
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let group = |s: &str| address_group(s.parse().unwrap_or(IpAddr::V4([0; 4].into())));
        assert_eq!(
            group("2001:db8:1:2:aaaa::1"),
            group("2001:db8:1:2:ffff:1:2:3")
        );
        assert_ne!(group("2001:db8:1:2::1"), group("2001:db8:1:3::1"));
        assert_eq!(group("2001:db8:1:2:aaaa::1").to_string(), "2001:db8:1:2::");
        assert_eq!(group("::ffff:203.0.113.7").to_string(), "203.0.113.7");
        assert_eq!(group("203.0.113.7").to_string(), "203.0.113.7");
        assert_eq!(
            source_key("2001:db8:1:2::9"),
            source_key("2001:db8:1:2::10")
        );
        assert_eq!(source_key("desktop"), "src:desktop");
    }
}
