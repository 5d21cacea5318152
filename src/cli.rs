//! The command line as clap sees it. Values a person types (dates, times,
//! spans, weekdays, statuses, time zones) arrive as strings and are parsed by
//! the command that uses them, so a bad value fails through the same path as
//! every other invalid input: one `error:` line and exit code 2.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "vetdesk",
    version,
    about = "Clinic scheduling for veterinary practices",
    long_about = "Clinic scheduling for veterinary practices: clinics, vets, owners and pets, working hours, \
                  availability, booking and the appointment lifecycle.\n\n\
                  Times are clinic-local `YYYY-MM-DDTHH:MM` or RFC 3339; dates are `YYYY-MM-DD`. \
                  Clinics, vets and appointment types may be named by id or by any unique part of their name; \
                  owners and pets by id or by a name that matches exactly one of them.",
    after_help = "Exit codes: 0 ok, 1 internal error, 2 invalid input, 3 not found, 4 conflict, \
                  5 changed by someone else, 6 invalid status change, 7 database busy or unavailable, 8 duplicate, \
                  9 not signed in, not allowed, or too many sign-ins, \
                  10 the database file is damaged (the message names the newest good backup)."
)]
pub struct Cli {
    /// The database: a SQLite file path or URL (default: vetdesk.db in the OS data folder).
    #[arg(long, global = true, env = "VETDESK_DATABASE_URL", value_name = "URL")]
    pub db: Option<String>,

    /// Print the result as JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,

    /// Who is acting, as recorded in appointment history (default: $USER, else "cli").
    #[arg(long = "as", global = true, value_name = "NAME")]
    pub actor: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create (or upgrade) the database and print where it is; --demo fills it with a demo practice.
    Init {
        /// Seed two clinics, six vets, owners, pets and three weeks of appointments.
        #[arg(long)]
        demo: bool,
    },
    /// List, add and edit clinics.
    Clinics {
        #[command(subcommand)]
        cmd: Option<ClinicsCmd>,
    },
    /// List, add and edit vets.
    #[command(args_conflicts_with_subcommands = true)]
    Vets {
        #[command(subcommand)]
        cmd: Option<VetsCmd>,
        #[command(flatten)]
        list: VetsList,
    },
    /// Search, add, edit and delete pet owners.
    #[command(args_conflicts_with_subcommands = true)]
    Clients {
        #[command(subcommand)]
        cmd: Option<ClientsCmd>,
        #[command(flatten)]
        list: ClientsList,
    },
    /// Search, add, edit and delete pets.
    #[command(args_conflicts_with_subcommands = true)]
    Pets {
        #[command(subcommand)]
        cmd: Option<PetsCmd>,
        #[command(flatten)]
        list: PetsList,
    },
    /// List, add and edit appointment types (duration, colour, buffers).
    Types {
        #[command(subcommand)]
        cmd: Option<TypesCmd>,
    },
    /// Weekly working hours of vets at clinics.
    #[command(args_conflicts_with_subcommands = true)]
    Hours {
        #[command(subcommand)]
        cmd: Option<HoursCmd>,
        #[command(flatten)]
        list: HoursList,
    },
    /// Working hours for a single date: an extra shift, a shorter day, or a day off.
    Override {
        #[command(subcommand)]
        cmd: OverrideCmd,
    },
    /// Vets' time off: holidays, courses, sick days.
    #[command(name = "time-off")]
    TimeOff {
        #[command(subcommand)]
        cmd: TimeOffCmd,
    },
    /// Users who sign in to the HTTP API and the desktop app (admin, front_desk, vet).
    #[command(name = "user", alias = "users")]
    User {
        #[command(subcommand)]
        cmd: Option<UserCmd>,
    },
    /// The audit log: who changed what, when, before and after (newest first).
    Audit(AuditArgs),
    /// Free appointment slots at a clinic over a range of dates.
    Availability(AvailabilityArgs),
    /// A day, week or month of a clinic: appointments and free time per vet.
    Calendar(CalendarArgs),
    /// A vet's own day across their clinics.
    #[command(name = "my-day")]
    MyDay {
        /// The vet (id or part of the name).
        #[arg(long)]
        vet: String,
        /// The local date (default: today).
        #[arg(long)]
        date: Option<String>,
    },
    /// Whether a vet could see a patient at a time; exits 4 and lists every reason when not.
    #[command(name = "check-conflicts")]
    CheckConflicts(CheckConflictsArgs),
    /// Explain whether a vet is free at a time, and if not, every reason why.
    Why(WhyArgs),
    /// Book an appointment (refused with every reason if the time is not free).
    Book(BookArgs),
    /// Book many appointments from a file of JSON lines (one booking per line, with the
    /// fields of `book`: {"clinic": …, "vet": …, "pet": …, "type": …, "start": …}); each is
    /// checked like `book`, and every refused line is reported. Exits 4 when some lines
    /// were refused as conflicts only.
    Import {
        /// The file, or - for standard input.
        file: String,
    },
    /// Confirm a scheduled appointment (the owner said yes).
    Confirm(ActArgs),
    /// Record that the patient has arrived.
    #[command(name = "check-in")]
    CheckIn(ActArgs),
    /// Start the appointment (the vet is seeing the patient).
    Start(ActArgs),
    /// Complete an appointment that is in progress.
    Complete {
        #[command(flatten)]
        act: ActArgs,
        /// A note for the history.
        #[arg(long)]
        note: Option<String>,
    },
    /// Cancel a scheduled or confirmed appointment; its time becomes free.
    Cancel {
        #[command(flatten)]
        act: ActArgs,
        /// Why it was cancelled.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Record that the patient did not come (only after the start time).
    #[command(name = "no-show")]
    NoShow(ActArgs),
    /// Move an appointment to another time (or vet); it returns to scheduled.
    Reschedule(RescheduleArgs),
    /// One appointment with its history.
    Show {
        /// The appointment id.
        id: String,
    },
    /// Search and list appointments, a page at a time.
    Appointments(AppointmentsArgs),
    /// Serve the HTTP API (/api/v1) and the calendar UI (/) until stopped with Ctrl-C,
    /// with the notification worker running beside it (channels that are not configured stay off).
    Serve {
        /// The address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
        bind: String,
        /// The built calendar UI to serve at / [default: ui/dist of this source
        /// tree, or ui/ beside the binary, when built].
        #[arg(long, value_name = "DIR")]
        ui: Option<std::path::PathBuf>,
        /// Serve the API only, even when a built UI is found.
        #[arg(long, conflicts_with = "ui")]
        no_ui: bool,
        /// Do not run the notification worker in this process.
        #[arg(long)]
        no_worker: bool,
        /// Serve even as a PostgreSQL role that owns vetdesk's tables or is a superuser
        /// (a trial, a test): such a role can rewrite the audit log and drop its guards.
        /// Without it, serve refuses such a role; see `vetdesk migrate --runtime-role`.
        #[arg(long, env = "VETDESK_ALLOW_OWNER_ROLE", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
        allow_owner_role: bool,
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        tls: TlsArgs,
        #[command(flatten)]
        notify: NotifyArgs,
    },
    /// The server's HTTPS certificate and its SHA-256 fingerprint, for pairing a workstation.
    #[command(name = "server-info")]
    ServerInfo {
        /// The certificate `vetdesk serve` is given (PEM) [default: the one it made].
        #[arg(long, env = "VETDESK_TLS_CERT", value_name = "PEM")]
        tls_cert: Option<std::path::PathBuf>,
        /// Where `vetdesk serve` keeps the certificate it made (see `vetdesk serve --help`).
        #[arg(long, env = "VETDESK_TLS_DIR", value_name = "DIR")]
        tls_dir: Option<std::path::PathBuf>,
    },
    /// Send due notifications (email, SMS, desktop) until stopped with Ctrl-C or SIGTERM.
    Worker {
        /// Send what is due now, then exit.
        #[arg(long)]
        once: bool,
        #[command(flatten)]
        notify: NotifyArgs,
    },
    /// The notification outbox: messages planned, sent, failed, skipped or voided (newest first).
    #[command(args_conflicts_with_subcommands = true)]
    Outbox {
        #[command(subcommand)]
        cmd: Option<OutboxCmd>,
        #[command(flatten)]
        list: OutboxList,
    },
    /// Message templates, per kind of message and channel.
    Templates {
        #[command(subcommand)]
        cmd: Option<TemplatesCmd>,
    },
    /// A clinic's notification settings: reminder offsets, SMS quiet hours, staff heads-up.
    Notifications(NotificationArgs),
    /// Copy the database while it stays in use: to FILE, or into the backups folder beside it
    /// (which keeps the newest 14). A PostgreSQL database is backed up with pg_dump; this says how.
    Backup {
        /// Where to write the copy (replaced only once the new copy is complete).
        #[arg(long, value_name = "FILE")]
        to: Option<std::path::PathBuf>,
    },
    /// Put a backup in place of the database, after checking it. Stop vetdesk serve and the
    /// desktop app first; the replaced database is kept in the backups folder.
    Restore {
        /// The backup to restore.
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// Create or upgrade the database's schema, as the role that owns it, and grant each
    /// runtime role (the one `vetdesk serve` signs in to PostgreSQL as) exactly what a
    /// server needs: it may read, add and update records, add to the audit log and the
    /// other logs, and nothing else (no DELETE, TRUNCATE, ALTER, DROP).
    Migrate {
        /// The runtime role to grant (repeat it, or separate with commas) [default: the
        /// roles an earlier `vetdesk migrate` granted]. PostgreSQL only.
        #[arg(
            long = "runtime-role",
            env = "VETDESK_RUNTIME_ROLE",
            value_name = "ROLE",
            value_delimiter = ','
        )]
        runtime_roles: Vec<String>,
    },
    /// Keep a secret (the SMTP password, the SMS token) in the OS keyring.
    Secret {
        #[command(subcommand)]
        cmd: SecretCmd,
    },
}

/// The HTTP server's network options (each also a `VETDESK_…` variable).
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Believe `X-Forwarded-For` only from this proxy: an address or a network
    /// such as 10.0.0.0/8 (repeat it, or separate with commas). Without one,
    /// the connection's own address is the client's.
    #[arg(
        long = "trusted-proxy",
        env = "VETDESK_TRUSTED_PROXIES",
        value_name = "ADDR|NET",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,
    /// Seconds a client may take to send a request's headers (or keep an idle connection).
    #[arg(
        long,
        env = "VETDESK_HEADER_TIMEOUT_SECS",
        default_value_t = 10,
        value_name = "SECS"
    )]
    pub header_timeout_secs: u64,
    /// Seconds a request may take until its answer starts (its body included).
    #[arg(
        long,
        env = "VETDESK_REQUEST_TIMEOUT_SECS",
        default_value_t = 30,
        value_name = "SECS"
    )]
    pub request_timeout_secs: u64,
    /// Connections served at once; more wait to be accepted.
    #[arg(
        long,
        env = "VETDESK_MAX_CONNECTIONS",
        default_value_t = 1024,
        value_name = "N"
    )]
    pub max_connections: usize,
    /// Minutes a sign-in may go unused before it ends (shared front-desk PCs:
    /// whoever comes to an unattended one must sign in); 0: never.
    #[arg(
        long,
        env = "VETDESK_SESSION_IDLE_MINS",
        default_value_t = 30,
        value_name = "MINS"
    )]
    pub session_idle_mins: u32,
}

/// HTTPS for `vetdesk serve`. Without --tls-cert/--tls-key, vetdesk makes a
/// self-signed certificate on the first start that needs one, keeps it, and
/// prints its SHA-256 fingerprint (also shown by `vetdesk server-info`).
#[derive(Debug, Clone, Args)]
pub struct TlsArgs {
    /// auto: HTTPS, except plain HTTP on a loopback address; on: HTTPS everywhere;
    /// off: plain HTTP, only on a loopback address unless --insecure-http.
    #[arg(long, env = "VETDESK_TLS", value_enum, default_value_t = TlsMode::Auto)]
    pub tls: TlsMode,
    /// The server's certificate chain, PEM, its own certificate first (with --tls-key).
    #[arg(
        long,
        env = "VETDESK_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key, PEM (with --tls-cert).
    #[arg(
        long,
        env = "VETDESK_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    pub tls_key: Option<std::path::PathBuf>,
    /// Where the certificate vetdesk makes is kept [default: beside a SQLite
    /// database, `<file>.tls/`; for PostgreSQL, `tls/` in the OS data folder].
    #[arg(long, env = "VETDESK_TLS_DIR", value_name = "DIR")]
    pub tls_dir: Option<std::path::PathBuf>,
    /// Serve plain HTTP on any address (behind a TLS proxy, say): passwords and
    /// client records cross the network readable by anyone on it.
    #[arg(long, env = "VETDESK_INSECURE_HTTP", conflicts_with_all = ["tls_cert", "tls_key"])]
    pub insecure_http: bool,
}

/// When `vetdesk serve` speaks HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsMode {
    Auto,
    On,
    Off,
}

/// Where notifications go. Each channel option is also a `VETDESK_…` variable
/// (named in its help), and a flag overrides its variable; the SMTP password
/// and the SMS token come only from the environment (VETDESK_SMTP_PASSWORD,
/// VETDESK_SMS_TOKEN) or the OS keyring (`vetdesk secret set …`). They are
/// read, and checked, by `vetdesk_notify::ChannelSettings`, as the desktop
/// app reads them.
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// The SMTP server; email is off without one [env: VETDESK_SMTP_HOST].
    #[arg(long, value_name = "HOST")]
    pub smtp_host: Option<String>,
    /// Its port (default: 25 plain, 587 starttls, 465 tls) [env: VETDESK_SMTP_PORT].
    #[arg(long, value_name = "PORT")]
    pub smtp_port: Option<String>,
    /// plain, starttls (the default) or tls [env: VETDESK_SMTP_SECURITY].
    #[arg(long, value_name = "MODE")]
    pub smtp_security: Option<String>,
    /// Sign in to the SMTP server as this user (password: VETDESK_SMTP_PASSWORD
    /// or the keyring's smtp-password) [env: VETDESK_SMTP_USERNAME].
    #[arg(long, value_name = "USER")]
    pub smtp_username: Option<String>,
    /// The sender, e.g. "Riverside Vets <reminders@riverside.example>" [env: VETDESK_SMTP_FROM].
    #[arg(long, value_name = "MAILBOX")]
    pub smtp_from: Option<String>,
    /// A PEM file of certificate authorities to trust besides the public ones
    /// (for a mail server whose certificate the clinic's own CA signed)
    /// [env: VETDESK_SMTP_CA_FILE].
    #[arg(long, value_name = "PEM")]
    pub smtp_ca_file: Option<String>,
    /// The Twilio-compatible SMS gateway (default: https://api.twilio.com) [env: VETDESK_SMS_URL].
    #[arg(long, value_name = "URL")]
    pub sms_url: Option<String>,
    /// The gateway account; SMS is off without one (token: VETDESK_SMS_TOKEN or
    /// the keyring's sms-token) [env: VETDESK_SMS_ACCOUNT].
    #[arg(long, value_name = "SID")]
    pub sms_account: Option<String>,
    /// The number SMS is sent from [env: VETDESK_SMS_FROM].
    #[arg(long, value_name = "NUMBER")]
    pub sms_from: Option<String>,
    /// Show staff desktop notifications here: "all", "off", or one vet (id or
    /// part of the name) [env: VETDESK_DESKTOP].
    #[arg(long, value_name = "WHOSE")]
    pub desktop: Option<String>,
    /// Days a sent (or failed) message keeps its recipient's address or number
    /// and its error text, which may quote them: 1-3650, or "never" to keep them
    /// (default 30) [env: VETDESK_KEEP_RECIPIENTS_DAYS].
    #[arg(long, value_name = "DAYS")]
    pub keep_recipients_days: Option<String>,
    /// Messages claimed at a time.
    #[arg(long, env = "VETDESK_WORKER_BATCH", default_value_t = 20)]
    pub batch: u32,
    /// Seconds a claim holds before another worker may take the message.
    #[arg(long, env = "VETDESK_WORKER_LEASE_SECS", default_value_t = 120)]
    pub lease_secs: u64,
    /// Attempts before a message is marked failed.
    #[arg(long, env = "VETDESK_WORKER_MAX_ATTEMPTS", default_value_t = 5)]
    pub max_attempts: u32,
    /// Seconds before the first retry (doubling, up to an hour).
    #[arg(long, env = "VETDESK_WORKER_RETRY_SECS", default_value_t = 30)]
    pub retry_secs: u64,
    /// Seconds one message may take.
    #[arg(long, env = "VETDESK_SEND_TIMEOUT_SECS", default_value_t = 30)]
    pub send_timeout_secs: u64,
    /// Emails per second at most (bursts of five times that after an outage).
    #[arg(long, env = "VETDESK_EMAIL_RATE", default_value_t = 10.0)]
    pub email_rate: f64,
    /// SMS per second at most (bursts of ten).
    #[arg(long, env = "VETDESK_SMS_RATE", default_value_t = 1.0)]
    pub sms_rate: f64,
}

#[derive(Debug, Args)]
pub struct OutboxList {
    /// Only failed messages.
    #[arg(long)]
    pub failed: bool,
    /// Only these statuses (pending, sent, failed, skipped, voided), comma-separated.
    #[arg(long)]
    pub status: Option<String>,
    /// Only this appointment's messages.
    #[arg(long)]
    pub appointment: Option<String>,
    /// How many (at most 500).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// Queue a failed or skipped message again (it is sent if still worth sending).
    Retry {
        /// The message id.
        id: String,
    },
    /// What a message says and whether it would go if it were sent now.
    Preview {
        /// The message id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TemplatesCmd {
    /// Every template as it applies (an admin's, or the built-in one).
    List,
    /// Show one template.
    Show {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        channel: String,
    },
    /// Change a template (admin only). Placeholders: {pet} {owner} {vet} {clinic} {type}
    /// {date} {time} {when} {zone}, and in reschedule notices {previous_date} {previous_time}.
    Set {
        /// confirmation, reminder, reschedule, cancellation, checked_in, starting_soon.
        #[arg(long)]
        kind: String,
        /// email, sms or desktop.
        #[arg(long)]
        channel: String,
        /// The subject (email) or title (desktop); SMS has none.
        #[arg(long)]
        subject: Option<String>,
        /// The body; `-` reads it from standard input.
        #[arg(long)]
        body: String,
        /// Refuse if the template is no longer at this version.
        #[arg(long, value_name = "N")]
        expect_version: Option<i64>,
    },
    /// Go back to the built-in wording.
    Reset {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        channel: String,
    },
    /// Render a template for an appointment (or a sample one) in the clinic's time zone.
    Preview {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        channel: String,
        /// The appointment id (default: a sample appointment tomorrow).
        #[arg(long)]
        appointment: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct NotificationArgs {
    /// The clinic (id or part of the name).
    #[arg(long)]
    pub clinic: String,
    /// Reminder offsets before the start, e.g. "24h,2h" (or "none").
    #[arg(long, value_name = "OFFSETS")]
    pub reminders: Option<String>,
    /// When no SMS goes out, clinic-local, e.g. "20:00-08:00" (or "none").
    #[arg(long, value_name = "HH:MM-HH:MM")]
    pub quiet_hours: Option<String>,
    /// Minutes before the start the vet's desktop says "starting soon" (or "none").
    #[arg(long, value_name = "MINUTES")]
    pub heads_up: Option<String>,
    /// Refuse if the settings are no longer at this version.
    #[arg(long, value_name = "N")]
    pub expect_version: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum SecretCmd {
    /// Store smtp-password or sms-token in the OS keyring, read from standard input.
    Set {
        /// smtp-password or sms-token.
        name: String,
    },
}

// ---------- clinics ----------

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// List users.
    List,
    /// Add a user (the first admin, say). The password comes from standard
    /// input (--password-stdin) or VETDESK_NEW_PASSWORD, never from the command line.
    Add {
        /// Sign-in name: 3 to 32 characters of a-z 0-9 . _ -
        #[arg(long)]
        username: String,
        /// The name people see (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// admin, front_desk or vet.
        #[arg(long)]
        role: String,
        /// For the vet role: which vet (id or part of the name).
        #[arg(long)]
        vet: Option<String>,
        /// Limit a vet or front-desk user to this clinic (repeat for more;
        /// none: every clinic). They see and change only those clinics'
        /// appointments, owners, pets and messages.
        #[arg(long = "clinic", value_name = "CLINIC")]
        clinics: Vec<String>,
        /// Where their calendar opens (one of --clinic when given).
        #[arg(long, value_name = "CLINIC")]
        home_clinic: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user's name, role, clinics, password (--password-stdin), or disable/enable them.
    Set {
        /// The username.
        username: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        role: Option<String>,
        /// For the vet role: which vet (id or part of the name).
        #[arg(long)]
        vet: Option<String>,
        /// Limit the user to exactly these clinics (repeat; replaces the list).
        #[arg(long = "clinic", value_name = "CLINIC", conflicts_with = "all_clinics")]
        clinics: Vec<String>,
        /// Lift the limit: the user sees every clinic.
        #[arg(long)]
        all_clinics: bool,
        /// Where their calendar opens.
        #[arg(long, value_name = "CLINIC", conflicts_with = "no_home_clinic")]
        home_clinic: Option<String>,
        /// Clear the home clinic.
        #[arg(long)]
        no_home_clinic: bool,
        /// Read a new password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Stop the user signing in (their sessions end).
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// Let a disabled user sign in again.
        #[arg(long)]
        enable: bool,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this kind of record (appointment, clinic, user, session, ...).
    #[arg(long)]
    pub entity: Option<String>,
    /// Only this record (its id).
    #[arg(long)]
    pub id: Option<String>,
    /// Only what this username did.
    #[arg(long)]
    pub actor: Option<String>,
    /// How many lines (at most 500).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

#[derive(Debug, Subcommand)]
pub enum ClinicsCmd {
    /// List clinics.
    List,
    /// Add a clinic.
    Add {
        /// The name.
        #[arg(long)]
        name: String,
        /// IANA time zone, e.g. Europe/London.
        #[arg(long, value_name = "ZONE")]
        tz: String,
    },
    /// Change a clinic's name or time zone.
    Edit {
        /// The clinic (id or part of the name).
        clinic: String,
        /// The name.
        #[arg(long)]
        name: Option<String>,
        /// IANA time zone, e.g. Europe/London.
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
        #[command(flatten)]
        version: ExpectVersion,
    },
}

// ---------- vets ----------

#[derive(Debug, Args)]
pub struct VetsList {
    /// Only vets working at this clinic.
    #[arg(long)]
    pub clinic: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum VetsCmd {
    /// List vets.
    List(VetsList),
    /// Add a vet.
    Add {
        /// The name.
        #[arg(long)]
        name: String,
        /// The email address.
        #[arg(long)]
        email: Option<String>,
        /// A clinic the vet works at (repeat for several).
        #[arg(long = "clinic", value_name = "CLINIC")]
        clinics: Vec<String>,
    },
    /// Change a vet's name, email or clinics.
    Edit {
        /// The vet (id or part of the name).
        vet: String,
        /// The name.
        #[arg(long)]
        name: Option<String>,
        /// The email address ("" removes it).
        #[arg(long)]
        email: Option<String>,
        /// Replace the vet's clinics with these (repeat for several).
        #[arg(long = "clinic", value_name = "CLINIC")]
        clinics: Vec<String>,
        #[command(flatten)]
        version: ExpectVersion,
    },
}

// ---------- clients ----------

#[derive(Debug, Args)]
pub struct ClientsList {
    /// Part of a name, email address or phone number.
    #[arg(long)]
    pub search: Option<String>,
    /// At most this many (default 50).
    #[arg(long)]
    pub limit: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum ClientsCmd {
    /// Search pet owners.
    List(ClientsList),
    /// Add a pet owner.
    Add {
        /// The name.
        #[arg(long)]
        name: String,
        /// The email address.
        #[arg(long)]
        email: Option<String>,
        /// The phone number.
        #[arg(long)]
        phone: Option<String>,
        /// How they want to hear from the clinic: email or sms.
        #[arg(long, value_name = "CHANNEL")]
        prefer: Option<String>,
        /// They do not want emails.
        #[arg(long)]
        email_opt_out: bool,
        /// They do not want text messages.
        #[arg(long)]
        sms_opt_out: bool,
        /// The clinic they are registered with (default: a limited user's home clinic).
        #[arg(long, value_name = "CLINIC")]
        clinic: Option<String>,
    },
    /// Change an owner's details.
    Edit {
        /// The owner (id or a name that matches one owner).
        client: String,
        /// The name.
        #[arg(long)]
        name: Option<String>,
        /// The email address ("" removes it).
        #[arg(long)]
        email: Option<String>,
        /// The phone number ("" removes it).
        #[arg(long)]
        phone: Option<String>,
        /// How they want to hear from the clinic: email or sms.
        #[arg(long, value_name = "CHANNEL")]
        prefer: Option<String>,
        #[arg(long, value_name = "BOOL")]
        email_opt_out: Option<bool>,
        #[arg(long, value_name = "BOOL")]
        sms_opt_out: Option<bool>,
        /// The clinic they are registered with.
        #[arg(long, value_name = "CLINIC")]
        clinic: Option<String>,
        #[command(flatten)]
        version: ExpectVersion,
    },
    /// Delete an owner.
    Delete {
        /// The owner's id.
        id: String,
        /// Refuse unless the record is still at this version (from a list).
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        expect_version: i64,
    },
    /// Everything held about one owner as JSON (the owner, pets, appointments
    /// with history, and the messages about them); admins only, audited.
    Export {
        /// The owner's id (deleted and erased owners too).
        id: String,
        /// Write it to this new file (readable by you only) instead of standard output.
        #[arg(long, value_name = "FILE")]
        to: Option<std::path::PathBuf>,
    },
    /// Erase an owner: anonymise them and their pets, keep their appointments'
    /// times without their notes, void what is still to be sent to them and
    /// forget where messages went. Cannot be undone; admins only, audited.
    Erase {
        /// The owner's id.
        id: String,
        /// Yes, erase them (required: there is no undo).
        #[arg(long)]
        yes: bool,
    },
}

// ---------- pets ----------

#[derive(Debug, Args)]
pub struct PetsList {
    /// Only this owner's pets.
    #[arg(long, value_name = "CLIENT")]
    pub owner: Option<String>,
    /// Part of the pet's name.
    #[arg(long)]
    pub search: Option<String>,
    /// At most this many (default 50).
    #[arg(long)]
    pub limit: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum PetsCmd {
    /// Search pets.
    List(PetsList),
    /// Add a pet.
    Add {
        /// The owner (id or a name that matches one owner).
        #[arg(long, value_name = "CLIENT")]
        owner: String,
        /// The name.
        #[arg(long)]
        name: String,
        /// The species, e.g. dog, cat.
        #[arg(long)]
        species: String,
        /// The breed.
        #[arg(long)]
        breed: Option<String>,
        /// Date of birth, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        born: Option<String>,
    },
    /// Change a pet's details.
    Edit {
        /// The pet (id or a name that matches one pet).
        pet: String,
        /// Move the pet to another owner.
        #[arg(long, value_name = "CLIENT")]
        owner: Option<String>,
        /// The name.
        #[arg(long)]
        name: Option<String>,
        /// The species, e.g. dog, cat.
        #[arg(long)]
        species: Option<String>,
        /// The breed ("" removes it).
        #[arg(long)]
        breed: Option<String>,
        /// Date of birth, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        born: Option<String>,
        #[command(flatten)]
        version: ExpectVersion,
    },
    /// Delete a pet.
    Delete {
        /// The pet's id.
        id: String,
        /// Refuse unless the record is still at this version (from a list).
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        expect_version: i64,
    },
}

// ---------- appointment types ----------

#[derive(Debug, Subcommand)]
pub enum TypesCmd {
    /// List appointment types.
    List,
    /// Add an appointment type.
    Add {
        /// The name.
        #[arg(long)]
        name: String,
        /// Default length in minutes.
        #[arg(long, value_name = "MIN", allow_negative_numbers = true)]
        duration: i64,
        /// Display colour, #rrggbb.
        #[arg(long)]
        colour: String,
        /// Minutes kept free before the appointment.
        #[arg(
            long,
            value_name = "MIN",
            default_value_t = 0,
            allow_negative_numbers = true
        )]
        buffer_before: i64,
        /// Minutes kept free after the appointment.
        #[arg(
            long,
            value_name = "MIN",
            default_value_t = 0,
            allow_negative_numbers = true
        )]
        buffer_after: i64,
    },
    /// Change an appointment type (existing appointments keep their buffers).
    Edit {
        /// The type (id or part of the name).
        #[arg(value_name = "TYPE")]
        type_: String,
        /// The name.
        #[arg(long)]
        name: Option<String>,
        /// Default length in minutes.
        #[arg(long, value_name = "MIN", allow_negative_numbers = true)]
        duration: Option<i64>,
        /// Display colour, #rrggbb.
        #[arg(long)]
        colour: Option<String>,
        /// Minutes kept free before the appointment.
        #[arg(long, value_name = "MIN", allow_negative_numbers = true)]
        buffer_before: Option<i64>,
        /// Minutes kept free after the appointment.
        #[arg(long, value_name = "MIN", allow_negative_numbers = true)]
        buffer_after: Option<i64>,
        #[command(flatten)]
        version: ExpectVersion,
    },
}

// ---------- working hours ----------

#[derive(Debug, Args)]
pub struct HoursList {
    /// Only this vet's hours.
    #[arg(long)]
    pub vet: Option<String>,
    /// Only hours at this clinic.
    #[arg(long)]
    pub clinic: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum HoursCmd {
    /// List weekly working hours.
    List(HoursList),
    /// Add a weekly working span (add several for a day with breaks).
    Add {
        /// The vet (id or part of the name).
        #[arg(long)]
        vet: String,
        /// The clinic (id or part of the name).
        #[arg(long)]
        clinic: String,
        /// Weekday: mon, tue, ... or monday, tuesday, ...
        #[arg(long)]
        day: String,
        /// Local working span, HH:MM-HH:MM.
        #[arg(long)]
        span: String,
        /// First date the rule applies (default: today at the clinic).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last date the rule applies (default: open-ended).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
    },
    /// Change a weekly working span.
    Edit {
        /// The working-hours id.
        id: String,
        /// Weekday: mon, tue, ... or monday, tuesday, ...
        #[arg(long)]
        day: Option<String>,
        /// Local working span, HH:MM-HH:MM.
        #[arg(long)]
        span: Option<String>,
        /// First date the rule applies.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last date the rule applies (inclusive).
        #[arg(long, value_name = "DATE", conflicts_with = "open_ended")]
        to: Option<String>,
        /// Remove the last date: the rule applies with no end.
        #[arg(long)]
        open_ended: bool,
        #[command(flatten)]
        version: ExpectVersion,
    },
    /// Delete a weekly working span.
    Delete {
        /// The working-hours id.
        id: String,
        /// Refuse unless the record is still at this version (from a list).
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        expect_version: i64,
    },
}

// ---------- date overrides ----------

#[derive(Debug, Subcommand)]
pub enum OverrideCmd {
    /// Set (or replace) a vet's hours at a clinic on one date.
    Set {
        /// The vet (id or part of the name).
        #[arg(long)]
        vet: String,
        /// The clinic (id or part of the name).
        #[arg(long)]
        clinic: String,
        /// The local date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Local spans, '09:00-12:00,13:00-15:00'; an empty string is a day off.
        #[arg(long)]
        spans: String,
        /// Why the hours differ that day (free text).
        #[arg(long)]
        note: Option<String>,
    },
    /// List overrides between two dates (default: the next 31 days).
    List {
        /// The vet (id or part of the name).
        #[arg(long)]
        vet: Option<String>,
        /// The clinic (id or part of the name).
        #[arg(long)]
        clinic: Option<String>,
        /// First local date (default: today at the clinic, else in UTC).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last local date, inclusive (default: 30 days after the first).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
    },
    /// Delete an override.
    Delete {
        /// The override id.
        id: String,
        /// Refuse unless the record is still at this version (from a list).
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        expect_version: i64,
    },
}

// ---------- time off ----------

#[derive(Debug, Subcommand)]
pub enum TimeOffCmd {
    /// Record time off: --start/--end, one whole --date, or --from-date/--to-date whole days.
    Add(TimeOffAdd),
    /// List time off.
    List {
        /// The vet (id or part of the name).
        #[arg(long)]
        vet: Option<String>,
    },
    /// Delete time off.
    Delete {
        /// The time-off id.
        id: String,
        /// Refuse unless the record is still at this version (from a list).
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        expect_version: i64,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("when").required(true).args(["start", "date", "from_date"])))]
pub struct TimeOffAdd {
    /// The vet (id or part of the name).
    #[arg(long)]
    pub vet: String,
    /// Read local times in this clinic's zone (default: the vet's first clinic).
    #[arg(long)]
    pub clinic: Option<String>,
    /// Start time.
    #[arg(long, requires = "end", value_name = "TIME")]
    pub start: Option<String>,
    /// End time (exclusive).
    #[arg(long, requires = "start", value_name = "TIME")]
    pub end: Option<String>,
    /// One whole local day.
    #[arg(long, conflicts_with_all = ["start", "end", "from_date", "to_date"])]
    pub date: Option<String>,
    /// First whole day of a range.
    #[arg(long, requires = "to_date", conflicts_with_all = ["start", "end"], value_name = "DATE")]
    pub from_date: Option<String>,
    /// Last whole day of a range (inclusive).
    #[arg(long, requires = "from_date", value_name = "DATE")]
    pub to_date: Option<String>,
    /// The reason (free text).
    #[arg(long)]
    pub reason: Option<String>,
}

// ---------- scheduling ----------

#[derive(Debug, Args)]
pub struct AvailabilityArgs {
    /// The clinic (id or part of the name).
    #[arg(long)]
    pub clinic: String,
    /// One vet (default: every vet of the clinic).
    #[arg(long)]
    pub vet: Option<String>,
    /// First local date (default: today at the clinic).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last local date, inclusive (default: the first).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Slot length in minutes (default: the type's).
    #[arg(long, value_name = "MIN", allow_negative_numbers = true)]
    pub duration: Option<i64>,
    /// Appointment type: gives the length and buffers.
    #[arg(long = "type", value_name = "TYPE")]
    pub type_: Option<String>,
    /// Slots start on multiples of this many minutes (default 15).
    #[arg(long, value_name = "MIN", allow_negative_numbers = true)]
    pub grid: Option<i64>,
    /// Offer nothing sooner than this many minutes from now.
    #[arg(long, value_name = "MIN", allow_negative_numbers = true)]
    pub min_notice: Option<i64>,
    /// Count this appointment's own time as free (where can it move to?).
    #[arg(long, value_name = "APPOINTMENT")]
    pub ignoring: Option<String>,
}

#[derive(Debug, Args)]
pub struct CalendarArgs {
    /// The clinic (id or part of the name).
    #[arg(long)]
    pub clinic: String,
    /// One vet (default: every vet of the clinic).
    #[arg(long)]
    pub vet: Option<String>,
    /// day, week or month.
    #[arg(long, default_value = "day")]
    pub view: String,
    /// A local date inside the view (default: today at the clinic).
    #[arg(long)]
    pub date: Option<String>,
    /// Show cancelled appointments too.
    #[arg(long)]
    pub include_cancelled: bool,
}

#[derive(Debug, Args)]
pub struct CheckConflictsArgs {
    /// The clinic (id or part of the name).
    #[arg(long)]
    pub clinic: String,
    /// The vet (id or part of the name).
    #[arg(long)]
    pub vet: String,
    /// Start: clinic-local YYYY-MM-DDTHH:MM, or RFC 3339.
    #[arg(long, value_name = "TIME")]
    pub start: String,
    /// End (exclusive): clinic-local YYYY-MM-DDTHH:MM, or RFC 3339.
    #[arg(long, value_name = "TIME")]
    pub end: String,
    /// Take buffers from this appointment type.
    #[arg(long = "type", value_name = "TYPE")]
    pub type_: Option<String>,
    /// The appointment being moved (its own time does not count).
    #[arg(long, value_name = "APPOINTMENT")]
    pub ignoring: Option<String>,
}

#[derive(Debug, Args)]
pub struct WhyArgs {
    /// The vet (id or part of the name).
    #[arg(long)]
    pub vet: String,
    /// The clinic (id or part of the name).
    #[arg(long)]
    pub clinic: String,
    /// When: clinic-local YYYY-MM-DDTHH:MM, or RFC 3339.
    #[arg(long, value_name = "TIME")]
    pub at: String,
    /// Minutes (default: 15, or the type's length).
    #[arg(long, value_name = "MIN", allow_negative_numbers = true)]
    pub duration: Option<i64>,
    /// The appointment type (id or part of the name).
    #[arg(long = "type", value_name = "TYPE")]
    pub type_: Option<String>,
}

// ---------- appointments ----------

/// Also one line of `vetdesk import` (JSON, with the same field names; `type` for the type).
#[derive(Debug, Args, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookArgs {
    /// The clinic (id or part of the name).
    #[arg(long)]
    pub clinic: String,
    /// The vet (id or part of the name).
    #[arg(long)]
    pub vet: String,
    /// The pet (id, or a name that matches one pet; narrowed by --client).
    #[arg(long)]
    pub pet: String,
    /// The owner (default: the pet's owner).
    #[arg(long)]
    pub client: Option<String>,
    /// The appointment type (id or part of the name).
    #[arg(long = "type", value_name = "TYPE")]
    #[serde(rename = "type")]
    pub type_: String,
    /// Start: clinic-local YYYY-MM-DDTHH:MM, or RFC 3339.
    #[arg(long, value_name = "TIME")]
    pub start: String,
    /// Minutes (default: the type's length).
    #[arg(long, value_name = "MIN", allow_negative_numbers = true)]
    pub duration: Option<i64>,
    /// The reason (free text).
    #[arg(long)]
    pub reason: Option<String>,
    /// Notes for the vet (free text).
    #[arg(long)]
    pub notes: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExpectVersion {
    /// Refuse unless the record is still at this version (from a list or show).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub expect_version: Option<i64>,
}

#[derive(Debug, Args)]
pub struct ActArgs {
    /// The appointment id.
    pub id: String,
    #[command(flatten)]
    pub version: ExpectVersion,
}

#[derive(Debug, Args)]
pub struct RescheduleArgs {
    /// The appointment id.
    pub id: String,
    /// Start: clinic-local YYYY-MM-DDTHH:MM, or RFC 3339.
    #[arg(long, value_name = "TIME")]
    pub start: String,
    /// Minutes (default: the current length).
    #[arg(long, value_name = "MIN", allow_negative_numbers = true)]
    pub duration: Option<i64>,
    /// Move to another vet of the same clinic.
    #[arg(long)]
    pub vet: Option<String>,
    /// A note for the history (free text).
    #[arg(long)]
    pub note: Option<String>,
    #[command(flatten)]
    pub version: ExpectVersion,
}

#[derive(Debug, Args)]
pub struct AppointmentsArgs {
    /// Only these statuses (repeat, or a comma list).
    #[arg(long = "status", value_delimiter = ',', value_name = "STATUS")]
    pub statuses: Vec<String>,
    /// The clinic (id or part of the name).
    #[arg(long)]
    pub clinic: Option<String>,
    /// The vet (id or part of the name).
    #[arg(long)]
    pub vet: Option<String>,
    /// The owner (id or a name that matches one owner).
    #[arg(long)]
    pub client: Option<String>,
    /// The pet (id or a name that matches one pet).
    #[arg(long)]
    pub pet: Option<String>,
    /// Starting on or after this date (the clinic's local date with --clinic, else UTC).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Starting on or before this date (inclusive).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Part of the pet's or the owner's name.
    #[arg(long)]
    pub search: Option<String>,
    /// Page size (default 50).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Skip this many.
    #[arg(long, default_value_t = 0)]
    pub offset: u32,
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_channel_setting_has_its_flag() {
        let cli = Cli::command();
        for command in ["worker", "serve"] {
            let sub = cli.find_subcommand(command).expect(command);
            for setting in vetdesk_notify::Setting::ALL {
                let flag = setting.flag().trim_start_matches("--");
                assert!(
                    sub.get_arguments().any(|a| a.get_long() == Some(flag)),
                    "{command} has no --{flag}"
                );
            }
        }
    }
}
