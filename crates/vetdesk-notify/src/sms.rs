//! SMS through a Twilio-compatible Messages endpoint with reqwest (rustls):
//! `POST {base}/2010-04-01/Accounts/{account}/Messages.json`, HTTP Basic
//! `account:token`, a form with `To`, `From` and `Body`, and the idempotency
//! key in `I-Twilio-Idempotency-Token` so a gateway that honours it drops a
//! repeat of the message in flight when a worker died.

use crate::channel::{Channel, Delivery, SendError};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::time::Duration;
use vetdesk_app::Outgoing;

/// The header that carries the idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "I-Twilio-Idempotency-Token";

#[derive(Clone)]
pub struct SmsConfig {
    /// `https://api.twilio.com`, or a compatible gateway.
    pub base_url: String,
    pub account: String,
    pub token: SecretString,
    /// The sending number (or messaging service id).
    pub from: String,
    pub timeout: Duration,
}

impl fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsConfig")
            .field("base_url", &self.base_url)
            .field("account", &self.account)
            .field("token", &"[redacted]")
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why the SMS channel cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SmsSetupError {
    #[error("the SMS gateway URL '{url}' is not a URL: {reason}")]
    NotAUrl { url: String, reason: String },
    /// The token and the owners' numbers would cross the network in clear.
    #[error("the SMS gateway URL '{url}' must start with https:// (http:// only to this machine: localhost, 127.0.0.1 or ::1)")]
    NotHttps { url: String },
    #[error("cannot set up the SMS client: {0}")]
    Client(String),
}

/// Is `url` one the channel may post to: https, or http to a loopback host?
pub(crate) fn check_gateway(base: &str) -> Result<(), SmsSetupError> {
    let url = reqwest::Url::parse(base).map_err(|e| SmsSetupError::NotAUrl {
        url: base.to_string(),
        reason: e.to_string(),
    })?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(SmsSetupError::NotHttps {
            url: base.to_string(),
        }),
    }
}

pub struct SmsChannel {
    config: SmsConfig,
    url: String,
    http: reqwest::Client,
}

impl SmsChannel {
    pub fn new(config: SmsConfig) -> Result<Self, SmsSetupError> {
        let base = config.base_url.trim_end_matches('/');
        check_gateway(base)?;
        let url = format!(
            "{base}/2010-04-01/Accounts/{}/Messages.json",
            config.account
        );
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent("vetdesk")
            .build()
            .map_err(|e| SmsSetupError::Client(e.to_string()))?;
        Ok(SmsChannel { config, url, http })
    }
}

#[async_trait]
impl Channel for SmsChannel {
    async fn send(&self, m: &Outgoing) -> Result<Delivery, SendError> {
        let form = [
            ("To", m.to.address.as_str()),
            ("From", self.config.from.as_str()),
            ("Body", m.rendered.text.as_str()),
        ];
        let reply = self
            .http
            .post(&self.url)
            .basic_auth(
                &self.config.account,
                Some(self.config.token.expose_secret()),
            )
            .header(IDEMPOTENCY_HEADER, &m.key)
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    SendError::Transient(format!(
                        "the SMS gateway did not answer within {} s",
                        self.config.timeout.as_secs_f32()
                    ))
                } else {
                    SendError::Transient(format!("the SMS gateway could not be reached: {e}"))
                }
            })?;
        let status = reply.status();
        let body: serde_json::Value = reply.json().await.unwrap_or(serde_json::Value::Null);
        if status.is_success() {
            return Ok(Delivery {
                provider_id: body.get("sid").and_then(|s| s.as_str()).map(str::to_string),
            });
        }
        let detail = body
            .get("message")
            .and_then(|s| s.as_str())
            .unwrap_or("no detail");
        let text = format!("the SMS gateway answered {status}: {detail}");
        if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            Err(SendError::Transient(text))
        } else {
            Err(SendError::Permanent(text))
        }
    }
}
