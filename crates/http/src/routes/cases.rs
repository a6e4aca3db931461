//! Orders (ingestion from integrations, order actions), cases (apply, every command, detail,
//! queues, search), evidence upload and download, message boxes and the SMS outbox.

use super::{idempotency_key, if_match, parse_json, path_id, redact_for, to_value, Api, BodyDoc, JsonBody, RawBody};
use crate::auth::{sha256_hex, Caller};
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::state::AppState;
use aftersale_core::notice::Recipient;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::{CaseCursor, CaseQuery, CaseSort, EvidenceObject, Role};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    api.route(
        Method::POST,
        "/api/v1/shops/{shop}/orders",
        "create_order",
        "orders",
        "Ingests an order from an integration (O1).",
        "the shop's staff, agent, admin",
        Json("NewOrder"),
        Some("Order"),
        post(create_order),
    )
    .route(
        Method::GET,
        "/api/v1/orders/{order}",
        "get_order",
        "orders",
        "An order.",
        "its buyer, its shop, agent, admin",
        NoBody,
        Some("Order"),
        get(get_order),
    )
    .route(
        Method::POST,
        "/api/v1/orders/{order}/actions/{action}",
        "order_action",
        "orders",
        "An order action: pay, confirm, ship, deliver, complete, cancel, set_flag, set_remark.",
        "by rule (O1-O4, W3, W4)",
        Json("OrderAction"),
        Some("Order"),
        post(order_action),
    )
    .route(
        Method::POST,
        "/api/v1/orders/{order}/cases",
        "apply",
        "cases",
        "A buyer applies for after-sales on an order (U1, S1, R1).",
        "the order's buyer",
        Json("Apply"),
        Some("CaseDetail"),
        post(apply),
    )
    .route(
        Method::GET,
        "/api/v1/cases",
        "search_cases",
        "cases",
        "Cases the caller may see: queues, search, filters, cursor pages (W1, W2).",
        "any logged-in user",
        NoBody,
        Some("CasePage"),
        get(search),
    )
    .route(
        Method::GET,
        "/api/v1/queues",
        "queue_counts",
        "cases",
        "Cases per queue for a shop (W1).",
        "shop staff; agent, admin with ?shop=",
        NoBody,
        Some("QueueCounts"),
        get(queues),
    )
    .route(
        Method::GET,
        "/api/v1/cases/{case}",
        "get_case",
        "cases",
        "A case with its order, deadline, the caller's actions, evidence, remarks, log and thread.",
        "its buyer, its shop, agent, admin",
        NoBody,
        Some("CaseDetail"),
        get(get_case),
    )
    .route(
        Method::POST,
        "/api/v1/cases/{case}/actions/{action}",
        "case_action",
        "cases",
        "A command on a case by buyer, merchant staff or platform agent; If-Match and Idempotency-Key honoured.",
        "by rule",
        Json("CaseAction"),
        Some("CaseDetail"),
        post(case_action),
    )
    .route(
        Method::POST,
        "/api/v1/cases/{case}/return-logistics",
        "return_logistics",
        "cases",
        "A logistics update on the return parcel: signed or not (M3).",
        "the shop's staff (integration), agent, admin",
        Json("ReturnLogistics"),
        Some("CaseDetail"),
        post(return_logistics),
    )
    .route(
        Method::GET,
        "/api/v1/cases/{case}/evidence/{key}",
        "case_evidence",
        "evidence",
        "An evidence file of the case.",
        "the case's parties, agent, admin",
        NoBody,
        None,
        get(case_evidence),
    )
    .route(
        Method::POST,
        "/api/v1/evidence",
        "upload_evidence",
        "evidence",
        "Uploads an evidence file (JPEG, PNG, WebP, MP4, PDF), checksummed; use the answer in a command.",
        "any logged-in user",
        Multipart,
        Some("Evidence"),
        post(upload_evidence).layer(axum::extract::DefaultBodyLimit::disable()),
    )
    .route(
        Method::GET,
        "/api/v1/evidence/{key}",
        "own_evidence",
        "evidence",
        "An evidence file the caller uploaded.",
        "its uploader",
        NoBody,
        None,
        get(own_evidence),
    )
    .route(
        Method::GET,
        "/api/v1/messages",
        "message_box",
        "notices",
        "The caller's message box with unread counts per category (X1).",
        "any logged-in user",
        NoBody,
        Some("MessageBox"),
        get(message_box),
    )
    .route(
        Method::POST,
        "/api/v1/messages/read",
        "mark_read",
        "notices",
        "Marks message-box entries read (X1).",
        "any logged-in user",
        Json("MarkRead"),
        Some("Marked"),
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
        Some("SmsList"),
        get(sms_outbox),
    )
}

// ---------------------------------------------------------------------------------------------
// Orders

fn check_money(field: &str, m: &Money, positive: bool) -> ApiResult<()> {
    if m.minor < 0 {
        return Err(ApiError::bad(field, format!("{field} must not be negative")));
    }
    if positive && m.minor == 0 {
        return Err(ApiError::bad(field, format!("{field} must be above zero")));
    }
    if m.minor > money::MAX_MINOR {
        return Err(ApiError::bad(field, format!("{field} is above the maximum {}", money::MAX_MINOR)));
    }
    Ok(())
}

async fn create_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    headers: HeaderMap,
    JsonBody(new): JsonBody<NewOrder>,
) -> ApiResult<Response> {
    caller.require(&[Role::Owner, Role::Staff, Role::Agent, Role::Admin])?;
    let shop = ShopId(path_id(&shop, "shop")?);
    if !caller.is_platform() && caller.shop() != Some(shop) {
        return Err(ApiError::not_found("shop"));
    }
    check_money("total", &new.total, true)?;
    check_money("shipping_fee", &new.shipping_fee, false)?;
    if new.shipping_fee.currency != new.total.currency {
        return Err(ApiError::bad("shipping_fee", "shipping_fee must be in the order's currency"));
    }
    if new.shipping_fee.minor > new.total.minor {
        return Err(ApiError::bad("shipping_fee", "shipping_fee is above the total"));
    }
    let key = idempotency_key(&headers)?;
    let actor = caller.actor;
    let order = state.run(move |e| e.create_order(actor, shop, new, key)).await?;
    state.metrics.command("create_order");
    Ok((StatusCode::CREATED, Json(order_view(&caller, &order)?)).into_response())
}

/// W6: merchants see the customer's phone masked; the buyer and the platform in full.
fn order_view(caller: &Caller, order: &Order) -> ApiResult<Value> {
    let mut v = to_value(order)?;
    if matches!(caller.actor, Actor::Merchant { .. }) {
        if let Some(c) = v.get_mut("customer").and_then(Value::as_object_mut) {
            c.insert("phone".into(), Value::String(order.customer.phone.masked()));
        }
    }
    Ok(redact_for(caller, v))
}

async fn get_order(State(state): State<AppState>, caller: Caller, Path(order): Path<String>) -> ApiResult<Json<Value>> {
    let id = OrderId(path_id(&order, "order")?);
    let actor = caller.actor;
    let order = state.run(move |e| e.order_view(actor, id)).await?;
    Ok(Json(order_view(&caller, &order)?))
}

const ORDER_ACTIONS: [&str; 8] = ["pay", "confirm", "ship", "deliver", "complete", "cancel", "set_flag", "set_remark"];

/// Parses `{...}` into the tagged command `action`, refusing unknown fields.
fn tagged<T: serde::de::DeserializeOwned + serde::Serialize>(action: &str, body: &[u8]) -> ApiResult<T> {
    let mut map: Map<String, Value> =
        if body.iter().all(u8::is_ascii_whitespace) { Map::new() } else { parse_json(body)? };
    if map.contains_key("command") {
        return Err(ApiError::bad("command", "the action is named in the path, not the body"));
    }
    prevalidate(&map)?;
    map.insert("command".into(), Value::String(action.to_string()));
    let bytes =
        serde_json::to_vec(&Value::Object(map.clone())).map_err(|_| ApiError::internal(&crate::request_id::next()))?;
    let parsed: T = parse_json(&bytes)?;
    // Serde lets unit variants of a tagged enum ignore extra fields; refuse them here.
    let known = serde_json::to_value(&parsed).map_err(|_| ApiError::internal(&crate::request_id::next()))?;
    if let Some(extra) = map.keys().find(|k| known.get(k.as_str()).is_none()) {
        return Err(ApiError::bad(extra, format!("unknown field `{extra}` for {action}")));
    }
    Ok(parsed)
}

/// Serde loses the path inside a tagged enum; parse the typed fields on their own first so an
/// error names the field (`logistics.tracking_no`, `amount.currency`).
fn prevalidate(map: &Map<String, Value>) -> ApiResult<()> {
    fn check<T: serde::de::DeserializeOwned>(key: &str, v: &Value) -> ApiResult<()> {
        let bytes = serde_json::to_vec(v).map_err(|_| ApiError::internal(&crate::request_id::next()))?;
        parse_json::<T>(&bytes).map(|_| ()).map_err(|mut e| {
            let inner = e.0.field.take().filter(|f| f != ".");
            e.0.field = Some(match inner {
                Some(f) if f.starts_with('[') => format!("{key}{f}"),
                Some(f) => format!("{key}.{f}"),
                None => key.to_string(),
            });
            e
        })
    }
    for (k, v) in map {
        match k.as_str() {
            "logistics" => check::<Logistics>(k, v)?,
            "amount" => check::<Money>(k, v)?,
            "evidence" => check::<Vec<Evidence>>(k, v)?,
            "address" => check::<Address>(k, v)?,
            "refund_account" => check::<Option<RefundAccount>>(k, v)?,
            "kind" => check::<CaseType>(k, v)?,
            "flag" => check::<Option<Flag>>(k, v)?,
            "for_party" => check::<Party>(k, v)?,
            _ => {}
        }
    }
    Ok(())
}

fn json_content(headers: &HeaderMap, body: &[u8]) -> ApiResult<()> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim() == "application/json")
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ))
    }
}

async fn order_action(
    State(state): State<AppState>,
    caller: Caller,
    Path((order, action)): Path<(String, String)>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Json<Value>> {
    let id = OrderId(path_id(&order, "order")?);
    if !ORDER_ACTIONS.contains(&action.as_str()) {
        return Err(ApiError::not_found("order action").field("action"));
    }
    json_content(&headers, &body)?;
    let cmd: OrderCommand = tagged(&action, &body)?;
    let expected = if_match(&headers)?;
    let key = idempotency_key(&headers)?;
    // Payment, delivery and completion are reported by the payment gateway and logistics feeds:
    // the shop's integration or the platform reports them on the system's behalf.
    let actor = match cmd {
        OrderCommand::Pay | OrderCommand::Deliver | OrderCommand::Complete => {
            caller.require(&[Role::Owner, Role::Staff, Role::Agent, Role::Admin])?;
            let a = caller.actor;
            state.run(move |e| e.order_view(a, id)).await?;
            Actor::System
        }
        _ => caller.actor,
    };
    let order = state.run(move |e| e.order_command(actor, id, cmd, expected, key)).await?;
    state.metrics.command(&format!("order_{action}"));
    let mut res = order_view(&caller, &order)?;
    if let Some(m) = res.as_object_mut() {
        m.insert("version".into(), json!(order.version));
    }
    Ok(Json(res))
}

// ---------------------------------------------------------------------------------------------
// Cases

async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    Path(order): Path<String>,
    headers: HeaderMap,
    JsonBody(cmd): JsonBody<Apply>,
) -> ApiResult<Response> {
    let id = OrderId(path_id(&order, "order")?);
    check_money("amount", &cmd.amount, true)?;
    check_evidence(&state, &caller, cmd.evidence.iter().collect()).await?;
    let key = idempotency_key(&headers)?;
    let actor = caller.actor;
    let case = state.run(move |e| e.apply(actor, id, cmd, key)).await?;
    state.metrics.command("apply");
    let detail = detail(&state, &caller, case.id).await?;
    Ok((StatusCode::CREATED, Json(detail)).into_response())
}

/// Evidence named in a command must have been uploaded by the caller (or, for merchant staff,
/// by their shop), with the same checksum and kind: nobody can attach someone else's file.
async fn check_evidence(state: &AppState, caller: &Caller, items: Vec<&Evidence>) -> ApiResult<()> {
    for (i, ev) in items.into_iter().enumerate() {
        let field = format!("evidence[{i}]");
        ev.validate().map_err(|r| ApiError::bad(&field, r))?;
        let key = ev.key.clone();
        let found = state.run(move |e| e.evidence_object(&key)).await?;
        let Some(obj) = found else {
            return Err(ApiError::bad(&field, "unknown evidence key: upload the file first").rule("E4"));
        };
        let mine = obj.uploader == caller.user.id || (caller.shop().is_some() && obj.shop_id == caller.shop());
        if !mine {
            return Err(ApiError::bad(&field, "unknown evidence key: upload the file first"));
        }
        if obj.sha256 != ev.sha256 || obj.kind != ev.kind {
            return Err(ApiError::bad(&field, "sha256 or kind does not match the uploaded file"));
        }
    }
    Ok(())
}

fn command_evidence(cmd: &CaseCommand) -> Vec<&Evidence> {
    match cmd {
        CaseCommand::Resubmit { evidence, .. }
        | CaseCommand::AddEvidence { evidence }
        | CaseCommand::Reject { evidence, .. }
        | CaseCommand::SubmitEvidence { evidence, .. }
        | CaseCommand::UploadVoucher { evidence }
        | CaseCommand::Appeal { evidence, .. } => evidence.iter().collect(),
        _ => Vec::new(),
    }
}

/// Actions a caller may name; the system's own (expiry, refund outcomes, parcel signed) are not.
const CASE_ACTIONS: [&str; 24] = [
    "withdraw",
    "resubmit",
    "escalate",
    "submit_return_logistics",
    "accept_proposal",
    "decline_proposal",
    "add_evidence",
    "post_message",
    "refund",
    "reject_by_shipping",
    "reject",
    "agree_return",
    "received_refund",
    "extend_receipt",
    "remind_buyer",
    "propose",
    "submit_evidence",
    "upload_voucher",
    "appeal",
    "set_remark",
    "request_evidence",
    "rule",
    "review_appeal",
    "decide_appeal",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgreeReturnIn {
    #[serde(default)]
    address_id: Option<AddressId>,
    #[serde(default)]
    address: Option<Address>,
    #[serde(default)]
    refuse_freight_collect: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagIn {
    flag: Option<Flag>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemarkIn {
    text: String,
}

async fn case_action(
    State(state): State<AppState>,
    caller: Caller,
    Path((case, action)): Path<(String, String)>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Json<Value>> {
    let id = CaseId(path_id(&case, "case")?);
    json_content(&headers, &body)?;
    let expected = if_match(&headers)?;
    let key = idempotency_key(&headers)?;
    let actor = caller.actor;
    let body = if body.iter().all(u8::is_ascii_whitespace) { axum::body::Bytes::from_static(b"{}") } else { body };
    let case = match action.as_str() {
        "set_flag" => {
            let FlagIn { flag } = parse_json(&body)?;
            state.run(move |e| e.set_flag_via_case(actor, id, flag)).await?;
            None
        }
        "set_order_remark" => {
            let RemarkIn { text } = parse_json(&body)?;
            state.run(move |e| e.set_order_remark_via_case(actor, id, text)).await?;
            None
        }
        "agree_return" => {
            let input: AgreeReturnIn = parse_json(&body)?;
            match (input.address_id, input.address) {
                (Some(address_id), None) => Some(
                    state
                        .run(move |e| {
                            with_deadline(
                                e,
                                e.agree_return(actor, id, address_id, input.refuse_freight_collect, expected, key),
                            )
                        })
                        .await?,
                ),
                (None, address) => {
                    // No address: the shop's default (R2/R4), which the rules look up.
                    let cmd = match address {
                        Some(address) => {
                            CaseCommand::AgreeReturn { address, refuse_freight_collect: input.refuse_freight_collect }
                        }
                        None => {
                            let default = default_address(&state, &caller).await?;
                            CaseCommand::AgreeReturn {
                                address: default,
                                refuse_freight_collect: input.refuse_freight_collect,
                            }
                        }
                    };
                    Some(state.run(move |e| with_deadline(e, e.case_command(actor, id, cmd, expected, key))).await?)
                }
                (Some(_), Some(_)) => return Err(ApiError::bad("address", "give address_id or address, not both")),
            }
        }
        a if CASE_ACTIONS.contains(&a) => {
            let cmd: CaseCommand = tagged(a, &body)?;
            check_evidence(&state, &caller, command_evidence(&cmd)).await?;
            if let CaseCommand::Propose { amount, .. } | CaseCommand::Resubmit { amount, .. } = &cmd {
                check_money("amount", amount, true)?;
            }
            Some(state.run(move |e| with_deadline(e, e.case_command(actor, id, cmd, expected, key))).await?)
        }
        _ => return Err(ApiError::not_found("case action").field("action")),
    };
    state.metrics.command(&action);
    match case {
        Some((case, governing)) => Ok(Json(command_result(&state, &caller, case, governing))),
        // Order-level changes (flag, order remark): answer with the case page.
        None => Ok(Json(detail(&state, &caller, id).await?)),
    }
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

/// The deadline that governs a case: when it falls due, how long is left, and what the system
/// does when it passes (the core's `expiry_outcome`).
fn deadline_json(case: &Case, d: Deadline, now: Timestamp) -> Value {
    json!({
        "kind": d.kind.as_str(),
        "rule": d.kind.rule(),
        "due": d.due,
        "time_left_ms": (d.due.0 - now.0).max(0),
        "on_expiry": expiry_outcome(case, d.kind),
    })
}

/// What a case command answers: the case after it, where it stands and what governs it now.
/// (The full page, with the caller's actions and the log, is `GET /cases/{id}`.)
fn command_result(state: &AppState, caller: &Caller, case: Case, governing: Option<Deadline>) -> Value {
    let now = state.engine.now();
    let deadline = governing.map(|d| deadline_json(&case, d, now));
    let v = json!({
        "queue": case.queue().as_str(),
        "status": case.status.as_str(),
        "version": case.version,
        "deadline": deadline,
        "case": case,
    });
    redact_for(caller, v)
}

async fn default_address(state: &AppState, caller: &Caller) -> ApiResult<Address> {
    let Some(shop) = caller.shop() else {
        return Err(ApiError::from(aftersale_engine::EngineError::Refused(Refusal::NotAllowedFor {
            party: caller.actor.party(),
            action: "agree_return",
            rule: "R4",
        })));
    };
    let record = state.run(move |e| e.shop(shop)).await?;
    record
        .default_address
        .ok_or_else(|| ApiError::from(aftersale_engine::EngineError::Refused(Refusal::NoReturnAddress)))
}

#[derive(Deserialize)]
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
) -> ApiResult<Json<Value>> {
    caller.require(&[Role::Owner, Role::Staff, Role::Agent, Role::Admin])?;
    let id = CaseId(path_id(&case, "case")?);
    let actor = caller.actor;
    // Visibility first: another shop's case is a 404.
    state.run(move |e| e.case_view(actor, id)).await?;
    if body.signed {
        let key = idempotency_key(&headers)?;
        state.run(move |e| e.case_command(Actor::System, id, CaseCommand::ReturnParcelSigned, None, key)).await?;
        state.metrics.command("return_parcel_signed");
    }
    Ok(Json(detail(&state, &caller, id).await?))
}

/// The case page: everything a party needs on one screen.
async fn detail(state: &AppState, caller: &Caller, id: CaseId) -> ApiResult<Value> {
    let actor = caller.actor;
    let ((case, order, events), (actions, governing), now) =
        state.run(move |e| Ok((e.case_view(actor, id)?, e.available(actor, id)?, e.now()))).await?;
    let log: Vec<Value> = events
        .iter()
        .map(|ev| json!({ "at": ev.recorded.at, "actor": ev.recorded.actor, "event": ev.recorded.event }))
        .collect();
    let deadline = governing.map(|d| deadline_json(&case, d, now));
    let v = json!({
        "case": case,
        "order": order_view(caller, &order)?,
        "queue": case.queue().as_str(),
        "status": case.status.as_str(),
        "version": case.version,
        "amounts": {
            "requested": case.requested_amount,
            "amount": case.amount,
            "order_total": order.total,
            "shipping_fee": order.shipping_fee,
            "refunded_on_order": order.refunded,
        },
        "deadline": deadline,
        "available_actions": actions,
        "remarks": { "order": order.remark, "case": case.remark },
        "flag": order.flag,
        "log": log,
        "now": now,
    });
    Ok(redact_for(caller, v))
}

async fn get_case(State(state): State<AppState>, caller: Caller, Path(case): Path<String>) -> ApiResult<Json<Value>> {
    let id = CaseId(path_id(&case, "case")?);
    Ok(Json(detail(&state, &caller, id).await?))
}

// ---------------------------------------------------------------------------------------------
// Queues and search (W1, W2, W6)

fn parse_time(name: &str, raw: &str) -> ApiResult<Timestamp> {
    if let Ok(ms) = raw.parse::<i64>() {
        return Ok(Timestamp(ms));
    }
    Timestamp::parse_rfc3339(raw)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", format!("{name}: {e}")).field(name))
}

fn bad_query(name: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", detail).field(name)
}

fn parse_query(caller: &Caller, params: &HashMap<String, String>) -> ApiResult<CaseQuery> {
    let mut q = CaseQuery { limit: 50, ..CaseQuery::default() };
    for (k, v) in params {
        match k.as_str() {
            "queue" => q.queue = Some(Queue::parse(v).ok_or_else(|| bad_query(k, format!("unknown queue {v:?}")))?),
            "kind" => {
                q.kind = Some(CaseType::parse(v).ok_or_else(|| bad_query(k, format!("unknown case type {v:?}")))?)
            }
            "flag" => q.flag = Some(Flag::parse(v).map_err(|e| bad_query(k, e))?),
            "due_before" => q.due_before = Some(parse_time(k, v)?),
            "applied_from" => q.applied_from = Some(parse_time(k, v)?),
            "applied_to" => q.applied_to = Some(parse_time(k, v)?),
            "order_no" => q.order_no = Some(v.trim().to_string()),
            "case_id" => q.case_id = Some(CaseId(v.parse().map_err(|_| bad_query(k, "case_id is a number"))?)),
            "customer_name" => q.customer_name = Some(v.trim().to_string()),
            "customer_phone" => q.customer_phone = Some(Phone::parse(v).map_err(|e| bad_query(k, e))?),
            "sort" => {
                q.sort = match v.as_str() {
                    "time_left" => CaseSort::TimeLeft,
                    "newest" => CaseSort::Newest,
                    _ => return Err(bad_query(k, "sort is time_left or newest")),
                }
            }
            "limit" => {
                q.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=200).contains(n))
                    .ok_or_else(|| bad_query(k, "limit is 1-200"))?
            }
            "cursor" => {
                let (a, b) = v.split_once('.').ok_or_else(|| bad_query(k, "malformed cursor"))?;
                q.after = Some(CaseCursor {
                    key: a.parse().map_err(|_| bad_query(k, "malformed cursor"))?,
                    id: b.parse().map_err(|_| bad_query(k, "malformed cursor"))?,
                });
            }
            "shop" => {
                let shop = ShopId(v.parse().map_err(|_| bad_query(k, "shop is a number"))?);
                if caller.is_platform() {
                    q.shop = Some(shop);
                } else if caller.shop() != Some(shop) {
                    return Err(ApiError::not_found("shop"));
                }
            }
            other => return Err(bad_query(other, format!("unknown parameter {other:?}"))),
        }
    }
    Ok(q)
}

async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let q = parse_query(&caller, &params)?;
    let counts_shop = caller.shop().or(q.shop);
    let actor = caller.actor;
    let (page, counts) = state
        .run(move |e| {
            let page = e.search(actor, q)?;
            let counts = match counts_shop {
                Some(shop) => Some(e.queue_counts(shop)?),
                None => None,
            };
            Ok((page, counts))
        })
        .await?;
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|it| {
            json!({
                "case_id": it.case.id,
                "order_id": it.case.order_id,
                "order_no": it.order_no,
                "kind": it.case.kind,
                "status": it.case.status.as_str(),
                "queue": it.case.queue().as_str(),
                "amount": it.case.amount,
                "reason": it.case.reason,
                "customer_name": it.customer_name,
                "customer_phone": it.customer_phone_masked,
                "flag": it.flag,
                "applied_at": it.case.applied_at,
                "due": if it.due_key == i64::MAX { Value::Null } else { json!(it.due_key) },
                "version": it.case.version,
            })
        })
        .collect();
    let counts = counts.map(|c| c.into_iter().map(|(q, n)| (q.as_str().to_string(), json!(n))).collect::<Map<_, _>>());
    Ok(Json(json!({
        "items": items,
        "next_cursor": page.next.map(|c| format!("{}.{}", c.key, c.id)),
        "counts": counts,
    })))
}

async fn queues(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let shop = match (caller.shop(), params.get("shop")) {
        (Some(own), None) => own,
        (Some(own), Some(raw)) if raw.parse::<i64>().ok() == Some(own.0) => own,
        (Some(_), Some(_)) => return Err(ApiError::not_found("shop")),
        (None, Some(raw)) if caller.is_platform() => {
            ShopId(raw.parse().map_err(|_| bad_query("shop", "shop is a number"))?)
        }
        (None, None) if caller.is_platform() => return Err(bad_query("shop", "platform callers name the shop")),
        (None, _) => return Err(ApiError::forbidden("queues are for shop staff and the platform")),
    };
    let counts = state.run(move |e| e.queue_counts(shop)).await?;
    let map: Map<String, Value> = counts.into_iter().map(|(q, n)| (q.as_str().to_string(), json!(n))).collect();
    Ok(Json(json!({ "shop_id": shop, "counts": map })))
}

// ---------------------------------------------------------------------------------------------
// Evidence

async fn upload_evidence(
    State(state): State<AppState>,
    caller: Caller,
    mut multipart: Multipart,
) -> ApiResult<Response> {
    // The JSON body limit is lifted on this route; the two upload limits are counted here.
    let max_file = state.config.evidence.max_file_mib * 1024 * 1024;
    let max_request = state.config.evidence.max_request_mib * 1024 * 1024;
    let mut total = 0usize;
    let mut file: Option<(bytes::Bytes, String)> = None;
    let mut caption = String::new();
    let too_large = |what: &str| {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("{what} is too large")).field("file")
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large("the request")),
            Err(e) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_field",
                    format!("malformed multipart body: {e}"),
                ))
            }
        };
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "file" => {
                if file.is_some() {
                    return Err(ApiError::bad("file", "one file per upload"));
                }
                let declared = field.content_type().unwrap_or("").to_string();
                let mut field = field;
                let mut buf = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            total += chunk.len();
                            if total > max_request {
                                return Err(too_large("the request"));
                            }
                            if buf.len() + chunk.len() > max_file {
                                return Err(too_large("the file"));
                            }
                            buf.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large("the request")),
                        Err(e) => return Err(ApiError::bad("file", format!("malformed multipart body: {e}"))),
                    }
                }
                file = Some((bytes::Bytes::from(buf), declared));
            }
            "caption" => {
                caption = field.text().await.map_err(|e| ApiError::bad("caption", e.to_string()))?;
                if caption.chars().count() > 500 {
                    return Err(ApiError::bad("caption", "caption is longer than 500 characters"));
                }
            }
            other => return Err(ApiError::bad(other, format!("unknown multipart field {other:?}"))),
        }
    }
    let Some((bytes, declared)) = file else { return Err(ApiError::bad("file", "a `file` part is required")) };
    if bytes.is_empty() {
        return Err(ApiError::bad("file", "the file is empty"));
    }
    let Some((kind, content_type)) = objects::sniff(&bytes) else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the file is not a JPEG, PNG, WebP, MP4 or PDF",
        )
        .field("file"));
    };
    if !objects::declared_matches(&declared, content_type) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("the file was declared {declared} but its bytes are {content_type}"),
        )
        .field("file"));
    }
    let sha256 = sha256_hex(&bytes);
    let key = format!("ev/{}", &crate::auth::new_token()?[3..35]);
    objects::put(state.objects.as_ref(), &key, bytes.clone()).await.map_err(|e| {
        let id = crate::request_id::next();
        tracing::error!(request_id = %id, error = %e, "evidence store put failed");
        ApiError::internal(&id)
    })?;
    let object = EvidenceObject {
        key: key.clone(),
        uploader: caller.user.id,
        shop_id: caller.shop(),
        buyer_id: match caller.actor {
            Actor::Buyer { buyer } => Some(buyer),
            _ => None,
        },
        kind,
        content_type: content_type.to_string(),
        size: bytes.len() as u64,
        sha256: sha256.clone(),
        created_at: state.engine.now(),
    };
    state.run(move |e| e.record_evidence(object)).await?;
    let evidence = Evidence { key, kind, sha256, caption };
    Ok((StatusCode::CREATED, Json(json!({ "evidence": evidence, "content_type": content_type, "size": bytes.len() })))
        .into_response())
}

fn case_references(case: &Case, key: &str) -> bool {
    let mut all: Vec<&Evidence> = case.evidence.iter().map(|(_, e)| e).collect();
    if let Some(r) = &case.rejection {
        all.extend(r.evidence.iter());
    }
    if let Some(a) = &case.arbitration {
        for req in &a.requests {
            all.extend(req.evidence.iter());
        }
    }
    if let Some(a) = &case.appeal {
        all.extend(a.evidence.iter());
    }
    if let Some(r) = &case.refund {
        all.extend(r.voucher.iter());
    }
    all.iter().any(|e| e.key == key)
}

async fn serve_object(state: &AppState, key: String) -> ApiResult<Response> {
    let k = key.clone();
    let obj = state.run(move |e| e.evidence_object(&k)).await?.ok_or_else(|| ApiError::not_found("evidence"))?;
    let bytes = objects::get(state.objects.as_ref(), &key).await.map_err(|e| {
        let id = crate::request_id::next();
        tracing::error!(request_id = %id, error = %e, "evidence store get failed");
        ApiError::internal(&id)
    })?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&obj.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment"));
    if let Ok(v) = HeaderValue::from_str(&format!("sha256={}", obj.sha256)) {
        h.insert("x-checksum", v);
    }
    Ok(res)
}

async fn case_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path((case, key)): Path<(String, String)>,
) -> ApiResult<Response> {
    let id = CaseId(path_id(&case, "case")?);
    let key = format!("ev/{}", key.trim_start_matches("ev/"));
    let actor = caller.actor;
    let (case, _, _) = state.run(move |e| e.case_view(actor, id)).await?;
    if !case_references(&case, &key) {
        return Err(ApiError::not_found("evidence"));
    }
    serve_object(&state, key).await
}

async fn own_evidence(State(state): State<AppState>, caller: Caller, Path(key): Path<String>) -> ApiResult<Response> {
    let key = format!("ev/{}", key.trim_start_matches("ev/"));
    let k = key.clone();
    let obj = state.run(move |e| e.evidence_object(&k)).await?;
    match obj {
        Some(o) if o.uploader == caller.user.id => serve_object(&state, key).await,
        _ => Err(ApiError::not_found("evidence")),
    }
}

// ---------------------------------------------------------------------------------------------
// Message boxes and SMS

fn recipient(caller: &Caller) -> Recipient {
    match caller.actor {
        Actor::Buyer { buyer } => Recipient::Buyer(buyer),
        Actor::Merchant { shop, .. } => Recipient::Shop(shop),
        Actor::Platform { .. } | Actor::System => Recipient::Platform,
    }
}

async fn message_box(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let to = recipient(&caller);
    let mb = state.run(move |e| e.message_box(to)).await?;
    let unread: Map<String, Value> = mb.unread.into_iter().map(|(c, n)| (c, json!(n))).collect();
    Ok(Json(redact_for(&caller, json!({ "items": mb.entries, "unread": unread }))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkReadIn {
    ids: Vec<i64>,
}

async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<MarkReadIn>,
) -> ApiResult<Json<Value>> {
    if body.ids.len() > 1000 {
        return Err(ApiError::bad("ids", "at most 1000 ids at a time"));
    }
    let to = recipient(&caller);
    let n = state.run(move |e| e.mark_read(to, body.ids)).await?;
    Ok(Json(json!({ "marked": n })))
}

async fn sms_outbox(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(&[Role::Agent, Role::Admin])?;
    let list = state.run(|e| e.sms_outbox()).await?;
    Ok(Json(json!({ "items": list })))
}
