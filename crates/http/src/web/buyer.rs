//! The buyer's pages: my orders, and applying for after-sales on one (U1, S1, R1) with the
//! amount prefilled with what can still be refunded. Following the case is the shared case page.

use super::forms::{action_body, FormData, Posted};
use super::view::*;
use super::{form_idem, i18n, refusal_page, render, Viewer, Zone};
use crate::error::ApiError;
use crate::input::{parse_json, path_id};
use crate::state::AppState;
use aftersale_core::command::APPLY_REASONS;
use aftersale_core::labels::CASE_TYPES;
use aftersale_core::lines::eligibility::LineEligibility;
use aftersale_core::values::*;
use aftersale_core::*;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

pub fn routes() -> Router<AppState> {
    Router::new().route("/b/orders", get(orders)).route("/b/orders/{order}/apply", get(apply_page).post(apply))
}

async fn orders(State(state): State<AppState>, v: Viewer) -> Response {
    let Actor::Buyer { buyer } = v.caller.actor else {
        return refusal_page(&v, &ApiError::forbidden("my orders is the buyer's page"));
    };
    let list = match state.run(move |e| e.buyer_orders(buyer, None, 100)).await {
        Ok(l) => l,
        Err(e) => return refusal_page(&v, &e),
    };
    let body = html! {
        h1 { (v.t("My orders")) }
        @if list.is_empty() { p { (v.t("You have no orders yet.")) } }
        table.cases {
            thead { tr {
                th scope="col" { (v.t("Order number")) }
                th scope="col" { (v.t("Paid")) }
                th scope="col" { (v.t("Order status")) }
                th scope="col" { (v.t("After-sales")) }
            } }
            tbody {
                @for (o, current) in &list {
                    @let may_apply = !application_options(o).is_empty();
                    tr data-order=(o.id) {
                        td { (o.order_no) }
                        td { (money(o.total)) }
                        td { (v.t(order_state(o.state))) }
                        td {
                            @if let Some(c) = current { a href=(format!("/cases/{c}")) { (v.t("Follow the case")) } }
                            @if current.is_some() && may_apply { " · " }
                            @if may_apply {
                                a href=(format!("/b/orders/{}/apply", o.id)) { (v.t("Apply for after-sales")) }
                            }
                            @if current.is_none() && !may_apply { "—" }
                        }
                    }
                }
            }
        }
    };
    render(&v, v.t("My orders"), body)
}

fn order_state(s: OrderState) -> &'static str {
    match s {
        OrderState::AwaitingPayment => "awaiting payment",
        OrderState::AwaitingConfirmation => "paid, awaiting confirmation",
        OrderState::Stocking => "being prepared",
        OrderState::Shipped => "shipped",
        OrderState::Delivered => "delivered",
        OrderState::Completed => "completed",
        OrderState::Cancelled => "cancelled",
    }
}

/// The order with what the buyer may open on each of its lines now (L2–L4), for the form.
async fn load_eligibility(state: &AppState, v: &Viewer, raw: &str) -> Result<(Order, Eligible), Response> {
    let id = OrderId(path_id(raw, "order").map_err(|e| refusal_page(v, &e))?);
    let actor = v.caller.actor;
    state
        .run(move |e| {
            let (o, lines, _) = e.eligibility(actor, id)?;
            let zone = Zone::of(&e.policy_of(o.shop_id)?);
            Ok((o, Eligible { lines, zone }))
        })
        .await
        .map_err(|e| refusal_page(v, &e))
}

/// What the buyer may open on each line now, and the shop's time zone to say until when.
struct Eligible {
    lines: Vec<LineEligibility>,
    zone: Zone,
}

async fn apply_page(State(state): State<AppState>, v: Viewer, Path(order): Path<String>) -> Response {
    match load_eligibility(&state, &v, &order).await {
        Ok((o, eligible)) => render(&v, v.t("Apply for after-sales"), form(&v, &o, &eligible, None, &[])),
        Err(r) => r,
    }
}

/// L2, L4: the order's lines with the units the buyer may ask about (all that are free, at first)
/// and the windows that run on each. Shown when there is more than one unit to choose from.
fn line_picker(
    v: &Viewer,
    o: &Order,
    eligible: &Eligible,
    val: &dyn Fn(&str, &str) -> String,
    at_fault: bool,
) -> Markup {
    let (lines, zone) = (&eligible.lines, eligible.zone);
    html! {
        fieldset.lines data-testid="line-picker" {
            legend { (v.t("Items and units")) }
            p.hint { (v.t("Leave at 0 for items you are not asking about.")) }
            @for l in &o.lines {
                @let e = lines.iter().find(|e| e.line == l.no);
                @let available = e.map_or(0, |e| e.available_units);
                @let name = format!("units.{}", l.no);
                div.line {
                    label for=(format!("a-units-{}", l.no)) {
                        (l.title) @if !l.sku.is_empty() { " " small { (l.sku) } }
                        " · " (money(l.paid)) " · " (available) " " (v.t("available"))
                    }
                    input id=(format!("a-units-{}", l.no)) type="number" name=(name) min="0" max=(available) step="1"
                        value=(val(&name, &available.to_string())) disabled[available == 0]
                        aria-invalid=[at_fault.then_some("true")];
                    @if let Some(e) = e {
                        small.window {
                            @if let Some(u) = e.any_reason_until { (v.t("Any-reason returns until")) " " (time(u, zone)) " " }
                            @if let Some(u) = e.quality_until { (v.t("Quality reasons until")) " " (time(u, zone)) }
                        }
                    }
                }
            }
        }
    }
}

fn form(
    v: &Viewer,
    o: &Order,
    lines: &Eligible,
    err: Option<(&ApiError, &FormData)>,
    kept: &[(String, String)],
) -> Markup {
    let val = |n: &str, d: &str| err.map(|(_, f)| f.get(n).to_string()).unwrap_or_else(|| d.to_string());
    let at_fault = |n: &str| {
        err.and_then(|(e, _)| e.0.field.as_deref())
            .is_some_and(|f| f == n || f.starts_with(&format!("{n}.")) || (n == "files" && f.starts_with("evidence")))
    };
    // What the rules let the buyer ask for now, per type (B3 with the shipping fee as they
    // apply it): the form starts with the first type and its whole cap.
    let options = application_options(o);
    let (default_kind, refundable) =
        options.first().copied().unwrap_or((CaseType::RefundOnly, o.refundable(CaseType::RefundOnly)));
    let message = err.map(|(e, _)| i18n::problem_text(v.lang, e));
    let fe = |n: &str| html! { @if at_fault(n) { @if let Some(m) = &message { p.field-error id=(format!("a-{n}-err")) { (m) } } } };
    let desc = |n: &str| at_fault(n).then(|| format!("a-{n}-err"));
    html! {
        nav.crumbs aria-label=(v.t("Breadcrumb")) { a href="/b/orders" { (v.t("My orders")) } " › " (o.order_no) }
        h1 { (v.t("Apply for after-sales")) " · " (o.order_no) }
        p { (v.t("Paid")) " " (money(o.total)) " · " (v.t("Refundable")) " " (money(refundable)) }
        form.card method="post" action=(format!("/b/orders/{}/apply", o.id)) enctype="multipart/form-data" {
            (v.form_fields())
            // Said once: next to the field it names, or here when it names none of the form's.
            @if let Some(m) = message.as_ref().filter(|_| !["kind", "reason", "amount", "description", "files"].iter().any(|f| at_fault(f))) {
                p.error role="alert" { (m) }
            }
            label for="a-kind" { (v.t("Type")) }
            select id="a-kind" name="kind" aria-describedby=[desc("kind")] {
                @for l in CASE_TYPES.iter().filter(|l| options.iter().any(|(k, _)| *k == l.value)) {
                    @let cap = options.iter().find(|(k, _)| *k == l.value).map(|(_, m)| *m);
                    option value=(l.value.as_str()) data-cap=[cap.map(money_input)] selected[val("kind", default_kind.as_str()) == l.value.as_str()] { (v.lang.pick(l.zh, l.en)) }
                }
            }
            (fe("kind"))
            @let o_lines = o.with_lines();
            @if o_lines.lines.len() > 1 || o_lines.lines.iter().any(|l| l.quantity > 1) {
                (line_picker(v, &o_lines, lines, &val, at_fault("lines") || at_fault("units")))
                (fe("lines"))
            }
            label for="a-reason" { (v.t("Reason")) }
            select id="a-reason" name="reason" aria-describedby=[desc("reason")] {
                @for r in APPLY_REASONS { option value=(r.code) selected[val("reason", "") == r.code] { (v.lang.pick(r.zh, r.en)) } }
            }
            (fe("reason"))
            label for="a-amount" { (v.t("Amount")) " (" (o.total.currency().as_str()) ") *" }
            input id="a-amount" name="amount" inputmode="decimal" required value=(val("amount", &money_input(refundable)))
                aria-invalid=[at_fault("amount").then_some("true")] aria-describedby=[desc("amount")];
            (fe("amount"))
            label for="a-description" { (v.t("Description")) }
            textarea id="a-description" name="description" rows="3" maxlength="1000" aria-describedby=[desc("description")] { (val("description", "")) }
            (fe("description"))
            @for (key, _) in kept { input type="hidden" name="evidence_key" value=(key); }
            @if !kept.is_empty() { p.kept { (v.t("Files already attached")) ": " (kept.len()) } }
            label for="a-files" { (v.t("Evidence files (JPEG, PNG, WebP, MP4, PDF)")) }
            input id="a-files" type="file" name="files" multiple accept="image/jpeg,image/png,image/webp,video/mp4,application/pdf" aria-describedby=[desc("files")];
            label for="a-caption" { (v.t("Caption")) }
            input id="a-caption" name="caption" maxlength="500" value=(val("caption", ""));
            (fe("files"))
            @if o.payment == PaymentMethod::Cod {
                fieldset {
                    legend { (v.t("Refund account (cash on delivery)")) }
                    label for="a-holder" { (v.t("Account holder")) } input id="a-holder" name="refund_account.holder" value=(val("refund_account.holder", "")) maxlength="64";
                    label for="a-bank" { (v.t("Bank")) } input id="a-bank" name="refund_account.bank" value=(val("refund_account.bank", "")) maxlength="64";
                    label for="a-number" { (v.t("Account number")) } input id="a-number" name="refund_account.number" value=(val("refund_account.number", "")) maxlength="34";
                    (fe("refund_account"))
                }
            }
            button type="submit" { (v.t("Apply")) }
        }
    }
}

async fn apply(State(state): State<AppState>, Path(order): Path<String>, Posted { v, form }: Posted) -> Response {
    let (o, lines) = match load_eligibility(&state, &v, &order).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let caption = form.get("caption").to_string();
    let mut evidence: Vec<(String, String)> =
        form.all("evidence_key").filter(|k| !k.is_empty()).map(|k| (k.to_string(), caption.clone())).collect();
    let result = async {
        for (i, f) in form.files.iter().enumerate() {
            let key = super::upload_key(&v.caller, form.get("idem"), i, &f.bytes);
            let (ev, _) = crate::services::store_upload(
                &state,
                &v.caller,
                f.bytes.clone(),
                &f.content_type,
                caption.clone(),
                key,
            )
            .await?;
            evidence.push((ev.key, caption.clone()));
        }
        // The application's body is the resubmission's, less the action name.
        let body = action_body("resubmit", &form, o.total.currency(), &evidence)?;
        let cmd: ApplyOf<EvidenceRef> = parse_json(&body)?;
        crate::services::apply(&state, &v.caller, o.id, cmd, form_idem(form.get("idem"))).await
    }
    .await;
    match result {
        Ok(case) => Redirect::to(&format!("/cases/{}?done=apply", case.id)).into_response(),
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let mut res =
                render(&v, v.t("Apply for after-sales"), self::form(&v, &o, &lines, Some((&e, &form)), &evidence));
            *res.status_mut() = status;
            res
        }
    }
}
