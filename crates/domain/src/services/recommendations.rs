use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::error::{BulkProblem, DomainError, DomainResult, Entity, InactiveAction, NotFound, Rule};
use crate::ids::{ContentId, RecommendationId, UserId};
use crate::model::{
    Content, Experiment, Feedback, InteractionType, JsonObject, NewInteraction, NewRecommendation,
    Recommendation, RecommendationChanges, RecommendationOrder, RecommendationQuery, RecommendationStats,
};
use crate::page::{Page, PageRequest};
use crate::ports::{
    Clock, ContentRepository, ExperimentRepository, ForUser, RecommendationRepository, RecommenderData,
};
use crate::recommender::{Algorithm, ItemFacts, Vectors, recommend_with, similar};
use crate::services::SemanticService;
use crate::services::{UserService, days_ago};
use crate::values::non_blank;

/// Parameters of `POST /recommendations/generate`.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    /// For whom.
    pub user_id: UserId,
    /// Label to store the recommendations under (also selects the algorithm).
    pub algorithm_version: String,
    /// How many to produce.
    pub limit: i64,
}

/// Recommendations: storing, serving, feedback, generation and counters.
#[derive(Clone)]
pub struct RecommendationService {
    recommendations: Arc<dyn RecommendationRepository>,
    content: Arc<dyn ContentRepository>,
    recommender: Arc<dyn RecommenderData>,
    users: UserService,
    clock: Arc<dyn Clock>,
    /// Item embeddings (their index, or why there is none).
    pub(crate) semantic: Option<SemanticService>,
    experiments: Option<Arc<dyn ExperimentRepository>>,
}

impl RecommendationService {
    /// A service over `recommendations`.
    pub fn new(
        recommendations: Arc<dyn RecommendationRepository>,
        content: Arc<dyn ContentRepository>,
        recommender: Arc<dyn RecommenderData>,
        users: UserService,
        clock: Arc<dyn Clock>,
    ) -> Self {
        RecommendationService {
            recommendations,
            content,
            recommender,
            users,
            clock,
            semantic: None,
            experiments: None,
        }
    }

    /// Lets `generate` route `experiment:<name>` labels through the experiments in `store`.
    pub fn with_experiments(mut self, store: Arc<dyn ExperimentRepository>) -> Self {
        self.experiments = Some(store);
        self
    }

    /// Stores one recommendation. Order: user exists (404), active (422), content exists
    /// (404), algorithm label non-blank (422).
    pub async fn create(&self, mut new: NewRecommendation) -> DomainResult<Recommendation> {
        self.users
            .get_active(new.user_id, InactiveAction::CreateRecommendations)
            .await?;
        if self.content.get(new.content_item_id).await?.is_none() {
            return Err(DomainError::not_found(Entity::ContentItem, new.content_item_id));
        }
        new.algorithm_version =
            non_blank(&new.algorithm_version).ok_or(DomainError::Rule(Rule::EmptyAlgorithmVersion))?;
        self.recommendations.insert(new, self.clock.now()).await
    }

    /// Stores many recommendations, all or nothing. The first invalid element (in order)
    /// is named in the error.
    pub async fn create_bulk(&self, mut items: Vec<NewRecommendation>) -> DomainResult<Vec<Recommendation>> {
        let user_ids: Vec<UserId> = unique(items.iter().map(|r| r.user_id));
        let content_ids: Vec<ContentId> = unique(items.iter().map(|r| r.content_item_id));
        let users: HashMap<UserId, bool> = self
            .users
            .get_many(&user_ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u.is_active))
            .collect();
        let contents: HashSet<ContentId> = self.content.existing(&content_ids).await?.into_iter().collect();
        for (i, item) in items.iter_mut().enumerate() {
            let reason = match users.get(&item.user_id) {
                None => Some(BulkProblem::UserMissing(item.user_id)),
                Some(false) => Some(BulkProblem::UserInactive(item.user_id)),
                Some(true) if !contents.contains(&item.content_item_id) => {
                    Some(BulkProblem::ContentMissing(item.content_item_id))
                }
                Some(true) => match non_blank(&item.algorithm_version) {
                    Some(label) => {
                        item.algorithm_version = label;
                        None
                    }
                    None => Some(BulkProblem::EmptyAlgorithmVersion),
                },
            };
            if let Some(reason) = reason {
                return Err(DomainError::Rule(Rule::Bulk(i, reason)));
            }
        }
        self.recommendations.insert_many(items, self.clock.now()).await
    }

    /// The recommendation, or `NotFound`.
    pub async fn get(&self, id: RecommendationId) -> DomainResult<Recommendation> {
        self.recommendations
            .get(id)
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::Recommendation, id))
    }

    /// Changes score and/or metadata.
    pub async fn update(
        &self,
        id: RecommendationId,
        changes: RecommendationChanges,
    ) -> DomainResult<Recommendation> {
        self.recommendations
            .update(id, changes)
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::Recommendation, id))
    }

    /// Deletes a recommendation.
    pub async fn delete(&self, id: RecommendationId) -> DomainResult<()> {
        if self.recommendations.delete(id).await? {
            Ok(())
        } else {
            Err(DomainError::not_found(Entity::Recommendation, id))
        }
    }

    /// Lists with every filter applied. A user filter requires an existing, active user; a
    /// content filter an existing item.
    pub async fn list(
        &self,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<Page<Recommendation>> {
        if let Some(user) = query.user_id {
            if query.content_item_id.is_none() {
                // The common case (a user's recommendations): one trip to the store.
                return match self.recommendations.list_for_user(user, query, page).await? {
                    ForUser::Active(page) => Ok(page),
                    ForUser::Inactive => Err(DomainError::Rule(Rule::InactiveUser(
                        InactiveAction::ReadRecommendations,
                    ))),
                    ForUser::Missing => Err(DomainError::not_found(Entity::User, user)),
                };
            }
            self.users
                .get_active(user, InactiveAction::ReadRecommendations)
                .await?;
        }
        if let Some(content) = query.content_item_id
            && self.content.get(content).await?.is_none()
        {
            return Err(DomainError::not_found(Entity::ContentItem, content));
        }
        self.recommendations.list(query, page).await
    }

    /// An existing, active user's unserved recommendations, best first, at most `limit`.
    pub async fn unserved_for_active_user(
        &self,
        user: UserId,
        limit: i64,
    ) -> DomainResult<Vec<Recommendation>> {
        self.users
            .get_active(user, InactiveAction::ReadRecommendations)
            .await?;
        self.unserved(user, limit).await
    }

    /// An existing user's unserved recommendations (inactive users allowed).
    pub async fn unserved_for_user(&self, user: UserId, limit: i64) -> DomainResult<Vec<Recommendation>> {
        self.users.ensure_exists(user).await?;
        self.unserved(user, limit).await
    }

    /// An existing user's recommendations scoring at least `min_score`, best first.
    pub async fn top_for_user(
        &self,
        user: UserId,
        min_score: f64,
        limit: i64,
    ) -> DomainResult<Vec<Recommendation>> {
        self.users.ensure_exists(user).await?;
        let query = RecommendationQuery {
            user_id: Some(user),
            min_score: Some(min_score),
            ..RecommendationQuery::default()
        };
        self.recommendations
            .fetch(&query, PageRequest::first(limit))
            .await
    }

    /// An existing user's recommendations of the last `days` days, best first.
    pub async fn recent_for_user(
        &self,
        user: UserId,
        days: i64,
        limit: i64,
    ) -> DomainResult<Vec<Recommendation>> {
        self.users.ensure_exists(user).await?;
        let query = RecommendationQuery {
            user_id: Some(user),
            since: Some(days_ago(self.clock.now(), days)),
            ..RecommendationQuery::default()
        };
        self.recommendations
            .fetch(&query, PageRequest::first(limit))
            .await
    }

    /// An existing item's recommendations, best first.
    pub async fn by_content(
        &self,
        content: ContentId,
        page: PageRequest,
    ) -> DomainResult<Page<Recommendation>> {
        self.list(
            &RecommendationQuery {
                content_item_id: Some(content),
                ..RecommendationQuery::default()
            },
            page,
        )
        .await
    }

    /// Recommendations with exactly this label, newest first.
    pub async fn by_algorithm(&self, label: &str, page: PageRequest) -> DomainResult<Page<Recommendation>> {
        let query = RecommendationQuery {
            algorithm_version: Some(label.to_owned()),
            order: RecommendationOrder::NewestFirst,
            ..RecommendationQuery::default()
        };
        self.recommendations.list(&query, page).await
    }

    /// Marks recommendations served; all must exist.
    pub async fn mark_served(&self, ids: &[RecommendationId]) -> DomainResult<u64> {
        self.recommendations.mark_served(ids, self.clock.now()).await
    }

    /// Counters of an existing user's recommendations.
    pub async fn user_stats(&self, user: UserId) -> DomainResult<RecommendationStats> {
        self.users.ensure_exists(user).await?;
        self.recommendations.stats(Some(user)).await
    }

    /// Counters of all recommendations.
    pub async fn overview(&self) -> DomainResult<RecommendationStats> {
        self.recommendations.stats(None).await
    }

    /// Records a user's feedback on a recommendation, atomically: positive feedback also
    /// records the matching interaction; negative feedback (`disliked`, `dismissed`) takes the
    /// recommendation out of the unserved lists (marks it served, deletes unserved duplicates)
    /// and makes future generations exclude the item and demote items like it.
    pub async fn feedback(
        &self,
        id: RecommendationId,
        feedback: Feedback,
        details: JsonObject,
    ) -> DomainResult<Recommendation> {
        let rec = self.get(id).await?;
        let now = self.clock.now();
        let interaction_type = match feedback {
            Feedback::Liked => Some(InteractionType::Like),
            Feedback::Clicked => Some(InteractionType::View),
            Feedback::Converted => Some(InteractionType::Download),
            Feedback::Disliked | Feedback::Dismissed => None,
        };
        let interaction = match interaction_type {
            Some(interaction_type) => {
                self.users
                    .get_active(rec.user_id, InactiveAction::RecordInteractions)
                    .await?;
                let mut metadata = JsonObject::new();
                metadata.insert("source".into(), json!("recommendation"));
                metadata.insert("recommendation_id".into(), json!(rec.id.0));
                metadata.insert("feedback".into(), json!(feedback.as_str()));
                Some(NewInteraction {
                    user_id: rec.user_id,
                    content_item_id: rec.content_item_id,
                    interaction_type,
                    rating: None,
                    duration: None,
                    metadata,
                })
            }
            None => None,
        };
        let mut metadata = rec.metadata.clone();
        let at = crate::model::TimestampText::micros(&now).to_string();
        metadata.insert(
            "feedback".into(),
            json!({ "type": feedback.as_str(), "at": at, "metadata": Value::Object(details) }),
        );
        self.recommendations
            .record_feedback(id, metadata, interaction, !feedback.is_positive(), now)
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::Recommendation, id))
    }

    /// Generates and stores fresh recommendations for an existing, active user, best first,
    /// with the algorithm the label names (the default for labels naming none — the stored
    /// explanation says so). Stored under the label as sent (trimmed, at most 50 characters).
    ///
    /// When no candidate exists, falls back to the user's existing unserved recommendations,
    /// then to all of them, so the endpoint never returns less than before.
    ///
    /// A label `experiment:<name>` routes through that experiment (404 if there is none): the
    /// user's variant ([`Experiment::assign`]) chooses the algorithm, the recommendations are
    /// stored under the variant's algorithm label with `rec_metadata.experiment =
    /// {id, name, variant}`. A stopped experiment assigns no one: the default algorithm
    /// answers, stored under its own label with a `note` saying so.
    pub async fn generate(&self, mut request: GenerateRequest) -> DomainResult<Vec<Recommendation>> {
        self.users
            .get_active(request.user_id, InactiveAction::ReadRecommendations)
            .await?;
        let mut experiment_note = None;
        let mut experiment_tag = None;
        if let Some(name) = crate::model::experiment_name(&request.algorithm_version) {
            let experiment = self.experiment(name).await?;
            match experiment
                .assign(request.user_id)
                .filter(|_| experiment.is_running())
            {
                Some(variant) => {
                    experiment_tag = Some(json!({
                        "id": experiment.id.0,
                        "name": experiment.name,
                        "variant": variant.name,
                    }));
                    request.algorithm_version = variant.algorithm.clone();
                }
                None => {
                    experiment_note = Some(format!(
                        "experiment '{}' is stopped; used the default ({})",
                        experiment.name,
                        Algorithm::DEFAULT
                    ));
                    request.algorithm_version = Algorithm::DEFAULT.as_str().to_owned();
                }
            }
        }
        let named = Algorithm::from_label(&request.algorithm_version);
        let algorithm = named.unwrap_or(Algorithm::DEFAULT);
        let limit = usize::try_from(request.limit).unwrap_or(0);
        let index = self.semantic.as_ref().and_then(SemanticService::index);
        let outcome = recommend_with(
            self.recommender.as_ref(),
            vectors(&self.semantic, index.as_deref()),
            request.user_id,
            algorithm,
            limit,
            self.clock.now(),
        )
        .await?;
        if !outcome.items.is_empty() {
            let label: String = match request.algorithm_version.trim() {
                "" => algorithm.as_str().to_owned(),
                label => label.chars().take(50).collect(),
            };
            let fresh = outcome
                .items
                .into_iter()
                .map(|r| {
                    let mut metadata = r.explanation;
                    if let Some(tag) = &experiment_tag {
                        metadata.insert("experiment".into(), tag.clone());
                    }
                    if let Some(note) = &experiment_note {
                        metadata.insert("note".into(), json!(note));
                    }
                    if named.is_none() {
                        metadata.insert(
                            "note".into(),
                            json!(format!(
                                "'{}' names no algorithm; used the default ({})",
                                request.algorithm_version,
                                Algorithm::DEFAULT
                            )),
                        );
                    }
                    NewRecommendation {
                        user_id: request.user_id,
                        content_item_id: r.item,
                        score: r.score,
                        algorithm_version: label.clone(),
                        metadata,
                    }
                })
                .collect();
            let mut stored = self.recommendations.insert_many(fresh, self.clock.now()).await?;
            stored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
            return Ok(stored);
        }
        let unserved = self.unserved(request.user_id, request.limit).await?;
        if !unserved.is_empty() {
            return Ok(unserved);
        }
        let query = RecommendationQuery {
            user_id: Some(request.user_id),
            ..RecommendationQuery::default()
        };
        self.recommendations
            .fetch(&query, PageRequest::first(request.limit))
            .await
    }

    /// Items similar to an existing item, best first, with their similarity, and which source
    /// answered (`item-knn` neighbours; for an item without any, `embedding` neighbours when its
    /// vector is indexed, else `tags`).
    pub async fn similar(
        &self,
        id: ContentId,
        limit: i64,
    ) -> DomainResult<(Vec<(Content, f64)>, &'static str)> {
        let item = self
            .content
            .get(id)
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::ContentItem, id))?;
        let limit = usize::try_from(limit).unwrap_or(0);
        let index = self.semantic.as_ref().and_then(SemanticService::index);
        let (found, source) = similar(
            self.recommender.as_ref(),
            vectors(&self.semantic, index.as_deref()),
            &ItemFacts::of(&item),
            limit,
        )
        .await?;
        let ids: Vec<ContentId> = found.iter().map(|(id, _)| *id).collect();
        let mut items: HashMap<ContentId, Content> = self
            .content
            .get_many(&ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let out = found
            .into_iter()
            .filter_map(|(id, score)| items.remove(&id).map(|c| (c, score)))
            .collect();
        Ok((out, source))
    }

    /// The experiment named `name` (404 if none, or if experiments are not wired).
    async fn experiment(&self, name: &str) -> DomainResult<Experiment> {
        let found = match &self.experiments {
            Some(store) => store.by_name(name).await?,
            None => None,
        };
        found.ok_or_else(|| DomainError::NotFound(NotFound::ExperimentName(name.to_owned())))
    }

    async fn unserved(&self, user: UserId, limit: i64) -> DomainResult<Vec<Recommendation>> {
        let query = RecommendationQuery {
            user_id: Some(user),
            unserved_only: true,
            ..RecommendationQuery::default()
        };
        self.recommendations
            .fetch(&query, PageRequest::first(limit))
            .await
    }
}

/// What the engine gets: the index, or — with a semantic service but no model — the note
/// that tags were used; without a semantic service at all, nothing.
fn vectors<'a>(
    semantic: &Option<SemanticService>,
    index: Option<&'a dyn crate::ports::VectorIndex>,
) -> Vectors<'a> {
    match (semantic, index) {
        (_, Some(index)) => Vectors::Index(index),
        (Some(_), None) => Vectors::Unavailable,
        (None, None) => Vectors::NotUsed,
    }
}

fn unique<T: Copy + Eq + std::hash::Hash>(ids: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    ids.filter(|id| seen.insert(*id)).collect()
}
