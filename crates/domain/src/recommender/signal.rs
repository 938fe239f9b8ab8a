//! How much an interaction says about a user's taste.
//!
//! Weights grow with commitment — a view says little, a bookmark a lot:
//!
//! | type | weight |
//! |---|---|
//! | view | 1 |
//! | rate | 2 |
//! | comment | 2.5 |
//! | like | 3 |
//! | share, download | 4 |
//! | bookmark | 5 |
//!
//! A rating scales the weight: 5 → ×1.5, 4 → ×1, 3 → ×0.5, 2 → ×−0.5, 1 → ×−1, so a poor
//! rating counts *against* the item. Older interactions count less: the weight halves every
//! half-life (popularity uses a short one — what is trending — and taste profiles a long one).

use crate::ids::ContentId;
use crate::model::{InteractionType, Timestamp};

/// One interaction of a user with an item, as the recommender reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signal {
    /// The item.
    pub item: ContentId,
    /// What the user did.
    pub kind: InteractionType,
    /// Their rating, if any (1–5).
    pub rating: Option<i32>,
    /// When.
    pub at: Timestamp,
}

/// Half-life of popularity, in days.
pub const POPULARITY_HALF_LIFE_DAYS: f64 = 14.0;
/// Half-life of a user's taste profile, in days.
pub const PROFILE_HALF_LIFE_DAYS: f64 = 60.0;

/// The base weight of an interaction type.
pub fn type_weight(kind: InteractionType) -> f64 {
    match kind {
        InteractionType::View => 1.0,
        InteractionType::Rate => 2.0,
        InteractionType::Comment => 2.5,
        InteractionType::Like => 3.0,
        InteractionType::Share | InteractionType::Download => 4.0,
        InteractionType::Bookmark => 5.0,
    }
}

/// Every type with its weight (for adapters computing live popularity).
pub fn type_weights() -> Vec<(&'static str, f64)> {
    InteractionType::ALL
        .iter()
        .map(|t| (t.as_str(), type_weight(*t)))
        .collect()
}

/// The factor a rating applies.
pub fn rating_factor(rating: Option<i32>) -> f64 {
    match rating {
        None => 1.0,
        Some(r) if r >= 5 => 1.5,
        Some(4) => 1.0,
        Some(3) => 0.5,
        Some(2) => -0.5,
        Some(_) => -1.0,
    }
}

impl Signal {
    /// Weight before decay; negative for poor ratings.
    pub fn weight(&self) -> f64 {
        type_weight(self.kind) * rating_factor(self.rating)
    }

    /// Weight decayed to `now` with the given half-life.
    pub fn decayed(&self, now: Timestamp, half_life_days: f64) -> f64 {
        self.weight() * decay(now, self.at, half_life_days)
    }

    /// Forward-decayed weight relative to `epoch`: `weight × 2^((at − epoch) / half-life)`.
    /// Sums of these rank items exactly like sums of [`decayed`](Self::decayed) weights, but
    /// never change as time passes, so an item's score only changes when it gets interactions.
    pub fn forward(&self, epoch: Timestamp, half_life_days: f64) -> f64 {
        let days = (self.at - epoch).num_seconds() as f64 / 86_400.0;
        self.weight() * (days / half_life_days).exp2()
    }
}

/// `2^(−age / half-life)`; future timestamps count fully.
pub fn decay(now: Timestamp, at: Timestamp, half_life_days: f64) -> f64 {
    let days = ((now - at).num_seconds() as f64 / 86_400.0).max(0.0);
    (-days / half_life_days).exp2()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(day: u32) -> Timestamp {
        NaiveDate::from_ymd_opt(2025, 1, day)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    fn signal(kind: InteractionType, rating: Option<i32>, day: u32) -> Signal {
        Signal {
            item: ContentId(1),
            kind,
            rating,
            at: at(day),
        }
    }

    #[test]
    fn commitment_and_ratings_order_the_weights() {
        let view = signal(InteractionType::View, None, 1).weight();
        let like = signal(InteractionType::Like, None, 1).weight();
        let bookmark = signal(InteractionType::Bookmark, None, 1).weight();
        assert!(view < like && like < bookmark);
        assert!(signal(InteractionType::Rate, Some(1), 1).weight() < 0.0);
        assert!(
            signal(InteractionType::Rate, Some(5), 1).weight()
                > signal(InteractionType::Rate, Some(4), 1).weight()
        );
    }

    #[test]
    fn decay_halves_per_half_life_and_forward_decay_ranks_the_same() {
        let old = signal(InteractionType::Like, None, 1);
        let new = signal(InteractionType::Like, None, 15);
        let now = at(29);
        assert!((old.decayed(now, 14.0) - 0.75).abs() < 1e-9);
        assert!((new.decayed(now, 14.0) - 1.5).abs() < 1e-9);
        let epoch = at(1);
        let ratio_backward = new.decayed(now, 14.0) / old.decayed(now, 14.0);
        let ratio_forward = new.forward(epoch, 14.0) / old.forward(epoch, 14.0);
        assert!((ratio_backward - ratio_forward).abs() < 1e-9);
    }
}
