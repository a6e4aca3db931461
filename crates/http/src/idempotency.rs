//! `Idempotency-Key` for the POSTs that are not rule commands (accounts, tokens, shop settings,
//! message boxes, the clock). Commands store their answer in the same transaction as their
//! effects (engine); these store it right after: a repeat with the same key, caller and body gets
//! the first answer back; the same key with another body is a 409.

use crate::auth::sha256_hex;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// Routes whose handlers pass the key to the engine (stored atomically with the command);
/// uploads (a retried upload stores a second copy under a new key: harmless, and not buffered);
/// and the two answers that carry a secret (a session cookie, a new API token), which must never
/// be stored in the clear — a retried login or token request simply makes another.
const NATIVE: [&str; 8] = [
    "/api/v1/auth/login",
    "/api/v1/tokens",
    "/api/v1/shops/{shop}/orders",
    "/api/v1/orders/{order}/actions/{action}",
    "/api/v1/orders/{order}/cases",
    "/api/v1/cases/{case}/actions/{action}",
    "/api/v1/cases/{case}/return-logistics",
    "/api/v1/evidence",
];

fn takes_post(route: &str) -> bool {
    static POSTS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    POSTS
        .get_or_init(|| crate::routes::api().docs.iter().filter(|d| d.method == Method::POST).map(|d| d.path).collect())
        .contains(&route)
}

#[derive(Serialize, Deserialize)]
struct Stored {
    status: u16,
    content_type: Option<String>,
    set_cookie: Option<String>,
    body: String,
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_default();
    let key = req.headers().get("idempotency-key").cloned();
    // A malformed key is refused on every route, whether or not the route stores answers.
    if key.is_some() {
        if let Err(e) = crate::routes::idempotency_key(req.headers()) {
            return e.into_response();
        }
    }
    // Only POST routes store answers; a POST to a route that takes no POST is the method
    // router's 405, not a replay.
    if req.method() != Method::POST || key.is_none() || NATIVE.contains(&route.as_str()) || !takes_post(&route) {
        return next.run(req).await;
    }
    let key = match crate::routes::idempotency_key(req.headers()) {
        Ok(Some(k)) => k.0,
        Ok(None) => return next.run(req).await,
        Err(e) => return e.into_response(),
    };
    // Scoped to the caller: the credential's hash, or the key alone for anonymous calls.
    let caller = req
        .headers()
        .get(header::AUTHORIZATION)
        .or_else(|| req.headers().get(header::COOKIE))
        .map(|v| sha256_hex(v.as_bytes()))
        .unwrap_or_else(|| "anonymous".into());
    let (parts, body) = req.into_parts();
    let limit = state.config.server.json_limit_kib * 1024;
    let Ok(bytes) = to_bytes(body, limit).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the body is too large").into_response();
    };
    let request_hash = sha256_hex(&[parts.method.as_str().as_bytes(), parts.uri.path().as_bytes(), &bytes].concat());
    let store_key = format!("http:{caller}:{key}");
    let k = store_key.clone();
    match state.run(move |e| e.recall(&k)).await {
        Ok(Some((hash, _))) if hash != request_hash => {
            return ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_reused",
                "the Idempotency-Key was used for a different request",
            )
            .field("Idempotency-Key")
            .into_response();
        }
        Ok(Some((_, answer))) => {
            if let Ok(stored) = serde_json::from_str::<Stored>(&answer) {
                return replay(stored);
            }
        }
        Ok(None) => {}
        Err(e) => return e.into_response(),
    }
    let res = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if !res.status().is_success() {
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, 16 * 1024 * 1024).await else {
        return ApiError::internal(&crate::request_id::next()).into_response();
    };
    let stored = Stored {
        status: parts.status.as_u16(),
        content_type: parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string),
        set_cookie: parts.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).map(str::to_string),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    if let Ok(answer) = serde_json::to_string(&stored) {
        let _ = state.run(move |e| e.remember(store_key, request_hash, answer)).await;
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(stored: Stored) -> Response {
    let mut res = (StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK), stored.body).into_response();
    if let Some(ct) = stored.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    if let Some(c) = stored.set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().insert(header::SET_COOKIE, c);
    }
    res.headers_mut().insert("idempotent-replay", HeaderValue::from_static("true"));
    res
}
