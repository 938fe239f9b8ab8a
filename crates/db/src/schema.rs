// @generated automatically by Diesel CLI.

diesel::table! {
    api_keys (id) {
        id -> Int4,
        #[max_length = 100]
        name -> Varchar,
        #[max_length = 16]
        prefix -> Varchar,
        #[max_length = 64]
        key_hash -> Varchar,
        #[max_length = 10]
        scope -> Varchar,
        #[max_length = 63]
        schema_name -> Nullable<Varchar>,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    content_counts (content_type, listed, private) {
        #[max_length = 50]
        content_type -> Varchar,
        listed -> Bool,
        n -> Int8,
        private -> Bool,
    }
}

diesel::table! {
    content_creator_counts (creator_id, content_type, listed) {
        creator_id -> Int4,
        #[max_length = 50]
        content_type -> Varchar,
        listed -> Bool,
        n -> Int8,
    }
}

diesel::table! {
    content_embeddings (content_id) {
        content_id -> Int4,
        model -> Nullable<Text>,
        vector -> Nullable<Array<Nullable<Float4>>>,
        pending -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    content_items (id) {
        id -> Int4,
        #[max_length = 255]
        title -> Varchar,
        #[max_length = 50]
        content_type -> Varchar,
        content_data -> Text,
        item_metadata -> Jsonb,
        creator_id -> Int4,
        created_at -> Timestamp,
        tags -> Jsonb,
        quality_score -> Float8,
        is_public -> Bool,
        is_private -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    content_tag_counts (tag, content_type, listed) {
        tag -> Text,
        #[max_length = 50]
        content_type -> Varchar,
        listed -> Bool,
        n -> Int8,
    }
}

diesel::table! {
    content_tags (content_id, tag) {
        content_id -> Int4,
        tag -> Text,
        created_at -> Timestamp,
        #[max_length = 50]
        content_type -> Varchar,
        listed -> Bool,
    }
}

diesel::table! {
    experiments (id) {
        id -> Int4,
        #[max_length = 39]
        name -> Varchar,
        description -> Nullable<Text>,
        variants -> Jsonb,
        engagement_window_hours -> Int4,
        created_at -> Timestamp,
        stopped_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    generation_jobs (id) {
        id -> Int4,
        user_id -> Int4,
        #[max_length = 50]
        job_type -> Varchar,
        prompt -> Text,
        parameters -> Jsonb,
        #[max_length = 20]
        status -> Varchar,
        result_content_id -> Nullable<Int4>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        error_message -> Nullable<Text>,
        updated_at -> Timestamp,
        priority -> Int4,
        attempts -> Int4,
        max_attempts -> Int4,
        run_after -> Timestamp,
        lease_expires_at -> Nullable<Timestamp>,
        #[max_length = 100]
        worker_id -> Nullable<Varchar>,
        progress -> Float8,
        event_seq -> Int8,
        start_deadline_at -> Nullable<Timestamp>,
        timeout_seconds -> Nullable<Int4>,
        fair_round -> Int8,
        webhook -> Nullable<Text>,
        webhook_events_filter -> Nullable<Array<Nullable<Text>>>,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        #[max_length = 64]
        scope -> Varchar,
        #[max_length = 255]
        key -> Varchar,
        #[max_length = 64]
        fingerprint -> Varchar,
        job_id -> Nullable<Int4>,
        response -> Nullable<Jsonb>,
        queue_position -> Nullable<Int8>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    interaction_count_mark (singleton) {
        singleton -> Bool,
        upto -> Int8,
        candidate -> Nullable<Int8>,
        holders -> Nullable<Array<Nullable<Text>>>,
    }
}

diesel::table! {
    interaction_counts (interaction_type) {
        #[max_length = 50]
        interaction_type -> Varchar,
        n -> Int8,
    }
}

diesel::table! {
    item_stats (item_id) {
        item_id -> Int4,
        popularity -> Float8,
        interactions -> Int4,
        users -> Int4,
        neighbor_ids -> Array<Nullable<Int4>>,
        neighbor_scores -> Array<Nullable<Float4>>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    item_model (item_id) {
        item_id -> Int4,
        ease_ids -> Array<Nullable<Int4>>,
        ease_weights -> Array<Nullable<Float4>>,
    }
}

diesel::table! {
    job_events (job_id, seq) {
        job_id -> Int4,
        seq -> Int8,
        #[max_length = 20]
        event_type -> Varchar,
        data -> Jsonb,
        created_at -> Timestamp,
    }
}

diesel::table! {
    trending_eras (starts_at) {
        starts_at -> Timestamp,
        item_ids -> Array<Nullable<Int4>>,
        scores -> Array<Nullable<Float8>>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    popularity_eras (starts_at) {
        starts_at -> Timestamp,
        item_ids -> Array<Nullable<Int4>>,
        scores -> Array<Nullable<Float8>>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    recommendations (id) {
        id -> Int4,
        user_id -> Int4,
        content_item_id -> Int4,
        recommendation_score -> Float8,
        #[max_length = 50]
        algorithm_version -> Varchar,
        created_at -> Timestamp,
        is_served -> Bool,
        rec_metadata -> Jsonb,
        served_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    recommender_state (id) {
        id -> Int2,
        built_at -> Nullable<Timestamp>,
        epoch -> Nullable<Timestamp>,
        watermark -> Int8,
        items -> Int8,
        users -> Int8,
        signals -> Int8,
        pairs -> Int8,
        full_build -> Bool,
        millis -> Int8,
        requested_at -> Nullable<Timestamp>,
        requested_full -> Bool,
        locked_by -> Nullable<Text>,
        locked_at -> Nullable<Timestamp>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        updated_at -> Timestamp,
        model_items -> Int8,
        model_lambda -> Float8,
    }
}

diesel::table! {
    tag_stats (tag) {
        tag -> Text,
        items -> Int4,
        top_ids -> Array<Nullable<Int4>>,
        top_scores -> Array<Nullable<Float8>>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_interactions (id) {
        id -> Int4,
        user_id -> Int4,
        content_item_id -> Int4,
        #[max_length = 50]
        interaction_type -> Varchar,
        rating -> Nullable<Int4>,
        duration -> Nullable<Int4>,
        created_at -> Timestamp,
        interaction_metadata -> Jsonb,
    }
}

diesel::table! {
    users (id) {
        id -> Int4,
        #[max_length = 50]
        username -> Varchar,
        #[max_length = 255]
        email -> Varchar,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        preferences -> Jsonb,
        is_active -> Bool,
    }
}

diesel::table! {
    webhook_deliveries (job_id, seq) {
        job_id -> Int4,
        seq -> Int8,
        #[max_length = 20]
        event_type -> Varchar,
        #[max_length = 64]
        webhook_id -> Varchar,
        #[max_length = 20]
        status -> Varchar,
        attempts -> Int4,
        last_status -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        next_attempt_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ws_tickets (ticket_hash) {
        #[max_length = 64]
        ticket_hash -> Varchar,
        job_id -> Int4,
        #[max_length = 63]
        schema_name -> Varchar,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(content_embeddings -> content_items (content_id));
diesel::joinable!(content_items -> users (creator_id));
diesel::joinable!(generation_jobs -> content_items (result_content_id));
diesel::joinable!(generation_jobs -> users (user_id));
diesel::joinable!(item_model -> content_items (item_id));
diesel::joinable!(item_stats -> content_items (item_id));
diesel::joinable!(job_events -> generation_jobs (job_id));
diesel::joinable!(recommendations -> content_items (content_item_id));
diesel::joinable!(recommendations -> users (user_id));
diesel::joinable!(user_interactions -> content_items (content_item_id));
diesel::joinable!(user_interactions -> users (user_id));
diesel::joinable!(webhook_deliveries -> generation_jobs (job_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    content_counts,
    content_creator_counts,
    content_embeddings,
    content_items,
    content_tag_counts,
    content_tags,
    experiments,
    generation_jobs,
    idempotency_keys,
    interaction_count_mark,
    interaction_counts,
    item_model,
    item_stats,
    job_events,
    popularity_eras,
    recommendations,
    recommender_state,
    tag_stats,
    trending_eras,
    user_interactions,
    users,
    webhook_deliveries,
    ws_tickets,
);
