//! Real network peers on loopback for vetdesk's tests, so nothing extra has to
//! be installed: an SMTP server that speaks enough ESMTP for a real client
//! (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps what
//! it accepts, and an HTTP server that stands in for a Twilio-compatible SMS
//! gateway. Both can be told to refuse (temporarily or for good) or to stall.
//!
//! The SMTP server can also speak TLS, as STARTTLS or from the first byte
//! (implicit TLS), with a certificate from a certificate authority made for the
//! test ([`TestPki`]), so a client's certificate checks are exercised for real.
#![allow(clippy::missing_panics_doc)]

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::Engine;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How a peer answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Accept,
    /// SMTP 451 at MAIL FROM; HTTP 500.
    RefuseTemporarily,
    /// SMTP 550 at MAIL FROM; HTTP 400.
    RefusePermanently,
    /// Never answer (the client's timeout must fire).
    Stall,
}

/// One message the SMTP server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent (headers and body), dot-stuffing undone.
    pub data: String,
    pub connection: u64,
    pub authenticated_as: Option<String>,
    /// The TLS version the message travelled under (`TLSv1_3`), `None` in clear.
    pub tls: Option<String>,
    pub at: Instant,
}

impl Received {
    /// A header's value, unfolded (the first one of that name).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut found: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(v) = found.as_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case(name) {
                    found = Some(v.trim().to_string());
                }
            }
        }
        found
    }

    pub fn message_id(&self) -> Option<String> {
        self.header("Message-ID")
    }
}

#[derive(Default)]
struct SinkState {
    received: Vec<Received>,
    commands: Vec<Command>,
    tls_failures: u64,
    accepting: Option<AcceptHook>,
}

/// Runs when a message has been read in full and kept, before the server
/// answers that it took it (with how many it holds now).
pub type AcceptHook = Arc<
    dyn Fn(usize) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync,
>;

/// One command line the SMTP server read (AUTH arguments left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub connection: u64,
    /// The verb, upper case (`EHLO`, `STARTTLS`, `MAIL`, …).
    pub verb: String,
    /// Whether it arrived inside TLS.
    pub tls: bool,
}

/// A certificate authority made for one test, and a server certificate it
/// signed for `localhost` and `127.0.0.1`.
pub struct TestPki {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

impl TestPki {
    /// A new authority (`common_name` names it) and its server certificate.
    pub fn new(common_name: &str) -> TestPki {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType,
        };
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, common_name);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).expect("a CA certificate");

        let key = KeyPair::generate().expect("a server key");
        let mut leaf = CertificateParams::new(Vec::<String>::new()).expect("server parameters");
        leaf.distinguished_name
            .push(DnType::CommonName, "vetdesk-test-peers");
        leaf.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().expect("a DNS name")),
            SanType::IpAddress(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
        ];
        let cert = leaf
            .signed_by(&key, &ca_cert, &ca_key)
            .expect("a server certificate");

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone(), ca_cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .expect("a TLS server configuration");
        TestPki {
            ca_pem: ca_cert.pem(),
            server: Arc::new(server),
        }
    }

    /// The authority's certificate, PEM: what a client must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Write the authority's certificate to `dir/ca.pem` and return the path.
    pub fn write_ca(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem).expect("write ca.pem");
        path
    }
}

/// Whether and how the SMTP server speaks TLS.
#[derive(Clone, Default)]
pub enum SinkTls {
    /// Clear text only; STARTTLS is not offered.
    #[default]
    Off,
    /// Clear text, upgraded when the client says STARTTLS (offered in EHLO).
    StartTls(Arc<rustls::ServerConfig>),
    /// TLS from the first byte.
    Implicit(Arc<rustls::ServerConfig>),
}

impl SinkTls {
    pub fn starttls(pki: &TestPki) -> SinkTls {
        SinkTls::StartTls(pki.server.clone())
    }
    pub fn implicit(pki: &TestPki) -> SinkTls {
        SinkTls::Implicit(pki.server.clone())
    }
}

/// How an [`SmtpSink`] is set up.
#[derive(Clone, Default)]
pub struct SinkOptions {
    /// Refuse MAIL until the client signs in with this username and password.
    /// With TLS on, AUTH is offered only inside TLS, as real servers do.
    pub auth: Option<(String, String)>,
    pub tls: SinkTls,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An SMTP server on 127.0.0.1, on a port of its own.
pub struct SmtpSink {
    pub addr: SocketAddr,
    state: Arc<Mutex<SinkState>>,
    behaviour: Arc<Mutex<Behaviour>>,
    connections: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    /// Start accepting in clear; with `auth`, MAIL is refused until the client signs in with it.
    pub async fn start(auth: Option<(&str, &str)>) -> SmtpSink {
        SmtpSink::start_with(SinkOptions {
            auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
            tls: SinkTls::Off,
        })
        .await
    }

    /// Start accepting with the given options.
    pub async fn start_with(options: SinkOptions) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind an SMTP port");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(SinkState::default()));
        let behaviour = Arc::new(Mutex::new(Behaviour::Accept));
        let connections = Arc::new(AtomicU64::new(0));
        let (s, b, c) = (state.clone(), behaviour.clone(), connections.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let n = c.fetch_add(1, Ordering::SeqCst) + 1;
                let (s, b, options) = (s.clone(), b.clone(), options.clone());
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    let _ = session(stream, n, s, b, options).await;
                });
            }
        });
        SmtpSink {
            addr,
            state,
            behaviour,
            connections,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn set_behaviour(&self, b: Behaviour) {
        *lock(&self.behaviour) = b;
    }

    pub fn received(&self) -> Vec<Received> {
        lock(&self.state).received.clone()
    }

    pub fn count(&self) -> usize {
        lock(&self.state).received.len()
    }

    /// Every command line read so far, in order.
    pub fn commands(&self) -> Vec<Command> {
        lock(&self.state).commands.clone()
    }

    /// TLS handshakes that failed (e.g. the client refused the certificate).
    pub fn tls_failures(&self) -> u64 {
        lock(&self.state).tls_failures
    }

    /// Connections opened so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    /// Run `hook` each time a message has arrived, before the client is
    /// told it was taken: the moment between a send and its record, for a
    /// test to do something in (the client waits for it).
    pub fn before_accepting(&self, hook: AcceptHook) {
        lock(&self.state).accepting = Some(hook);
    }

    /// Wait until at least `n` messages arrived (or `within` passes); returns how many did.
    pub async fn wait_for(&self, n: usize, within: Duration) -> usize {
        let until = Instant::now() + within;
        loop {
            let got = self.count();
            if got >= n || Instant::now() >= until {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn handshake(
    config: &Arc<rustls::ServerConfig>,
    io: Box<dyn Io>,
    state: &Arc<Mutex<SinkState>>,
) -> std::io::Result<(Box<dyn Io>, String)> {
    match TlsAcceptor::from(config.clone()).accept(io).await {
        Ok(tls) => {
            let version = tls
                .get_ref()
                .1
                .protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default();
            Ok((Box::new(tls), version))
        }
        Err(e) => {
            lock(state).tls_failures += 1;
            Err(e)
        }
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    connection: u64,
    state: Arc<Mutex<SinkState>>,
    behaviour: Arc<Mutex<Behaviour>>,
    options: SinkOptions,
) -> std::io::Result<()> {
    let auth = options.auth.clone();
    let mut tls: Option<String> = None;
    let mut io: Box<dyn Io> = Box::new(stream);
    if let SinkTls::Implicit(config) = &options.tls {
        let (upgraded, version) = handshake(config, io, &state).await?;
        io = upgraded;
        tls = Some(version);
    }
    let mut r = BufReader::new(io);
    r.write_all(b"220 vetdesk-test-peers ESMTP ready\r\n")
        .await?;
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut user: Option<String> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        lock(&state).commands.push(Command {
            connection,
            verb: upper.split_whitespace().next().unwrap_or("").to_string(),
            tls: tls.is_some(),
        });
        let starttls_offered = matches!(options.tls, SinkTls::StartTls(_)) && tls.is_none();
        // With TLS configured, sign-in is offered only inside it.
        let auth_offered = auth.is_some() && (tls.is_some() || matches!(options.tls, SinkTls::Off));
        let reply: String = if upper.starts_with("EHLO") {
            let mut s = String::from("250-vetdesk-test-peers\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n");
            if starttls_offered {
                s.push_str("250-STARTTLS\r\n");
            }
            if auth_offered {
                s.push_str("250-AUTH PLAIN LOGIN\r\n");
            }
            s.push_str("250 SIZE 10485760\r\n");
            s
        } else if upper.starts_with("HELO") {
            "250 vetdesk-test-peers\r\n".into()
        } else if upper == "STARTTLS" {
            match (&options.tls, starttls_offered) {
                (SinkTls::StartTls(config), true) => {
                    r.write_all(b"220 2.0.0 ready to start TLS\r\n").await?;
                    r.flush().await?;
                    let (upgraded, version) = handshake(config, r.into_inner(), &state).await?;
                    r = BufReader::new(upgraded);
                    tls = Some(version);
                    // RFC 3207: forget everything said in clear.
                    from.clear();
                    to.clear();
                    user = None;
                    continue;
                }
                _ => "502 5.5.1 STARTTLS not offered\r\n".into(),
            }
        } else if upper.starts_with("AUTH") && !auth_offered {
            "503 5.5.1 AUTH not offered here\r\n".into()
        } else if upper.starts_with("AUTH PLAIN") {
            let initial = cmd.get(10..).map(str::trim).unwrap_or("");
            let blob = if initial.is_empty() {
                r.write_all(b"334 \r\n").await?;
                r.flush().await?;
                line.clear();
                r.read_line(&mut line).await?;
                line.trim().to_string()
            } else {
                initial.to_string()
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(blob.as_bytes())
                .unwrap_or_default();
            let parts: Vec<String> = decoded
                .split(|b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            match (&auth, parts.as_slice()) {
                (Some((u, p)), [_, gu, gp]) if gu == u && gp == p => {
                    user = Some(u.clone());
                    "235 2.7.0 authenticated\r\n".into()
                }
                _ => "535 5.7.8 authentication failed\r\n".into(),
            }
        } else if upper.starts_with("AUTH LOGIN") {
            let b64 = base64::engine::general_purpose::STANDARD;
            r.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
            r.flush().await?;
            line.clear();
            r.read_line(&mut line).await?;
            let gu =
                String::from_utf8_lossy(&b64.decode(line.trim()).unwrap_or_default()).into_owned();
            r.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
            r.flush().await?;
            line.clear();
            r.read_line(&mut line).await?;
            let gp =
                String::from_utf8_lossy(&b64.decode(line.trim()).unwrap_or_default()).into_owned();
            match &auth {
                Some((u, p)) if &gu == u && &gp == p => {
                    user = Some(u.clone());
                    "235 2.7.0 authenticated\r\n".into()
                }
                _ => "535 5.7.8 authentication failed\r\n".into(),
            }
        } else if upper.starts_with("MAIL FROM:") {
            let b = *lock(&behaviour);
            match b {
                _ if auth.is_some() && user.is_none() => {
                    "530 5.7.0 authentication required\r\n".into()
                }
                Behaviour::RefuseTemporarily => {
                    "451 4.3.0 mailbox temporarily unavailable, try later\r\n".into()
                }
                Behaviour::RefusePermanently => "550 5.7.1 relaying refused\r\n".into(),
                Behaviour::Stall => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return Ok(());
                }
                Behaviour::Accept => {
                    from = addr_of(&cmd[10..]);
                    to.clear();
                    "250 2.1.0 sender ok\r\n".into()
                }
            }
        } else if upper.starts_with("RCPT TO:") {
            to.push(addr_of(&cmd[8..]));
            "250 2.1.5 recipient ok\r\n".into()
        } else if upper == "DATA" {
            r.write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            r.flush().await?;
            let mut data = Vec::new();
            loop {
                let mut l = Vec::new();
                let n = r.read_until(b'\n', &mut l).await?;
                if n == 0 {
                    return Ok(());
                }
                if l == b".\r\n" || l == b".\n" {
                    break;
                }
                let body = if l.starts_with(b"..") {
                    &l[1..]
                } else {
                    &l[..]
                };
                data.extend_from_slice(body);
            }
            let mut text = String::from_utf8_lossy(&data).into_owned();
            if text.ends_with("\r\n") {
                text.truncate(text.len() - 2);
            }
            let n = {
                let mut st = lock(&state);
                st.received.push(Received {
                    mail_from: std::mem::take(&mut from),
                    rcpt_to: std::mem::take(&mut to),
                    data: text,
                    connection,
                    authenticated_as: user.clone(),
                    tls: tls.clone(),
                    at: Instant::now(),
                });
                (st.received.len(), st.accepting.clone())
            };
            let (n, hook) = n;
            if let Some(hook) = hook {
                hook(n).await;
            }
            format!("250 2.0.0 queued as {n}\r\n")
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            "250 2.0.0 reset\r\n".into()
        } else if upper == "NOOP" {
            "250 2.0.0 ok\r\n".into()
        } else if upper == "QUIT" {
            r.write_all(b"221 2.0.0 bye\r\n").await?;
            r.flush().await?;
            return Ok(());
        } else {
            "502 5.5.2 command not recognised\r\n".into()
        };
        r.write_all(reply.as_bytes()).await?;
        r.flush().await?;
    }
}

fn addr_of(raw: &str) -> String {
    let raw = raw.trim();
    match (raw.find('<'), raw.find('>')) {
        (Some(a), Some(b)) if b > a => raw[a + 1..b].to_string(),
        _ => raw.split_whitespace().next().unwrap_or("").to_string(),
    }
}

// ---------- the SMS gateway ----------

/// One request the SMS gateway received.
#[derive(Debug, Clone)]
pub struct SmsRequest {
    pub account: String,
    /// The `Authorization` header as sent.
    pub authorization: Option<String>,
    pub idempotency_key: Option<String>,
    pub form: HashMap<String, String>,
    /// The status the gateway answered with.
    pub status: u16,
    pub at: Instant,
}

#[derive(Clone)]
struct GatewayState {
    requests: Arc<Mutex<Vec<SmsRequest>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    account: String,
    token: String,
    seq: Arc<AtomicU64>,
}

/// An HTTP server on 127.0.0.1 answering
/// `POST /2010-04-01/Accounts/{account}/Messages.json` like Twilio does.
pub struct SmsGateway {
    pub addr: SocketAddr,
    state: GatewayState,
    task: JoinHandle<()>,
}

impl Drop for SmsGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmsGateway {
    /// Start a gateway that accepts HTTP Basic `account:token`.
    pub async fn start(account: &str, token: &str) -> SmsGateway {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a gateway port");
        let addr = listener.local_addr().expect("local address");
        let state = GatewayState {
            requests: Arc::new(Mutex::new(Vec::new())),
            behaviour: Arc::new(Mutex::new(Behaviour::Accept)),
            account: account.to_string(),
            token: token.to_string(),
            seq: Arc::new(AtomicU64::new(0)),
        };
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Messages.json",
                post(create_message),
            )
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        SmsGateway { addr, state, task }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_behaviour(&self, b: Behaviour) {
        *lock(&self.state.behaviour) = b;
    }

    pub fn requests(&self) -> Vec<SmsRequest> {
        lock(&self.state.requests).clone()
    }

    /// Requests it answered with success.
    pub fn accepted(&self) -> Vec<SmsRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.status == 201)
            .collect()
    }
}

async fn create_message(
    State(st): State<GatewayState>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> impl IntoResponse {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", st.account, st.token))
    );
    let b = *lock(&st.behaviour);
    if b == Behaviour::Stall {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let (status, body) = if authorization.as_deref() != Some(expected.as_str())
        || account != st.account
    {
        (
            StatusCode::UNAUTHORIZED,
            serde_json::json!({"code": 20003, "message": "Authenticate", "status": 401}),
        )
    } else {
        match b {
            Behaviour::RefuseTemporarily => (
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({"code": 20500, "message": "Internal Server Error", "status": 500}),
            ),
            Behaviour::RefusePermanently => (
                StatusCode::BAD_REQUEST,
                serde_json::json!({"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}),
            ),
            _ => {
                let n = st.seq.fetch_add(1, Ordering::SeqCst) + 1;
                (
                    StatusCode::CREATED,
                    serde_json::json!({
                        "sid": format!("SM{n:032x}"),
                        "status": "queued",
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "body": form.get("Body"),
                    }),
                )
            }
        }
    };
    lock(&st.requests).push(SmsRequest {
        account,
        authorization,
        idempotency_key: headers
            .get("i-twilio-idempotency-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        form,
        status: status.as_u16(),
        at: Instant::now(),
    });
    (status, Json(body))
}
