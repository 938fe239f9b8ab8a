//! Request-time recommendation: reads the user and candidate lists through
//! [`RecommenderData`], scores with the chosen [`Algorithm`], and explains every result.
//!
//! * `popularity` — the most popular listed items in the user's era (around their newest
//!   interaction, or now), blended with all-time popularity; type- and rating-weighted (see
//!   [`popularity`](crate::recommender::popularity)).
//! * `content` — cosine similarity between the user's profile (tags of the items they engaged
//!   with, weighted by signal and recency, IDF-weighted; preferred tags, genres and types from
//!   `preferences`) and each candidate's tags, plus type and genre affinity.
//! * `item-knn` — `Σ affinity(seed) × similarity(seed, item)` over the user's recent positive
//!   items and their precomputed neighbours.
//! * `ease` — the learned model folded in at request time: `Σ ln(1 + affinity(seed)) × B[seed][item]`
//!   over the same seeds and their rows of the learned weights ([`learned`](super::learned)),
//!   so a new interaction counts on the next call, weighted by a time prior: `× (0.05 +
//!   trending)^0.3`, where `trending` is the item's score in the trending era of the user's
//!   newest interaction ([`PopularityConfig::trending`](super::PopularityConfig::trending));
//!   users none of whose items the model covers fall back to `item-knn`.
//! * `hybrid` — `0.4·ease + 0.25·knn + 0.2·content + 0.15·popularity` (components normalised
//!   to [0, 1]); without the learned model's signal `0.6·knn + 0.25·content + 0.15·popularity`;
//!   without collaborative signal `0.65·content + 0.35·popularity`; without any profile,
//!   popularity. Then a diversity pass (maximal marginal relevance over tags and creators) so the
//!   top of the list is not near-duplicates.
//!
//! Always: only listed (public, not private) items, never the user's own, never items they
//! already interacted with or rejected; items resembling rejected ones are demoted. Missing
//! derived state never fails a call: the engine falls back (live popularity, tag search,
//! another algorithm) and records why in `notes`.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::error::DomainResult;
use crate::ids::{ContentId, UserId};
use crate::model::{JsonObject, Timestamp};
use crate::ports::{RecommenderData, VectorIndex};
use crate::recommender::signal::type_weights;
use crate::recommender::{Algorithm, CandidateLists, CandidateRequest, ItemFacts, TagRow};

mod diversity;
mod profile;

use diversity::{diversify, jaccard};
use profile::{ContentScorer, Profile, cosine, taste_vector};

/// Interactions of the user read per request.
const HISTORY: usize = 200;
/// Positive items whose neighbours are read.
const SEEDS: usize = 20;
/// Profile tags whose top items are candidates.
const PROFILE_TAGS: usize = 8;
/// Top items read per profile tag.
const PER_TAG: usize = 40;
/// Most popular items read.
const POPULAR: usize = 100;
/// Newest items read (so new items without interactions can be found).
const RECENT: usize = 20;
/// Item-kNN candidates kept.
const KNN_CANDIDATES: usize = 200;
/// Live popularity looks this far back when no build exists (days).
const LIVE_WINDOW_DAYS: i64 = 90;
/// Hybrid's blend with the learned model: ease, knn, content, popularity (chosen by offline
/// evaluation, docs/recommender.md).
const HYBRID_EASE: [f64; 4] = [0.4, 0.25, 0.2, 0.15];
/// Hybrid's blend without it: knn, content, popularity.
const HYBRID_KNN: [f64; 3] = [0.6, 0.25, 0.15];
/// The learned model's time prior: `(TREND_FLOOR + trending)^TREND_EXPONENT` (chosen by offline
/// evaluation, docs/recommender.md).
const TREND_FLOOR: f64 = 0.05;
const TREND_EXPONENT: f64 = 0.3;
/// Weight of relevance against novelty in the diversity pass.
const DIVERSITY_LAMBDA: f64 = 0.8;
/// Items nearest to the user's taste vector read as candidates.
const EMBEDDING_CANDIDATES: usize = 50;
/// Share of the embedding similarity in the `content` score when the user has a taste vector
/// (the rest is the tag score).
const EMBEDDING_WEIGHT: f64 = 0.5;
/// The note every explanation carries when content is scored by tags because no embedding
/// model is loaded.
pub const TAG_FALLBACK_NOTE: &str = "content: item embeddings unavailable; used the tag fallback";

/// Item embeddings as the engine sees them.
#[derive(Clone, Copy)]
pub enum Vectors<'a> {
    /// Not part of this computation (offline evaluation, benchmarks): tags only, no note.
    NotUsed,
    /// No model is loaded: tags only, and every explanation says so.
    Unavailable,
    /// The index of item embeddings.
    Index(&'a dyn VectorIndex),
}

/// One recommended item.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommended {
    /// The item.
    pub item: ContentId,
    /// Score in `[0, 1]`.
    pub score: f64,
    /// Why: algorithm, rank, score components, the items and tags that caused it, notes.
    pub explanation: JsonObject,
}

/// The result of one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The algorithm that produced the items (may differ from the requested one on fallback).
    pub algorithm: Algorithm,
    /// Fallbacks and other remarks, for the explanations.
    pub notes: Vec<String>,
    /// Best first.
    pub items: Vec<Recommended>,
}

/// A scored candidate.
#[derive(Debug, Clone)]
struct Candidate {
    facts: ItemFacts,
    knn: f64,
    ease: f64,
    /// The item's score in the user's trending era (when the model asked for one).
    trending: Option<f64>,
    content: f64,
    embedding: Option<f64>,
    popularity: f64,
    score: f64,
    because_items: Vec<ContentId>,
    because_tags: Vec<String>,
    demoted: bool,
}

/// Recommends up to `k` items to `user` with `algorithm` (tags only for content; see
/// [`recommend_with`]).
pub async fn recommend(
    data: &dyn RecommenderData,
    user: UserId,
    algorithm: Algorithm,
    k: usize,
    now: Timestamp,
) -> DomainResult<Outcome> {
    recommend_with(data, Vectors::NotUsed, user, algorithm, k, now).await
}

/// Recommends up to `k` items to `user` with `algorithm`; with an index of item embeddings,
/// `content` also scores by the user's taste vector (the weighted mean of the embeddings of
/// their positive items) and reads the items nearest to it as candidates.
pub async fn recommend_with(
    data: &dyn RecommenderData,
    vectors: Vectors<'_>,
    user: UserId,
    algorithm: Algorithm,
    k: usize,
    now: Timestamp,
) -> DomainResult<Outcome> {
    let state = data.user_state(user, HISTORY).await?;
    let profile = Profile::of(&state, now);
    let mut notes: Vec<String> = Vec::new();
    // `ease` reads the neighbours too: its fallback for users outside the model.
    let wants_knn = matches!(
        algorithm,
        Algorithm::ItemKnn | Algorithm::Ease | Algorithm::Hybrid
    );
    let wants_ease = matches!(algorithm, Algorithm::Ease | Algorithm::Hybrid);
    let wants_content = matches!(algorithm, Algorithm::Content | Algorithm::Hybrid);
    let index = match vectors {
        Vectors::Index(index) if wants_content => Some(index),
        _ => None,
    };
    let taste = index.and_then(|index| taste_vector(index, &profile.seeds));
    let request = CandidateRequest {
        seeds: if wants_knn {
            profile.seeds.iter().map(|(id, _)| *id).collect()
        } else {
            Vec::new()
        },
        tags: if wants_content || algorithm == Algorithm::ItemKnn {
            profile.top_tags(PROFILE_TAGS)
        } else {
            Vec::new()
        },
        per_tag: PER_TAG,
        // Popularity alone must still fill the list after the user's items are excluded.
        popular: POPULAR.max(k * 3)
            + if algorithm == Algorithm::Popularity {
                profile.seen.len()
            } else {
                0
            },
        // Popular when the user was last active (their era), or now.
        popular_at: Some(state.history.first().map_or(now, |(s, _)| s.at)),
        recent: RECENT.max(k),
        model: wants_ease,
    };
    let mut lists = data.candidates(&request).await?;
    if lists.built_at.is_none() {
        notes.push(
            "recommender state not built yet: popularity computed live, content candidates found by tag \
             search, no item neighbours"
                .into(),
        );
        lists = CandidateLists {
            recent: lists.recent,
            ..live_lists(data, &request, now).await?
        };
    }

    // Collaborative scores: item-kNN over the neighbour lists, and the learned model folded in
    // over its rows of the same seeds (its rows were fitted on `ln(1 + Σ weights)`, so the
    // user's affinities enter the same way).
    let affinity: HashMap<ContentId, f64> = profile.seeds.iter().copied().collect();
    let (knn, knn_ranked) = fold(&lists.neighbours, |seed| affinity.get(&seed).copied(), &profile);
    let (ease, ease_ranked) = fold(
        &lists.model,
        |seed| affinity.get(&seed).map(|a| a.ln_1p()),
        &profile,
    );
    let popularity: HashMap<ContentId, f64> = lists.popular.iter().copied().collect();
    let trending: HashMap<ContentId, f64> = lists.trending.iter().copied().collect();
    // The model's scores weighted by the time prior (none without trending eras).
    let prior = |id: &ContentId| {
        if trending.is_empty() {
            1.0
        } else {
            (TREND_FLOOR + trending.get(id).copied().unwrap_or(0.0).max(0.0)).powf(TREND_EXPONENT)
        }
    };
    let max_popularity = lists.popular.iter().map(|p| p.1).fold(0.0, f64::max);

    // Which algorithm actually runs.
    let effective = match algorithm {
        Algorithm::Ease if ease_ranked.is_empty() && !knn_ranked.is_empty() => {
            notes.push("ease: none of this user's items is in the learned model yet; used item-knn".into());
            Algorithm::ItemKnn
        }
        Algorithm::Ease if ease_ranked.is_empty() => {
            notes.push(if profile.seeds.is_empty() {
                "ease: no positive interactions yet; used popularity".into()
            } else {
                "ease: this user's items are not in the learned model and have no neighbours; used popularity"
                    .into()
            });
            Algorithm::Popularity
        }
        Algorithm::ItemKnn if knn_ranked.is_empty() => {
            notes.push(if profile.seeds.is_empty() {
                "item-knn: no positive interactions yet; used popularity".into()
            } else {
                "item-knn: no neighbours for this user's items; used popularity".into()
            });
            Algorithm::Popularity
        }
        Algorithm::Content if !profile.has_taste() && taste.is_none() => {
            notes.push("content: no profile or preferences yet; used popularity".into());
            Algorithm::Popularity
        }
        Algorithm::Hybrid
            if !profile.has_taste() && taste.is_none() && knn_ranked.is_empty() && ease_ranked.is_empty() =>
        {
            notes.push("hybrid: cold start without preferences; used popularity".into());
            Algorithm::Popularity
        }
        other => other,
    };

    // Candidate set.
    let mut ids: Vec<ContentId> = Vec::new();
    let add = |id: ContentId, ids: &mut Vec<ContentId>| {
        if !profile.seen.contains(&id) && !profile.rejected.contains(&id) {
            ids.push(id);
        }
    };
    match effective {
        Algorithm::Popularity => lists.popular.iter().for_each(|(id, _)| add(*id, &mut ids)),
        Algorithm::ItemKnn => knn_ranked.iter().for_each(|(id, _)| add(*id, &mut ids)),
        Algorithm::Ease => ease_ranked.iter().for_each(|(id, _)| add(*id, &mut ids)),
        Algorithm::Content | Algorithm::Hybrid => {
            ease_ranked.iter().for_each(|(id, _)| add(*id, &mut ids));
            knn_ranked.iter().for_each(|(id, _)| add(*id, &mut ids));
            for tag in &lists.tags {
                tag.top.iter().for_each(|(id, _)| add(*id, &mut ids));
            }
            lists.popular.iter().for_each(|(id, _)| add(*id, &mut ids));
            if let (Some(index), Some(taste)) = (index, &taste) {
                for (id, _) in index.nearest(taste, EMBEDDING_CANDIDATES + profile.seen.len().min(HISTORY)) {
                    add(id, &mut ids);
                }
            }
        }
    }
    let content_used = matches!(effective, Algorithm::Content | Algorithm::Hybrid);
    if content_used && matches!(vectors, Vectors::Unavailable) {
        notes.push(TAG_FALLBACK_NOTE.into());
    }
    // New items have no popularity or neighbours yet; they still deserve a chance to be seen.
    if !matches!(effective, Algorithm::ItemKnn | Algorithm::Ease) {
        lists.recent.iter().for_each(|id| add(*id, &mut ids));
    }
    let mut unique = HashSet::new();
    ids.retain(|id| unique.insert(*id));
    let mut wanted = ids.clone();
    wanted.extend(profile.rejected.iter().copied());
    let facts: HashMap<ContentId, ItemFacts> = data
        .facts(&wanted)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let rejected_tags: Vec<HashSet<&str>> = profile
        .rejected
        .iter()
        .filter_map(|id| facts.get(id))
        .map(|f| f.tags.iter().map(String::as_str).collect())
        .filter(|t: &HashSet<&str>| !t.is_empty())
        .collect();

    let scorer = ContentScorer::new(&profile, &lists.tags);
    let max_knn = knn_ranked.first().map_or(0.0, |k| k.1);
    let mut candidates: Vec<Candidate> = ids
        .iter()
        .filter_map(|id| facts.get(id))
        .filter(|f| !profile.excludes(user, f))
        .map(|f| {
            let (knn_score, knn_because) = knn.get(&f.id).cloned().unwrap_or_default();
            let (ease_score, ease_because) = ease.get(&f.id).cloned().unwrap_or_default();
            // The learned model explains where it scored; item-kNN otherwise.
            let mut because = match effective {
                Algorithm::Ease => ease_because,
                Algorithm::Hybrid if !ease_because.is_empty() => ease_because,
                _ => knn_because,
            };
            because.sort_by(|a, b| b.0.total_cmp(&a.0));
            let (tags_score, because_tags) = if content_used {
                scorer.score(f)
            } else {
                (0.0, Vec::new())
            };
            let embedding = match (index, &taste) {
                (Some(index), Some(taste)) if content_used => {
                    Some(index.vector(f.id).map_or(0.0, |v| cosine(taste, &v).max(0.0)))
                }
                _ => None,
            };
            let content = match embedding {
                Some(e) => (1.0 - EMBEDDING_WEIGHT) * tags_score + EMBEDDING_WEIGHT * e,
                None => tags_score,
            };
            let item_tags: HashSet<&str> = f.tags.iter().map(String::as_str).collect();
            let demoted = rejected_tags.iter().any(|r| jaccard(r, &item_tags) >= 0.5);
            Candidate {
                knn: if max_knn > 0.0 { knn_score / max_knn } else { 0.0 },
                ease: ease_score.max(0.0) * prior(&f.id),
                trending: trending.get(&f.id).copied(),
                content,
                embedding,
                popularity: if max_popularity > 0.0 {
                    popularity.get(&f.id).copied().unwrap_or(0.0).max(0.0) / max_popularity
                } else {
                    0.0
                },
                score: 0.0,
                because_items: because.into_iter().take(3).map(|(_, id)| id).collect(),
                because_tags,
                demoted,
                facts: f.clone(),
            }
        })
        .collect();
    let max_ease = candidates.iter().map(|c| c.ease).fold(0.0, f64::max);
    if max_ease > 0.0 {
        candidates.iter_mut().for_each(|c| c.ease /= max_ease);
    }
    let collaborative = !knn_ranked.is_empty() || !ease_ranked.is_empty();
    let learned = !ease_ranked.is_empty();
    if effective == Algorithm::Hybrid && !collaborative {
        notes.push("hybrid: no collaborative signal yet; blended content and popularity".into());
    }
    for c in &mut candidates {
        let score = match effective {
            Algorithm::Popularity => c.popularity,
            Algorithm::Content => 0.7 * c.content + 0.3 * c.popularity,
            Algorithm::ItemKnn => c.knn,
            Algorithm::Ease => c.ease,
            Algorithm::Hybrid if learned => {
                let [e, n, t, p] = HYBRID_EASE;
                e * c.ease + n * c.knn + t * c.content + p * c.popularity
            }
            Algorithm::Hybrid if collaborative => {
                let [n, t, p] = HYBRID_KNN;
                n * c.knn + t * c.content + p * c.popularity
            }
            Algorithm::Hybrid => 0.65 * c.content + 0.35 * c.popularity,
        };
        // A sliver of quality orders items the blend cannot tell apart (e.g. new ones).
        let score = 0.98 * score + 0.02 * c.facts.quality.clamp(0.0, 1.0);
        c.score = if c.demoted { score * 0.5 } else { score };
    }
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.facts.id.cmp(&b.facts.id)));
    if effective == Algorithm::Hybrid {
        candidates = diversify(candidates, k);
    }
    candidates.truncate(k);

    let items = candidates
        .into_iter()
        .enumerate()
        .map(|(rank, c)| {
            let mut explanation = JsonObject::new();
            explanation.insert("algorithm".into(), json!(effective.as_str()));
            if effective != algorithm {
                explanation.insert("requested_algorithm".into(), json!(algorithm.as_str()));
            }
            explanation.insert("rank".into(), json!(rank + 1));
            let mut components = JsonObject::new();
            if matches!(effective, Algorithm::Ease | Algorithm::Hybrid) {
                components.insert("ease".into(), json!(round(c.ease)));
                if let Some(t) = c.trending.filter(|_| c.ease > 0.0) {
                    components.insert("trending".into(), json!(round(t)));
                }
            }
            if matches!(effective, Algorithm::ItemKnn | Algorithm::Hybrid) {
                components.insert("item_knn".into(), json!(round(c.knn)));
            }
            if matches!(effective, Algorithm::Content | Algorithm::Hybrid) {
                components.insert("content".into(), json!(round(c.content)));
            }
            if let Some(e) = c.embedding {
                components.insert("embedding".into(), json!(round(e)));
            }
            components.insert("popularity".into(), json!(round(c.popularity)));
            explanation.insert("components".into(), Value::Object(components));
            if !c.because_items.is_empty() && effective != Algorithm::Popularity {
                explanation.insert(
                    "because_items".into(),
                    json!(c.because_items.iter().map(|i| i.0).collect::<Vec<_>>()),
                );
            }
            if !c.because_tags.is_empty() {
                explanation.insert("because_tags".into(), json!(c.because_tags));
            }
            if c.demoted {
                explanation.insert("demoted".into(), json!("resembles an item the user rejected"));
            }
            if !notes.is_empty() {
                explanation.insert("notes".into(), json!(notes));
            }
            Recommended {
                item: c.facts.id,
                score: round(c.score.clamp(0.0, 1.0)),
                explanation,
            }
        })
        .collect();
    Ok(Outcome {
        algorithm: effective,
        notes,
        items,
    })
}

/// Per item, its summed score and the contributions of each seed.
type Folded = HashMap<ContentId, (f64, Vec<(f64, ContentId)>)>;

/// `Σ weight(seed) × row[seed][item]` over the rows of the seeds with a weight, and the best
/// [`KNN_CANDIDATES`] unseen, unrejected items with a positive score, best first.
fn fold(
    rows: &[(ContentId, Vec<(ContentId, f32)>)],
    weight: impl Fn(ContentId) -> Option<f64>,
    profile: &Profile,
) -> (Folded, Vec<(ContentId, f64)>) {
    let mut scores: Folded = HashMap::new();
    for (seed, row) in rows {
        let Some(a) = weight(*seed) else { continue };
        for (item, w) in row {
            let entry = scores.entry(*item).or_default();
            let contribution = a * f64::from(*w);
            entry.0 += contribution;
            entry.1.push((contribution, *seed));
        }
    }
    let mut ranked: Vec<(ContentId, f64)> = scores
        .iter()
        .filter(|(id, (s, _))| *s > 0.0 && !profile.seen.contains(id) && !profile.rejected.contains(id))
        .map(|(id, (s, _))| (*id, *s))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(KNN_CANDIDATES);
    (scores, ranked)
}

/// Candidate lists computed live, for a store that was never built.
async fn live_lists(
    data: &dyn RecommenderData,
    request: &CandidateRequest,
    now: Timestamp,
) -> DomainResult<CandidateLists> {
    let since = now - chrono::Duration::days(LIVE_WINDOW_DAYS);
    let popular = data.popular_live(since, &type_weights(), request.popular).await?;
    let tags = if request.tags.is_empty() {
        Vec::new()
    } else {
        let found = data
            .tagged_live(&request.tags, request.per_tag * request.tags.len())
            .await?;
        vec![TagRow {
            tag: String::new(),
            items: 0,
            top: found.into_iter().map(|id| (id, 0.0)).collect(),
        }]
    };
    Ok(CandidateLists {
        built_at: None,
        neighbours: Vec::new(),
        model: Vec::new(),
        tags,
        popular,
        trending: Vec::new(),
        recent: Vec::new(),
    })
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Items similar to `item`: its precomputed neighbours (`item-knn`), or — when it has none —
/// the items nearest to its embedding (`embedding`, with an index that holds it), or listed
/// items sharing its tags (`tags`, Jaccard). Returns the items, best first, and which source
/// answered.
pub async fn similar(
    data: &dyn RecommenderData,
    vectors: Vectors<'_>,
    item: &ItemFacts,
    k: usize,
) -> DomainResult<(Vec<(ContentId, f64)>, &'static str)> {
    let lists = data
        .candidates(&CandidateRequest {
            seeds: vec![item.id],
            ..CandidateRequest::default()
        })
        .await?;
    let neighbours: Vec<(ContentId, f64)> = lists
        .neighbours
        .into_iter()
        .filter(|(seed, _)| *seed == item.id)
        .flat_map(|(_, n)| n)
        .map(|(id, s)| (id, f64::from(s)))
        .collect();
    if !neighbours.is_empty() {
        let ids: Vec<ContentId> = neighbours.iter().map(|n| n.0).collect();
        let listed: HashSet<ContentId> = data
            .facts(&ids)
            .await?
            .into_iter()
            .filter(|f| f.listed)
            .map(|f| f.id)
            .collect();
        let found: Vec<(ContentId, f64)> = neighbours
            .into_iter()
            .filter(|(id, _)| listed.contains(id) && *id != item.id)
            .take(k)
            .map(|(id, s)| (id, round(s.clamp(0.0, 1.0))))
            .collect();
        if !found.is_empty() {
            return Ok((found, "item-knn"));
        }
    }
    if let Vectors::Index(index) = vectors
        && let Some(vector) = index.vector(item.id)
    {
        // Over-fetch: unlisted items are dropped after.
        let nearest = index.nearest(&vector, 3 * k + 10);
        let ids: Vec<ContentId> = nearest.iter().map(|n| n.0).filter(|id| *id != item.id).collect();
        let listed: HashSet<ContentId> = data
            .facts(&ids)
            .await?
            .into_iter()
            .filter(|f| f.listed)
            .map(|f| f.id)
            .collect();
        let found: Vec<(ContentId, f64)> = nearest
            .into_iter()
            .filter(|(id, _)| listed.contains(id))
            .take(k)
            .map(|(id, s)| (id, round(f64::from(s).clamp(0.0, 1.0))))
            .collect();
        if !found.is_empty() {
            return Ok((found, "embedding"));
        }
    }
    if item.tags.is_empty() {
        return Ok((Vec::new(), "tags"));
    }
    let ids = data.tagged_live(&item.tags, 500).await?;
    let facts = data.facts(&ids).await?;
    let mine: HashSet<&str> = item.tags.iter().map(String::as_str).collect();
    let mut scored: Vec<(ContentId, f64)> = facts
        .iter()
        .filter(|f| f.listed && f.id != item.id)
        .map(|f| {
            let theirs: HashSet<&str> = f.tags.iter().map(String::as_str).collect();
            let type_bonus = if f.content_type == item.content_type {
                0.1
            } else {
                0.0
            };
            (f.id, round((0.9 * jaccard(&mine, &theirs) + type_bonus).min(1.0)))
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(k);
    Ok((scored, "tags"))
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::model::{ContentType, InteractionType};
    use crate::recommender::{Signal, UserState};

    /// Fixed answers: one user who liked `SEED`; the model's row of `SEED` weighs `X` and
    /// `Y` alike.
    struct Fixed {
        trending: Vec<(ContentId, f64)>,
    }

    const USER: UserId = UserId(1);
    const SEED: ContentId = ContentId(10);
    const X: ContentId = ContentId(11);
    const Y: ContentId = ContentId(12);

    fn facts(id: ContentId) -> ItemFacts {
        ItemFacts {
            id,
            creator: UserId(99),
            content_type: ContentType::Image,
            tags: Vec::new(),
            genre: None,
            listed: true,
            quality: 0.5,
            created_at: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap().naive_utc(),
        }
    }

    #[async_trait]
    impl RecommenderData for Fixed {
        async fn user_state(&self, _: UserId, _: usize) -> DomainResult<UserState> {
            let signal = Signal {
                item: SEED,
                kind: InteractionType::Like,
                rating: None,
                at: Utc.with_ymd_and_hms(2021, 6, 1, 0, 0, 0).unwrap().naive_utc(),
            };
            Ok(UserState {
                history: vec![(signal, facts(SEED))],
                ..UserState::default()
            })
        }
        async fn candidates(&self, request: &CandidateRequest) -> DomainResult<CandidateLists> {
            assert!(request.model && request.popular_at.is_some());
            Ok(CandidateLists {
                built_at: Some(Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap().naive_utc()),
                model: vec![(SEED, vec![(X, 0.5), (Y, 0.5)])],
                trending: self.trending.clone(),
                ..CandidateLists::default()
            })
        }
        async fn popular_live(
            &self,
            _: Timestamp,
            _: &[(&'static str, f64)],
            _: usize,
        ) -> DomainResult<Vec<(ContentId, f64)>> {
            Ok(Vec::new())
        }
        async fn tagged_live(&self, _: &[String], _: usize) -> DomainResult<Vec<ContentId>> {
            Ok(Vec::new())
        }
        async fn facts(&self, ids: &[ContentId]) -> DomainResult<Vec<ItemFacts>> {
            Ok(ids.iter().map(|id| facts(*id)).collect())
        }
    }

    async fn ranked(trending: Vec<(ContentId, f64)>) -> Vec<Recommended> {
        let now = Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap().naive_utc();
        recommend(&Fixed { trending }, USER, Algorithm::Ease, 10, now)
            .await
            .unwrap()
            .items
    }

    #[tokio::test]
    async fn the_learned_model_prefers_what_was_trending_when_the_user_was_active() {
        // Without trending eras the two tie (the lower id first).
        let plain = ranked(Vec::new()).await;
        assert_eq!(plain.iter().map(|r| r.item).collect::<Vec<_>>(), vec![X, Y]);
        assert!(plain[0].explanation["components"].get("trending").is_none());
        // Y trends in the user's era: it leads, and says by how much it trended.
        let prior = ranked(vec![(Y, 1.0), (X, 0.1)]).await;
        assert_eq!(prior.iter().map(|r| r.item).collect::<Vec<_>>(), vec![Y, X]);
        assert_eq!(prior[0].explanation["components"]["trending"], json!(1.0));
        assert_eq!(
            prior[0].explanation["components"]["ease"],
            json!(1.0),
            "normalised after the prior"
        );
        // (0.05 + 0.1)^0.3 / (0.05 + 1)^0.3 of the leader's score.
        let expected = ((TREND_FLOOR + 0.1) / (TREND_FLOOR + 1.0)).powf(TREND_EXPONENT);
        let ease = prior[1].explanation["components"]["ease"].as_f64().unwrap();
        assert!((ease - expected).abs() < 1e-3, "{ease} vs {expected}");
    }
}
