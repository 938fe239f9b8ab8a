//! Online experiments: A/B tests of recommendation algorithms.

use apistos::{ApiComponent, JsonSchema};
use chrono::NaiveDateTime;
use genonaut_domain::DomainError;
use genonaut_domain::model::{
    Experiment, ExperimentResults, LeaderTest, NewExperiment, Proportion, Variant, VariantResult,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::{id_path, optional_timestamp, timestamp};
use crate::input::{Fields, Input};

/// One variant of `POST /api/v1/experiments`.
#[derive(Debug, JsonSchema, ApiComponent)]
#[schemars(example = VariantIn::example())]
pub struct VariantIn {
    /// Unique within the experiment, 1–50 characters (trimmed).
    #[schemars(length(min = 1, max = 50))]
    pub name: String,
    /// Algorithm label its users are served with: `popularity`, `content`, `item-knn`,
    /// `ease`, `hybrid` (or any label naming one, e.g. `item_knn_v2`); stored as the
    /// recommendations' `algorithm_version`. Anything else is a 422.
    #[schemars(length(min = 1, max = 50))]
    pub algorithm: String,
    /// Share of traffic relative to the other variants (finite, > 0).
    pub weight: f64,
}

// Hand-written: the documented bounds are the domain's rules (`NewExperiment::parse`, with its
// own wording, checked after the whole body is read), so the parser reads the bare types.
impl Input for VariantIn {
    fn parse(f: &mut Fields<'_>) -> Option<Self> {
        let name = f.string("name").required();
        let algorithm = f.string("algorithm").required();
        let weight = f.float("weight").required();
        Some(VariantIn {
            name: name?,
            algorithm: algorithm?,
            weight: weight?,
        })
    }
}

/// Body of `POST /api/v1/experiments`.
#[derive(Debug, JsonSchema, ApiComponent)]
#[schemars(example = ExperimentCreate::example())]
pub struct ExperimentCreate {
    /// Unique name in the schema: 1–39 ASCII letters, digits, `-`, `_`, `.`. Generations with
    /// `algorithm_version: "experiment:<name>"` are routed through the experiment.
    #[schemars(length(min = 1, max = 39))]
    pub name: String,
    /// Free text (at most 1000 characters).
    pub description: Option<String>,
    /// 2–20 variants with unique names.
    #[schemars(length(min = 2, max = 20))]
    pub variants: Vec<VariantIn>,
    /// A positive interaction counts as engagement up to this many hours after the
    /// recommendation was served (1–720, default 24).
    #[schemars(range(min = 1, max = 720))]
    pub engagement_window_hours: Option<i64>,
}

impl ExperimentCreate {
    fn example() -> Value {
        json!({"name": "home-feed-2025-07", "description": "item-kNN against popularity on the home feed",
               "variants": [{"name": "control", "algorithm": "popularity", "weight": 1.0},
                            {"name": "knn", "algorithm": "item-knn", "weight": 1.0}],
               "engagement_window_hours": 24})
    }

    /// The validated domain command (422 located at the first bad field otherwise).
    pub fn into_domain(self) -> Result<NewExperiment, DomainError> {
        let hours = self
            .engagement_window_hours
            .map(|h| i32::try_from(h).unwrap_or(if h < 0 { i32::MIN } else { i32::MAX }));
        NewExperiment::parse(
            &self.name,
            self.description,
            self.variants
                .into_iter()
                .map(|v| Variant {
                    name: v.name,
                    algorithm: v.algorithm,
                    weight: v.weight,
                })
                .collect(),
            hours,
        )
    }
}

// Hand-written for the same reason as `VariantIn` (the domain checks the bounds).
impl Input for ExperimentCreate {
    fn parse(f: &mut Fields<'_>) -> Option<Self> {
        let name = f.string("name").required();
        let description = f.string("description").optional();
        let variants = f.object_list("variants", 0, 1000);
        let engagement_window_hours = f.int("engagement_window_hours").optional();
        Some(ExperimentCreate {
            name: name?,
            description,
            variants: variants?,
            engagement_window_hours,
        })
    }
}

/// A variant of an experiment.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = VariantOut::example())]
pub struct VariantOut {
    /// Name.
    pub name: String,
    /// Algorithm label.
    pub algorithm: String,
    /// Relative weight.
    pub weight: f64,
    /// Share of traffic (weight / sum of weights).
    pub share: f64,
}

/// An experiment.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = ExperimentOut::example())]
pub struct ExperimentOut {
    /// Identifier.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// The `algorithm_version` that routes a generation through it: `experiment:<name>`.
    pub label: String,
    /// Free text.
    pub description: Option<String>,
    /// `running` or `stopped`.
    pub status: String,
    /// The variants.
    pub variants: Vec<VariantOut>,
    /// Engagement window in hours.
    pub engagement_window_hours: i32,
    /// Creation time (UTC, no zone).
    #[serde(serialize_with = "timestamp")]
    #[schemars(with = "String")]
    pub created_at: NaiveDateTime,
    /// When it was stopped (UTC, no zone).
    #[serde(serialize_with = "optional_timestamp")]
    #[schemars(with = "Option<String>")]
    pub stopped_at: Option<NaiveDateTime>,
}

impl ExperimentOut {
    fn example() -> Value {
        json!({"id": 1, "name": "home-feed-2025-07", "label": "experiment:home-feed-2025-07",
               "description": "item-kNN against popularity on the home feed", "status": "running",
               "variants": [{"name": "control", "algorithm": "popularity", "weight": 1.0, "share": 0.5},
                            {"name": "knn", "algorithm": "item-knn", "weight": 1.0, "share": 0.5}],
               "engagement_window_hours": 24, "created_at": "2025-07-04T09:30:00", "stopped_at": null})
    }
}

impl From<Experiment> for ExperimentOut {
    fn from(e: Experiment) -> Self {
        let total: f64 = e.variants.iter().map(|v| v.weight).sum();
        ExperimentOut {
            id: e.id.0,
            label: e.label(),
            status: if e.is_running() { "running" } else { "stopped" }.to_owned(),
            variants: e
                .variants
                .into_iter()
                .map(|v| VariantOut {
                    share: if total > 0.0 { v.weight / total } else { 0.0 },
                    name: v.name,
                    algorithm: v.algorithm,
                    weight: v.weight,
                })
                .collect(),
            name: e.name,
            description: e.description,
            engagement_window_hours: e.engagement_window_hours,
            created_at: e.created_at,
            stopped_at: e.stopped_at,
        }
    }
}

/// A rate with its 95 % Wilson score interval.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = RateOut::example())]
pub struct RateOut {
    /// The rate (0 without served recommendations).
    pub rate: f64,
    /// Lower bound of the 95 % interval.
    pub low: f64,
    /// Upper bound of the 95 % interval.
    pub high: f64,
}

impl From<Proportion> for RateOut {
    fn from(p: Proportion) -> Self {
        RateOut {
            rate: p.rate,
            low: p.low,
            high: p.high,
        }
    }
}

/// One variant's results.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = VariantResultOut::example())]
pub struct VariantResultOut {
    /// Variant name.
    pub name: String,
    /// Algorithm label.
    pub algorithm: String,
    /// Distinct users served.
    pub users: i64,
    /// Recommendations served (stored by `generate` under the experiment).
    pub served: i64,
    /// Served recommendations followed, within the window, by a positive interaction of the
    /// user with the item (`like`, `bookmark`, `share`, `download`, or `rate` ≥ 4).
    pub engaged: i64,
    /// `engaged / served` with its 95 % Wilson interval.
    pub engagement_rate: RateOut,
    /// Served recommendations with `disliked` or `dismissed` feedback.
    pub rejected: i64,
    /// `rejected / served` with its 95 % Wilson interval.
    pub rejection_rate: RateOut,
}

impl From<VariantResult> for VariantResultOut {
    fn from(v: VariantResult) -> Self {
        VariantResultOut {
            name: v.variant.name,
            algorithm: v.variant.algorithm,
            users: v.counts.users,
            served: v.counts.served,
            engaged: v.counts.engaged,
            engagement_rate: v.engagement.into(),
            rejected: v.counts.rejected,
            rejection_rate: v.rejection.into(),
        }
    }
}

/// The significance test of the best variant against the others.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = LeaderTestOut::example())]
pub struct LeaderTestOut {
    /// `two-proportion z-test` (pooled, over served recommendations).
    pub method: String,
    /// The variant with the highest engagement rate.
    pub best: String,
    /// Its smallest z statistic against any other variant.
    pub z: f64,
    /// The largest two-sided p-value of those comparisons.
    pub p_value: f64,
    /// The level each comparison must beat: 0.05 / (variants − 1) (Bonferroni).
    pub alpha: f64,
}

impl From<LeaderTest> for LeaderTestOut {
    fn from(t: LeaderTest) -> Self {
        LeaderTestOut {
            method: "two-proportion z-test".to_owned(),
            best: t.best,
            z: t.z,
            p_value: t.p_value,
            alpha: t.alpha,
        }
    }
}

/// `GET /api/v1/experiments/{experiment_id}/results`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = ExperimentResultsOut::example())]
pub struct ExperimentResultsOut {
    /// The experiment.
    pub experiment: ExperimentOut,
    /// Per variant, in the experiment's order.
    pub variants: Vec<VariantResultOut>,
    /// The variant whose engagement rate is significantly higher than every other's (95 %,
    /// Bonferroni-corrected), or `null`.
    pub leader: Option<String>,
    /// The test behind `leader`; `null` while a variant has nothing served or the best rate
    /// is tied.
    pub test: Option<LeaderTestOut>,
}

impl ExperimentResultsOut {
    fn example() -> Value {
        json!({"experiment": ExperimentOut::example(),
               "variants": [
                 {"name": "control", "algorithm": "popularity", "users": 40, "served": 800, "engaged": 96,
                  "engagement_rate": {"rate": 0.12, "low": 0.0994, "high": 0.1442},
                  "rejected": 310, "rejection_rate": {"rate": 0.3875, "low": 0.3543, "high": 0.4218}},
                 {"name": "knn", "algorithm": "item-knn", "users": 40, "served": 800, "engaged": 352,
                  "engagement_rate": {"rate": 0.44, "low": 0.4059, "high": 0.4747},
                  "rejected": 120, "rejection_rate": {"rate": 0.15, "low": 0.1265, "high": 0.1769}}],
               "leader": "knn",
               "test": {"method": "two-proportion z-test", "best": "knn", "z": 14.1, "p_value": 0.0, "alpha": 0.05}})
    }
}

impl From<ExperimentResults> for ExperimentResultsOut {
    fn from(r: ExperimentResults) -> Self {
        ExperimentResultsOut {
            experiment: r.experiment.into(),
            variants: r.variants.into_iter().map(Into::into).collect(),
            leader: r.leader,
            test: r.test.map(Into::into),
        }
    }
}

id_path!(
    /// `{experiment_id}`.
    ExperimentIdPath { experiment_id }
);

impl VariantIn {
    fn example() -> Value {
        json!({"name": "knn", "algorithm": "item-knn", "weight": 1.0})
    }
}

impl VariantOut {
    fn example() -> Value {
        json!({"name": "knn", "algorithm": "item-knn", "weight": 1.0, "share": 0.5})
    }
}

impl RateOut {
    fn example() -> Value {
        json!({"rate": 0.44, "low": 0.4059, "high": 0.4747})
    }
}

impl VariantResultOut {
    fn example() -> Value {
        json!({"name": "knn", "algorithm": "item-knn", "users": 40, "served": 800, "engaged": 352,
               "engagement_rate": {"rate": 0.44, "low": 0.4059, "high": 0.4747},
               "rejected": 120, "rejection_rate": {"rate": 0.15, "low": 0.1265, "high": 0.1769}})
    }
}

impl LeaderTestOut {
    fn example() -> Value {
        json!({"method": "two-proportion z-test", "best": "knn", "z": 14.1, "p_value": 0.0, "alpha": 0.05})
    }
}
