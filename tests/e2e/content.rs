use genonaut_tests::TestApp;
use serde_json::json;

#[actix_web::test]
async fn create_content_and_its_rules() {
    let app = TestApp::spawn().await;
    let u = app.user("maker").await;
    let c = app
        .post(
            "/api/v1/content",
            json!({"title": "  Hello World  ", "content_type": "text", "content_data": "Once upon a time", "creator_id": u,
                   "tags": [" sci-fi ", "space", "", "sci-fi", "ai"], "item_metadata": {"pages": 3}, "is_public": true,
                   "is_private": false}),
        )
        .await
        .expect(201);
    assert_eq!(c["title"], json!("Hello World"));
    assert_eq!(
        c["tags"],
        json!(["sci-fi", "space", "ai"]),
        "trimmed, de-duplicated, in order"
    );
    assert_eq!(c["quality_score"], json!(0.5));
    let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "title",
            "content_type",
            "content_data",
            "item_metadata",
            "creator_id",
            "created_at",
            "tags",
            "quality_score",
            "is_public",
            "is_private",
            // Added for browsers (signed media URL; null for text): after the contract's fields.
            "media_url"
        ]
    );
    assert_eq!(c["media_url"], json!(null));

    let both = app
        .post("/api/v1/content", json!({"title": "t", "content_type": "text", "content_data": "d", "creator_id": u, "is_private": true}))
        .await
        .expect(422);
    assert_eq!(both["detail"][0]["loc"], json!(["body", "is_private"]));
    assert_eq!(
        both["detail"][0]["msg"],
        json!("Value error, Content cannot be both public and private")
    );
    let bad = app
        .post(
            "/api/v1/content",
            json!({"title": "", "content_type": "poster", "content_data": "", "creator_id": 0}),
        )
        .await
        .problems();
    assert_eq!(
        bad,
        [
            ("string_too_short".into(), "body.title".into()),
            ("enum".into(), "body.content_type".into()),
            ("string_too_short".into(), "body.content_data".into()),
            ("greater_than".into(), "body.creator_id".into())
        ]
    );
    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let too_many = app
        .post(
            "/api/v1/content",
            json!({"title": "t", "content_type": "text", "content_data": "d", "creator_id": u, "tags": many}),
        )
        .await
        .expect(422);
    assert_eq!(
        too_many["detail"][0]["msg"],
        json!("Value error, Cannot have more than 20 tags")
    );

    let rule = |title: &str, data: &str, creator: i64| json!({"title": title, "content_type": "text", "content_data": data, "creator_id": creator});
    assert_eq!(
        app.post("/api/v1/content", rule("t", "d", 999)).await.detail(422),
        "Creator not found"
    );
    assert_eq!(
        app.post("/api/v1/content", rule("   ", "d", u)).await.detail(422),
        "Title cannot be empty"
    );
    assert_eq!(
        app.post("/api/v1/content", rule("t", "  ", u)).await.detail(422),
        "Content data cannot be empty"
    );
    // Inactive creators may still create content.
    app.post_empty(&format!("/api/v1/users/{u}/deactivate"))
        .await
        .expect(200);
    app.post("/api/v1/content", rule("t", "d", u)).await.expect(201);
}

#[actix_web::test]
async fn get_update_quality_and_delete() {
    let app = TestApp::spawn().await;
    let u = app.user("editor").await;
    let c = app.content(u, "Draft", "image", &["a"]).await;
    let path = format!("/api/v1/content/{c}");
    assert_eq!(app.get(&path).await.expect(200)["title"], json!("Draft"));
    assert_eq!(
        app.get("/api/v1/content/424242").await.detail(404),
        "ContentItem with id 424242 not found"
    );
    app.get("/api/v1/content/top-rated").await.expect(422);

    let updated = app
        .put(&path, json!({"title": " Final ", "tags": [], "item_metadata": {"v": 2}, "content_type": "video", "quality_score": 1}))
        .await
        .expect(200);
    assert_eq!(
        (updated["title"].as_str(), updated["content_type"].as_str()),
        (Some("Final"), Some("image"))
    );
    assert_eq!(
        (updated["tags"].clone(), updated["item_metadata"].clone()),
        (json!([]), json!({"v": 2}))
    );
    assert_eq!(updated["quality_score"], json!(0.5), "not updatable here");
    assert_eq!(
        app.put(&path, json!({"is_private": true})).await.detail(422),
        "Content cannot be both public and private"
    );
    let private = app
        .put(&path, json!({"is_private": true, "is_public": false}))
        .await
        .expect(200);
    assert_eq!(
        (private["is_public"].as_bool(), private["is_private"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(
        app.put(&path, json!({"title": "  "})).await.detail(422),
        "Title cannot be empty"
    );
    assert_eq!(
        app.put(&path, json!({"content_data": " "})).await.detail(422),
        "Content data cannot be empty"
    );
    app.put("/api/v1/content/424242", json!({"title": "x"}))
        .await
        .expect(404);

    let q = app
        .put(&format!("{path}/quality"), json!({"quality_score": 0.85}))
        .await
        .expect(200);
    assert_eq!(q["quality_score"], json!(0.85));
    let out_of_range = app
        .put(&format!("{path}/quality"), json!({"quality_score": 1.5}))
        .await
        .expect(422);
    assert_eq!(out_of_range["detail"][0]["ctx"], json!({"le": 1.0}));
    assert_eq!(
        out_of_range["detail"][0]["msg"],
        json!("Input should be less than or equal to 1")
    );
    app.put("/api/v1/content/424242/quality", json!({"quality_score": 0.1}))
        .await
        .expect(404);

    // Deleting referenced content cascades and detaches jobs, in one transaction.
    app.interact(u, c, "view", None).await;
    app.recommend(u, c, 0.3).await;
    let job = app.job(u, "image").await;
    app.put(
        &format!("/api/v1/generation-jobs/{job}/result"),
        json!({"content_id": c}),
    )
    .await
    .expect(200);
    assert_eq!(
        app.delete(&path).await.expect(200),
        json!({"success": true, "message": format!("Content {c} deleted successfully")})
    );
    app.get(&path).await.expect(404);
    assert_eq!(
        app.get(&format!("/api/v1/generation-jobs/{job}"))
            .await
            .expect(200)["result_content_id"],
        json!(null)
    );
    assert_eq!(
        app.get(&format!("/api/v1/users/{u}/interactions"))
            .await
            .expect(200)["total"],
        json!(0)
    );
    app.delete(&path).await.expect(404);
}

#[actix_web::test]
async fn listing_and_search_apply_every_filter() {
    let app = TestApp::spawn().await;
    let a = app.user("alpha").await;
    let b = app.user("bravo").await;
    let first = app
        .content(a, "Searchable Content 1", "text", &["searchable", "space"])
        .await;
    app.content(a, "Searchable Image", "image", &["searchable"]).await;
    app.content(b, "Running cats", "text", &["pets"]).await;
    app.content(b, "100% Wool", "text", &[]).await;
    let hidden = app
        .post("/api/v1/content", json!({"title": "Searchable secret", "content_type": "text", "content_data": "x", "creator_id": a, "is_public": false, "is_private": true}))
        .await
        .expect(201);

    let page = app
        .get("/api/v1/content?skip=0&limit=10&public_only=true")
        .await
        .expect(200);
    assert_eq!(
        (page["total"].as_i64(), page["limit"].as_i64()),
        (Some(4), Some(10))
    );
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"] != hidden["id"])
    );
    let all = app.get("/api/v1/content").await.expect(200);
    assert_eq!(all["total"], json!(5));
    assert_eq!(all["items"][0]["id"], hidden["id"], "newest first");

    let q = app
        .get(&format!(
            "/api/v1/content?search_term=searchable&content_type=text&creator_id={a}"
        ))
        .await
        .expect(200);
    assert_eq!(q["total"], json!(2));
    let tags = app
        .get("/api/v1/content?tags=searchable&tags=space")
        .await
        .expect(200);
    assert_eq!(
        (tags["total"].as_i64(), tags["items"][0]["id"].as_i64()),
        (Some(1), Some(first))
    );
    assert_eq!(
        app.get("/api/v1/content?search_term=%25").await.expect(200)["total"],
        json!(1),
        "% is literal"
    );
    assert_eq!(
        app.get("/api/v1/content?search_term=cat").await.expect(200)["total"],
        json!(1),
        "full text stems"
    );
    app.get("/api/v1/content?content_type=poster").await.expect(422);
    app.get("/api/v1/content?creator_id=0").await.expect(422);

    let searched = app
        .post(
            "/api/v1/content/search",
            json!({"search_term": "Searchable", "content_type": "text", "public_only": true, "limit": 10}),
        )
        .await
        .expect(200);
    assert_eq!(
        (searched["total"].as_i64(), searched["items"][0]["id"].as_i64()),
        (Some(1), Some(first))
    );
    let by_tag = app
        .post(
            "/api/v1/content/search",
            json!({"tags": ["searchable"], "public_only": true, "limit": 10}),
        )
        .await
        .expect(200);
    assert_eq!(by_tag["total"], json!(2));
    let meta = app
        .post(
            "/api/v1/content/search",
            json!({"metadata_filter": {"lang": "en"}}),
        )
        .await
        .expect(200);
    assert_eq!(meta["total"], json!(4));
    let typed = app
        .post("/api/v1/content/search", json!({"metadata_filter": {"lang": 1}}))
        .await
        .expect(200);
    assert_eq!(typed["total"], json!(0));
    let missing_key = app
        .post(
            "/api/v1/content/search",
            json!({"metadata_filter": {"lang": null}}),
        )
        .await
        .expect(200);
    assert_eq!(missing_key["total"], json!(1), "null matches a missing key");
    let paged = app
        .post("/api/v1/content/search", json!({"skip": 1, "limit": 1}))
        .await
        .expect(200);
    assert_eq!(
        (
            paged["total"].as_i64(),
            paged["skip"].as_i64(),
            paged["items"].as_array().unwrap().len()
        ),
        (Some(5), Some(1), 1)
    );
    app.post("/api/v1/content/search", json!({"limit": 0}))
        .await
        .expect(422);
    app.post("/api/v1/content/search", json!({"tags": "x"}))
        .await
        .expect(422);
}

#[actix_web::test]
async fn special_listings_and_stats() {
    let app = TestApp::spawn().await;
    let a = app.user("lister").await;
    let c1 = app.content(a, "One", "text", &[]).await;
    let c2 = app.content(a, "Two", "audio", &[]).await;
    app.content(a, "Three", "audio", &[]).await;
    app.put(
        &format!("/api/v1/content/{c1}/quality"),
        json!({"quality_score": 0.9}),
    )
    .await
    .expect(200);
    app.put(
        &format!("/api/v1/content/{c2}/quality"),
        json!({"quality_score": 0.0}),
    )
    .await
    .expect(200);

    let creator = app
        .get(&format!("/api/v1/content/creator/{a}?limit=2"))
        .await
        .expect(200);
    assert_eq!(
        (
            creator["total"].as_i64(),
            creator["items"].as_array().unwrap().len()
        ),
        (Some(3), 2)
    );
    assert_eq!(
        app.get("/api/v1/content/creator/999").await.detail(404),
        "User with id 999 not found"
    );
    assert_eq!(
        app.get("/api/v1/content/type/audio").await.expect(200)["total"],
        json!(2)
    );
    assert_eq!(
        app.get("/api/v1/content/type/poster").await.expect(200)["total"],
        json!(0)
    );
    assert_eq!(
        app.get("/api/v1/content/public/all").await.expect(200)["total"],
        json!(3)
    );
    let top = app.get("/api/v1/content/top-rated/all?limit=5").await.expect(200);
    assert_eq!(top["items"][0]["id"], json!(c1));
    assert_eq!(
        (top["total"].as_i64(), top["skip"].as_i64()),
        (Some(2), Some(0)),
        "quality 0 excluded"
    );
    let recent = app.get("/api/v1/content/recent/all?days=1").await.expect(200);
    assert_eq!(recent["total"], json!(3));
    app.get("/api/v1/content/recent/all?days=0").await.expect(422);
    app.get("/api/v1/content/top-rated/all?limit=-1")
        .await
        .expect(422);
    let stats = app.get("/api/v1/content/stats/overview").await.expect(200);
    assert_eq!(
        stats.to_string(),
        r#"{"total_content":3,"public_content":3,"private_content":0,"type_breakdown":{"text":1,"image":0,"video":0,"audio":2}}"#
    );
}

/// Walks a listing with `cursor`/`next_cursor` (`limit` per page), returning the item ids.
async fn walk_by_cursor(app: &TestApp, filters: &str, limit: i64) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/content?limit={limit}&cursor={c}{filters}"),
            None => format!("/api/v1/content?limit={limit}{filters}"),
        };
        let page = app.get(&path).await.expect(200);
        let Some(items) = page["items"].as_array() else {
            panic!("no items: {page}");
        };
        ids.extend(items.iter().filter_map(|i| i["id"].as_i64()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => {
                assert_eq!(
                    page["next_cursor"],
                    serde_json::Value::Null,
                    "null on the last page"
                );
                return ids;
            }
        }
    }
    panic!("more than 100 pages");
}

#[actix_web::test]
async fn cursor_paging_walks_the_same_listing_as_skip_under_every_filter() {
    let app = TestApp::spawn().await;
    let a = app.user("alpha").await;
    let b = app.user("bravo").await;
    for i in 0..11 {
        let creator = if i % 3 == 0 { b } else { a };
        let kind = if i % 2 == 0 { "image" } else { "text" };
        let tags: &[&str] = if i % 4 == 0 { &["rare", "sea"] } else { &["sea"] };
        app.content(creator, &format!("Gallery piece {i}"), kind, tags)
            .await;
    }
    app.post(
        "/api/v1/content",
        json!({"title": "Gallery hidden", "content_type": "image", "content_data": "x",
                                       "creator_id": a, "is_public": false}),
    )
    .await
    .expect(201);

    let filters = [
        String::new(),
        "&public_only=true".into(),
        "&content_type=image".into(),
        format!("&creator_id={a}"),
        "&tags=rare".into(),
        "&content_type=image&tags=sea&public_only=true".into(),
        format!("&search_term=gallery&creator_id={b}"),
    ];
    for f in &filters {
        let listing = app
            .get(&format!("/api/v1/content?limit=1000{f}"))
            .await
            .expect(200);
        let expected: Vec<i64> = listing["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect();
        assert!(!expected.is_empty(), "{f} matches something");
        assert_eq!(
            listing["next_cursor"],
            serde_json::Value::Null,
            "{f}: one page holds all"
        );
        for limit in [1, 2, 5] {
            assert_eq!(
                walk_by_cursor(&app, f, limit).await,
                expected,
                "{f}, limit {limit}"
            );
        }
    }

    // The envelope keeps the contract's fields, in order, and adds next_cursor; a cursor page
    // and the skip page at the same place are the same page.
    let first = app.get("/api/v1/content?limit=3").await.expect(200);
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["items", "total", "skip", "limit", "next_cursor"]);
    assert_eq!(
        (first["total"].as_i64(), first["skip"].as_i64()),
        (Some(12), Some(0))
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let by_cursor = app
        .get(&format!("/api/v1/content?limit=3&skip=0&cursor={cursor}"))
        .await
        .expect(200);
    let by_skip = app.get("/api/v1/content?limit=3&skip=3").await.expect(200);
    assert_eq!(by_cursor["items"], by_skip["items"]);
    assert_eq!(by_cursor["next_cursor"], by_skip["next_cursor"]);
    assert_eq!(
        (by_cursor["total"].as_i64(), by_cursor["skip"].as_i64()),
        (Some(12), Some(0))
    );

    // Content created while paging sorts first and does not shift the next page.
    app.content(a, "Gallery newcomer", "image", &[]).await;
    let after = app
        .get(&format!("/api/v1/content?limit=3&cursor={cursor}"))
        .await
        .expect(200);
    assert_eq!(after["items"], by_skip["items"]);
    assert_eq!(after["total"], json!(13));

    // A malformed cursor, and a cursor with skip > 0: 422 in the contract's shape.
    // An empty cursor is the first page; a well-formed one before every item, an empty page.
    let empty = app.get("/api/v1/content?limit=3&cursor=").await.expect(200);
    let fresh = app.get("/api/v1/content?limit=3").await.expect(200);
    assert_eq!(empty["items"], fresh["items"]);
    let before_all = app.get("/api/v1/content?cursor=MToxOjA6MQ").await.expect(200);
    assert_eq!(
        (
            before_all["items"].as_array().unwrap().len(),
            before_all["total"].as_i64()
        ),
        (0, Some(13))
    );
    // Not base64, version 2, five parts, a year PostgreSQL cannot hold (never a 500).
    for bad in [
        "nope!",
        "MjoxOjE6MQ",
        "MToxOjE6MDox",
        "MTotMzAwMDAwMDAwMDAwOjA6NDI",
    ] {
        let problems = app
            .get(&format!("/api/v1/content?cursor={bad}"))
            .await
            .expect(422);
        assert_eq!(
            problems["detail"][0]["loc"],
            json!(["query", "cursor"]),
            "{bad:?}"
        );
        assert_eq!(problems["detail"][0]["type"], json!("value_error"));
        assert_eq!(problems["detail"][0]["input"], json!(bad));
    }
    let both = app
        .get(&format!("/api/v1/content?skip=3&cursor={cursor}"))
        .await
        .expect(422);
    assert_eq!(both["detail"][0]["loc"], json!(["query", "skip"]));
    assert_eq!(both["detail"][0]["input"], json!("3"));
}
