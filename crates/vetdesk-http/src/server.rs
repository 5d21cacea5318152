//! Serving the router on a socket, with the limits a server on a clinic
//! network needs: a deadline for a request's headers (hyper's, on its tokio
//! timer, so a slow-loris client is cut off), a cap on open connections
//! (the rest wait in the listen backlog), and — in [`crate::router_with`] — a
//! deadline for the whole request and between the chunks of its body.
//!
//! hyper's own refusals of requests it cannot parse leave as problem
//! documents too ([`crate::parse_error`]).
//!
//! With a certificate ([`crate::tls`]) each connection is TLS first: the
//! handshake runs in the connection's own task under the header deadline, so a
//! client that stalls it gives its slot back, and the problem-document swap
//! sits above TLS (`ProblemIo<TlsStream<TcpStream>>`), on the plain text.
//!
//! HTTP/1.1 only: browsers speak it over TLS and plain HTTP alike, and a TLS
//! proxy in front may speak HTTP/2 to them.

use crate::client::{SignInRate, TrustedProxies};
use crate::parse_error::ProblemIo;
use crate::tls::ServerTls;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How long and how much a client may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From the first byte of a request (or an idle kept-alive connection's
    /// wait) to the end of its headers.
    pub header_timeout: Duration,
    /// From the headers to the response's headers (the body read included;
    /// an event stream's events are not).
    pub request_timeout: Duration,
    /// The longest pause between two chunks of a request's body.
    pub body_timeout: Duration,
    /// Connections served at once; further ones wait to be accepted.
    pub max_connections: usize,
    /// How long stopping waits for requests in flight (open event streams never end).
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Everything `vetdesk serve` may tune about the HTTP server.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// Whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// How often one address may try to sign in.
    pub sign_in_rate: SignInRate,
    pub limits: Limits,
    /// HTTPS with this certificate; plain HTTP without one.
    pub tls: Option<ServerTls>,
}

/// Serve `router` on `addr` (over TLS when `tls` is given) until Ctrl-C or
/// SIGTERM; `on_listen` hears the bound address (useful with port 0).
pub async fn serve_router(
    router: Router,
    addr: SocketAddr,
    limits: Limits,
    tls: Option<ServerTls>,
    on_listen: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    on_listen(listener.local_addr()?);
    serve_listener(listener, router, limits, tls, stop_signal()).await
}

/// Serve `router` on a bound listener until `shutdown` completes, then give
/// requests in flight `limits.shutdown_grace` to finish.
pub async fn serve_listener(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            },
        );
        let service = TowerToHyperService::new(service);
        let (http, watcher, tls) = (http.clone(), graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => serve_connection(&http, watcher, stream, service, peer).await,
                Some(tls) => {
                    let handshake = tls.acceptor().accept(stream);
                    match tokio::time::timeout(limits.header_timeout, handshake).await {
                        Ok(Ok(stream)) => {
                            serve_connection(&http, watcher, stream, service, peer).await
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, %peer, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {}
    }
    Ok(())
}

/// HTTP/1.1 on one connection, plain or TLS, until it closes or shutdown ends it.
async fn serve_connection<I, S>(
    http: &hyper::server::conn::http1::Builder,
    watcher: Watcher,
    stream: I,
    service: S,
    peer: SocketAddr,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::ResBody: 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let io = TokioIo::new(ProblemIo::new(stream));
    if let Err(e) = watcher.watch(http.serve_connection(io, service)).await {
        tracing::debug!(error = %e, %peer, "connection closed");
    }
}

/// Ctrl-C, or SIGTERM from a service manager (`vetdesk worker` stops on it too).
pub async fn stop_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
