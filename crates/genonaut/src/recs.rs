//! The recommender's commands: synthetic data sets, offline evaluation, builds.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{SubsecRound, Utc};
use genonaut_db::{PgPool, SchemaName, seed};
use genonaut_domain::ports::SystemClock;
use genonaut_domain::recommender::BuildReport;
use genonaut_domain::recommender::eval::{self, EvalConfig, Report, Split};
use genonaut_domain::services::{MaintenanceConfig, RecommenderService};
use genonaut_domain::{import, synthetic};
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::config::DatabaseConfig;

/// Size of a synthetic data set.
#[derive(Debug, Clone, Copy)]
pub struct SyntheticSize {
    /// Users.
    pub users: usize,
    /// Items.
    pub items: usize,
    /// Interactions.
    pub interactions: usize,
    /// PRNG seed.
    pub seed: u64,
    /// How activity spreads over time.
    pub history: synthetic::History,
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>13} [{bar:40}] {pos}/{len} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

/// Loads a generated data set with planted structure into `schema` (which must be empty).
pub async fn seed_synthetic(
    config: &DatabaseConfig,
    schema: &SchemaName,
    size: SyntheticSize,
) -> anyhow::Result<()> {
    let today = Utc::now()
        .naive_utc()
        .date()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .trunc_subsecs(0);
    let spec = synthetic::Spec {
        users: size.users,
        items: size.items,
        interactions: size.interactions,
        seed: size.seed,
        history: size.history,
        ..synthetic::Spec::demo(today)
    };
    eprintln!(
        "generating {} users, {} items, {} interactions ({} history, seed {})…",
        spec.users,
        spec.items,
        spec.interactions,
        spec.history.as_str(),
        spec.seed
    );
    load(config, schema, &synthetic::generate(&spec)).await
}

/// Loads a rating data set from `dir` (MovieLens `ratings.csv` + `movies.csv`, or `u.data` +
/// `u.item`) into `schema` (which must be empty).
pub async fn seed_import(config: &DatabaseConfig, schema: &SchemaName, dir: &Path) -> anyhow::Result<()> {
    let read = |name: &str| -> anyhow::Result<Vec<u8>> {
        let path = dir.join(name);
        std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
    };
    let text = |bytes: Vec<u8>, name: &str| -> anyhow::Result<String> {
        String::from_utf8(bytes).with_context(|| format!("{name} is not UTF-8"))
    };
    let data = if dir.join("ratings.csv").is_file() {
        eprintln!(
            "{}: MovieLens CSV layout (ratings.csv, movies.csv)",
            dir.display()
        );
        let ratings = text(read("ratings.csv")?, "ratings.csv")?;
        let movies = text(read("movies.csv")?, "movies.csv")?;
        import::movielens_csv(&ratings, &movies)?
    } else if dir.join("u.data").is_file() {
        eprintln!("{}: MovieLens 100k layout (u.data, u.item)", dir.display());
        let ratings = text(read("u.data")?, "u.data")?;
        import::movielens_100k(&ratings, &import::latin1(&read("u.item")?))?
    } else {
        anyhow::bail!(
            "{} holds neither ratings.csv + movies.csv nor u.data + u.item",
            dir.display()
        );
    };
    load(config, schema, &data).await
}

/// Loads `data` into the empty `schema` with progress bars.
async fn load(config: &DatabaseConfig, schema: &SchemaName, data: &synthetic::Dataset) -> anyhow::Result<()> {
    let pool = PgPool::new(config.url.expose_secret(), schema, &config.pool)?;
    anyhow::ensure!(
        seed::is_empty(&pool).await?,
        "schema {schema} already holds users; seed an empty schema (e.g. a new --schema name)"
    );
    let bars = [
        bar(data.users.len() as u64, "users"),
        bar(data.items.len() as u64, "items"),
        bar(data.interactions.len() as u64, "interactions"),
    ];
    let summary = seed::load(&pool, data, &|stage, done, _| {
        let bar = &bars[stage as usize];
        bar.set_position(done as u64);
        if done as u64 >= bar.length().unwrap_or(0) {
            bar.finish();
        }
    })
    .await?;
    println!(
        "{schema}: loaded {} users, {} items, {} interactions in {:.1} s",
        summary.users,
        summary.items,
        summary.interactions,
        summary.millis as f64 / 1000.0
    );
    pool.close();
    Ok(())
}

/// Settings of `genonaut eval`.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// List length.
    pub k: usize,
    /// Split.
    pub split: Split,
    /// Users evaluated at most (0 = all).
    pub users: usize,
    /// Print JSON instead of a table.
    pub json: bool,
}

/// Evaluates every algorithm offline on the data of `schema`.
pub async fn eval(config: &DatabaseConfig, schema: &SchemaName, options: EvalOptions) -> anyhow::Result<()> {
    let pool = PgPool::new(config.url.expose_secret(), schema, &config.pool)?;
    let repos = genonaut_db::repositories(&pool);
    eprintln!("{schema}: reading interactions, items and users…");
    let data = eval::load(repos.recommender_builds.as_ref(), repos.users.as_ref()).await?;
    anyhow::ensure!(
        !data.signals.is_empty(),
        "schema {schema} has no interactions to learn from"
    );
    eprintln!(
        "{} interactions, {} items, {} users; {}, k = {}",
        data.signals.len(),
        data.items.len(),
        data.preferences.len(),
        options.split,
        options.k
    );
    let progress = bar(0, "users");
    let config = EvalConfig {
        k: options.k,
        split: options.split,
        max_users: options.users,
        ..EvalConfig::default()
    };
    let report = eval::evaluate(data, &config, &SystemClock, &|done, total| {
        progress.set_length(total as u64);
        progress.set_position(done as u64);
    })
    .await?;
    progress.finish_and_clear();
    pool.close();
    if options.json {
        println!("{}", serde_json::to_string_pretty(&report_json(&report))?);
    } else {
        print!("{}", report_table(&report));
    }
    Ok(())
}

fn report_json(report: &Report) -> serde_json::Value {
    let popularity = report.of("popularity").map_or(0.0, |m| m.ndcg);
    json!({
        "k": report.k,
        "split": report.split,
        "users": report.users,
        "catalogue": report.catalogue,
        "train_interactions": report.train_signals,
        "build_ms": report.build_millis,
        "popularity_half_life_days": report.popularity_half_life_days,
        "textbook_ease": report.textbook.map(|(lambda, items)| json!({"lambda": lambda, "items": items})),
        "metrics": report.metrics.iter().map(|m| json!({
            "algorithm": m.algorithm,
            "precision": m.precision,
            "recall": m.recall,
            "ndcg": m.ndcg,
            "hit_rate": m.hit_rate,
            "coverage": m.coverage,
            "novelty": m.novelty,
            "diversity": m.diversity,
            "ndcg_vs_popularity": if popularity > 0.0 { m.ndcg / popularity } else { 0.0 },
            "ms_per_user": m.millis_per_user,
        })).collect::<Vec<_>>(),
    })
}

/// The report as a Markdown table (pastes into docs as is).
pub fn report_table(report: &Report) -> String {
    let k = report.k;
    let popularity = report.of("popularity").map_or(0.0, |m| m.ndcg);
    let mut out = format!(
        "{} users, {} listed items, {} training interactions, {}; derived state built in {} ms; \
         popularity half-life {:.1} days",
        report.users,
        report.catalogue,
        report.train_signals,
        report.split,
        report.build_millis,
        report.popularity_half_life_days
    );
    if let Some((lambda, items)) = report.textbook {
        out.push_str(&format!("; ease-textbook: λ {lambda} on {items} items"));
    }
    out.push_str("\n\n");
    out.push_str(&format!(
        "| algorithm | precision@{k} | recall@{k} | NDCG@{k} | hit rate@{k} | coverage | novelty | diversity | NDCG vs popularity | ms/user |\n"
    ));
    out.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    for m in &report.metrics {
        let ratio = if popularity > 0.0 {
            m.ndcg / popularity
        } else {
            0.0
        };
        out.push_str(&format!(
            "| {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.3} | {:.2} | {:.3} | {:.2}× | {:.2} |\n",
            m.algorithm,
            m.precision,
            m.recall,
            m.ndcg,
            m.hit_rate,
            m.coverage,
            m.novelty,
            m.diversity,
            ratio,
            m.millis_per_user
        ));
    }
    out
}

fn service(pool: &PgPool) -> RecommenderService {
    RecommenderService::new(
        genonaut_db::repositories(pool).recommender_builds,
        Arc::new(SystemClock),
        MaintenanceConfig::default(),
    )
}

/// Builds the derived state of `schema` now.
pub async fn rebuild(config: &DatabaseConfig, schema: &SchemaName, full: bool) -> anyhow::Result<()> {
    let pool = PgPool::new(config.url.expose_secret(), schema, &config.pool)?;
    let worker = format!("cli-{}", std::process::id());
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!("{schema}: building…"));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let report: BuildReport = service(&pool)
        .rebuild_now(&worker, full)
        .await
        .map_err(|e| match e {
            genonaut_domain::DomainError::Conflict(genonaut_domain::Conflict::BuildRunning(on)) => {
                anyhow::anyhow!("a build is already running (on {on}); try again when it ends")
            }
            e => e.into(),
        })
        .with_context(|| format!("building the recommender state of {schema}"))?;
    spinner.finish_and_clear();
    let info = &report.info;
    println!(
        "{schema}: {} build in {} ms — {} interactions, {} users, {} item rows written ({} neighbour pairs in all), {} tags, learned model on {} items (λ {})",
        if info.full { "full" } else { "incremental" },
        info.millis,
        info.signals,
        info.users,
        report.rows_written,
        info.pairs,
        report.tags_written,
        info.model_items,
        info.model_lambda
    );
    pool.close();
    Ok(())
}

/// Embeds every item of `schema` without a current vector, with a progress bar.
pub async fn embed(
    config: &DatabaseConfig,
    schema: &SchemaName,
    embed: &crate::config::EmbedConfig,
    batch: usize,
) -> anyhow::Result<()> {
    let model = match crate::embed::load(embed).await {
        crate::embed::Model::Loaded(model) => model,
        crate::embed::Model::Unavailable(reason) => {
            anyhow::bail!(
                "{reason}; fetch the model with scripts/fetch-model.sh and set GENONAUT_EMBED_MODEL_DIR"
            )
        }
    };
    let pool = PgPool::new(config.url.expose_secret(), schema, &config.pool)?;
    let repos = genonaut_db::repositories(&pool);
    let semantic = genonaut_domain::services::SemanticService::new(
        repos.embeddings,
        repos.content,
        Arc::new(SystemClock),
    )
    .with_model(
        Arc::new(genonaut_embed::SharedMiniLm(model)),
        Arc::new(genonaut_embed::AnnIndex::new()),
    );
    let progress = bar(0, "embedded");
    let started = std::time::Instant::now();
    let done = semantic
        .backfill(batch, &|done, total| {
            progress.set_length(total);
            progress.set_position(done);
        })
        .await
        .with_context(|| format!("embedding the items of {schema}"))?;
    progress.finish();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{schema}: embedded {done} items in {secs:.1} s{}",
        if done > 0 {
            format!(" ({:.1} ms per item)", secs * 1000.0 / done as f64)
        } else {
            " (every item already had a current vector)".to_owned()
        }
    );
    pool.close();
    Ok(())
}

/// Prints the build status of `schema`.
pub async fn status(config: &DatabaseConfig, schema: &SchemaName) -> anyhow::Result<()> {
    let pool = PgPool::new(config.url.expose_secret(), schema, &config.pool)?;
    let status = service(&pool).status().await?;
    match &status.last {
        Some(b) => println!(
            "{schema}: last build {} ({}, {} ms): {} interactions up to id {}, {} items, {} neighbour pairs, learned model on {} items (λ {})",
            b.built_at.format("%Y-%m-%d %H:%M:%S"),
            if b.full { "full" } else { "incremental" },
            b.millis,
            b.signals,
            b.watermark,
            b.items,
            b.pairs,
            b.model_items,
            b.model_lambda
        ),
        None => println!("{schema}: never built"),
    }
    println!(
        "{schema}: newest interaction id {} — {}",
        status.latest_signal,
        if status.is_stale() { "stale" } else { "up to date" }
    );
    if let Some(at) = status.requested_at {
        println!("{schema}: build requested at {}", at.format("%Y-%m-%d %H:%M:%S"));
    }
    if let Some(worker) = &status.running_on {
        println!("{schema}: building now on {worker}");
    }
    if let Some(error) = &status.last_error {
        println!("{schema}: last build failed: {error}");
    }
    pool.close();
    Ok(())
}
