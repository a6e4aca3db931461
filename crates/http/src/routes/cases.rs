//! Cases: the buyer's application, every case command (one documented path per action), the
//! return parcel's logistics update and the case page.

use super::{idempotency_key, if_match, path_id, schema, ActionDoc, Api, BodyDoc, JsonBody, RawBody, Reply};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::routes::answer::Json;
use crate::state::AppState;
use crate::wire;
use aftersale_core::values::*;
use aftersale_core::*;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::input::actions::{case_action_names, json_content, AgreeReturnIn, FlagIn, MessageIn, ProposeIn, RemarkIn};

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    api.route(
        Method::POST,
        "/api/v1/orders/{order}/cases",
        "apply",
        "cases",
        "A buyer applies for after-sales on an order (U1, S1, R1); a platform agent may open a case for the \
         order's buyer, outside the return windows too (C1).",
        "the order's buyer, agent",
        Json(schema::<ApplyOf<EvidenceRef>>),
        Reply::Json(201, schema::<wire::CasePage>),
        post(apply),
    )
    .route(
        Method::POST,
        "/api/v1/orders/{order}/refunds",
        "merchant_refund",
        "cases",
        "The shop refunds the buyer of its own accord (C1: out of stock, goodwill, a price correction): \
         no review, within what the units can refund (L2); the buyer is told.",
        "the order's shop (owner, staff)",
        Json(schema::<MerchantRefund>),
        Reply::Json(201, schema::<wire::CasePage>),
        post(merchant_refund),
    )
    .route(
        Method::GET,
        "/api/v1/cases/{case}",
        "get_case",
        "cases",
        "A case with its order, deadline, the caller's actions, evidence, remarks, log and thread.",
        "its buyer, its shop, agent, admin",
        NoBody,
        Reply::Json(200, schema::<wire::CasePage>),
        get(get_case),
    )
    .route(
        Method::POST,
        "/api/v1/cases/{case}/actions/{action}",
        "case_action",
        "cases",
        "A command on a case by buyer, merchant staff or platform agent; If-Match and Idempotency-Key honoured.",
        "by rule",
        Json(schema::<CaseCommandOf<EvidenceRef>>),
        Reply::Json(200, schema::<wire::CommandAnswer>),
        post(case_action),
    )
    .actions(case_action_docs())
    .route(
        Method::POST,
        "/api/v1/cases/{case}/return-logistics",
        "return_logistics",
        "cases",
        "A logistics update on the return parcel: signed or not (M3).",
        "the shop's staff (integration), agent, admin",
        Json(schema::<ReturnLogisticsIn>),
        Reply::Json(200, schema::<wire::CasePage>),
        post(return_logistics),
    )
    .route(
        Method::POST,
        "/api/v1/cases/{case}/replacement-logistics",
        "replacement_logistics",
        "cases",
        "A logistics update on the replacement or resend parcel: delivered or not (K1, K2).",
        "the shop's staff (integration), agent, admin",
        Json(schema::<ReplacementLogisticsIn>),
        Reply::Json(200, schema::<wire::CasePage>),
        post(replacement_logistics),
    )
    .route(
        Method::POST,
        "/api/v1/cases/{case}/intercept-logistics",
        "intercept_logistics",
        "cases",
        "The carrier's answer on a parcel the shop asked it to stop (I1): stopped (with its cost), failed \
         (with why), or returned to the shop (the refund proceeds).",
        "the shop's staff (integration), agent, admin",
        Json(schema::<InterceptLogisticsIn>),
        Reply::Json(200, schema::<wire::CasePage>),
        post(intercept_logistics),
    )
}

async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    Path(order): Path<String>,
    headers: HeaderMap,
    JsonBody(cmd): JsonBody<ApplyOf<EvidenceRef>>,
) -> ApiResult<Response> {
    let id = OrderId(path_id(&order, "order")?);
    let key = idempotency_key(&headers)?;
    let case = crate::services::apply(&state, &caller, id, cmd, key).await?;
    let page = detail(&state, &caller, case.id).await?;
    Ok((StatusCode::CREATED, Json(page)).into_response())
}

async fn merchant_refund(
    State(state): State<AppState>,
    caller: Caller,
    Path(order): Path<String>,
    headers: HeaderMap,
    JsonBody(cmd): JsonBody<MerchantRefund>,
) -> ApiResult<Response> {
    let id = OrderId(path_id(&order, "order")?);
    let key = idempotency_key(&headers)?;
    let case = crate::services::merchant_refund(&state, &caller, id, cmd, key).await?;
    let page = detail(&state, &caller, case.id).await?;
    Ok((StatusCode::CREATED, Json(page)).into_response())
}

async fn case_action(
    State(state): State<AppState>,
    caller: Caller,
    Path((case, action)): Path<(String, String)>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    let id = CaseId(path_id(&case, "case")?);
    json_content(&headers, &body)?;
    let expected = if_match(&headers)?;
    let key = idempotency_key(&headers)?;
    let answer = crate::services::case_action(&state, &caller, id, &action, &body, expected, key).await?;
    let mut res = Json(command_result(&state, &caller, answer.case, answer.governing)).into_response();
    if answer.replayed {
        // A repeat of a request already done (same Idempotency-Key): the first answer, again.
        res.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// One documented path per case action, each with its own body: the core's command variants,
/// and the API's own inputs where it adds to them.
fn case_action_docs() -> Vec<ActionDoc> {
    let mut bodies = crate::openapi::variant_bodies::<CaseCommandOf<EvidenceRef>>("command");
    bodies.insert("agree_return".into(), crate::openapi::inline_body::<AgreeReturnIn>());
    bodies.insert("propose".into(), crate::openapi::inline_body::<ProposeIn>());
    bodies.insert("post_message".into(), crate::openapi::inline_body::<MessageIn>());
    bodies.insert("set_flag".into(), crate::openapi::inline_body::<FlagIn>());
    bodies.insert("set_order_remark".into(), crate::openapi::inline_body::<RemarkIn>());
    case_action_names()
        .map(|name| ActionDoc {
            name,
            summary: format!(
                "Case action `{name}`; who may take it, and when, is in the case page's `available_actions`."
            ),
            body: bodies.get(name).cloned().unwrap_or_else(crate::openapi::empty_body),
        })
        .collect()
}

/// What a case command answers: the case after it, where it stands and what governs it now.
/// (The full page, with the caller's actions and the log, is `GET /cases/{id}`.)
fn command_result(state: &AppState, caller: &Caller, case: Case, governing: Option<Deadline>) -> wire::CommandAnswer {
    let now = state.engine.now();
    wire::CommandAnswer {
        status: case.status.name(),
        queue: case.queue(),
        version: case.version,
        deadline: governing.map(|d| wire::DeadlineView::new(&case, d, now)),
        case: wire::CaseView::new(&caller.actor, &case),
    }
}

/// A logistics update on the return parcel (M3).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ReturnLogisticsIn {
    signed: bool,
}

async fn return_logistics(
    State(state): State<AppState>,
    caller: Caller,
    Path(case): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ReturnLogisticsIn>,
) -> ApiResult<Json<wire::CasePage>> {
    let id = CaseId(path_id(&case, "case")?);
    let key = idempotency_key(&headers)?;
    let (sender, signed) = (caller.sender(), body.signed);
    state.run(move |e| e.return_parcel_report(sender, id, signed, key)).await?;
    if signed {
        state.metrics.command("return_parcel_signed");
    }
    Ok(Json(detail(&state, &caller, id).await?))
}

/// A logistics update on the parcel the shop sent (K1, K2).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ReplacementLogisticsIn {
    delivered: bool,
}

async fn replacement_logistics(
    State(state): State<AppState>,
    caller: Caller,
    Path(case): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ReplacementLogisticsIn>,
) -> ApiResult<Json<wire::CasePage>> {
    let id = CaseId(path_id(&case, "case")?);
    let key = idempotency_key(&headers)?;
    let (sender, delivered) = (caller.sender(), body.delivered);
    state.run(move |e| e.replacement_parcel_report(sender, id, delivered, key)).await?;
    if delivered {
        state.metrics.command("replacement_delivered");
    }
    Ok(Json(detail(&state, &caller, id).await?))
}

/// I1: what the carrier did with the parcel the shop asked it to stop.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum InterceptOutcome {
    Stopped,
    Failed,
    Returned,
}

/// A logistics update on an intercepted parcel (I1).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct InterceptLogisticsIn {
    result: InterceptOutcome,
    /// Why the carrier could not stop it (`failed`).
    #[serde(default)]
    #[schemars(length(max = 500))]
    reason: String,
    /// What the intercept cost.
    #[serde(default)]
    cost: Option<Money>,
}

async fn intercept_logistics(
    State(state): State<AppState>,
    caller: Caller,
    Path(case): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<InterceptLogisticsIn>,
) -> ApiResult<Json<wire::CasePage>> {
    use aftersale_engine::feeds::InterceptReport;
    let id = CaseId(path_id(&case, "case")?);
    let key = idempotency_key(&headers)?;
    let report = match body.result {
        InterceptOutcome::Stopped => InterceptReport::Stopped { cost: body.cost },
        InterceptOutcome::Failed => InterceptReport::Failed { reason: body.reason, cost: body.cost },
        InterceptOutcome::Returned => InterceptReport::Returned,
    };
    let sender = caller.sender();
    state.run(move |e| e.intercept_report(sender, id, report, key)).await?;
    state.metrics.command("intercept_result");
    Ok(Json(detail(&state, &caller, id).await?))
}

/// The case page: everything a party needs on one screen, read in one transaction.
pub(crate) async fn detail(state: &AppState, caller: &Caller, id: CaseId) -> ApiResult<wire::CasePage> {
    let actor = caller.actor;
    let sheet = state.run(move |e| e.case_sheet(actor, id)).await?;
    Ok(wire::CasePage::new(&actor, sheet))
}

async fn get_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(case): Path<String>,
) -> ApiResult<Json<wire::CasePage>> {
    let id = CaseId(path_id(&case, "case")?);
    Ok(Json(detail(&state, &caller, id).await?))
}
