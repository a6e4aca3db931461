//! The pages' stylesheet and script, embedded in the binary and served under names that carry a
//! hash of their bytes, so browsers may keep them for a year. No CDN, no build step.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;

const CSS: &[u8] = include_bytes!("../../assets/web/app.css");
const JS: &[u8] = include_bytes!("../../assets/web/app.js");

fn named(bytes: &[u8], stem: &str, ext: &str) -> String {
    format!("{stem}-{}.{ext}", &crate::auth::sha256_hex(bytes)[..16])
}

fn names() -> &'static (String, String) {
    static NAMES: OnceLock<(String, String)> = OnceLock::new();
    NAMES.get_or_init(|| (named(CSS, "app", "css"), named(JS, "app", "js")))
}

pub fn css_url() -> String {
    format!("/assets/{}", names().0)
}

pub fn js_url() -> String {
    format!("/assets/{}", names().1)
}

pub async fn serve(Path(name): Path<String>) -> Response {
    let (css, js) = names();
    let (bytes, ctype) = if name == *css {
        (CSS, "text/css; charset=utf-8")
    } else if name == *js {
        (JS, "text/javascript; charset=utf-8")
    } else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    res
}
