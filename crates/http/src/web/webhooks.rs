//! The shop owner's webhook endpoints in the workbench: the list, adding one (its secret shown
//! once), each endpoint's delivery log with its attempts, a test event, sending a delivery again,
//! turning an endpoint off and on, a new secret, deleting. The same engine use-cases as the JSON
//! API (`Engine::*_webhook*_as`); who may do what is theirs.

use super::forms::Posted;
use super::view::local;
use super::{i18n, refusal_page, render, Viewer};
use crate::error::ApiError;
use crate::state::AppState;
use aftersale_core::Timestamp;
use aftersale_engine::store::{WebhookAttempt, WebhookDelivery, WebhookEndpoint};
use aftersale_engine::webhooks::{EndpointChange, NewEndpoint};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/w/settings/webhooks", get(list).post(create))
        .route("/w/settings/webhooks/{id}", get(one))
        .route("/w/settings/webhooks/{id}/{act}", post(act))
        .route("/w/settings/webhook-deliveries/{id}/redeliver", post(redeliver))
}

fn wall_ms() -> i64 {
    aftersale_engine::runner::wall_ms()
}

async fn list(State(state): State<AppState>, v: Viewer) -> Response {
    show_list(&state, &v, None, None).await
}

/// The list, with a secret just made (shown once) or a refusal next to the form.
async fn show_list(state: &AppState, v: &Viewer, secret: Option<(String, String)>, error: Option<String>) -> Response {
    let (sender, owner) = (v.caller.sender(), v.caller.shop());
    let endpoints = match state.run(move |e| e.webhooks_as(&sender, owner)).await {
        Ok(x) => x,
        Err(e) => return refusal_page(v, &e),
    };
    let body = html! {
        h1 { (v.t("Webhooks")) }
        p { (v.t("Each event of the shop is sent, signed, to the endpoints that take its type.")) " "
            a href="/api/docs" { (v.t("How to verify a delivery")) } }
        @if let Some((url, s)) = &secret {
            div.flash role="status" {
                p { (v.t("The signing secret of")) " " code { (url) } ", " (v.t("shown this once:")) }
                p { code data-testid="webhook-secret" { (s) } }
            }
        }
        table.cases {
            thead { tr { th scope="col" { "URL" } th scope="col" { (v.t("Events")) } th scope="col" { (v.t("State")) } } }
            tbody {
                @if endpoints.is_empty() { tr { td colspan="3" { (v.t("No endpoint yet.")) } } }
                @for e in &endpoints {
                    tr { td { a href=(format!("/w/settings/webhooks/{}", e.id)) { (e.url) } }
                         td { (types_text(v, e)) }
                         td { (state_text(v, e)) } }
                }
            }
        }
        form.card method="post" action="/w/settings/webhooks" {
            (v.form_fields())
            @if let Some(m) = &error { p.error role="alert" { (m) } }
            label for="wh-url" { "URL" } input id="wh-url" name="url" required maxlength="2000" placeholder="https://";
            label for="wh-desc" { (v.t("Description")) } input id="wh-desc" name="description" maxlength="200";
            label for="wh-types" { (v.t("Event types (comma-separated; empty for all)")) } input id="wh-types" name="types" maxlength="2000";
            button type="submit" { (v.t("Add endpoint")) }
        }
    };
    let mut res = render(v, v.t("Webhooks"), body);
    if error.is_some() {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

fn types_text(v: &Viewer, e: &WebhookEndpoint) -> String {
    if e.types.is_empty() {
        v.t("every type").to_string()
    } else {
        e.types.join(", ")
    }
}

fn state_text(v: &Viewer, e: &WebhookEndpoint) -> Markup {
    html! {
        @if e.enabled { span.ok { (v.t("On")) } } @else { span.error { (v.t("Off")) } }
        @if let Some(r) = &e.disabled_reason { " · " (r) }
        @if let Some(since) = e.failing_since { " · " (v.t("failing since")) " " (local(Timestamp(since), v.zone)) }
    }
}

async fn create(State(state): State<AppState>, Posted { v, form }: Posted) -> Response {
    let (secret, sealed) = match state.webhooks.new_secret() {
        Ok(x) => x,
        Err(_) => return refusal_page(&v, &ApiError::internal(&crate::request_id::next())),
    };
    let url = form.get("url").trim().to_string();
    let new = NewEndpoint {
        url: url.clone(),
        description: form.get("description").to_string(),
        types: form.get("types").split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect(),
        enabled: true,
        sealed_secret: sealed,
    };
    let (sender, owner, rules) = (v.caller.sender(), v.caller.shop(), state.webhooks.rules.clone());
    match state.run(move |e| e.create_webhook_as(&sender, owner, new, &rules, wall_ms())).await {
        Ok(_) => show_list(&state, &v, Some((url, secret)), None).await,
        Err(e) => show_list(&state, &v, None, Some(i18n::problem_text(v.lang, &e))).await,
    }
}

async fn one(State(state): State<AppState>, v: Viewer, Path(id): Path<i64>) -> Response {
    let sender = v.caller.sender();
    let found = state
        .run(move |e| {
            let endpoint = e.webhook_as(&sender, id)?;
            Ok((endpoint, e.webhook_deliveries_as(&sender, id, 50)?))
        })
        .await;
    let (e, deliveries) = match found {
        Ok(x) => x,
        Err(err) => return refusal_page(&v, &err),
    };
    let button = |act: &str, label: &'static str| {
        html! { form.inline method="post" action=(format!("/w/settings/webhooks/{}/{act}", e.id)) {
        (v.form_fields()) button type="submit" { (v.t(label)) } } }
    };
    let body = html! {
        h1 { (v.t("Webhook")) }
        p { code { (e.url) } " · " (types_text(&v, &e)) " · " (state_text(&v, &e)) }
        @if !e.description.is_empty() { p { (e.description) } }
        p.buttons {
            (button("test", "Send a test event")) " "
            @if e.enabled { (button("disable", "Turn off")) } @else { (button("enable", "Turn on")) } " "
            (button("rotate", "New secret")) " "
            (button("delete", "Delete"))
        }
        h2 { (v.t("Deliveries")) }
        table.cases {
            thead { tr {
                th scope="col" { (v.t("Event")) } th scope="col" { (v.t("State")) }
                th scope="col" { (v.t("Attempts")) } th scope="col" { (v.t("Last answer")) } th scope="col" { span.sr { (v.t("Send again")) } }
            } }
            tbody {
                @if deliveries.is_empty() { tr { td colspan="5" { (v.t("Nothing sent yet.")) } } }
                @for (d, attempts) in &deliveries { (delivery_row(&v, d, attempts)) }
            }
        }
        p { a href="/w/settings/webhooks" { (v.t("All endpoints")) } }
    };
    render(&v, v.t("Webhook"), body)
}

fn delivery_row(v: &Viewer, d: &WebhookDelivery, attempts: &[WebhookAttempt]) -> Markup {
    let last = attempts.last();
    html! {
        tr data-delivery=(d.id) {
            td { (d.event_type) br; small { (d.event_id) " · " (local(Timestamp(d.created_at), v.zone)) } }
            td { (v.t(d.status.as_str())) }
            td { (d.attempts) }
            td { @if let Some(a) = last {
                @match (a.status_code, &a.error) {
                    (Some(code), _) => { (code) " · " (a.latency_ms) " ms" @if !a.response.is_empty() { br; small { (a.response.chars().take(200).collect::<String>()) } } }
                    (None, Some(err)) => { span.error { (err) } }
                    (None, None) => { "—" }
                }
            } @else { "—" } }
            td { form.inline method="post" action=(format!("/w/settings/webhook-deliveries/{}/redeliver", d.id)) {
                (v.form_fields()) button.small type="submit" { (v.t("Send again")) } } }
        }
    }
}

async fn act(
    State(state): State<AppState>,
    Path((id, act)): Path<(i64, String)>,
    Posted { v, .. }: Posted,
) -> Response {
    let (sender, rules) = (v.caller.sender(), state.webhooks.rules.clone());
    let back = format!("/w/settings/webhooks/{id}");
    let done = match act.as_str() {
        "test" => state.run(move |e| e.test_webhook_as(&sender, id, wall_ms()).map(|_| ())).await,
        "enable" | "disable" => {
            let change = EndpointChange { enabled: Some(act == "enable"), ..EndpointChange::default() };
            state.run(move |e| e.update_webhook_as(&sender, id, change, &rules).map(|_| ())).await
        }
        "delete" => {
            return match state.run(move |e| e.delete_webhook_as(&sender, id)).await {
                Ok(()) => Redirect::to("/w/settings/webhooks").into_response(),
                Err(e) => refusal_page(&v, &e),
            }
        }
        "rotate" => {
            let Ok((secret, sealed)) = state.webhooks.new_secret() else {
                return refusal_page(&v, &ApiError::internal(&crate::request_id::next()));
            };
            return match state.run(move |e| e.rotate_webhook_secret_as(&sender, id, sealed, wall_ms())).await {
                Ok(e) => show_list(&state, &v, Some((e.url, secret)), None).await,
                Err(e) => refusal_page(&v, &e),
            };
        }
        _ => return refusal_page(&v, &ApiError::not_found("action")),
    };
    match done {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(e) => refusal_page(&v, &e),
    }
}

async fn redeliver(State(state): State<AppState>, Path(id): Path<i64>, Posted { v, .. }: Posted) -> Response {
    let sender = v.caller.sender();
    match state.run(move |e| e.redeliver_webhook_as(&sender, id, wall_ms())).await {
        Ok(d) => Redirect::to(&format!("/w/settings/webhooks/{}", d.endpoint)).into_response(),
        Err(e) => refusal_page(&v, &e),
    }
}
