//! The in-memory fake of experiments.

use super::*;

#[async_trait]
impl ExperimentRepository for Experiments {
    async fn insert(&self, new: NewExperiment, now: Timestamp) -> DomainResult<Experiment> {
        let mut state = self.0.lock();
        if state.experiments.values().any(|e| e.name == new.name) {
            return Err(DomainError::Conflict(crate::Conflict::Duplicate));
        }
        let id = crate::ids::ExperimentId(state.next());
        let experiment = Experiment {
            id,
            name: new.name,
            description: new.description,
            variants: new.variants,
            engagement_window_hours: new.engagement_window_hours,
            created_at: now,
            stopped_at: None,
        };
        state.experiments.insert(id, experiment.clone());
        Ok(experiment)
    }

    async fn get(&self, id: crate::ids::ExperimentId) -> DomainResult<Option<Experiment>> {
        Ok(self.0.lock().experiments.get(&id).cloned())
    }

    async fn by_name(&self, name: &str) -> DomainResult<Option<Experiment>> {
        Ok(self
            .0
            .lock()
            .experiments
            .values()
            .find(|e| e.name == name)
            .cloned())
    }

    async fn list(&self, page: PageRequest) -> DomainResult<Page<Experiment>> {
        let all: Vec<Experiment> = self.0.lock().experiments.values().rev().cloned().collect();
        Ok(paged(all, page))
    }

    async fn stop(&self, id: crate::ids::ExperimentId, now: Timestamp) -> DomainResult<Option<Experiment>> {
        let mut state = self.0.lock();
        Ok(state.experiments.get_mut(&id).map(|e| {
            e.stopped_at.get_or_insert(now);
            e.clone()
        }))
    }

    async fn counts(
        &self,
        id: crate::ids::ExperimentId,
        window_hours: i32,
    ) -> DomainResult<Vec<VariantCounts>> {
        let state = self.0.lock();
        let window = chrono::Duration::hours(i64::from(window_hours));
        let mut by_variant: BTreeMap<String, (HashSet<UserId>, VariantCounts)> = BTreeMap::new();
        for rec in state.recommendations.values() {
            let Some(tag) = rec.metadata.get("experiment") else {
                continue;
            };
            let same = tag.get("id").map(|v| match v {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => String::new(),
            });
            if same.as_deref() != Some(id.0.to_string().as_str()) {
                continue;
            }
            let Some(variant) = tag.get("variant").and_then(Value::as_str) else {
                continue;
            };
            let (users, counts) = by_variant.entry(variant.to_owned()).or_default();
            counts.variant = variant.to_owned();
            users.insert(rec.user_id);
            counts.served += 1;
            let until = rec.served_at.unwrap_or(rec.created_at) + window;
            let engaged = state.interactions.values().any(|i| {
                i.user_id == rec.user_id
                    && i.content_item_id == rec.content_item_id
                    && i.created_at >= rec.created_at
                    && i.created_at <= until
                    && (matches!(
                        i.interaction_type,
                        InteractionType::Like
                            | InteractionType::Bookmark
                            | InteractionType::Share
                            | InteractionType::Download
                    ) || (i.interaction_type == InteractionType::Rate
                        && i.rating.is_some_and(|r| r >= 4)))
            });
            counts.engaged += i64::from(engaged);
            let rejected = rec
                .metadata
                .get("feedback")
                .and_then(|f| f.get("type"))
                .and_then(Value::as_str)
                .is_some_and(|t| t == "disliked" || t == "dismissed");
            counts.rejected += i64::from(rejected);
        }
        Ok(by_variant
            .into_values()
            .map(|(users, mut counts)| {
                counts.users = i64::try_from(users.len()).unwrap_or(i64::MAX);
                counts
            })
            .collect())
    }
}
