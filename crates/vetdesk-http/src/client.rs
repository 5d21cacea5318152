//! Who the client is: its address (through trusted proxies only), and the
//! per-address rate limit on signing in (`tower_governor`).
//!
//! `X-Forwarded-For` is believed only when the connection comes from a
//! configured trusted proxy; otherwise anyone could name any address and
//! dodge the per-address limits. Addresses are limited by their group
//! ([`vetdesk_app::address_group`]: IPv6 by /64).

use crate::error::Problem;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};
use vetdesk_app::address_group;

/// The client's network address, when the server knows it: the peer, or the
/// address a trusted proxy forwarded for. Put in each request's extensions by
/// [`TrustedProxies::middleware`]; handlers take it as an extractor.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientAddr>()
            .copied()
            .unwrap_or(ClientAddr(None)))
    }
}

/// A `--trusted-proxy` that is neither an address nor a network.
#[derive(Debug, thiserror::Error)]
#[error("trusted proxy {0:?} is not an address or a network such as 10.0.0.0/8 or fd00::/8")]
pub struct BadProxy(pub String);

/// The proxies whose `X-Forwarded-For` is believed (addresses or networks).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Addresses or networks, separated by commas or spaces (`127.0.0.1, 10.0.0.0/8`).
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, BadProxy> {
        let mut nets = Vec::new();
        for item in items
            .into_iter()
            .flat_map(|s| s.split([',', ' ']))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let net = match item.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => IpNet::from(
                    item.parse::<IpAddr>()
                        .map_err(|_| BadProxy(item.to_string()))?,
                ),
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = address_of_mapped(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: `peer` itself unless it is a trusted proxy;
    /// then, walking `X-Forwarded-For` from the right (the nearest hop), the
    /// first address that is not a trusted proxy. An entry that is not an
    /// address stops the walk at the hop that wrote it.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer;
        if !self.trusts(peer) {
            return client;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.into_iter().rev() {
            let Some(ip) = parse_hop(hop) else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }

    /// Middleware: put the request's [`ClientAddr`] in its extensions.
    pub async fn middleware(proxies: Arc<Self>, mut req: Request, next: Next) -> Response {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let client = peer.map(|p| proxies.client_of(p, req.headers()));
        req.extensions_mut().insert(ClientAddr(client));
        next.run(req).await
    }
}

fn address_of_mapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// `203.0.113.7`, `2001:db8::1`, or either with a port (`[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(address_of_mapped)
}

/// How often one address may try to sign in: `burst` at once, then one more
/// every `every`. Failed attempts are limited further by the application.
#[derive(Debug, Clone, Copy)]
pub struct SignInRate {
    pub burst: NonZeroU32,
    pub every: Duration,
}

impl Default for SignInRate {
    fn default() -> Self {
        SignInRate {
            burst: NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN),
            every: Duration::from_secs(2),
        }
    }
}

/// The rate limiter's key: the client's address group.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientGroup;

impl KeyExtractor for ClientGroup {
    type Key = IpAddr;

    fn extract<T>(&self, req: &axum::http::Request<T>) -> Result<IpAddr, GovernorError> {
        Ok(req
            .extensions()
            .get::<ClientAddr>()
            .and_then(|c| c.0)
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), address_group))
    }
}

/// The per-address sign-in limit as a layer (for the sign-in route), or
/// `None` for a rate governor cannot express. Its keys are forgotten once
/// their address has been quiet long enough to be back to a full burst.
pub(crate) fn sign_in_limit(rate: SignInRate) -> Option<SignInLimit> {
    let config = GovernorConfigBuilder::default()
        .period(rate.every.max(Duration::from_millis(1)))
        .burst_size(rate.burst.get())
        .key_extractor(ClientGroup)
        .finish()?;
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let limiter = Arc::downgrade(config.limiter());
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                let Some(limiter) = limiter.upgrade() else {
                    break;
                };
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        });
    }
    Some(GovernorLayer::new(config).error_handler(too_many))
}

/// The sign-in route's rate-limit layer.
pub(crate) type SignInLimit =
    GovernorLayer<ClientGroup, governor::middleware::NoOpMiddleware, axum::body::Body>;

fn too_many(e: GovernorError) -> Response {
    match e {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let wait = wait_time.max(1);
            let mut p = Problem::new(
                StatusCode::TOO_MANY_REQUESTS.as_u16(),
                vetdesk_app::ErrorCode::TooManyAttempts.as_str(),
                "Too many sign-in attempts",
                format!("too many sign-in attempts from this address; try again in {wait} seconds"),
            );
            p.retry_after = Some(wait);
            crate::error::respond(p)
        }
        other => crate::error::ApiError::App(vetdesk_app::AppError::Internal(format!(
            "the sign-in rate limit failed: {other}"
        )))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            if let Ok(v) = v.parse() {
                h.append("x-forwarded-for", v);
            }
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let none = TrustedProxies::default();
        let h = headers(&["203.0.113.7"]);
        assert_eq!(none.client_of(ip("127.0.0.1"), &h), ip("127.0.0.1"));
        let proxy = TrustedProxies::parse(["10.0.0.0/8"]).expect("parses");
        assert_eq!(proxy.client_of(ip("192.0.2.1"), &h), ip("192.0.2.1"));
        assert_eq!(proxy.client_of(ip("10.1.2.3"), &h), ip("203.0.113.7"));
    }

    #[test]
    fn the_client_is_the_nearest_hop_no_trusted_proxy_wrote() {
        let proxies = TrustedProxies::parse(["127.0.0.1, 10.0.0.1", "fd00::/8"]).expect("parses");
        // A client naming itself 1.1.1.1 cannot hide behind that: the proxy appended the real one.
        let h = headers(&["1.1.1.1, 198.51.100.9", "10.0.0.1"]);
        assert_eq!(proxies.client_of(ip("127.0.0.1"), &h), ip("198.51.100.9"));
        assert_eq!(
            proxies.client_of(ip("::ffff:127.0.0.1"), &headers(&["[2001:db8::5]:443"])),
            ip("2001:db8::5")
        );
        // Garbage stops the walk at the hop that wrote it.
        assert_eq!(
            proxies.client_of(ip("127.0.0.1"), &headers(&["198.51.100.9, nonsense"])),
            ip("127.0.0.1")
        );
        // No header: the proxy itself.
        assert_eq!(
            proxies.client_of(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn a_proxy_that_is_not_an_address_is_refused() {
        assert!(TrustedProxies::parse(["proxy.example"]).is_err());
        assert!(TrustedProxies::parse(["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse([""]).is_ok_and(|p| p.is_empty()));
    }
}
