//! The case page, for each party: where the case stands and what happens next, the order and
//! its amounts, the evidence, remarks and flag, the log, the thread, and exactly the actions the
//! engine says the viewer may take now, each as a form. A form's action goes through the JSON
//! API's own `act` (the same parsing, checks and use-case); a refusal is shown next to the form
//! with what was typed kept, and a stale page shows the case's new state instead of acting.

use super::actions::{self, FormError};
use super::forms::{action_body, FormData, Posted};
use super::view::*;
use super::{form_idem, i18n, refusal_page, render, Viewer, Zone};
use crate::error::{ApiError, ApiResult};
use crate::input::path_id;
use crate::state::AppState;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::{CaseSheet, ReplyTemplate};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/cases/{case}", get(page)).route("/cases/{case}/act/{action}", post(act))
}

/// What the case page shows besides the sheet: the shop's address book and reply templates
/// (merchant staff only).
#[derive(Default)]
pub struct Extras {
    pub addresses: Vec<(Address, bool)>,
    pub templates: Vec<ReplyTemplate>,
}

async fn load(state: &AppState, v: &Viewer, id: CaseId) -> ApiResult<(CaseSheet, Extras)> {
    let actor = v.caller.actor;
    let shop = v.caller.shop();
    state
        .run(move |e| {
            let sheet = e.case_sheet(actor, id)?;
            let extras = match shop {
                Some(s) => Extras { addresses: e.addresses(s)?, templates: e.templates(s)? },
                None => Extras::default(),
            };
            Ok((sheet, extras))
        })
        .await
}

#[derive(Deserialize, Default)]
struct PageQuery {
    done: Option<String>,
    again: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Path(case): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let id = match path_id(&case, "case") {
        Ok(id) => CaseId(id),
        Err(e) => return refusal_page(&v, &e),
    };
    match load(&state, &v, id).await {
        Ok((sheet, extras)) => {
            let flash = match (q.done.as_deref(), q.again.as_deref()) {
                (_, Some(a)) => {
                    Some(format!("{} {}", v.t("Already done (this form was sent before):"), v.t(actions::title(a))))
                }
                (Some(a), None) => Some(format!("{} {}", v.t("Done:"), v.t(actions::title(a)))),
                (None, None) => None,
            };
            respond(&v, StatusCode::OK, &sheet, &extras, flash, None, None)
        }
        Err(e) => refusal_page(&v, &e),
    }
}

fn respond(
    v: &Viewer,
    status: StatusCode,
    sheet: &CaseSheet,
    extras: &Extras,
    flash: Option<String>,
    banner: Option<String>,
    err: Option<&FormError>,
) -> Response {
    let title = format!("{} {}", v.t("Case"), sheet.case.id);
    let mut res = render(v, &title, body(v, sheet, extras, flash, banner, err));
    *res.status_mut() = status;
    res
}

async fn act(
    State(state): State<AppState>,
    Path((case, action)): Path<(String, String)>,
    Posted { v, form }: Posted,
) -> Response {
    let id = match path_id(&case, "case") {
        Ok(id) => CaseId(id),
        Err(e) => return refusal_page(&v, &e),
    };
    let (sheet, extras) = match load(&state, &v, id).await {
        Ok(x) => x,
        Err(e) => return refusal_page(&v, &e),
    };
    let outcome = if action == "merchant_refund" {
        // C1 opens a new case on the order: the browser goes to it.
        match merchant_refund(&state, &v, &sheet, &form).await {
            Ok(new) => return Redirect::to(&format!("/cases/{new}?done=merchant_refund")).into_response(),
            Err(e) => Err((e, Vec::new())),
        }
    } else {
        submit(&state, &v, &sheet, &action, &form).await
    };
    match outcome {
        // A form sent again after it acted (double click, back button) acted once: say so.
        Ok(true) => Redirect::to(&format!("/cases/{id}?again={action}")).into_response(),
        Ok(false) => Redirect::to(&format!("/cases/{id}?done={action}")).into_response(),
        Err((e, kept)) => {
            // Show the case as it is now: after a conflict that is the newer state.
            let (sheet, extras) = load(&state, &v, id).await.unwrap_or((sheet, extras));
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            if e.0.code == "version_conflict" {
                let banner = i18n::problem_text(v.lang, &e);
                return respond(&v, status, &sheet, &extras, None, Some(banner), None);
            }
            let err = FormError {
                action: action.clone(),
                message: i18n::problem_text(v.lang, &e),
                field: e.0.field.clone(),
                values: form.fields.clone(),
                kept,
            };
            respond(&v, status, &sheet, &extras, None, None, Some(&err))
        }
    }
}

/// C1 from the case page: the shop refunds the buyer on the case's order.
async fn merchant_refund(state: &AppState, v: &Viewer, sheet: &CaseSheet, form: &FormData) -> ApiResult<CaseId> {
    let body = action_body("merchant_refund", form, sheet.order.total.currency(), &[])?;
    let cmd: MerchantRefund = crate::input::parse_json(&body)?;
    let case =
        crate::services::merchant_refund(state, &v.caller, sheet.order.id, cmd, form_idem(form.get("idem"))).await?;
    Ok(case.id)
}

/// Sends one form: its files are uploaded first (as the JSON API's upload does), then the action
/// is taken as the JSON API takes it (`services::case_action`). Answers whether the form had
/// acted before (its key's first answer came back); on a refusal, the files already uploaded,
/// so that the form keeps them.
async fn submit(
    state: &AppState,
    v: &Viewer,
    sheet: &CaseSheet,
    action: &str,
    form: &FormData,
) -> Result<bool, (ApiError, Vec<(String, String)>)> {
    let caption = form.get("caption").to_string();
    // Files kept from an earlier, refused submission of this form, then the new ones.
    let mut evidence: Vec<(String, String)> =
        form.all("evidence_key").filter(|k| !k.is_empty()).map(|k| (k.to_string(), caption.clone())).collect();
    for (i, f) in form.files.iter().enumerate() {
        let key = super::upload_key(&v.caller, form.get("idem"), i, &f.bytes);
        match crate::services::store_upload(state, &v.caller, f.bytes.clone(), &f.content_type, caption.clone(), key)
            .await
        {
            Ok((ev, _)) => evidence.push((ev.key, caption.clone())),
            Err(e) => return Err((e, evidence)),
        }
    }
    // A reply template (T2) and a proposal's address from the book (R4) are named by id: the
    // engine resolves them, as for the JSON API.
    let form_text = FormData { fields: form.fields.clone(), files: Vec::new() };
    let body =
        action_body(action, &form_text, sheet.order.total.currency(), &evidence).map_err(|e| (e, evidence.clone()))?;
    let expected = match form.get("version") {
        "" => None,
        s => Some(s.parse::<u64>().map_err(|_| (ApiError::bad("version", "not a version"), evidence.clone()))?),
    };
    let key = form_idem(form.get("idem"));
    crate::services::case_action(state, &v.caller, sheet.case.id, action, &body, expected, key)
        .await
        .map(|answer| answer.replayed)
        .map_err(|e| (e, evidence))
}

/// "If the shop does nothing by 14:00 tomorrow, your refund is approved automatically": the
/// governing deadline, who it waits for, and what the system does when it passes.
fn what_next(v: &Viewer, sheet: &CaseSheet, zone: Zone) -> Markup {
    let Some(d) = sheet.governing else {
        return html! { p { (v.t("No deadline runs on this case now.")) } };
    };
    let outcome = expiry_outcome(&sheet.case, d.kind);
    // Said to the buyer about their own refund.
    let outcome = match (v.is_buyer(), outcome) {
        (true, "the buyer is refunded") => v.t("your refund is approved automatically"),
        (true, "receipt is confirmed and the buyer refunded") => v.t("receipt is confirmed and your refund approved"),
        (true, "the platform rules for the buyer") => v.t("the platform rules in your favour"),
        (_, o) => v.t(o),
    };
    let who = waits_for(d.kind);
    let me = v.caller.actor.party();
    let lead = match who.first() {
        Some(p) if *p == me => v.t("If you do nothing by"),
        Some(Party::Merchant) => v.t("If the shop does nothing by"),
        Some(Party::Buyer) => v.t("If the buyer does nothing by"),
        _ => v.t("Automatically at"),
    };
    let near = sheet.policy.near_deadline;
    html! {
        div.deadline role="region" aria-label=(v.t("Deadline")) {
            p.next {
                (lead) " " strong { (local(d.due, zone)) " " small.zone { (zone.name) } } (v.lang.pick("，", ", ")) (outcome) (v.lang.pick("。", "."))
            }
            p { (v.t("Time left")) ": " (countdown(v.lang, d.due, sheet.now, near)) " · " (v.t("Rule")) " " (d.kind.rule_for(sheet.case.kind)) }
        }
    }
}

fn body(
    v: &Viewer,
    sheet: &CaseSheet,
    extras: &Extras,
    flash: Option<String>,
    banner: Option<String>,
    err: Option<&FormError>,
) -> Markup {
    let (case, order) = (&sheet.case, &sheet.order);
    let zone = Zone::of(&sheet.policy);
    let merchant = v.is_merchant();
    let phone = if merchant { order.customer.phone.masked() } else { order.customer.phone.as_str().to_string() };
    // B3 and L2 as the rules apply them to this case's units and type (after shipment the
    // shipping fee stays).
    let refundable = order.case_refundable(case, &case.picks());
    html! {
        nav.crumbs aria-label=(v.t("Breadcrumb")) {
            @if merchant { a href="/w/queue" { (v.t("Cases")) } }
            @else if v.is_buyer() { a href="/b/orders" { (v.t("My orders")) } }
            @else { a href="/p/queue" { (v.t("Arbitration")) } }
            " › " (v.t("Case")) " " (case.id)
        }
        h1 {
            (type_label(v.lang, case.kind)) " · " (order.order_no) " "
            span class=(format!("status status-{}", case.status.as_str())) data-testid="status" data-status=(case.status.as_str()) { (status_label(v.lang, case.status.name())) }
            // The flag is the shop's own marker (W3): not shown to the buyer.
            @if !v.is_buyer() { " " (flag_chip(v.lang, order.flag)) }
        }
        @if let Some(f) = flash { p.flash role="status" { (f) } }
        @if let Some(b) = banner { p.error role="alert" data-testid="banner" { (b) } }
        (what_next(v, sheet, zone))
        div.grid {
            section aria-labelledby="amounts-h" {
                h2 id="amounts-h" { (v.t("Order and amounts")) }
                dl.facts {
                    dt { (v.t("Order number")) } dd { (order.order_no) }
                    dt { (v.t("Paid")) } dd { (money(order.total)) }
                    dt { (v.t("Shipping fee")) } dd { (money(order.shipping_fee)) }
                    dt { (v.t("Refundable")) } dd { (money(refundable)) }
                    dt { (v.t("Already refunded")) } dd { (money(order.refunded)) }
                    dt { (v.t("Requested")) } dd { (money(case.requested_amount)) }
                    dt { (v.t("Refund amount")) } dd data-testid="amount" { (money(case.amount)) }
                    dt { (v.t("Payment")) } dd { (match order.payment { PaymentMethod::Cod => v.t("Cash on delivery"), PaymentMethod::Online => v.t("Online") }) }
                }
            }
            section aria-labelledby="request-h" {
                h2 id="request-h" { (v.t("The request")) }
                dl.facts {
                    dt { (v.t("Buyer")) } dd { (order.customer.name) " · " span data-testid="phone" { (phone) } }
                    dt { (v.t("Reason")) } dd { (reason_label(v.lang, &case.reason)) }
                    dt { (v.t("Description")) } dd { (case.description) }
                    dt { (v.t("Applied at")) } dd { (time(case.applied_at, zone)) }
                    dt { (v.t("Status since")) } dd { (time(case.status_since, zone)) }
                    @if let Some(a) = &case.refund_account {
                        dt { (v.t("Refund account")) } dd data-testid="refund-account" { (a.holder) " · " (a.bank) " · " (a.number) }
                    }
                }
            }
        }
        (lines(v, sheet, zone))
        (replacement(v, sheet, zone))
        (intercept(v, sheet, zone))
        (split(v, sheet))
        (sections(v, sheet, zone))
        (evidence_gallery(v, case))
        @if merchant { (actions::merchant_panel(v, sheet, err)) }
        section aria-labelledby="actions-h" {
            h2 id="actions-h" { (v.t("What you can do")) }
            @let forms = actions::forms(v, sheet, extras, err);
            @if forms.is_empty() { p { (v.t("Nothing is waiting for you on this case.")) } }
            @else { div.actions { @for f in forms { (f) } } }
        }
        (thread(v, sheet, extras, zone, err))
        (timeline(v, sheet, zone))
    }
}

/// L2, L4: the case's lines — the units it is for, what they can still refund, and the window the
/// case's reason falls in.
fn lines(v: &Viewer, sheet: &CaseSheet, zone: Zone) -> Markup {
    use aftersale_core::lines::window::{window_for, ReasonCode};
    let (case, order) = (&sheet.case, sheet.order.with_lines());
    let why = ReasonCode::of_apply_reason(&case.reason);
    html! {
        section aria-labelledby="lines-h" {
            h2 id="lines-h" { (v.t("Lines")) }
            div.table-scroll { table.lines data-testid="case-lines" {
                thead { tr { th { (v.t("Line")) } th { (v.t("Item")) } th { (v.t("Units")) } th { (v.t("Refundable")) } th { (v.t("Return window")) } } }
                tbody {
                    @for p in case.picks() {
                        @if let Some(l) = order.lines.iter().find(|l| l.no == p.line) {
                            tr {
                                td { (l.no) }
                                td { (l.title) @if !l.sku.is_empty() { " " small { (l.sku) } } }
                                td { (p.units) " / " (l.quantity) }
                                td { (money(order.case_refundable(case, &[p]))) }
                                td {
                                    @match window_for(&sheet.policy, order.delivered_at, why, l.kind) {
                                        None => { (v.t("none before delivery")) }
                                        Some((name, until)) => {
                                            (if name == "quality" { v.t("quality reasons") } else { v.t("any reason") })
                                            @match until {
                                                Some(u) => { " · " (v.t("until")) " " (time(u, zone)) }
                                                None => { " · " (v.t("not for this item")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
    }
}

/// K1/K2: the goods the shop sends instead of money, and where they are.
fn replacement(v: &Viewer, sheet: &CaseSheet, zone: Zone) -> Markup {
    use aftersale_core::lines::replacement::ShipmentState as S;
    let Some(r) = &sheet.case.replacement else { return html! {} };
    html! {
        section aria-labelledby="repl-h" data-testid="replacement" {
            h2 id="repl-h" { (if sheet.case.kind == CaseType::Resend { v.t("Missing items sent") } else { v.t("Replacement") }) }
            p {
                @match &r.state {
                    S::AwaitingShipment { due } => { (v.t("The shop ships by")) " " (time(*due, zone)) "; " (v.t("otherwise it refunds")) " " (money(r.refund_instead)) }
                    S::Shipped { logistics, at } => { (v.t("Shipped with")) " " (logistics.carrier.as_str()) " " (logistics.tracking_no.as_str()) " · " (time(*at, zone)) }
                    S::Delivered { at, confirm_due } => { (v.t("Delivered")) " " (time(*at, zone)) " · " (v.t("confirmed automatically at")) " " (time(*confirm_due, zone)) }
                    S::Completed { at, .. } => { (v.t("Received")) " " (time(*at, zone)) }
                    S::TurnedToRefund { amount, at } => { (v.t("Not shipped in time: refunded instead")) " " (money(*amount)) " · " (time(*at, zone)) }
                }
            }
        }
    }
}

/// L5: the case this one was split off (its return arrived without these units), or the cases
/// split off this one.
fn split(v: &Viewer, sheet: &CaseSheet) -> Markup {
    let into = sheet.order.split_from(sheet.case.id);
    if sheet.case.split_from.is_none() && into.is_empty() {
        return html! {};
    }
    html! {
        section aria-labelledby="split-h" data-testid="split" {
            h2 id="split-h" { (v.t("Received in part")) }
            @if let Some(from) = sheet.case.split_from {
                p { (v.t("These units did not arrive in the return of")) " " a href=(format!("/cases/{from}")) { (v.t("case")) " " (from) } }
            }
            @for c in &into {
                p { (v.t("The units that did not arrive are")) " " a href=(format!("/cases/{c}")) { (v.t("case")) " " (c) } }
            }
        }
    }
}

/// I1: the parcel the shop asked the carrier to stop.
fn intercept(v: &Viewer, sheet: &CaseSheet, zone: Zone) -> Markup {
    use aftersale_core::lines::intercept::InterceptState as S;
    let Some(i) = &sheet.case.intercept else { return html! {} };
    html! {
        section aria-labelledby="icpt-h" data-testid="intercept" {
            h2 id="icpt-h" { (v.t("Intercept")) }
            p {
                @match &i.state {
                    S::Requested { at } => { (v.t("Asked of the carrier")) " " (time(*at, zone)) }
                    S::Intercepted { at } => { (v.t("Stopped: on its way back")) " " (time(*at, zone)) }
                    S::Returned { at } => { (v.t("Back with the shop")) " " (time(*at, zone)) }
                    S::Failed { at, reason } => { (v.t("Not stopped")) " " (time(*at, zone)) " · " (reason) }
                }
                @if let Some(c) = i.cost { " · " (v.t("Cost")) " " (money(c)) }
            }
        }
    }
}

fn sections(v: &Viewer, sheet: &CaseSheet, zone: Zone) -> Markup {
    let case = &sheet.case;
    html! {
        @if let Some(r) = &case.rejection {
            section aria-labelledby="rej-h" {
                h2 id="rej-h" { (v.t("Rejection")) }
                p { (reason_label(v.lang, &r.reason_code)) " · " (time(r.at, zone)) }
                @if !r.explanation.is_empty() { p { (r.explanation) } }
                @if let Some(l) = &r.logistics { p { (v.t("Shipped with")) " " (l.carrier.as_str()) " " (l.tracking_no.as_str()) } }
            }
        }
        @if let Some(a) = &case.return_address {
            section aria-labelledby="ret-h" {
                h2 id="ret-h" { (v.t("Return")) }
                p { (v.t("Ship back to")) ": " (a.name) " · " (a.phone.as_str()) " · " (a.region) " " (a.detail) }
                @if let Some(p) = &case.return_parcel {
                    p { (v.t("Return parcel")) ": " (p.logistics.carrier.as_str()) " " (p.logistics.tracking_no.as_str()) " · " (time(p.submitted_at, zone))
                        @if p.signed { " · " (v.t("signed for")) } }
                }
            }
        }
        @if let Some(p) = &case.proposal {
            section aria-labelledby="prop-h" {
                h2 id="prop-h" { (v.t("Negotiation")) }
                p data-testid="proposal" data-state=(proposal_state(p.state)) { (type_label(v.lang, p.kind)) " · " (money(p.amount)) " · " (v.t(proposal_state(p.state))) " · " (time(p.at, zone)) }
            }
        }
        @if let Some(a) = &case.arbitration {
            section aria-labelledby="arb-h" {
                h2 id="arb-h" { (v.t("Arbitration")) }
                p { (v.t("Opened by")) " " (party_label(v.lang, a.opened_by)) " · " (time(a.opened_at, zone)) ": " (a.reason) }
                @for r in &a.requests {
                    div.request {
                        p { strong { (v.t("Evidence requested")) } " · " (time(r.requested_at, zone)) ": " (r.instructions) }
                        @if let Some(at) = r.submitted_at {
                            p { (v.t("Submitted")) " " (time(at, zone)) ": " (r.explanation.clone().unwrap_or_default()) }
                        }
                    }
                }
                @if let Some(r) = &a.ruling {
                    p data-testid="ruling" { strong { (v.t("Ruling")) } ": " (v.t("for")) " " (party_label(v.lang, r.for_party)) " · " (r.reason) " · " (time(r.at, zone)) }
                }
            }
        }
        @if let Some(ap) = &case.appeal {
            section aria-labelledby="app-h" {
                h2 id="app-h" { (v.t("Appeal")) }
                p data-testid="appeal" data-state=(appeal_state(ap.state)) { (v.t(appeal_state(ap.state))) " · " (time(ap.at, zone)) ": " (ap.text) }
                @if let Some(r) = &ap.result { p { (v.t("Result")) ": " (r) } }
            }
        }
        @if let Some(r) = &case.refund {
            section aria-labelledby="ref-h" {
                h2 id="ref-h" { (v.t("Refund")) }
                p { (money(r.amount)) " · " (v.t(refund_state(r))) " · " (v.t("started")) " " (time(r.started_at, zone))
                    @if let Some(at) = r.settled_at { " · " (v.t("settled")) " " (time(at, zone)) } }
            }
        }
    }
}

fn proposal_state(s: aftersale_core::model::ProposalState) -> &'static str {
    use aftersale_core::model::ProposalState::*;
    match s {
        Open => "waiting for the buyer",
        Accepted => "accepted",
        Declined => "declined",
        Withdrawn => "withdrawn",
        Lapsed => "lapsed",
    }
}

fn appeal_state(s: aftersale_core::model::AppealState) -> &'static str {
    use aftersale_core::model::AppealState::*;
    match s {
        Submitted => "submitted",
        UnderReview => "under review",
        Upheld => "upheld",
        Dismissed => "dismissed",
    }
}

fn refund_state(r: &aftersale_core::model::Refund) -> &'static str {
    use aftersale_core::model::RefundState::*;
    match r.state {
        Processing => "being paid",
        // The simulated gateway tries again on the clock; a payment service's refusal waits for
        // the platform's finance (the refund ledger's failed queue).
        Failed if r.next_attempt_at.is_some() => "failed, will be retried",
        Failed => "failed; the platform is paying it by other means",
        Succeeded => "paid back",
    }
}

/// Every file on the case: images inline, videos playable, PDFs linked, with caption and party.
fn evidence_gallery(v: &Viewer, case: &Case) -> Markup {
    let mut all: Vec<(Party, &Evidence)> = case.evidence.iter().map(|(p, e)| (*p, e)).collect();
    if let Some(r) = &case.rejection {
        all.extend(r.evidence.iter().map(|e| (Party::Merchant, e)));
    }
    if let Some(a) = &case.arbitration {
        for req in &a.requests {
            all.extend(req.evidence.iter().map(|e| (Party::Merchant, e)));
        }
    }
    if let Some(a) = &case.appeal {
        all.extend(a.evidence.iter().map(|e| (Party::Merchant, e)));
    }
    if let Some(r) = &case.refund {
        all.extend(r.voucher.iter().map(|e| (Party::Merchant, e)));
    }
    // A file named by two steps (added, then cited in a rejection) is shown once.
    let mut seen = std::collections::HashSet::new();
    all.retain(|(_, e)| seen.insert(e.key.clone()));
    html! {
        section aria-labelledby="ev-h" {
            h2 id="ev-h" { (v.t("Evidence")) " (" (all.len()) ")" }
            @if all.is_empty() { p { (v.t("No files yet.")) } }
            ul.gallery {
                @for (party, e) in &all {
                    @let url = format!("/api/v1/cases/{}/evidence/{}", case.id, e.key);
                    @let caption = if e.caption.is_empty() { v.t("(no caption)").to_string() } else { e.caption.clone() };
                    li {
                        @match e.kind {
                            EvidenceKind::Image => { img src=(url) alt=(caption) loading="lazy"; }
                            EvidenceKind::Video => { video src=(url) controls preload="metadata" aria-label=(caption) {} }
                            EvidenceKind::Pdf => { a href=(url) { "PDF" } }
                        }
                        p { (caption) " · " (party_label(v.lang, *party)) }
                    }
                }
            }
        }
    }
}

fn thread(v: &Viewer, sheet: &CaseSheet, extras: &Extras, zone: Zone, err: Option<&FormError>) -> Markup {
    let case = &sheet.case;
    html! {
        section aria-labelledby="thread-h" {
            h2 id="thread-h" { (v.t("Messages")) }
            @if case.thread.is_empty() { p { (v.t("No messages yet.")) } }
            ol.thread {
                @for m in &case.thread {
                    li { strong { (party_label(v.lang, m.from)) } " · " (time(m.at, zone)) p { (m.text) } }
                }
            }
            @if sheet.actions.contains(&Action::PostMessage) { (actions::post_message(v, sheet, extras, err)) }
        }
    }
}

fn timeline(v: &Viewer, sheet: &CaseSheet, zone: Zone) -> Markup {
    html! {
        section aria-labelledby="log-h" {
            h2 id="log-h" { (v.t("Case log")) }
            ol.timeline data-testid="log" {
                @for r in &sheet.log {
                    li {
                        (time(r.at, zone)) " · " strong { (party_label(v.lang, r.actor.party())) } " · " (event_label(v.lang, &r.event))
                        @if let Event::DeadlineFired { kind, .. } = &r.event { " (" (kind.rule_for(sheet.case.kind)) ")" }
                    }
                }
            }
        }
    }
}
