//! The event API: the domain events the caller may see, oldest first, from a cursor — what an
//! integrator polls (or what webhooks push). Who sees what, the cursor and the retention are the
//! engine's (`Engine::events_after`).

use super::{schema, Api, BodyDoc, Reply};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::input::search::{bad_query, query};
use crate::routes::answer::Json;
use crate::state::AppState;
use crate::wire;
use aftersale_engine::EventPosition;
use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use schemars::JsonSchema;
use serde::Deserialize;

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    api.route(
        Method::GET,
        "/api/v1/events",
        "list_events",
        "events",
        "Domain events the caller may see, oldest first, after a cursor: a shop's staff and integration \
         tokens see the shop's, the platform every shop's. A cursor older than the retention answers 410.",
        "shop staff, integration token, agent, admin",
        NoBody,
        Reply::Json(200, schema::<wire::EventPage>),
        get(list),
    )
    .query(schema::<EventsQuery>)
}

/// Where to read from, which types, how many.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// The `next` of the previous page, or an event's `id`: the events after it. Without it, from
    /// the oldest event kept.
    #[schemars(regex(pattern = r"^[0-9]{1,18}-[0-9]{1,18}-[0-9]{1,9}$"))]
    after: Option<String>,
    /// Event types, comma-separated (`case.opened,refund.succeeded`); every type without it.
    #[schemars(length(max = 2000))]
    types: Option<String>,
    /// Events per page, 1 to 1,000 (100 without it).
    #[schemars(range(min = 1, max = 1000))]
    limit: Option<usize>,
}

async fn list(State(state): State<AppState>, caller: Caller, uri: axum::http::Uri) -> ApiResult<Json<wire::EventPage>> {
    let q: EventsQuery = query(uri.query())?;
    let after = match q.after.as_deref() {
        None => EventPosition::START,
        Some(text) => text
            .parse::<EventPosition>()
            .map_err(|_| bad_query("after", "after is an event id or a page's `next` (three numbers: 12-345-1)"))?,
    };
    if q.types.as_ref().is_some_and(|t| t.len() > 2000) {
        return Err(bad_query("types", "types is at most 2,000 characters"));
    }
    let types: Vec<String> = q
        .types
        .as_deref()
        .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    let limit = q.limit.unwrap_or(100);
    let actor = caller.actor;
    let (rows, next) = state.run(move |e| e.events_after(actor, after, limit, types)).await?;
    let items = rows.into_iter().map(wire::EventOut::from_row).collect::<Result<_, _>>()?;
    Ok(Json(wire::EventPage { items, next: next.to_string() }))
}
