//! Batch case actions: up to `server.batch_max` (100) actions in one request, each taken as the
//! single action would be (`services::case_action`: the same parsing, authorization, rules and
//! idempotency), each answered on its own — done with the case's new version, or refused with
//! its problem. Items run side by side, so they share group commits; an item never depends on
//! another.

use super::{schema, Api, BodyDoc, JsonBody, Reply};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::answer::Json;
use crate::state::AppState;
use aftersale_core::values::CaseId;
use aftersale_engine::IdemKey;
use axum::extract::State;
use axum::http::Method;
use axum::routing::post;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub fn routes(api: Api) -> Api {
    api.route(
        Method::POST,
        "/api/v1/cases/batch",
        "batch_case_actions",
        "cases",
        "Up to `server.batch_max` (100) case actions, each answered on its own: done with the case's new \
         version, or refused with its problem. Each item is the single action's request.",
        "any logged-in user (each item as its single action)",
        BodyDoc::Json(schema::<BatchIn>),
        Reply::Json(200, schema::<BatchOut>),
        post(batch),
    )
}

/// The actions to take.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchIn {
    #[schemars(length(min = 1, max = 1000))]
    items: Vec<BatchItem>,
}

/// One action, as `POST /api/v1/cases/{case}/actions/{action}` would take it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    case: CaseId,
    /// The action's name (`refund`, `agree_return`, `reject`, …).
    #[schemars(length(max = 64))]
    action: String,
    /// The action's body (`{}` when it takes none).
    #[serde(default)]
    body: Option<serde_json::Value>,
    /// The case version the caller saw (the single action's `If-Match`).
    #[serde(default)]
    #[schemars(range(min = 0, max = 9_007_199_254_740_991u64))]
    if_match: Option<u64>,
    /// The item's own idempotency key: sent again, the item answers its first outcome.
    #[serde(default)]
    #[schemars(regex(pattern = r"^[!-~]{1,200}$"))]
    idempotency_key: Option<String>,
}

/// One answer per item, in the items' order.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BatchOut {
    items: Vec<BatchResult>,
}

/// What one item came to.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BatchResult {
    case: CaseId,
    action: String,
    /// 200 when done; otherwise the status the single action would have answered.
    status: u16,
    /// When done: the case's version and status after the action.
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    case_status: Option<aftersale_core::StatusName>,
    /// The item was a repeat (same idempotency key): nothing was done now.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    replayed: bool,
    /// When refused: the problem, as the single action would have answered it.
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<serde_json::Value>,
}

/// The largest version an item may name: the largest integer a JSON number holds exactly.
const MAX_VERSION: u64 = 9_007_199_254_740_991;

async fn batch(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<BatchIn>,
) -> ApiResult<Json<BatchOut>> {
    let max = state.config.server.batch_max.max(1);
    if input.items.is_empty() {
        return Err(ApiError::bad("items", "at least one item"));
    }
    // The bounds the document states, for every item before any runs (a malformed batch
    // changes nothing).
    for (i, item) in input.items.iter().enumerate() {
        if item.action.chars().count() > 64 {
            return Err(ApiError::bad(&format!("items[{i}].action"), "at most 64 characters"));
        }
        let key_ok = |k: &String| (1..=200).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic());
        if item.idempotency_key.as_ref().is_some_and(|k| !key_ok(k)) {
            return Err(ApiError::bad(&format!("items[{i}].idempotency_key"), "1 to 200 visible ASCII characters"));
        }
        // A version is an integer JSON numbers carry exactly (as the single action's If-Match).
        if item.if_match.is_some_and(|v| v > MAX_VERSION) {
            return Err(ApiError::bad(&format!("items[{i}].if_match"), format!("at most {MAX_VERSION}")));
        }
    }
    if input.items.len() > max {
        // Well-formed, but more than this deployment takes in one batch (`server.batch_max`).
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            format!("at most {max} items in one batch"),
        )
        .field("items"));
    }
    let heads: Vec<(CaseId, String)> = input.items.iter().map(|i| (i.case, i.action.clone())).collect();
    let calls = input
        .items
        .into_iter()
        .map(|item| crate::services::BatchCall {
            case: item.case,
            action: item.action,
            body: item.body.map(|v| serde_json::to_vec(&v).unwrap_or_default()).unwrap_or_default(),
            expected: item.if_match,
            key: item.idempotency_key.map(IdemKey),
        })
        .collect();
    let outcomes = crate::services::case_actions(&state, &caller, calls).await;
    let items =
        heads.into_iter().zip(outcomes).map(|((case, action), outcome)| result(case, action, outcome)).collect();
    Ok(Json(BatchOut { items }))
}

/// One item's answer.
fn result(case: CaseId, action: String, outcome: ApiResult<aftersale_engine::ActionAnswer>) -> BatchResult {
    match outcome {
        Ok(answer) => BatchResult {
            case,
            action,
            status: 200,
            version: Some(answer.case.version),
            case_status: Some(answer.case.status.name()),
            replayed: answer.replayed,
            problem: None,
        },
        Err(e) => BatchResult {
            case,
            action,
            status: e.0.status,
            version: None,
            case_status: None,
            replayed: false,
            problem: serde_json::to_value(&*e.0).ok(),
        },
    }
}
