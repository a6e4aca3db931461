//! Operations: health and readiness, Prometheus metrics, the OpenAPI document, and the manual
//! clock (demo and tests only).

use super::{schema, Api, BodyDoc, JsonBody, Reply};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::answer::Json;
use crate::state::AppState;
use crate::wire;
use aftersale_core::Dur;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use schemars::JsonSchema;
use serde::Deserialize;

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    api.route(
        Method::GET,
        "/healthz",
        "healthz",
        "operations",
        "Liveness: the process answers.",
        "anyone",
        NoBody,
        Reply::Json(200, schema::<wire::Health>),
        get(healthz),
    )
    .route(
        Method::GET,
        "/readyz",
        "readyz",
        "operations",
        "Readiness: the database answers a read.",
        "anyone",
        NoBody,
        Reply::Json(200, schema::<wire::Health>),
        get(readyz),
    )
    .route(
        Method::GET,
        "/metrics",
        "metrics",
        "operations",
        "Prometheus metrics (text format).",
        "anyone",
        NoBody,
        Reply::Bytes(&["application/openmetrics-text"]),
        get(metrics),
    )
    .route(
        Method::GET,
        "/api/v1/openapi.json",
        "openapi",
        "operations",
        "This document.",
        "anyone",
        NoBody,
        Reply::Bytes(&["application/json"]),
        get(openapi),
    )
    .route(
        Method::GET,
        "/api/v1/admin/clock",
        "get_clock",
        "admin",
        "The service clock.",
        "agent, admin",
        NoBody,
        Reply::Json(200, schema::<wire::ClockView>),
        get(get_clock),
    )
    .route(
        Method::POST,
        "/api/v1/admin/clock/advance",
        "advance_clock",
        "admin",
        "Moves the manual clock forward and fires what came due (demo mode only).",
        "admin",
        Json(schema::<ClockAdvance>),
        Reply::Json(200, schema::<wire::ClockView>),
        post(advance_clock),
    )
}

async fn healthz() -> Json<wire::Health> {
    Json(wire::Health { status: "ok".into() })
}

async fn readyz(State(state): State<AppState>) -> ApiResult<Json<wire::Health>> {
    match state.run(|e| e.read(|tx| tx.next_due())).await {
        Ok(_) => Ok(Json(wire::Health { status: "ready".into() })),
        Err(_) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the store does not answer")),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let lag = state
        .run(|e| {
            let now = e.now();
            Ok(e.read(|tx| tx.next_due())?.map(|due| ((now.0 - due.0).max(0)) as f64 / 1000.0).unwrap_or(0.0))
        })
        .await
        .unwrap_or(0.0);
    let mut res = state.metrics.render(lag).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    res
}

async fn openapi() -> Response {
    let mut res = crate::openapi::served().into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

async fn get_clock(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<wire::ClockView>> {
    let now = state.engine.clock_as(&caller.sender())?;
    Ok(Json(wire::ClockView { now, manual: state.manual_clock.is_some(), fired: None }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ClockAdvance {
    /// How far to move the clock: `6h`, `2d`, `1w`, `1 day 12 hours` (1 ms to 366 days).
    by: Dur,
}

async fn advance_clock(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ClockAdvance>,
) -> ApiResult<Json<wire::ClockView>> {
    let (now, fired) = crate::services::advance_clock(&state, &caller, body.by).await?;
    Ok(Json(wire::ClockView { now, manual: true, fired: Some(fired) }))
}
