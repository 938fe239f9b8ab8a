//! What a running generation talks to: progress (with previews), the stop signal.

use super::*;

/// What the generator talks to while it runs.
pub(super) struct Control {
    pub(super) queue: Arc<dyn JobQueue>,
    pub(super) lease: Lease,
    pub(super) stop: CancellationToken,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) previews: Previews,
}

/// The preview images of one attempt, stored in the media store as `preview-<schema>-job<id>-
/// a<attempt>-<n>.<ext>` and removed when the attempt ends.
pub(super) struct Previews {
    pub(super) media: Arc<dyn MediaStore>,
    pub(super) stem: String,
    pub(super) saved: Mutex<Vec<String>>,
}

impl Previews {
    pub(super) fn new(media: Arc<dyn MediaStore>, stem: String) -> Self {
        Previews {
            media,
            stem,
            saved: Mutex::new(Vec::new()),
        }
    }

    pub(super) async fn save(&self, image: &MediaFile) -> Option<String> {
        let n = self.saved.lock().map_or(0, |s| s.len());
        match self.media.save(&format!("{}-{n}", self.stem), image).await {
            Ok(url) => {
                if let Ok(mut saved) = self.saved.lock() {
                    saved.push(url.clone());
                }
                Some(url)
            }
            Err(e) => {
                tracing::warn!(error = %e, "storing a preview failed");
                None
            }
        }
    }

    pub(super) async fn remove_all(&self) {
        let saved = self
            .saved
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default();
        for url in saved {
            self.media.remove(&url).await;
        }
    }
}

#[async_trait]
impl GenerationControl for Control {
    async fn progress(&self, progress: Progress) -> bool {
        if self.stop.is_cancelled() {
            return false;
        }
        match self
            .queue
            .progress(&self.lease, &progress, self.clock.now())
            .await
        {
            Ok(true) => true,
            Ok(false) => {
                self.stop.cancel();
                false
            }
            Err(e) => {
                tracing::warn!(error = %ErrorChain(&e), "recording progress failed");
                true
            }
        }
    }

    fn should_stop(&self) -> bool {
        self.stop.is_cancelled()
    }

    async fn save_preview(&self, image: &MediaFile) -> Option<String> {
        if self.stop.is_cancelled() {
            return None;
        }
        self.previews.save(image).await
    }
}
