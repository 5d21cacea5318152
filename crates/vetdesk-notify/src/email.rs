//! Email over SMTP with lettre: plain (loopback relays), STARTTLS or implicit
//! TLS (rustls), optional AUTH; a text and an HTML body; the `.ics` entry as an
//! attachment; and a `Message-ID` made from the idempotency key, so a message
//! sent twice (the one in flight when a worker died) is recognisable as one.
//!
//! The worker sends one message at a time, so the channel keeps one SMTP
//! connection and reuses it (reconnecting after an error or a long idle), which
//! is what makes a burst of thousands fast (BENCHMARKS.md).

use crate::channel::{Channel, Delivery, SendError};
use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::Message;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use vetdesk_app::Outgoing;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// None: only for a relay on the same machine or a trusted network.
    Plain,
    /// Plain, then upgraded with STARTTLS (usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl Security {
    /// The usual port: 25 plain, 587 STARTTLS, 465 TLS.
    pub fn default_port(self) -> u16 {
        match self {
            Security::Plain => 25,
            Security::StartTls => 587,
            Security::Tls => 465,
        }
    }
}

impl FromStr for Security {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "plain" | "none" => Ok(Security::Plain),
            "starttls" => Ok(Security::StartTls),
            "tls" | "ssl" | "implicit" => Ok(Security::Tls),
            other => Err(format!(
                "'{other}' is not an SMTP security mode (plain, starttls, tls)"
            )),
        }
    }
}

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The sender, e.g. `Riverside Vets <reminders@riverside.example>`.
    pub from: String,
    /// The longest one message may take, connecting included.
    pub timeout: Duration,
    /// Keep one connection open across messages (else one per message).
    pub reuse_connection: bool,
    /// A PEM file of extra certificate authorities to trust besides the
    /// public ones (a clinic's own CA for its mail server).
    pub ca_file: Option<PathBuf>,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .field("reuse_connection", &self.reuse_connection)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// A connection idle this long is replaced rather than trusted.
const MAX_IDLE: Duration = Duration::from_secs(30);

pub struct EmailChannel {
    config: SmtpConfig,
    from: Mailbox,
    /// The domain of `Message-ID`s: the sender's.
    domain: String,
    hello: ClientId,
    /// The extra authorities of `ca_file`, read once.
    extra_roots: Option<Certificate>,
    connection: Mutex<Option<(AsyncSmtpConnection, Instant)>>,
}

/// The certificates of a PEM file, refused unless it holds at least one.
pub(crate) fn read_ca_file(path: &std::path::Path) -> Result<Certificate, String> {
    let pem = std::fs::read(path).map_err(|e| {
        format!(
            "cannot read the SMTP certificate authority file {}: {e}",
            path.display()
        )
    })?;
    use rustls_pki_types::pem::PemObject;
    let parsed: Result<Vec<_>, _> =
        rustls_pki_types::CertificateDer::pem_slice_iter(&pem).collect();
    match parsed {
        Ok(certs) if !certs.is_empty() => {}
        _ => {
            return Err(format!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            ))
        }
    }
    Certificate::from_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))
}

impl EmailChannel {
    pub fn new(config: SmtpConfig) -> Result<Self, String> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| format!("the sender '{}' is not an email address: {e}", config.from))?;
        let domain = from.email.domain().to_string();
        if config.username.is_some() && config.password.is_none() {
            return Err(
                "an SMTP username needs a password (VETDESK_SMTP_PASSWORD or the keyring)".into(),
            );
        }
        if config.ca_file.is_some() && config.security == Security::Plain {
            return Err(
                "an SMTP certificate authority file needs TLS (--smtp-security starttls or tls)"
                    .into(),
            );
        }
        let extra_roots = config.ca_file.as_deref().map(read_ca_file).transpose()?;
        Ok(EmailChannel {
            config,
            from,
            domain,
            hello: ClientId::Domain("vetdesk.localhost".into()),
            extra_roots,
            connection: Mutex::new(None),
        })
    }

    /// The `Message-ID` of a message: its idempotency key at the sender's domain.
    pub fn message_id(&self, key: &str) -> String {
        format!("<{key}@{}>", self.domain)
    }

    /// The whole message as it goes on the wire.
    pub fn build(&self, m: &Outgoing) -> Result<Message, SendError> {
        let to: Mailbox = format!("{} <{}>", quote_name(&m.to.name), m.to.address)
            .parse()
            .or_else(|_| m.to.address.parse())
            .map_err(|e| {
                SendError::Permanent(format!("'{}' is not an email address: {e}", m.to.address))
            })?;
        let subject = m.rendered.subject.clone().unwrap_or_default();
        let text = m.rendered.text.clone();
        let body = match &m.rendered.html {
            Some(html) => MultiPart::alternative_plain_html(text, html.clone()),
            None => MultiPart::mixed().singlepart(SinglePart::plain(text)),
        };
        let body = match &m.ics {
            Some(ics) => {
                let method = if ics.contains("\r\nMETHOD:CANCEL\r\n") {
                    "CANCEL"
                } else {
                    "REQUEST"
                };
                let kind =
                    ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                        .map_err(|e| SendError::Permanent(e.to_string()))?;
                MultiPart::mixed()
                    .multipart(body)
                    .singlepart(Attachment::new("appointment.ics".into()).body(ics.clone(), kind))
            }
            None => body,
        };
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(self.message_id(&m.key)))
            .user_agent("vetdesk".into())
            .multipart(body)
            .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let c = &self.config;
        let tls = || {
            let mut builder = TlsParameters::builder(c.host.clone());
            if let Some(roots) = &self.extra_roots {
                builder = builder.add_root_certificate(roots.clone());
            }
            builder.build_rustls().map_err(classify)
        };
        let mut conn = match c.security {
            Security::Tls => AsyncSmtpConnection::connect_tokio1(
                (c.host.as_str(), c.port),
                Some(c.timeout),
                &self.hello,
                Some(tls()?),
                None,
            )
            .await
            .map_err(classify)?,
            Security::Plain | Security::StartTls => {
                // Our own socket, to turn Nagle's algorithm off: a message goes
                // out in several small writes, and waiting for the server's
                // delayed ACK between them costs ~40 ms a message.
                let tcp = tokio::time::timeout(
                    c.timeout,
                    tokio::net::TcpStream::connect((c.host.as_str(), c.port)),
                )
                .await
                .map_err(|_| {
                    SendError::Transient(format!(
                        "connecting to the SMTP server {}:{} timed out",
                        c.host, c.port
                    ))
                })?
                .map_err(|e| {
                    SendError::Transient(format!(
                        "cannot connect to the SMTP server {}:{}: {e}",
                        c.host, c.port
                    ))
                })?;
                let _ = tcp.set_nodelay(true);
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello)
                    .await
                    .map_err(classify)?
            }
        };
        if c.security == Security::StartTls {
            // Never fall back to clear text: a server (or someone in the
            // middle) that does not offer STARTTLS gets nothing.
            if !conn.can_starttls() {
                conn.abort().await;
                return Err(SendError::Transient(format!(
                    "the SMTP server {}:{} does not offer STARTTLS; not sending in clear",
                    c.host, c.port
                )));
            }
            conn.starttls(tls()?, &self.hello).await.map_err(classify)?;
        }
        if let (Some(user), Some(password)) = (&c.username, &c.password) {
            let creds = Credentials::new(user.clone(), password.expose_secret().to_string());
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds)
                .await
                .map_err(classify)?;
        }
        Ok(conn)
    }

    async fn deliver(
        &self,
        raw: &[u8],
        envelope: &lettre::address::Envelope,
    ) -> Result<Delivery, SendError> {
        let mut slot = self.connection.lock().await;
        let stale =
            matches!(&*slot, Some((c, used)) if c.has_broken() || used.elapsed() > MAX_IDLE);
        if stale || !self.config.reuse_connection {
            if let Some((mut old, _)) = slot.take() {
                old.abort().await;
            }
        }
        let mut conn = match slot.take() {
            Some((c, _)) => c,
            None => self.connect().await?,
        };
        match conn.send(envelope, raw).await {
            Ok(reply) => {
                let provider_id = reply.message().collect::<Vec<_>>().join(" ");
                if self.config.reuse_connection {
                    *slot = Some((conn, Instant::now()));
                } else {
                    let _ = conn.quit().await;
                }
                Ok(Delivery {
                    provider_id: (!provider_id.is_empty()).then_some(provider_id),
                })
            }
            Err(e) => {
                conn.abort().await;
                Err(classify(e))
            }
        }
    }
}

/// A display name as a quoted string when it needs one.
fn quote_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| !matches!(c, '"' | '\\' | '\r' | '\n'))
        .collect();
    format!("\"{clean}\"")
}

fn classify(e: lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() {
        SendError::Permanent(format!("the SMTP server refused: {e}"))
    } else if e.is_timeout() {
        SendError::Transient(format!("the SMTP server did not answer in time: {e}"))
    } else {
        SendError::Transient(format!("SMTP: {e}"))
    }
}

#[async_trait]
impl Channel for EmailChannel {
    async fn send(&self, m: &Outgoing) -> Result<Delivery, SendError> {
        let message = self.build(m)?;
        let raw = message.formatted();
        let envelope = message.envelope().clone();
        match tokio::time::timeout(self.config.timeout, self.deliver(&raw, &envelope)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                // The connection is in an unknown state: never reuse it.
                if let Ok(mut slot) = self.connection.try_lock() {
                    slot.take();
                }
                Err(SendError::Transient(format!(
                    "the SMTP server did not finish within {} s",
                    self.config.timeout.as_secs_f32()
                )))
            }
        }
    }
}

/// The naive way, kept for the benchmark: a new connection for every message.
pub async fn send_on_new_connection(
    channel: &EmailChannel,
    m: &Outgoing,
) -> Result<Delivery, SendError> {
    let message = channel.build(m)?;
    let mut conn = channel.connect().await?;
    let reply = conn
        .send(message.envelope(), &message.formatted())
        .await
        .map_err(classify)?;
    let _ = conn.quit().await;
    Ok(Delivery {
        provider_id: Some(reply.message().collect::<Vec<_>>().join(" ")),
    })
}
