//! Orders: ingestion from the shop's integration (O1) and the order actions (pay, confirm, ship,
//! deliver, complete, cancel, flag, remark). Payment, delivery and completion are reported by the
//! platform or the shop's integration token.

use super::{idempotency_key, if_match, path_id, schema, ActionDoc, Api, BodyDoc, JsonBody, RawBody, Reply};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::input::actions::{json_content, tagged, unknown_action};
use crate::routes::answer::Json;
use crate::state::AppState;
use crate::wire;
use aftersale_core::values::*;
use aftersale_core::*;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

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
        Method::GET,
        "/api/v1/orders/{order}/eligibility",
        "order_eligibility",
        "orders",
        "Per line of the order, which case types the caller may open now, on how many units, for how \
         much at most and until when, and why not where not (L2-L4, U1, S1, R1, T1).",
        "its buyer, its shop, agent, admin",
        NoBody,
        Reply::Json(200, schema::<wire::EligibilityView>),
        get(eligibility),
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
    Ok((StatusCode::CREATED, Json(wire::OrderView::new(&caller.actor, &order, None))).into_response())
}

async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(order): Path<String>,
) -> ApiResult<Json<wire::OrderView>> {
    let id = OrderId(path_id(&order, "order")?);
    let actor = caller.actor;
    let (order, current) = state.run(move |e| e.order_with_case(actor, id)).await?;
    Ok(Json(wire::OrderView::new(&caller.actor, &order, current)))
}

async fn eligibility(
    State(state): State<AppState>,
    caller: Caller,
    Path(order): Path<String>,
) -> ApiResult<Json<wire::EligibilityView>> {
    let id = OrderId(path_id(&order, "order")?);
    let actor = caller.actor;
    let (order, lines, now) = state.run(move |e| e.eligibility(actor, id)).await?;
    Ok(Json(wire::EligibilityView::new(&order, lines, now)))
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

const ORDER_ACTIONS: [&str; 8] = ["pay", "confirm", "ship", "deliver", "complete", "cancel", "set_flag", "set_remark"];

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
    let (order, current) = state
        .run(move |e| {
            e.order_action(sender, id, cmd, expected, key)?;
            e.order_with_case(sender.actor, id)
        })
        .await?;
    state.metrics.command(&format!("order_{action}"));
    Ok(Json(wire::OrderView::new(&caller.actor, &order, current)))
}
