//! Behaviour only the PostgreSQL adapters have: schema drift, constraint translation,
//! transactions, id ranges, pools, migrations, roles.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDate;
use genonaut_db::testing::TestDb;
use genonaut_db::{PgPool, PoolSettings, SchemaName, admin, migrate};
use genonaut_domain::ids::*;
use genonaut_domain::model::*;
use genonaut_domain::ports::ForUser;
use genonaut_domain::values::{Email, Tags, Username};
use genonaut_domain::{DomainError, Entity, NotFound, PageRequest, Rule};
use serde_json::json;

fn ts() -> Timestamp {
    NaiveDate::from_ymd_opt(2025, 3, 1)
        .and_then(|d| d.and_hms_micro_opt(10, 0, 0, 123_456))
        .unwrap()
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: Username::parse(name).unwrap(),
        email: Email::parse(&format!("{name}@example.com")).unwrap(),
        preferences: JsonObject::new(),
    }
}

fn new_content(creator: UserId) -> NewContent {
    NewContent {
        title: "t".into(),
        content_type: ContentType::Image,
        content_data: "/img/1.png".into(),
        creator_id: creator,
        item_metadata: JsonObject::new(),
        tags: Tags::parse(["a", "b"]).unwrap(),
        is_public: true,
        is_private: false,
    }
}

/// Parses `schema.rs` (diesel's `table!` syntax) into table → [(column, type)].
fn declared_schema() -> BTreeMap<String, Vec<(String, String)>> {
    let text = include_str!("../../src/schema.rs");
    let mut tables = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut max_len: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.ends_with(") {") && line.contains(" (") {
            // `name (primary, key) {`
            let name = line.split(" (").next().unwrap_or_default().trim().to_owned();
            current = Some(name.clone());
            tables.insert(name, Vec::new());
        } else if let Some(len) = line
            .strip_prefix("#[max_length = ")
            .and_then(|l| l.strip_suffix(']'))
        {
            max_len = Some(len.to_owned());
        } else if let (Some(table), Some((col, ty))) = (&current, line.split_once(" -> ")) {
            let ty = ty.trim_end_matches(',');
            let ty = match max_len.take() {
                Some(len) => format!("{ty}({len})"),
                None => ty.to_owned(),
            };
            tables.get_mut(table).unwrap().push((col.to_owned(), ty));
        } else if line == "}" {
            current = None;
        }
    }
    tables
}

#[tokio::test]
async fn schema_rs_matches_a_freshly_migrated_schema() {
    let db = TestDb::new().await;
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text, \
                    character_maximum_length, udt_name::text \
             FROM information_schema.columns WHERE table_schema = $1 \
               AND table_name <> '__diesel_schema_migrations' \
             ORDER BY table_name, ordinal_position",
            &[&db.schema.as_str()],
        )
        .await
        .unwrap();
    let mut actual: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for row in rows {
        let (table, column, data_type, nullable, max_len): (String, String, String, String, Option<i32>) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        let udt: String = row.get(5);
        let element = |udt: &str| match udt {
            "_int4" => "Int4",
            "_float4" => "Float4",
            "_float8" => "Float8",
            "_text" => "Text",
            other => panic!("unmapped array type {other}"),
        };
        let array;
        let base = match data_type.as_str() {
            "ARRAY" => {
                array = format!("Array<Nullable<{}>>", element(&udt));
                array.as_str()
            }
            "integer" => "Int4",
            "bigint" => "Int8",
            "character varying" => "Varchar",
            "text" => "Text",
            "jsonb" => "Jsonb",
            "timestamp without time zone" => "Timestamp",
            "double precision" => "Float8",
            "boolean" => "Bool",
            "real" => "Float4",
            "smallint" => "Int2",
            other => panic!("unmapped type {other}"),
        };
        let mut ty = if nullable == "YES" {
            format!("Nullable<{base}>")
        } else {
            base.to_owned()
        };
        if let Some(len) = max_len {
            ty = format!("{ty}({len})");
        }
        actual.entry(table).or_default().push((column, ty));
    }
    assert_eq!(
        actual,
        declared_schema(),
        "crates/db/src/schema.rs is out of date: regenerate it with `just schema`"
    );
}

#[tokio::test]
async fn unique_and_foreign_key_violations_become_business_errors() {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let alice = repos.users.insert(new_user("alice"), ts()).await.unwrap();
    // Straight to the adapter (the service would pre-check): the index decides.
    let dup = repos.users.insert(new_user("alice"), ts()).await.unwrap_err();
    assert!(
        matches!(
            dup,
            DomainError::Conflict(genonaut_domain::Conflict::Username(None))
        ),
        "{dup:?}"
    );
    let mut same_mail = new_user("alice2");
    same_mail.email = Email::parse("alice@example.com").unwrap();
    let dup = repos.users.insert(same_mail, ts()).await.unwrap_err();
    assert!(
        matches!(dup, DomainError::Conflict(genonaut_domain::Conflict::Email(None))),
        "{dup:?}"
    );
    let orphan = repos
        .content
        .insert(new_content(UserId(9999)), 0.5, ts())
        .await
        .unwrap_err();
    assert!(
        matches!(orphan, DomainError::Rule(Rule::CreatorMissing)),
        "{orphan:?}"
    );
    let c = repos
        .content
        .insert(new_content(alice.id), 0.5, ts())
        .await
        .unwrap();
    let both = repos
        .content
        .update(
            c.id,
            ContentChanges {
                is_private: Some(true),
                ..Default::default()
            },
            ts(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(both, DomainError::Rule(Rule::PublicAndPrivate)),
        "{both:?}"
    );
    let stray = repos
        .interactions
        .insert(
            NewInteraction {
                user_id: alice.id,
                content_item_id: ContentId(424242),
                interaction_type: InteractionType::View,
                rating: None,
                duration: None,
                metadata: JsonObject::new(),
            },
            ts(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(stray, DomainError::Rule(Rule::ContentMissing)),
        "{stray:?}"
    );
}

#[tokio::test]
async fn ids_beyond_the_integer_column_simply_do_not_exist() {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let huge = i64::from(i32::MAX) + 1;
    assert!(repos.users.get(UserId(huge)).await.unwrap().is_none());
    assert!(repos.users.get(UserId(-5)).await.unwrap().is_none());
    assert!(repos.content.get(ContentId(huge)).await.unwrap().is_none());
    assert!(!repos.content.delete(ContentId(huge)).await.unwrap());
    assert!(repos.jobs.get(JobId(huge)).await.unwrap().is_none());
    let err = repos
        .recommendations
        .mark_served(&[RecommendationId(huge)], ts())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DomainError::NotFound(NotFound::Id { entity: Entity::Recommendation, id })
            if *id == huge.to_string()),
        "{err:?}"
    );
    let err = repos
        .content
        .insert(new_content(UserId(huge)), 0.5, ts())
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Rule(Rule::CreatorMissing)), "{err:?}");
}

#[tokio::test]
async fn timestamps_round_trip_with_microseconds_and_json_keeps_types() {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let mut u = new_user("bob");
    u.preferences =
        json!({"n": 1, "f": 1.5, "b": true, "s": "2025-01-01T00:00:00", "nested": {"x": [1, "a"]}})
            .as_object()
            .cloned()
            .unwrap();
    let stored = repos.users.insert(u, ts()).await.unwrap();
    let read = repos.users.get(stored.id).await.unwrap().unwrap();
    assert_eq!(read.created_at, ts());
    assert_eq!(read.preferences["b"], json!(true));
    assert_eq!(read.preferences["nested"]["x"], json!([1, "a"]));
    assert_eq!(read, stored);
}

#[tokio::test]
async fn a_recorded_interaction_is_what_a_later_read_returns() {
    // Recording reads back only what PostgreSQL decides (id, stored time, metadata as JSONB
    // normalises it); the answer must still equal the stored row, key order included.
    let db = TestDb::new().await;
    let repos = db.repositories();
    let user = repos.users.insert(new_user("carol"), ts()).await.unwrap();
    let item = repos
        .content
        .insert(new_content(user.id), 0.5, ts())
        .await
        .unwrap();
    let metadata = json!({"source": "feed", "n": 2, "nested": {"zz": 1, "a": [1.5, "x"]}});
    // A time with nanoseconds: PostgreSQL keeps microseconds, and so must the answer.
    let at = ts() + chrono::Duration::nanoseconds(789);
    let recorded = repos
        .interactions
        .insert_if_active(
            NewInteraction {
                user_id: user.id,
                content_item_id: item.id,
                interaction_type: InteractionType::Like,
                rating: Some(4),
                duration: Some(95),
                metadata: metadata.as_object().cloned().unwrap(),
            },
            at,
        )
        .await
        .unwrap()
        .unwrap();
    let read = repos.interactions.get(recorded.id).await.unwrap().unwrap();
    assert_eq!(recorded, read);
    assert_eq!(recorded.created_at, ts());
    let keys = |i: &Interaction| i.metadata.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&recorded), ["n", "nested", "source"], "JSONB's key order");
    assert_eq!(keys(&recorded), keys(&read));
    assert_eq!(
        (
            recorded.user_id,
            recorded.content_item_id,
            recorded.interaction_type
        ),
        (user.id, item.id, InteractionType::Like)
    );
}

#[tokio::test]
async fn concurrent_preference_merges_lose_nothing() {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let u = repos.users.insert(new_user("carol"), ts()).await.unwrap();
    let writes = (0..8).map(|i| {
        let users = repos.users.clone();
        let prefs = json!({ format!("k{i}"): i }).as_object().cloned().unwrap();
        tokio::spawn(async move { users.merge_preferences(u.id, prefs, ts()).await.unwrap() })
    });
    for w in writes {
        w.await.unwrap();
    }
    let merged = repos.users.get(u.id).await.unwrap().unwrap();
    assert_eq!(merged.preferences.len(), 8, "{:?}", merged.preferences);
}

#[tokio::test]
async fn direct_sql_updates_bump_updated_at_through_the_trigger() {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let u = repos.users.insert(new_user("dave"), ts()).await.unwrap();
    db.client()
        .await
        .execute(
            "UPDATE users SET is_active = false WHERE id = $1",
            &[&(u.id.0 as i32)],
        )
        .await
        .unwrap();
    let after = repos.users.get(u.id).await.unwrap().unwrap();
    assert!(after.updated_at > u.updated_at, "trigger bumps updated_at");
}

#[tokio::test]
async fn search_escapes_wildcards_and_uses_full_text_stemming() {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let u = repos.users.insert(new_user("erin"), ts()).await.unwrap();
    for title in ["100% Cotton", "Running with cats", "plain_title", "Other"] {
        repos
            .content
            .insert(
                NewContent {
                    title: title.into(),
                    ..new_content(u.id)
                },
                0.5,
                ts(),
            )
            .await
            .unwrap();
    }
    let find = |term: &str| ContentQuery {
        search_term: Some(term.into()),
        ..Default::default()
    };
    let page = genonaut_domain::PageRequest::DEFAULT;
    assert_eq!(
        repos.content.list(&find("%"), page).await.unwrap().total,
        1,
        "% is literal"
    );
    assert_eq!(
        repos.content.list(&find("_"), page).await.unwrap().total,
        1,
        "_ is literal"
    );
    let stemmed = repos.content.list(&find("run cat"), page).await.unwrap();
    assert_eq!(
        stemmed.items.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(),
        ["Running with cats"]
    );
    assert_eq!(
        repos.content.list(&find("COTTON"), page).await.unwrap().total,
        1,
        "case-insensitive"
    );
}

#[tokio::test]
async fn an_exhausted_pool_fails_fast_with_unavailable() {
    let db = TestDb::new().await;
    let settings = PoolSettings {
        max_size: 1,
        wait_timeout: Duration::from_millis(100),
        ..PoolSettings::default()
    };
    let pool = PgPool::new(&db.url, &db.schema, &settings).unwrap();
    let held = pool.get().await.unwrap();
    let err = pool.get().await.err().unwrap();
    assert!(matches!(err, DomainError::Unavailable(_)), "{err:?}");
    drop(held);
    assert!(pool.get().await.is_ok());
}

/// Checks out a connection on a new thread that declared itself HTTP worker `worker`
/// (`None`: an undeclared thread) and reports whether it got one within the wait timeout.
fn checkout_on_thread(pool: &PgPool, worker: Option<usize>) -> bool {
    let pool = pool.clone();
    std::thread::spawn(move || {
        if let Some(w) = worker {
            genonaut_db::pin_thread(w);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async { pool.get().await.is_ok() })
    })
    .join()
    .unwrap()
}

#[tokio::test]
async fn each_worker_thread_has_its_own_share_of_the_pool() {
    let db = TestDb::new().await;
    let settings = PoolSettings {
        max_size: 2,
        workers: 2,
        background: 1,
        wait_timeout: Duration::from_millis(100),
        ..PoolSettings::default()
    };
    let pool = PgPool::new(&db.url, &db.schema, &settings).unwrap();
    assert_eq!(
        pool.usage().max_size,
        3,
        "the workers' max_size plus the background share"
    );
    // This thread is worker 0: its share (one connection) is exhausted by one checkout…
    genonaut_db::pin_thread(0);
    let held = pool.get().await.unwrap();
    let err = pool.get().await.err().unwrap();
    assert!(matches!(err, DomainError::Unavailable(_)), "{err:?}");
    assert!(
        !checkout_on_thread(&pool, Some(2)),
        "worker 2 of 2 wraps round to share 0"
    );
    // …while worker 1 and threads that are no worker (job runner, CLI) have their own.
    assert!(checkout_on_thread(&pool, Some(1)));
    assert!(checkout_on_thread(&pool, None));
    assert_eq!(pool.usage().size, 3);
    drop(held);
    assert!(pool.get().await.is_ok());
}

#[test]
fn request_connections_are_split_between_workers_beside_a_background_share() {
    let schema = SchemaName::parse("app").unwrap();
    let url = "postgres://postgres@127.0.0.1:1/genonaut";
    let size = |max_size, workers, background| {
        let settings = PoolSettings {
            max_size,
            workers,
            background,
            ..PoolSettings::default()
        };
        PgPool::new(url, &schema, &settings).unwrap().usage().max_size
    };
    assert_eq!(size(16, 0, 3), 16, "no workers: one pool, no background share");
    assert_eq!(size(16, 1, 3), 19);
    assert_eq!(size(16, 2, 3), 19, "8 + 8 for the workers, 3 for the rest");
    assert_eq!(size(16, 4, 0), 17, "the background share holds at least one");
    assert_eq!(size(2, 4, 1), 5, "every worker's share holds at least one");
}

#[tokio::test]
async fn the_hot_fixed_statements_are_prepared_once_per_connection() {
    use diesel_async::RunQueryDsl;

    #[derive(diesel::QueryableByName)]
    struct Prepared {
        #[diesel(sql_type = diesel::sql_types::Text)]
        statement: String,
    }

    let db = TestDb::new().await;
    // One connection, so every call below runs on the connection inspected at the end.
    let settings = PoolSettings {
        max_size: 1,
        ..PoolSettings::default()
    };
    let pool = PgPool::new(&db.url, &db.schema, &settings).unwrap();
    let repos = genonaut_db::repositories(&pool);
    let user = repos.users.insert(new_user("prep"), ts()).await.unwrap();
    let item = repos
        .content
        .insert(new_content(user.id), 0.5, ts())
        .await
        .unwrap();
    let only_user = RecommendationQuery {
        user_id: Some(user.id),
        ..Default::default()
    };
    for round in 0..3 {
        assert_eq!(repos.content.get(item.id).await.unwrap().unwrap().id, item.id);
        let new = NewInteraction {
            user_id: user.id,
            content_item_id: item.id,
            interaction_type: InteractionType::View,
            rating: Some(round + 1),
            duration: None,
            metadata: serde_json::Map::from_iter([("round".to_owned(), json!(round))]),
        };
        let at = ts() + chrono::Duration::seconds(i64::from(round));
        let stored = repos
            .interactions
            .insert_if_active(new, at)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (stored.rating, stored.metadata["round"].clone()),
            (Some(round + 1), json!(round))
        );
        let page = repos
            .recommendations
            .list(&only_user, genonaut_domain::PageRequest { skip: 0, limit: 10 })
            .await
            .unwrap();
        assert_eq!(page.total, 0);
        let for_user = repos
            .recommendations
            .list_for_user(
                user.id,
                &only_user,
                genonaut_domain::PageRequest { skip: 0, limit: 10 },
            )
            .await
            .unwrap();
        assert_eq!(
            for_user,
            ForUser::Active(genonaut_domain::Page {
                items: vec![],
                total: 0
            })
        );
        assert_eq!(
            repos.users.get(user.id).await.unwrap().unwrap().username,
            user.username
        );
    }
    let mut conn = pool.get().await.unwrap();
    let statements: Vec<String> = diesel::sql_query("SELECT statement FROM pg_prepared_statements")
        .load::<Prepared>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.statement)
        .collect();
    for needle in [
        "FROM content_items WHERE id = $1",
        "INSERT INTO user_interactions",
        "FROM recommendations WHERE user_id = $1 ORDER BY",
        "SELECT count(*) AS n FROM recommendations WHERE user_id = $1",
        "preferences, is_active FROM users WHERE id = $1",
        "CROSS JOIN (SELECT count(*) AS total FROM recommendations WHERE user_id = $1)",
    ] {
        let n = statements.iter().filter(|s| s.contains(needle)).count();
        assert_eq!(n, 1, "{needle:?} prepared {n} times in {statements:#?}");
    }
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable_not_a_crash() {
    let schema = SchemaName::parse("app").unwrap();
    let settings = PoolSettings {
        connect_timeout: Duration::from_millis(500),
        ..PoolSettings::default()
    };
    let pool = PgPool::new("postgres://postgres@127.0.0.1:1/genonaut", &schema, &settings).unwrap();
    let repos = genonaut_db::repositories(&pool);
    let err = repos.system.ping().await.unwrap_err();
    assert!(matches!(err, DomainError::Unavailable(_)), "{err:?}");
    assert!(
        !err.to_string().contains("127.0.0.1"),
        "no driver text in the message: {err}"
    );
    assert!(matches!(
        admin::probe("postgres://postgres@127.0.0.1:1/x").await.unwrap(),
        admin::Probe::NoServer(_)
    ));
}

#[tokio::test]
async fn migrations_are_idempotent_reversible_and_report_pending() {
    let db = TestDb::new().await;
    assert!(
        migrate::migrate(&db.url, &db.schema).await.unwrap().is_empty(),
        "nothing left to apply"
    );
    assert!(migrate::pending(&db.url, &db.schema).await.unwrap().is_empty());
    let fresh = SchemaName::parse(&format!("{}_never", db.schema)).unwrap();
    let pending = migrate::pending(&db.url, &fresh).await.unwrap();
    assert!(!pending.is_empty());
    let client = db.client().await;
    let leaked = client
        .query_opt("SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = '__diesel_schema_migrations'", &[])
        .await
        .unwrap();
    assert!(
        leaked.is_none(),
        "checking a missing schema must not create bookkeeping in public"
    );
    // Every down.sql reverts its up.sql, and up applies again on top.
    let applied = client
        .query("SELECT version FROM __diesel_schema_migrations", &[])
        .await
        .unwrap();
    assert!(!applied.is_empty());
    let reverted = tokio::task::spawn_blocking({
        let url = db.url.clone();
        let schema = db.schema.clone();
        move || revert_all(&url, &schema)
    })
    .await
    .unwrap();
    assert_eq!(reverted, applied.len());
    let tables = client
        .query_one("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '__diesel_schema_migrations'", &[])
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(tables, 0, "down.sql removed every table");
    assert_eq!(
        migrate::migrate(&db.url, &db.schema).await.unwrap().len(),
        applied.len()
    );
}

fn revert_all(url: &str, schema: &SchemaName) -> usize {
    use diesel::Connection;
    use diesel_async::AsyncPgConnection;
    use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
    use diesel_migrations::MigrationHarness;
    // Runs on a blocking thread of the test's runtime: the wrapper drives the async
    // connection through that runtime's handle.
    let url = format!("{url}?options=-csearch_path%3D{schema}%2Cpublic");
    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
    conn.revert_all_migrations(migrate::MIGRATIONS).unwrap().len()
}

#[tokio::test]
async fn db_init_creates_roles_with_grants_idempotently() {
    let db = TestDb::new().await;
    let schemas = [db.schema.clone()];
    admin::init_roles(&db.url, &schemas).await.unwrap();
    admin::init_roles(&db.url, &schemas).await.unwrap();
    let client = db.client().await;
    let check = |role: &str, privilege: &str| {
        let client = &client;
        let table = format!("{}.users", db.schema);
        let (role, privilege) = (role.to_owned(), privilege.to_owned());
        async move {
            client
                .query_one(
                    "SELECT has_table_privilege($1, $2, $3)",
                    &[&role, &table, &privilege],
                )
                .await
                .unwrap()
                .get::<_, bool>(0)
        }
    };
    assert!(check(admin::ROLE_READ_ONLY, "SELECT").await);
    assert!(!check(admin::ROLE_READ_ONLY, "INSERT").await);
    assert!(check(admin::ROLE_READ_WRITE, "INSERT").await);
    assert!(check(admin::ROLE_READ_WRITE, "DELETE").await);
    assert!(!check(admin::ROLE_READ_WRITE, "TRUNCATE").await);
    assert!(check(admin::ROLE_ADMIN, "TRUNCATE").await);
}

#[tokio::test]
async fn the_search_path_isolates_schemas() {
    let a = TestDb::new().await;
    let b = TestDb::new().await;
    a.repositories()
        .users
        .insert(new_user("only_in_a"), ts())
        .await
        .unwrap();
    assert_eq!(a.repositories().users.overview().await.unwrap().total, 1);
    assert_eq!(b.repositories().users.overview().await.unwrap().total, 0);
    let info = a.repositories().system.info().await.unwrap();
    let all = migrate::pending(&a.url, &SchemaName::parse("never_created_schema").unwrap())
        .await
        .unwrap();
    assert_eq!(
        info.migration_version,
        all.into_iter().max(),
        "the newest migration"
    );
    assert_eq!(info.approximate_rows.len(), 5);
}

#[tokio::test]
async fn list_totals_from_the_counters_stay_exact_through_every_change() {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let alice = repos.users.insert(new_user("alice"), ts()).await.unwrap();
    let mut ids = Vec::new();
    for (i, kind) in [
        ContentType::Image,
        ContentType::Text,
        ContentType::Text,
        ContentType::Audio,
    ]
    .into_iter()
    .enumerate()
    {
        let mut item = new_content(alice.id);
        item.content_type = kind;
        item.is_public = i != 3;
        ids.push(repos.content.insert(item, 0.5, ts()).await.unwrap().id);
    }
    let hidden = ContentChanges {
        is_public: Some(false),
        is_private: Some(true),
        ..ContentChanges::default()
    };
    repos.content.update(ids[1], hidden, ts()).await.unwrap();
    assert!(repos.content.delete(ids[0]).await.unwrap());
    repos.content.set_quality(ids[2], 0.9, ts()).await.unwrap();

    let page = genonaut_domain::PageRequest::new(0, 1);
    let queries = [
        ContentQuery::default(),
        ContentQuery {
            public_only: true,
            ..ContentQuery::default()
        },
        ContentQuery {
            content_type: Some(ContentType::Text),
            ..ContentQuery::default()
        },
        ContentQuery {
            content_type: Some(ContentType::Text),
            public_only: true,
            ..ContentQuery::default()
        },
        ContentQuery {
            content_type: Some(ContentType::Video),
            ..ContentQuery::default()
        },
    ];
    // Left: a private text, a public text, an unlisted audio.
    let stats = repos.content.stats().await.unwrap();
    assert_eq!((stats.total, stats.public, stats.private), (3, 1, 1));
    assert_eq!(
        stats.by_type,
        [
            (ContentType::Text, 2),
            (ContentType::Image, 0),
            (ContentType::Video, 0),
            (ContentType::Audio, 1)
        ]
    );
    let global = repos.system.global_stats().await.unwrap();
    assert_eq!(
        (global.content, global.public_content, global.private_content),
        (3, 1, 1)
    );
    let expected = [3, 1, 2, 1, 0];
    for (query, want) in queries.iter().zip(expected) {
        let counted = repos.content.list(query, page).await.unwrap().total;
        assert_eq!(counted, want, "{query:?}");
        // The same filter through the general (counting) path, to be sure they agree.
        let mut scanned = query.clone();
        scanned.created_since = Some(ts() - chrono::Duration::days(1));
        assert_eq!(
            repos.content.list(&scanned, page).await.unwrap().total,
            want,
            "{query:?}"
        );
    }
}

/// Every interaction total the counters answer, against the same totals counted row by row.
async fn assert_interaction_totals(repos: &genonaut_domain::ports::Repositories, when: &str) {
    let page = genonaut_domain::PageRequest::new(0, 1);
    let since_ever = Some(ts() - chrono::Duration::days(3650));
    let scanned = |interaction_type| InteractionQuery {
        interaction_type,
        since: since_ever,
        ..InteractionQuery::default()
    };
    let all = repos.interactions.list(&scanned(None), page).await.unwrap().total;
    let counted = repos
        .interactions
        .list(&InteractionQuery::default(), page)
        .await
        .unwrap();
    assert_eq!(counted.total, all, "{when}: all interactions");
    assert_eq!(
        repos.system.global_stats().await.unwrap().interactions,
        all,
        "{when}: global stats"
    );
    let by_type = repos.interactions.count_by_type().await.unwrap();
    assert_eq!(by_type.len(), InteractionType::ALL.len());
    for (t, n) in by_type {
        let query = InteractionQuery {
            interaction_type: Some(t),
            ..InteractionQuery::default()
        };
        let want = repos
            .interactions
            .list(&scanned(Some(t)), page)
            .await
            .unwrap()
            .total;
        assert_eq!(n, want, "{when}: {t:?} by type");
        assert_eq!(
            repos.interactions.list(&query, page).await.unwrap().total,
            want,
            "{when}: {t:?} listed"
        );
    }
}

#[tokio::test]
async fn interaction_totals_from_the_counters_stay_exact_through_checkpoints_and_deletes() {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let user = repos.users.insert(new_user("dora"), ts()).await.unwrap();
    let item = repos
        .content
        .insert(new_content(user.id), 0.5, ts())
        .await
        .unwrap();
    let mut ids = Vec::new();
    let record = async |i: i64, interaction_type| {
        let new = NewInteraction {
            user_id: user.id,
            content_item_id: item.id,
            interaction_type,
            rating: None,
            duration: None,
            metadata: serde_json::Map::new(),
        };
        let at = ts() + chrono::Duration::seconds(i);
        repos.interactions.insert(new, at).await.unwrap().id
    };
    for (i, t) in [
        InteractionType::View,
        InteractionType::View,
        InteractionType::Like,
    ]
    .into_iter()
    .enumerate()
    {
        ids.push(record(i as i64, t).await);
    }
    assert_interaction_totals(&repos, "nothing checkpointed").await;
    // The first checkpoint only notes how far the next may go; the second gets there.
    assert_eq!(repos.interactions.checkpoint_counts().await.unwrap(), 0);
    assert_eq!(repos.interactions.checkpoint_counts().await.unwrap(), ids[2].0);
    assert_interaction_totals(&repos, "all checkpointed").await;
    ids.push(record(3, InteractionType::Share).await);
    ids.push(record(4, InteractionType::View).await);
    assert_interaction_totals(&repos, "two past the mark").await;
    // One deleted below the mark (leaves the counters), one above (was never in them).
    assert!(repos.interactions.delete(ids[0]).await.unwrap());
    assert!(repos.interactions.delete(ids[4]).await.unwrap());
    assert_interaction_totals(&repos, "after deletes").await;
    repos.interactions.checkpoint_counts().await.unwrap();
    assert_eq!(repos.interactions.checkpoint_counts().await.unwrap(), ids[3].0);
    assert_interaction_totals(&repos, "checkpointed again").await;
    let counts = repos.interactions.count_by_type().await.unwrap();
    assert_eq!(
        counts.iter().filter(|(_, n)| *n > 0).copied().collect::<Vec<_>>(),
        [
            (InteractionType::View, 1),
            (InteractionType::Like, 1),
            (InteractionType::Share, 1)
        ]
    );

    // SQL may delete many rows at once, and truncate; the type of a row cannot change under
    // the counters.
    let sql = db.client().await;
    let err = sql
        .execute("UPDATE user_interactions SET interaction_type = 'rate'", &[])
        .await
        .unwrap_err();
    let err = err.as_db_error().expect("refused by the database");
    assert_eq!(err.code(), &tokio_postgres::error::SqlState::CHECK_VIOLATION);
    assert!(err.message().contains("cannot change"), "{}", err.message());
    sql.execute(
        "DELETE FROM user_interactions WHERE interaction_type = 'view'",
        &[],
    )
    .await
    .unwrap();
    assert_interaction_totals(&repos, "after a bulk delete").await;
    sql.execute("TRUNCATE user_interactions", &[]).await.unwrap();
    assert_interaction_totals(&repos, "after truncate").await;
    record(5, InteractionType::Comment).await;
    repos.interactions.checkpoint_counts().await.unwrap();
    repos.interactions.checkpoint_counts().await.unwrap();
    assert_interaction_totals(&repos, "refilled after truncate").await;
    assert_eq!(
        repos
            .interactions
            .list(&InteractionQuery::default(), PageRequest::new(0, 1))
            .await
            .unwrap()
            .total,
        1
    );
}

#[tokio::test]
async fn the_counters_never_pass_an_interaction_that_is_not_committed_yet() {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let user = repos.users.insert(new_user("eve"), ts()).await.unwrap();
    let item = repos
        .content
        .insert(new_content(user.id), 0.5, ts())
        .await
        .unwrap();
    let insert = format!(
        "INSERT INTO user_interactions (user_id, content_item_id, interaction_type, created_at) \
         VALUES ({}, {}, 'view', now()) RETURNING id",
        user.id, item.id
    );
    // A transaction takes an id and stays open; a later one commits a higher id.
    let mut slow = db.client().await;
    let open = slow.transaction().await.unwrap();
    let low: i32 = open.query_one(&insert, &[]).await.unwrap().get(0);
    let fast = db.client().await;
    let high: i32 = fast
        .query_one(&insert.replace("now()", "now() + interval '1 s'"), &[])
        .await
        .unwrap()
        .get(0);
    assert!(low < high);
    // The highest committed id is `high`, but `low` may still commit: the mark must stay
    // below it however often the checkpoint runs.
    for _ in 0..3 {
        assert!(repos.interactions.checkpoint_counts().await.unwrap() < i64::from(low));
    }
    assert_interaction_totals(&repos, "one committed, one open").await;
    open.commit().await.unwrap();
    assert_interaction_totals(&repos, "both committed").await;
    // Now nothing holds the mark back: it reaches `high`, counting both.
    repos.interactions.checkpoint_counts().await.unwrap();
    assert_eq!(
        repos.interactions.checkpoint_counts().await.unwrap(),
        i64::from(high)
    );
    assert_interaction_totals(&repos, "both counted").await;
    let page = repos
        .interactions
        .list(&InteractionQuery::default(), PageRequest::new(0, 1))
        .await
        .unwrap();
    assert_eq!(page.total, 2);
}

#[tokio::test]
async fn a_checkpoint_counts_a_bounded_batch_of_ids_at_a_time() {
    // After a bulk load the first checkpoints would count the whole table; a batch bound keeps
    // each one short (the server uses the default, two million ids).
    let db = TestDb::new().await;
    let repos = db.repositories();
    let user = repos.users.insert(new_user("fay"), ts()).await.unwrap();
    let item = repos
        .content
        .insert(new_content(user.id), 0.5, ts())
        .await
        .unwrap();
    let sql = db.client().await;
    sql.execute(
        &format!(
            "INSERT INTO user_interactions (user_id, content_item_id, interaction_type, created_at) \
             SELECT {}, {}, 'view', now() + g * interval '1 s' FROM generate_series(1, 5) g",
            user.id, item.id
        ),
        &[],
    )
    .await
    .unwrap();
    let ids: Vec<i32> = sql
        .query("SELECT id FROM user_interactions ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5], "a fresh schema's ids");
    let checkpoint = async |batch: i64| -> i64 {
        sql.query_one("SELECT interaction_counts_checkpoint($1)", &[&batch])
            .await
            .unwrap()
            .get(0)
    };
    assert_eq!(checkpoint(2).await, 0, "the first call only notes the highest id");
    assert_eq!(checkpoint(2).await, 2);
    assert_interaction_totals(&repos, "two of five counted").await;
    assert_eq!(checkpoint(2).await, 4);
    assert_eq!(checkpoint(2).await, 5, "never past the highest id");
    assert_eq!(checkpoint(2).await, 5);
    assert_interaction_totals(&repos, "all counted").await;
}

#[tokio::test]
async fn tickets_are_redeemed_once_atomically_and_not_after_expiry() {
    use genonaut_db::repos::PgTickets;
    use genonaut_domain::ports::{NewTicket, TicketGrant, TicketStore};
    let db = TestDb::new().await;
    let tickets = PgTickets::new(db.pool.clone());
    let ticket = |hash: &str, expires_at| NewTicket {
        hash: hash.into(),
        job_id: JobId(42),
        schema: "demo".into(),
        created_at: ts(),
        expires_at,
    };
    let later = ts() + chrono::TimeDelta::seconds(60);
    tickets.create(ticket("a", later)).await.unwrap();
    tickets.create(ticket("b", later)).await.unwrap();

    // Concurrent redemptions of one ticket: exactly one wins.
    let (x, y) = tokio::join!(tickets.redeem("a", ts()), tickets.redeem("a", ts()));
    let wins: Vec<_> = [x.unwrap(), y.unwrap()].into_iter().flatten().collect();
    assert_eq!(
        wins,
        vec![TicketGrant {
            job_id: JobId(42),
            schema: "demo".into()
        }]
    );
    assert_eq!(tickets.redeem("a", ts()).await.unwrap(), None, "used up");
    assert_eq!(tickets.redeem("unknown", ts()).await.unwrap(), None);
    let expired = later + chrono::TimeDelta::microseconds(1);
    assert_eq!(tickets.redeem("b", expired).await.unwrap(), None, "expired");
    assert!(
        tickets.redeem("b", later).await.unwrap().is_some(),
        "valid up to its expiry"
    );

    // Creating a ticket forgets those expired over an hour before.
    let much_later = NewTicket {
        created_at: later + chrono::TimeDelta::hours(2),
        ..ticket("c", later + chrono::TimeDelta::hours(3))
    };
    tickets.create(much_later).await.unwrap();
    let left = db
        .client()
        .await
        .query_one("SELECT count(*) FROM ws_tickets", &[])
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(left, 1);
}

#[tokio::test]
async fn concurrent_retries_with_one_idempotency_key_create_one_job() {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let u = repos.users.insert(new_user("dora"), ts()).await.unwrap();
    let job = NewJob {
        user_id: u.id,
        job_type: JobType::Image,
        prompt: "a lighthouse".into(),
        parameters: json!({"steps": 4}).as_object().cloned().unwrap(),
        priority: 0,
        start_deadline_seconds: None,
        timeout_seconds: None,
        webhook: None,
    };
    let request = IdempotentRequest {
        key: IdempotencyKey::parse("key:7", "retry-me").unwrap(),
        fingerprint: job.fingerprint(),
    };
    let attempts = (0..8).map(|_| {
        let jobs = repos.jobs.clone();
        let (job, request) = (job.clone(), request.clone());
        tokio::spawn(async move { jobs.insert_idempotent(job, request, ts()).await.unwrap() })
    });
    let mut outcomes = Vec::new();
    for a in attempts {
        outcomes.push(a.await.unwrap());
    }
    let created: Vec<_> = outcomes.iter().filter(|o| !o.is_replayed()).collect();
    assert_eq!(created.len(), 1, "{outcomes:?}");
    let first = created[0].clone().into_inner();
    for o in outcomes {
        assert_eq!(o.into_inner(), first);
    }
    let all = repos
        .jobs
        .list(&JobQuery::default(), PageRequest::new(0, 10))
        .await
        .unwrap();
    assert_eq!(all.total, 1);
    // A different request with the key is refused and creates nothing.
    let other = IdempotentRequest {
        fingerprint: NewJob {
            prompt: "a harbour".into(),
            ..job.clone()
        }
        .fingerprint(),
        ..request
    };
    let refused = repos.jobs.insert_idempotent(job, other, ts()).await.unwrap_err();
    assert!(
        matches!(refused, DomainError::Rule(Rule::IdempotencyKeyReused)),
        "{refused:?}"
    );
    let all = repos
        .jobs
        .list(&JobQuery::default(), PageRequest::new(0, 10))
        .await
        .unwrap();
    assert_eq!(all.total, 1);
}

#[tokio::test]
async fn keyset_pages_follow_microseconds_and_ties_and_clamp_foreign_ids() {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let u = repos.users.insert(new_user("erin"), ts()).await.unwrap();
    let micro = chrono::Duration::microseconds(1);
    let times = [
        ts(),
        ts() + micro,
        ts(),
        ts() - chrono::Duration::seconds(1),
        ts(),
        ts() + micro,
        ts() - micro,
    ];
    for t in times {
        repos.content.insert(new_content(u.id), 0.5, t).await.unwrap();
    }
    let all = ContentQuery::default();
    let expected: Vec<ContentId> = repos
        .content
        .list(&all, PageRequest::DEFAULT)
        .await
        .unwrap()
        .items
        .iter()
        .map(|c| c.id)
        .collect();
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = repos.content.list_from(&all, after, 2).await.unwrap();
        assert_eq!(page.total, 7, "the total ignores the key");
        walked.extend(page.items.iter().map(|c| c.id));
        match page.items.last() {
            Some(last) => after = Some(ContentKey::of(last)),
            None => break,
        }
    }
    assert_eq!(walked, expected, "pages by key = the listing, ties by id desc");

    let at = |id: i64| ContentKey {
        created_at: ts(),
        id: ContentId(id),
    };
    let count = |page: genonaut_domain::Page<Content>| page.items.len();
    // An id above the column's range: every item of that instant (3) and older (2) follows.
    let huge = i64::from(i32::MAX) + 1;
    assert_eq!(
        count(repos.content.list_from(&all, Some(at(huge)), 100).await.unwrap()),
        5
    );
    // An id below every stored id: only strictly older items follow.
    assert_eq!(
        count(repos.content.list_from(&all, Some(at(-7)), 100).await.unwrap()),
        2
    );
    let oldest = ContentKey {
        created_at: ts() - chrono::Duration::seconds(1),
        id: ContentId(1),
    };
    let empty = repos.content.list_from(&all, Some(oldest), 100).await.unwrap();
    assert_eq!((empty.items.len(), empty.total), (0, 7));
    // Filters apply with the key: the same walk for one creator and type.
    let mine = ContentQuery {
        creator_id: Some(u.id),
        content_type: Some(ContentType::Image),
        tags: vec!["a".into()],
        ..Default::default()
    };
    let first = repos.content.list_from(&mine, None, 3).await.unwrap();
    let rest = repos
        .content
        .list_from(&mine, first.items.last().map(ContentKey::of), 100)
        .await
        .unwrap();
    let ids: Vec<ContentId> = first.items.iter().chain(&rest.items).map(|c| c.id).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn tag_and_creator_listings_stay_exact_through_every_change() {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let alice = repos.users.insert(new_user("alice"), ts()).await.unwrap();
    let bob = repos.users.insert(new_user("bobby"), ts()).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..8_i64 {
        let mut item = new_content(if i % 2 == 0 { alice.id } else { bob.id });
        item.content_type = if i % 3 == 0 {
            ContentType::Text
        } else {
            ContentType::Image
        };
        item.tags = Tags::parse(if i % 4 == 0 {
            vec!["sea", "sky"]
        } else {
            vec!["sea"]
        })
        .unwrap();
        item.is_public = i != 5;
        let at = ts() + chrono::Duration::seconds(i % 3);
        ids.push(repos.content.insert(item, 0.5, at).await.unwrap().id);
    }
    let retag = ContentChanges {
        tags: Some(Tags::parse(["sky", "land"]).unwrap()),
        ..ContentChanges::default()
    };
    repos.content.update(ids[1], retag, ts()).await.unwrap();
    let hide = ContentChanges {
        is_public: Some(false),
        is_private: Some(true),
        ..ContentChanges::default()
    };
    repos.content.update(ids[2], hide, ts()).await.unwrap();
    assert!(repos.content.delete(ids[3]).await.unwrap());
    repos.content.set_quality(ids[4], 0.9, ts()).await.unwrap();
    // A direct SQL write goes through the same triggers.
    db.client()
        .await
        .execute(
            "UPDATE content_items SET tags = '[\"sea\", \"sea\", 3]' WHERE id = $1",
            &[&(ids[6].0 as i32)],
        )
        .await
        .unwrap();

    let q =
        |tags: &[&str], creator: Option<UserId>, kind: Option<ContentType>, public_only: bool| ContentQuery {
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            creator_id: creator,
            content_type: kind,
            public_only,
            ..ContentQuery::default()
        };
    let queries = [
        q(&["sea"], None, None, false),
        q(&["sea"], None, None, true),
        q(&["sky"], None, Some(ContentType::Text), false),
        q(&["land"], None, Some(ContentType::Image), true),
        q(&["3"], None, None, false),
        q(&["sea", "sky"], None, None, false),
        q(&["sea"], Some(alice.id), None, false),
        q(&[], Some(alice.id), None, false),
        q(&[], Some(bob.id), Some(ContentType::Image), true),
        q(&[], Some(UserId(i64::from(i32::MAX) + 1)), None, false),
        q(&["nowhere"], None, None, false),
    ];
    let mut seen_any = 0;
    for query in &queries {
        let fast = repos.content.list(query, PageRequest::DEFAULT).await.unwrap();
        // The same filter through the general path: counted row by row (created_since) and
        // paged through the GIN index (a metadata filter every item passes).
        let mut general = query.clone();
        general.created_since = Some(ts() - chrono::Duration::days(1));
        general.metadata = json!({"absent": null}).as_object().cloned().unwrap();
        let slow = repos.content.list(&general, PageRequest::DEFAULT).await.unwrap();
        assert_eq!(fast.total, slow.total, "{query:?}");
        let ids = |p: &genonaut_domain::Page<Content>| p.items.iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(ids(&fast), ids(&slow), "{query:?}");
        // Keyset pages of one item walk the same list.
        let mut walked = Vec::new();
        let mut after = None;
        while let Some(last) = repos
            .content
            .list_from(query, after, 1)
            .await
            .unwrap()
            .items
            .pop()
        {
            walked.push(last.id);
            after = Some(ContentKey::of(&last));
        }
        assert_eq!(walked, ids(&fast), "{query:?}");
        seen_any += fast.total;
    }
    assert!(seen_any > 10, "the queries match something");
    let sea = repos
        .content
        .list(&queries[0], PageRequest::DEFAULT)
        .await
        .unwrap();
    // 8 items with `sea`, minus the retagged and the deleted one.
    assert_eq!(sea.total, 6);
}
