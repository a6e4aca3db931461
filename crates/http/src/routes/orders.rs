//! Orders: ingestion from the shop's integration (O1) and the order actions (pay, confirm, ship,
//! deliver, complete, cancel, flag, remark). Payment, delivery and completion are reported by the
//! platform or the shop's integration token.

use super::{
    idempotency_key, if_match, parse_json, path_id, schema, ActionDoc, Api, BodyDoc, JsonBody, RawBody, Reply,
};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire;
use aftersale_core::values::*;
use aftersale_core::*;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
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
}

async fn create_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    headers: HeaderMap,
    JsonBody(new): JsonBody<NewOrder>,
) -> ApiResult<Response> {
    let shop = ShopId(path_id(&shop, "shop")?);
    // The amounts are checked where they are parsed (`Money`) and by the rules (O1).
    let key = idempotency_key(&headers)?;
    let sender = caller.sender();
    let order = state.run(move |e| e.create_order_as(&sender, shop, new, key)).await?;
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
pub(crate) fn unknown_action(what: &str, valid: &[&str]) -> ApiError {
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
pub(crate) fn tagged<T: serde::de::DeserializeOwned + serde::Serialize>(action: &str, body: &[u8]) -> ApiResult<T> {
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

pub(crate) fn json_content(headers: &HeaderMap, body: &[u8]) -> ApiResult<()> {
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
    let sender = caller.sender();
    let order = state.run(move |e| e.order_action(sender, id, cmd, expected, key)).await?;
    state.metrics.command(&format!("order_{action}"));
    Ok(Json(wire::OrderView::new(&caller.actor, &order)))
}
