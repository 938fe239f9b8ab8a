//! The heartbeat: renews the leases of the jobs a worker holds, and stops the ones it lost.

use super::*;

pub(super) async fn heartbeat_loop(
    queue: Arc<dyn JobQueue>,
    hand: Hand,
    clock: Arc<dyn Clock>,
    config: RunnerConfig,
    done: CancellationToken,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(config.heartbeat) => {}
            () = done.cancelled() => return,
        }
        let leases: Vec<Lease> = hand
            .lock()
            .map(|h| h.values().map(|(l, _)| l.clone()).collect())
            .unwrap_or_default();
        if leases.is_empty() {
            continue;
        }
        let until =
            clock.now() + chrono::Duration::from_std(config.lease).unwrap_or(chrono::Duration::seconds(30));
        match queue.heartbeat(&leases, until).await {
            Ok(held) => {
                if let Ok(h) = hand.lock() {
                    for (lease, stop) in h.values() {
                        if !held.contains(lease) {
                            stop.cancel();
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %ErrorChain(&e), "renewing leases failed"),
        }
    }
}
