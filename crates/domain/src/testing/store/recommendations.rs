//! The in-memory fake of recommendations.

use super::*;

pub(super) fn rec_matches(r: &Recommendation, q: &RecommendationQuery) -> bool {
    q.user_id.is_none_or(|u| r.user_id == u)
        && q.content_item_id.is_none_or(|c| r.content_item_id == c)
        && q.algorithm_version
            .as_ref()
            .is_none_or(|a| &r.algorithm_version == a)
        && q.min_score.is_none_or(|m| r.score >= m)
        && (!q.unserved_only || (!r.is_served && r.served_at.is_none()))
        && q.since.is_none_or(|since| r.created_at >= since)
}

impl Recommendations {
    pub(super) fn matching(&self, query: &RecommendationQuery) -> Vec<Recommendation> {
        let s = self.0.lock();
        let mut items: Vec<Recommendation> = s
            .recommendations
            .values()
            .filter(|r| rec_matches(r, query))
            .cloned()
            .collect();
        match query.order {
            RecommendationOrder::ScoreDesc => {
                items.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)))
            }
            RecommendationOrder::NewestFirst => {
                items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)))
            }
        }
        items
    }
}

pub(super) fn store_recommendation(
    s: &mut State,
    new: NewRecommendation,
    now: Timestamp,
) -> DomainResult<Recommendation> {
    if !s.users.contains_key(&new.user_id) {
        return Err(DomainError::Rule(crate::Rule::UserMissing));
    }
    if !s.content.contains_key(&new.content_item_id) {
        return Err(DomainError::Rule(crate::Rule::ContentMissing));
    }
    let id = RecommendationId(s.next());
    let rec = Recommendation {
        id,
        user_id: new.user_id,
        content_item_id: new.content_item_id,
        score: new.score,
        algorithm_version: new.algorithm_version,
        created_at: now,
        is_served: false,
        served_at: None,
        metadata: new.metadata,
    };
    s.recommendations.insert(id, rec.clone());
    Ok(rec)
}

#[async_trait]
impl RecommendationRepository for Recommendations {
    async fn insert(
        &self,
        recommendation: NewRecommendation,
        now: Timestamp,
    ) -> DomainResult<Recommendation> {
        store_recommendation(&mut self.0.lock(), recommendation, now)
    }

    async fn insert_many(
        &self,
        recommendations: Vec<NewRecommendation>,
        now: Timestamp,
    ) -> DomainResult<Vec<Recommendation>> {
        let mut s = self.0.lock();
        if !recommendations.iter().all(|r| s.users.contains_key(&r.user_id)) {
            return Err(DomainError::Rule(crate::Rule::UserMissing));
        }
        if !recommendations
            .iter()
            .all(|r| s.content.contains_key(&r.content_item_id))
        {
            return Err(DomainError::Rule(crate::Rule::ContentMissing));
        }
        recommendations
            .into_iter()
            .map(|r| store_recommendation(&mut s, r, now))
            .collect()
    }

    async fn get(&self, id: RecommendationId) -> DomainResult<Option<Recommendation>> {
        Ok(self.0.lock().recommendations.get(&id).cloned())
    }

    async fn update(
        &self,
        id: RecommendationId,
        changes: RecommendationChanges,
    ) -> DomainResult<Option<Recommendation>> {
        let mut s = self.0.lock();
        let Some(r) = s.recommendations.get_mut(&id) else {
            return Ok(None);
        };
        if let Some(score) = changes.score {
            r.score = score;
        }
        if let Some(metadata) = changes.metadata {
            r.metadata = metadata;
        }
        Ok(Some(r.clone()))
    }

    async fn delete(&self, id: RecommendationId) -> DomainResult<bool> {
        Ok(self.0.lock().recommendations.remove(&id).is_some())
    }

    async fn list(
        &self,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<Page<Recommendation>> {
        Ok(paged(self.matching(query), page))
    }

    async fn list_for_user(
        &self,
        user: UserId,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<ForUser<Page<Recommendation>>> {
        let active = self.0.lock().users.get(&user).map(|u| u.is_active);
        Ok(match active {
            None => ForUser::Missing,
            Some(false) => ForUser::Inactive,
            Some(true) => ForUser::Active(paged(self.matching(query), page)),
        })
    }

    async fn fetch(
        &self,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<Vec<Recommendation>> {
        Ok(page.slice(self.matching(query)))
    }

    async fn mark_served(&self, ids: &[RecommendationId], now: Timestamp) -> DomainResult<u64> {
        let mut s = self.0.lock();
        if let Some(missing) = ids.iter().find(|id| !s.recommendations.contains_key(id)) {
            return Err(DomainError::not_found(crate::Entity::Recommendation, missing));
        }
        let distinct: HashSet<&RecommendationId> = ids.iter().collect();
        for id in &distinct {
            if let Some(r) = s.recommendations.get_mut(id) {
                r.is_served = true;
                r.served_at = Some(now);
            }
        }
        Ok(distinct.len() as u64)
    }

    async fn record_feedback(
        &self,
        id: RecommendationId,
        metadata: JsonObject,
        interaction: Option<NewInteraction>,
        reject: bool,
        now: Timestamp,
    ) -> DomainResult<Option<Recommendation>> {
        let mut s = self.0.lock();
        if !s.recommendations.contains_key(&id) {
            return Ok(None);
        }
        if let Some(interaction) = interaction {
            store_interaction(&mut s, interaction, now)?;
        }
        let Some(r) = s.recommendations.get_mut(&id) else {
            return Ok(None);
        };
        r.metadata = metadata;
        if reject && !r.is_served {
            r.is_served = true;
            r.served_at = Some(now);
        }
        let rec = r.clone();
        if reject {
            s.recommendations.retain(|other, o| {
                *other == id
                    || o.user_id != rec.user_id
                    || o.content_item_id != rec.content_item_id
                    || o.is_served
            });
        }
        Ok(Some(rec))
    }

    async fn stats(&self, user: Option<UserId>) -> DomainResult<RecommendationStats> {
        let items = self.matching(&RecommendationQuery {
            user_id: user,
            ..Default::default()
        });
        let mut labels: Vec<String> = items.iter().map(|r| r.algorithm_version.clone()).collect();
        labels.sort();
        labels.dedup();
        Ok(RecommendationStats {
            total: items.len() as i64,
            served: items.iter().filter(|r| r.is_served).count() as i64,
            average_score: mean(items.iter().map(|r| r.score)).unwrap_or(0.0),
            by_algorithm: labels
                .into_iter()
                .map(|label| {
                    let of: Vec<f64> = items
                        .iter()
                        .filter(|r| r.algorithm_version == label)
                        .map(|r| r.score)
                        .collect();
                    AlgorithmAggregate {
                        count: of.len() as i64,
                        avg_score: mean(of.into_iter()).unwrap_or(0.0),
                        algorithm_version: label,
                    }
                })
                .collect(),
        })
    }
}
