//! Orders (ingestion from integrations, order actions), cases (apply, every command, detail,
//! queues, search), evidence upload and download, message boxes and the SMS outbox.

use super::{
    idempotency_key, if_match, parse_json, path_id, schema, ActionDoc, Api, BodyDoc, JsonBody, RawBody, Reply,
};
use crate::auth::{sha256_hex, Caller};
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::state::AppState;
use crate::wire;
use aftersale_core::notice::Recipient;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::{CaseCursor, CaseQuery, CaseSort, EvidenceObject, Role};
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    api.route(
        Method::POST,
        "/api/v1/shops/{shop}/orders",
        "create_order",
        "orders",
        "Ingests an order from an integration (O1).",
        "the shop's staff, agent, admin",
        Json(schema::<NewOrder>),
        Reply::Json(201, schema::<wire::OrderView>),
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
        Reply::Json(200, schema::<wire::OrderView>),
        get(get_order),
    )
    .route(
        Method::POST,
        "/api/v1/orders/{order}/actions/{action}",
        "order_action",
        "orders",
        "An order action: pay, confirm, ship, deliver, complete, cancel, set_flag, set_remark.",
        "by rule (O1-O4, W3, W4)",
        Json(schema::<OrderCommand>),
        Reply::Json(200, schema::<wire::OrderView>),
        post(order_action),
    )
    .actions(order_action_docs())
    .route(
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
        Method::GET,
        "/api/v1/cases/{case}/evidence/{key}",
        "case_evidence",
        "evidence",
        "An evidence file of the case.",
        "the case's parties, agent, admin",
        NoBody,
        Reply::Bytes(&crate::objects::SERVED_TYPES),
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
        Reply::Json(201, schema::<wire::Uploaded>),
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
        Reply::Bytes(&crate::objects::SERVED_TYPES),
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

// ---------------------------------------------------------------------------------------------
// Orders

fn check_money(field: &str, m: &Money, positive: bool) -> ApiResult<()> {
    if m.minor < 0 {
        return Err(ApiError::bad(field, format!("{field} must not be negative")));
    }
    if positive && m.minor == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            format!("{field} must be above zero"),
        )
        .field(field));
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
    let refused = |detail: &str| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", detail).field("shipping_fee").rule("O1")
    };
    if new.shipping_fee.currency != new.total.currency {
        return Err(refused("shipping_fee must be in the order's currency"));
    }
    if new.shipping_fee.minor > new.total.minor {
        return Err(refused("shipping_fee is above the total"));
    }
    let key = idempotency_key(&headers)?;
    let actor = caller.actor;
    let order = state.run(move |e| e.create_order(actor, shop, new, key)).await?;
    state.metrics.command("create_order");
    Ok((StatusCode::CREATED, Json(wire::OrderView::new(&caller.actor, &order))).into_response())
}

async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(order): Path<String>,
) -> ApiResult<Json<wire::OrderView>> {
    let id = OrderId(path_id(&order, "order")?);
    let actor = caller.actor;
    let order = state.run(move |e| e.order_view(actor, id)).await?;
    Ok(Json(wire::OrderView::new(&caller.actor, &order)))
}

/// The platform, or the shop's integration token (not a person's session or own token).
fn feed_reporter(caller: &Caller) -> ApiResult<()> {
    if aftersale_engine::reports_feeds(caller.role(), caller.credential) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "payment, delivery, completion and a return parcel signed for are reported by the platform or the shop's \
             integration token (the owner issues one: POST /api/v1/tokens with scope integration)",
        ))
    }
}

/// One documented path per order action, each with the body its command variant takes.
fn order_action_docs() -> Vec<ActionDoc> {
    let bodies = crate::openapi::variant_bodies::<OrderCommand>("command");
    ORDER_ACTIONS
        .iter()
        .map(|&name| ActionDoc {
            name,
            summary: format!("Order action `{name}`."),
            body: bodies.get(name).cloned().unwrap_or_else(crate::openapi::empty_body),
        })
        .collect()
}

/// An unknown action: 404, naming the valid ones.
fn unknown_action(what: &str, valid: &[&str]) -> ApiError {
    let mut err = ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_action",
        format!("no {what} of that name; valid: {}", valid.join(", ")),
    )
    .field("action");
    err.0.valid = Some(valid.iter().map(|v| v.to_string()).collect());
    err
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
            "evidence" => check::<Vec<EvidenceRef>>(k, v)?,
            "address" => check::<Option<Address>>(k, v)?,
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
) -> ApiResult<Json<wire::OrderView>> {
    let id = OrderId(path_id(&order, "order")?);
    if !ORDER_ACTIONS.contains(&action.as_str()) {
        return Err(unknown_action("order action", &ORDER_ACTIONS));
    }
    json_content(&headers, &body)?;
    let cmd: OrderCommand = tagged(&action, &body)?;
    let expected = if_match(&headers)?;
    let key = idempotency_key(&headers)?;
    // Payment, delivery and completion are the payment gateway's and the logistics feed's
    // events: the platform or the shop's integration token reports them on the system's behalf.
    let actor = match cmd {
        OrderCommand::Pay | OrderCommand::Deliver | OrderCommand::Complete => {
            let a = caller.actor;
            state.run(move |e| e.order_view(a, id)).await?;
            feed_reporter(&caller)?;
            Actor::System
        }
        _ => caller.actor,
    };
    let order = state.run(move |e| e.order_command(actor, id, cmd, expected, key)).await?;
    state.metrics.command(&format!("order_{action}"));
    Ok(Json(wire::OrderView::new(&caller.actor, &order)))
}

// ---------------------------------------------------------------------------------------------
// Cases

async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    Path(order): Path<String>,
    headers: HeaderMap,
    JsonBody(cmd): JsonBody<ApplyOf<EvidenceRef>>,
) -> ApiResult<Response> {
    let id = OrderId(path_id(&order, "order")?);
    check_money("amount", &cmd.amount, true)?;
    check_refs(&cmd.evidence)?;
    let key = idempotency_key(&headers)?;
    let (actor, user) = (caller.actor, caller.user.id);
    let case = state
        .run(move |e| {
            let cmd = e.resolve_application(actor, user, cmd)?;
            e.apply(actor, id, cmd, key)
        })
        .await?;
    state.metrics.command("apply");
    let page = detail(&state, &caller, case.id).await?;
    Ok((StatusCode::CREATED, Json(page)).into_response())
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
    let actor = caller.actor;
    let body = if body.iter().all(u8::is_ascii_whitespace) { axum::body::Bytes::from_static(b"{}") } else { body };
    let case = match action.as_str() {
        "set_flag" => {
            let FlagIn { flag } = parse_json(&body)?;
            state
                .run(move |e| {
                    e.set_flag_via_case(actor, id, flag)?;
                    with_deadline(e, e.case_view(actor, id).map(|(case, _, _)| case))
                })
                .await?
        }
        "set_order_remark" => {
            let RemarkIn { text } = parse_json(&body)?;
            state
                .run(move |e| {
                    e.set_order_remark_via_case(actor, id, text)?;
                    with_deadline(e, e.case_view(actor, id).map(|(case, _, _)| case))
                })
                .await?
        }
        "agree_return" => {
            let input: AgreeReturnIn = parse_json(&body)?;
            match (input.address_id, input.address) {
                (Some(address_id), None) => {
                    state
                        .run(move |e| {
                            with_deadline(
                                e,
                                e.agree_return(actor, id, address_id, input.refuse_freight_collect, expected, key),
                            )
                        })
                        .await?
                }
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
                    state.run(move |e| with_deadline(e, e.case_command(actor, id, cmd, expected, key))).await?
                }
                (Some(_), Some(_)) => {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_value",
                        "give address_id or address, not both",
                    )
                    .field("address"))
                }
            }
        }
        a if CASE_ACTIONS.contains(&a) => {
            let cmd: CaseCommandOf<EvidenceRef> = tagged(a, &body)?;
            if let CaseCommandOf::Propose { amount, .. } | CaseCommandOf::Resubmit { amount, .. } = &cmd {
                check_money("amount", amount, true)?;
            }
            check_refs(cmd.evidence())?;
            let user = caller.user.id;
            state
                .run(move |e| {
                    let cmd = e.resolve_command(actor, user, cmd)?;
                    with_deadline(e, e.case_command(actor, id, cmd, expected, key))
                })
                .await?
        }
        _ => {
            let valid: Vec<&str> = CASE_ACTIONS.iter().copied().chain(HTTP_CASE_ACTIONS).collect();
            return Err(unknown_action("case action", &valid));
        }
    };
    state.metrics.command(&action);
    let (case, governing) = case;
    Ok(Json(command_result(&state, &caller, case, governing)))
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
    CASE_ACTIONS
        .iter()
        .chain(HTTP_CASE_ACTIONS.iter())
        .map(|&name| ActionDoc {
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
    caller.require(&[Role::Owner, Role::Staff, Role::Agent, Role::Admin])?;
    let id = CaseId(path_id(&case, "case")?);
    let actor = caller.actor;
    // Visibility first: another shop's case is a 404.
    state.run(move |e| e.case_view(actor, id)).await?;
    feed_reporter(&caller)?;
    if body.signed {
        let key = idempotency_key(&headers)?;
        state.run(move |e| e.case_command(Actor::System, id, CaseCommand::ReturnParcelSigned, None, key)).await?;
        state.metrics.command("return_parcel_signed");
    }
    Ok(Json(detail(&state, &caller, id).await?))
}

/// The case page: everything a party needs on one screen.
async fn detail(state: &AppState, caller: &Caller, id: CaseId) -> ApiResult<wire::CasePage> {
    let actor = caller.actor;
    let ((case, order, events), (actions, governing), now) =
        state.run(move |e| Ok((e.case_view(actor, id)?, e.available(actor, id)?, e.now()))).await?;
    let merchant = matches!(actor, Actor::Merchant { .. });
    let log = events
        .into_iter()
        .map(|ev| {
            let mut r = ev.recorded;
            // R6: the refund account never reaches a merchant.
            if merchant {
                if let Event::Applied { refund_account, .. } | Event::ReturnLogisticsSubmitted { refund_account, .. } =
                    &mut r.event
                {
                    *refund_account = None;
                }
            }
            r
        })
        .collect();
    Ok(wire::CasePage {
        order: wire::OrderView::new(&actor, &order),
        queue: case.queue(),
        status: case.status.name(),
        version: case.version,
        amounts: wire::Amounts {
            requested: case.requested_amount,
            amount: case.amount,
            order_total: order.total,
            shipping_fee: order.shipping_fee,
            refunded_on_order: order.refunded,
        },
        deadline: governing.map(|d| wire::DeadlineView::new(&case, d, now)),
        available_actions: actions,
        remarks: wire::Remarks { order: order.remark.clone(), case: case.remark.clone() },
        flag: order.flag,
        log,
        now,
        case: wire::CaseView::new(&actor, &case),
    })
}

async fn get_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(case): Path<String>,
) -> ApiResult<Json<wire::CasePage>> {
    let id = CaseId(path_id(&case, "case")?);
    Ok(Json(detail(&state, &caller, id).await?))
}

// ---------------------------------------------------------------------------------------------
// Queues and search (W1, W2, W6)

/// W2: the filters, sort and page of a case list. Times take any RFC 3339 offset.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseListQuery {
    /// One W1 queue.
    queue: Option<Queue>,
    kind: Option<CaseType>,
    flag: Option<Flag>,
    /// Governed by a deadline due at or before this time.
    due_before: Option<Timestamp>,
    /// Applied at or after this time.
    applied_from: Option<Timestamp>,
    /// Applied at or before this time.
    applied_to: Option<Timestamp>,
    /// The order number, or its beginning.
    #[schemars(length(min = 1, max = 64))]
    order_no: Option<String>,
    #[schemars(range(min = 1))]
    case_id: Option<i64>,
    /// Part of the buyer's name.
    #[schemars(length(min = 1, max = 64))]
    customer_name: Option<String>,
    /// The full number (`+86`, spaces and dashes ignored) or its last four digits.
    #[schemars(regex(pattern = aftersale_core::values::PHONE_SEARCH_PATTERN))]
    customer_phone: Option<String>,
    sort: Option<SortParam>,
    #[schemars(range(min = 1, max = 200))]
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[schemars(regex(pattern = r"^-?[0-9]{1,19}\.[0-9]{1,19}$"))]
    cursor: Option<String>,
    /// The platform names the shop; merchant staff may only name their own.
    #[schemars(range(min = 1))]
    shop: Option<i64>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum SortParam {
    /// Least time left first (the default).
    TimeLeft,
    Newest,
}

/// A query string parsed into `T`; errors are 400 `invalid_query` naming the parameter.
pub(crate) fn query<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> ApiResult<T> {
    let raw = raw.unwrap_or("");
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.inner().to_string();
        let name = if path == "." {
            msg.strip_prefix("unknown field `").and_then(|r| r.split('`').next()).unwrap_or("query").to_string()
        } else {
            path
        };
        bad_query(&name, format!("{name}: {msg}"))
    })
}

fn bad_query(name: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", detail).field(name)
}

/// A text filter of 1-64 characters (as the document says), trimmed; given but empty is a
/// mistake, not "no filter".
fn nonempty(name: &str, v: Option<String>) -> ApiResult<Option<String>> {
    match v {
        Some(v) if v.is_empty() || v.chars().count() > 64 => Err(bad_query(name, format!("{name} is 1-64 characters"))),
        // Only spaces: nothing to filter by.
        other => Ok(other.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())),
    }
}

fn case_query(caller: &Caller, p: CaseListQuery) -> ApiResult<CaseQuery> {
    for (name, v) in [("case_id", p.case_id), ("shop", p.shop)] {
        if v.is_some_and(|v| v < 1) {
            return Err(bad_query(name, format!("{name} is a positive id")));
        }
    }
    let mut q = CaseQuery {
        queue: p.queue,
        kind: p.kind,
        flag: p.flag,
        due_before: p.due_before,
        applied_from: p.applied_from,
        applied_to: p.applied_to,
        order_no: nonempty("order_no", p.order_no)?,
        case_id: p.case_id.map(CaseId),
        customer_name: nonempty("customer_name", p.customer_name)?,
        customer_phone: match p.customer_phone {
            Some(v) => Some(PhoneSearch::parse(&v).map_err(|e| bad_query("customer_phone", e))?),
            None => None,
        },
        sort: match p.sort {
            Some(SortParam::Newest) => CaseSort::Newest,
            _ => CaseSort::TimeLeft,
        },
        limit: p.limit.unwrap_or(50),
        ..CaseQuery::default()
    };
    if !(1..=200).contains(&q.limit) {
        return Err(bad_query("limit", "limit is 1-200"));
    }
    if let Some(v) = p.cursor {
        let malformed = || bad_query("cursor", "malformed cursor");
        let (a, b) = v.split_once('.').ok_or_else(malformed)?;
        q.after =
            Some(CaseCursor { key: a.parse().map_err(|_| malformed())?, id: b.parse().map_err(|_| malformed())? });
    }
    if let Some(raw) = p.shop {
        let shop = ShopId(raw);
        if caller.is_platform() {
            q.shop = Some(shop);
        } else if caller.shop() != Some(shop) {
            return Err(ApiError::not_found("shop"));
        }
    }
    Ok(q)
}

async fn search(
    State(state): State<AppState>,
    caller: Caller,
    uri: axum::http::Uri,
) -> ApiResult<Json<wire::CaseList>> {
    let q = case_query(&caller, query(uri.query())?)?;
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
    let items = page
        .items
        .into_iter()
        .map(|it| wire::CaseRow {
            case_id: it.case.id,
            order_id: it.case.order_id,
            order_no: it.order_no,
            kind: it.case.kind,
            status: it.case.status.name(),
            queue: it.case.queue(),
            amount: it.case.amount,
            reason: it.case.reason.clone(),
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
    let shop = match (caller.shop(), p.shop) {
        (Some(own), None) => own,
        (Some(own), Some(raw)) if raw == own.0 => own,
        (Some(_), Some(_)) => return Err(ApiError::not_found("shop")),
        (None, Some(raw)) if caller.is_platform() => ShopId(raw),
        (None, None) if caller.is_platform() => return Err(bad_query("shop", "platform callers name the shop")),
        (None, _) => return Err(ApiError::forbidden("queues are for shop staff and the platform")),
    };
    let counts = state.run(move |e| e.queue_counts(shop)).await?;
    Ok(Json(wire::QueueCounts { shop_id: shop, counts: counts.into_iter().collect() }))
}

// ---------------------------------------------------------------------------------------------
// Evidence

async fn upload_evidence(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Response> {
    let multipart_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart_type {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the file as multipart/form-data with a `file` part (and an optional `caption`)",
        ));
    }
    let mut multipart = multipart.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            format!("malformed multipart body: {}", e.body_text()),
        )
    })?;
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
                    "malformed_request",
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
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", "the file is empty").field("file"));
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
    // A key without `/`, so that it is one path segment wherever it is named.
    let key = format!("ev-{}", &crate::auth::new_token()?[3..35]);
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
    let uploaded = wire::Uploaded { evidence, content_type: content_type.to_string(), size: bytes.len() as u64 };
    Ok((StatusCode::CREATED, Json(uploaded)).into_response())
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
    let actor = caller.actor;
    let (case, _, _) = state.run(move |e| e.case_view(actor, id)).await?;
    if !case_references(&case, &key) {
        return Err(ApiError::not_found("evidence"));
    }
    serve_object(&state, key).await
}

async fn own_evidence(State(state): State<AppState>, caller: Caller, Path(key): Path<String>) -> ApiResult<Response> {
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
    let to = recipient(&caller);
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
    let to = recipient(&caller);
    let n = state.run(move |e| e.mark_read(to, body.ids)).await?;
    Ok(Json(wire::Marked { marked: n }))
}

async fn sms_outbox(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<wire::SmsList>> {
    caller.require(&[Role::Agent, Role::Admin])?;
    let items = state.run(|e| e.sms_outbox()).await?;
    Ok(Json(wire::SmsList { items }))
}
