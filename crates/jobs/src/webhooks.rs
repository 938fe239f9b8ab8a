//! Webhook delivery on the worker side: [`UreqSender`] (the domain's [`HttpSender`] over
//! `ureq`: no redirects, no proxy, a timeout, targets re-checked at connection time) and
//! [`WebhookWorker`], which drains every schema's outbox when an event with a delivery is
//! recorded (the job-event listener's signal) and at least every
//! [`WebhookWorkerConfig::sweep`] (retries that came due, missed notifications).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use genonaut_domain::ErrorChain;
use genonaut_domain::model::{AttemptResult, forbidden_address, forbidden_message};
use genonaut_domain::ports::{HttpSender, QueueSignal, WebhookRequest};
use genonaut_domain::services::{AttemptOutcome, WebhookDeliverer};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// A refused target, raised by the resolver (the request is never sent).
#[derive(Debug)]
struct ForbiddenTarget(String);

impl fmt::Display for ForbiddenTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ForbiddenTarget {}

/// Resolves like the default resolver — except address literals, which need no lookup — then,
/// unless internal targets are allowed, refuses the host if any address is forbidden: the
/// connection goes only to the addresses checked here, so a name that resolved to a public
/// address at submission and to a private one now (DNS rebinding) is not contacted.
#[derive(Debug, Default)]
struct CheckingResolver {
    inner: DefaultResolver,
    /// `GENONAUT_WEBHOOK_ALLOW_PRIVATE`: internal addresses are not refused.
    allow_private: bool,
}

impl Resolver for CheckingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = match literal(uri) {
            Some(addr) => {
                let mut addrs = self.empty();
                addrs.push(addr);
                addrs
            }
            None => self.inner.resolve(uri, config, timeout)?,
        };
        if self.allow_private {
            return Ok(addrs);
        }
        if let Some((ip, why)) = addrs
            .iter()
            .map(SocketAddr::ip)
            .find_map(|ip| forbidden_address(ip).map(|why| (ip, why)))
        {
            return Err(ureq::Error::Other(Box::new(ForbiddenTarget(forbidden_message(
                ip, why,
            )))));
        }
        Ok(addrs)
    }
}

/// The socket address of an address-literal URL (`http://127.0.0.1:8080/…`, `http://[::1]/…`).
/// The default resolver looks those up too, and with a timeout set it does every lookup on a
/// thread of its own — before the pool hands out a kept-alive connection, so one thread was
/// started per delivery.
fn literal(uri: &ureq::http::Uri) -> Option<SocketAddr> {
    let host = uri.host()?;
    let ip: std::net::IpAddr = host.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    let port = uri.port_u16().or(match uri.scheme_str()? {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    })?;
    Some(SocketAddr::new(ip, port))
}

/// The webhook [`HttpSender`] over `ureq`.
#[derive(Clone)]
pub struct UreqSender {
    agent: ureq::Agent,
}

impl UreqSender {
    /// A sender giving up after `timeout`; `allow_private` skips the address check.
    pub fn new(timeout: Duration, allow_private: bool) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .user_agent("genonaut-webhooks")
            // ureq zero-fills its whole output buffer on every request (128 KiB by default:
            // 14,000 instructions a delivery under callgrind); a webhook's headers and body
            // pass through 16 KiB in one or a few writes.
            .output_buffer_size(16 * 1024)
            // Up to `tasks × CONCURRENT_ATTEMPTS` requests are under way at once, often to one
            // host; with ureq's default of 3 idle connections per host the rest were closed
            // after each request and the next delivery connected anew.
            .max_idle_connections(64)
            .max_idle_connections_per_host(32)
            .build();
        let resolver = CheckingResolver {
            allow_private,
            ..CheckingResolver::default()
        };
        UreqSender {
            agent: ureq::Agent::with_parts(config, DefaultConnector::default(), resolver),
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

fn forbidden(e: &ureq::Error) -> Option<String> {
    match e {
        ureq::Error::Other(inner) => inner.downcast_ref::<ForbiddenTarget>().map(|f| f.0.clone()),
        _ => None,
    }
}

#[async_trait]
impl HttpSender for UreqSender {
    async fn send(&self, request: &WebhookRequest) -> AttemptResult {
        let agent = self.agent.clone();
        let request = request.clone();
        let call = tokio::task::spawn_blocking(move || {
            let mut response = agent
                .post(&request.url)
                .header("content-type", "application/json")
                .header("webhook-id", &request.id)
                .header("webhook-timestamp", &request.timestamp.to_string())
                .header("webhook-signature", &request.signature)
                .send(request.body.as_bytes())?;
            let status = response.status().as_u16();
            let retry = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(retry_after);
            // Read (a little of) the body so the connection can be reused.
            let _ = response.body_mut().with_config().limit(64 * 1024).read_to_vec();
            Ok::<_, ureq::Error>((status, retry))
        });
        match call.await {
            Ok(Ok((status, retry_after))) => AttemptResult::Response { status, retry_after },
            Ok(Err(e)) => match forbidden(&e) {
                Some(message) => AttemptResult::Forbidden(message),
                None => AttemptResult::Network(e.to_string()),
            },
            Err(e) => AttemptResult::Network(format!("request task failed: {e}")),
        }
    }
}

/// One schema's outbox deliverer.
#[derive(Clone)]
pub struct WebhookTenant {
    /// Schema name (for logs).
    pub name: String,
    /// Its deliverer.
    pub deliverer: WebhookDeliverer,
}

/// Settings of the delivery loop.
#[derive(Debug, Clone)]
pub struct WebhookWorkerConfig {
    /// Concurrent delivery tasks of this process.
    pub tasks: usize,
    /// Deliveries one task claims at once.
    pub batch: usize,
    /// Longest wait between looks at the outbox without a notification.
    pub sweep: Duration,
}

impl Default for WebhookWorkerConfig {
    fn default() -> Self {
        WebhookWorkerConfig {
            tasks: 2,
            batch: 32,
            sweep: Duration::from_secs(1),
        }
    }
}

/// Delivery counters, for `/metrics`.
#[derive(Clone, Default)]
struct WebhookMetrics {
    /// Deliveries ended, by outcome (delivered, failed).
    deliveries: Family<Vec<(&'static str, &'static str)>, Counter>,
    /// Attempts, by outcome (delivered, failed, retrying).
    attempts: Family<Vec<(&'static str, &'static str)>, Counter>,
}

/// The delivery loop of one process.
pub struct WebhookWorker {
    tenants: Vec<WebhookTenant>,
    signal: Arc<dyn Fn() -> Arc<dyn QueueSignal> + Send + Sync>,
    config: WebhookWorkerConfig,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    metrics: WebhookMetrics,
}

impl WebhookWorker {
    /// A loop over `tenants`, woken by signals from `signal` (one per task).
    pub fn new(
        tenants: Vec<WebhookTenant>,
        signal: Arc<dyn Fn() -> Arc<dyn QueueSignal> + Send + Sync>,
        config: WebhookWorkerConfig,
    ) -> Arc<Self> {
        Arc::new(WebhookWorker {
            tenants,
            signal,
            config,
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            metrics: WebhookMetrics::default(),
        })
    }

    /// Registers `webhook_deliveries` (ended deliveries by outcome) and `webhook_attempts`
    /// (attempts by outcome) in `registry`.
    pub fn register_metrics(&self, registry: &mut Registry) {
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries ended, by outcome (delivered, failed)",
            self.metrics.deliveries.clone(),
        );
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts, by outcome (delivered, failed, retrying)",
            self.metrics.attempts.clone(),
        );
    }

    /// Starts the delivery tasks.
    pub fn start(self: &Arc<Self>) {
        for _ in 0..self.config.tasks.max(1) {
            let worker = self.clone();
            let signal = (self.signal)();
            self.tasks.spawn(async move { worker.run(signal).await });
        }
    }

    /// Stops the tasks (an attempt under way finishes first).
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }

    async fn run(&self, signal: Arc<dyn QueueSignal>) {
        while !self.shutdown.is_cancelled() {
            let mut busy = false;
            for tenant in &self.tenants {
                busy |= self.drain(tenant).await;
            }
            if busy {
                continue;
            }
            tokio::select! {
                _ = signal.wait(self.config.sweep) => {}
                _ = self.shutdown.cancelled() => return,
            }
        }
    }

    /// One claim of `tenant`'s due deliveries; whether there were any.
    async fn drain(&self, tenant: &WebhookTenant) -> bool {
        match tenant.deliverer.deliver_due(self.config.batch).await {
            Ok(done) => {
                for (delivery, outcome) in &done {
                    self.metrics
                        .attempts
                        .get_or_create(&vec![("outcome", outcome.as_str())])
                        .inc();
                    if *outcome != AttemptOutcome::Retrying {
                        self.metrics
                            .deliveries
                            .get_or_create(&vec![("outcome", outcome.as_str())])
                            .inc();
                    }
                    tracing::debug!(
                        schema = %tenant.name,
                        webhook_id = %delivery.webhook_id,
                        job_id = delivery.event.job_id.0,
                        seq = delivery.event.seq,
                        attempt = delivery.attempts,
                        outcome = outcome.as_str(),
                        "webhook attempt"
                    );
                }
                !done.is_empty()
            }
            Err(e) => {
                tracing::warn!(schema = %tenant.name, error = %ErrorChain(&e), "webhook delivery failed");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_literals_need_no_lookup_and_names_do() {
        let at = |url: &str| literal(&url.parse().unwrap());
        assert_eq!(
            at("http://127.0.0.1:8080/hook"),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(at("https://10.1.2.3/hook"), Some("10.1.2.3:443".parse().unwrap()));
        assert_eq!(at("http://[::1]/hook"), Some("[::1]:80".parse().unwrap()));
        assert_eq!(
            at("http://[fd00::7]:9000/"),
            Some("[fd00::7]:9000".parse().unwrap())
        );
        assert_eq!(at("https://hooks.example.com/x"), None);
        assert_eq!(at("http://localhost:8080/x"), None);
    }
}
