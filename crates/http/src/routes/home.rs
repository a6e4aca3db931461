//! The API's reference for browsers: `/api/docs` is the interactive API reference
//! (RapiDoc, shipped inside the binary, never from a CDN) reading the served document.

use super::{Api, BodyDoc, Reply};
use axum::extract::Path;
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
