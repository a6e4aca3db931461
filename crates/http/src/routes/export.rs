//! Exports for spreadsheets: the cases of a queue or a search as CSV, streamed a page at a time
//! (a million rows never sit in memory). UTF-8 with a byte-order mark, so that Excel reads
//! Chinese correctly; a cell that a spreadsheet would run as a formula (`= + - @`, a tab or a
//! carriage return first) is written with a leading `'` (CSV injection). What a row may show is
//! the engine's list item: the phone masked (W6), no refund account (R6).

use super::{Api, BodyDoc, Reply};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::input::search::{case_query, query, CaseListQuery};
use crate::state::AppState;
use aftersale_core::Actor;
use aftersale_engine::{CaseListItem, CasePage, CaseQuery};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn routes(api: Api) -> Api {
    api.route(
        Method::GET,
        "/api/v1/cases/export.csv",
        "export_cases",
        "cases",
        "The cases of a queue or a search as CSV (the list's filters and search; every page, streamed). \
         UTF-8 with a byte-order mark; formula-like cells neutralised with a leading apostrophe.",
        "any logged-in user (the cases it may see)",
        BodyDoc::NoBody,
        Reply::Bytes(&["text/csv"]),
        get(export_cases),
    )
    .query(super::schema::<CaseListQuery>)
}

/// The columns, in order.
pub const HEADER: [&str; 17] = [
    "case_id",
    "order_no",
    "type",
    "status",
    "queue",
    "amount",
    "currency",
    "reason",
    "customer_name",
    "customer_phone",
    "flag",
    "applied_at",
    "due_at",
    "version",
    "outcome",
    "lines",
    "units",
];

/// Rows read per page of the export.
const PAGE: usize = 200;

async fn export_cases(State(state): State<AppState>, caller: Caller, uri: axum::http::Uri) -> ApiResult<Response> {
    let mut q = case_query(query(uri.query())?)?;
    q.limit = PAGE;
    // The first page is read before answering, so that a refusal (another shop, a bad filter)
    // is a problem answer, not a broken download.
    let actor = caller.actor;
    let first = {
        let q = q.clone();
        state.run(move |e| e.search(actor, q)).await?
    };
    let mut head = String::from("\u{feff}");
    push_row(&mut head, HEADER.iter().map(|h| h.to_string()));
    // Fused: a layer around the body (compression) may poll once more after the end.
    let stream = futures_util::StreamExt::fuse(futures_util::stream::unfold(
        Pages::First(head, first, state, actor, q),
        next_chunk,
    ));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"cases.csv\""),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Where the export stands: the header and first page still to send, a cursor to read on from,
/// or done.
enum Pages {
    First(String, CasePage, AppState, Actor, CaseQuery),
    After(AppState, Actor, CaseQuery),
    Done,
}

async fn next_chunk(pages: Pages) -> Option<(Result<bytes::Bytes, std::io::Error>, Pages)> {
    let (mut out, page, state, actor, mut q) = match pages {
        Pages::Done => return None,
        Pages::First(head, page, state, actor, q) => (head, page, state, actor, q),
        Pages::After(state, actor, q) => {
            let read = {
                let q = q.clone();
                state.run(move |e| e.search(actor, q)).await
            };
            match read {
                Ok(page) => (String::new(), page, state, actor, q),
                Err(e) => {
                    // Mid-download the status is sent: the client sees the body end early.
                    tracing::warn!(error = ?e.0.code, "a case export stopped");
                    return Some((Err(std::io::Error::other("the export stopped")), Pages::Done));
                }
            }
        }
    };
    for item in &page.items {
        push_row(&mut out, row(item));
    }
    let next = match page.next {
        Some(cursor) => {
            q.after = Some(cursor);
            Pages::After(state, actor, q)
        }
        None => Pages::Done,
    };
    Some((Ok(bytes::Bytes::from(out)), next))
}

/// One case's cells, in `HEADER` order.
fn row(item: &CaseListItem) -> impl Iterator<Item = String> {
    let c = &item.case;
    let amount = c.amount;
    [
        c.id.0.to_string(),
        item.order_no.clone(),
        c.kind.as_str().to_string(),
        serde_json::to_value(c.status.name()).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        c.queue().as_str().to_string(),
        format!("{}.{:02}", amount.minor() / 100, amount.minor() % 100),
        amount.currency().as_str().to_string(),
        c.reason.clone(),
        item.customer_name.clone(),
        item.customer_phone_masked.clone(),
        item.flag.map(|f| f.as_str().to_string()).unwrap_or_default(),
        c.applied_at.to_string(),
        if item.due_key == i64::MAX { String::new() } else { aftersale_core::Timestamp(item.due_key).to_string() },
        c.version.to_string(),
        // What the case asks for and on which order lines (L2): `L1x2 L3x1` is two units of line 1
        // and one of line 3.
        aftersale_engine::report::outcome_of(c.requested_kind).to_string(),
        aftersale_core::lines::units::Pick::summary(&c.picks()),
        c.picks().iter().map(|p| u64::from(p.units)).sum::<u64>().to_string(),
    ]
    .into_iter()
}

/// Appends one CSV line (RFC 4180: quoted when needed, CRLF).
pub fn push_row(out: &mut String, cells: impl Iterator<Item = String>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_cell(out, &cell);
    }
    out.push_str("\r\n");
}

fn push_cell(out: &mut String, cell: &str) {
    // A cell a spreadsheet would run as a formula is shown as text.
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = formula || cell.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for ch in cell.chars() {
        if ch == '"' {
            out.push('"');
        }
        out.push(ch);
    }
    if quote {
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cells: &[&str]) -> String {
        let mut out = String::new();
        push_row(&mut out, cells.iter().map(|c| c.to_string()));
        out
    }

    #[test]
    fn cells_are_quoted_when_needed_and_formulas_neutralised() {
        assert_eq!(line(&["a", "b c"]), "a,b c\r\n");
        assert_eq!(line(&["a,b", "say \"hi\"", "two\nlines"]), "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n");
        for f in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            let out = line(&[f]);
            assert!(out.starts_with("\"'"), "{f:?} → {out:?}");
        }
        assert_eq!(line(&["=HYPERLINK(\"x\")"]), "\"'=HYPERLINK(\"\"x\"\")\"\r\n");
        assert_eq!(line(&["王小明", ""]), "王小明,\r\n");
    }
}
