//! Popularity that fits the data: what was popular *when the user was last active*, blended
//! with all-time popularity.
//!
//! A fixed half-life relative to now (the first version used 14 days) ranks only the last
//! weeks' items. That is right for a service whose users are all active now, and useless on a
//! log that spans years with users active in a few bursts: a user last seen two years ago is
//! offered this month's items. So the build computes popularity in **eras**:
//!
//! * the half-life `h` comes from the data: its activity span (first to last interaction)
//!   divided by [`PopularityConfig::span_divisor`], clamped to
//!   [`PopularityConfig::min_half_life_days`]..[`PopularityConfig::max_half_life_days`] (a
//!   90-day log gets ~6 days, a 7-month one ~13, three years ~68);
//! * eras are centred every `h/2` over the span; an era's score of an item is
//!   `Σ weight × 2^(−|centre − at| / h)` over its interactions (both sides of the centre: for a
//!   past era the following weeks tell what was rising then; for the newest era only the past
//!   exists, so it is trending-now);
//! * each era keeps its [`PopularityConfig::top`] items by the blend
//!   `era_weight · era/max_era + (1 − era_weight) · all_time/max_all_time`.
//!
//! At request time the engine reads the one era containing the user's newest interaction
//! (now, for a user without any): one indexed row, no scan.
//!
//! The same computation with a sharper half-life and no all-time part
//! ([`PopularityConfig::trending`]) gives **trending** eras: what was rising around the user's
//! time, the prior by which the learned model's scores are weighted (see
//! [`engine`](super::engine)).

use std::collections::HashMap;

use chrono::Duration;

use crate::ids::ContentId;
use crate::model::Timestamp;

/// The popular items of one era of the data.
#[derive(Debug, Clone, PartialEq)]
pub struct EraRow {
    /// Start of the era (it lasts until the next era's start; the last one has no end).
    pub starts_at: Timestamp,
    /// Its most popular items by the blend, best first, with blended scores in `[0, 1]`.
    pub top: Vec<(ContentId, f64)>,
}

/// The era tables a build writes, oldest era first in each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EraTables {
    /// Popularity eras (the blend with all-time popularity).
    pub popularity: Vec<EraRow>,
    /// Trending eras ([`PopularityConfig::trending`]).
    pub trending: Vec<EraRow>,
}

/// Tuning of era popularity (chosen by offline evaluation; see docs/recommender.md).
#[derive(Debug, Clone, PartialEq)]
pub struct PopularityConfig {
    /// Half-life = activity span / this.
    pub span_divisor: f64,
    /// Lower bound of the half-life (days).
    pub min_half_life_days: f64,
    /// Upper bound of the half-life (days).
    pub max_half_life_days: f64,
    /// Weight of the era's popularity against all-time popularity, in `[0, 1]`.
    pub era_weight: f64,
    /// Items kept per era.
    pub top: usize,
    /// At most this many eras (the step grows beyond).
    pub max_eras: usize,
}

impl Default for PopularityConfig {
    fn default() -> Self {
        PopularityConfig {
            span_divisor: 16.0,
            min_half_life_days: 1.0,
            max_half_life_days: 120.0,
            era_weight: 0.25,
            top: 500,
            max_eras: 1000,
        }
    }
}

impl PopularityConfig {
    /// Trending eras: era popularity alone (no all-time part) with a quarter of the
    /// popularity eras' half-life (a three-year log gets ~17 days, clamped to 1–30).
    pub fn trending() -> Self {
        PopularityConfig {
            span_divisor: 64.0,
            max_half_life_days: 30.0,
            era_weight: 1.0,
            ..PopularityConfig::default()
        }
    }

    /// The half-life (days) for interactions spanning `first..=last`.
    pub fn half_life_days(&self, first: Timestamp, last: Timestamp) -> f64 {
        let span = (last - first).num_seconds().max(0) as f64 / 86_400.0;
        (span / self.span_divisor.max(1.0)).clamp(
            self.min_half_life_days,
            self.max_half_life_days.max(self.min_half_life_days),
        )
    }
}

/// One interaction as popularity sees it: time (seconds since an arbitrary origin), item
/// index, weight.
pub type Timed = (i64, u32, f32);

/// What [`eras`] computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Eras {
    /// The half-life used (days).
    pub half_life_days: f64,
    /// The eras, oldest first.
    pub rows: Vec<EraRow>,
}

/// Era popularity of `signals` (any order; sorted in place by time). `origin` is the time of
/// second 0; `all_time[i]` is item `i`'s all-time popularity and `ids[i]` its id.
pub fn eras(
    signals: &mut [Timed],
    origin: Timestamp,
    all_time: &[f64],
    ids: &[ContentId],
    config: &PopularityConfig,
) -> Eras {
    signals.sort_unstable_by_key(|s| s.0);
    let (Some(first), Some(last)) = (signals.first().map(|s| s.0), signals.last().map(|s| s.0)) else {
        return Eras {
            half_life_days: config.min_half_life_days,
            rows: Vec::new(),
        };
    };
    let at = |secs: i64| origin + Duration::seconds(secs);
    let half_life_days = config.half_life_days(at(first), at(last));
    let h = half_life_days * 86_400.0;
    let span = (last - first) as f64;
    let step = (h / 2.0).max(span / config.max_eras.max(1) as f64).max(1.0);
    let n_eras = (span / step).floor() as usize + 1;
    let reach = (8.0 * h) as i64;

    // All-time candidates, normalised.
    let max_all = all_time.iter().copied().fold(0.0, f64::max);
    let mut all_top: Vec<u32> = (0..all_time.len() as u32)
        .filter(|i| all_time[*i as usize] > 0.0)
        .collect();
    top_by(&mut all_top, config.top, |i| all_time[i as usize]);
    let norm_all = |i: u32| {
        if max_all > 0.0 {
            all_time[i as usize].max(0.0) / max_all
        } else {
            0.0
        }
    };

    let mut score = vec![0.0f64; all_time.len()];
    let mut touched: Vec<u32> = Vec::new();
    let mut rows = Vec::with_capacity(n_eras);
    let (mut lo, mut hi) = (0usize, 0usize);
    for e in 0..n_eras {
        let centre = first + (e as f64 * step) as i64;
        while lo < signals.len() && signals[lo].0 < centre - reach {
            lo += 1;
        }
        while hi < signals.len() && signals[hi].0 <= centre + reach {
            hi += 1;
        }
        for &(t, item, weight) in &signals[lo..hi] {
            let i = item as usize;
            if score[i] == 0.0 {
                touched.push(item);
            }
            let w = f64::from(weight) * (-((t - centre).abs() as f64) / h).exp2();
            // Keep touched items distinguishable from untouched ones.
            score[i] = if score[i] + w == 0.0 {
                f64::MIN_POSITIVE
            } else {
                score[i] + w
            };
        }
        let max_era = touched.iter().map(|i| score[*i as usize]).fold(0.0, f64::max);
        let mut era_top: Vec<u32> = touched
            .iter()
            .copied()
            .filter(|i| score[*i as usize] > 0.0)
            .collect();
        top_by(&mut era_top, config.top, |i| score[i as usize]);
        let mut blended: HashMap<u32, f64> = HashMap::with_capacity(2 * config.top);
        for i in era_top.iter().chain(all_top.iter()) {
            let era = if max_era > 0.0 {
                score[*i as usize].max(0.0) / max_era
            } else {
                0.0
            };
            blended.insert(
                *i,
                config.era_weight * era + (1.0 - config.era_weight) * norm_all(*i),
            );
        }
        let mut top: Vec<(u32, f64)> = blended.into_iter().filter(|(_, s)| *s > 0.0).collect();
        top.sort_unstable_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(ids[a.0 as usize].cmp(&ids[b.0 as usize]))
        });
        top.truncate(config.top);
        for i in touched.drain(..) {
            score[i as usize] = 0.0;
        }
        let starts_at = if e == 0 {
            at(first)
        } else {
            at(centre - (step / 2.0) as i64)
        };
        rows.push(EraRow {
            starts_at,
            top: top.into_iter().map(|(i, s)| (ids[i as usize], s)).collect(),
        });
    }
    Eras { half_life_days, rows }
}

/// Keeps the `n` best of `items` by `key`, best first.
fn top_by(items: &mut Vec<u32>, n: usize, key: impl Fn(u32) -> f64) {
    if items.len() > n && n > 0 {
        items.select_nth_unstable_by(n, |a, b| key(*b).total_cmp(&key(*a)));
        items.truncate(n);
    }
    items.sort_unstable_by(|a, b| key(*b).total_cmp(&key(*a)).then(a.cmp(b)));
}

/// The era of `rows` (oldest first) that contains `at`; `None` before the first.
pub fn era_at(rows: &[EraRow], at: Timestamp) -> Option<&EraRow> {
    let n = rows.partition_point(|r| r.starts_at <= at);
    n.checked_sub(1).map(|i| &rows[i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn origin() -> Timestamp {
        NaiveDate::from_ymd_opt(2020, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default()
    }

    const DAY: i64 = 86_400;

    /// Item 0: a hit in the first year only; item 1: a hit in the third year only; item 2:
    /// steadily watched all along (the all-time favourite).
    fn three_years() -> (Vec<Timed>, Vec<f64>, Vec<ContentId>) {
        let mut signals = Vec::new();
        for d in 0..365 {
            signals.push((d * DAY, 0, 1.0));
            signals.push((d * DAY + 3600, 0, 1.0));
            signals.push(((730 + d) * DAY, 1, 1.0));
            signals.push(((730 + d) * DAY + 3600, 1, 1.0));
        }
        for d in 0..1095 {
            signals.push((d * DAY + 7200, 2, 1.0));
        }
        signals.push((1094 * DAY + 7300, 2, 1.0));
        let mut all = vec![0.0; 3];
        for (_, i, w) in &signals {
            all[*i as usize] += f64::from(*w);
        }
        (signals, all, vec![ContentId(10), ContentId(11), ContentId(12)])
    }

    #[test]
    fn the_half_life_follows_the_span_within_bounds() {
        let config = PopularityConfig::default();
        let o = origin();
        assert!((config.half_life_days(o, o + Duration::days(320)) - 20.0).abs() < 1e-9);
        assert_eq!(
            config.half_life_days(o, o + Duration::days(3)),
            config.min_half_life_days
        );
        assert_eq!(
            config.half_life_days(o, o + Duration::days(100_000)),
            config.max_half_life_days
        );
    }

    #[test]
    fn each_era_ranks_what_was_popular_then() {
        let (mut signals, all, ids) = three_years();
        let config = PopularityConfig {
            era_weight: 1.0,
            ..PopularityConfig::default()
        };
        let eras = eras(&mut signals, origin(), &all, &ids, &config);
        assert!(
            eras.half_life_days > 60.0 && eras.half_life_days < 75.0,
            "{}",
            eras.half_life_days
        );
        let best = |days: i64| era_at(&eras.rows, origin() + Duration::days(days)).unwrap().top[0].0;
        assert_eq!(best(100), ContentId(10), "first year");
        assert_eq!(best(900), ContentId(11), "third year");
        assert_eq!(best(1094), ContentId(11), "now");
        assert!(era_at(&eras.rows, origin() - Duration::days(1)).is_none());
        assert!(eras.rows.windows(2).all(|w| w[0].starts_at < w[1].starts_at));
        for row in &eras.rows {
            assert!(row.top.iter().all(|(_, s)| (0.0..=1.0).contains(s)), "{row:?}");
        }
    }

    #[test]
    fn the_blend_keeps_the_all_time_favourite_in_every_era() {
        let (mut signals, all, ids) = three_years();
        let eras = eras(&mut signals, origin(), &all, &ids, &PopularityConfig::default());
        for row in &eras.rows {
            assert!(row.top.iter().any(|(id, _)| *id == ContentId(12)), "{row:?}");
        }
        // All-time only: the same list everywhere, the favourite first.
        let (mut signals, all, ids) = three_years();
        let flat = super::eras(
            &mut signals,
            origin(),
            &all,
            &ids,
            &PopularityConfig {
                era_weight: 0.0,
                ..PopularityConfig::default()
            },
        );
        assert!(
            flat.rows
                .iter()
                .all(|r| r.top[0].0 == ContentId(12) && r.top == flat.rows[0].top)
        );
    }

    #[test]
    fn no_signals_no_eras() {
        let eras = eras(&mut [], origin(), &[], &[], &PopularityConfig::default());
        assert!(eras.rows.is_empty());
    }
}
