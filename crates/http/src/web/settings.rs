//! The shop's settings: the return address book with its default (R4), the reply templates
//! (T2), and the policy in force — the profile's values with the shop's overrides. Changes are
//! the shop owner's (the engine's `Sender::manages_shop`, as for the JSON API).

use super::forms::Posted;
use super::{i18n, refusal_page, render, Viewer};
use crate::error::ApiError;
use crate::state::AppState;
use aftersale_core::values::Phone;
use aftersale_core::Policy;
use aftersale_engine::AddressInput;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/w/settings", get(page))
        .route("/w/settings/addresses", post(add_address))
        .route("/w/settings/templates", post(add_template))
        .route("/w/settings/templates/delete", post(delete_template))
}

#[derive(Deserialize, Default)]
struct Done {
    done: Option<String>,
}

async fn page(State(state): State<AppState>, v: Viewer, Query(q): Query<Done>) -> Response {
    show(&state, &v, q.done.map(|_| v.t("Saved.").to_string()), None).await
}

async fn show(state: &AppState, v: &Viewer, flash: Option<String>, error: Option<(String, String)>) -> Response {
    let Some((shop, _, profile)) = v.shop.clone() else {
        return refusal_page(v, &ApiError::forbidden("settings are for shop staff"));
    };
    let loaded = state.run(move |e| Ok((e.addresses(shop)?, e.templates(shop)?, e.policy_of(shop)?))).await;
    let (addresses, templates, policy) = match loaded {
        Ok(x) => x,
        Err(e) => return refusal_page(v, &e),
    };
    // Whether the forms are offered is the engine's answer, as for the JSON API.
    let owner = v.caller.sender().manages_shop(shop).is_ok();
    let err_for = |what: &str| error.as_ref().filter(|(w, _)| w == what).map(|(_, m)| m.clone());
    let body = html! {
        h1 { (v.t("Settings")) }
        @if let Some(f) = flash { p.flash role="status" { (f) } }
        @if !owner { p { (v.t("Only the shop's owner can change these.")) } }
        section aria-labelledby="addr-h" {
            h2 id="addr-h" { (v.t("Return addresses")) }
            ul { @for (a, is_default) in &addresses {
                li { (a.name) " · " (a.phone.as_str()) " · " (a.region) " " (a.detail) @if *is_default { " " strong { "(" (v.t("default")) ")" } } }
            } }
            @if owner {
                form.card method="post" action="/w/settings/addresses" {
                    (v.form_fields())
                    @if let Some(m) = err_for("address") { p.error role="alert" { (m) } }
                    label for="ad-name" { (v.t("Name")) } input id="ad-name" name="name" required maxlength="64";
                    label for="ad-phone" { (v.t("Phone")) } input id="ad-phone" name="phone" required inputmode="tel";
                    label for="ad-region" { (v.t("Region")) } input id="ad-region" name="region" required maxlength="200";
                    label for="ad-detail" { (v.t("Street and number")) } input id="ad-detail" name="detail" required maxlength="300";
                    div.check { input id="ad-default" type="checkbox" name="is_default"; label for="ad-default" { (v.t("Make it the default")) } }
                    button type="submit" { (v.t("Add address")) }
                }
            }
        }
        section aria-labelledby="tpl-h" {
            h2 id="tpl-h" { (v.t("Reply templates")) }
            ul { @for t in &templates {
                li { strong { (t.title) } ": " (t.body)
                    @if owner {
                        form.inline method="post" action="/w/settings/templates/delete" {
                            (v.form_fields())
                            input type="hidden" name="id" value=(t.id);
                            button.small type="submit" aria-label=(format!("{} {}", v.t("Delete"), t.title)) { (v.t("Delete")) }
                        }
                    }
                }
            } }
            @if owner {
                form.card method="post" action="/w/settings/templates" {
                    (v.form_fields())
                    @if let Some(m) = err_for("template") { p.error role="alert" { (m) } }
                    label for="tp-title" { (v.t("Title")) } input id="tp-title" name="title" required maxlength="64";
                    label for="tp-body" { (v.t("Text")) } textarea id="tp-body" name="body" required maxlength="2000" rows="3" {}
                    button type="submit" { (v.t("Add template")) }
                }
            }
        }
        (policy_table(v, &profile, &policy))
        @if owner { p { a href="/w/settings/webhooks" { (v.t("Webhooks")) } " — " (v.t("send the shop's events to its own systems")) } }
    };
    let mut res = render(v, v.t("Settings"), body);
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

fn policy_table(v: &Viewer, profile: &str, p: &Policy) -> Markup {
    let dur =
        |d: Option<aftersale_core::Dur>| d.map(|d| d.to_string()).unwrap_or_else(|| v.t("not offered").to_string());
    let rows: Vec<(&str, String)> = vec![
        (v.t("Merchant review"), p.review.to_string()),
        (v.t("Buyer ships the return"), p.buyer_ship.to_string()),
        (v.t("Merchant confirms receipt"), p.receipt.to_string()),
        (v.t("Receipt extension"), dur(p.receipt_extension)),
        (v.t("COD refund voucher"), dur(p.cod_voucher)),
        (v.t("Arbitration evidence"), p.evidence.to_string()),
        (v.t("Buyer answers a rejection"), p.buyer_after_rejection.to_string()),
        (v.t("Resubmissions"), p.resubmissions.to_string()),
        (v.t("Appeal window"), p.appeal_window.to_string()),
        (v.t("Near deadline (shown red)"), p.near_deadline.to_string()),
    ];
    html! {
        section aria-labelledby="pol-h" {
            h2 id="pol-h" { (v.t("Policy in force")) }
            p { (v.t("Profile")) ": " code { (profile) } }
            table { tbody { @for (k, val) in rows { tr { th scope="row" { (k) } td { (val) } } } } }
        }
    }
}

/// The shop whose settings the viewer may change: their own, as its owner (the API's check).
fn own_shop(v: &Viewer) -> Result<aftersale_core::values::ShopId, ApiError> {
    let shop = v.caller.shop().ok_or_else(|| ApiError::forbidden("settings are for shop staff"))?;
    Ok(v.caller.sender().manages_shop(shop)?)
}

async fn add_address(State(state): State<AppState>, Posted { v, form }: Posted) -> Response {
    let shop = match own_shop(&v) {
        Ok(s) => s,
        Err(e) => return refusal_page(&v, &e),
    };
    let phone = match Phone::parse(form.get("phone")) {
        Ok(p) => p,
        Err(e) => return show(&state, &v, None, Some(("address".into(), format!("{}: {e}", v.t("Phone"))))).await,
    };
    let input = AddressInput {
        name: form.get("name").to_string(),
        phone,
        region: form.get("region").to_string(),
        detail: form.get("detail").to_string(),
        is_default: form.get("is_default") == "on",
    };
    let sender = v.caller.sender();
    match state.run(move |e| e.add_address_as(&sender, shop, input)).await {
        Ok(_) => Redirect::to("/w/settings?done=address").into_response(),
        Err(e) => show(&state, &v, None, Some(("address".into(), i18n::problem_text(v.lang, &e)))).await,
    }
}

async fn add_template(State(state): State<AppState>, Posted { v, form }: Posted) -> Response {
    let shop = match own_shop(&v) {
        Ok(s) => s,
        Err(e) => return refusal_page(&v, &e),
    };
    let (title, text) = (form.get("title").to_string(), form.get("body").to_string());
    let sender = v.caller.sender();
    match state.run(move |e| e.add_template_as(&sender, shop, &title, &text)).await {
        Ok(_) => Redirect::to("/w/settings?done=template").into_response(),
        Err(e) => show(&state, &v, None, Some(("template".into(), i18n::problem_text(v.lang, &e)))).await,
    }
}

async fn delete_template(State(state): State<AppState>, Posted { v, form }: Posted) -> Response {
    let shop = match own_shop(&v) {
        Ok(s) => s,
        Err(e) => return refusal_page(&v, &e),
    };
    let Ok(id) = form.get("id").parse::<i64>() else {
        return refusal_page(&v, &ApiError::not_found("template"));
    };
    let sender = v.caller.sender();
    match state.run(move |e| e.delete_template_as(&sender, shop, id)).await {
        Ok(()) => Redirect::to("/w/settings?done=template").into_response(),
        Err(e) => refusal_page(&v, &e),
    }
}
