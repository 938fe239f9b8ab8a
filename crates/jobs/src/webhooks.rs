//! Webhook delivery on the worker side: [`HyperSender`] (the domain's [`HttpSender`] over
//! hyper's pooled HTTP/1 client: no redirects, no proxy, a timeout, targets re-checked at
//! connection time) and [`WebhookWorker`], which drains every schema's outbox when an event
//! with a delivery is recorded (the job-event listener's signal) and at least every
//! [`WebhookWorkerConfig::sweep`] (retries that came due, missed notifications).

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use genonaut_domain::ErrorChain;
use genonaut_domain::model::{AttemptResult, WebhookTarget, refusal};
use genonaut_domain::ports::{HttpSender, QueueSignal, WebhookRequest};
use genonaut_domain::services::{AttemptOutcome, WebhookDeliverer};
use http_body_util::{BodyExt, Full, Limited};
use hyper::Uri;
use hyper::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

type BoxError = Box<dyn StdError + Send + Sync>;

/// A refused target, raised by the connector (the request is never sent).
#[derive(Debug)]
struct ForbiddenTarget(String);

impl fmt::Display for ForbiddenTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for ForbiddenTarget {}

/// Resolves a target's host — address literals need no lookup — then, unless internal
/// targets are allowed, refuses the host if any address is forbidden, and connects only to
/// the addresses checked here: a name that resolved to a public address at submission and to
/// a private one now (DNS rebinding) is not contacted. TLS, for `https` targets, is layered
/// on top by [`HttpsConnector`].
#[derive(Debug, Clone, Copy)]
struct CheckingConnector {
    /// `GENONAUT_WEBHOOK_ALLOW_PRIVATE`: internal addresses are not refused.
    allow_private: bool,
}

impl tower_service::Service<Uri> for CheckingConnector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let allow_private = self.allow_private;
        Box::pin(async move {
            // Host and port as the submission's check saw them.
            let target = WebhookTarget::parse(&uri.to_string())
                .map_err(|_| format!("{uri} is not a webhook target"))?;
            // Literals are parsed, not looked up; names go to the system resolver.
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
                .await?
                .collect();
            if !allow_private && let Some(message) = refusal(addrs.iter().map(SocketAddr::ip)) {
                return Err(Box::new(ForbiddenTarget(message)) as BoxError);
            }
            let mut last = None;
            for addr in addrs {
                match TcpStream::connect(addr).await {
                    Ok(stream) => {
                        // A webhook is one small write and a small reply: no Nagle delay.
                        stream.set_nodelay(true)?;
                        return Ok(TokioIo::new(stream));
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(last.map_or_else(|| "the host resolved to no address".into(), BoxError::from))
        })
    }
}

/// The webhook [`HttpSender`] over hyper's HTTP/1 client, on the runtime: no thread hand-off
/// per attempt, connections pooled per host.
#[derive(Clone)]
pub struct HyperSender {
    client: Client<HttpsConnector<CheckingConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl HyperSender {
    /// A sender giving up after `timeout`; `allow_private` skips the address check.
    ///
    /// # Errors
    /// If rustls's `ring` provider offers none of its default protocol versions (a build
    /// misconfiguration).
    pub fn new(timeout: Duration, allow_private: bool) -> Result<Self, rustls::Error> {
        let connector = HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())?
            .https_or_http()
            .enable_http1()
            .wrap_connector(CheckingConnector { allow_private });
        let client = Client::builder(TokioExecutor::new())
            // Up to `tasks × CONCURRENT_ATTEMPTS` requests are under way at once, often to
            // one host: keep that many connections for the next deliveries.
            .pool_max_idle_per_host(32)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(HyperSender { client, timeout })
    }

    /// One attempt, without the timeout.
    async fn attempt(&self, request: &WebhookRequest) -> Result<AttemptResult, BoxError> {
        let call = hyper::Request::post(request.url.as_str())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, "genonaut-webhooks")
            .header("webhook-id", request.id.as_str())
            .header("webhook-timestamp", request.timestamp)
            .header("webhook-signature", request.signature.as_str())
            .body(Full::new(Bytes::from(request.body.clone())))?;
        let response = self.client.request(call).await?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after);
        // Read (a little of) the body so the connection can be reused.
        let _ = Limited::new(response.into_body(), 64 * 1024).collect().await;
        Ok(AttemptResult::Response { status, retry_after })
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

/// The refusal somewhere in `e`'s chain, if the connector refused the target.
fn forbidden(e: &(dyn StdError + 'static)) -> Option<String> {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(refused) = e.downcast_ref::<ForbiddenTarget>() {
            return Some(refused.0.clone());
        }
        next = e.source();
    }
    None
}

#[async_trait]
impl HttpSender for HyperSender {
    async fn send(&self, request: &WebhookRequest) -> AttemptResult {
        match tokio::time::timeout(self.timeout, self.attempt(request)).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => match forbidden(e.as_ref()) {
                Some(message) => AttemptResult::Forbidden(message),
                None => AttemptResult::Network(ErrorChain(e.as_ref()).to_string()),
            },
            Err(_) => AttemptResult::Network(format!("no response within {} s", self.timeout.as_secs_f32())),
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
    fn a_refusal_is_found_under_the_client_s_wrapping() {
        let refused = Wrap(Box::new(Wrap(Box::new(ForbiddenTarget("loopback".into())))));
        assert_eq!(forbidden(&refused).as_deref(), Some("loopback"));
        let refused_connection = Wrap(Box::new(std::io::Error::other("connection refused")));
        assert_eq!(forbidden(&refused_connection), None);
        assert_eq!(forbidden(&ForbiddenTarget("x".into())).as_deref(), Some("x"));
    }

    #[derive(Debug)]
    struct Wrap(BoxError);

    impl fmt::Display for Wrap {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("wrapped")
        }
    }

    impl StdError for Wrap {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(self.0.as_ref())
        }
    }
}
