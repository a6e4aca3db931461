//! Finance's page in the workbench (M5): the refund ledger by state — awaiting payout, pending
//! a service's answer, failed for good, paid — with a form on each open refund to mark it paid
//! (with the bank's reference) or failed, an upload for the bank's payout file, and the ledger's
//! export. The same engine use-cases as the JSON API; who may do what is theirs.

use super::forms::Posted;
use super::view::local;
use super::{i18n, refusal_page, render, Viewer};
use crate::state::AppState;
use aftersale_engine::refunds::PayoutResult;
use aftersale_engine::store::{LedgerStatus, RefundFilter, RefundRow};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/w/refunds", get(list))
        .route("/w/refunds/payouts", post(payouts))
        .route("/w/refunds/{id}/settle", post(settle))
}

#[derive(serde::Deserialize, Default)]
struct Tab {
    status: Option<String>,
}

/// The tabs, in order: what waits for someone first.
const TABS: [LedgerStatus; 5] = [
    LedgerStatus::AwaitingPayout,
    LedgerStatus::Failed,
    LedgerStatus::Pending,
    LedgerStatus::Requested,
    LedgerStatus::Succeeded,
];

fn status_text(v: &Viewer, s: LedgerStatus) -> &'static str {
    match s {
        LedgerStatus::AwaitingPayout => v.t("Awaiting payout"),
        LedgerStatus::Failed => v.t("Failed"),
        LedgerStatus::Pending => v.t("Pending at the payment service"),
        LedgerStatus::Requested => v.t("Being sent"),
        LedgerStatus::Succeeded => v.t("Paid out"),
    }
}

async fn list(State(state): State<AppState>, v: Viewer, Query(tab): Query<Tab>) -> Response {
    let status = tab.status.as_deref().and_then(LedgerStatus::parse).unwrap_or(LedgerStatus::AwaitingPayout);
    show(&state, &v, status, None).await
}

/// The ledger's `status` tab, with a message (a file applied, or why it was refused).
async fn show(state: &AppState, v: &Viewer, status: LedgerStatus, flash: Option<(bool, String)>) -> Response {
    let sender = v.caller.sender();
    let filter = RefundFilter { status: Some(status), limit: 200, ..RefundFilter::default() };
    let rows = match state.run(move |e| e.refunds_as(&sender, filter)).await {
        Ok(x) => x,
        Err(e) => return refusal_page(v, &e),
    };
    let open = matches!(status, LedgerStatus::AwaitingPayout | LedgerStatus::Pending | LedgerStatus::Failed);
    let body = html! {
        h1 { (v.t("Refunds")) }
        p { (v.t("Every refund started, how it is being paid and how it ended.")) " "
            a href="/api/v1/refunds/export.csv" download { (v.t("Export")) } }
        @if let Some((ok, m)) = &flash {
            @if *ok { div.flash role="status" { p { (m) } } } @else { p.error role="alert" data-testid="payout-error" { (m) } }
        }
        nav.tabs aria-label=(v.t("Refunds")) {
            @for t in TABS {
                a href=(format!("/w/refunds?status={}", t.as_str())) aria-current=[(t == status).then_some("page")] { (status_text(v, t)) }
            }
        }
        table.cases {
            thead { tr {
                th scope="col" { (v.t("Refund number")) } th scope="col" { (v.t("Case")) } th scope="col" { (v.t("Order")) }
                th scope="col" { (v.t("Amount")) } th scope="col" { (v.t("Requested at")) } th scope="col" { (v.t("State")) }
                @if open { th scope="col" { (v.t("Settle")) } }
            } }
            tbody {
                @if rows.is_empty() { tr { td colspan="7" { (v.t("Nothing here.")) } } }
                @for r in &rows { (row(v, r, open)) }
            }
        }
        @if open {
            form.card method="post" action="/w/refunds/payouts" enctype="multipart/form-data" {
                (v.form_fields())
                h2 { (v.t("Payout file")) }
                p { (v.t("CSV with a header: refund_id, status (paid or failed), reference, reason. One bad line refuses the whole file.")) }
                label for="payout-file" { (v.t("File")) }
                input id="payout-file" type="file" name="file" accept=".csv,text/csv" required;
                button type="submit" { (v.t("Apply the file")) }
            }
        }
    };
    let mut res = render(v, v.t("Refunds"), body);
    if flash.as_ref().is_some_and(|(ok, _)| !ok) {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

fn row(v: &Viewer, r: &RefundRow, open: bool) -> Markup {
    html! {
        tr data-refund=(r.key()) {
            td { code { (r.key()) } " · " (r.gateway) }
            td { a href=(format!("/w/cases/{}", r.case.0)) { "#" (r.case.0) } }
            td { (r.order_no) }
            td { (r.amount.words()) }
            td { (local(r.requested_at, v.zone)) }
            td { (status_text(v, r.status))
                 @if r.attempts > 0 { " · " (r.attempts) " " (v.t("attempts")) }
                 @if let Some(reference) = &r.reference { " · " code { (reference) } }
                 @if let Some(e) = &r.last_error { br; small.error { (e) } } }
            @if open {
                td {
                    form method="post" action=(format!("/w/refunds/{}/settle", r.id)) {
                        (v.form_fields())
                        input type="hidden" name="status" value="succeeded";
                        input name="reference" required maxlength="200" aria-label=(v.t("Bank reference")) placeholder=(v.t("Bank reference"));
                        button type="submit" { (v.t("Mark paid")) }
                    }
                    form method="post" action=(format!("/w/refunds/{}/settle", r.id)) {
                        (v.form_fields())
                        input type="hidden" name="status" value="failed";
                        input name="reason" required maxlength="200" aria-label=(v.t("Reason")) placeholder=(v.t("Reason"));
                        button.secondary type="submit" { (v.t("Mark failed")) }
                    }
                }
            }
        }
    }
}

async fn settle(State(state): State<AppState>, Path(id): Path<i64>, Posted { v, form }: Posted) -> Response {
    let text = |name: &str| Some(form.get(name).trim().to_string()).filter(|s| !s.is_empty());
    let result =
        PayoutResult { paid: form.get("status") == "succeeded", reference: text("reference"), reason: text("reason") };
    let sender = v.caller.sender();
    let before = {
        let sender = v.caller.sender();
        state.run(move |e| e.refund_as(&sender, id)).await
    };
    let back = before.map(|r| r.status).unwrap_or(LedgerStatus::AwaitingPayout);
    match state.run(move |e| e.settle_refund_as(&sender, id, result)).await {
        Ok(_) => Redirect::to(&format!("/w/refunds?status={}", back.as_str())).into_response(),
        Err(e) => show(&state, &v, back, Some((false, i18n::problem_text(v.lang, &e)))).await,
    }
}

/// A refused payout file in words: the sentence, and always the report of its bad lines (the
/// API's detail, which names each line), in every language.
fn file_refusal(v: &Viewer, e: &crate::error::ApiError) -> String {
    let text = i18n::problem_text(v.lang, e);
    if v.lang == i18n::Lang::En {
        text
    } else {
        format!("{text} ({})", e.0.detail)
    }
}

async fn payouts(State(state): State<AppState>, Posted { v, form }: Posted) -> Response {
    let Some(file) = form.files.first() else {
        let e = crate::error::ApiError::bad("file", "choose the payout file");
        return show(&state, &v, LedgerStatus::AwaitingPayout, Some((false, i18n::problem_text(v.lang, &e)))).await;
    };
    match crate::services::settle_payout_file(&state, v.caller.sender(), &file.bytes).await {
        Ok(rows) => {
            let m = format!("{} {}", rows.len(), v.t("refunds settled from the file."));
            show(&state, &v, LedgerStatus::AwaitingPayout, Some((true, m))).await
        }
        Err(e) => show(&state, &v, LedgerStatus::AwaitingPayout, Some((false, file_refusal(&v, &e)))).await,
    }
}
