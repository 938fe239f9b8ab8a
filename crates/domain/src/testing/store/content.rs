//! The in-memory fake of content items.

use super::*;

pub(super) fn content_matches(c: &Content, q: &ContentQuery) -> bool {
    if let Some(term) = &q.search_term
        && !c.title.to_lowercase().contains(&term.to_lowercase())
    {
        return false;
    }
    q.matches_filters(c)
}

impl Contents {
    pub(super) fn matching(&self, query: &ContentQuery) -> Vec<Content> {
        let s = self.0.lock();
        let mut items: Vec<Content> = s
            .content
            .values()
            .filter(|c| content_matches(c, query))
            .cloned()
            .collect();
        items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        items
    }
}

#[async_trait]
impl ContentRepository for Contents {
    async fn insert(&self, content: NewContent, quality_score: f64, now: Timestamp) -> DomainResult<Content> {
        let mut s = self.0.lock();
        if !s.users.contains_key(&content.creator_id) {
            return Err(DomainError::Rule(crate::Rule::CreatorMissing));
        }
        let item = stored_content(ContentId(s.next()), content, quality_score, now);
        s.content.insert(item.id, item.clone());
        Ok(item)
    }

    async fn get(&self, id: ContentId) -> DomainResult<Option<Content>> {
        Ok(self.0.lock().content.get(&id).cloned())
    }

    async fn get_many(&self, ids: &[ContentId]) -> DomainResult<Vec<Content>> {
        let s = self.0.lock();
        Ok(ids.iter().filter_map(|id| s.content.get(id).cloned()).collect())
    }

    async fn existing(&self, ids: &[ContentId]) -> DomainResult<Vec<ContentId>> {
        let s = self.0.lock();
        Ok(ids
            .iter()
            .filter(|id| s.content.contains_key(id))
            .copied()
            .collect())
    }

    async fn update(
        &self,
        id: ContentId,
        changes: ContentChanges,
        now: Timestamp,
    ) -> DomainResult<Option<Content>> {
        let mut s = self.0.lock();
        let Some(c) = s.content.get_mut(&id) else {
            return Ok(None);
        };
        let public = changes.is_public.unwrap_or(c.is_public);
        let private = changes.is_private.unwrap_or(c.is_private);
        if public && private {
            return Err(DomainError::Rule(crate::Rule::PublicAndPrivate));
        }
        if let Some(title) = changes.title {
            c.title = title;
        }
        if let Some(data) = changes.content_data {
            c.content_data = data;
        }
        if let Some(metadata) = changes.item_metadata {
            c.item_metadata = metadata;
        }
        if let Some(tags) = changes.tags {
            c.tags = tags.into_inner();
        }
        c.is_public = public;
        c.is_private = private;
        c.updated_at = now;
        Ok(Some(c.clone()))
    }

    async fn set_quality(&self, id: ContentId, score: f64, now: Timestamp) -> DomainResult<Option<Content>> {
        let mut s = self.0.lock();
        let Some(c) = s.content.get_mut(&id) else {
            return Ok(None);
        };
        c.quality_score = score;
        c.updated_at = now;
        Ok(Some(c.clone()))
    }

    async fn delete(&self, id: ContentId) -> DomainResult<bool> {
        let mut s = self.0.lock();
        if s.content.remove(&id).is_none() {
            return Ok(false);
        }
        s.interactions.retain(|_, i| i.content_item_id != id);
        s.recommendations.retain(|_, r| r.content_item_id != id);
        for job in s.jobs.values_mut().filter(|j| j.result_content_id == Some(id)) {
            job.result_content_id = None;
        }
        Ok(true)
    }

    async fn list(&self, query: &ContentQuery, page: PageRequest) -> DomainResult<Page<Content>> {
        Ok(paged(self.matching(query), page))
    }

    async fn list_from(
        &self,
        query: &ContentQuery,
        after: Option<ContentKey>,
        limit: i64,
    ) -> DomainResult<Page<Content>> {
        let all = self.matching(query);
        let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
        let rest = all
            .into_iter()
            .filter(|c| after.is_none_or(|k| k.is_before(c)))
            .collect();
        Ok(Page {
            items: PageRequest::first(limit).slice(rest),
            total,
        })
    }

    async fn fetch(&self, query: &ContentQuery, page: PageRequest) -> DomainResult<Vec<Content>> {
        Ok(page.slice(self.matching(query)))
    }

    async fn top_rated(&self, limit: i64) -> DomainResult<Vec<Content>> {
        let s = self.0.lock();
        let mut items: Vec<Content> = s
            .content
            .values()
            .filter(|c| c.quality_score > 0.0)
            .cloned()
            .collect();
        items.sort_by(|a, b| b.quality_score.total_cmp(&a.quality_score).then(a.id.cmp(&b.id)));
        Ok(PageRequest::first(limit).slice(items))
    }

    async fn stats(&self) -> DomainResult<ContentStats> {
        let s = self.0.lock();
        let count = |f: &dyn Fn(&Content) -> bool| s.content.values().filter(|c| f(c)).count() as i64;
        Ok(ContentStats {
            total: s.content.len() as i64,
            public: count(&|c| c.is_listed_publicly()),
            private: count(&|c| c.is_private),
            by_type: ContentType::ALL
                .iter()
                .map(|t| (*t, count(&|c| c.content_type == *t)))
                .collect(),
        })
    }
}

/// The stored form of a new item, as both content creation and job completion store it.
pub(super) fn stored_content(
    id: ContentId,
    content: NewContent,
    quality_score: f64,
    now: Timestamp,
) -> Content {
    Content {
        id,
        title: content.title,
        content_type: content.content_type,
        content_data: content.content_data,
        item_metadata: content.item_metadata,
        creator_id: content.creator_id,
        created_at: now,
        updated_at: now,
        tags: content.tags.into_inner(),
        quality_score,
        is_public: content.is_public,
        is_private: content.is_private,
    }
}
