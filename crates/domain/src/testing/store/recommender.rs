//! The in-memory fake of the recommender's data and derived state.

use super::*;

impl Recommender {
    /// The store's current data as the recommender sees it, sharing the stored builds.
    pub(super) fn snapshot(&self) -> Snapshot {
        let s = self.0.lock();
        let items = s.content.values().map(ItemFacts::of).collect();
        let signals = s
            .interactions
            .values()
            .map(|i| {
                let signal = Signal {
                    item: i.content_item_id,
                    kind: i.interaction_type,
                    rating: i.rating,
                    at: i.created_at,
                };
                (i.id.0, i.user_id, signal)
            })
            .collect();
        let preferences = s.users.values().map(|u| (u.id, u.preferences.clone())).collect();
        let mut rejected: std::collections::HashMap<UserId, Vec<ContentId>> = Default::default();
        for r in s.recommendations.values() {
            let kind = r
                .metadata
                .get("feedback")
                .and_then(|f| f.get("type"))
                .and_then(Value::as_str);
            if matches!(kind, Some("disliked" | "dismissed")) {
                rejected.entry(r.user_id).or_default().push(r.content_item_id);
            }
        }
        Snapshot::with_ids(items, signals, s.recommender.clone())
            .with_preferences(preferences)
            .with_rejected(rejected)
    }
}

#[async_trait]
impl RecommenderData for Recommender {
    async fn user_state(&self, user: UserId, limit: usize) -> DomainResult<UserState> {
        self.snapshot().user_state(user, limit).await
    }

    async fn candidates(&self, request: &CandidateRequest) -> DomainResult<CandidateLists> {
        self.snapshot().candidates(request).await
    }

    async fn popular_live(
        &self,
        since: Timestamp,
        weights: &[(&'static str, f64)],
        limit: usize,
    ) -> DomainResult<Vec<(ContentId, f64)>> {
        self.snapshot().popular_live(since, weights, limit).await
    }

    async fn tagged_live(&self, tags: &[String], limit: usize) -> DomainResult<Vec<ContentId>> {
        self.snapshot().tagged_live(tags, limit).await
    }

    async fn facts(&self, ids: &[ContentId]) -> DomainResult<Vec<ItemFacts>> {
        self.snapshot().facts(ids).await
    }
}

#[async_trait]
impl RecommenderBuildStore for Recommender {
    async fn signals(&self, after: i64, limit: usize) -> DomainResult<Vec<(i64, UserId, Signal)>> {
        self.snapshot().signals(after, limit).await
    }

    async fn items(&self, after: ContentId, limit: usize) -> DomainResult<Vec<ItemFacts>> {
        RecommenderBuildStore::items(&self.snapshot(), after, limit).await
    }

    async fn status(&self, now: Timestamp) -> DomainResult<BuildStatus> {
        self.snapshot().status(now).await
    }

    async fn request_build(&self, full: bool, now: Timestamp) -> DomainResult<()> {
        self.snapshot().request_build(full, now).await
    }

    async fn claim_build(
        &self,
        worker: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> DomainResult<Option<BuildClaim>> {
        self.snapshot().claim_build(worker, now, until).await
    }

    async fn finish_build(&self, worker: &str, error: Option<&str>) -> DomainResult<()> {
        self.snapshot().finish_build(worker, error).await
    }

    async fn save_build(
        &self,
        rows: Vec<ItemRow>,
        tags: Vec<TagRow>,
        model: Model,
        eras: EraTables,
        info: BuildInfo,
        full: bool,
    ) -> DomainResult<()> {
        self.snapshot()
            .save_build(rows, tags, model, eras, info, full)
            .await
    }
}
