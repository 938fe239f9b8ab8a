//! Content items (contract §4.3).

use actix_web::web::Json;
use apistos::actix::CreatedJson;
use apistos::api_operation;
use genonaut_domain::PageRequest;
use genonaut_domain::ids::{ContentId, UserId};

use crate::dto::content::*;
use crate::dto::{ContentIdPath, CreatorIdPath, Page, PageQuery, Success};
use crate::error::ApiError;
use crate::extract::{Body, MaybeBody, Path, Query};
use crate::media::MediaLinks;
use crate::state::Tenant;

type Result<T> = std::result::Result<T, ApiError>;

/// Create content
///
/// Checks, in order: the body (422 list; `is_public` and `is_private` cannot both be true), the
/// creator exists (422 `"Creator not found"`), the title and the content are not blank (422).
/// New items get `quality_score: 0.5`; tags are trimmed and de-duplicated in order.
#[api_operation(
    operation_id = "content_create",
    tag = "content",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn create(
    tenant: Tenant,
    links: MediaLinks,
    body: Body<ContentCreate>,
) -> Result<CreatedJson<ContentOut>> {
    Ok(CreatedJson(
        ContentOut::from(tenant.services.content.create(body.0.into()).await?).linked(&links),
    ))
}

/// Get content
///
/// Any visibility (there is no access control on reads).
#[api_operation(
    operation_id = "content_get",
    tag = "content",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn get(tenant: Tenant, links: MediaLinks, p: Path<ContentIdPath>) -> Result<Json<ContentOut>> {
    Ok(Json(
        ContentOut::from(tenant.services.content.get(ContentId(p.0.content_id)).await?).linked(&links),
    ))
}

/// Update content
///
/// Sent fields replace the stored ones (`item_metadata` and `tags` as a whole). The resulting
/// visibility may not be both public and private (422); to make public content private send
/// `is_public: false` with `is_private: true`.
#[api_operation(
    operation_id = "content_update",
    tag = "content",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn update(
    tenant: Tenant,
    links: MediaLinks,
    p: Path<ContentIdPath>,
    body: Body<ContentUpdate>,
) -> Result<Json<ContentOut>> {
    let updated = tenant
        .services
        .content
        .update(ContentId(p.0.content_id), body.0.into())
        .await?;
    Ok(Json(ContentOut::from(updated).linked(&links)))
}

/// Delete content
///
/// Deletes the item with its interactions and recommendations, and detaches it from generation
/// jobs, in one transaction.
#[api_operation(
    operation_id = "content_delete",
    tag = "content",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn delete(tenant: Tenant, p: Path<ContentIdPath>) -> Result<Json<Success>> {
    let id = ContentId(p.0.content_id);
    tenant.services.content.delete(id).await?;
    Ok(Json(Success::new(format!("Content {id} deleted successfully"))))
}

/// Similar content
///
/// Items like this one, most similar first: its nearest neighbours learned from interactions
/// (item-to-item collaborative filtering, `source: "item-knn"`); for items nobody has
/// interacted with yet, the items nearest to it by meaning (sentence embeddings of title,
/// prompt, description and tags, `source: "embedding"`) when an embedding model is loaded and
/// the item is embedded, else items sharing its tags (`source: "tags"`). Only public, non-private
/// items; `score` is the similarity (0…1). 404 for an unknown item.
#[api_operation(
    operation_id = "content_similar",
    tag = "content",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn similar(
    tenant: Tenant,
    links: MediaLinks,
    p: Path<ContentIdPath>,
    q: Query<SimilarQuery>,
) -> Result<Json<SimilarOut>> {
    let (items, source) = tenant
        .services
        .recommendations
        .similar(ContentId(p.0.content_id), q.0.limit)
        .await?;
    let items: Vec<SimilarItemOut> = items
        .into_iter()
        .map(|(content, score)| SimilarItemOut {
            content: ContentOut::from(content).linked(&links),
            score,
        })
        .collect();
    Ok(Json(SimilarOut {
        total: items.len() as i64,
        skip: 0,
        limit: q.0.limit,
        source,
        items,
    }))
}

/// Set the quality score
#[api_operation(
    operation_id = "content_quality",
    tag = "content",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn quality(
    tenant: Tenant,
    links: MediaLinks,
    p: Path<ContentIdPath>,
    body: Body<QualityUpdate>,
) -> Result<Json<ContentOut>> {
    let updated = tenant
        .services
        .content
        .set_quality(ContentId(p.0.content_id), body.0.quality_score)
        .await?;
    Ok(Json(ContentOut::from(updated).linked(&links)))
}

/// List and filter content
///
/// Every given filter applies (AND): title search (substring or English full text), type,
/// creator, public only, tags (repeat `tags`). Newest first (ties: higher id first); `total`
/// counts all matches.
///
/// Paging: `skip`/`limit`, or keyset ("load more"): pass the page's `next_cursor` as `cursor`
/// (same filters) for the next page — as fast on page 10,000 as on page 1. `next_cursor` is
/// `null` on the last page. A malformed cursor, or a cursor with `skip` > 0, is a 422.
#[api_operation(
    operation_id = "content_list",
    tag = "content",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn list(
    tenant: Tenant,
    links: MediaLinks,
    q: Query<ContentListQuery>,
) -> Result<Json<ContentPage>> {
    let q = q.0;
    let page = tenant
        .services
        .content
        .list_paged(&q.query(), q.start(), q.limit)
        .await?;
    Ok(Json(ContentPage::of(page, q.skip, q.limit, &links)))
}

/// Search content
///
/// Like the listing, plus `metadata_filter` (each key must equal the given JSON value). All
/// filters apply together; newest first; `total` counts all matches.
///
/// With `"search_mode": "semantic"`, items are ranked by meaning instead: the nearest to
/// `search_term` (required; 422 without it) by sentence embedding, most similar first — "sea at
/// night" finds the lighthouse. Without an embedding model loaded, semantic search answers 422
/// (`GET /ready` says why embeddings are unavailable).
#[api_operation(
    operation_id = "content_search",
    tag = "content",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn search(
    tenant: Tenant,
    links: MediaLinks,
    body: MaybeBody<ContentSearch>,
) -> Result<Json<Page<ContentOut>>> {
    let b = body.0;
    let window = PageRequest::new(b.skip, b.limit);
    let page = match b.search_mode {
        SearchMode::Keyword => tenant.services.content.list(&b.query(), window).await?,
        SearchMode::Semantic => {
            let Some(text) = b.search_term.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
                return Err(ApiError::body_value_error(
                    &["search_term"],
                    "search_term is required with search_mode 'semantic'",
                ));
            };
            tenant.services.semantic.search(text, &b.query(), window).await?
        }
    };
    Ok(Json(Page::of(page, b.skip, b.limit).linked(&links)))
}

/// Content of a creator
///
/// Newest first; 404 for an unknown user.
#[api_operation(
    operation_id = "content_by_creator",
    tag = "content",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn by_creator(
    tenant: Tenant,
    links: MediaLinks,
    p: Path<CreatorIdPath>,
    q: Query<PageQuery>,
) -> Result<Json<Page<ContentOut>>> {
    let page = tenant
        .services
        .content
        .by_creator(UserId(p.0.creator_id), q.0.window())
        .await?;
    Ok(Json(Page::of(page, q.0.skip, q.0.limit).linked(&links)))
}

/// Content of a type
///
/// Newest first; an unknown type lists nothing.
#[api_operation(
    operation_id = "content_by_type",
    tag = "content",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn by_type(
    tenant: Tenant,
    links: MediaLinks,
    p: Path<ContentTypePath>,
    q: Query<PageQuery>,
) -> Result<Json<Page<ContentOut>>> {
    let page = tenant
        .services
        .content
        .by_type(&p.0.content_type, q.0.window())
        .await?;
    Ok(Json(Page::of(page, q.0.skip, q.0.limit).linked(&links)))
}

/// Public content
///
/// Items that are public and not private, newest first.
#[api_operation(
    operation_id = "content_public",
    tag = "content",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn public(
    tenant: Tenant,
    links: MediaLinks,
    q: Query<PageQuery>,
) -> Result<Json<Page<ContentOut>>> {
    let page = tenant.services.content.public(q.0.window()).await?;
    Ok(Json(Page::of(page, q.0.skip, q.0.limit).linked(&links)))
}

/// Top-rated content
///
/// Items with `quality_score > 0`, best first (ties by id), any visibility, at most `limit`.
#[api_operation(
    operation_id = "content_top_rated",
    tag = "content",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn top_rated(
    tenant: Tenant,
    links: MediaLinks,
    q: Query<TopRatedQuery>,
) -> Result<Json<Page<ContentOut>>> {
    Ok(Json(
        Page::listing(tenant.services.content.top_rated(q.0.limit).await?, q.0.limit).linked(&links),
    ))
}

/// Recent content
///
/// Items created in the last `days` days, newest first, any visibility, at most `limit`.
#[api_operation(
    operation_id = "content_recent",
    tag = "content",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn recent(
    tenant: Tenant,
    links: MediaLinks,
    q: Query<RecentQuery>,
) -> Result<Json<Page<ContentOut>>> {
    Ok(Json(
        Page::listing(
            tenant.services.content.recent(q.0.days, q.0.limit).await?,
            q.0.limit,
        )
        .linked(&links),
    ))
}

/// Content counters
#[api_operation(
    operation_id = "content_overview",
    tag = "content",
    error_code = 400,
    error_code = 503
)]
pub async fn overview(tenant: Tenant) -> Result<Json<ContentStatsOut>> {
    Ok(Json(tenant.services.content.stats().await?.into()))
}
