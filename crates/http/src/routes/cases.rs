//! Cases: the buyer's application, every case command (one documented path per action), the
//! return parcel's logistics update and the case page.

use super::{
    idempotency_key, if_match, parse_json, path_id, schema, ActionDoc, Api, BodyDoc, JsonBody, RawBody, Reply,
};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::ReturnTo;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use schemars::JsonSchema;
use serde::Deserialize;

use super::orders::{json_content, tagged, unknown_action};

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    api.route(
        Method::POST,
        "/api/v1/orders/{order}/cases",
        "apply",
        "cases",
        "A buyer applies for after-sales on an order (U1, S1, R1).",
        "the order's buyer",
        Json(schema::<ApplyOf<EvidenceRef>>),
        Reply::Json(201, schema::<wire::CasePage>),
        post(apply),
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
    let case = apply_on(&state, &caller, id, cmd, key).await?;
    let page = detail(&state, &caller, case.id).await?;
    Ok((StatusCode::CREATED, Json(page)).into_response())
}

/// A buyer's application, checked and resolved (E4) the same way for the JSON API and the pages.
pub(crate) async fn apply_on(
    state: &AppState,
    caller: &Caller,
    id: OrderId,
    cmd: ApplyOf<EvidenceRef>,
    key: Option<aftersale_engine::IdemKey>,
) -> ApiResult<Case> {
    check_refs(&cmd.evidence)?;
    let (actor, user) = (caller.actor, caller.user.id);
    let case = state
        .run(move |e| {
            let cmd = e.resolve_application(actor, user, cmd)?;
            e.apply(actor, id, cmd, key)
        })
        .await?;
    state.metrics.command("apply");
    Ok(case)
}

/// The bounds the document states for evidence references (400 when broken); whether each is
/// the caller's upload is the engine's E4 check (422).
fn check_refs(items: &[EvidenceRef]) -> ApiResult<()> {
    for (i, r) in items.iter().enumerate() {
        r.validate().map_err(|e| ApiError::bad(&format!("evidence[{i}]"), e))?;
    }
    if items.len() > 20 {
        return Err(ApiError::bad("evidence", "at most 20 files"));
    }
    Ok(())
}

/// Actions a caller may name: the core's own list less the system's (expiry, refund outcomes,
/// parcel signed), so an action added to the rules is served here without a second list.
pub(crate) fn is_caller_action(name: &str) -> bool {
    caller_actions().any(|a| a == name)
}

pub(crate) fn caller_actions() -> impl Iterator<Item = &'static str> {
    Action::ALL.into_iter().filter(|a| a.parties() != [Party::System]).map(|a| a.as_str())
}

/// Agree to the return (R2/R4): to an address of the shop's book, an address given here, or
/// (neither) the shop's default address.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AgreeReturnIn {
    #[serde(default)]
    address_id: Option<AddressId>,
    #[serde(default)]
    address: Option<Address>,
    #[serde(default)]
    refuse_freight_collect: bool,
}

/// W3: the order's flag colour, or null to clear it.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FlagIn {
    flag: Option<Flag>,
}

/// W4: the order's remark, shared by every case of the order.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RemarkIn {
    #[schemars(length(max = 500))]
    text: String,
}

async fn case_action(
    State(state): State<AppState>,
    caller: Caller,
    Path((case, action)): Path<(String, String)>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Json<wire::CommandAnswer>> {
    let id = CaseId(path_id(&case, "case")?);
    json_content(&headers, &body)?;
    let expected = if_match(&headers)?;
    let key = idempotency_key(&headers)?;
    let (case, governing) = act(&state, &caller, id, &action, &body, expected, key).await?;
    Ok(Json(command_result(&state, &caller, case, governing)))
}

/// One case action by name with its JSON body: what the JSON API and the pages both call, so
/// the body is parsed and checked, and the use-case chosen, in one place.
pub(crate) async fn act(
    state: &AppState,
    caller: &Caller,
    id: CaseId,
    action: &str,
    body: &[u8],
    expected: Option<u64>,
    key: Option<aftersale_engine::IdemKey>,
) -> ApiResult<(Case, Option<Deadline>)> {
    let actor = caller.actor;
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    let case = match action {
        "set_flag" => {
            let FlagIn { flag } = parse_json(body)?;
            state
                .run(move |e| {
                    e.set_flag_via_case(actor, id, flag)?;
                    with_deadline(e, e.case_view(actor, id).map(|(case, _, _)| case))
                })
                .await?
        }
        "set_order_remark" => {
            let RemarkIn { text } = parse_json(body)?;
            state
                .run(move |e| {
                    e.set_order_remark_via_case(actor, id, text)?;
                    with_deadline(e, e.case_view(actor, id).map(|(case, _, _)| case))
                })
                .await?
        }
        "agree_return" => {
            let input: AgreeReturnIn = parse_json(body)?;
            let to = match (input.address_id, input.address) {
                (Some(id), None) => ReturnTo::Book(id),
                (None, Some(address)) => ReturnTo::Given(address),
                (None, None) => ReturnTo::Default,
                (Some(_), Some(_)) => {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_value",
                        "give address_id or address, not both",
                    )
                    .field("address"))
                }
            };
            let refuse = input.refuse_freight_collect;
            state.run(move |e| with_deadline(e, e.agree_return_to(actor, id, to, refuse, expected, key))).await?
        }
        a if is_caller_action(a) => {
            let cmd: CaseCommandOf<EvidenceRef> = tagged(a, body)?;
            check_refs(cmd.evidence())?;
            // Decided and written by the writer; nothing here waits on a thread for it.
            state.engine.case_command_async(actor, caller.user.id, id, cmd, expected, key).await?
        }
        _ => {
            let valid: Vec<&str> = caller_actions().chain(HTTP_CASE_ACTIONS).collect();
            return Err(unknown_action("case action", &valid));
        }
    };
    state.metrics.command(action);
    Ok(case)
}

/// Case actions the API adds to the core's commands: the order's flag and remark (W3, W4) seen
/// from a case, and `agree_return` with an address-book id.
const HTTP_CASE_ACTIONS: [&str; 2] = ["set_flag", "set_order_remark"];

/// One documented path per case action, each with its own body: the core's command variants,
/// and the API's own inputs where it adds to them.
fn case_action_docs() -> Vec<ActionDoc> {
    let mut bodies = crate::openapi::variant_bodies::<CaseCommandOf<EvidenceRef>>("command");
    bodies.insert("agree_return".into(), crate::openapi::inline_body::<AgreeReturnIn>());
    bodies.insert("set_flag".into(), crate::openapi::inline_body::<FlagIn>());
    bodies.insert("set_order_remark".into(), crate::openapi::inline_body::<RemarkIn>());
    caller_actions()
        .chain(HTTP_CASE_ACTIONS)
        .map(|name| ActionDoc {
            name,
            summary: format!(
                "Case action `{name}`; who may take it, and when, is in the case page's `available_actions`."
            ),
            body: bodies.get(name).cloned().unwrap_or_else(crate::openapi::empty_body),
        })
        .collect()
}

/// The case after a command, with the deadline that governs it now (from the shop's cached
/// policy), computed on the blocking thread that ran the command.
fn with_deadline(
    e: &aftersale_engine::Engine,
    r: Result<Case, aftersale_engine::EngineError>,
) -> Result<(Case, Option<Deadline>), aftersale_engine::EngineError> {
    let case = r?;
    let governing = e.governing_deadline(&case)?;
    Ok((case, governing))
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
