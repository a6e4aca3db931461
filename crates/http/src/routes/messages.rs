//! Message boxes (X1: paged, filtered, marked read by their owner only) and the SMS outbox (X2).

use super::{schema, Api, BodyDoc, JsonBody, Reply};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::answer::Json;
use crate::state::AppState;
use crate::wire;
use aftersale_core::notice::Recipient;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, post};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::input::search::{bad_query, query};

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    api.route(
        Method::GET,
        "/api/v1/messages",
        "message_box",
        "notices",
        "The caller's message box with unread counts per category (X1).",
        "any logged-in user",
        NoBody,
        Reply::Json(200, schema::<wire::MessageBoxView>),
        get(message_box),
    )
    .query(schema::<MessagesQuery>)
    .route(
        Method::POST,
        "/api/v1/messages/read",
        "mark_read",
        "notices",
        "Marks message-box entries read (X1).",
        "any logged-in user",
        Json(schema::<MarkReadIn>),
        Reply::Json(200, schema::<wire::Marked>),
        post(mark_read),
    )
    .route(
        Method::GET,
        "/api/v1/sms",
        "sms_outbox",
        "notices",
        "The SMS outbox (X2).",
        "agent, admin",
        NoBody,
        Reply::Json(200, schema::<wire::SmsList>),
        get(sms_outbox),
    )
}

/// X1: a page of the message box and its filters.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// Only unread entries.
    #[serde(default)]
    unread: bool,
    /// Only this category.
    category: Option<aftersale_core::notice::Category>,
    #[schemars(range(min = 1, max = 200))]
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[schemars(range(min = 1))]
    cursor: Option<i64>,
}

async fn message_box(
    State(state): State<AppState>,
    caller: Caller,
    uri: axum::http::Uri,
) -> ApiResult<Json<wire::MessageBoxView>> {
    let p: MessagesQuery = query(uri.query())?;
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(bad_query("limit", "limit is 1-200"));
    }
    if p.cursor.is_some_and(|c| c < 1) {
        return Err(bad_query("cursor", "cursor is a positive id"));
    }
    let q = aftersale_engine::NoticeQuery {
        before: p.cursor,
        unread_only: p.unread,
        category: p.category.map(|c| c.as_str().to_string()),
        limit,
    };
    let to = Recipient::of(&caller.actor);
    let mb = state.run(move |e| e.message_box_page(to, q)).await?;
    Ok(Json(wire::MessageBoxView {
        items: mb.entries,
        next_cursor: mb.next.map(|id| id.to_string()),
        unread: mb.unread.into_iter().collect(),
    }))
}

/// X1: entries of the caller's own box to mark read.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct MarkReadIn {
    #[schemars(length(max = 1000))]
    ids: Vec<i64>,
}

async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<MarkReadIn>,
) -> ApiResult<Json<wire::Marked>> {
    if body.ids.len() > 1000 {
        return Err(ApiError::bad("ids", "at most 1000 ids at a time"));
    }
    let to = Recipient::of(&caller.actor);
    let n = state.run(move |e| e.mark_read(to, body.ids)).await?;
    Ok(Json(wire::Marked { marked: n }))
}

async fn sms_outbox(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<wire::SmsList>> {
    let sender = caller.sender();
    let items = state.run(move |e| e.sms_outbox_as(&sender)).await?;
    Ok(Json(wire::SmsList { items }))
}
