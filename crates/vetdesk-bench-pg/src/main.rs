//! Four ways PostgreSQL can refuse a double booking, compared under contention in one run.
//!
//! Every strategy gets the same seeded list of booking attempts (30-minute slots, some of
//! them copies or 15-minute shifts of others, so they collide), fresh tables, the same
//! warm-up and the same number of connections, each a task holding one `PgConnection`.
//! Afterwards a self-join counts overlapping rows: zero for every guard, more than zero for
//! the unguarded ceiling. The result is printed as markdown, ready for `BENCHMARKS.md`.
//!
//! The bench creates its own database `vetdesk_bench_<random>` on the server named by
//! `VETDESK_BENCH_POSTGRES_URL` or `VETDESK_TEST_POSTGRES_URL` and drops it at the end,
//! also when the run fails.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    str::FromStr,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context, Result};
use chrono::{DateTime, TimeDelta, Utc};
use clap::Parser;
use sqlx::{
    postgres::{PgConnectOptions, PgConnection},
    Connection, Executor,
};
use tokio::sync::Barrier;
use uuid::Uuid;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const URL_VARS: [&str; 2] = ["VETDESK_BENCH_POSTGRES_URL", "VETDESK_TEST_POSTGRES_URL"];

/// Length of every slot in the attempt list.
const SLOT: TimeDelta = TimeDelta::minutes(30);
/// How far a colliding attempt is moved off the slot it copies.
const SHIFT: TimeDelta = TimeDelta::minutes(15);
/// Slots per vet and day (08:00 to 18:00 UTC).
const SLOTS_PER_DAY: usize = 20;
/// The store's bound on one appointment's blocked time (`vetdesk_store::MAX_BLOCK`): the
/// conflict check reads `(vet_id, blocked_start)` from `start - MAX_BLOCK` only, as the
/// store does, instead of every earlier appointment of the vet.
const MAX_BLOCK: TimeDelta = TimeDelta::hours(24);
/// Measured attempts start on Monday 2027-03-01 00:00 UTC; the warm-up books days before.
const RUN_EPOCH_SECS: i64 = 1_803_859_200;

#[derive(Parser, Debug)]
#[command(about = "Compare four PostgreSQL guards against double booking under contention")]
struct Args {
    /// Booking attempts measured per strategy [default: 10000, 1000 with --quick]
    #[arg(long)]
    attempts: Option<usize>,
    /// Concurrent connections, one task each
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Share of attempts that copy or shift another attempt's slot, so they collide
    #[arg(long, default_value_t = 0.3)]
    overlap: f64,
    /// Smoke run: 1000 attempts unless --attempts is given
    #[arg(long)]
    quick: bool,
    /// Vets the attempts are spread over
    #[arg(long, default_value_t = 10)]
    vets: usize,
    /// Retries of one attempt after a serialization failure or deadlock before giving up
    #[arg(long, default_value_t = 100)]
    max_retries: u32,
    /// Warm-up attempts per strategy, on other days [default: attempts / 20]
    #[arg(long)]
    warmup: Option<usize>,
    /// Seed of the attempt list
    #[arg(long, default_value_t = 2027)]
    seed: u64,
}

#[derive(Clone, Debug)]
struct Config {
    attempts: usize,
    connections: usize,
    overlap: f64,
    vets: usize,
    warmup: usize,
    max_retries: u32,
    seed: u64,
}

impl Config {
    fn from_args(args: &Args) -> Result<Self> {
        let attempts = args
            .attempts
            .unwrap_or(if args.quick { 1_000 } else { 10_000 });
        let config = Config {
            attempts,
            connections: args.connections,
            overlap: args.overlap,
            vets: args.vets,
            warmup: args.warmup.unwrap_or(attempts / 20),
            max_retries: args.max_retries,
            seed: args.seed,
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        ensure!(self.attempts >= 1, "--attempts must be at least 1");
        ensure!(
            (1..=64).contains(&self.connections),
            "--connections must be between 1 and 64"
        );
        ensure!(
            (0.0..1.0).contains(&self.overlap),
            "--overlap must be at least 0 and below 1"
        );
        ensure!(self.vets >= 1, "--vets must be at least 1");
        Ok(())
    }

    /// The command that reproduces this run.
    fn command(&self) -> String {
        let mut flags = String::new();
        if self.attempts != 10_000 {
            let _ = write!(flags, " --attempts {}", self.attempts);
        }
        if self.connections != 8 {
            let _ = write!(flags, " --connections {}", self.connections);
        }
        if self.overlap != 0.3 {
            let _ = write!(flags, " --overlap {}", self.overlap);
        }
        if self.vets != 10 {
            let _ = write!(flags, " --vets {}", self.vets);
        }
        if self.warmup != self.attempts / 20 {
            let _ = write!(flags, " --warmup {}", self.warmup);
        }
        if self.max_retries != 100 {
            let _ = write!(flags, " --max-retries {}", self.max_retries);
        }
        if self.seed != 2027 {
            let _ = write!(flags, " --seed {}", self.seed);
        }
        if flags.is_empty() {
            "cargo run --release -p vetdesk-bench-pg".to_owned()
        } else {
            format!("cargo run --release -p vetdesk-bench-pg --{flags}")
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and the same sequence everywhere.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (multiply-shift; the bias is below 2^-40 for these sizes).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    fn uuid(&mut self) -> Uuid {
        let (hi, lo) = (self.next_u64(), self.next_u64());
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&hi.to_be_bytes());
        bytes[8..].copy_from_slice(&lo.to_be_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Attempt {
    vet: usize,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// `n` attempts from `epoch` on: `n - round(n * overlap)` distinct 30-minute slots laid
/// side by side (vet by vet, 20 a day), the rest copies of one of them or the same slot
/// moved 15 minutes either way, all shuffled. Returns the list and how many collide by
/// construction.
fn attempt_list(
    n: usize,
    overlap: f64,
    vets: usize,
    seed: u64,
    epoch: DateTime<Utc>,
) -> (Vec<Attempt>, usize) {
    let colliding = ((n as f64) * overlap).round() as usize;
    let distinct = n - colliding;
    let mut rng = SplitMix64(seed);
    let mut list: Vec<Attempt> = (0..distinct)
        .map(|k| {
            let nth = k / vets;
            let (day, slot) = (nth / SLOTS_PER_DAY, nth % SLOTS_PER_DAY);
            let start =
                epoch + TimeDelta::days(day as i64) + TimeDelta::hours(8) + SLOT * slot as i32;
            Attempt {
                vet: k % vets,
                start,
                end: start + SLOT,
            }
        })
        .collect();
    if distinct > 0 {
        for _ in 0..colliding {
            let base = list[rng.below(distinct)];
            let by = match rng.below(3) {
                0 => TimeDelta::zero(),
                1 => SHIFT,
                _ => -SHIFT,
            };
            list.push(Attempt {
                vet: base.vet,
                start: base.start + by,
                end: base.end + by,
            });
        }
    }
    for i in (1..list.len()).rev() {
        list.swap(i, rng.below(i + 1));
    }
    (list, if distinct > 0 { colliding } else { 0 })
}

/// Days an attempt list of `n` covers, for placing the warm-up before the run.
fn days_spanned(n: usize, vets: usize) -> i64 {
    (n.div_ceil(vets).div_ceil(SLOTS_PER_DAY) + 1) as i64
}

/// Bookings that would succeed if the attempts ran one at a time in list order: the
/// yardstick for the wins of a concurrent run.
fn serial_wins(list: &[Attempt]) -> usize {
    let mut booked: BTreeMap<(usize, DateTime<Utc>), DateTime<Utc>> = BTreeMap::new();
    let mut wins = 0;
    for a in list {
        // Booked intervals are disjoint, so the last one starting before `a.end` is the
        // only one that can reach past `a.start`.
        let clash = booked
            .range((a.vet, DateTime::<Utc>::MIN_UTC)..(a.vet, a.end))
            .next_back()
            .is_some_and(|(_, end)| *end > a.start);
        if !clash {
            booked.insert((a.vet, a.start), a.end);
            wins += 1;
        }
    }
    wins
}

struct Workload {
    vets: Vec<Uuid>,
    warmup: Vec<Attempt>,
    run: Vec<Attempt>,
    run_epoch: DateTime<Utc>,
    colliding: usize,
    serial_wins: usize,
}

impl Workload {
    fn new(config: &Config) -> Self {
        let run_epoch = DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(RUN_EPOCH_SECS);
        let warmup_epoch = run_epoch - TimeDelta::days(days_spanned(config.warmup, config.vets));
        let mut rng = SplitMix64(config.seed ^ 0x7665_7464_6573_6b00);
        let vets = (0..config.vets).map(|_| rng.uuid()).collect();
        let (run, colliding) = attempt_list(
            config.attempts,
            config.overlap,
            config.vets,
            config.seed,
            run_epoch,
        );
        let (warmup, _) = attempt_list(
            config.warmup,
            config.overlap,
            config.vets,
            config.seed.wrapping_add(1),
            warmup_epoch,
        );
        Workload {
            vets,
            serial_wins: serial_wins(&run),
            warmup,
            run,
            run_epoch,
            colliding,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strategy {
    /// Exclusion constraint, one INSERT in autocommit; 23P01 is a lost slot.
    Exclusion,
    /// The same constraint behind the application's own check in one transaction, with the
    /// `(vet_id, blocked_start)` index too: the shape the PostgreSQL store would ship.
    ExclusionChecked,
    /// SERIALIZABLE: check, insert; 40001 retried.
    Serializable,
    /// `pg_advisory_xact_lock` keyed by the vet, then check, insert.
    AdvisoryLock,
    /// `SELECT … FOR UPDATE` on the vet's row, then check, insert.
    VetRowLock,
    /// No guard at all: the throughput ceiling, double-books.
    Unguarded,
}

const STRATEGIES: [Strategy; 6] = [
    Strategy::Exclusion,
    Strategy::ExclusionChecked,
    Strategy::Serializable,
    Strategy::AdvisoryLock,
    Strategy::VetRowLock,
    Strategy::Unguarded,
];

impl Strategy {
    fn label(self) -> &'static str {
        match self {
            Strategy::Exclusion => "(a) exclusion constraint, INSERT alone (autocommit)",
            Strategy::ExclusionChecked => {
                "(a′) exclusion constraint behind the app's check: BEGIN, check, INSERT, COMMIT"
            }
            Strategy::Serializable => {
                "(b) SERIALIZABLE: BEGIN, check, INSERT, COMMIT; 40001 retried"
            }
            Strategy::AdvisoryLock => {
                "(c) `pg_advisory_xact_lock(vet)`, then check, INSERT (READ COMMITTED)"
            }
            Strategy::VetRowLock => {
                "(d) `SELECT … FROM vets … FOR UPDATE`, then check, INSERT (READ COMMITTED)"
            }
            Strategy::Unguarded => "(e) ceiling: INSERT alone, no guard (double-books)",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Strategy::Exclusion => "(a)",
            Strategy::ExclusionChecked => "(a′)",
            Strategy::Serializable => "(b)",
            Strategy::AdvisoryLock => "(c)",
            Strategy::VetRowLock => "(d)",
            Strategy::Unguarded => "(e)",
        }
    }

    fn guards(self) -> bool {
        self != Strategy::Unguarded
    }

    fn schema(self) -> String {
        let mut sql = String::from(
            "DROP TABLE IF EXISTS appts; DROP TABLE IF EXISTS vets;
             CREATE TABLE vets (id uuid PRIMARY KEY, name text NOT NULL);
             CREATE TABLE appts (
                 id uuid PRIMARY KEY,
                 vet_id uuid NOT NULL,
                 blocked_start timestamptz NOT NULL,
                 blocked_end timestamptz NOT NULL
             );",
        );
        if matches!(self, Strategy::Exclusion | Strategy::ExclusionChecked) {
            sql.push_str(
                "ALTER TABLE appts ADD CONSTRAINT appts_no_overlap EXCLUDE USING gist (
                     vet_id WITH =,
                     tstzrange(blocked_start, blocked_end, '[)') WITH &&
                 );",
            );
        }
        if self != Strategy::Exclusion {
            sql.push_str("CREATE INDEX appts_vet_start ON appts (vet_id, blocked_start);");
        }
        sql
    }
}

const INSERT: &str =
    "INSERT INTO appts (id, vet_id, blocked_start, blocked_end) VALUES ($1, $2, $3, $4)";
const CHECK: &str = "SELECT 1 FROM appts WHERE vet_id = $1 \
     AND blocked_start > $2 AND blocked_start < $3 AND blocked_end > $4 LIMIT 1";

fn advisory_key(vet: Uuid) -> i64 {
    let (hi, lo) = vet.as_u64_pair();
    (hi ^ lo) as i64
}

async fn insert(conn: &mut PgConnection, vet: Uuid, a: &Attempt) -> sqlx::Result<()> {
    sqlx::query(INSERT)
        .bind(Uuid::now_v7())
        .bind(vet)
        .bind(a.start)
        .bind(a.end)
        .execute(conn)
        .await?;
    Ok(())
}

/// The statements between BEGIN and COMMIT; `Ok(false)` when the slot is taken.
async fn check_then_insert(
    conn: &mut PgConnection,
    strategy: Strategy,
    vet: Uuid,
    a: &Attempt,
) -> sqlx::Result<bool> {
    match strategy {
        Strategy::AdvisoryLock => {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(advisory_key(vet))
                .execute(&mut *conn)
                .await?;
        }
        Strategy::VetRowLock => {
            sqlx::query("SELECT id FROM vets WHERE id = $1 FOR UPDATE")
                .bind(vet)
                .execute(&mut *conn)
                .await?;
        }
        _ => {}
    }
    let taken = sqlx::query(CHECK)
        .bind(vet)
        .bind(a.start - MAX_BLOCK)
        .bind(a.end)
        .bind(a.start)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    if taken {
        return Ok(false);
    }
    insert(conn, vet, a).await?;
    Ok(true)
}

/// A statement without parameters, sent with the simple query protocol.
async fn simple(conn: &mut PgConnection, sql: &str) -> sqlx::Result<()> {
    conn.execute(sql).await.map(|_| ())
}

/// One try of one attempt; `Ok(false)` when the slot is taken.
async fn try_book(
    conn: &mut PgConnection,
    strategy: Strategy,
    vet: Uuid,
    a: &Attempt,
) -> sqlx::Result<bool> {
    let begin = match strategy {
        Strategy::Exclusion | Strategy::Unguarded => {
            insert(conn, vet, a).await?;
            return Ok(true);
        }
        Strategy::Serializable => "BEGIN ISOLATION LEVEL SERIALIZABLE",
        _ => "BEGIN",
    };
    simple(conn, begin).await?;
    match check_then_insert(conn, strategy, vet, a).await {
        // A failed COMMIT ends the transaction by itself.
        Ok(true) => simple(conn, "COMMIT").await.map(|()| true),
        Ok(false) => simple(conn, "ROLLBACK").await.map(|()| false),
        Err(e) => {
            // The error that matters is the first; a broken connection fails the next try.
            let _ = simple(conn, "ROLLBACK").await;
            Err(e)
        }
    }
}

fn sqlstate(e: &sqlx::Error) -> Option<String> {
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned())
}

enum Outcome {
    Won,
    Lost,
    Failed(String),
}

/// One attempt with its retries: 23P01 (exclusion violation) is a lost slot; 40001
/// (serialization failure) and 40P01 (deadlock) are retried up to `max_retries` times.
async fn book(
    conn: &mut PgConnection,
    strategy: Strategy,
    vet: Uuid,
    a: &Attempt,
    max_retries: u32,
) -> (Outcome, u32) {
    let mut retries = 0;
    loop {
        let e = match try_book(conn, strategy, vet, a).await {
            Ok(true) => return (Outcome::Won, retries),
            Ok(false) => return (Outcome::Lost, retries),
            Err(e) => e,
        };
        match sqlstate(&e).as_deref() {
            Some("23P01") => return (Outcome::Lost, retries),
            Some("40001" | "40P01") if retries < max_retries => retries += 1,
            Some("40001" | "40P01") => {
                return (
                    Outcome::Failed(format!("gave up after {retries} retries: {e}")),
                    retries,
                )
            }
            _ => return (Outcome::Failed(e.to_string()), retries),
        }
    }
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    wins: usize,
    losses: usize,
    retries: u64,
    most_retries: u32,
    errors: usize,
    first_error: Option<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.wins += other.wins;
        self.losses += other.losses;
        self.retries += other.retries;
        self.most_retries = self.most_retries.max(other.most_retries);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// Runs `list` split round-robin over the connections, all starting together. Returns
/// the connections, the merged tally and the wall time from the common start.
async fn drive(
    conns: Vec<PgConnection>,
    strategy: Strategy,
    vets: &Arc<Vec<Uuid>>,
    list: &[Attempt],
    max_retries: u32,
) -> Result<(Vec<PgConnection>, Tally, Duration)> {
    let n = conns.len();
    let barrier = Arc::new(Barrier::new(n + 1));
    let mut tasks = Vec::with_capacity(n);
    for (i, mut conn) in conns.into_iter().enumerate() {
        let share: Vec<Attempt> = list.iter().skip(i).step_by(n).copied().collect();
        let (barrier, vets) = (Arc::clone(&barrier), Arc::clone(vets));
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally {
                latencies_us: Vec::with_capacity(share.len()),
                ..Tally::default()
            };
            barrier.wait().await;
            for a in &share {
                let started = Instant::now();
                let (outcome, retries) =
                    book(&mut conn, strategy, vets[a.vet], a, max_retries).await;
                tally
                    .latencies_us
                    .push(started.elapsed().as_micros() as u64);
                tally.retries += u64::from(retries);
                tally.most_retries = tally.most_retries.max(retries);
                match outcome {
                    Outcome::Won => tally.wins += 1,
                    Outcome::Lost => tally.losses += 1,
                    Outcome::Failed(message) => {
                        tally.errors += 1;
                        tally.first_error.get_or_insert(message);
                    }
                }
            }
            (conn, tally)
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut conns = Vec::with_capacity(n);
    let mut total = Tally::default();
    for task in tasks {
        let (conn, tally) = task.await.context("a connection's task failed")?;
        conns.push(conn);
        total.merge(tally);
    }
    Ok((conns, total, started.elapsed()))
}

struct Row {
    strategy: Strategy,
    attempts: usize,
    wall: Duration,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
    wins: usize,
    losses: usize,
    retries: u64,
    /// Most retries one attempt needed.
    most_retries: u32,
    errors: usize,
    first_error: Option<String>,
    /// Overlapping pairs among the measured run's rows.
    overlaps: i64,
    /// Overlapping pairs in the whole table, warm-up included.
    overlaps_total: i64,
    rows: i64,
}

impl Row {
    fn rate(&self) -> f64 {
        self.attempts as f64 / self.wall.as_secs_f64()
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

async fn connect(options: &PgConnectOptions) -> Result<PgConnection> {
    PgConnection::connect_with(options).await.with_context(|| {
        format!(
            "cannot connect to PostgreSQL at {}:{} as {:?}",
            options.get_host(),
            options.get_port(),
            options.get_username()
        )
    })
}

const OVERLAPS: &str = "SELECT count(*) FROM appts a JOIN appts b \
     ON a.vet_id = b.vet_id AND a.id < b.id \
     AND a.blocked_start < b.blocked_end AND b.blocked_start < a.blocked_end \
     WHERE a.blocked_start >= $1 AND b.blocked_start >= $1";

async fn measure(
    db: &PgConnectOptions,
    config: &Config,
    workload: &Workload,
    strategy: Strategy,
) -> Result<Row> {
    let mut admin = connect(db).await?;
    sqlx::raw_sql(&strategy.schema())
        .execute(&mut admin)
        .await
        .with_context(|| format!("creating the tables for {}", strategy.short()))?;
    for (i, vet) in workload.vets.iter().enumerate() {
        sqlx::query("INSERT INTO vets (id, name) VALUES ($1, $2)")
            .bind(vet)
            .bind(format!("Vet {}", i + 1))
            .execute(&mut admin)
            .await?;
    }
    let mut conns = Vec::with_capacity(config.connections);
    for _ in 0..config.connections {
        conns.push(connect(db).await?);
    }
    let vets = Arc::new(workload.vets.clone());

    let (conns, warm, _) =
        drive(conns, strategy, &vets, &workload.warmup, config.max_retries).await?;
    if let Some(e) = &warm.first_error {
        eprintln!("  {} warm-up error: {e}", strategy.short());
    }
    // Same starting point for everyone: fresh statistics, nothing left to flush.
    sqlx::raw_sql("ANALYZE appts; ANALYZE vets")
        .execute(&mut admin)
        .await?;
    if let Err(e) = sqlx::raw_sql("CHECKPOINT").execute(&mut admin).await {
        eprintln!("  CHECKPOINT refused ({e}); carrying on without it");
    }

    let (conns, mut tally, wall) =
        drive(conns, strategy, &vets, &workload.run, config.max_retries).await?;
    for conn in conns {
        conn.close().await?;
    }

    let min = DateTime::<Utc>::UNIX_EPOCH;
    let overlaps: i64 = sqlx::query_scalar(OVERLAPS)
        .bind(workload.run_epoch)
        .fetch_one(&mut admin)
        .await?;
    let overlaps_total: i64 = sqlx::query_scalar(OVERLAPS)
        .bind(min)
        .fetch_one(&mut admin)
        .await?;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM appts WHERE blocked_start >= $1")
        .bind(workload.run_epoch)
        .fetch_one(&mut admin)
        .await?;
    admin.close().await?;

    tally.latencies_us.sort_unstable();
    let lat = &tally.latencies_us;
    Ok(Row {
        strategy,
        attempts: workload.run.len(),
        wall,
        p50_us: percentile(lat, 0.50),
        p99_us: percentile(lat, 0.99),
        max_us: lat.last().copied().unwrap_or(0),
        wins: tally.wins,
        losses: tally.losses,
        retries: tally.retries,
        most_retries: tally.most_retries,
        errors: tally.errors,
        first_error: tally.first_error,
        overlaps,
        overlaps_total,
        rows,
    })
}

struct Report {
    rows: Vec<Row>,
    server_version: String,
    synchronous_commit: String,
    deadlock_timeout: String,
    colliding: usize,
    serial_wins: usize,
    warmup: usize,
}

impl Report {
    /// Broken promises: any overlap or error under a guard, or counts that do not add up.
    fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in &self.rows {
            let s = r.strategy.short();
            if r.wins + r.losses + r.errors != r.attempts {
                out.push(format!(
                    "{s}: {} wins + {} losses + {} errors != {} attempts",
                    r.wins, r.losses, r.errors, r.attempts
                ));
            }
            if r.rows != r.wins as i64 {
                out.push(format!("{s}: {} rows booked but {} wins", r.rows, r.wins));
            }
            if r.errors > 0 {
                out.push(format!(
                    "{s}: {} errors, the first: {}",
                    r.errors,
                    r.first_error.as_deref().unwrap_or("?")
                ));
            }
            if r.strategy.guards() && r.overlaps_total != 0 {
                out.push(format!(
                    "{s}: {} overlapping pairs in the table",
                    r.overlaps_total
                ));
            }
        }
        out
    }

    fn markdown(&self, config: &Config, date: &str) -> String {
        let ceiling = self
            .rows
            .iter()
            .find(|r| r.strategy == Strategy::Unguarded)
            .map(Row::rate);
        let mut md = String::new();
        let _ = writeln!(
            md,
            "## Double booking under contention: four PostgreSQL guards\n"
        );
        let _ = writeln!(
            md,
            "{} booking attempts of 30-minute slots for {} vets, {} of them ({:.0}%) copies \
             or 15-minute shifts of another attempt's slot, so they collide; the same seeded \
             list for every strategy, split round-robin over {} connections (one \
             `PgConnection` per task, client on the same machine as the server). Each strategy \
             gets fresh tables (`appts`: `id uuid` primary key, `vet_id uuid`, \
             `blocked_start`/`blocked_end timestamptz`; an index on `(vet_id, blocked_start)` \
             except in (a), whose constraint brings its own gist index) and the same warm-up \
             ({} attempts on earlier days, then `ANALYZE` and `CHECKPOINT`). The check is \
             `SELECT 1 … WHERE vet_id = $1 AND blocked_start > start − 24 h AND blocked_start \
             < end AND blocked_end > start LIMIT 1` (bounded below like the store's). Latency \
             is per attempt, retries included; 40001 and 40P01 are retried at once, up to {} \
             times. Run one at a time in list order, {} attempts would win.\n",
            group(config.attempts),
            config.vets,
            group(self.colliding),
            100.0 * self.colliding as f64 / config.attempts as f64,
            config.connections,
            group(self.warmup),
            config.max_retries,
            group(self.serial_wins),
        );
        let _ = writeln!(md, "```sh\n{}\n```\n", config.command());
        let _ = writeln!(
            md,
            "Run of {date}: PostgreSQL {} (`synchronous_commit={}`, `deadlock_timeout={}`); {}.\n",
            self.server_version,
            self.synchronous_commit,
            self.deadlock_timeout,
            machine()
        );
        let _ = writeln!(
            md,
            "| strategy | attempts/s | vs ceiling | p50 | p99 | max | wins | losses | retries | errors | overlapping pairs |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|");
        for r in &self.rows {
            let ratio = ceiling
                .map(|c| format!("{:.2}×", r.rate() / c))
                .unwrap_or_else(|| "–".to_owned());
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.strategy.label(),
                group(r.rate().round() as usize),
                ratio,
                ms(r.p50_us),
                ms(r.p99_us),
                ms(r.max_us),
                group(r.wins),
                group(r.losses),
                retries(r),
                r.errors,
                group(r.overlaps as usize),
            );
        }
        md
    }
}

fn retries(r: &Row) -> String {
    match r.most_retries {
        0 => "0".to_owned(),
        1 => format!("{} (never twice)", group(r.retries as usize)),
        n => format!("{} (up to {n} for one attempt)", group(r.retries as usize)),
    }
}

fn ms(us: u64) -> String {
    let ms = us as f64 / 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// 12345 → "12,345".
fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What this machine says about itself, as far as it can be read without privileges.
fn machine() -> String {
    let mut facts = Vec::new();
    if let Ok(n) = std::thread::available_parallelism() {
        facts.push(format!("{n} cores"));
    }
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    if let Some(model) = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
    {
        facts.push(model.1.trim().to_owned());
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    if let Some(kib) = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
    {
        facts.push(format!("{} GiB", (kib + 512 * 1024) / (1024 * 1024)));
    }
    if let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        facts.push(format!("Linux {}", release.trim()));
    }
    facts.push("client and server sharing the cores".to_owned());
    facts.join(", ")
}

async fn show(conn: &mut PgConnection, setting: &str) -> Result<String> {
    let (value,): (String,) = sqlx::query_as(&format!("SHOW {setting}"))
        .fetch_one(conn)
        .await?;
    Ok(value)
}

/// Every strategy, in order, in the database `db` (which must exist and be empty).
async fn run(db: &PgConnectOptions, config: &Config) -> Result<Report> {
    let workload = Workload::new(config);
    let mut admin = connect(db).await?;
    sqlx::raw_sql("CREATE EXTENSION IF NOT EXISTS btree_gist")
        .execute(&mut admin)
        .await
        .context("creating the btree_gist extension")?;
    let server_version = show(&mut admin, "server_version").await?;
    let synchronous_commit = show(&mut admin, "synchronous_commit").await?;
    let deadlock_timeout = show(&mut admin, "deadlock_timeout").await?;
    admin.close().await?;

    let mut rows = Vec::new();
    for strategy in STRATEGIES {
        let row = measure(db, config, &workload, strategy).await?;
        eprintln!(
            "{} {:.0} attempts/s in {:.1?}: {} wins, {} losses, {} retries (up to {}), {} errors, {} overlapping pairs",
            strategy.short(),
            row.rate(),
            row.wall,
            row.wins,
            row.losses,
            row.retries,
            row.most_retries,
            row.errors,
            row.overlaps
        );
        rows.push(row);
    }
    Ok(Report {
        rows,
        server_version,
        synchronous_commit,
        deadlock_timeout,
        colliding: workload.colliding,
        serial_wins: workload.serial_wins,
        warmup: workload.warmup.len(),
    })
}

/// Creates `vetdesk_bench_<random>`, runs every strategy in it and drops it, whatever
/// happened in between.
async fn run_in_fresh_database(url: &str, config: &Config) -> Result<Report> {
    let server = PgConnectOptions::from_str(url)
        .context("the PostgreSQL URL is not valid (it is not printed: it may hold a password)")?;
    let name = format!("vetdesk_bench_{}", Uuid::now_v7().simple());
    let mut admin = connect(&server).await?;
    sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .with_context(|| format!("creating database {name}"))?;
    let outcome = run(&server.clone().database(&name), config).await;
    let dropped = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .with_context(|| format!("dropping database {name}"));
    let _ = admin.close().await;
    match (outcome, dropped) {
        (Ok(report), Ok(_)) => Ok(report),
        (Ok(_), Err(e)) => Err(e),
        (Err(e), Ok(_)) => Err(e),
        (Err(e), Err(drop_error)) => {
            eprintln!("{drop_error:#}");
            Err(e)
        }
    }
}

fn server_url() -> Option<String> {
    URL_VARS
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let config = Config::from_args(&args)?;
    let url = server_url().unwrap_or_else(|| DEFAULT_URL.to_owned());
    let started = Instant::now();
    let report = run_in_fresh_database(&url, &config).await?;
    let date = Utc::now().format("%Y-%m-%d").to_string();
    print!("{}", report.markdown(&config, &date));
    eprintln!("whole run took {:.1?}", started.elapsed());
    let failures = report.failures();
    if !failures.is_empty() {
        bail!("the run broke its promises:\n  {}", failures.join("\n  "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        let mut rng = SplitMix64(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn attempt_list_is_seeded_and_collides_as_asked() {
        let epoch = DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(RUN_EPOCH_SECS);
        let (list, colliding) = attempt_list(10_000, 0.3, 10, 7, epoch);
        assert_eq!(list, attempt_list(10_000, 0.3, 10, 7, epoch).0);
        assert_ne!(list, attempt_list(10_000, 0.3, 10, 8, epoch).0);
        assert_eq!((list.len(), colliding), (10_000, 3_000));
        assert!(list
            .iter()
            .all(|a| a.end - a.start == SLOT && a.start >= epoch));
        // About the 7,000 distinct slots (a shifted copy may squeeze in or push two out).
        let wins = serial_wins(&list);
        assert!((6_000..=7_100).contains(&wins), "{wins}");
        assert_eq!(
            serial_wins(&attempt_list(1_000, 0.0, 10, 7, epoch).0),
            1_000
        );
    }

    #[test]
    fn warm_up_days_come_before_the_run() {
        let config = Config {
            attempts: 10_000,
            connections: 8,
            overlap: 0.3,
            vets: 10,
            warmup: 500,
            max_retries: 50,
            seed: 1,
        };
        let w = Workload::new(&config);
        assert!(w.warmup.iter().all(|a| a.end <= w.run_epoch));
        assert_eq!(w.warmup.len(), 500);
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_000), "1,000");
        assert_eq!(group(1_234_567), "1,234,567");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_guard_holds_and_the_ceiling_double_books() -> Result<()> {
        let Some(url) = server_url() else {
            println!("skipped: VETDESK_TEST_POSTGRES_URL is not set");
            return Ok(());
        };
        let config = Config {
            attempts: 400,
            connections: 4,
            overlap: 0.3,
            vets: 10,
            warmup: 20,
            // Immediate retries on a table this small can take dozens of rounds; the bound
            // is the full run's business, this test is about what ends up in the table.
            max_retries: 1_000,
            seed: 2027,
        };
        let report = run_in_fresh_database(&url, &config).await?;
        assert_eq!(report.rows.len(), STRATEGIES.len());
        assert_eq!(report.failures(), Vec::<String>::new());
        for r in &report.rows {
            let s = r.strategy.short();
            assert_eq!(r.wins + r.losses, 400, "{s}");
            if r.strategy.guards() {
                assert_eq!((r.overlaps_total, r.errors), (0, 0), "{s}");
                assert!(r.losses > 0, "{s} lost no slot, so nothing collided");
            } else {
                assert_eq!(r.wins, 400);
                assert!(r.overlaps > 0, "the unguarded run never double-booked");
            }
        }
        let md = report.markdown(&config, "2027-01-01");
        assert!(md.contains("| (e) ceiling"), "{md}");
        Ok(())
    }
}
