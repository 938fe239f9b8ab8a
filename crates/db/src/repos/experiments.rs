use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::RunQueryDsl;
use genonaut_domain::ids::ExperimentId;
use genonaut_domain::model::{Experiment, NewExperiment, Timestamp, Variant, VariantCounts};
use genonaut_domain::ports::ExperimentRepository;
use genonaut_domain::{DomainError, DomainResult, Page, PageRequest};
use serde_json::{Value, json};

use crate::PgPool;
use crate::error::db;
use crate::rows::key;
use crate::schema::experiments;

/// Online experiments in PostgreSQL (table `experiments`; results from `recommendations` and
/// `user_interactions`).
#[derive(Clone)]
pub struct PgExperiments {
    pool: PgPool,
}

impl PgExperiments {
    /// Adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgExperiments { pool }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = experiments)]
#[diesel(check_for_backend(diesel::pg::Pg))]
struct ExperimentRow {
    id: i32,
    name: String,
    description: Option<String>,
    variants: Value,
    engagement_window_hours: i32,
    created_at: Timestamp,
    stopped_at: Option<Timestamp>,
}

impl TryFrom<ExperimentRow> for Experiment {
    type Error = DomainError;

    fn try_from(row: ExperimentRow) -> DomainResult<Experiment> {
        let corrupt = |what: &str| {
            DomainError::unexpected("reading experiment", format!("experiment {}: {what}", row.id))
        };
        let Value::Array(items) = &row.variants else {
            return Err(corrupt("variants is not an array"));
        };
        let variants = items
            .iter()
            .map(|v| {
                Some(Variant {
                    name: v.get("name")?.as_str()?.to_owned(),
                    algorithm: v.get("algorithm")?.as_str()?.to_owned(),
                    weight: v.get("weight")?.as_f64()?,
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| corrupt("a variant lacks name, algorithm or weight"))?;
        Ok(Experiment {
            id: ExperimentId(i64::from(row.id)),
            name: row.name,
            description: row.description,
            variants,
            engagement_window_hours: row.engagement_window_hours,
            created_at: row.created_at,
            stopped_at: row.stopped_at,
        })
    }
}

#[derive(QueryableByName)]
struct CountsRow {
    #[diesel(sql_type = Text)]
    variant: String,
    #[diesel(sql_type = BigInt)]
    users: i64,
    #[diesel(sql_type = BigInt)]
    served: i64,
    #[diesel(sql_type = BigInt)]
    engaged: i64,
    #[diesel(sql_type = BigInt)]
    rejected: i64,
}

/// Per variant of one experiment: distinct users, recommendations, engaged and rejected ones.
/// The partial expression index `ix_recommendations_experiment` finds the experiment's rows;
/// each engagement probe walks `ix_user_interactions_user_id` (user, time) within the window.
const COUNTS: &str = "\
SELECT r.rec_metadata -> 'experiment' ->> 'variant' AS variant,
       count(DISTINCT r.user_id) AS users,
       count(*) AS served,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM user_interactions i
           WHERE i.user_id = r.user_id
             AND i.content_item_id = r.content_item_id
             AND i.created_at >= r.created_at
             AND i.created_at <= coalesce(r.served_at, r.created_at) + make_interval(hours => $2)
             AND (i.interaction_type IN ('like', 'bookmark', 'share', 'download')
                  OR (i.interaction_type = 'rate' AND i.rating >= 4)))) AS engaged,
       count(*) FILTER (WHERE r.rec_metadata -> 'feedback' ->> 'type' IN ('disliked', 'dismissed')) AS rejected
FROM recommendations r
WHERE r.rec_metadata ? 'experiment'
  AND r.rec_metadata -> 'experiment' ->> 'id' = $1
  AND r.rec_metadata -> 'experiment' ->> 'variant' IS NOT NULL
GROUP BY 1
ORDER BY 1";

#[async_trait]
impl ExperimentRepository for PgExperiments {
    async fn insert(&self, new: NewExperiment, now: Timestamp) -> DomainResult<Experiment> {
        let variants: Vec<Value> = new
            .variants
            .iter()
            .map(|v| json!({"name": v.name, "algorithm": v.algorithm, "weight": v.weight}))
            .collect();
        let mut conn = self.pool.get().await?;
        let row: ExperimentRow = diesel::insert_into(experiments::table)
            .values((
                experiments::name.eq(&new.name),
                experiments::description.eq(&new.description),
                experiments::variants.eq(Value::Array(variants)),
                experiments::engagement_window_hours.eq(new.engagement_window_hours),
                experiments::created_at.eq(now),
            ))
            .returning(ExperimentRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(db("creating experiment"))?;
        row.try_into()
    }

    async fn get(&self, id: ExperimentId) -> DomainResult<Option<Experiment>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        experiments::table
            .find(id)
            .select(ExperimentRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db("reading experiment"))?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn by_name(&self, name: &str) -> DomainResult<Option<Experiment>> {
        let mut conn = self.pool.get().await?;
        experiments::table
            .filter(experiments::name.eq(name))
            .select(ExperimentRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db("finding experiment"))?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn list(&self, page: PageRequest) -> DomainResult<Page<Experiment>> {
        let mut conn = self.pool.get().await?;
        let total: i64 = experiments::table
            .count()
            .get_result(&mut conn)
            .await
            .map_err(db("counting experiments"))?;
        let rows: Vec<ExperimentRow> = experiments::table
            .order(experiments::id.desc())
            .offset(page.skip)
            .limit(page.limit)
            .select(ExperimentRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db("listing experiments"))?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(TryInto::try_into)
                .collect::<DomainResult<_>>()?,
            total,
        })
    }

    async fn stop(&self, id: ExperimentId, now: Timestamp) -> DomainResult<Option<Experiment>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        // Only the first stop counts.
        diesel::update(
            experiments::table
                .find(id)
                .filter(experiments::stopped_at.is_null()),
        )
        .set(experiments::stopped_at.eq(now))
        .execute(&mut conn)
        .await
        .map_err(db("stopping experiment"))?;
        drop(conn);
        self.get(ExperimentId(i64::from(id))).await
    }

    async fn counts(&self, id: ExperimentId, window_hours: i32) -> DomainResult<Vec<VariantCounts>> {
        let mut conn = self.pool.get().await?;
        let rows: Vec<CountsRow> = diesel::sql_query(COUNTS)
            .bind::<Text, _>(id.0.to_string())
            .bind::<Integer, _>(window_hours)
            .load(&mut conn)
            .await
            .map_err(db("counting experiment results"))?;
        Ok(rows
            .into_iter()
            .map(|r| VariantCounts {
                variant: r.variant,
                users: r.users,
                served: r.served,
                engaged: r.engaged,
                rejected: r.rejected,
            })
            .collect())
    }
}
