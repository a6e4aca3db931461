//! The web workbench: server-rendered pages for merchant staff (queues, search, the case page,
//! settings, the message box, the dashboard), buyers (orders, applying, following a case) and
//! the platform (arbitration, search across shops, the SMS outbox, the demo clock).
//!
//! Pages parse their forms with the API's parsers (`input/`) and call the same use-cases as the
//! JSON API (`services::case_action`, `apply`, `store_upload`, the engine's `case_sheet`): a
//! rule, a check or a visibility decision is never made here. Plain forms work without JavaScript; `app.js` adds live countdowns and confirm
//! dialogs. Every form carries a CSRF token derived from the session, and an idempotency key so
//! that a form sent twice acts once; a case form carries the version it was rendered for, so a
//! stale page says so instead of acting on the old state.

mod actions;
mod assets;
mod buyer;
mod case;
mod console;
mod dashboard;
mod forms;
pub mod i18n;
mod queue;
mod refunds;
mod settings;
mod view;
mod webhooks;

use crate::auth::{sha256_hex, Caller};
use crate::error::ApiError;
use crate::state::AppState;
use aftersale_core::notice::Recipient;
use aftersale_core::values::ShopId;
use aftersale_core::*;
use aftersale_engine::Role;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use i18n::Lang;
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;

pub const LANG_COOKIE: &str = "aftersale_lang";
const LOGIN_CSRF_COOKIE: &str = "aftersale_login_csrf";

/// The pages' routes (HTML; not part of the JSON API's document).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/lang", post(set_lang))
        .route("/assets/{name}", get(assets::serve))
        .merge(queue::routes())
        .merge(case::routes())
        .merge(buyer::routes())
        .merge(console::routes())
        .merge(settings::routes())
        .merge(webhooks::routes())
        .merge(refunds::routes())
        .merge(dashboard::routes())
}

/// The time zone every time on a page is shown in, named: the shop's platform's (its profile
/// says which), or China Standard Time for the platform's own staff and pages without a shop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone {
    pub name: &'static str,
    pub offset: Dur,
}

impl Zone {
    pub const SHANGHAI: Zone = Zone { name: "Asia/Shanghai", offset: Dur(8 * 3_600_000) };

    /// The zone a policy's platform runs in.
    pub fn of(policy: &aftersale_core::Policy) -> Zone {
        Zone { name: policy.zone.name(), offset: policy.zone.offset() }
    }
}

/// Who is looking at a page: the caller, their language and time zone, the CSRF token of their
/// session, and the unread count shown in the header.
pub struct Viewer {
    pub caller: Caller,
    pub lang: Lang,
    pub zone: Zone,
    pub csrf: String,
    pub unread: u64,
    /// The shop's name and profile, for merchant staff.
    pub shop: Option<(ShopId, String, String)>,
    /// The path and query of this request, to come back to after a login.
    pub here: String,
    /// The service clock's reading when the request came (the demo's clock is not the browser's).
    pub now: Timestamp,
}

/// The CSRF token of a credential: derived from the session (or token) secret, so it needs no
/// storage, differs per session, and cannot be read by another site.
fn csrf_of(secret: &str) -> String {
    sha256_hex(format!("aftersale-csrf:{secret}").as_bytes())[..32].to_string()
}

fn credential_secret(parts: &Parts) -> Option<String> {
    if let Some(v) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return v.strip_prefix("Bearer ").map(|t| t.trim().to_string());
    }
    crate::auth::session_cookie(parts)
}

fn cookie(parts_headers: &HeaderMap, name: &str) -> Option<String> {
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(parts_headers);
    jar.get(name).map(|c| c.value().to_string()).filter(|v| !v.is_empty())
}

/// The language: the person's choice (cookie), else the shop's platform's (its profile says
/// which), else the browser's.
fn pick_lang(headers: &HeaderMap, shop_language: Option<aftersale_core::Language>) -> Lang {
    if let Some(l) = cookie(headers, LANG_COOKIE).and_then(|v| Lang::parse(&v)) {
        return l;
    }
    match shop_language {
        Some(aftersale_core::Language::En) => return Lang::En,
        Some(aftersale_core::Language::ZhCn) => return Lang::Zh,
        None => {}
    }
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.trim_start().to_ascii_lowercase().starts_with("zh") {
        Lang::Zh
    } else {
        Lang::En
    }
}

fn here(parts: &Parts) -> String {
    parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into())
}

/// Where to go after logging in: a path of this site only (never another host).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn login_redirect(next: &str) -> Response {
    let to = format!("/login?next={}", form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>());
    Redirect::to(&to).into_response()
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let here = here(parts);
        // A form sent with an expired session comes back to the page it was sent from.
        let back = if parts.method == axum::http::Method::GET {
            here.clone()
        } else {
            parts
                .headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| r.find("://").map(|i| &r[i + 3..]).and_then(|r| r.find('/').map(|j| r[j..].to_string())))
                .unwrap_or_else(|| "/".into())
        };
        let caller = match Caller::from_request_parts(parts, state).await {
            Ok(c) => c,
            Err(e) if e.status() == 401 => return Err(login_redirect(&back)),
            Err(e) => return Err(error_page(Lang::En, &e)),
        };
        let secret = credential_secret(parts).unwrap_or_default();
        let shop = match caller.shop() {
            Some(id) => {
                let (record, policy) =
                    state.run(move |e| e.shop_with_policy(id)).await.map_err(|e| error_page(Lang::En, &e))?;
                Some((id, record.name, record.profile, policy))
            }
            None => None,
        };
        let lang = pick_lang(&parts.headers, shop.as_ref().map(|s| s.3.language));
        let zone = shop.as_ref().map(|s| Zone::of(&s.3)).unwrap_or(Zone::SHANGHAI);
        let shop = shop.map(|(id, name, profile, _)| (id, name, profile));
        let to = Recipient::of(&caller.actor);
        let unread = state
            .run(move |e| {
                e.message_box_page(
                    to,
                    aftersale_engine::NoticeQuery { limit: 1, unread_only: true, ..Default::default() },
                )
            })
            .await
            .map(|b| b.unread.iter().map(|(_, n)| n).sum())
            .unwrap_or(0);
        Ok(Viewer { caller, lang, zone, csrf: csrf_of(&secret), unread, shop, here, now: state.engine.now() })
    }
}

impl Viewer {
    pub fn t(&self, en: &'static str) -> &'static str {
        self.lang.t(en)
    }

    pub fn is_merchant(&self) -> bool {
        matches!(self.caller.actor, Actor::Merchant { .. })
    }

    pub fn is_buyer(&self) -> bool {
        matches!(self.caller.actor, Actor::Buyer { .. })
    }

    pub fn is_platform(&self) -> bool {
        matches!(self.caller.actor, Actor::Platform { .. })
    }

    /// The refusal of a form whose CSRF token is not this session's (none when it is).
    pub fn csrf_refusal(&self, sent: &str) -> Option<Response> {
        if !sent.is_empty() && constant_time_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            None
        } else {
            Some(message_page(
                self,
                StatusCode::FORBIDDEN,
                self.t("This form has expired"),
                self.t("The form was not sent from this session's page. Reload the page and try again."),
            ))
        }
    }

    /// The hidden fields every form carries.
    pub fn form_fields(&self) -> Markup {
        html! {
            input type="hidden" name="csrf" value=(self.csrf);
            input type="hidden" name="idem" value=(new_form_key());
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh key for one rendered form: the same form sent twice sends the same key.
pub fn new_form_key() -> String {
    crate::auth::new_token().map(|t| t[3..27].to_string()).unwrap_or_default()
}

/// The idempotency key of a form submission, scoped to the pages.
pub fn form_idem(key: &str) -> Option<aftersale_engine::IdemKey> {
    let ok = !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| aftersale_engine::IdemKey(format!("web:{key}")))
}

/// The object key of a form's file: the same form (its key) sending the same bytes names the
/// same object, so a form sent twice stores its file once and its action replays.
pub fn upload_key(caller: &Caller, form_key: &str, i: usize, bytes: &[u8]) -> Option<String> {
    form_idem(form_key)?;
    let digest = sha256_hex(bytes);
    Some(format!("ev-{}", &sha256_hex(format!("{}:{form_key}:{i}:{digest}", caller.user.id).as_bytes())[..32]))
}

/// The navigation of a role, as (path, label, key).
fn nav(v: &Viewer) -> Vec<(&'static str, &'static str)> {
    match v.caller.role() {
        Role::Owner | Role::Staff => vec![
            ("/w/queue", v.t("Cases")),
            ("/w/dashboard", v.t("Dashboard")),
            ("/w/messages", v.t("Messages")),
            ("/w/refunds", v.t("Refunds")),
            ("/w/settings", v.t("Settings")),
        ],
        Role::Buyer => vec![("/b/orders", v.t("My orders")), ("/w/messages", v.t("Messages"))],
        Role::Agent | Role::Admin => vec![
            ("/p/queue", v.t("Arbitration")),
            ("/p/search", v.t("Search all shops")),
            ("/p/sms", v.t("SMS outbox")),
            ("/w/refunds", v.t("Refunds")),
            ("/w/messages", v.t("Messages")),
        ],
    }
}

/// The page frame: header with navigation, unread badge, language switch and logout.
pub fn layout(v: &Viewer, title: &str, body: Markup) -> Markup {
    let active = v.here.split('?').next().unwrap_or("");
    html! {
        (DOCTYPE)
        html lang=(v.lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · aftersale" }
                link rel="stylesheet" href=(assets::css_url());
                script defer src=(assets::js_url()) {}
            }
            body data-now=(v.now.0) data-lang=(v.lang.tag()) {
                a.skip href="#main" { (v.t("Skip to content")) }
                header.top {
                    a.brand href="/" { "aftersale" }
                    nav aria-label=(v.t("Main")) {
                        @for (path, label) in nav(v) {
                            @let current = active.starts_with(path);
                            a href=(path) aria-current=[current.then_some("page")] {
                                (label)
                                @if path == "/w/messages" && v.unread > 0 {
                                    " " span.badge aria-label=(format!("{} {}", v.unread, v.t("unread"))) { (v.unread) }
                                }
                            }
                        }
                    }
                    div.who {
                        span { (v.caller.user.display_name) }
                        @if let Some((_, name, _)) = &v.shop { " · " span { (name) } }
                        form.inline method="post" action="/lang" {
                            (v.form_fields())
                            input type="hidden" name="next" value=(v.here);
                            label for="lang-pick" .sr { (v.t("Language")) }
                            select id="lang-pick" name="lang" data-autosubmit {
                                option value="zh" selected[v.lang == Lang::Zh] { "中文" }
                                option value="en" selected[v.lang == Lang::En] { "English" }
                            }
                            button.small type="submit" { (v.t("Switch")) }
                        }
                        form.inline method="post" action="/logout" {
                            (v.form_fields())
                            button.small type="submit" { (v.t("Log out")) }
                        }
                    }
                }
                main id="main" tabindex="-1" { (body) }
            }
        }
    }
}

/// Renders a full page.
pub fn render(v: &Viewer, title: &str, body: Markup) -> Response {
    html_response(StatusCode::OK, layout(v, title, body))
}

pub fn html_response(status: StatusCode, m: Markup) -> Response {
    let mut res = (status, Html(m.into_string())).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    res
}

/// A page that says one thing (a refusal of the whole request, a missing case).
pub fn message_page(v: &Viewer, status: StatusCode, title: &str, text: &str) -> Response {
    let body = html! {
        h1 { (title) }
        p role="alert" { (text) }
        p { a href="/" { (v.t("Back to the start page")) } }
    };
    html_response(status, layout(v, title, body))
}

/// An error before the viewer is known (the session could not be read).
fn error_page(lang: Lang, e: &ApiError) -> Response {
    let body = html! {
        (DOCTYPE)
        html lang=(lang.tag()) { head { meta charset="utf-8"; title { "aftersale" } }
        body { main { h1 { (lang.t("Something went wrong")) } p role="alert" { (i18n::problem_text(lang, e)) } p { a href="/login" { (lang.t("Log in")) } } } } }
    };
    html_response(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), body)
}

/// A refusal of the whole page (not found, forbidden) as a page.
pub fn refusal_page(v: &Viewer, e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let title = if status == StatusCode::NOT_FOUND { v.t("Not found") } else { v.t("Not possible") };
    message_page(v, status, title, &i18n::problem_text(v.lang, e))
}

// ---------------------------------------------------------------------------------------------
// Start page, login, logout, language

/// `/`: the role's start page, or the login page.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let mut parts = axum::http::Request::new(()).into_parts().0;
    parts.headers = headers;
    match Caller::from_request_parts(&mut parts, &state).await {
        Ok(c) => Redirect::to(match c.role() {
            Role::Owner | Role::Staff => "/w/queue",
            Role::Buyer => "/b/orders",
            Role::Agent | Role::Admin => "/p/queue",
        })
        .into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    let lang = pick_lang(&headers, None);
    let token = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_else(new_form_key);
    login_form(&state, lang, &token, &safe_next(q.next.as_deref()), "", None)
}

fn login_form(state: &AppState, lang: Lang, token: &str, next: &str, login: &str, error: Option<String>) -> Response {
    let demo = state.demo_logins.get();
    let body = html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (lang.t("Log in")) " · aftersale" }
                link rel="stylesheet" href=(assets::css_url());
            }
            body {
                main id="main" .narrow {
                    h1 { "aftersale" }
                    p { (lang.t("The after-sales workbench: refunds, returns, deadlines, arbitration.")) }
                    form method="post" action="/login" .card {
                        input type="hidden" name="csrf" value=(token);
                        input type="hidden" name="next" value=(next);
                        @if let Some(e) = &error { p.error role="alert" id="login-error" { (e) } }
                        label for="login" { (lang.t("Login")) }
                        input id="login" name="login" autocomplete="username" required value=(login)
                            aria-describedby=[error.as_ref().map(|_| "login-error")];
                        label for="password" { (lang.t("Password")) }
                        input id="password" name="password" type="password" autocomplete="current-password" required;
                        button type="submit" { (lang.t("Log in")) }
                    }
                    @if let Some(logins) = demo {
                        section aria-labelledby="demo-h" {
                            h2 id="demo-h" { (lang.t("Demo logins")) }
                            p { (lang.t("Every demo login's password is")) " " code { (crate::demo::DEMO_PASSWORD) } }
                            table {
                                thead { tr { th scope="col" { (lang.t("Login")) } th scope="col" { (lang.t("Who")) } } }
                                tbody { @for (l, who) in logins { tr { td { code { (l) } } td { (who) } } } }
                            }
                        }
                    }
                    p { a href="/api/docs" { (lang.t("API reference")) } " · " a href="/api/v1/openapi.json" { "OpenAPI" } }
                }
            }
        }
    };
    let mut res = html_response(if error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK }, body);
    let c = axum_extra::extract::cookie::Cookie::build((LOGIN_CSRF_COOKIE, token.to_string()))
        .path("/login")
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Strict)
        .secure(state.config.server.secure_cookies)
        .build()
        .to_string();
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

async fn login_submit(State(state): State<AppState>, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let lang = pick_lang(&headers, None);
    let next = safe_next(Some(&f.next));
    // Login CSRF: the form's token must be the one this browser was given with the form.
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), f.csrf.as_bytes()) {
        let token = new_form_key();
        return login_form(
            &state,
            lang,
            &token,
            &next,
            &f.login,
            Some(lang.t("The form expired; log in again.").into()),
        );
    }
    match crate::services::password_login(&state, f.login.clone(), f.password).await {
        Ok((cookie_value, _session)) => {
            let mut res = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie_value) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => login_form(&state, lang, &expected, &next, &f.login, Some(i18n::problem_text(lang, &e))),
    }
}

#[derive(Deserialize)]
struct PlainForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    lang: String,
}

async fn logout(State(state): State<AppState>, v: Viewer, headers: HeaderMap, Form(f): Form<PlainForm>) -> Response {
    if let Some(r) = v.csrf_refusal(&f.csrf) {
        return r;
    }
    let mut parts = axum::http::Request::new(()).into_parts().0;
    parts.headers = headers;
    if let Some(token) = crate::auth::session_cookie(&parts) {
        let hash = sha256_hex(token.as_bytes());
        let _ = state.run(move |e| e.close_session(hash)).await;
        state.auth_cache.clear();
    }
    let mut res = Redirect::to("/login").into_response();
    let gone = crate::auth::session_set_cookie("", 0, state.config.server.secure_cookies);
    if let Ok(v) = HeaderValue::from_str(&gone) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

async fn set_lang(v: Viewer, Form(f): Form<PlainForm>) -> Response {
    if let Some(r) = v.csrf_refusal(&f.csrf) {
        return r;
    }
    let lang = Lang::parse(&f.lang).unwrap_or(v.lang);
    let mut res = Redirect::to(&safe_next(Some(&f.next))).into_response();
    let c = axum_extra::extract::cookie::Cookie::build((LANG_COOKIE, lang.tag().to_string()))
        .path("/")
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::days(365))
        .build()
        .to_string();
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}
