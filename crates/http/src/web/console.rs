//! The platform's console pages (the SMS outbox, penalties per shop, and on the demo the clock
//! with "advance by"), and everyone's message box (X1) with unread counts per category and
//! mark-read.

use super::forms::Posted;
use super::view::*;
use super::{refusal_page, render, Viewer};
use crate::error::ApiError;
use crate::state::AppState;
use aftersale_core::notice::Recipient;
use aftersale_core::*;
use aftersale_engine::NoticeQuery;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/p/sms", get(sms))
        .route("/p/clock", post(clock))
        .route("/w/messages", get(messages))
        .route("/w/messages/read", post(mark_read))
}

async fn sms(State(state): State<AppState>, v: Viewer) -> Response {
    if !v.is_platform() {
        return refusal_page(&v, &ApiError::forbidden("the SMS outbox is the platform's"));
    }
    let sender = v.caller.sender();
    let loaded = state
        .run(move |e| {
            let outbox = e.sms_outbox()?;
            let emails = e.emails_as(&sender, 200)?;
            let mut penalties = Vec::new();
            for shop in e.shops()? {
                penalties.extend(e.penalties(shop.id)?.into_iter().map(|p| (shop.name.clone(), p)));
            }
            Ok((outbox, penalties, emails))
        })
        .await;
    let (outbox, penalties, emails) = match loaded {
        Ok(x) => x,
        Err(e) => return refusal_page(&v, &e),
    };
    let demo = state.manual_clock.is_some() && state.engine.may_move_clock(&v.caller.sender()).is_ok();
    let body = html! {
        h1 { (v.t("Platform console")) }
        @if demo {
            section aria-labelledby="clock-h" {
                h2 id="clock-h" { (v.t("Demo clock")) }
                p { (v.t("The demo runs on its own clock. Now")) ": " (time(v.now, v.zone)) }
                form method="post" action="/p/clock" {
                    (v.form_fields())
                    label for="clock-by" { (v.t("Advance by (e.g. 6h, 2d)")) }
                    input id="clock-by" name="by" required value="6h" maxlength="40";
                    button type="submit" { (v.t("Advance the clock")) }
                }
            }
        }
        section aria-labelledby="sms-h" {
            h2 id="sms-h" { (v.t("SMS outbox")) " (" (outbox.len()) ")" }
            table {
                thead { tr { th scope="col" { (v.t("Time")) } th scope="col" { (v.t("Phone")) } th scope="col" { (v.t("Text")) } th scope="col" { (v.t("Case")) } th scope="col" { (v.t("Sent")) } } }
                tbody { @for s in outbox.iter().rev().take(200) {
                    tr { td { (time(s.at, v.zone)) } td { (s.phone) } td { (s.text) }
                        td { @if let Some(c) = s.case_id { a href=(format!("/cases/{c}")) { (c) } } }
                        td data-sms-state=(sms_state(s)) {
                            @if let Some(t) = s.sent_at { (time(t, v.zone)) @if let Some(id) = &s.provider_id { " · " code { (id) } } }
                            @else if let Some(t) = s.failed_at { span.error { (v.t("failed")) " " (time(t, v.zone)) } }
                            @else { (v.t("waiting")) }
                            @if s.attempts > 1 || (s.sent_at.is_none() && s.attempts > 0) { " · " (s.attempts) " " (v.t("attempts")) }
                            @if s.sent_at.is_none() { @if let Some(e) = &s.last_error { br; small { (e) } } } } }
                } }
            }
        }
        section aria-labelledby="email-h" {
            h2 id="email-h" { (v.t("Email outbox")) " (" (emails.len()) ")" }
            table {
                thead { tr { th scope="col" { (v.t("Time")) } th scope="col" { (v.t("To")) } th scope="col" { (v.t("Event")) } th scope="col" { (v.t("Case")) } th scope="col" { (v.t("Sent")) } } }
                tbody { @for m in &emails {
                    tr { td { (time(m.created_at, v.zone)) } td { (m.to) " · " (m.lang) } td { code { (m.kind) } }
                        td { @if let Some(c) = m.case_id { a href=(format!("/cases/{c}")) { (c) } } }
                        td data-email-state=(if m.sent_at.is_some() { "sent" } else if m.failed_at.is_some() { "failed" } else { "waiting" }) {
                            @if let Some(t) = m.sent_at { (time(t, v.zone)) }
                            @else if let Some(t) = m.failed_at { span.error { (v.t("failed")) " " (time(t, v.zone)) } }
                            @else { (v.t("waiting")) }
                            @if m.sent_at.is_none() { @if let Some(e) = &m.last_error { br; small { (e) } } } } }
                } }
            }
        }
        section aria-labelledby="pen-h" {
            h2 id="pen-h" { (v.t("Penalties")) " (" (penalties.len()) ")" }
            table {
                thead { tr { th scope="col" { (v.t("Shop")) } th scope="col" { (v.t("Case")) } th scope="col" { (v.t("Amount")) } th scope="col" { (v.t("Reason")) } th scope="col" { (v.t("Time")) } } }
                tbody { @for (shop, p) in &penalties {
                    tr { td { (shop) } td { a href=(format!("/cases/{}", p.case_id)) { (p.case_id) } } td { (money(p.amount)) } td { (p.reason) } td { (time(p.at, v.zone)) } }
                } }
            }
        }
    };
    render(&v, v.t("Platform console"), body)
}

/// A message's state, for the page's tests and styles: sent, failed (for good), or waiting.
fn sms_state(s: &aftersale_engine::StoredSms) -> &'static str {
    if s.sent_at.is_some() {
        "sent"
    } else if s.failed_at.is_some() {
        "failed"
    } else {
        "waiting"
    }
}

async fn clock(State(state): State<AppState>, Posted { v, form }: Posted) -> Response {
    let by = match Dur::parse(form.get("by")) {
        Ok(d) => d,
        Err(e) => return refusal_page(&v, &ApiError::bad("by", e)),
    };
    match crate::services::advance_clock(&state, &v.caller, by).await {
        Ok(_) => Redirect::to("/p/sms").into_response(),
        Err(e) => refusal_page(&v, &e),
    }
}

#[derive(Deserialize, Default)]
struct BoxQuery {
    category: Option<String>,
    #[serde(default)]
    unread: Option<String>,
    before: Option<i64>,
}

async fn messages(State(state): State<AppState>, v: Viewer, Query(q): Query<BoxQuery>) -> Response {
    let to = Recipient::of(&v.caller.actor);
    let category = q.category.clone().filter(|c| !c.is_empty());
    let unread_only = q.unread.as_deref() == Some("1");
    let nq = NoticeQuery { before: q.before, unread_only, category: category.clone(), limit: 50 };
    let mbox = match state.run(move |e| e.message_box_page(to, nq)).await {
        Ok(b) => b,
        Err(e) => return refusal_page(&v, &e),
    };
    let body = html! {
        h1 { (v.t("Messages")) }
        nav.tabs aria-label=(v.t("Categories")) {
            a href="/w/messages" aria-current=[category.is_none().then_some("page")] { (v.t("All")) }
            @for (cat, n) in &mbox.unread {
                a href=(format!("/w/messages?category={cat}")) aria-current=[(category.as_deref() == Some(cat.as_str())).then_some("page")] {
                    (v.t(category_label(cat))) " " span.badge aria-label=(format!("{n} {}", v.t("unread"))) { (n) }
                }
            }
        }
        form method="post" action="/w/messages/read" {
            (v.form_fields())
            ul.messages {
                @if mbox.entries.is_empty() { li { (v.t("No messages.")) } }
                @for n in &mbox.entries {
                    li class=(if n.read { "read" } else { "unread" }) {
                        input type="checkbox" name="id" value=(n.id) id=(format!("m-{}", n.id)) disabled[n.read];
                        label for=(format!("m-{}", n.id)) {
                            strong { (in_lang(v.lang, &n.title_zh, &n.title)) } " · " (time(n.at, v.zone))
                            @if !n.read { " · " span.badge { (v.t("unread")) } }
                        }
                        p { (in_lang(v.lang, &n.body_zh, &n.body)) @if let Some(c) = n.case_id { " " a href=(format!("/cases/{c}")) { (v.t("Open the case")) } } }
                    }
                }
            }
            @if !mbox.entries.is_empty() { button type="submit" { (v.t("Mark selected as read")) } }
        }
        @if let Some(next) = mbox.next {
            p { a rel="next" href=(format!("/w/messages?before={next}{}", category.as_deref().map(|c| format!("&category={c}")).unwrap_or_default())) { (v.t("Older")) " →" } }
        }
    };
    render(&v, v.t("Messages"), body)
}

/// A notice's text in the person's language: its Chinese, or its English where it has none
/// (entries written before notices were bilingual).
fn in_lang<'a>(lang: crate::web::Lang, zh: &'a str, en: &'a str) -> &'a str {
    if lang == crate::web::Lang::Zh && !zh.is_empty() {
        zh
    } else {
        en
    }
}

/// A message-box category in words (the pages translate them; the API keeps the codes).
fn category_label(code: &str) -> &'static str {
    match code {
        "after_sales" => "After-sales",
        "arbitration" => "Arbitration",
        "appeal" => "Appeals",
        "order" => "Orders",
        "integration" => "Integrations",
        _ => "Other",
    }
}

async fn mark_read(State(state): State<AppState>, Posted { v, form }: Posted) -> Response {
    let ids: Vec<i64> = form.all("id").filter_map(|s| s.parse().ok()).take(500).collect();
    let to = Recipient::of(&v.caller.actor);
    match state.run(move |e| e.mark_read(to, ids)).await {
        Ok(_) => Redirect::to("/w/messages").into_response(),
        Err(e) => refusal_page(&v, &e),
    }
}
