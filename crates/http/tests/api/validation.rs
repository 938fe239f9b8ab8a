//! The contract's request leniency and 422 list shapes (§1.2, §1.6.1).

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::call;

async fn problems(body: Value) -> Value {
    let app = crate::app!();
    let (status, reply) = call(&app, Method::POST, "/api/v1/interactions", Some(body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reply}");
    reply["detail"].clone()
}

#[actix_web::test]
async fn integers_accept_numeric_strings_integral_floats_and_booleans() {
    let app = crate::app!();
    let (status, user) = call(
        &app,
        Method::POST,
        "/api/v1/users",
        Some(json!({"username": "lenient", "email": "l@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = user["id"].as_i64().unwrap();
    for (creator, ok) in [
        (json!(id.to_string()), true),
        (json!(id as f64), true),
        (json!(true), id == 1),
        (json!(1.5), false),
    ] {
        let body = json!({"title": "t", "content_type": "text", "content_data": "d", "creator_id": creator});
        let (status, reply) = call(&app, Method::POST, "/api/v1/content", Some(body)).await;
        assert_eq!(status == StatusCode::CREATED, ok, "creator_id {creator}: {reply}");
    }
}

#[actix_web::test]
async fn error_kinds_and_messages_match_the_contract() {
    let detail = problems(json!({"user_id": 1.5, "content_item_id": "abc", "interaction_type": 5, "rating": "x", "duration": [1], "metadata": "m"})).await;
    let kinds: Vec<&str> = detail
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "int_from_float",
            "int_parsing",
            "enum",
            "int_parsing",
            "int_type",
            "dict_type"
        ]
    );
    assert_eq!(
        detail[0]["msg"],
        json!("Input should be a valid integer, got a number with a fractional part")
    );
    assert_eq!(detail[0]["loc"], json!(["body", "user_id"]));
    assert_eq!(detail[0]["input"], json!(1.5));
    assert_eq!(
        detail[2]["msg"],
        json!("Input should be 'view', 'like', 'share', 'download', 'bookmark', 'comment' or 'rate'")
    );
    assert_eq!(
        detail[2]["ctx"],
        json!({"expected": "'view', 'like', 'share', 'download', 'bookmark', 'comment' or 'rate'"})
    );
    assert!(
        detail[0].get("ctx").is_none(),
        "ctx only where the rule has parameters"
    );
}

#[actix_web::test]
async fn missing_fields_report_the_enclosing_object_as_input() {
    let detail = problems(json!({"user_id": 1})).await;
    assert_eq!(detail[0]["type"], json!("missing"));
    assert_eq!(detail[0]["msg"], json!("Field required"));
    assert_eq!(detail[0]["input"], json!({"user_id": 1}));
    assert_eq!(detail.as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn null_means_absent_on_optional_fields_but_is_a_type_error_on_defaulted_ones() {
    let app = crate::app!();
    call(
        &app,
        Method::POST,
        "/api/v1/users",
        Some(json!({"username": "nully", "email": "n@example.com", "preferences": null})),
    )
    .await;
    let body = json!({"title": "t", "content_type": "text", "content_data": "d", "creator_id": 1, "tags": null, "item_metadata": null});
    assert_eq!(
        call(&app, Method::POST, "/api/v1/content", Some(body)).await.0,
        StatusCode::CREATED
    );
    let body = json!({"title": "t", "content_type": "text", "content_data": "d", "creator_id": 1, "is_public": null});
    let (status, reply) = call(&app, Method::POST, "/api/v1/content", Some(body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply["detail"][0]["type"], json!("bool_type"));
}

#[actix_web::test]
async fn query_booleans_accept_the_usual_spellings_and_reject_others() {
    let app = crate::app!();
    for ok in [
        "true", "False", "yes", "no", "on", "off", "t", "f", "y", "n", "1", "0",
    ] {
        let (status, _) = call(
            &app,
            Method::GET,
            &format!("/api/v1/users?active_only={ok}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{ok}");
    }
    for bad in ["", "maybe", "2"] {
        let (status, reply) = call(
            &app,
            Method::GET,
            &format!("/api/v1/users?active_only={bad}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(reply["detail"][0]["type"], json!("bool_parsing"));
        assert_eq!(reply["detail"][0]["loc"], json!(["query", "active_only"]));
        assert_eq!(reply["detail"][0]["input"], json!(bad));
    }
}

#[actix_web::test]
async fn bounds_print_as_the_contract_does() {
    let app = crate::app!();
    let (_, reply) = call(&app, Method::GET, "/api/v1/users?skip=-1&limit=0", None).await;
    assert_eq!(
        reply["detail"][0]["msg"],
        json!("Input should be greater than or equal to 0")
    );
    assert_eq!(reply["detail"][0]["ctx"], json!({"ge": 0}));
    assert_eq!(
        reply["detail"][1]["msg"],
        json!("Input should be greater than or equal to 1")
    );
    let (_, reply) = call(
        &app,
        Method::PUT,
        "/api/v1/content/1/quality",
        Some(json!({"quality_score": -0.5})),
    )
    .await;
    assert_eq!(
        reply["detail"][0]["msg"],
        json!("Input should be greater than or equal to 0")
    );
    assert_eq!(reply["detail"][0]["ctx"], json!({"ge": 0.0}));
    let (_, reply) = call(
        &app,
        Method::POST,
        "/api/v1/users",
        Some(json!({"username": "x", "email": "e@example.com"})),
    )
    .await;
    assert_eq!(
        reply["detail"][0]["msg"],
        json!("String should have at least 3 characters")
    );
    let (_, reply) = call(
        &app,
        Method::POST,
        "/api/v1/content",
        Some(json!({"title": "", "content_type": "text", "content_data": "d", "creator_id": 1})),
    )
    .await;
    assert_eq!(
        reply["detail"][0]["msg"],
        json!("String should have at least 1 character")
    );
}

#[actix_web::test]
async fn bodies_must_be_json_objects() {
    let app = crate::app!();
    let (status, reply) = call(&app, Method::POST, "/api/v1/users", Some(json!([1, 2]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply["detail"][0]["type"], json!("model_attributes_type"));
    assert_eq!(reply["detail"][0]["loc"], json!(["body"]));
    let req = actix_web::test::TestRequest::post()
        .uri("/api/v1/users")
        .insert_header(("Content-Type", "application/json"))
        .set_payload("{\"username\": \n  oops}")
        .to_request();
    let res = actix_web::test::call_service(&app, req).await;
    let body: Value = actix_web::test::read_body_json(res).await;
    assert_eq!(body["detail"][0]["type"], json!("json_invalid"));
    assert_eq!(body["detail"][0]["loc"], json!(["body", 16]));
    assert_eq!(body["detail"][0]["input"], json!({}));
}

#[actix_web::test]
async fn a_cursor_is_checked_and_excludes_a_skip() {
    let app = crate::app!();
    let app = &app;
    let get = |q: &str| {
        let uri = format!("/api/v1/content?{q}");
        async move { call(app, Method::GET, &uri, None).await }
    };
    let (status, reply) = get("cursor=garbage&limit=0").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = reply["detail"].as_array().unwrap();
    assert_eq!(detail.len(), 2, "every problem together: {reply}");
    assert_eq!(detail[0]["loc"], json!(["query", "limit"]));
    assert_eq!(
        detail[1],
        json!({"type": "value_error", "loc": ["query", "cursor"],
               "msg": "Value error, Invalid cursor: pass back the next_cursor of a previous page unchanged",
               "input": "garbage", "ctx": {"error": {}}})
    );
    // A well-formed cursor (version 1, second 1, id 1) with skip > 0: the skip is refused.
    let (status, reply) = get("cursor=MToxOjA6MQ&skip=2").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply["detail"][0]["loc"], json!(["query", "skip"]));
    assert_eq!(reply["detail"][0]["input"], json!("2"));
    for ok in ["cursor=MToxOjA6MQ&skip=0", "cursor=", "cursor=MToxOjA6MQ"] {
        let (status, reply) = get(ok).await;
        assert_eq!(status, StatusCode::OK, "{ok}: {reply}");
        assert_eq!(reply["next_cursor"], Value::Null);
    }
}
