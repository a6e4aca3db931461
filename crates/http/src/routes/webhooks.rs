//! Webhook endpoints over the API: a shop's (its owner or integration token) or the platform's
//! (an admin), with their delivery logs, a test event, secret rotation and redelivery. Who may
//! do what, and what an endpoint may be, is the engine's (`engine/src/webhooks.rs`); the secret
//! is made and sealed here, and shown once.

use super::{schema, Api, BodyDoc, JsonBody, Reply};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::input::path_id;
use crate::input::search::{bad_query, query};
use crate::routes::answer::Json;
use crate::state::AppState;
use aftersale_core::values::ShopId;
use aftersale_core::Timestamp;
use aftersale_engine::store::{WebhookAttempt, WebhookDelivery, WebhookEndpoint};
use aftersale_engine::webhooks::{EndpointChange, NewEndpoint};
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    let who = "a shop's owner or integration token (its endpoints); an admin (the platform's)";
    api.route(
        Method::POST,
        "/api/v1/webhooks",
        "create_webhook",
        "webhooks",
        "Adds an endpoint; its signing secret is shown once, in this answer.",
        who,
        Json(schema::<NewWebhook>),
        Reply::Json(201, schema::<CreatedWebhook>),
        post(create),
    )
    .route(
        Method::GET,
        "/api/v1/webhooks",
        "list_webhooks",
        "webhooks",
        "The caller's endpoints (a shop's; the platform's for an admin, or a shop's with ?shop=).",
        who,
        NoBody,
        Reply::Json(200, schema::<WebhookList>),
        get(list),
    )
    .query(schema::<ListQuery>)
    .route(
        Method::GET,
        "/api/v1/webhooks/{id}",
        "get_webhook",
        "webhooks",
        "One endpoint.",
        who,
        NoBody,
        Reply::Json(200, schema::<WebhookOut>),
        get(one),
    )
    .route(
        Method::PATCH,
        "/api/v1/webhooks/{id}",
        "update_webhook",
        "webhooks",
        "Changes an endpoint; enabling a disabled one starts its failure count again.",
        who,
        Json(schema::<WebhookChange>),
        Reply::Json(200, schema::<WebhookOut>),
        patch(update),
    )
    .route(
        Method::DELETE,
        "/api/v1/webhooks/{id}",
        "delete_webhook",
        "webhooks",
        "Deletes an endpoint and its pending deliveries.",
        who,
        NoBody,
        Reply::Empty,
        delete(remove),
    )
    .route(
        Method::POST,
        "/api/v1/webhooks/{id}/rotate",
        "rotate_webhook_secret",
        "webhooks",
        "A new signing secret, shown once; the old one also signs for 24 hours.",
        who,
        NoBody,
        Reply::Json(200, schema::<CreatedWebhook>),
        post(rotate),
    )
    .route(
        Method::POST,
        "/api/v1/webhooks/{id}/test",
        "test_webhook",
        "webhooks",
        "Sends the endpoint a `webhook.test` event now.",
        who,
        NoBody,
        Reply::Json(202, schema::<DeliveryOut>),
        post(test),
    )
    .route(
        Method::GET,
        "/api/v1/webhooks/{id}/deliveries",
        "list_webhook_deliveries",
        "webhooks",
        "The endpoint's latest deliveries, newest first, each with its attempts.",
        who,
        NoBody,
        Reply::Json(200, schema::<DeliveryList>),
        get(deliveries),
    )
    .query(schema::<DeliveriesQuery>)
    .route(
        Method::POST,
        "/api/v1/webhook-deliveries/{id}/redeliver",
        "redeliver_webhook",
        "webhooks",
        "Sends a delivery again now (its earlier attempts are kept).",
        who,
        NoBody,
        Reply::Json(202, schema::<DeliveryOut>),
        post(redeliver),
    )
}

/// A new endpoint.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `https://` (or `http://` where `webhooks.allow_insecure`), up to 2,000 characters.
    #[schemars(length(max = 2000))]
    url: String,
    #[serde(default)]
    #[schemars(length(max = 200))]
    description: String,
    /// Event types it takes (docs/events.md); every type when empty.
    #[serde(default)]
    #[schemars(length(max = 30))]
    types: Vec<String>,
    #[serde(default = "yes")]
    enabled: bool,
    /// The shop it is for: the caller's own shop by default; an admin names one, or none for the
    /// platform's endpoint (every shop's events).
    #[serde(default)]
    shop: Option<ShopId>,
}

fn yes() -> bool {
    true
}

/// What to change.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    #[schemars(length(max = 2000))]
    url: Option<String>,
    #[schemars(length(max = 200))]
    description: Option<String>,
    #[schemars(length(max = 30))]
    types: Option<Vec<String>>,
    enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// For an admin: a shop's endpoints instead of the platform's.
    #[schemars(range(min = 1))]
    shop: Option<i64>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// 1 to 200 (50 without it).
    #[schemars(range(min = 1, max = 200))]
    limit: Option<usize>,
}

/// An endpoint (never its secret).
#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookOut {
    id: i64,
    /// The shop whose events it gets; null for the platform's (every shop's).
    shop_id: Option<ShopId>,
    url: String,
    description: String,
    /// The event types it takes; empty for every type.
    types: Vec<String>,
    enabled: bool,
    /// Why it was disabled, when the service disabled it.
    disabled_reason: Option<String>,
    /// Since when its attempts have failed without a success.
    failing_since: Option<Timestamp>,
    /// Until when the secret before the last rotation also signs.
    previous_secret_until: Option<Timestamp>,
    created_at: Timestamp,
}

impl From<WebhookEndpoint> for WebhookOut {
    fn from(e: WebhookEndpoint) -> WebhookOut {
        WebhookOut {
            id: e.id,
            shop_id: e.shop,
            url: e.url,
            description: e.description,
            types: e.types,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since.map(Timestamp),
            previous_secret_until: e.old_secret.map(|(_, until)| Timestamp(until)),
            created_at: Timestamp(e.created_at),
        }
    }
}

/// An endpoint with its signing secret: shown this once (the service keeps it sealed).
#[derive(Debug, Serialize, JsonSchema)]
pub struct CreatedWebhook {
    endpoint: WebhookOut,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it (Standard Webhooks).
    secret: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookList {
    items: Vec<WebhookOut>,
}

/// One event sent (or to be sent) to one endpoint.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeliveryOut {
    id: i64,
    endpoint_id: i64,
    /// The event's id: the `webhook-id` header, the same on every attempt.
    event_id: String,
    event_type: String,
    /// `pending`, `succeeded` or `failed`.
    status: String,
    attempts: u32,
    /// When it is next tried (while pending).
    next_at: Timestamp,
    created_at: Timestamp,
    done_at: Option<Timestamp>,
    /// Every attempt, oldest first.
    log: Vec<AttemptOut>,
}

/// One attempt.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AttemptOut {
    attempt: u32,
    at: Timestamp,
    /// The receiver's status; null when there was no answer.
    status_code: Option<u16>,
    latency_ms: i64,
    /// The first 1 kB of the answer.
    response: String,
    /// Why there was no answer (timeout, connection, a refused target).
    error: Option<String>,
}

impl DeliveryOut {
    fn new(d: WebhookDelivery, attempts: Vec<WebhookAttempt>) -> DeliveryOut {
        DeliveryOut {
            id: d.id,
            endpoint_id: d.endpoint,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status.as_str().to_string(),
            attempts: d.attempts,
            next_at: Timestamp(d.next_at),
            created_at: Timestamp(d.created_at),
            done_at: d.done_at.map(Timestamp),
            log: attempts
                .into_iter()
                .map(|a| AttemptOut {
                    attempt: a.attempt,
                    at: Timestamp(a.at),
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    response: a.response,
                    error: a.error,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeliveryList {
    items: Vec<DeliveryOut>,
}

fn wall_ms() -> i64 {
    aftersale_engine::runner::wall_ms()
}

fn internal(e: String) -> ApiError {
    let id = crate::request_id::next();
    tracing::error!(request_id = %id, error = %e, "webhook secret");
    ApiError::internal(&id)
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<NewWebhook>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    let (secret, sealed) = state.webhooks.new_secret().map_err(internal)?;
    let owner = input.shop.or(caller.shop());
    let new = NewEndpoint {
        url: input.url,
        description: input.description,
        types: input.types,
        enabled: input.enabled,
        sealed_secret: sealed,
    };
    let (sender, rules) = (caller.sender(), state.webhooks.rules.clone());
    let e = state.run(move |e| e.create_webhook_as(&sender, owner, new, &rules, wall_ms())).await?;
    Ok((StatusCode::CREATED, Json(CreatedWebhook { endpoint: e.into(), secret })))
}

async fn list(State(state): State<AppState>, caller: Caller, uri: axum::http::Uri) -> ApiResult<Json<WebhookList>> {
    let q: ListQuery = query(uri.query())?;
    if q.shop.is_some_and(|s| s < 1) {
        return Err(bad_query("shop", "shop is a positive id"));
    }
    let owner = q.shop.map(ShopId).or(caller.shop());
    let sender = caller.sender();
    let items = state.run(move |e| e.webhooks_as(&sender, owner)).await?;
    Ok(Json(WebhookList { items: items.into_iter().map(WebhookOut::from).collect() }))
}

async fn one(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<WebhookOut>> {
    let (id, sender) = (path_id(&id, "webhook")?, caller.sender());
    Ok(Json(state.run(move |e| e.webhook_as(&sender, id)).await?.into()))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<WebhookChange>,
) -> ApiResult<Json<WebhookOut>> {
    let (id, sender, rules) = (path_id(&id, "webhook")?, caller.sender(), state.webhooks.rules.clone());
    let change =
        EndpointChange { url: input.url, description: input.description, types: input.types, enabled: input.enabled };
    Ok(Json(state.run(move |e| e.update_webhook_as(&sender, id, change, &rules)).await?.into()))
}

async fn remove(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let (id, sender) = (path_id(&id, "webhook")?, caller.sender());
    state.run(move |e| e.delete_webhook_as(&sender, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CreatedWebhook>> {
    let (id, sender) = (path_id(&id, "webhook")?, caller.sender());
    let (secret, sealed) = state.webhooks.new_secret().map_err(internal)?;
    let e = state.run(move |e| e.rotate_webhook_secret_as(&sender, id, sealed, wall_ms())).await?;
    Ok(Json(CreatedWebhook { endpoint: e.into(), secret }))
}

async fn test(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<DeliveryOut>)> {
    let (id, sender) = (path_id(&id, "webhook")?, caller.sender());
    let d = state.run(move |e| e.test_webhook_as(&sender, id, wall_ms())).await?;
    Ok((StatusCode::ACCEPTED, Json(DeliveryOut::new(d, Vec::new()))))
}

async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    uri: axum::http::Uri,
) -> ApiResult<Json<DeliveryList>> {
    let q: DeliveriesQuery = query(uri.query())?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(bad_query("limit", "limit is 1-200"));
    }
    let (id, sender) = (path_id(&id, "webhook")?, caller.sender());
    let found = state.run(move |e| e.webhook_deliveries_as(&sender, id, limit)).await?;
    Ok(Json(DeliveryList { items: found.into_iter().map(|(d, a)| DeliveryOut::new(d, a)).collect() }))
}

async fn redeliver(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<DeliveryOut>)> {
    let (id, sender) = (path_id(&id, "delivery")?, caller.sender());
    let d = state.run(move |e| e.redeliver_webhook_as(&sender, id, wall_ms())).await?;
    Ok((StatusCode::ACCEPTED, Json(DeliveryOut::new(d, Vec::new()))))
}
