//! The case list's query (W1, W2): filters, sort, page and cursor, as the JSON API and the
//! queue pages both take them.

use crate::error::{ApiError, ApiResult};
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::{CaseCursor, CaseQuery, CaseSort};
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;

/// W2: the filters, sort and page of a case list. Times take any RFC 3339 offset.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseListQuery {
    /// One W1 queue.
    queue: Option<Queue>,
    /// `true`: only cases not closed (every queue but `closed`), as the workbench's "All open"
    /// tab lists them. Ignored when `queue` names one.
    open: Option<bool>,
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
pub fn query<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> ApiResult<T> {
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

pub fn bad_query(name: &str, detail: impl Into<String>) -> ApiError {
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

pub fn case_query(p: CaseListQuery) -> ApiResult<CaseQuery> {
    for (name, v) in [("case_id", p.case_id), ("shop", p.shop)] {
        if v.is_some_and(|v| v < 1) {
            return Err(bad_query(name, format!("{name} is a positive id")));
        }
    }
    let mut q = CaseQuery {
        queue: p.queue,
        open_only: p.open.unwrap_or(false),
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
    // Whether the caller may see that shop is the engine's to say (`Engine::search`).
    q.shop = p.shop.map(ShopId);
    Ok(q)
}
