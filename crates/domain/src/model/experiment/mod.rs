//! Online experiments: deterministic A/B tests of recommendation algorithms on live traffic.
//!
//! * An experiment has a unique name and at least two variants, each naming an algorithm (any
//!   label [`Algorithm::from_label`] accepts) and a positive weight.
//! * `POST /recommendations/generate` with the label `experiment:<name>` assigns the user to a
//!   variant by [`Experiment::assign`]: the first 8 bytes of SHA-256 of
//!   `"<experiment id>:<user id>"`, read as a big-endian `u64`, pick a point in `[0, 1)`; the
//!   variants own consecutive slices of it in proportion to their weights. The hash is
//!   documented and stable across processes, releases and platforms, and variants never
//!   change, so a user never switches variant.
//! * [`ExperimentResults`] turns per-variant counts into rates, 95 % Wilson intervals and a
//!   leader (two-proportion z-tests, Bonferroni-corrected).

use sha2::{Digest, Sha256};

use crate::error::{DomainError, Invalid};
use crate::ids::{ExperimentId, UserId};
use crate::model::Timestamp;
use crate::recommender::Algorithm;

/// The label prefix that routes a generation through an experiment.
pub const EXPERIMENT_LABEL: &str = "experiment:";

/// Longest experiment name: `experiment:<name>` must fit the 50 characters of a label.
pub const MAX_EXPERIMENT_NAME: usize = 50 - EXPERIMENT_LABEL.len();

/// Longest variant name.
pub const MAX_VARIANT_NAME: usize = 50;

/// Most variants in one experiment.
pub const MAX_VARIANTS: usize = 20;

/// Default engagement window (hours).
pub const DEFAULT_WINDOW_HOURS: i32 = 24;

/// Longest engagement window (hours): 30 days.
pub const MAX_WINDOW_HOURS: i32 = 720;

/// The longest experiment description, in characters.
pub const MAX_EXPERIMENT_DESCRIPTION: usize = 1000;

/// The experiment name an `algorithm_version` label routes to (`experiment:<name>`), if any.
pub fn experiment_name(label: &str) -> Option<&str> {
    label.trim().strip_prefix(EXPERIMENT_LABEL).map(str::trim)
}

/// One arm of an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Unique within the experiment.
    pub name: String,
    /// The algorithm label its users are served with (stored as the recommendations'
    /// `algorithm_version`).
    pub algorithm: String,
    /// Share of traffic, relative to the other variants' weights (> 0, finite).
    pub weight: f64,
}

impl Variant {
    /// The algorithm the label names (always `Some` for a stored variant).
    pub fn algorithm(&self) -> Option<Algorithm> {
        Algorithm::from_label(&self.algorithm)
    }
}

/// A stored experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// Identifier.
    pub id: ExperimentId,
    /// Unique name (routes `experiment:<name>`).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// The arms, in creation order.
    pub variants: Vec<Variant>,
    /// A positive interaction counts as engagement within this many hours after the
    /// recommendation was served.
    pub engagement_window_hours: i32,
    /// Creation time.
    pub created_at: Timestamp,
    /// When it was stopped; a stopped experiment assigns no one.
    pub stopped_at: Option<Timestamp>,
}

impl Experiment {
    /// Whether it still assigns users.
    pub fn is_running(&self) -> bool {
        self.stopped_at.is_none()
    }

    /// The `algorithm_version` label that routes a generation through it.
    pub fn label(&self) -> String {
        format!("{EXPERIMENT_LABEL}{}", self.name)
    }

    /// The variant `user` is assigned to: deterministic in (experiment id, user id), weighted.
    pub fn assign(&self, user: UserId) -> Option<&Variant> {
        let total: f64 = self.variants.iter().map(|v| v.weight).sum();
        let point = bucket(self.id, user) * total;
        let mut upto = 0.0;
        for variant in &self.variants {
            upto += variant.weight;
            if point < upto {
                return Some(variant);
            }
        }
        // Rounding at the very top of the range.
        self.variants.last()
    }
}

/// Where `user` falls in `[0, 1)` for experiment `id`: the first 8 bytes of
/// SHA-256(`"<id>:<user>"`) as a big-endian `u64`, divided by 2^64 (its top 53 bits, exactly
/// representable in an `f64`).
pub fn bucket(id: ExperimentId, user: UserId) -> f64 {
    let digest = Sha256::digest(format!("{}:{}", id.0, user.0).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // 53 significant bits are exact in an f64; the rest would only round.
    (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
}

/// An experiment to create, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExperiment {
    /// Unique name: 1–39 characters of letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// Free text (at most 1000 characters).
    pub description: Option<String>,
    /// 2–20 variants with unique names.
    pub variants: Vec<Variant>,
    /// 1–720 hours.
    pub engagement_window_hours: i32,
}

impl NewExperiment {
    /// Validates an experiment: the first problem found (in field order) is reported with its
    /// location (`["variants", "1", "weight"]`).
    pub fn parse(
        name: &str,
        description: Option<String>,
        variants: Vec<Variant>,
        engagement_window_hours: Option<i32>,
    ) -> Result<NewExperiment, DomainError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_EXPERIMENT_NAME {
            return Err(DomainError::invalid(
                &["name"],
                Invalid::ExperimentName {
                    max: MAX_EXPERIMENT_NAME,
                },
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(DomainError::invalid(&["name"], Invalid::ExperimentNameCharacters));
        }
        let description = description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_EXPERIMENT_DESCRIPTION)
        {
            return Err(DomainError::invalid(
                &["description"],
                Invalid::ExperimentDescription {
                    max: MAX_EXPERIMENT_DESCRIPTION,
                },
            ));
        }
        if variants.len() < 2 || variants.len() > MAX_VARIANTS {
            return Err(DomainError::invalid(
                &["variants"],
                Invalid::VariantCount {
                    min: 2,
                    max: MAX_VARIANTS,
                },
            ));
        }
        let mut clean: Vec<Variant> = Vec::with_capacity(variants.len());
        for (i, v) in variants.into_iter().enumerate() {
            let at = i.to_string();
            let vname = v.name.trim();
            if vname.is_empty() || vname.chars().count() > MAX_VARIANT_NAME {
                return Err(DomainError::invalid(
                    &["variants", &at, "name"],
                    Invalid::VariantName {
                        max: MAX_VARIANT_NAME,
                    },
                ));
            }
            if clean.iter().any(|c| c.name == vname) {
                return Err(DomainError::invalid(
                    &["variants", &at, "name"],
                    Invalid::DuplicateVariant(vname.to_owned()),
                ));
            }
            let algorithm = v.algorithm.trim();
            if algorithm.is_empty()
                || algorithm.chars().count() > 50
                || Algorithm::from_label(algorithm).is_none()
            {
                return Err(DomainError::invalid(
                    &["variants", &at, "algorithm"],
                    Invalid::UnknownAlgorithm(algorithm.to_owned()),
                ));
            }
            if !(v.weight.is_finite() && v.weight > 0.0) {
                return Err(DomainError::invalid(
                    &["variants", &at, "weight"],
                    Invalid::VariantWeight,
                ));
            }
            clean.push(Variant {
                name: vname.to_owned(),
                algorithm: algorithm.to_owned(),
                weight: v.weight,
            });
        }
        let total: f64 = clean.iter().map(|v| v.weight).sum();
        if !total.is_finite() {
            return Err(DomainError::invalid(&["variants"], Invalid::WeightSum));
        }
        let hours = engagement_window_hours.unwrap_or(DEFAULT_WINDOW_HOURS);
        if !(1..=MAX_WINDOW_HOURS).contains(&hours) {
            return Err(DomainError::invalid(
                &["engagement_window_hours"],
                Invalid::EngagementWindow {
                    max: MAX_WINDOW_HOURS,
                },
            ));
        }
        Ok(NewExperiment {
            name: name.to_owned(),
            description,
            variants: clean,
            engagement_window_hours: hours,
        })
    }
}

/// What the store counts for one variant (from the recommendations stored under the
/// experiment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VariantCounts {
    /// Variant name (as stored in `rec_metadata.experiment.variant`).
    pub variant: String,
    /// Distinct users served.
    pub users: i64,
    /// Recommendations served.
    pub served: i64,
    /// Served recommendations followed by a positive interaction with the item by the user
    /// within the engagement window.
    pub engaged: i64,
    /// Served recommendations with `disliked` or `dismissed` feedback.
    pub rejected: i64,
}

/// A proportion with its 95 % Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proportion {
    /// Successes / trials (0 without trials).
    pub rate: f64,
    /// Lower bound of the 95 % interval.
    pub low: f64,
    /// Upper bound of the 95 % interval.
    pub high: f64,
}

/// The two-sided 95 % normal quantile.
pub const Z95: f64 = 1.959_963_984_540_054;

impl Proportion {
    /// `successes / trials` with its Wilson interval (`[0, 1]` without trials).
    pub fn wilson(successes: i64, trials: i64) -> Proportion {
        if trials <= 0 {
            return Proportion {
                rate: 0.0,
                low: 0.0,
                high: 1.0,
            };
        }
        let n = trials as f64;
        let p = (successes as f64 / n).clamp(0.0, 1.0);
        let z2 = Z95 * Z95;
        let denominator = 1.0 + z2 / n;
        let centre = (p + z2 / (2.0 * n)) / denominator;
        let half = Z95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
        Proportion {
            rate: p,
            // Rounding must not put the rate outside its own interval (0 of n, n of n).
            low: (centre - half).clamp(0.0, p),
            high: (centre + half).clamp(p, 1.0),
        }
    }
}

/// One variant's results.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantResult {
    /// The variant.
    pub variant: Variant,
    /// The raw counts.
    pub counts: VariantCounts,
    /// `engaged / served` with its interval.
    pub engagement: Proportion,
    /// `rejected / served` with its interval.
    pub rejection: Proportion,
}

/// The significance test behind the leader.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaderTest {
    /// The variant with the highest engagement rate.
    pub best: String,
    /// The smallest z statistic of the best variant against any other (pooled two-proportion
    /// z-test over served recommendations).
    pub z: f64,
    /// The largest two-sided p-value of those comparisons.
    pub p_value: f64,
    /// The p-value each comparison had to beat: 0.05 divided by the number of comparisons
    /// (Bonferroni).
    pub alpha: f64,
}

/// Results of an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentResults {
    /// The experiment.
    pub experiment: Experiment,
    /// Every variant, in the experiment's order.
    pub variants: Vec<VariantResult>,
    /// The variant whose engagement rate is significantly higher than every other's, if any.
    pub leader: Option<String>,
    /// The test of the best variant against the others (`None` while a variant has no data
    /// or the best rate is tied).
    pub test: Option<LeaderTest>,
}

impl ExperimentResults {
    /// Results from the store's counts (variants without rows count zero; rows of unknown
    /// variants are ignored).
    pub fn compute(experiment: Experiment, counts: &[VariantCounts]) -> ExperimentResults {
        let variants: Vec<VariantResult> = experiment
            .variants
            .iter()
            .map(|v| {
                let counts = counts
                    .iter()
                    .find(|c| c.variant == v.name)
                    .cloned()
                    .unwrap_or_else(|| VariantCounts {
                        variant: v.name.clone(),
                        ..VariantCounts::default()
                    });
                VariantResult {
                    variant: v.clone(),
                    engagement: Proportion::wilson(counts.engaged, counts.served),
                    rejection: Proportion::wilson(counts.rejected, counts.served),
                    counts,
                }
            })
            .collect();
        let test = leader_test(&variants);
        let leader = test
            .as_ref()
            .filter(|t| t.p_value < t.alpha)
            .map(|t| t.best.clone());
        ExperimentResults {
            experiment,
            variants,
            leader,
            test,
        }
    }
}

fn leader_test(variants: &[VariantResult]) -> Option<LeaderTest> {
    if variants.len() < 2 || variants.iter().any(|v| v.counts.served <= 0) {
        return None;
    }
    let best = variants
        .iter()
        .max_by(|a, b| a.engagement.rate.total_cmp(&b.engagement.rate))?;
    let others = variants.iter().filter(|v| v.variant.name != best.variant.name);
    let mut z_min = f64::INFINITY;
    for other in others {
        let z = two_proportion_z(
            best.counts.engaged,
            best.counts.served,
            other.counts.engaged,
            other.counts.served,
        );
        z_min = z_min.min(z);
    }
    if z_min <= 0.0 {
        // A tie for the best rate: no one leads.
        return None;
    }
    Some(LeaderTest {
        best: best.variant.name.clone(),
        z: z_min,
        p_value: 2.0 * normal_upper_tail(z_min),
        alpha: 0.05 / (variants.len() - 1) as f64,
    })
}

/// The pooled two-proportion z statistic of `a` over `b` (0 when both rates are 0 or 1).
pub fn two_proportion_z(a_successes: i64, a_trials: i64, b_successes: i64, b_trials: i64) -> f64 {
    let (na, nb) = (a_trials as f64, b_trials as f64);
    if na <= 0.0 || nb <= 0.0 {
        return 0.0;
    }
    let (pa, pb) = (a_successes as f64 / na, b_successes as f64 / nb);
    let pooled = (a_successes + b_successes) as f64 / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    if se > 0.0 { (pa - pb) / se } else { 0.0 }
}

/// `P(Z > z)` for a standard normal `Z` (Abramowitz & Stegun 7.1.26 for erfc, |error| < 1.5e-7).
pub fn normal_upper_tail(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    if z >= 0.0 { erfc / 2.0 } else { 1.0 - erfc / 2.0 }
}

#[cfg(test)]
mod tests;
