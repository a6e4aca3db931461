//! What a browser finds: `/` (until the workbench takes it over) says what the service is and
//! where to go, and on the demo lists its logins; `/api/docs` is the interactive API reference
//! (RapiDoc, shipped inside the binary, never from a CDN) reading the served document.

use super::{Api, BodyDoc, Reply};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use std::sync::OnceLock;

/// RapiDoc 9.3.8 (MIT, `assets/rapidoc/LICENSE.txt`), from the npm registry.
const RAPIDOC: &[u8] = include_bytes!("../../assets/rapidoc/rapidoc-min.js");

/// The asset's file name carries a hash of its bytes, so it can be cached for a year.
fn rapidoc_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| format!("rapidoc-{}.js", &crate::auth::sha256_hex(RAPIDOC)[..16]))
}

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    api.route(
        Method::GET,
        "/",
        "home",
        "pages",
        "What the service is, where its API reference is, and (on the demo) its logins.",
        "anyone",
        NoBody,
        Reply::Bytes(&["text/html"]),
        get(home),
    )
    .route(
        Method::GET,
        "/api/docs",
        "api_docs",
        "pages",
        "The interactive API reference.",
        "anyone",
        NoBody,
        Reply::Bytes(&["text/html"]),
        get(api_docs),
    )
    .route(
        Method::GET,
        "/api/docs/{asset}",
        "api_docs_asset",
        "pages",
        "A script of the API reference page (cached for a year: its name changes with its bytes).",
        "anyone",
        NoBody,
        Reply::Bytes(&["text/javascript"]),
        get(asset),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn home(State(state): State<AppState>) -> Html<String> {
    let demo = match state.demo_logins.get() {
        Some(logins) => {
            let rows: String = logins
                .iter()
                .map(|(login, what)| {
                    format!("<tr><td><code>{}</code></td><td>{}</td></tr>", escape(login), escape(what))
                })
                .collect();
            format!(
                "<h2>Demo logins</h2><p>Every login's password is <code>{}</code>. The demo runs on a manual clock: \
                 <code>aftersale clock advance 6h</code> moves it and fires what falls due.</p>\
                 <table><thead><tr><th>Login</th><th>Who</th></tr></thead><tbody>{rows}</tbody></table>",
                escape(crate::demo::DEMO_PASSWORD)
            )
        }
        None => String::new(),
    };
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>aftersale</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
a{{color:#0b57d0}}code{{background:#f1f3f4;padding:0 .25rem}}td,th{{text-align:left;padding:.2rem 1rem .2rem 0}}</style>
</head><body>
<h1>aftersale</h1>
<p>An after-sales engine: refunds before and after shipment, returns, deadlines that act on their own,
evidence, negotiation, platform arbitration and appeals.</p>
<ul>
<li><a href="/api/docs">API reference</a> (interactive)</li>
<li><a href="/api/v1/openapi.json">OpenAPI 3.1 document</a></li>
<li><a href="/healthz">Health</a> · <a href="/metrics">Metrics</a></li>
</ul>
{demo}
</body></html>"#
    ))
}

async fn api_docs() -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>aftersale API reference</title>
<script type="module" src="/api/docs/{}"></script>
</head><body>
<rapi-doc spec-url="/api/v1/openapi.json" load-fonts="false" render-style="read" show-header="false"
  allow-server-selection="false" persist-auth="true" schema-description-expanded="true"></rapi-doc>
<noscript>The reference needs JavaScript; the document itself is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</noscript>
</body></html>"#,
        rapidoc_name()
    ))
}

async fn asset(Path(name): Path<String>) -> Response {
    if name != rapidoc_name() {
        return crate::error::ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such asset").into_response();
    }
    let mut res = RAPIDOC.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    res
}
