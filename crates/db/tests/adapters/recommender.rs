//! The recommender's PostgreSQL adapter: the build lock, stored derived state, candidate lists.

use chrono::Duration;
use genonaut_db::testing::TestDb;
use genonaut_domain::ids::{ContentId, UserId};
use genonaut_domain::model::*;
use genonaut_domain::ports::{Clock, SystemClock};
use genonaut_domain::recommender::{
    BuildInfo, CandidateRequest, EraRow, EraTables, ItemRow, Model, ModelRow, TagRow,
};
use genonaut_domain::values::{Email, Tags, Username};

fn now() -> Timestamp {
    SystemClock.now()
}

fn info(at: Timestamp, full: bool) -> BuildInfo {
    BuildInfo {
        built_at: at,
        epoch: at,
        watermark: 0,
        items: 2,
        users: 1,
        signals: 2,
        pairs: 1,
        full,
        millis: 1,
        model_items: 3,
        model_lambda: 200.0,
    }
}

fn row(item: ContentId, popularity: f64, neighbours: Vec<(ContentId, f32)>) -> ItemRow {
    ItemRow {
        item,
        popularity,
        interactions: 1,
        users: 1,
        neighbours,
    }
}

async fn items(db: &TestDb, n: usize) -> (UserId, Vec<ContentId>) {
    let repos = db.repositories();
    let user = repos
        .users
        .insert(
            NewUser {
                username: Username::parse("maker").unwrap(),
                email: Email::parse("maker@example.com").unwrap(),
                preferences: JsonObject::new(),
            },
            now(),
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let item = repos
            .content
            .insert(
                NewContent {
                    title: format!("item {i}"),
                    content_type: ContentType::Image,
                    content_data: "/x.png".into(),
                    creator_id: user.id,
                    item_metadata: JsonObject::new(),
                    tags: Tags::parse(["space"]).unwrap(),
                    is_public: true,
                    is_private: false,
                },
                0.5,
                now(),
            )
            .await
            .unwrap();
        ids.push(item.id);
    }
    (user.id, ids)
}

#[tokio::test]
async fn one_builder_at_a_time_and_an_expired_lock_is_taken_over() {
    let db = TestDb::new().await;
    let store = db.repositories().recommender_builds;
    let t = now();
    store.request_build(true, t).await.unwrap();
    let first = store
        .claim_build("w1", t, t + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(
        first.map(|c| (c.requested, c.full)),
        Some((true, true)),
        "w1 takes the request over"
    );
    assert!(
        store
            .claim_build("w2", t, t + Duration::minutes(10))
            .await
            .unwrap()
            .is_none()
    );
    let status = store.status(t).await.unwrap();
    assert_eq!(status.running_on.as_deref(), Some("w1"));
    assert!(status.requested_at.is_none());
    // w1 dies; once its lock expires, w2 may build.
    let later = t + Duration::minutes(11);
    assert!(
        store
            .claim_build("w2", later, later + Duration::minutes(10))
            .await
            .unwrap()
            .is_some()
    );
    store.finish_build("w2", Some("disk full")).await.unwrap();
    let status = store.status(later).await.unwrap();
    assert_eq!(
        (status.running_on, status.last_error.as_deref()),
        (None, Some("disk full"))
    );
    store.finish_build("w1", None).await.unwrap();
    assert_eq!(
        store.status(later).await.unwrap().last_error.as_deref(),
        Some("disk full"),
        "a stale worker cannot clear another's state"
    );
}

#[tokio::test]
async fn builds_are_stored_replaced_and_read_back_as_candidates() {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let (_, ids) = items(&db, 3).await;
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let lists = repos
        .recommender
        .candidates(&CandidateRequest {
            seeds: vec![a],
            popular: 10,
            recent: 2,
            ..CandidateRequest::default()
        })
        .await
        .unwrap();
    assert!(lists.built_at.is_none() && lists.popular.is_empty());
    assert_eq!(lists.recent, vec![c, b], "newest first, even without a build");

    let t = now();
    let gone = ContentId(999_999);
    let tags = vec![TagRow {
        tag: "space".into(),
        items: 3,
        top: vec![(b, 2.0), (a, 1.0)],
    }];
    repos
        .recommender_builds
        .save_build(
            vec![
                row(a, 1.0, vec![(b, 0.9), (c, 0.25)]),
                row(b, 2.0, vec![(a, 0.9)]),
                row(gone, 5.0, vec![]),
            ],
            tags.clone(),
            Model {
                rows: vec![
                    ModelRow {
                        item: a,
                        weights: vec![(b, 0.5), (c, 0.125)],
                    },
                    ModelRow {
                        item: gone,
                        weights: vec![(a, 1.0)],
                    },
                ],
                items: 3,
                lambda: 200.0,
            },
            EraTables {
                popularity: vec![
                    EraRow {
                        starts_at: t - Duration::days(60),
                        top: vec![(a, 1.0), (b, 0.5)],
                    },
                    EraRow {
                        starts_at: t - Duration::days(30),
                        top: vec![(c, 1.0), (b, 0.75), (a, 0.5)],
                    },
                ],
                trending: vec![EraRow {
                    starts_at: t - Duration::days(40),
                    top: vec![(b, 1.0), (c, 0.25)],
                }],
            },
            info(t, true),
            true,
        )
        .await
        .unwrap();
    let lists = repos
        .recommender
        .candidates(&CandidateRequest {
            seeds: vec![a, c],
            tags: vec!["space".into(), "unknown".into()],
            per_tag: 1,
            popular: 10,
            popular_at: None,
            recent: 0,
            model: true,
        })
        .await
        .unwrap();
    assert_eq!(lists.built_at, Some(t));
    assert_eq!(lists.neighbours, vec![(a, vec![(b, 0.9), (c, 0.25)])]);
    assert_eq!(
        lists.model,
        vec![(a, vec![(b, 0.5), (c, 0.125)])],
        "the learned model's rows of the seeds, the deleted item's skipped"
    );
    let without = CandidateRequest {
        seeds: vec![a],
        ..CandidateRequest::default()
    };
    assert!(
        repos
            .recommender
            .candidates(&without)
            .await
            .unwrap()
            .model
            .is_empty()
    );
    let with_model = CandidateRequest {
        seeds: vec![a],
        model: true,
        ..CandidateRequest::default()
    };
    assert_eq!(
        lists.popular,
        vec![(b, 2.0), (a, 1.0)],
        "the deleted item was skipped"
    );
    assert_eq!(lists.tags.len(), 1);
    assert_eq!(
        (lists.tags[0].items, lists.tags[0].top.clone()),
        (3, vec![(b, 2.0)]),
        "per_tag applies"
    );

    // Popular when: the era containing the time, at most `popular` of it; before the first
    // era, all-time popularity.
    let popular_at = |at: Timestamp, popular: usize| CandidateRequest {
        popular,
        popular_at: Some(at),
        ..CandidateRequest::default()
    };
    let era = |lists: genonaut_domain::recommender::CandidateLists| lists.popular;
    assert_eq!(
        era(repos
            .recommender
            .candidates(&popular_at(t - Duration::days(45), 10))
            .await
            .unwrap()),
        vec![(a, 1.0), (b, 0.5)]
    );
    assert_eq!(
        era(repos.recommender.candidates(&popular_at(t, 2)).await.unwrap()),
        vec![(c, 1.0), (b, 0.75)]
    );
    assert_eq!(
        era(repos
            .recommender
            .candidates(&popular_at(t - Duration::days(90), 10))
            .await
            .unwrap()),
        vec![(b, 2.0), (a, 1.0)]
    );
    // Trending: the era containing the time, whole, only with the model.
    let trending_at = |at: Timestamp, model: bool| CandidateRequest {
        model,
        ..popular_at(at, 1)
    };
    let trending = |lists: genonaut_domain::recommender::CandidateLists| lists.trending;
    assert_eq!(
        trending(repos.recommender.candidates(&trending_at(t, true)).await.unwrap()),
        vec![(b, 1.0), (c, 0.25)]
    );
    assert!(
        trending(
            repos
                .recommender
                .candidates(&trending_at(t, false))
                .await
                .unwrap()
        )
        .is_empty(),
        "not read without the model"
    );
    assert!(
        trending(
            repos
                .recommender
                .candidates(&trending_at(t - Duration::days(45), true))
                .await
                .unwrap()
        )
        .is_empty(),
        "nothing before the first trending era"
    );

    // Incremental: only listed rows change; full: the rest goes; eras are replaced.
    let t2 = t + Duration::seconds(5);
    repos
        .recommender_builds
        .save_build(
            vec![row(c, 3.0, vec![])],
            tags.clone(),
            Model {
                rows: vec![ModelRow {
                    item: a,
                    weights: vec![(c, 0.75)],
                }],
                items: 3,
                lambda: 100.0,
            },
            EraTables::default(),
            info(t2, false),
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        repos.recommender.candidates(&with_model).await.unwrap().model,
        vec![(a, vec![(c, 0.75)])],
        "every build, incremental too, replaces the learned model"
    );
    assert!(
        trending(repos.recommender.candidates(&trending_at(t, true)).await.unwrap()).is_empty(),
        "every build replaces the trending eras"
    );
    let popular = |lists: genonaut_domain::recommender::CandidateLists| lists.popular;
    let request = CandidateRequest {
        popular: 10,
        ..CandidateRequest::default()
    };
    assert_eq!(
        popular(repos.recommender.candidates(&request).await.unwrap()),
        vec![(c, 3.0), (b, 2.0), (a, 1.0)]
    );
    assert_eq!(
        popular(repos.recommender.candidates(&popular_at(t, 10)).await.unwrap()),
        vec![(c, 3.0), (b, 2.0), (a, 1.0)],
        "no eras after a build without them: all-time"
    );
    let t3 = t2 + Duration::seconds(5);
    repos
        .recommender_builds
        .save_build(
            vec![row(a, 1.5, vec![])],
            tags,
            Model::default(),
            EraTables::default(),
            info(t3, true),
            true,
        )
        .await
        .unwrap();
    assert!(
        repos
            .recommender
            .candidates(&with_model)
            .await
            .unwrap()
            .model
            .is_empty()
    );
    assert_eq!(
        popular(repos.recommender.candidates(&request).await.unwrap()),
        vec![(a, 1.5)]
    );
    // Deleting an item deletes its derived state.
    repos.content.delete(a).await.unwrap();
    assert!(popular(repos.recommender.candidates(&request).await.unwrap()).is_empty());
    let status = repos.recommender_builds.status(t3).await.unwrap();
    assert_eq!(
        status
            .last
            .map(|l| (l.built_at, l.full, l.model_items, l.model_lambda)),
        Some((t3, true, 0, 0.0)),
        "the model info is the last build's (an empty model)"
    );
}
