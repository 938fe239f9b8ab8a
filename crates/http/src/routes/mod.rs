//! The route table: every path of the contract, in an order where literal segments win over
//! parameters at the same position (contract §6, item 6).

pub mod admin;
pub mod content;
pub mod events;
pub mod experiments;
pub mod feed;
pub mod interactions;
pub mod jobs;
pub mod ops;
pub mod recommendations;
pub mod system;
pub mod users;
pub mod ws;

use apistos::web::{Scope, delete, get, post, put, resource, scope};

/// `/` and `/health`.
pub fn root() -> Vec<apistos::web::Resource> {
    vec![
        resource("/").route(get().to(system::root)),
        resource("/health").route(get().to(system::legacy_health)),
    ]
}

/// Everything under `/api/v1`.
pub fn api_v1() -> Scope {
    scope("/api/v1")
        .service(resource("/health").route(get().to(system::health)))
        .service(resource("/databases").route(get().to(system::databases)))
        .service(resource("/schemas").route(get().to(system::schemas)))
        .service(resource("/stats/global").route(get().to(system::global_stats)))
        .service(resource("/ws-tickets").route(post().to(jobs::ticket)))
        .service(users())
        .service(content())
        .service(interactions())
        .service(recommendations())
        .service(jobs())
        .service(experiments())
        .service(admin())
}

fn admin() -> Scope {
    use admin as a;
    scope("/admin")
        .service(resource("/recommender").route(get().to(a::recommender_status)))
        .service(resource("/recommender/rebuild").route(post().to(a::recommender_rebuild)))
        .service(
            resource("/keys")
                .route(get().to(a::keys_list))
                .route(post().to(a::keys_create)),
        )
        .service(resource("/keys/{prefix}/revoke").route(post().to(a::keys_revoke)))
}

fn experiments() -> Scope {
    use experiments as e;
    scope("/experiments")
        .service(resource("").route(post().to(e::create)).route(get().to(e::list)))
        .service(resource("/{experiment_id}").route(get().to(e::get)))
        .service(resource("/{experiment_id}/stop").route(post().to(e::stop)))
        .service(resource("/{experiment_id}/results").route(get().to(e::results)))
}

fn users() -> Scope {
    use users as u;
    scope("/users")
        .service(resource("").route(post().to(u::create)).route(get().to(u::list)))
        .service(
            resource("/search")
                .route(get().to(u::search_get))
                .route(post().to(u::search_post)),
        )
        .service(resource("/stats/overview").route(get().to(u::overview)))
        .service(resource("/username/{username}").route(get().to(u::by_username)))
        .service(resource("/email/{email}").route(get().to(u::by_email)))
        .service(
            resource("/{user_id}")
                .route(get().to(u::get))
                .route(put().to(u::update))
                .route(delete().to(u::delete)),
        )
        .service(resource("/{user_id}/preferences").route(put().to(u::preferences)))
        .service(resource("/{user_id}/interactions").route(get().to(u::interactions)))
        .service(resource("/{user_id}/recommendations").route(get().to(u::recommendations)))
        .service(resource("/{user_id}/recommendations/unserved").route(get().to(u::unserved)))
        .service(resource("/{user_id}/deactivate").route(post().to(u::deactivate)))
        .service(resource("/{user_id}/activate").route(post().to(u::activate)))
        .service(resource("/{user_id}/stats").route(get().to(u::stats)))
        .service(resource("/{user_id}/generation-jobs").route(get().to(u::generation_jobs)))
}

fn content() -> Scope {
    use content as c;
    scope("/content")
        .service(resource("").route(post().to(c::create)).route(get().to(c::list)))
        .service(resource("/search").route(post().to(c::search)))
        .service(resource("/creator/{creator_id}").route(get().to(c::by_creator)))
        .service(resource("/type/{content_type}").route(get().to(c::by_type)))
        .service(resource("/public/all").route(get().to(c::public)))
        .service(resource("/top-rated/all").route(get().to(c::top_rated)))
        .service(resource("/recent/all").route(get().to(c::recent)))
        .service(resource("/stats/overview").route(get().to(c::overview)))
        .service(
            resource("/{content_id}")
                .route(get().to(c::get))
                .route(put().to(c::update))
                .route(delete().to(c::delete)),
        )
        .service(resource("/{content_id}/quality").route(put().to(c::quality)))
        .service(resource("/{content_id}/similar").route(get().to(c::similar)))
}

fn interactions() -> Scope {
    use interactions as i;
    scope("/interactions")
        .service(resource("").route(post().to(i::create)).route(get().to(i::list)))
        .service(resource("/stats/overview").route(get().to(i::overview)))
        .service(resource("/analytics/user-behavior/{user_id}").route(get().to(i::user_behavior)))
        .service(resource("/user/{user_id}/interactions").route(get().to(i::by_user)))
        .service(resource("/user/{user_id}/recent").route(get().to(i::recent)))
        .service(resource("/user/{user_id}/summary").route(get().to(i::summary)))
        .service(
            resource("/user/{user_id}/content/{content_item_id}/{interaction_type}")
                .route(get().to(i::between)),
        )
        .service(resource("/content/{content_item_id}/interactions").route(get().to(i::by_content)))
        .service(resource("/content/{content_item_id}/stats").route(get().to(i::content_stats)))
        .service(resource("/type/{interaction_type}/interactions").route(get().to(i::by_type)))
        .service(
            resource("/{interaction_id}")
                .route(get().to(i::get))
                .route(put().to(i::update))
                .route(delete().to(i::delete)),
        )
}

fn recommendations() -> Scope {
    use recommendations as r;
    scope("/recommendations")
        .service(resource("").route(post().to(r::create)).route(get().to(r::list)))
        .service(resource("/bulk").route(post().to(r::bulk)))
        .service(resource("/served").route(post().to(r::served)))
        .service(resource("/generate").route(post().to(r::generate)))
        .service(resource("/stats/overview").route(get().to(r::overview)))
        .service(resource("/analytics/user/{user_id}").route(get().to(r::analytics_user)))
        .service(resource("/user/{user_id}/recommendations").route(get().to(r::for_user)))
        .service(resource("/user/{user_id}/top").route(get().to(r::top)))
        .service(resource("/user/{user_id}/unserved").route(get().to(r::unserved)))
        .service(resource("/user/{user_id}/recent").route(get().to(r::recent)))
        .service(resource("/user/{user_id}/stats").route(get().to(r::user_stats)))
        .service(resource("/content/{content_item_id}/recommendations").route(get().to(r::by_content)))
        .service(resource("/algorithm/{algorithm_version}/recommendations").route(get().to(r::by_algorithm)))
        .service(
            resource("/{recommendation_id}")
                .route(get().to(r::get))
                .route(put().to(r::update))
                .route(delete().to(r::delete)),
        )
        .service(resource("/{recommendation_id}/feedback").route(put().to(r::feedback)))
}

fn jobs() -> Scope {
    use jobs as j;
    scope("/generation-jobs")
        .service(resource("").route(post().to(j::create)).route(get().to(j::list)))
        .service(resource("/queue/process").route(post().to(j::process)))
        .service(resource("/queue/stats").route(get().to(j::queue_stats)))
        .service(resource("/stats/overview").route(get().to(j::stats)))
        .service(resource("/pending/all").route(get().to(j::pending)))
        .service(resource("/running/all").route(get().to(j::running)))
        .service(resource("/completed/all").route(get().to(j::completed)))
        .service(resource("/failed/all").route(get().to(j::failed)))
        .service(resource("/user/{user_id}/jobs").route(get().to(j::by_user)))
        .service(resource("/user/{user_id}/stats").route(get().to(j::user_stats)))
        .service(resource("/status/{status}/jobs").route(get().to(j::by_status)))
        .service(resource("/type/{job_type}/jobs").route(get().to(j::by_type)))
        .service(
            resource("/{job_id}")
                .route(get().to(j::get))
                .route(put().to(j::update))
                .route(delete().to(j::delete)),
        )
        .service(resource("/{job_id}/status").route(put().to(j::status)))
        .service(resource("/{job_id}/result").route(put().to(j::result)))
        .service(resource("/{job_id}/cancel").route(post().to(j::cancel)))
        .service(resource("/{job_id}/events").route(get().to(events::events)))
        .service(resource("/{job_id}/webhook-deliveries").route(get().to(j::webhook_deliveries)))
}
