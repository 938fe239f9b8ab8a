//! Service scenarios: use-case rules written once and run against every adapter set — the
//! in-memory fakes (domain tests) and PostgreSQL (db tests) — so the fakes stay faithful.
//! One long file on purpose: it is the one list both adapter sets run, test code only, read
//! scenario by scenario (each is self-contained).
//!
//! Each scenario takes freshly wired, empty [`Services`] whose clock is a [`FixedClock`](super::FixedClock)
//! (see [`service_scenarios!`](crate::service_scenarios)) and panics on failure.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use crate::ids::*;
use crate::model::*;
use crate::services::{GenerateRequest, Services, StatusChange};
use crate::values::{Email, Tags, Username};
use crate::{BulkProblem, DomainError, Entity, InactiveAction, NotFound, PageRequest, Rule};
use serde_json::json;

pub fn obj(v: serde_json::Value) -> JsonObject {
    v.as_object().cloned().unwrap_or_default()
}

async fn user(s: &Services, name: &str) -> User {
    s.users
        .create(NewUser {
            username: Username::parse(name).unwrap(),
            email: Email::parse(&format!("{name}@example.com")).unwrap(),
            preferences: JsonObject::new(),
        })
        .await
        .unwrap()
}

fn new_content(creator: UserId, title: &str) -> NewContent {
    NewContent {
        title: title.into(),
        content_type: ContentType::Text,
        content_data: "data".into(),
        creator_id: creator,
        item_metadata: JsonObject::new(),
        tags: Tags::default(),
        is_public: true,
        is_private: false,
    }
}

/// What a refused call reports, comparable (the words are the HTTP adapter's).
#[derive(Debug, PartialEq)]
enum Refusal {
    Missing(NotFound),
    Rule(Rule),
    Other(String),
}

fn refusal(err: DomainError) -> Refusal {
    match err {
        DomainError::NotFound(missing) => Refusal::Missing(missing),
        DomainError::Rule(rule) => Refusal::Rule(rule),
        other => Refusal::Other(other.to_string()),
    }
}

fn absent(entity: Entity, id: impl std::fmt::Display) -> Refusal {
    Refusal::Missing(NotFound::Id {
        entity,
        id: id.to_string(),
    })
}

fn rule(rule: Rule) -> Refusal {
    Refusal::Rule(rule)
}

/// Scenario: user_uniqueness_is_checked_username_first.
pub async fn user_uniqueness_is_checked_username_first(s: Services) {
    let alice = user(&s, "alice").await;
    let dup = s
        .users
        .create(NewUser {
            username: Username::parse("alice").unwrap(),
            email: Email::parse("alice@example.com").unwrap(),
            preferences: JsonObject::new(),
        })
        .await
        .unwrap_err();
    assert!(matches!(
        dup,
        DomainError::Conflict(crate::Conflict::Username(None))
    ));
    let dup_mail = s
        .users
        .create(NewUser {
            username: Username::parse("alice2").unwrap(),
            email: Email::parse(&alice.email).unwrap(),
            preferences: JsonObject::new(),
        })
        .await
        .unwrap_err();
    assert!(matches!(
        dup_mail,
        DomainError::Conflict(crate::Conflict::Email(None))
    ));
}

/// Scenario: update_checks_existence_then_username_then_email_and_only_bumps_on_change.
pub async fn update_checks_existence_then_username_then_email_and_only_bumps_on_change(s: Services) {
    let a = user(&s, "alice").await;
    user(&s, "bob").await;
    let missing = s
        .users
        .update(UserId(999), UserChanges::default())
        .await
        .unwrap_err();
    assert_eq!(refusal(missing), absent(Entity::User, 999));
    let taken = s
        .users
        .update(
            a.id,
            UserChanges {
                username: Some(Username::parse("bob").unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&taken, DomainError::Conflict(crate::Conflict::Username(Some(n))) if n == "bob"),
        "{taken:?}"
    );
    let mail_taken = s
        .users
        .update(
            a.id,
            UserChanges {
                email: Some(Email::parse("bob@EXAMPLE.com").unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&mail_taken, DomainError::Conflict(crate::Conflict::Email(Some(e))) if e == "bob@example.com"),
        "{mail_taken:?}"
    );
    let same = s
        .users
        .update(
            a.id,
            UserChanges {
                username: Some(Username::parse("alice").unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(same.updated_at, a.updated_at, "no change, no bump");
    let renamed = s
        .users
        .update(
            a.id,
            UserChanges {
                username: Some(Username::parse("alicia").unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.username, "alicia");
    assert!(renamed.updated_at > a.updated_at);
}

/// Scenario: preferences_merge_shallowly_and_keep_unmentioned_keys.
pub async fn preferences_merge_shallowly_and_keep_unmentioned_keys(s: Services) {
    let a = user(&s, "alice").await;
    s.users
        .merge_preferences(a.id, obj(json!({"theme": "dark", "notifications": true})))
        .await
        .unwrap();
    let merged = s
        .users
        .merge_preferences(a.id, obj(json!({"theme": "light", "lang": null})))
        .await
        .unwrap();
    assert_eq!(
        serde_json::Value::Object(merged.preferences),
        json!({"theme": "light", "notifications": true, "lang": null})
    );
}

/// Scenario: soft_delete_and_activity_rules.
pub async fn soft_delete_and_activity_rules(s: Services) {
    let a = user(&s, "alice").await;
    let inactive = s.users.set_active(a.id, false).await.unwrap();
    assert!(!inactive.is_active);
    assert_eq!(s.users.get(a.id).await.unwrap().id, a.id, "still readable");
    let err = s
        .interactions
        .record(NewInteraction {
            user_id: a.id,
            content_item_id: ContentId(1),
            interaction_type: InteractionType::View,
            rating: None,
            duration: None,
            metadata: JsonObject::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        refusal(err),
        rule(Rule::InactiveUser(InactiveAction::RecordInteractions))
    );
    let recs = s
        .recommendations
        .unserved_for_active_user(a.id, 10)
        .await
        .unwrap_err();
    assert_eq!(
        refusal(recs),
        rule(Rule::InactiveUser(InactiveAction::ReadRecommendations))
    );
}

/// Scenario: content_creation_checks_creator_title_then_data.
pub async fn content_creation_checks_creator_title_then_data(s: Services) {
    let a = user(&s, "alice").await;
    assert_eq!(
        refusal(s.content.create(new_content(UserId(42), "x")).await.unwrap_err()),
        rule(Rule::CreatorMissing)
    );
    assert_eq!(
        refusal(s.content.create(new_content(a.id, "   ")).await.unwrap_err()),
        rule(Rule::EmptyTitle)
    );
    let mut blank = new_content(a.id, "ok");
    blank.content_data = " \n".into();
    assert_eq!(
        refusal(s.content.create(blank).await.unwrap_err()),
        rule(Rule::EmptyContentData)
    );
    let created = s.content.create(new_content(a.id, "  Hello  ")).await.unwrap();
    assert_eq!(created.title, "Hello");
    assert_eq!(created.quality_score, 0.5);
}

/// Scenario: content_update_refuses_public_and_private_taking_stored_flags.
pub async fn content_update_refuses_public_and_private_taking_stored_flags(s: Services) {
    let a = user(&s, "alice").await;
    let c = s.content.create(new_content(a.id, "t")).await.unwrap();
    let err = s
        .content
        .update(
            c.id,
            ContentChanges {
                is_private: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refusal(err), rule(Rule::PublicAndPrivate));
    let private = s
        .content
        .update(
            c.id,
            ContentChanges {
                is_private: Some(true),
                is_public: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(private.is_private && !private.is_public);
}

/// Scenario: content_deletion_cascades_and_detaches_jobs.
pub async fn content_deletion_cascades_and_detaches_jobs(s: Services) {
    let a = user(&s, "alice").await;
    let c = s.content.create(new_content(a.id, "t")).await.unwrap();
    s.interactions
        .record(NewInteraction {
            user_id: a.id,
            content_item_id: c.id,
            interaction_type: InteractionType::Like,
            rating: Some(4),
            duration: None,
            metadata: JsonObject::new(),
        })
        .await
        .unwrap();
    let job = s
        .jobs
        .create(NewJob {
            user_id: a.id,
            job_type: JobType::Text,
            prompt: "p".into(),
            parameters: JsonObject::new(),
            priority: 0,
            start_deadline_seconds: None,
            timeout_seconds: None,
            webhook: None,
        })
        .await
        .unwrap();
    s.jobs.set_result(job.id, c.id).await.unwrap();
    s.content.delete(c.id).await.unwrap();
    assert_eq!(
        s.interactions
            .by_user(a.id, PageRequest::DEFAULT)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(s.jobs.get(job.id).await.unwrap().result_content_id, None);
    assert_eq!(
        refusal(s.content.delete(c.id).await.unwrap_err()),
        absent(Entity::ContentItem, c.id)
    );
}

/// Scenario: keyset_paging_walks_the_same_listing_as_skip_under_every_filter.
pub async fn keyset_paging_walks_the_same_listing_as_skip_under_every_filter(s: Services) {
    let a = user(&s, "alice").await;
    let b = user(&s, "bobby").await;
    for i in 0..9 {
        let mut c = new_content(if i % 3 == 0 { b.id } else { a.id }, &format!("Item {i}"));
        c.content_type = if i % 2 == 0 {
            ContentType::Image
        } else {
            ContentType::Text
        };
        c.tags = Tags::parse(if i % 4 == 0 {
            vec!["rare", "sea"]
        } else {
            vec!["sea"]
        })
        .unwrap();
        c.is_public = i != 5;
        s.content.create(c).await.unwrap();
    }
    let queries = [
        ContentQuery::default(),
        ContentQuery {
            public_only: true,
            ..Default::default()
        },
        ContentQuery {
            content_type: Some(ContentType::Image),
            ..Default::default()
        },
        ContentQuery {
            creator_id: Some(a.id),
            ..Default::default()
        },
        ContentQuery {
            tags: vec!["rare".into()],
            ..Default::default()
        },
        ContentQuery {
            content_type: Some(ContentType::Image),
            tags: vec!["sea".into()],
            public_only: true,
            ..Default::default()
        },
        ContentQuery {
            search_term: Some("item".into()),
            creator_id: Some(b.id),
            ..Default::default()
        },
    ];
    for query in &queries {
        let all = s.content.list(query, PageRequest::DEFAULT).await.unwrap();
        let expected: Vec<ContentId> = all.items.iter().map(|c| c.id).collect();
        assert!(!expected.is_empty(), "{query:?} matches something");
        let mut walked = Vec::new();
        let mut start = ContentStart::Skip(0);
        let mut skip = 0;
        loop {
            let page = s.content.list_paged(query, start, 2).await.unwrap();
            assert_eq!(page.total, all.total, "{query:?}: total ignores the window");
            // The same page by offset: same items, same next key.
            let by_skip = s
                .content
                .list_paged(query, ContentStart::Skip(skip), 2)
                .await
                .unwrap();
            assert_eq!(by_skip, page, "{query:?}: cursor page {skip} = skip page");
            walked.extend(page.items.iter().map(|c| c.id));
            skip += 2;
            match page.next {
                Some(key) => {
                    assert_eq!(Some(key), page.items.last().map(ContentKey::of));
                    start = ContentStart::After(key);
                }
                None => break,
            }
        }
        assert_eq!(walked, expected, "{query:?}: walking by keys = the listing");
    }
    // An item created while paging sorts first: later pages neither repeat nor shift.
    let first = s
        .content
        .list_paged(&queries[0], ContentStart::Skip(0), 4)
        .await
        .unwrap();
    s.content.create(new_content(a.id, "Newcomer")).await.unwrap();
    let next = first.next.unwrap();
    let second = s
        .content
        .list_paged(&queries[0], ContentStart::After(next), 4)
        .await
        .unwrap();
    assert!(
        second
            .items
            .iter()
            .all(|c| next.is_before(c) && c.title != "Newcomer")
    );
    assert_eq!(second.total, 10);
}

/// Scenario: content_search_ands_every_filter.
pub async fn content_search_ands_every_filter(s: Services) {
    let a = user(&s, "alice").await;
    let b = user(&s, "bobby").await;
    let mut one = new_content(a.id, "Searchable Story");
    one.tags = Tags::parse(["sci-fi", "space"]).unwrap();
    one.item_metadata = obj(json!({"lang": "en", "pages": 3}));
    s.content.create(one).await.unwrap();
    let mut two = new_content(b.id, "Searchable Image");
    two.content_type = ContentType::Image;
    s.content.create(two).await.unwrap();
    let mut three = new_content(a.id, "Other");
    three.is_public = false;
    s.content.create(three).await.unwrap();

    let query = ContentQuery {
        search_term: Some("searchable".into()),
        content_type: Some(ContentType::Text),
        ..Default::default()
    };
    let page = s.content.list(&query, PageRequest::DEFAULT).await.unwrap();
    assert_eq!(
        (page.total, page.items[0].title.as_str()),
        (1, "Searchable Story")
    );
    let by_tags = ContentQuery {
        tags: vec!["space".into(), "sci-fi".into()],
        ..Default::default()
    };
    assert_eq!(
        s.content
            .list(&by_tags, PageRequest::DEFAULT)
            .await
            .unwrap()
            .total,
        1
    );
    let by_meta = ContentQuery {
        metadata: obj(json!({"pages": "3"})),
        ..Default::default()
    };
    assert_eq!(
        s.content
            .list(&by_meta, PageRequest::DEFAULT)
            .await
            .unwrap()
            .total,
        0,
        "type-sensitive"
    );
    let null_meta = ContentQuery {
        metadata: obj(json!({"missing": null})),
        ..Default::default()
    };
    assert_eq!(
        s.content
            .list(&null_meta, PageRequest::DEFAULT)
            .await
            .unwrap()
            .total,
        3
    );
    let public = s.content.public(PageRequest::new(0, 1)).await.unwrap();
    assert_eq!((public.total, public.items.len()), (2, 1));
    assert_eq!(public.items[0].title, "Searchable Image", "newest first");
    assert_eq!(
        s.content
            .by_type("poster", PageRequest::DEFAULT)
            .await
            .unwrap()
            .total,
        0
    );
    let unknown = s
        .content
        .by_creator(UserId(77), PageRequest::DEFAULT)
        .await
        .unwrap_err();
    assert_eq!(refusal(unknown), absent(Entity::User, 77));
}

/// Scenario: interaction_rules_and_aggregates.
pub async fn interaction_rules_and_aggregates(s: Services) {
    let a = user(&s, "alice").await;
    let c = s.content.create(new_content(a.id, "t")).await.unwrap();
    let rec = |t: InteractionType, rating: Option<i32>, duration: Option<i32>| NewInteraction {
        user_id: a.id,
        content_item_id: c.id,
        interaction_type: t,
        rating,
        duration,
        metadata: JsonObject::new(),
    };
    let err = s
        .interactions
        .record(NewInteraction {
            user_id: UserId(99),
            ..rec(InteractionType::View, None, None)
        })
        .await
        .unwrap_err();
    assert_eq!(refusal(err), rule(Rule::UserMissing));
    let err = s
        .interactions
        .record(NewInteraction {
            content_item_id: ContentId(99),
            ..rec(InteractionType::View, None, None)
        })
        .await
        .unwrap_err();
    assert_eq!(refusal(err), rule(Rule::ContentMissing));
    s.interactions
        .record(rec(InteractionType::Like, Some(3), None))
        .await
        .unwrap();
    s.interactions
        .record(rec(InteractionType::Like, Some(4), None))
        .await
        .unwrap();
    s.interactions
        .record(rec(InteractionType::View, None, Some(0)))
        .await
        .unwrap();
    let (total, by_type) = s.interactions.user_summary(a.id).await.unwrap();
    assert_eq!(total, 3);
    let like = by_type
        .iter()
        .find(|t| t.interaction_type == InteractionType::Like)
        .unwrap();
    assert_eq!((like.count, like.avg_rating), (2, Some(3.5)));
    let view = by_type
        .iter()
        .find(|t| t.interaction_type == InteractionType::View)
        .unwrap();
    assert_eq!(view.avg_duration, Some(0.0), "a zero average is 0.0, not null");
    let overview = s.interactions.overview().await.unwrap();
    assert_eq!(overview.by_type.len(), 7);
    assert_eq!(overview.total, 3);
    let behavior = s.interactions.user_behavior(a.id).await.unwrap();
    assert_eq!(behavior.favorite_content_types, vec![ContentType::Text]);
    let none = s.interactions.between(a.id, c.id, "share").await.unwrap_err();
    assert_eq!(
        refusal(none),
        Refusal::Missing(NotFound::InteractionBetween {
            user: a.id,
            content: c.id,
            interaction_type: "share".to_owned(),
        })
    );
    let latest = s.interactions.between(a.id, c.id, "like").await.unwrap();
    assert_eq!(latest.rating, Some(4), "the most recent one");
}

/// Scenario: bulk_recommendations_name_the_first_bad_item_and_write_nothing.
pub async fn bulk_recommendations_name_the_first_bad_item_and_write_nothing(s: Services) {
    let a = user(&s, "alice").await;
    let c = s.content.create(new_content(a.id, "t")).await.unwrap();
    let item = |user: UserId, content: ContentId, label: &str| NewRecommendation {
        user_id: user,
        content_item_id: content,
        score: 0.5,
        algorithm_version: label.into(),
        metadata: JsonObject::new(),
    };
    let err = s
        .recommendations
        .create_bulk(vec![
            item(a.id, c.id, "v1"),
            item(a.id, ContentId(999), "v1"),
            item(UserId(5), c.id, "v1"),
        ])
        .await
        .unwrap_err();
    assert_eq!(
        refusal(err),
        rule(Rule::Bulk(1, BulkProblem::ContentMissing(ContentId(999))))
    );
    let err = s
        .recommendations
        .create_bulk(vec![item(a.id, c.id, "  ")])
        .await
        .unwrap_err();
    assert_eq!(
        refusal(err),
        rule(Rule::Bulk(0, BulkProblem::EmptyAlgorithmVersion))
    );
    assert_eq!(
        s.recommendations.overview().await.unwrap().total,
        0,
        "all or nothing"
    );
    let stored = s
        .recommendations
        .create_bulk(vec![item(a.id, c.id, " v2 "), item(a.id, c.id, "v1")])
        .await
        .unwrap();
    assert_eq!(stored[0].algorithm_version, "v2", "trimmed, input order");
}

/// Scenario: a_users_recommendations_are_listed_best_first_only_for_an_active_user.
pub async fn a_users_recommendations_are_listed_best_first_only_for_an_active_user(s: Services) {
    let a = user(&s, "alice").await;
    let b = user(&s, "bob").await;
    let c = s.content.create(new_content(a.id, "t")).await.unwrap();
    let item = |user: UserId, score: f64, label: &str| NewRecommendation {
        user_id: user,
        content_item_id: c.id,
        score,
        algorithm_version: label.into(),
        metadata: JsonObject::new(),
    };
    s.recommendations
        .create_bulk(vec![
            item(a.id, 0.2, "v1"),
            item(a.id, 0.9, "v2"),
            item(a.id, 0.5, "v1"),
            item(b.id, 0.7, "v1"),
        ])
        .await
        .unwrap();
    let of = |user: UserId| RecommendationQuery {
        user_id: Some(user),
        ..RecommendationQuery::default()
    };
    let page = s
        .recommendations
        .list(&of(a.id), PageRequest { skip: 0, limit: 2 })
        .await
        .unwrap();
    let scores: Vec<f64> = page.items.iter().map(|r| r.score).collect();
    assert_eq!(
        (scores, page.total),
        (vec![0.9, 0.5], 3),
        "best first, total of all"
    );
    assert!(page.items.iter().all(|r| r.user_id == a.id));
    let past = s
        .recommendations
        .list(&of(a.id), PageRequest { skip: 5, limit: 2 })
        .await
        .unwrap();
    assert_eq!(
        (past.items.len(), past.total),
        (0, 3),
        "a page past the end keeps the total"
    );
    let none = s
        .recommendations
        .list(&of(b.id), PageRequest { skip: 0, limit: 10 })
        .await
        .unwrap();
    assert_eq!(none.total, 1, "only the user's own");
    let v1 = RecommendationQuery {
        algorithm_version: Some("v1".into()),
        ..of(a.id)
    };
    let filtered = s
        .recommendations
        .list(&v1, PageRequest { skip: 0, limit: 10 })
        .await
        .unwrap();
    let scores: Vec<f64> = filtered.items.iter().map(|r| r.score).collect();
    assert_eq!(
        (scores, filtered.total),
        (vec![0.5, 0.2], 2),
        "other filters apply too"
    );

    let missing = s
        .recommendations
        .list(&of(UserId(987_654)), PageRequest { skip: 0, limit: 10 })
        .await
        .unwrap_err();
    assert_eq!(refusal(missing), absent(Entity::User, 987654));
    let beyond = s
        .recommendations
        .list(&of(UserId(1 << 40)), PageRequest { skip: 0, limit: 10 })
        .await
        .unwrap_err();
    assert_eq!(refusal(beyond), absent(Entity::User, 1_i64 << 40));
    s.users.set_active(a.id, false).await.unwrap();
    for query in [of(a.id), v1] {
        let inactive = s
            .recommendations
            .list(&query, PageRequest { skip: 0, limit: 10 })
            .await
            .unwrap_err();
        assert_eq!(
            refusal(inactive),
            rule(Rule::InactiveUser(InactiveAction::ReadRecommendations))
        );
    }
}

/// Scenario: served_marks_all_or_reports_the_first_missing.
pub async fn served_marks_all_or_reports_the_first_missing(s: Services) {
    let a = user(&s, "alice").await;
    let c = s.content.create(new_content(a.id, "t")).await.unwrap();
    let r = s
        .recommendations
        .create(NewRecommendation {
            user_id: a.id,
            content_item_id: c.id,
            score: 0.9,
            algorithm_version: "v".into(),
            metadata: JsonObject::new(),
        })
        .await
        .unwrap();
    let err = s
        .recommendations
        .mark_served(&[r.id, RecommendationId(404)])
        .await
        .unwrap_err();
    assert_eq!(refusal(err), absent(Entity::Recommendation, 404));
    assert!(!s.recommendations.get(r.id).await.unwrap().is_served);
    assert_eq!(s.recommendations.mark_served(&[r.id, r.id]).await.unwrap(), 1);
    assert!(
        s.recommendations
            .unserved_for_user(a.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Scenario: generate_persists_new_recommendations_and_skips_seen_and_own_items.
pub async fn generate_persists_new_recommendations_and_skips_seen_and_own_items(s: Services) {
    let a = user(&s, "alice").await;
    let b = user(&s, "bobby").await;
    let own = s.content.create(new_content(a.id, "mine")).await.unwrap();
    let seen = s.content.create(new_content(b.id, "seen")).await.unwrap();
    let fresh = s.content.create(new_content(b.id, "fresh")).await.unwrap();
    s.interactions
        .record(NewInteraction {
            user_id: a.id,
            content_item_id: seen.id,
            interaction_type: InteractionType::View,
            rating: None,
            duration: None,
            metadata: JsonObject::new(),
        })
        .await
        .unwrap();
    let recs = s
        .recommendations
        .generate(GenerateRequest {
            user_id: a.id,
            algorithm_version: "test_v1.0".into(),
            limit: 5,
        })
        .await
        .unwrap();
    let ids: Vec<ContentId> = recs.iter().map(|r| r.content_item_id).collect();
    assert_eq!(ids, vec![fresh.id]);
    assert!(!ids.contains(&own.id));
    assert_eq!(recs[0].algorithm_version, "test_v1.0");
    assert_eq!(s.recommendations.overview().await.unwrap().total, 1, "persisted");
}

/// Scenario: feedback_records_the_signal_and_positive_interaction_together.
pub async fn feedback_records_the_signal_and_positive_interaction_together(s: Services) {
    let a = user(&s, "alice").await;
    let c = s.content.create(new_content(a.id, "t")).await.unwrap();
    let r = s
        .recommendations
        .create(NewRecommendation {
            user_id: a.id,
            content_item_id: c.id,
            score: 0.9,
            algorithm_version: "v".into(),
            metadata: obj(json!({"why": "tags"})),
        })
        .await
        .unwrap();
    let liked = s
        .recommendations
        .feedback(r.id, Feedback::Liked, obj(json!({"ui": "card"})))
        .await
        .unwrap();
    assert_eq!(liked.metadata["feedback"]["type"], json!("liked"));
    assert_eq!(liked.metadata["why"], json!("tags"), "other metadata kept");
    let history = s.interactions.by_user(a.id, PageRequest::DEFAULT).await.unwrap();
    assert_eq!(history.items[0].interaction_type, InteractionType::Like);
    s.recommendations
        .feedback(r.id, Feedback::Dismissed, JsonObject::new())
        .await
        .unwrap();
    assert_eq!(
        s.interactions
            .by_user(a.id, PageRequest::DEFAULT)
            .await
            .unwrap()
            .total,
        1,
        "negative: no interaction"
    );
}

/// Scenario: job_lifecycle_rules.
pub async fn job_lifecycle_rules(s: Services) {
    let a = user(&s, "alice").await;
    let blank = s
        .jobs
        .create(NewJob {
            user_id: a.id,
            job_type: JobType::Image,
            prompt: "  ".into(),
            parameters: JsonObject::new(),
            priority: 0,
            start_deadline_seconds: None,
            timeout_seconds: None,
            webhook: None,
        })
        .await
        .unwrap_err();
    assert_eq!(refusal(blank), rule(Rule::EmptyPrompt));
    let job = s
        .jobs
        .create(NewJob {
            user_id: a.id,
            job_type: JobType::Image,
            prompt: " cat ".into(),
            parameters: JsonObject::new(),
            priority: 0,
            start_deadline_seconds: None,
            timeout_seconds: None,
            webhook: None,
        })
        .await
        .unwrap();
    assert_eq!((job.prompt.as_str(), job.status), ("cat", JobStatus::Pending));
    assert_eq!(
        refusal(s.jobs.delete(job.id).await.unwrap_err()),
        rule(Rule::JobActive)
    );
    let missing = StatusChange {
        status: JobStatus::Failed,
        error_message: None,
    };
    assert_eq!(
        refusal(s.jobs.set_status(JobId(999), missing.clone()).await.unwrap_err()),
        absent(Entity::GenerationJob, 999)
    );
    assert_eq!(
        refusal(s.jobs.set_status(job.id, missing).await.unwrap_err()),
        rule(Rule::ErrorMessageRequired)
    );
    let running = s
        .jobs
        .set_status(
            job.id,
            StatusChange {
                status: JobStatus::Running,
                error_message: None,
            },
        )
        .await
        .unwrap();
    assert!(running.started_at.is_some());
    assert_eq!(
        refusal(
            s.jobs
                .update_parameters(job.id, Some(JsonObject::new()))
                .await
                .unwrap_err()
        ),
        rule(Rule::JobNotPending)
    );
    let failed = s
        .jobs
        .set_status(
            job.id,
            StatusChange {
                status: JobStatus::Failed,
                error_message: Some("boom".into()),
            },
        )
        .await
        .unwrap();
    assert!(failed.completed_at.is_some());
    let reopened = s
        .jobs
        .set_status(
            job.id,
            StatusChange {
                status: JobStatus::Pending,
                error_message: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (reopened.completed_at, reopened.error_message),
        (None, None),
        "reopening clears the outcome"
    );
    assert_eq!(reopened.started_at, running.started_at, "start time kept");
    let started = s.jobs.start_pending(5).await.unwrap();
    assert_eq!(started.len(), 1);
    assert_eq!(s.jobs.queue_counts().await.unwrap(), (0, 1));
    assert_eq!(
        s.jobs.by_type("IMAGE", PageRequest::DEFAULT).await.unwrap().total,
        1,
        "aliases accepted"
    );
    assert_eq!(
        s.jobs
            .by_status("PENDING", PageRequest::DEFAULT)
            .await
            .unwrap()
            .total,
        0
    );
}

/// Scenario: job_stats_average_processing_time.
pub async fn job_stats_average_processing_time(s: Services) {
    let a = user(&s, "alice").await;
    let job = s
        .jobs
        .create(NewJob {
            user_id: a.id,
            job_type: JobType::Text,
            prompt: "p".into(),
            parameters: JsonObject::new(),
            priority: 0,
            start_deadline_seconds: None,
            timeout_seconds: None,
            webhook: None,
        })
        .await
        .unwrap();
    s.jobs
        .set_status(
            job.id,
            StatusChange {
                status: JobStatus::Running,
                error_message: None,
            },
        )
        .await
        .unwrap();
    s.jobs
        .set_status(
            job.id,
            StatusChange {
                status: JobStatus::Completed,
                error_message: None,
            },
        )
        .await
        .unwrap();
    let stats = s.jobs.stats(Some(a.id)).await.unwrap();
    assert_eq!(stats.total, 1);
    assert_eq!(stats.by_status, vec![(JobStatus::Completed, 1)]);
    assert_eq!(
        stats.average_processing_seconds,
        Some(0.001),
        "the test clock ticks 1 ms per reading"
    );
    assert_eq!(
        refusal(s.jobs.stats(Some(UserId(50))).await.unwrap_err()),
        absent(Entity::User, 50)
    );
}

async fn tagged(s: &Services, creator: UserId, title: &str, tags: &[&str]) -> Content {
    let mut new = new_content(creator, title);
    new.tags = Tags::parse(tags.iter().copied()).unwrap();
    s.content.create(new).await.unwrap()
}

async fn like(s: &Services, user: UserId, item: ContentId) {
    s.interactions
        .record(NewInteraction {
            user_id: user,
            content_item_id: item,
            interaction_type: InteractionType::Like,
            rating: None,
            duration: None,
            metadata: JsonObject::new(),
        })
        .await
        .unwrap();
}

async fn generate(s: &Services, user: UserId, label: &str) -> Vec<Recommendation> {
    s.recommendations
        .generate(GenerateRequest {
            user_id: user,
            algorithm_version: label.into(),
            limit: 10,
        })
        .await
        .unwrap()
}

/// A small world: three fans of A and B, a cook, and alice who liked A.
struct World {
    alice: UserId,
    a: ContentId,
    b: ContentId,
    c: ContentId,
    d: ContentId,
    e: ContentId,
}

async fn world(s: &Services) -> World {
    let maker = user(s, "maker").await;
    let a = tagged(s, maker.id, "A", &["space", "sci-fi"]).await;
    let b = tagged(s, maker.id, "B", &["space", "sci-fi"]).await;
    let c = tagged(s, maker.id, "C", &["cooking"]).await;
    let d = tagged(s, maker.id, "D", &["cooking", "baking"]).await;
    let e = tagged(s, maker.id, "E", &["space"]).await;
    for name in ["fan1", "fan2", "fan3"] {
        let fan = user(s, name).await;
        like(s, fan.id, a.id).await;
        like(s, fan.id, b.id).await;
    }
    let cook = user(s, "cook").await;
    like(s, cook.id, c.id).await;
    like(s, cook.id, d.id).await;
    let alice = user(s, "alice").await;
    like(s, alice.id, a.id).await;
    World {
        alice: alice.id,
        a: a.id,
        b: b.id,
        c: c.id,
        d: d.id,
        e: e.id,
    }
}

/// Scenario: recommendations_learn_from_interactions_and_explain_themselves.
pub async fn recommendations_learn_from_interactions_and_explain_themselves(s: Services) {
    let w = world(&s).await;
    // No build yet: answers anyway, and says why it could not do better.
    let early = generate(&s, w.alice, "hybrid").await;
    assert!(!early.is_empty());
    assert!(
        early.iter().all(|r| r.content_item_id != w.a),
        "never what she already liked"
    );
    assert!(
        early[0].metadata["notes"].to_string().contains("not built yet"),
        "{:?}",
        early[0].metadata
    );
    let report = s.recommender.rebuild_now("test", true).await.unwrap();
    assert!(
        report.info.full && report.info.pairs > 0 && report.info.items >= 4,
        "{report:?}"
    );

    let knn = generate(&s, w.alice, "item-knn").await;
    assert_eq!(knn[0].content_item_id, w.b, "fans of A also like B");
    assert_eq!(knn[0].metadata["algorithm"], json!("item-knn"));
    assert_eq!(knn[0].metadata["because_items"], json!([w.a.0]));
    assert!(knn[0].score > 0.0 && knn[0].score <= 1.0);
    assert_eq!(knn[0].algorithm_version, "item-knn");

    let popular = generate(&s, w.alice, "popularity").await;
    assert_eq!(
        popular[0].content_item_id, w.b,
        "the most liked item she has not seen"
    );
    assert!(popular.iter().all(|r| r.content_item_id != w.a));

    let content = generate(&s, w.alice, "content-based").await;
    assert!([w.b, w.e].contains(&content[0].content_item_id), "{content:?}");
    assert!(content[0].metadata["because_tags"].to_string().contains("space"));

    let unknown = generate(&s, w.alice, "test_v1.0").await;
    assert_eq!(unknown[0].algorithm_version, "test_v1.0");
    assert_eq!(unknown[0].metadata["algorithm"], json!("hybrid"));
    assert!(
        unknown[0].metadata["note"]
            .to_string()
            .contains("names no algorithm")
    );

    let (similar, source) = s.recommendations.similar(w.a, 5).await.unwrap();
    assert_eq!((similar[0].0.id, source), (w.b, "item-knn"));
    let (by_tags, source) = s.recommendations.similar(w.e, 5).await.unwrap();
    assert_eq!(source, "tags", "E has no interactions, so no neighbours");
    assert!(by_tags.iter().any(|(c, _)| c.id == w.a) && by_tags.iter().all(|(c, _)| c.id != w.e));
    let missing = s.recommendations.similar(ContentId(999), 5).await.unwrap_err();
    assert_eq!(refusal(missing), absent(Entity::ContentItem, 999));
}

/// Scenario: the_learned_model_ranks_co_consumed_items_and_folds_in_new_likes.
pub async fn the_learned_model_ranks_co_consumed_items_and_folds_in_new_likes(s: Services) {
    let w = world(&s).await;
    let report = s.recommender.rebuild_now("test", true).await.unwrap();
    assert!(report.info.model_items >= 4, "{report:?}");
    let first = generate(&s, w.alice, "ease").await;
    assert_eq!(first[0].content_item_id, w.b, "fans of A also like B: {first:?}");
    assert_eq!(first[0].algorithm_version, "ease");
    assert_eq!(first[0].metadata["algorithm"], json!("ease"));
    assert_eq!(first[0].metadata["because_items"], json!([w.a.0]));
    assert!(
        first[0].metadata["components"]["ease"]
            .as_f64()
            .is_some_and(|e| e > 0.0)
    );
    assert!(
        first.iter().all(|r| r.content_item_id != w.a),
        "never what she liked"
    );
    let cooking: Vec<ContentId> = first.iter().map(|r| r.content_item_id).collect();

    // Alice likes C (the cook's). No rebuild: the next call folds the like in, and D —
    // consumed with C — is recommended because of C.
    let (c, d) = (w.c, w.d);
    assert!(!cooking.contains(&d), "nothing pointed to D before: {first:?}");
    like(&s, w.alice, c).await;
    let next = generate(&s, w.alice, "learned-v2").await;
    let rec_d = next.iter().find(|r| r.content_item_id == d);
    assert!(
        rec_d.is_some_and(|r| r.metadata["because_items"] == json!([c.0])),
        "{next:?}"
    );
    assert!(next.iter().all(|r| r.content_item_id != c), "C is seen now");
    assert_eq!(next[0].algorithm_version, "learned-v2");
    assert_eq!(next[0].metadata["algorithm"], json!("ease"));
    assert_eq!(
        s.recommender.status().await.unwrap().last.map(|b| b.built_at),
        Some(report.info.built_at),
        "no build ran in between"
    );

    // A user the model does not cover falls back, and says so.
    let newcomer = user(&s, "newcomer").await;
    let cold = generate(&s, newcomer.id, "ease").await;
    assert!(
        cold[0].metadata["notes"]
            .to_string()
            .contains("ease: no positive interactions")
    );
    // Hybrid blends the learned model in.
    let hybrid = generate(&s, w.alice, "hybrid").await;
    assert!(
        hybrid
            .iter()
            .any(|r| r.metadata["components"].get("ease").is_some()),
        "{hybrid:?}"
    );
}

/// Scenario: negative_feedback_removes_and_demotes.
pub async fn negative_feedback_removes_and_demotes(s: Services) {
    let w = world(&s).await;
    s.recommender.rebuild_now("test", true).await.unwrap();
    let first = generate(&s, w.alice, "hybrid").await;
    let rec_b = first.iter().find(|r| r.content_item_id == w.b).unwrap().clone();
    let dismissed = s
        .recommendations
        .feedback(rec_b.id, Feedback::Dismissed, JsonObject::new())
        .await
        .unwrap();
    assert!(dismissed.is_served, "out of the unserved list");
    let unserved = s.recommendations.unserved_for_user(w.alice, 100).await.unwrap();
    assert!(unserved.iter().all(|r| r.content_item_id != w.b));
    let again = generate(&s, w.alice, "hybrid").await;
    assert!(again.iter().all(|r| r.content_item_id != w.b), "never again");
    let e = again.iter().find(|r| r.content_item_id == w.e);
    assert!(
        e.is_some_and(|r| r.metadata.get("demoted").is_some()),
        "E looks like the dismissed B: {again:?}"
    );
}

/// Scenario: builds_run_when_requested_or_stale_and_incrementally.
pub async fn builds_run_when_requested_or_stale_and_incrementally(s: Services) {
    let status = s.recommender.status().await.unwrap();
    assert!(status.last.is_none() && !status.is_stale());
    assert!(
        s.recommender.run_due("w1").await.unwrap().is_none(),
        "nothing to learn from"
    );
    let w = world(&s).await;
    let first = s.recommender.run_due("w1").await.unwrap().expect("data arrived");
    assert!(first.info.full, "the first build is full");
    assert!(s.recommender.run_due("w1").await.unwrap().is_none(), "up to date");
    like(&s, w.alice, w.e).await;
    let status = s.recommender.status().await.unwrap();
    assert!(status.is_stale());
    assert!(
        s.recommender.run_due("w1").await.unwrap().is_none(),
        "stale, but refreshed too recently"
    );
    let requested = s.recommender.request_rebuild(false).await.unwrap();
    assert!(requested.requested_at.is_some());
    let second = s.recommender.run_due("w2").await.unwrap().expect("requested");
    assert!(!second.info.full);
    assert_eq!(second.rows_written, 1, "only the touched item is rewritten");
    assert!(second.info.watermark > first.info.watermark);
    let status = s.recommender.status().await.unwrap();
    assert!(!status.is_stale() && status.requested_at.is_none() && status.running_on.is_none());
}

/// The queue's fairness (run against each [`crate::ports::JobQueue`] directly, not through
/// the services): within a priority users take turns, so a user who queued many jobs first
/// does not starve one who queues a single job after; priority still comes first, and the
/// reported queue positions follow the claim order.
pub async fn the_queue_serves_users_round_robin(repos: crate::ports::Repositories, now: Timestamp) {
    let mut users = Vec::new();
    for name in ["heavy", "light", "urgent"] {
        let new = NewUser {
            username: Username::parse(name).unwrap(),
            email: Email::parse(&format!("{name}@example.com")).unwrap(),
            preferences: JsonObject::new(),
        };
        users.push(repos.users.insert(new, now).await.unwrap().id);
    }
    let enqueue = |user: UserId, prompt: String, priority: i32| {
        let jobs = repos.jobs.clone();
        async move {
            let new = NewJob {
                user_id: user,
                job_type: JobType::Text,
                prompt,
                parameters: JsonObject::new(),
                priority,
                start_deadline_seconds: None,
                timeout_seconds: None,
                webhook: None,
            };
            jobs.insert(new, now).await.unwrap()
        }
    };
    let mut heavy = Vec::new();
    for i in 0..40 {
        heavy.push(enqueue(users[0], format!("heavy {i}"), 0).await.id);
    }
    // One of the heavy user's jobs runs; then the light user queues one job.
    let first = repos
        .queue
        .claim("w", 1, std::time::Duration::from_secs(30), now, None)
        .await
        .unwrap();
    assert_eq!(first.iter().map(|j| j.id).collect::<Vec<_>>(), [heavy[0]]);
    let light = enqueue(users[1], "light".into(), 0).await;
    assert_eq!(light.queue_position, Some(2), "behind one heavy job, not 39");
    let urgent = enqueue(users[2], "urgent".into(), 5).await;
    assert_eq!(urgent.queue_position, Some(1), "priority first");
    let mut order = Vec::new();
    for _ in 0..4 {
        let claimed = repos
            .queue
            .claim("w", 1, std::time::Duration::from_secs(30), now, None)
            .await
            .unwrap();
        order.extend(claimed.iter().map(|j| j.id));
    }
    assert_eq!(order, [urgent.id, heavy[1], light.id, heavy[2]]);
    let later = repos.jobs.get(heavy[3]).await.unwrap().unwrap();
    assert_eq!(later.queue_position, Some(1));
}

fn two_variants(a: &str, b: &str) -> Vec<Variant> {
    vec![
        Variant {
            name: "control".into(),
            algorithm: a.into(),
            weight: 1.0,
        },
        Variant {
            name: "treatment".into(),
            algorithm: b.into(),
            weight: 1.0,
        },
    ]
}

async fn experiment_generate(s: &Services, user: UserId, label: &str, limit: i64) -> Vec<Recommendation> {
    s.recommendations
        .generate(GenerateRequest {
            user_id: user,
            algorithm_version: label.into(),
            limit,
        })
        .await
        .unwrap()
}

/// Scenario: experiments_are_unique_stop_idempotently_and_route_generation.
pub async fn experiments_are_unique_stop_idempotently_and_route_generation(s: Services) {
    let variants = two_variants("popularity", "hybrid");
    let new = NewExperiment::parse("feed", None, variants.clone(), None).unwrap();
    let feed = s.experiments.create(new.clone()).await.unwrap();
    assert_eq!((feed.name.as_str(), feed.engagement_window_hours), ("feed", 24));
    assert!(feed.is_running());
    assert_eq!(feed.variants, variants);
    let duplicate = s.experiments.create(new).await.unwrap_err();
    assert!(
        matches!(
            &duplicate,
            DomainError::Conflict(crate::Conflict::ExperimentName(_))
        ),
        "{duplicate:?}"
    );
    let other = s
        .experiments
        .create(NewExperiment::parse("other", Some("why".into()), variants.clone(), Some(48)).unwrap())
        .await
        .unwrap();
    let page = s.experiments.list(PageRequest::DEFAULT).await.unwrap();
    assert_eq!(page.total, 2);
    let ids: Vec<ExperimentId> = page.items.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![other.id, feed.id], "newest first");
    assert_eq!(s.experiments.get(other.id).await.unwrap(), other);
    let missing = ExperimentId(other.id.0 + 1000);
    assert!(matches!(
        s.experiments.get(missing).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        s.experiments.stop(missing).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        s.experiments.results(missing).await,
        Err(DomainError::NotFound(_))
    ));

    let maker = user(&s, "maker").await;
    for title in ["one", "two", "three"] {
        s.content.create(new_content(maker.id, title)).await.unwrap();
    }
    let alice = user(&s, "alice").await;
    let unknown = s
        .recommendations
        .generate(GenerateRequest {
            user_id: alice.id,
            algorithm_version: "experiment:nope".into(),
            limit: 5,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, DomainError::NotFound(NotFound::ExperimentName(n)) if n == "nope"),
        "{unknown:?}"
    );
    let recs = experiment_generate(&s, alice.id, "experiment:feed", 2).await;
    let variant = feed.assign(alice.id).unwrap();
    assert_eq!(recs.len(), 2);
    for r in &recs {
        assert_eq!(
            r.metadata["experiment"],
            json!({"id": feed.id.0, "name": "feed", "variant": variant.name})
        );
        assert_eq!(r.algorithm_version, variant.algorithm);
    }

    let stopped = s.experiments.stop(feed.id).await.unwrap();
    assert!(!stopped.is_running());
    let again = s.experiments.stop(feed.id).await.unwrap();
    assert_eq!(
        again.stopped_at, stopped.stopped_at,
        "the first stop time is kept"
    );
    let bobby = user(&s, "bobby").await;
    let after = experiment_generate(&s, bobby.id, "experiment:feed", 2).await;
    assert!(!after.is_empty());
    for r in &after {
        assert!(r.metadata.get("experiment").is_none(), "{r:?}");
        assert_eq!(
            r.algorithm_version,
            crate::recommender::Algorithm::DEFAULT.as_str()
        );
        assert!(
            r.metadata["note"]
                .as_str()
                .unwrap_or_default()
                .contains("stopped")
        );
    }
    // Results stay readable, and count only what was served while it ran.
    let results = s.experiments.results(feed.id).await.unwrap();
    let served: i64 = results.variants.iter().map(|v| v.counts.served).sum();
    assert_eq!(served, 2);
}

/// Scenario: experiment_results_count_users_served_engaged_and_rejected.
pub async fn experiment_results_count_users_served_engaged_and_rejected(s: Services) {
    let e = s
        .experiments
        .create(NewExperiment::parse("ab", None, two_variants("popularity", "content"), None).unwrap())
        .await
        .unwrap();
    let maker = user(&s, "maker").await;
    for title in ["one", "two", "three", "four"] {
        s.content.create(new_content(maker.id, title)).await.unwrap();
    }
    // One user per variant.
    let (mut control, mut treatment) = (None, None);
    for i in 0..64 {
        if control.is_some() && treatment.is_some() {
            break;
        }
        let u = user(&s, &format!("user{i}")).await;
        match e.assign(u.id).map(|v| v.name.as_str()) {
            Some("control") if control.is_none() => control = Some(u.id),
            Some("treatment") if treatment.is_none() => treatment = Some(u.id),
            _ => {}
        }
    }
    let (control, treatment) = (control.unwrap(), treatment.unwrap());

    let c = experiment_generate(&s, control, "experiment:ab", 3).await;
    assert_eq!(c.len(), 3);
    s.recommendations
        .feedback(c[0].id, Feedback::Liked, JsonObject::new())
        .await
        .unwrap();
    s.recommendations
        .feedback(c[1].id, Feedback::Dismissed, JsonObject::new())
        .await
        .unwrap();

    let t = experiment_generate(&s, treatment, "experiment:ab", 2).await;
    assert_eq!(t.len(), 2);
    let record = |content: ContentId, kind: InteractionType, rating: Option<i32>| NewInteraction {
        user_id: treatment,
        content_item_id: content,
        interaction_type: kind,
        rating,
        duration: None,
        metadata: JsonObject::new(),
    };
    // A rating of 5 engages; a view does not; a rating of 2 does not.
    s.interactions
        .record(record(t[0].content_item_id, InteractionType::Rate, Some(5)))
        .await
        .unwrap();
    s.interactions
        .record(record(t[1].content_item_id, InteractionType::View, None))
        .await
        .unwrap();
    s.interactions
        .record(record(t[1].content_item_id, InteractionType::Rate, Some(2)))
        .await
        .unwrap();
    s.recommendations
        .feedback(t[1].id, Feedback::Disliked, JsonObject::new())
        .await
        .unwrap();

    let results = s.experiments.results(e.id).await.unwrap();
    let counts: Vec<(String, i64, i64, i64, i64)> = results
        .variants
        .iter()
        .map(|v| {
            (
                v.variant.name.clone(),
                v.counts.users,
                v.counts.served,
                v.counts.engaged,
                v.counts.rejected,
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            ("control".to_owned(), 1, 3, 1, 1),
            ("treatment".to_owned(), 1, 2, 1, 1),
        ]
    );
    assert!((results.variants[0].engagement.rate - 1.0 / 3.0).abs() < 1e-9);
    assert!((results.variants[1].rejection.rate - 0.5).abs() < 1e-9);
    assert_eq!(results.leader, None, "far too little data to lead");
}

/// Scenario (needs the clock, so not in [`service_scenarios!`](crate::service_scenarios)):
/// a positive interaction counts as engagement only within the experiment's window after the
/// recommendation was served (its creation if never marked served).
pub async fn experiment_engagement_counts_only_within_the_window(s: Services, clock: &super::FixedClock) {
    let e = s
        .experiments
        .create(NewExperiment::parse("window", None, two_variants("popularity", "content"), Some(2)).unwrap())
        .await
        .unwrap();
    let maker = user(&s, "maker").await;
    for title in ["one", "two", "three", "four"] {
        s.content.create(new_content(maker.id, title)).await.unwrap();
    }
    let reader = user(&s, "reader").await;
    let recs = experiment_generate(&s, reader.id, "experiment:window", 3).await;
    assert_eq!(recs.len(), 3);
    let like = |content: ContentId| NewInteraction {
        user_id: reader.id,
        content_item_id: content,
        interaction_type: InteractionType::Like,
        rating: None,
        duration: None,
        metadata: JsonObject::new(),
    };
    // Served an hour later: the window runs from then.
    clock.advance(chrono::Duration::hours(1));
    s.recommendations.mark_served(&[recs[2].id]).await.unwrap();
    clock.advance(chrono::Duration::minutes(90));
    // 1.5 h after serving (2.5 h after creation): inside for the served one, outside for an
    // unserved one.
    s.interactions
        .record(like(recs[2].content_item_id))
        .await
        .unwrap();
    s.interactions
        .record(like(recs[1].content_item_id))
        .await
        .unwrap();
    clock.advance(chrono::Duration::hours(1));
    s.interactions
        .record(like(recs[0].content_item_id))
        .await
        .unwrap();
    let results = s.experiments.results(e.id).await.unwrap();
    let variant = e.assign(reader.id).unwrap().name.clone();
    let counts = &results
        .variants
        .iter()
        .find(|v| v.variant.name == variant)
        .unwrap()
        .counts;
    assert_eq!((counts.served, counts.engaged), (3, 1), "{counts:?}");
}

/// Scenario (needs the clock, so not in [`service_scenarios!`](crate::service_scenarios)):
/// idempotent submission creates once per key and scope, replays the job as first returned,
/// refuses the key with a different command and forgets keys after 24 hours.
pub async fn idempotent_submission_creates_once_replays_and_expires(s: Services, clock: &super::FixedClock) {
    let a = user(&s, "alice").await;
    let command = |prompt: &str| NewJob {
        user_id: a.id,
        job_type: JobType::Image,
        prompt: prompt.into(),
        parameters: obj(json!({"steps": 20, "size": {"w": 512, "h": 512}})),
        priority: 0,
        start_deadline_seconds: None,
        timeout_seconds: None,
        webhook: None,
    };
    let key = |scope: &str, key: &str| IdempotencyKey::parse(scope, key).unwrap();
    let total = async || {
        s.jobs
            .list(&JobQuery::default(), PageRequest::new(0, 100))
            .await
            .unwrap()
            .total
    };

    let first = s
        .jobs
        .create_idempotent(command(" cat "), key("key:1", "k-1"))
        .await
        .unwrap();
    assert!(!first.is_replayed());
    let first = first.into_inner();
    assert_eq!(first.prompt, "cat");
    assert_eq!(first.queue_position, Some(1));

    // The job changes afterwards; a replay still returns it as first created.
    s.jobs
        .update_parameters(first.id, Some(obj(json!({"steps": 5}))))
        .await
        .unwrap();
    clock.advance(chrono::Duration::hours(1));
    let again = s
        .jobs
        .create_idempotent(command(" cat "), key("key:1", "k-1"))
        .await
        .unwrap();
    assert!(again.is_replayed());
    assert_eq!(again.into_inner(), first);
    assert_eq!(total().await, 1);

    // Same key, another command: refused, nothing created.
    let reused = s
        .jobs
        .create_idempotent(command("dog"), key("key:1", "k-1"))
        .await
        .unwrap_err();
    assert_eq!(refusal(reused), rule(Rule::IdempotencyKeyReused));
    assert_eq!(total().await, 1);

    // Another scope does not see the key.
    let other = s
        .jobs
        .create_idempotent(command(" cat "), key("key:2", "k-1"))
        .await
        .unwrap();
    assert!(!other.is_replayed());
    let other = other.into_inner();
    assert_ne!(other.id, first.id);
    assert_eq!(total().await, 2);

    // A deleted job's key still replays it as created, and creates nothing.
    s.jobs.cancel(other.id).await.unwrap();
    s.jobs.delete(other.id).await.unwrap();
    let gone = s
        .jobs
        .create_idempotent(command(" cat "), key("key:2", "k-1"))
        .await
        .unwrap();
    assert!(gone.is_replayed());
    assert_eq!(gone.into_inner(), other);
    assert_eq!(total().await, 1);

    // After 24 hours the key is forgotten: it creates again, even with another command.
    clock.advance(chrono::Duration::hours(24));
    let later = s
        .jobs
        .create_idempotent(command("dog"), key("key:1", "k-1"))
        .await
        .unwrap();
    assert!(!later.is_replayed());
    assert_eq!(later.into_inner().prompt, "dog");
    assert_eq!(total().await, 2);
}

/// The per-user cap on running jobs (run against each [`crate::ports::JobQueue`] directly):
/// a user at the cap is skipped, not blocking others; a batch claim never takes more of one
/// user's jobs than the cap leaves; finishing a job frees a slot.
pub async fn the_queue_caps_running_jobs_per_user(repos: crate::ports::Repositories, now: Timestamp) {
    let lease = std::time::Duration::from_secs(30);
    let mut users = Vec::new();
    for name in ["many", "other"] {
        let new = NewUser {
            username: Username::parse(name).unwrap(),
            email: Email::parse(&format!("{name}@example.com")).unwrap(),
            preferences: JsonObject::new(),
        };
        users.push(repos.users.insert(new, now).await.unwrap().id);
    }
    let mut ids = Vec::new();
    for (user, n) in [(users[0], 5), (users[1], 1)] {
        for i in 0..n {
            let new = NewJob {
                user_id: user,
                job_type: JobType::Text,
                prompt: format!("job {i}"),
                parameters: JsonObject::new(),
                priority: 0,
                start_deadline_seconds: None,
                timeout_seconds: None,
                webhook: None,
            };
            ids.push((user, repos.jobs.insert(new, now).await.unwrap().id));
        }
    }
    let of = |jobs: &[GenerationJob], user: UserId| jobs.iter().filter(|j| j.user_id == user).count();
    let first = repos.queue.claim("w", 10, lease, now, Some(2)).await.unwrap();
    assert_eq!((of(&first, users[0]), of(&first, users[1])), (2, 1), "{first:?}");
    let none = repos.queue.claim("w", 10, lease, now, Some(2)).await.unwrap();
    assert!(none.is_empty(), "the busy user is at the cap: {none:?}");
    let done = first.iter().find(|j| j.user_id == users[0]).unwrap();
    let lease_of = crate::ports::Lease::of(done);
    assert!(repos.queue.fail(&lease_of, "done", None, now).await.unwrap());
    let next = repos.queue.claim("w", 10, lease, now, Some(2)).await.unwrap();
    assert_eq!(of(&next, users[0]), 1, "one slot freed: {next:?}");
    let uncapped = repos.queue.claim("w", 10, lease, now, None).await.unwrap();
    assert_eq!(uncapped.len(), 2, "without a cap the rest run");
}
