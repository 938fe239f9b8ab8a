//! The in-memory fake of interactions.

use super::*;

pub(super) fn interaction_matches(i: &Interaction, q: &InteractionQuery) -> bool {
    q.user_id.is_none_or(|u| i.user_id == u)
        && q.content_item_id.is_none_or(|c| i.content_item_id == c)
        && q.interaction_type.is_none_or(|t| i.interaction_type == t)
        && q.since.is_none_or(|since| i.created_at >= since)
}

impl Interactions {
    pub(super) fn matching(&self, query: &InteractionQuery) -> Vec<Interaction> {
        let s = self.0.lock();
        let mut items: Vec<Interaction> = s
            .interactions
            .values()
            .filter(|i| interaction_matches(i, query))
            .cloned()
            .collect();
        items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        items
    }
}

pub(super) fn store_interaction(
    s: &mut State,
    new: NewInteraction,
    now: Timestamp,
) -> DomainResult<Interaction> {
    if !s.users.contains_key(&new.user_id) {
        return Err(DomainError::Rule(crate::Rule::UserMissing));
    }
    if !s.content.contains_key(&new.content_item_id) {
        return Err(DomainError::Rule(crate::Rule::ContentMissing));
    }
    let id = InteractionId(s.next());
    let interaction = Interaction {
        id,
        user_id: new.user_id,
        content_item_id: new.content_item_id,
        interaction_type: new.interaction_type,
        rating: new.rating,
        duration: new.duration,
        created_at: now,
        metadata: new.metadata,
    };
    s.interactions.insert(id, interaction.clone());
    Ok(interaction)
}

#[async_trait]
impl InteractionRepository for Interactions {
    async fn insert(&self, interaction: NewInteraction, now: Timestamp) -> DomainResult<Interaction> {
        store_interaction(&mut self.0.lock(), interaction, now)
    }

    async fn insert_if_active(
        &self,
        interaction: NewInteraction,
        now: Timestamp,
    ) -> DomainResult<Option<Interaction>> {
        let mut s = self.0.lock();
        if !s.users.get(&interaction.user_id).is_some_and(|u| u.is_active) {
            return Ok(None);
        }
        store_interaction(&mut s, interaction, now).map(Some)
    }

    async fn get(&self, id: InteractionId) -> DomainResult<Option<Interaction>> {
        Ok(self.0.lock().interactions.get(&id).cloned())
    }

    async fn update(
        &self,
        id: InteractionId,
        changes: InteractionChanges,
    ) -> DomainResult<Option<Interaction>> {
        let mut s = self.0.lock();
        let Some(i) = s.interactions.get_mut(&id) else {
            return Ok(None);
        };
        if let Some(rating) = changes.rating {
            i.rating = Some(rating);
        }
        if let Some(duration) = changes.duration {
            i.duration = Some(duration);
        }
        if let Some(metadata) = changes.metadata {
            i.metadata = metadata;
        }
        Ok(Some(i.clone()))
    }

    async fn delete(&self, id: InteractionId) -> DomainResult<bool> {
        Ok(self.0.lock().interactions.remove(&id).is_some())
    }

    async fn list(&self, query: &InteractionQuery, page: PageRequest) -> DomainResult<Page<Interaction>> {
        Ok(paged(self.matching(query), page))
    }

    async fn fetch(&self, query: &InteractionQuery, page: PageRequest) -> DomainResult<Vec<Interaction>> {
        Ok(page.slice(self.matching(query)))
    }

    async fn latest_between(
        &self,
        user: UserId,
        content: ContentId,
        interaction_type: &str,
    ) -> DomainResult<Option<Interaction>> {
        let query = InteractionQuery {
            user_id: Some(user),
            content_item_id: Some(content),
            ..Default::default()
        };
        Ok(self
            .matching(&query)
            .into_iter()
            .find(|i| i.interaction_type.as_str() == interaction_type))
    }

    async fn aggregate(&self, query: &InteractionQuery) -> DomainResult<Vec<TypeAggregate>> {
        let items = self.matching(query);
        Ok(InteractionType::ALL
            .iter()
            .filter_map(|t| {
                let of_type: Vec<&Interaction> = items.iter().filter(|i| i.interaction_type == *t).collect();
                (!of_type.is_empty()).then(|| TypeAggregate {
                    interaction_type: *t,
                    count: of_type.len() as i64,
                    avg_rating: mean(of_type.iter().filter_map(|i| i.rating).map(f64::from)),
                    avg_duration: mean(of_type.iter().filter_map(|i| i.duration).map(f64::from)),
                })
            })
            .collect())
    }

    async fn count_by_type(&self) -> DomainResult<Vec<(InteractionType, i64)>> {
        let s = self.0.lock();
        Ok(InteractionType::ALL
            .iter()
            .map(|t| {
                let n = s
                    .interactions
                    .values()
                    .filter(|i| i.interaction_type == *t)
                    .count();
                (*t, n as i64)
            })
            .collect())
    }

    async fn checkpoint_counts(&self) -> DomainResult<i64> {
        let mut s = self.0.lock();
        s.count_checkpoints += 1;
        Ok(s.interactions.keys().next_back().map_or(0, |id| id.0))
    }

    async fn favorite_content_types(&self, user: UserId, limit: i64) -> DomainResult<Vec<ContentType>> {
        let s = self.0.lock();
        let mut counts: Vec<(ContentType, usize)> = ContentType::ALL
            .iter()
            .map(|t| {
                let n = s
                    .interactions
                    .values()
                    .filter(|i| i.user_id == user)
                    .filter(|i| {
                        s.content
                            .get(&i.content_item_id)
                            .is_some_and(|c| c.content_type == *t)
                    })
                    .count();
                (*t, n)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(PageRequest::first(limit).slice(counts.into_iter().map(|(t, _)| t).collect()))
    }
}
