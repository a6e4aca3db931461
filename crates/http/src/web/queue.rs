//! The merchant's queues (W1) and search (W2), the platform's arbitration queue and its search
//! across shops: tabs with counts, filters, the table with live countdowns, cursor pages, and
//! the bulk refund of refund-before-shipment cases. The query is parsed by the JSON API's own
//! `case_query`, and the engine decides what the viewer may see.

use super::forms::Posted;
use super::view::*;
use super::{i18n, message_page, refusal_page, render, Viewer, Zone};
use crate::error::{ApiError, ApiResult};
use crate::input::search::{case_query, query, CaseListQuery};
use crate::services::page_and_counts;
use crate::state::AppState;
use aftersale_core::labels::{CASE_TYPES, FLAGS, QUEUES};
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::CasePage;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/w/queue", get(merchant_queue))
        .route("/w/bulk", post(bulk))
        .route("/p/queue", get(platform_queue))
        .route("/p/search", get(platform_search))
}

/// The filters a queue page takes, as typed in its form.
const FILTERS: [&str; 10] = [
    "queue",
    "order_no",
    "case_id",
    "customer_name",
    "customer_phone",
    "kind",
    "flag",
    "applied_from",
    "applied_to",
    "sort",
];

/// The page's query as the API's: empty fields dropped, dates (`2026-12-01`) read as the start
/// or the end of that day in the shop's zone.
fn api_query(raw: &[(String, String)], zone: Zone) -> String {
    let offset = zone.offset.0 / 60_000;
    let tz = if offset == 0 { "Z".to_string() } else { format!("{:+03}:{:02}", offset / 60, offset.abs() % 60) };
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in raw {
        let v = v.trim();
        if v.is_empty() || !(FILTERS.contains(&k.as_str()) || k == "cursor" || k == "shop" || k == "open") {
            continue;
        }
        let is_date = v.len() == 10 && v.as_bytes().get(4) == Some(&b'-');
        let value = match k.as_str() {
            "applied_from" if is_date => format!("{v}T00:00:00{tz}"),
            "applied_to" if is_date => format!("{v}T23:59:59.999{tz}"),
            _ => v.to_string(),
        };
        out.append_pair(k, &value);
    }
    out.finish()
}

fn pairs(uri: &Uri) -> Vec<(String, String)> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(raw: &'a [(String, String)], name: &str) -> &'a str {
    raw.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// The rows, next cursor and counts of one page of the queue, for the viewer.
pub async fn load(
    state: &AppState,
    v: &Viewer,
    raw: &[(String, String)],
) -> ApiResult<(CasePage, Option<Vec<(Queue, u64)>>)> {
    let qs = api_query(raw, v.zone);
    let params: CaseListQuery = query(Some(&qs))?;
    let q = case_query(params)?;
    page_and_counts(state, &v.caller, q).await
}

async fn merchant_queue(State(state): State<AppState>, v: Viewer, uri: Uri) -> Response {
    if !v.is_merchant() {
        return refusal_page(&v, &ApiError::forbidden("the queues are for shop staff"));
    }
    queue_page(&state, &v, &uri, "/w/queue", None).await
}

async fn platform_queue(State(state): State<AppState>, v: Viewer, uri: Uri) -> Response {
    if !v.is_platform() {
        return refusal_page(&v, &ApiError::forbidden("the arbitration queue is the platform's"));
    }
    queue_page(&state, &v, &uri, "/p/queue", Some(Queue::InArbitration)).await
}

async fn platform_search(State(state): State<AppState>, v: Viewer, uri: Uri) -> Response {
    if !v.is_platform() {
        return refusal_page(&v, &ApiError::forbidden("searching all shops is the platform's"));
    }
    queue_page(&state, &v, &uri, "/p/search", None).await
}

async fn queue_page(
    state: &AppState,
    v: &Viewer,
    uri: &Uri,
    base: &'static str,
    default_queue: Option<Queue>,
) -> Response {
    let mut raw = pairs(uri);
    match default_queue {
        Some(q) if param(&raw, "queue").is_empty() => raw.push(("queue".into(), q.as_str().into())),
        // No queue chosen is the "All open" tab: what its count counts.
        None if param(&raw, "queue").is_empty() => raw.push(("open".into(), "true".into())),
        _ => {}
    }
    let result = load(state, v, &raw).await;
    let near = match v.caller.shop() {
        Some(shop) => state.run(move |e| e.policy_of(shop)).await.map(|p| p.near_deadline).unwrap_or(Dur::hours(12)),
        None => Dur::hours(12),
    };
    let (body, status) = match result {
        Ok((page, counts)) => (table_page(v, base, &raw, &page, counts.as_deref(), near, None), StatusCode::OK),
        Err(e) if e.status() == 400 => {
            let empty = CasePage { items: vec![], next: None };
            // The sentence names the field at fault, in the person's words.
            let msg = i18n::problem_text(v.lang, &e);
            (table_page(v, base, &raw, &empty, None, near, Some(msg)), StatusCode::BAD_REQUEST)
        }
        Err(e) => return refusal_page(v, &e),
    };
    let mut res = render(v, v.t("Cases"), body);
    *res.status_mut() = status;
    res
}

/// The link of a tab or page with the other filters kept.
fn link(base: &str, raw: &[(String, String)], set: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, val) in raw {
        if set.iter().any(|(s, _)| s == k) || k == "cursor" || val.is_empty() {
            continue;
        }
        out.append_pair(k, val);
    }
    for (k, val) in set {
        if !val.is_empty() {
            out.append_pair(k, val);
        }
    }
    let q = out.finish();
    if q.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{q}")
    }
}

fn table_page(
    v: &Viewer,
    base: &'static str,
    raw: &[(String, String)],
    page: &CasePage,
    counts: Option<&[(Queue, u64)]>,
    near: Dur,
    error: Option<String>,
) -> Markup {
    let current = param(raw, "queue");
    // Bulk actions: for whoever the rules let refund or agree to a return, on the queues where
    // those are taken (each case is then decided on its own).
    let bulk_actions: Vec<&str> = BULK
        .iter()
        .filter(|(action, queues)| {
            action.parties().contains(&v.caller.actor.party()) && queues.iter().any(|q| q.as_str() == current)
        })
        .map(|(action, _)| action.as_str())
        .collect();
    let bulk = !bulk_actions.is_empty();
    let total: u64 = counts.map(|c| c.iter().filter(|(q, _)| *q != Queue::Closed).map(|(_, n)| n).sum()).unwrap_or(0);
    html! {
        h1 { @if base == "/p/queue" { (v.t("Arbitration")) } @else if base == "/p/search" { (v.t("Search all shops")) } @else { (v.t("Cases")) } }
        nav.tabs aria-label=(v.t("Queues")) {
            @if base != "/p/queue" {
                a href=(link(base, raw, &[("queue", "")])) aria-current=[current.is_empty().then_some("page")] {
                    (v.t("All open")) @if counts.is_some() { " " span.count { (total) } }
                }
            }
            @for l in QUEUES.iter() {
                @let n = counts.and_then(|c| c.iter().find(|(q, _)| *q == l.value)).map(|(_, n)| *n);
                a href=(link(base, raw, &[("queue", l.value.as_str())])) aria-current=[(current == l.value.as_str()).then_some("page")] data-queue=(l.value.as_str()) {
                    (v.lang.pick(l.zh, l.en)) @if let Some(n) = n { " " span.count { (n) } }
                }
            }
        }
        (filters(v, base, raw))
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form method="post" action="/w/bulk" id="bulk" {
            (v.form_fields())
            table.cases {
                caption.sr { (v.t("Cases, least time left first")) }
                thead { tr {
                    @if bulk { th scope="col" { span.sr { (v.t("Select")) } } }
                    th scope="col" { (v.t("Order number")) }
                    th scope="col" { (v.t("Buyer")) }
                    th scope="col" { (v.t("Type")) }
                    th scope="col" { (v.t("Amount")) }
                    th scope="col" { (v.t("Reason")) }
                    th scope="col" { (v.t("Status")) }
                    th scope="col" { (v.t("Applied at")) }
                    th scope="col" { (v.t("Time left")) }
                    th scope="col" { (v.t("Flag")) }
                } }
                tbody {
                    @if page.items.is_empty() { tr { td colspan="10" { (v.t("No cases here.")) } } }
                    @for it in &page.items {
                        @let c = &it.case;
                        tr data-case=(c.id) {
                            @if bulk {
                                td { input type="checkbox" name="case" value=(format!("{}:{}", c.id, c.version)) id=(format!("sel-{}", c.id))
                                    aria-label=(format!("{} {}", v.t("Select"), it.order_no)); }
                            }
                            td { a href=(format!("/cases/{}", c.id)) { (it.order_no) } }
                            td { (it.customer_name) br; small { (it.customer_phone_masked) } }
                            td { (type_label(v.lang, c.kind)) br; small data-testid="row-lines" title=(v.t("Order lines and units")) { (aftersale_core::lines::units::Pick::summary(&c.picks())) } }
                            td { (money(c.amount)) }
                            td { (reason_label(v.lang, &c.reason)) }
                            td { (status_label(v.lang, c.status.name())) }
                            td { (local(c.applied_at, v.zone)) }
                            td { @if it.due_key != i64::MAX { (countdown(v.lang, Timestamp(it.due_key), v.now, near)) } @else { "—" } }
                            td { (flag_chip(v.lang, it.flag)) }
                        }
                    }
                }
            }
            p.zone-note { (v.t("Times are in")) " " (v.zone.name) "." }
            @if bulk && !page.items.is_empty() {
                div.bulk {
                    label for="bulk-action" { (v.t("With the selected cases")) }
                    select id="bulk-action" name="action" {
                        @for a in &bulk_actions { option value=(a) { (v.t(bulk_label(a))) } }
                    }
                    " "
                    button type="submit" data-confirm=(v.t("Do this for every selected case?")) { (v.t("Carry out")) }
                }
            }
        }
        @if let Some(c) = page.next {
            @let cursor = format!("{}.{}", c.key, c.id);
            p { a.next rel="next" href=(link(base, raw, &[("cursor", cursor.as_str())])) { (v.t("Next page")) " →" } }
        }
    }
}

fn filters(v: &Viewer, base: &str, raw: &[(String, String)]) -> Markup {
    let val = |n: &str| param(raw, n).to_string();
    html! {
        form.filters method="get" action=(base) role="search" aria-label=(v.t("Search cases")) {
            @if !param(raw, "queue").is_empty() { input type="hidden" name="queue" value=(val("queue")); }
            div { label for="q-order" { (v.t("Order number")) } input id="q-order" name="order_no" value=(val("order_no")) maxlength="64"; }
            div { label for="q-case" { (v.t("Case id")) } input id="q-case" name="case_id" value=(val("case_id")) inputmode="numeric"; }
            div { label for="q-name" { (v.t("Buyer name")) } input id="q-name" name="customer_name" value=(val("customer_name")) maxlength="64"; }
            div { label for="q-phone" { (v.t("Phone (full or last four)")) } input id="q-phone" name="customer_phone" value=(val("customer_phone")) inputmode="tel"; }
            div { label for="q-kind" { (v.t("Type")) }
                select id="q-kind" name="kind" {
                    option value="" { (v.t("Any")) }
                    @for l in CASE_TYPES.iter() { option value=(l.value.as_str()) selected[val("kind") == l.value.as_str()] { (v.lang.pick(l.zh, l.en)) } }
                } }
            div { label for="q-flag" { (v.t("Flag")) }
                select id="q-flag" name="flag" {
                    option value="" { (v.t("Any")) }
                    @for l in FLAGS.iter() { option value=(l.value.as_str()) selected[val("flag") == l.value.as_str()] { (v.lang.pick(l.zh, l.en)) } }
                } }
            div { label for="q-from" { (v.t("Applied from")) } input id="q-from" type="date" name="applied_from" value=(val("applied_from")); }
            div { label for="q-to" { (v.t("Applied to")) } input id="q-to" type="date" name="applied_to" value=(val("applied_to")); }
            div { label for="q-sort" { (v.t("Sort")) }
                select id="q-sort" name="sort" {
                    option value="time_left" selected[val("sort") != "newest"] { (v.t("Time left")) }
                    option value="newest" selected[val("sort") == "newest"] { (v.t("Newest")) }
                } }
            div.buttons {
                button type="submit" { (v.t("Search")) } " " a href=(base) { (v.t("Clear")) }
                // Every case these filters find, not only this page (the API's export).
                @let all: Vec<(String, String)> = raw.iter().filter(|(k, _)| k != "cursor").cloned().collect();
                " " a.export href=(format!("/api/v1/cases/export.csv?{}", api_query(&all, v.zone))) download="cases.csv" { (v.t("Export")) }
            }
        }
    }
}

/// The actions the queue page takes in bulk, and the queues it offers each on. A rejection is
/// not among them: each needs evidence of its own (S4); the JSON API's batch takes one per case.
const BULK: [(Action, &[Queue]); 2] = [
    (Action::Refund, &[Queue::RefundUnshipped, Queue::RefundOnly, Queue::AwaitingReceipt]),
    (Action::AgreeReturn, &[Queue::ReturnReview]),
];

fn bulk_label(action: &str) -> &'static str {
    match action {
        "agree_return" => "Agree to the return (default address)",
        _ => "Refund",
    }
}

/// Bulk actions: one result per case — done, or refused and why. The cases go through the JSON
/// API's batch (`services::case_actions`), each as its single action with the version its row
/// showed; who may take it is the rules' answer for each case.
async fn bulk(State(state): State<AppState>, Posted { v, form }: Posted) -> Response {
    let action = form.get("action").to_string();
    if !BULK.iter().any(|(a, _)| a.as_str() == action) {
        return message_page(&v, StatusCode::BAD_REQUEST, v.t("Not possible"), v.t("This cannot be done in bulk."));
    }
    let idem = form.get("idem").to_string();
    let max = state.config.server.batch_max.max(1);
    let calls: Vec<crate::services::BatchCall> = form
        .all("case")
        .filter_map(|item| {
            let (c, ver) = item.split_once(':')?;
            Some((c.parse::<i64>().ok()?, ver.parse::<u64>().ok()?))
        })
        .take(max)
        .map(|(id, version)| crate::services::BatchCall {
            case: CaseId(id),
            action: action.clone(),
            body: b"{}".to_vec(),
            expected: Some(version),
            key: super::form_idem(&idem).map(|k| aftersale_engine::IdemKey(format!("{}:{id}", k.0))),
        })
        .collect();
    let ids: Vec<i64> = calls.iter().map(|c| c.case.0).collect();
    let outcomes = crate::services::case_actions(&state, &v.caller, calls).await;
    let results: Vec<(i64, Result<(), String>)> = ids
        .into_iter()
        .zip(outcomes)
        .map(|(id, r)| (id, r.map(|_| ()).map_err(|e| i18n::problem_text(v.lang, &e))))
        .collect();
    let done = results.iter().filter(|(_, r)| r.is_ok()).count();
    let body = html! {
        h1 { (v.t("Bulk action")) ": " (v.t(bulk_label(&action))) }
        p role="status" { (done) " / " (results.len()) " " (v.t("done")) }
        @if results.is_empty() { p { (v.t("No case was selected.")) } }
        table {
            thead { tr { th scope="col" { (v.t("Case")) } th scope="col" { (v.t("Result")) } } }
            tbody { @for (id, r) in &results {
                tr { td { a href=(format!("/cases/{id}")) { (id) } }
                    td { @match r { Ok(()) => { span.ok { (v.t("Done")) } } Err(e) => { span.error { (v.t("Refused")) ": " (e) } } } } }
            } }
        }
        p { a href="/w/queue?queue=refund_unshipped" { (v.t("Back to the queue")) } }
    };
    render(&v, v.t("Bulk action"), body)
}
