//! Job events across processes: emitted with PostgreSQL NOTIFY in the writing transaction,
//! received by one LISTEN connection per process ([`EventHub`]) and fanned out to this
//! process's subscribers (WebSocket clients) and idle workers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use futures_util::StreamExt;
use genonaut_domain::ids::JobId;
use genonaut_domain::model::JsonObject;
use genonaut_domain::model::{JobEvent, JobEventKind};
use genonaut_domain::ports::{JobEventSource, JobSubscription, QueueSignal, SubscriptionItem};
use tokio::sync::{Notify, mpsc, watch};

use crate::pool::parse_config;
use crate::schema_name::SchemaName;

/// The NOTIFY channel of job events.
pub const CHANNEL: &str = "genonaut_job_events";
/// `application_name` of the LISTEN connection (to find it in `pg_stat_activity`).
pub const LISTENER_APPLICATION: &str = "genonaut-listener";
/// Events a subscriber may have buffered before it is told to re-read the log.
const SUBSCRIBER_BUFFER: usize = 256;

/// A job event's notification, as the emitting statement writes it (`jsonb_build_object` in
/// [`crate::repos::emit`]) and the listener reads it.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Notification {
    /// The schema whose job changed.
    pub schema: String,
    /// The job.
    pub job_id: i64,
    /// The event's position in the job's log.
    pub seq: i64,
    /// The event type (`queued`, `started`, `progress`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened.
    pub at: NaiveDateTime,
    /// The event's details; `None` when too large for a notification (subscribers re-read the log).
    pub data: Option<JsonObject>,
    /// Whether a webhook delivery was queued with it (wakes the deliverers).
    #[serde(default)]
    pub webhook: bool,
}

struct Slot {
    tx: mpsc::Sender<SubscriptionItem>,
    lagged: AtomicBool,
    wake: Notify,
}

/// Subscribers per (schema, job id).
type Subscribers = HashMap<(String, i32), Vec<Arc<Slot>>>;

#[derive(Default)]
struct Inner {
    subscribers: Mutex<Subscribers>,
    work: Option<watch::Sender<u64>>,
    /// Woken when an event with a webhook delivery is recorded.
    webhooks: Option<watch::Sender<u64>>,
    generation: AtomicU64,
    connected: AtomicBool,
}

/// One process's receiver of job events.
#[derive(Clone)]
pub struct EventHub {
    inner: Arc<Inner>,
    work: watch::Receiver<u64>,
    webhooks: watch::Receiver<u64>,
}

impl EventHub {
    /// Starts listening on `database_url` (reconnecting forever, with backoff) until the
    /// returned hub and every clone of it are dropped.
    pub fn start(database_url: &str) -> Result<EventHub, crate::DbError> {
        let mut config = parse_config(database_url)?;
        config.application_name(LISTENER_APPLICATION);
        config.connect_timeout(Duration::from_secs(5));
        let (work_tx, work_rx) = watch::channel(0u64);
        let (hooks_tx, hooks_rx) = watch::channel(0u64);
        let inner = Arc::new(Inner {
            work: Some(work_tx),
            webhooks: Some(hooks_tx),
            ..Inner::default()
        });
        tokio::spawn(listen(config, Arc::downgrade(&inner)));
        Ok(EventHub {
            inner,
            work: work_rx,
            webhooks: hooks_rx,
        })
    }

    /// Live events of one schema's jobs.
    pub fn source(&self, schema: &SchemaName) -> Arc<dyn JobEventSource> {
        Arc::new(SchemaEvents {
            hub: self.clone(),
            schema: schema.to_string(),
        })
    }

    /// A signal that wakes idle workers when a job is queued anywhere.
    pub fn signal(&self) -> Arc<dyn QueueSignal> {
        Arc::new(WorkSignal {
            rx: tokio::sync::Mutex::new(self.work.clone()),
        })
    }

    /// A signal that wakes webhook deliverers when an event with a delivery is recorded
    /// anywhere (and after a listener reconnect).
    pub fn webhook_signal(&self) -> Arc<dyn QueueSignal> {
        Arc::new(WorkSignal {
            rx: tokio::sync::Mutex::new(self.webhooks.clone()),
        })
    }

    /// Whether the LISTEN connection is currently up.
    pub fn is_connected(&self) -> bool {
        self.inner.connected.load(Ordering::Relaxed)
    }

    fn subscribe(&self, schema: &str, job: JobId) -> Box<dyn JobSubscription> {
        let (tx, rx) = mpsc::channel(SUBSCRIBER_BUFFER);
        let slot = Arc::new(Slot {
            tx,
            lagged: AtomicBool::new(false),
            wake: Notify::new(),
        });
        let key = (schema.to_owned(), i32::try_from(job.0).unwrap_or(0));
        if let Ok(mut subs) = self.inner.subscribers.lock() {
            subs.entry(key.clone()).or_default().push(slot.clone());
        }
        Box::new(Subscription {
            rx,
            slot,
            hub: Arc::downgrade(&self.inner),
            key,
        })
    }
}

impl Inner {
    fn dispatch(&self, payload: &str) {
        let Ok(note) = serde_json::from_str::<Notification>(payload) else {
            return;
        };
        let Some(kind) = JobEventKind::parse(&note.kind) else {
            return;
        };
        if matches!(kind, JobEventKind::Queued | JobEventKind::Retrying)
            && let Some(work) = &self.work
        {
            work.send_replace(self.generation.fetch_add(1, Ordering::Relaxed) + 1);
        }
        if note.webhook
            && let Some(hooks) = &self.webhooks
        {
            hooks.send_replace(self.generation.fetch_add(1, Ordering::Relaxed) + 1);
        }
        let truncated = note.data.is_none();
        let event = JobEvent {
            job_id: JobId(note.job_id),
            seq: note.seq,
            kind,
            at: note.at,
            data: note.data.unwrap_or_default(),
        };
        let job_id = note.job_id;
        let schema = note.schema;
        let key = (schema, i32::try_from(job_id).unwrap_or(0));
        let Ok(mut subs) = self.subscribers.lock() else {
            return;
        };
        if let Some(slots) = subs.get_mut(&key) {
            slots.retain(|slot| {
                let item = if truncated {
                    SubscriptionItem::Resync
                } else {
                    SubscriptionItem::Event(event.clone())
                };
                match slot.tx.try_send(item) {
                    Ok(()) => true,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        slot.lagged.store(true, Ordering::Relaxed);
                        slot.wake.notify_one();
                        true
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                }
            });
        }
    }

    /// After a reconnect nothing tells what was missed: every subscriber re-reads its log and
    /// every worker looks for work.
    fn resync_all(&self) {
        if let Ok(subs) = self.subscribers.lock() {
            for slot in subs.values().flatten() {
                slot.lagged.store(true, Ordering::Relaxed);
                slot.wake.notify_one();
            }
        }
        for signal in [&self.work, &self.webhooks].into_iter().flatten() {
            signal.send_replace(self.generation.fetch_add(1, Ordering::Relaxed) + 1);
        }
    }
}

async fn listen(config: tokio_postgres::Config, hub: Weak<Inner>) {
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    loop {
        if hub.strong_count() == 0 {
            return;
        }
        match config.connect(tokio_postgres::NoTls).await {
            Ok((client, mut connection)) => {
                let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                let statement = format!("LISTEN {CHANNEL}");
                let listen = client.batch_execute(&statement);
                // The LISTEN completes only while the connection is polled.
                let listened = tokio::select! {
                    r = listen => r.is_ok(),
                    _ = messages.next() => false,
                };
                if listened {
                    backoff = Duration::from_millis(100);
                    let Some(inner) = hub.upgrade() else { return };
                    inner.connected.store(true, Ordering::Relaxed);
                    if !first {
                        tracing::info!("job event listener reconnected");
                        inner.resync_all();
                    }
                    first = false;
                    drop(inner);
                    while let Some(message) = messages.next().await {
                        let Some(inner) = hub.upgrade() else { return };
                        match message {
                            Ok(tokio_postgres::AsyncMessage::Notification(n)) => inner.dispatch(n.payload()),
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "job event listener connection failed");
                                break;
                            }
                        }
                    }
                    drop(client);
                }
            }
            Err(e) => {
                tracing::warn!(error = %crate::admin::pg_message(&e), "job event listener cannot connect")
            }
        }
        if let Some(inner) = hub.upgrade() {
            inner.connected.store(false, Ordering::Relaxed);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

struct SchemaEvents {
    hub: EventHub,
    schema: String,
}

impl JobEventSource for SchemaEvents {
    fn subscribe(&self, job: JobId) -> Box<dyn JobSubscription> {
        self.hub.subscribe(&self.schema, job)
    }
}

struct Subscription {
    rx: mpsc::Receiver<SubscriptionItem>,
    slot: Arc<Slot>,
    hub: Weak<Inner>,
    key: (String, i32),
}

#[async_trait]
impl JobSubscription for Subscription {
    async fn next(&mut self) -> Option<SubscriptionItem> {
        loop {
            if self.slot.lagged.swap(false, Ordering::Relaxed) {
                return Some(SubscriptionItem::Resync);
            }
            tokio::select! {
                item = self.rx.recv() => return item,
                _ = self.slot.wake.notified() => {}
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let Some(hub) = self.hub.upgrade() else { return };
        let Ok(mut subs) = hub.subscribers.lock() else {
            return;
        };
        if let Some(slots) = subs.get_mut(&self.key) {
            slots.retain(|s| !Arc::ptr_eq(s, &self.slot));
            if slots.is_empty() {
                subs.remove(&self.key);
            }
        }
    }
}

struct WorkSignal {
    rx: tokio::sync::Mutex<watch::Receiver<u64>>,
}

#[async_trait]
impl QueueSignal for WorkSignal {
    async fn wait(&self, timeout: Duration) {
        let mut rx = self.rx.lock().await;
        let _ = tokio::time::timeout(timeout, rx.changed()).await;
    }
}
