//! Deterministic synthetic data sets with planted structure.
//!
//! Used to seed the `demo` schema and, at larger sizes, to evaluate recommendation algorithms
//! offline: users have latent tastes over *themes* (each a vocabulary of tags and preferred
//! content types), items belong to a theme, and interactions are drawn from the users' tastes
//! with popularity skew and noise — so an algorithm that learns tastes measurably beats
//! popularity, as on real data.
//!
//! Everything is a pure function of the [`Spec`] (seed included): the same spec always yields
//! the same data set.

use chrono::Duration;
use serde_json::{Value, json};

use crate::model::{ContentType, InteractionType, JsonObject, Timestamp};

mod vocabulary;

use ContentType::{Audio, Image, Text, Video};
use vocabulary::{ADJECTIVES, FIRST_NAMES, GLOBAL_TAGS, THEMES};

/// Size and randomness of a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Number of users.
    pub users: usize,
    /// Number of content items.
    pub items: usize,
    /// Number of interactions.
    pub interactions: usize,
    /// PRNG seed.
    pub seed: u64,
    /// Time of the newest interaction; everything happens in the 180 days before it (three
    /// years with [`History::Bursty`]).
    pub end: Timestamp,
    /// Probability that an interaction ignores the user's tastes.
    pub noise: f64,
    /// How activity spreads over time.
    pub history: History,
}

/// How activity spreads over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum History {
    /// The default: steady activity over the last 90 days (of a 180-day window), every user
    /// active throughout, item popularity constant over time.
    #[default]
    Recent,
    /// Long, bursty histories like public rating logs: three years of activity, each user
    /// active in one to four short bursts, items "released" over the whole span whose
    /// popularity rises on release and fades over months (a small share of classics keeps
    /// being watched).
    Bursty,
}

impl History {
    /// Its name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            History::Recent => "recent",
            History::Bursty => "bursty",
        }
    }
}

impl Spec {
    /// The demo data set: 60 users, 1,200 items, 12,000 interactions.
    pub fn demo(end: Timestamp) -> Self {
        Spec {
            users: 60,
            items: 1_200,
            interactions: 12_000,
            seed: 42,
            end,
            noise: 0.15,
            history: History::Recent,
        }
    }
}

/// A user of the data set.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedUser {
    /// Unique username.
    pub username: String,
    /// Unique e-mail.
    pub email: String,
    /// Preferences (favourite genres/tags/types, UI settings).
    pub preferences: JsonObject,
    /// Registration time.
    pub created_at: Timestamp,
    /// Activity flag (a few users are inactive).
    pub is_active: bool,
    /// Latent tastes: theme indexes with weights summing to 1.
    pub tastes: Vec<(usize, f64)>,
}

/// An item of the data set.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedItem {
    /// Title.
    pub title: String,
    /// Type.
    pub content_type: ContentType,
    /// Content or reference.
    pub content_data: String,
    /// Metadata.
    pub item_metadata: JsonObject,
    /// Index of the creating user.
    pub creator: usize,
    /// Creation time.
    pub created_at: Timestamp,
    /// Tags.
    pub tags: Vec<String>,
    /// Quality in [0, 1].
    pub quality_score: f64,
    /// Public flag.
    pub is_public: bool,
    /// Private flag.
    pub is_private: bool,
    /// Theme index (the planted truth).
    pub theme: usize,
}

/// An interaction of the data set.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedInteraction {
    /// Index of the user.
    pub user: usize,
    /// Index of the item.
    pub item: usize,
    /// Type.
    pub interaction_type: InteractionType,
    /// Rating 1–5.
    pub rating: Option<i32>,
    /// Duration in seconds.
    pub duration: Option<i32>,
    /// Time (non-decreasing along the list).
    pub created_at: Timestamp,
    /// Metadata.
    pub metadata: JsonObject,
}

/// A generated data set; users, items and interactions refer to each other by index.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Users.
    pub users: Vec<SeedUser>,
    /// Items.
    pub items: Vec<SeedItem>,
    /// Interactions, oldest first.
    pub interactions: Vec<SeedInteraction>,
}

/// SplitMix64: small, fast, deterministic.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Samples indexes proportionally to weights (cumulative table + binary search).
#[derive(Debug, Clone)]
struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        Weighted { cumulative }
    }

    fn sample(&self, rng: &mut Rng) -> Option<usize> {
        let total = *self.cumulative.last()?;
        if total <= 0.0 {
            return None;
        }
        let x = rng.unit() * total;
        Some(
            self.cumulative
                .partition_point(|c| *c <= x)
                .min(self.cumulative.len() - 1),
        )
    }
}

fn object(v: Value) -> JsonObject {
    match v {
        Value::Object(m) => m,
        _ => JsonObject::new(),
    }
}

/// Generates the data set of `spec`.
pub fn generate(spec: &Spec) -> Dataset {
    let mut rng = Rng::new(spec.seed);
    let span = Duration::days(180);
    let start = spec.end - span;
    let span_secs = span.num_seconds() as f64;
    let at = |fraction: f64| start + Duration::seconds((fraction.clamp(0.0, 1.0) * span_secs) as i64);

    // Users: one or two themes each, registered over the first half of the window.
    let users: Vec<SeedUser> = (0..spec.users)
        .map(|i| {
            let first = rng.below(THEMES.len());
            let tastes = if rng.unit() < 0.6 {
                let mut second = rng.below(THEMES.len());
                if second == first {
                    second = (second + 1) % THEMES.len();
                }
                let w = 0.55 + 0.3 * rng.unit();
                vec![(first, w), (second, 1.0 - w)]
            } else {
                vec![(first, 1.0)]
            };
            let main = &THEMES[first];
            let name = FIRST_NAMES[i % FIRST_NAMES.len()];
            let username = format!("{name}_{:04}", i + 1);
            let favourite_tags: Vec<&str> = main.tags.iter().take(3).copied().collect();
            let preferences = object(json!({
                "theme": if rng.unit() < 0.5 { "dark" } else { "light" },
                "language": *rng.pick(&["en", "es", "fr", "de", "ja"]),
                "notifications": rng.unit() < 0.7,
                "favorite_genres": [main.name],
                "favorite_tags": favourite_tags,
                "content_types": [main.types[0].as_str()],
            }));
            SeedUser {
                email: format!("{username}@example.com"),
                username,
                preferences,
                created_at: at(0.5 * i as f64 / spec.users.max(1) as f64),
                is_active: i % 29 != 28,
                tastes,
            }
        })
        .collect();

    // Items: a theme, tags mostly from its vocabulary, a type it favours, a popularity weight.
    let mut by_theme: Vec<Vec<usize>> = vec![Vec::new(); THEMES.len()];
    let mut popularity: Vec<f64> = Vec::with_capacity(spec.items);
    let items: Vec<SeedItem> = (0..spec.items)
        .map(|i| {
            let theme_index = rng.below(THEMES.len());
            let theme = &THEMES[theme_index];
            let content_type = if rng.unit() < 0.8 { *rng.pick(theme.types) } else { *rng.pick(ContentType::ALL) };
            let mut tags: Vec<String> = Vec::new();
            for _ in 0..(2 + rng.below(3)) {
                let tag = rng.pick(theme.tags).to_string();
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            if rng.unit() < 0.3 {
                let tag = rng.pick(GLOBAL_TAGS).to_string();
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            let title = format!("{} {} #{}", rng.pick(ADJECTIVES), rng.pick(theme.nouns), i + 1);
            let (content_data, metadata) = match content_type {
                Text => (
                    format!("A {} story: {} — {} words about {}.", theme.name, title, 300 + rng.below(4000), tags.join(", ")),
                    json!({"genre": theme.name, "word_count": 300 + rng.below(4000), "language": "en"}),
                ),
                Image => (
                    format!("/media/demo/image_{}.png", i + 1),
                    json!({"genre": theme.name, "resolution": *rng.pick(&["512x512", "1024x768", "1920x1080"]), "style": *rng.pick(GLOBAL_TAGS)}),
                ),
                Video => (
                    format!("/media/demo/video_{}.apng", i + 1),
                    json!({"genre": theme.name, "duration": 10 + rng.below(590), "format": "apng"}),
                ),
                Audio => (
                    format!("/media/demo/audio_{}.wav", i + 1),
                    json!({"genre": theme.name, "duration": 30 + rng.below(900), "format": "wav"}),
                ),
            };
            // Zipf-like popularity: a few hits, a long tail.
            popularity.push(1.0 / (1.0 + rng.unit() * 50.0).powf(1.2));
            by_theme[theme_index].push(i);
            let private = i % 10 == 9;
            SeedItem {
                title,
                content_type,
                content_data,
                item_metadata: object(metadata),
                creator: rng.below(spec.users.max(1)),
                created_at: at(0.6 * i as f64 / spec.items.max(1) as f64),
                tags,
                quality_score: ((0.2 + 0.8 * rng.unit()) * 100.0).round() / 100.0,
                is_public: !private,
                is_private: private,
                theme: theme_index,
            }
        })
        .collect();

    if spec.history == History::Bursty {
        return bursty(spec, users, items, &popularity, &by_theme, &mut rng);
    }

    // Interactions: a user (activity skew), then an item from one of their themes (or any
    // item, with probability `noise`), weighted by popularity.
    let theme_samplers: Vec<Weighted> = by_theme
        .iter()
        .map(|ids| Weighted::new(ids.iter().map(|i| popularity[*i])))
        .collect();
    let global = Weighted::new(popularity.iter().copied());
    let activity = Weighted::new((0..spec.users).map(|_| 0.2 + rng.unit().powi(2) * 3.0));
    let engagement = Weighted::new([50.0, 18.0, 6.0, 6.0, 8.0, 5.0, 7.0]);
    let mut interactions = Vec::with_capacity(spec.interactions);
    if spec.users > 0 && spec.items > 0 {
        for n in 0..spec.interactions {
            let Some(user) = activity.sample(&mut rng) else {
                break;
            };
            let on_taste = rng.unit() >= spec.noise;
            let item = if on_taste {
                let tastes = Weighted::new(users[user].tastes.iter().map(|(_, w)| *w));
                let theme = tastes
                    .sample(&mut rng)
                    .map(|t| users[user].tastes[t].0)
                    .unwrap_or(0);
                theme_samplers[theme].sample(&mut rng).map(|k| by_theme[theme][k])
            } else {
                global.sample(&mut rng)
            };
            let Some(item) = item else { continue };
            let interaction_type = engagement
                .sample(&mut rng)
                .map_or(InteractionType::View, |k| InteractionType::ALL[k]);
            let rating = match interaction_type {
                InteractionType::Rate | InteractionType::Like => Some(if on_taste {
                    4 + rng.below(2) as i32
                } else {
                    1 + rng.below(4) as i32
                }),
                _ => None,
            };
            let duration = (interaction_type == InteractionType::View).then(|| 5 + rng.below(600) as i32);
            let fraction = 0.5 + 0.5 * (n as f64 + rng.unit()) / spec.interactions.max(1) as f64;
            interactions.push(SeedInteraction {
                user,
                item,
                interaction_type,
                rating,
                duration,
                created_at: at(fraction),
                metadata: object(json!({
                    "device": *rng.pick(&["mobile", "desktop", "tablet"]),
                    "source": *rng.pick(&["home_page", "search", "recommendation", "profile"]),
                })),
            });
        }
    }
    Dataset {
        users,
        items,
        interactions,
    }
}

/// Length of a [`History::Bursty`] data set's activity, in days.
pub const BURSTY_SPAN_DAYS: i64 = 3 * 365;
/// Width of the time windows over which a bursty data set's item appeal is held constant.
const BURSTY_WINDOW_DAYS: i64 = 7;

/// Re-times users and items and draws the interactions of a [`History::Bursty`] data set.
///
/// Items are released uniformly over the span (some shortly before it); an item's appeal at
/// time `t` is its base popularity × `floor + (1 − floor)·exp(−(t − release)/τ)` with `τ`
/// between 20 and 120 days (`floor` 0.2 for one item in ten — the classics — else 0.01), and
/// zero before release. Each user is active in one to four bursts of one to ten days at
/// random times; an interaction picks a user (activity skew), one of their bursts, a moment in
/// it, then an item of their tastes (or any item, with probability `noise`) by its appeal at
/// that moment.
fn bursty(
    spec: &Spec,
    mut users: Vec<SeedUser>,
    mut items: Vec<SeedItem>,
    popularity: &[f64],
    by_theme: &[Vec<usize>],
    rng: &mut Rng,
) -> Dataset {
    let span = Duration::days(BURSTY_SPAN_DAYS);
    let start = spec.end - span;
    let window = Duration::days(BURSTY_WINDOW_DAYS);
    let windows = (BURSTY_SPAN_DAYS / BURSTY_WINDOW_DAYS + 1) as usize;
    let day = 86_400.0;
    // Releases and lifetimes.
    let mut release = Vec::with_capacity(items.len());
    let mut shape = Vec::with_capacity(items.len());
    for item in &mut items {
        let at = start - Duration::days(60)
            + Duration::seconds((rng.unit() * (span + Duration::days(55)).num_seconds() as f64) as i64);
        item.created_at = at;
        release.push(at);
        let tau = 20.0 + 100.0 * rng.unit();
        let floor = if rng.unit() < 0.1 { 0.2 } else { 0.01 };
        shape.push((tau, floor));
    }
    let appeal = |i: usize, t: Timestamp| -> f64 {
        let age = (t - release[i]).num_seconds() as f64 / day;
        if age < 0.0 {
            0.0
        } else {
            let (tau, floor) = shape[i];
            popularity[i] * (floor + (1.0 - floor) * (-age / tau).exp())
        }
    };
    // Per window: a sampler per theme and the themes' total appeal.
    let mut samplers: Vec<Vec<Weighted>> = Vec::with_capacity(windows);
    let mut theme_totals: Vec<Weighted> = Vec::with_capacity(windows);
    for w in 0..windows {
        // Appeal at the window's start: nothing is drawn before its release.
        let from = start + window * w as i32;
        let per_theme: Vec<Weighted> = by_theme
            .iter()
            .map(|ids| Weighted::new(ids.iter().map(|i| appeal(*i, from))))
            .collect();
        theme_totals.push(Weighted::new(
            per_theme
                .iter()
                .map(|s| s.cumulative.last().copied().unwrap_or(0.0)),
        ));
        samplers.push(per_theme);
    }
    // Bursts.
    let bursts: Vec<Vec<(Timestamp, f64)>> = users
        .iter_mut()
        .map(|user| {
            let n = 1 + rng.below(4);
            let mut list: Vec<(Timestamp, f64)> = (0..n)
                .map(|_| {
                    let length = 1.0 + 9.0 * rng.unit();
                    let at = start
                        + Duration::seconds((rng.unit() * (span.num_seconds() as f64 - length * day)) as i64);
                    (at, length)
                })
                .collect();
            list.sort_by_key(|b| b.0);
            user.created_at = list[0].0 - Duration::days(1);
            list
        })
        .collect();
    let activity = Weighted::new((0..spec.users).map(|_| 0.2 + rng.unit().powi(2) * 3.0));
    let engagement = Weighted::new([50.0, 18.0, 6.0, 6.0, 8.0, 5.0, 7.0]);
    let mut interactions = Vec::with_capacity(spec.interactions);
    if spec.users > 0 && spec.items > 0 {
        for _ in 0..spec.interactions {
            let Some(user) = activity.sample(rng) else { break };
            let (burst, length) = *rng.pick(&bursts[user]);
            let at = (burst + Duration::seconds((rng.unit() * length * day) as i64)).min(spec.end);
            let w = (((at - start).num_seconds() / window.num_seconds()).max(0) as usize).min(windows - 1);
            let on_taste = rng.unit() >= spec.noise;
            let theme = if on_taste {
                let tastes = Weighted::new(users[user].tastes.iter().map(|(_, w)| *w));
                tastes.sample(rng).map(|t| users[user].tastes[t].0)
            } else {
                theme_totals[w].sample(rng)
            };
            let Some(theme) = theme else { continue };
            let Some(item) = samplers[w][theme].sample(rng).map(|k| by_theme[theme][k]) else {
                continue;
            };
            let interaction_type = engagement
                .sample(rng)
                .map_or(InteractionType::View, |k| InteractionType::ALL[k]);
            let rating = match interaction_type {
                InteractionType::Rate | InteractionType::Like => Some(if on_taste {
                    4 + rng.below(2) as i32
                } else {
                    1 + rng.below(4) as i32
                }),
                _ => None,
            };
            let duration = (interaction_type == InteractionType::View).then(|| 5 + rng.below(600) as i32);
            interactions.push(SeedInteraction {
                user,
                item,
                interaction_type,
                rating,
                duration,
                created_at: at,
                metadata: object(json!({
                    "device": *rng.pick(&["mobile", "desktop", "tablet"]),
                    "source": *rng.pick(&["home_page", "search", "recommendation", "profile"]),
                })),
            });
        }
    }
    interactions.sort_by_key(|i| i.created_at);
    Dataset {
        users,
        items,
        interactions,
    }
}

#[cfg(test)]
mod tests;
