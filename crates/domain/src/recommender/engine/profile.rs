//! The user's taste as the engine models it ([`Profile`]: decayed affinity of items, tags,
//! types and genres, plus stated preferences) and the content-based score of an item against
//! it ([`ContentScorer`]: IDF-weighted tag cosine, type and genre affinity; [`taste_vector`]
//! for item embeddings).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::SEEDS;
use crate::ids::{ContentId, UserId};
use crate::model::{ContentType, JsonObject, Timestamp};
use crate::ports::VectorIndex;
use crate::recommender::signal::PROFILE_HALF_LIFE_DAYS;
use crate::recommender::{ItemFacts, TagRow, UserState};

/// The unit-length weighted mean of the vectors of `items` (those that have one).
pub(super) fn taste_vector(index: &dyn VectorIndex, items: &[(ContentId, f64)]) -> Option<Vec<f32>> {
    let mut sum: Vec<f64> = Vec::new();
    for (item, weight) in items {
        let Some(v) = index.vector(*item) else { continue };
        if sum.is_empty() {
            sum = vec![0.0; v.len()];
        }
        for (s, x) in sum.iter_mut().zip(&v) {
            *s += weight * f64::from(*x);
        }
    }
    let norm = sum.iter().map(|x| x * x).sum::<f64>().sqrt();
    (norm > 0.0).then(|| sum.iter().map(|x| (x / norm) as f32).collect())
}

pub(super) fn cosine(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum()
}

/// The user's taste as the engine models it.
#[derive(Debug, Default)]
pub(super) struct Profile {
    pub(super) seen: HashSet<ContentId>,
    pub(super) rejected: HashSet<ContentId>,
    /// Decayed affinity of positive items, best first.
    pub(super) seeds: Vec<(ContentId, f64)>,
    pub(super) tags: HashMap<String, f64>,
    pub(super) types: HashMap<ContentType, f64>,
    pub(super) genres: HashMap<String, f64>,
}

impl Profile {
    /// The profile of `state`, its interactions decayed back from the user's newest one (or
    /// `now`, if earlier): a profile is the user's taste when last active, whenever they return.
    pub(super) fn of(state: &UserState, now: Timestamp) -> Profile {
        let mut profile = Profile {
            rejected: state.rejected.iter().copied().collect(),
            ..Profile::default()
        };
        let mut affinity: HashMap<ContentId, f64> = HashMap::new();
        let mut total = 0.0;
        let now = state.history.first().map_or(now, |(s, _)| s.at.min(now));
        for (signal, facts) in &state.history {
            profile.seen.insert(signal.item);
            let w = signal.decayed(now, PROFILE_HALF_LIFE_DAYS);
            total += w.abs();
            *affinity.entry(signal.item).or_default() += w;
            for tag in &facts.tags {
                *profile.tags.entry(tag.clone()).or_default() += w;
            }
            *profile.types.entry(facts.content_type).or_default() += w;
            if let Some(genre) = &facts.genre {
                *profile.genres.entry(genre.to_lowercase()).or_default() += w;
            }
        }
        let mut seeds: Vec<(ContentId, f64)> = affinity.into_iter().filter(|(_, w)| *w > 0.0).collect();
        seeds.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        seeds.truncate(SEEDS);
        profile.seeds = seeds;
        // Stated preferences count like a handful of interactions (everything, for a new user).
        let stated = (0.1 * total).max(1.0);
        for tag in strings(&state.preferences, "favorite_tags") {
            *profile.tags.entry(tag.to_lowercase()).or_default() += stated;
        }
        for genre in strings(&state.preferences, "favorite_genres") {
            *profile.genres.entry(genre.to_lowercase()).or_default() += stated;
        }
        for kind in strings(&state.preferences, "content_types") {
            if let Some(kind) = ContentType::parse(&kind.to_lowercase()) {
                *profile.types.entry(kind).or_default() += stated;
            }
        }
        profile
    }

    pub(super) fn has_taste(&self) -> bool {
        self.tags.values().any(|w| *w > 0.0) || self.genres.values().any(|w| *w > 0.0)
    }

    pub(super) fn top_tags(&self, n: usize) -> Vec<String> {
        let mut tags: Vec<(&String, &f64)> = self.tags.iter().filter(|(_, w)| **w > 0.0).collect();
        tags.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.cmp(b.0)));
        tags.into_iter().take(n).map(|(t, _)| t.clone()).collect()
    }

    pub(super) fn excludes(&self, user: UserId, facts: &ItemFacts) -> bool {
        !facts.listed
            || facts.creator == user
            || self.seen.contains(&facts.id)
            || self.rejected.contains(&facts.id)
    }
}

fn strings<'a>(object: &'a JsonObject, key: &str) -> impl Iterator<Item = &'a str> {
    object
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Content-based relevance of items to a profile.
pub(super) struct ContentScorer<'a> {
    pub(super) profile: &'a Profile,
    pub(super) idf: HashMap<&'a str, f64>,
    pub(super) norm: f64,
    pub(super) max_type: f64,
    pub(super) max_genre: f64,
}

impl<'a> ContentScorer<'a> {
    pub(super) fn new(profile: &'a Profile, tags: &'a [TagRow]) -> Self {
        let max_df = tags.iter().map(|t| t.items).max().unwrap_or(1).max(1) as f64;
        let idf: HashMap<&str, f64> = tags
            .iter()
            .map(|t| (t.tag.as_str(), (1.0 + 2.0 * max_df / t.items.max(1) as f64).ln()))
            .collect();
        let weight = |tag: &str| idf.get(tag).copied().unwrap_or(1.0);
        let norm = profile
            .tags
            .iter()
            .filter(|(_, w)| **w > 0.0)
            .map(|(t, w)| (w * weight(t)).powi(2))
            .sum::<f64>()
            .sqrt();
        ContentScorer {
            profile,
            norm,
            max_type: profile.types.values().copied().fold(0.0, f64::max),
            max_genre: profile.genres.values().copied().fold(0.0, f64::max),
            idf,
        }
    }

    pub(super) fn idf(&self, tag: &str) -> f64 {
        self.idf.get(tag).copied().unwrap_or(1.0)
    }

    /// Score in [0, 1] and the profile tags that matched, strongest first.
    pub(super) fn score(&self, facts: &ItemFacts) -> (f64, Vec<String>) {
        let mut dot = 0.0;
        let mut item_norm = 0.0;
        let mut matched: Vec<(f64, &String)> = Vec::new();
        for tag in &facts.tags {
            let idf = self.idf(tag);
            item_norm += idf * idf;
            if let Some(w) = self.profile.tags.get(tag) {
                let contribution = w * idf * idf;
                dot += contribution;
                if *w > 0.0 {
                    matched.push((contribution, tag));
                }
            }
        }
        let tags = if self.norm > 0.0 && item_norm > 0.0 {
            (dot / (self.norm * item_norm.sqrt())).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let kind = match self.profile.types.get(&facts.content_type) {
            Some(w) if self.max_type > 0.0 && *w > 0.0 => w / self.max_type,
            _ => 0.0,
        };
        let genre = match facts
            .genre
            .as_ref()
            .and_then(|g| self.profile.genres.get(&g.to_lowercase()))
        {
            Some(w) if self.max_genre > 0.0 && *w > 0.0 => w / self.max_genre,
            _ => 0.0,
        };
        matched.sort_by(|a, b| b.0.total_cmp(&a.0));
        (
            0.75 * tags + 0.1 * kind + 0.15 * genre,
            matched.into_iter().take(3).map(|(_, t)| t.clone()).collect(),
        )
    }
}
