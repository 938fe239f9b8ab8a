//! Submission-time checks of a job's webhook: the server must have a signing secret, and the
//! target must not be (or resolve to) an internal address unless allowed. The check is
//! repeated at delivery against the addresses actually connected to (DNS rebinding).

use std::net::IpAddr;
use std::time::Duration;

use genonaut_domain::model::{WEBHOOKS_NOT_CONFIGURED, Webhook, refusal};

use crate::error::{ApiError, invalid_message};

/// How long the submission check waits for DNS; an unresolvable host is accepted (and checked
/// again at every delivery).
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

/// Webhook settings of the API.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookSettings {
    /// A signing secret is configured (otherwise jobs asking for a webhook are refused).
    pub enabled: bool,
    /// Internal targets are allowed (`GENONAUT_WEBHOOK_ALLOW_PRIVATE=true`).
    pub allow_private: bool,
}

fn refused(message: impl std::fmt::Display) -> ApiError {
    ApiError::body_value_error(&["webhook"], message)
}

/// Checks that `webhook` may be accepted (422 at `body.webhook` otherwise).
pub async fn check(webhook: &Webhook, settings: WebhookSettings) -> Result<(), ApiError> {
    if !settings.enabled {
        return Err(refused(WEBHOOKS_NOT_CONFIGURED));
    }
    if settings.allow_private {
        return Ok(());
    }
    let target = webhook.target().map_err(|r| refused(invalid_message(&r)))?;
    let addresses: Vec<IpAddr> = match target.literal_ip() {
        Some(ip) => vec![ip],
        None => {
            let lookup = tokio::net::lookup_host((target.host.as_str(), target.port));
            match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
                Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
                _ => Vec::new(),
            }
        }
    };
    match refusal(addresses) {
        Some(message) => Err(refused(message)),
        None => Ok(()),
    }
}
