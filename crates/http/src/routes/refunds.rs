//! The refund ledger over the API (M5): list and read refunds, settle one (finance's word, or
//! the payment service's callback), settle many from the bank's payout file, and export the
//! ledger for reconciliation. Who may do what, and what a settlement may be, is the engine's
//! (`engine/src/refunds.rs`).

use super::export::push_row;
use super::{schema, Api, BodyDoc, JsonBody, Reply};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::input::search::{bad_query, query};
use crate::routes::answer::Json;
use crate::state::AppState;
use aftersale_core::values::{CaseId, ShopId};
use aftersale_core::{Money, Timestamp};
use aftersale_engine::refunds::{parse_refund_id, PayoutResult};
use aftersale_engine::store::{LedgerStatus, RefundFilter, RefundRow};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    let readers = "a shop's owner or staff (its refunds); the platform (all)";
    let settlers = "a shop's owner or integration token (its refunds); a platform admin";
    api.route(
        Method::GET,
        "/api/v1/refunds",
        "list_refunds",
        "refunds",
        "The refund ledger, oldest first: every refund started, how it is being paid, and how it ended. \
         `status=failed` is the queue of refunds that failed for good.",
        readers,
        NoBody,
        Reply::Json(200, schema::<RefundList>),
        get(list),
    )
    .query(schema::<ListQuery>)
    .route(
        Method::GET,
        "/api/v1/refunds/export.csv",
        "export_refunds",
        "refunds",
        "The ledger as CSV for reconciliation (every page, streamed), requested in [from, to).",
        readers,
        NoBody,
        Reply::Bytes(&["text/csv"]),
        get(export),
    )
    .query(schema::<ExportQuery>)
    .route(
        Method::GET,
        "/api/v1/refunds/{refund}",
        "get_refund",
        "refunds",
        "One refund (`rf_12` or `12`).",
        readers,
        NoBody,
        Reply::Json(200, schema::<RefundOut>),
        get(one),
    )
    .route(
        Method::POST,
        "/api/v1/refunds/{refund}/result",
        "settle_refund",
        "refunds",
        "Settles a refund: paid (with the bank's or service's reference) or failed (with the reason). \
         For `manual` refunds, for `http` refunds the service answered pending, and for refunds \
         that failed (paid by other means). A refund being sent is refused (409).",
        settlers,
        Json(schema::<ResultIn>),
        Reply::Json(200, schema::<RefundOut>),
        post(settle),
    )
    .route(
        Method::POST,
        "/api/v1/refunds/payouts",
        "settle_payouts",
        "refunds",
        "Settles refunds from a payout file (text/csv with a header: refund_id, status = paid | failed, \
         reference, reason). Every line is checked first; one bad line refuses the file (422, each bad \
         line named) and nothing is applied.",
        settlers,
        Csv,
        Reply::Json(200, schema::<RefundList>),
        post(payouts).layer(axum::extract::DefaultBodyLimit::max(PAYOUT_FILE_MAX)),
    )
}

/// The largest payout file taken.
const PAYOUT_FILE_MAX: usize = 4 * 1024 * 1024;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `requested`, `pending`, `awaiting_payout`, `succeeded` or `failed`.
    status: Option<LedgerStatus>,
    /// For the platform: one shop's.
    #[schemars(range(min = 1))]
    shop: Option<i64>,
    #[schemars(range(min = 1))]
    case: Option<i64>,
    /// Requested at or after.
    from: Option<Timestamp>,
    /// Requested before.
    to: Option<Timestamp>,
    /// The `next` of the previous page.
    #[schemars(range(min = 0))]
    after: Option<i64>,
    /// 1 to 200 (50 without it).
    #[schemars(range(min = 1, max = 200))]
    limit: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    status: Option<LedgerStatus>,
    #[schemars(range(min = 1))]
    shop: Option<i64>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
}

/// Finance's word on one refund.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultIn {
    /// `succeeded` (paid) or `failed`.
    status: SettledAs,
    /// The bank's or service's reference (required when paid), 1-200 characters.
    #[serde(default)]
    #[schemars(length(max = 200))]
    reference: Option<String>,
    /// Why it failed (required when failed), 1-200 characters.
    #[serde(default)]
    #[schemars(length(max = 200))]
    reason: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettledAs {
    Succeeded,
    Failed,
}

/// One refund in the ledger.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RefundOut {
    /// `rf_<n>`: the idempotency key every gateway is given for it.
    id: String,
    case_id: CaseId,
    order_id: i64,
    order_no: String,
    shop_id: ShopId,
    amount: Money,
    /// `simulated`, `manual`, `http` or `alipay`.
    gateway: String,
    status: LedgerStatus,
    /// Requests sent to the gateway.
    attempts: u32,
    reference: Option<String>,
    /// The last failure (no answer, or the reason it was refused).
    last_error: Option<String>,
    requested_at: Timestamp,
    settled_at: Option<Timestamp>,
    /// When it is next sent or asked about.
    next_at: Option<Timestamp>,
}

impl From<RefundRow> for RefundOut {
    fn from(r: RefundRow) -> RefundOut {
        RefundOut {
            id: r.key(),
            case_id: r.case,
            order_id: r.order.0,
            order_no: r.order_no,
            shop_id: r.shop,
            amount: r.amount,
            gateway: r.gateway,
            status: r.status,
            attempts: r.attempts,
            reference: r.reference,
            last_error: r.last_error,
            requested_at: r.requested_at,
            settled_at: r.settled_at,
            next_at: r.next_at,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RefundList {
    items: Vec<RefundOut>,
    /// The `after` of the next page, if there is one.
    next: Option<i64>,
}

fn refund_id(raw: &str) -> ApiResult<i64> {
    parse_refund_id(raw).ok_or_else(|| ApiError::not_found("refund"))
}

fn positive(name: &str, v: Option<i64>) -> ApiResult<Option<i64>> {
    match v {
        Some(n) if n < 1 => Err(bad_query(name, format!("{name} is a positive id"))),
        other => Ok(other),
    }
}

async fn list(State(state): State<AppState>, caller: Caller, uri: axum::http::Uri) -> ApiResult<Json<RefundList>> {
    let q: ListQuery = query(uri.query())?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(bad_query("limit", "limit is 1-200"));
    }
    if q.after.is_some_and(|a| a < 0) {
        return Err(bad_query("after", "after is a cursor from an earlier page"));
    }
    let filter = RefundFilter {
        shop: positive("shop", q.shop)?.map(ShopId),
        case: positive("case", q.case)?.map(CaseId),
        status: q.status,
        from: q.from,
        to: q.to,
        after: q.after,
        limit: limit + 1,
    };
    let sender = caller.sender();
    let mut rows = state.run(move |e| e.refunds_as(&sender, filter)).await?;
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        rows.last().map_or(0, |r| r.id)
    });
    Ok(Json(RefundList { items: rows.into_iter().map(RefundOut::from).collect(), next }))
}

async fn one(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<RefundOut>> {
    let (id, sender) = (refund_id(&id)?, caller.sender());
    Ok(Json(state.run(move |e| e.refund_as(&sender, id)).await?.into()))
}

async fn settle(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ResultIn>,
) -> ApiResult<Json<RefundOut>> {
    let (id, sender) = (refund_id(&id)?, caller.sender());
    let result = PayoutResult {
        paid: matches!(input.status, SettledAs::Succeeded),
        reference: input.reference,
        reason: input.reason,
    };
    Ok(Json(state.run(move |e| e.settle_refund_as(&sender, id, result)).await?.into()))
}

async fn payouts(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<RefundList>> {
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/csv"));
    if !csv {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the payout file as text/csv",
        ));
    }
    let rows = crate::services::settle_payout_file(&state, caller.sender(), &body).await?;
    Ok(Json(RefundList { items: rows.into_iter().map(RefundOut::from).collect(), next: None }))
}

/// The export's columns, in order.
pub const HEADER: [&str; 15] = [
    "refund_id",
    "case_id",
    "order_id",
    "order_no",
    "shop_id",
    "amount",
    "currency",
    "status",
    "attempts",
    "gateway",
    "reference",
    "last_error",
    "requested_at",
    "settled_at",
    "next_at",
];

/// Rows read per page of the export.
const PAGE: usize = 500;

async fn export(State(state): State<AppState>, caller: Caller, uri: axum::http::Uri) -> ApiResult<Response> {
    let q: ExportQuery = query(uri.query())?;
    let filter = RefundFilter {
        shop: positive("shop", q.shop)?.map(ShopId),
        status: q.status,
        from: q.from,
        to: q.to,
        limit: PAGE,
        ..RefundFilter::default()
    };
    let sender = caller.sender();
    // The first page is read before answering, so that a refusal is a problem answer.
    let first = {
        let (f, s) = (filter.clone(), sender);
        state.run(move |e| e.refunds_as(&s, f)).await?
    };
    let mut head = String::from("\u{feff}");
    push_row(&mut head, HEADER.iter().map(|h| h.to_string()));
    let stream = futures_util::StreamExt::fuse(futures_util::stream::unfold(
        Some((Some((head, first)), state, sender, filter)),
        |at| async move {
            let (first, state, sender, mut filter) = at?;
            let (mut out, page) = match first {
                Some(f) => f,
                None => {
                    let (f, s) = (filter.clone(), sender);
                    match state.run(move |e| e.refunds_as(&s, f)).await {
                        Ok(page) => (String::new(), page),
                        Err(e) => {
                            tracing::warn!(error = ?e.0.code, "a refund export stopped");
                            return Some((Err(std::io::Error::other("the export stopped")), None));
                        }
                    }
                }
            };
            let full = page.len() == PAGE;
            filter.after = page.last().map(|r| r.id);
            for r in &page {
                push_row(&mut out, row(r));
            }
            let next = full.then_some((None, state, sender, filter));
            Some((Ok(bytes::Bytes::from(out)), next))
        },
    ));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"refunds.csv\""),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

fn row(r: &RefundRow) -> impl Iterator<Item = String> {
    let t = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    [
        r.key(),
        r.case.0.to_string(),
        r.order.0.to_string(),
        r.order_no.clone(),
        r.shop.0.to_string(),
        format!("{}.{:02}", r.amount.minor() / 100, r.amount.minor() % 100),
        r.amount.currency().as_str().to_string(),
        r.status.as_str().to_string(),
        r.attempts.to_string(),
        r.gateway.clone(),
        r.reference.clone().unwrap_or_default(),
        r.last_error.clone().unwrap_or_default(),
        r.requested_at.to_string(),
        t(r.settled_at),
        t(r.next_at),
    ]
    .into_iter()
}
