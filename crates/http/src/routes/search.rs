//! Queues and search (W1, W2, W6): the case list with its filters, sort and cursor, and the
//! counts of every queue.

use super::{schema, Api, BodyDoc, Reply};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::input::search::{bad_query, case_query, query, CaseListQuery};
use crate::routes::answer::Json;
use crate::state::AppState;
use crate::wire;
use aftersale_core::values::*;
use aftersale_core::*;
use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use schemars::JsonSchema;
use serde::Deserialize;

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    api.route(
        Method::GET,
        "/api/v1/cases",
        "search_cases",
        "cases",
        "Cases the caller may see: queues, search, filters, cursor pages (W1, W2).",
        "any logged-in user",
        NoBody,
        Reply::Json(200, schema::<wire::CaseList>),
        get(search),
    )
    .query(schema::<CaseListQuery>)
    .route(
        Method::GET,
        "/api/v1/queues",
        "queue_counts",
        "cases",
        "Cases per queue for a shop (W1).",
        "shop staff; agent, admin with ?shop=",
        NoBody,
        Reply::Json(200, schema::<wire::QueueCounts>),
        get(queues),
    )
    .query(schema::<QueuesQuery>)
}

async fn search(
    State(state): State<AppState>,
    caller: Caller,
    uri: axum::http::Uri,
) -> ApiResult<Json<wire::CaseList>> {
    let q = case_query(query(uri.query())?)?;
    let (page, counts) = crate::services::page_and_counts(&state, &caller, q).await?;
    let items = page
        .items
        .into_iter()
        .map(|it| wire::CaseRow {
            id: it.case.id,
            order_id: it.case.order_id,
            order_no: it.order_no,
            kind: it.case.kind,
            status: it.case.status.name(),
            queue: it.case.queue(),
            amount: it.case.amount,
            reason: it.case.reason.clone(),
            lines: it.case.picks(),
            customer_name: it.customer_name,
            customer_phone: it.customer_phone_masked,
            flag: it.flag,
            applied_at: it.case.applied_at,
            due: (it.due_key != i64::MAX).then_some(Timestamp(it.due_key)),
            version: it.case.version,
        })
        .collect();
    Ok(Json(wire::CaseList {
        items,
        next_cursor: page.next.map(|c| format!("{}.{}", c.key, c.id)),
        counts: counts.map(|c| c.into_iter().collect()),
    }))
}

/// The shop whose queues to count: merchant staff their own, the platform names one.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueuesQuery {
    #[schemars(range(min = 1))]
    shop: Option<i64>,
}

async fn queues(
    State(state): State<AppState>,
    caller: Caller,
    uri: axum::http::Uri,
) -> ApiResult<Json<wire::QueueCounts>> {
    let p: QueuesQuery = query(uri.query())?;
    if p.shop.is_some_and(|v| v < 1) {
        return Err(bad_query("shop", "shop is a positive id"));
    }
    let sender = caller.sender();
    let (shop, counts) = state.run(move |e| e.queue_counts_as(&sender, p.shop.map(ShopId))).await?;
    Ok(Json(wire::QueueCounts { shop_id: shop, counts: counts.into_iter().collect() }))
}
