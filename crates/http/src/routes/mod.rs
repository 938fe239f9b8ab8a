//! The route table: every path of the contract, in an order where literal segments win over
//! parameters at the same position (contract §6, item 6), and who may call each route.
//!
//! Access is declared here, next to each route, and nowhere else ([`Table`]): `read` for
//! `GET`/`HEAD` and `write` for other methods unless a route says `.needs(…)`, a resource is
//! [`Table::public`] or a scope is [`Table::scope_needing`] (`/api/v1/admin`: every path under
//! it). The guard ([`crate::guard`]) enforces what the table declares.

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

mod table;

use apistos::web::Scope;
pub use table::{Declared, Needs, Res, RouteAccess, Table};

/// `/` and `/health`.
pub fn root(t: &Table) -> Vec<apistos::web::Resource> {
    vec![
        t.public("/", |r| r.get(system::root)),
        t.public("/health", |r| r.get(system::legacy_health)),
    ]
}

/// Everything under `/api/v1`.
pub fn api_v1(t: &Table) -> Scope {
    t.scope("/api/v1", |t, s| {
        s.service(t.public("/health", |r| r.get(system::health)))
            .service(t.at("/databases", |r| r.get(system::databases)))
            .service(t.at("/schemas", |r| r.get(system::schemas)))
            .service(t.at("/stats/global", |r| r.get(system::global_stats)))
            // Asking for a live-status ticket only reads.
            .service(t.at("/ws-tickets", |r| r.post(jobs::ticket).needs(Needs::Read)))
            .service(users(t))
            .service(content(t))
            .service(interactions(t))
            .service(recommendations(t))
            .service(jobs(t))
            .service(experiments(t))
            .service(admin(t))
    })
}

fn admin(t: &Table) -> Scope {
    use admin as a;
    // Every path under it, any method: the admin scope.
    t.scope_needing("/admin", Needs::Admin, |t, s| {
        s.service(t.at("/recommender", |r| r.get(a::recommender_status)))
            .service(t.at("/recommender/rebuild", |r| r.post(a::recommender_rebuild)))
            .service(t.at("/keys", |r| r.get(a::keys_list).post(a::keys_create)))
            .service(t.at("/keys/{prefix}/revoke", |r| r.post(a::keys_revoke)))
    })
}

fn experiments(t: &Table) -> Scope {
    use experiments as e;
    t.scope("/experiments", |t, s| {
        s.service(t.at("", |r| r.post(e::create).get(e::list)))
            .service(t.at("/{experiment_id}", |r| r.get(e::get)))
            .service(t.at("/{experiment_id}/stop", |r| r.post(e::stop)))
            .service(t.at("/{experiment_id}/results", |r| r.get(e::results)))
    })
}

fn users(t: &Table) -> Scope {
    use users as u;
    t.scope("/users", |t, s| {
        s.service(t.at("", |r| r.post(u::create).get(u::list)))
            .service(t.at("/search", |r| r.get(u::search_get).post(u::search_post)))
            .service(t.at("/stats/overview", |r| r.get(u::overview)))
            .service(t.at("/username/{username}", |r| r.get(u::by_username)))
            .service(t.at("/email/{email}", |r| r.get(u::by_email)))
            .service(t.at("/{user_id}", |r| r.get(u::get).put(u::update).delete(u::delete)))
            .service(t.at("/{user_id}/preferences", |r| r.put(u::preferences)))
            .service(t.at("/{user_id}/interactions", |r| r.get(u::interactions)))
            .service(t.at("/{user_id}/recommendations", |r| r.get(u::recommendations)))
            .service(t.at("/{user_id}/recommendations/unserved", |r| r.get(u::unserved)))
            .service(t.at("/{user_id}/deactivate", |r| r.post(u::deactivate)))
            .service(t.at("/{user_id}/activate", |r| r.post(u::activate)))
            .service(t.at("/{user_id}/stats", |r| r.get(u::stats)))
            .service(t.at("/{user_id}/generation-jobs", |r| r.get(u::generation_jobs)))
    })
}

fn content(t: &Table) -> Scope {
    use content as c;
    t.scope("/content", |t, s| {
        s.service(t.at("", |r| r.post(c::create).get(c::list)))
            .service(t.at("/search", |r| r.post(c::search)))
            .service(t.at("/creator/{creator_id}", |r| r.get(c::by_creator)))
            .service(t.at("/type/{content_type}", |r| r.get(c::by_type)))
            .service(t.at("/public/all", |r| r.get(c::public)))
            .service(t.at("/top-rated/all", |r| r.get(c::top_rated)))
            .service(t.at("/recent/all", |r| r.get(c::recent)))
            .service(t.at("/stats/overview", |r| r.get(c::overview)))
            .service(t.at("/{content_id}", |r| {
                r.get(c::get).put(c::update).delete(c::delete)
            }))
            .service(t.at("/{content_id}/quality", |r| r.put(c::quality)))
            .service(t.at("/{content_id}/similar", |r| r.get(c::similar)))
    })
}

fn interactions(t: &Table) -> Scope {
    use interactions as i;
    t.scope("/interactions", |t, s| {
        s.service(t.at("", |r| r.post(i::create).get(i::list)))
            .service(t.at("/stats/overview", |r| r.get(i::overview)))
            .service(t.at("/analytics/user-behavior/{user_id}", |r| r.get(i::user_behavior)))
            .service(t.at("/user/{user_id}/interactions", |r| r.get(i::by_user)))
            .service(t.at("/user/{user_id}/recent", |r| r.get(i::recent)))
            .service(t.at("/user/{user_id}/summary", |r| r.get(i::summary)))
            .service(t.at(
                "/user/{user_id}/content/{content_item_id}/{interaction_type}",
                |r| r.get(i::between),
            ))
            .service(t.at("/content/{content_item_id}/interactions", |r| {
                r.get(i::by_content)
            }))
            .service(t.at("/content/{content_item_id}/stats", |r| r.get(i::content_stats)))
            .service(t.at("/type/{interaction_type}/interactions", |r| r.get(i::by_type)))
            .service(t.at("/{interaction_id}", |r| {
                r.get(i::get).put(i::update).delete(i::delete)
            }))
    })
}

fn recommendations(t: &Table) -> Scope {
    use recommendations as r;
    t.scope("/recommendations", |t, s| {
        s.service(t.at("", |r| r.post(r::create).get(r::list)))
            .service(t.at("/bulk", |r| r.post(r::bulk)))
            .service(t.at("/served", |r| r.post(r::served)))
            .service(t.at("/generate", |r| r.post(r::generate)))
            .service(t.at("/stats/overview", |r| r.get(r::overview)))
            .service(t.at("/analytics/user/{user_id}", |r| r.get(r::analytics_user)))
            .service(t.at("/user/{user_id}/recommendations", |r| r.get(r::for_user)))
            .service(t.at("/user/{user_id}/top", |r| r.get(r::top)))
            .service(t.at("/user/{user_id}/unserved", |r| r.get(r::unserved)))
            .service(t.at("/user/{user_id}/recent", |r| r.get(r::recent)))
            .service(t.at("/user/{user_id}/stats", |r| r.get(r::user_stats)))
            .service(t.at("/content/{content_item_id}/recommendations", |r| {
                r.get(r::by_content)
            }))
            .service(t.at("/algorithm/{algorithm_version}/recommendations", |r| {
                r.get(r::by_algorithm)
            }))
            .service(t.at("/{recommendation_id}", |r| {
                r.get(r::get).put(r::update).delete(r::delete)
            }))
            .service(t.at("/{recommendation_id}/feedback", |r| r.put(r::feedback)))
    })
}

fn jobs(t: &Table) -> Scope {
    use jobs as j;
    t.scope("/generation-jobs", |t, s| {
        s.service(t.at("", |r| r.post(j::create).get(j::list)))
            .service(t.at("/queue/process", |r| r.post(j::process).needs(Needs::Admin)))
            .service(t.at("/queue/stats", |r| r.get(j::queue_stats)))
            .service(t.at("/stats/overview", |r| r.get(j::stats)))
            .service(t.at("/pending/all", |r| r.get(j::pending)))
            .service(t.at("/running/all", |r| r.get(j::running)))
            .service(t.at("/completed/all", |r| r.get(j::completed)))
            .service(t.at("/failed/all", |r| r.get(j::failed)))
            .service(t.at("/user/{user_id}/jobs", |r| r.get(j::by_user)))
            .service(t.at("/user/{user_id}/stats", |r| r.get(j::user_stats)))
            .service(t.at("/status/{status}/jobs", |r| r.get(j::by_status)))
            .service(t.at("/type/{job_type}/jobs", |r| r.get(j::by_type)))
            .service(t.at("/{job_id}", |r| r.get(j::get).put(j::update).delete(j::delete)))
            .service(t.at("/{job_id}/status", |r| r.put(j::status).needs(Needs::Admin)))
            .service(t.at("/{job_id}/result", |r| r.put(j::result).needs(Needs::Admin)))
            .service(t.at("/{job_id}/cancel", |r| r.post(j::cancel)))
            .service(t.at("/{job_id}/events", |r| r.get(events::events)))
            .service(t.at("/{job_id}/webhook-deliveries", |r| r.get(j::webhook_deliveries)))
    })
}
