//! What a request carries, turned into typed values — shared by the JSON API (`routes/`) and the
//! pages (`web/`), so that both parse and check input the same way and neither decides anything:
//! bodies, headers and path ids here; queries in `search`; case actions in `actions`.

pub mod actions;
pub mod payouts;
pub mod search;

use crate::error::{ApiError, ApiResult};
use aftersale_engine::IdemKey;
use axum::body::Bytes;
use axum::extract::FromRequest;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

/// A JSON body parsed into `T`. Errors name the field at fault (`serde_path_to_error`), unknown
/// fields are refused where the type says so, and everything is a problem+json answer.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let v = v.split(';').next().unwrap_or("").trim();
                v == "application/json" || v.ends_with("+json")
            })
            .unwrap_or(false);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", e.body_text())
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.body_text())
            }
        })?;
        if !json_type {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        parse_json(&bytes).map(JsonBody)
    }
}

/// The raw body, with the size limit answered as a problem.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(RawBody).map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", e.body_text())
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.body_text())
            }
        })
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.to_string()))?;
    integral_numbers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." { None } else { Some(path) };
        let mut err = ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", inner.to_string());
        if inner.is_data() {
            err.0.code = "invalid_field".into();
            err.0.type_ = "https://aftersale.dev/problems/invalid_field".into();
            // An unknown field is named in the message when the path does not name it.
            if field.is_none() {
                let msg = inner.to_string();
                let named = msg.strip_prefix("unknown field `").or_else(|| msg.strip_prefix("missing field `"));
                if let Some(name) = named.and_then(|r| r.split('`').next()) {
                    err.0.field = Some(name.to_string());
                    return err;
                }
            }
        }
        err.0.field = field;
        err
    })
}

/// JSON has one kind of number: `55.0` is the integer 55 (as JSON Schema says), so a float with
/// no fractional part is read as an integer wherever one is expected.
fn integral_numbers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    *v = serde_json::Value::from(f as i64);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        serde_json::Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// `If-Match: "3"` (or `3`, or `W/"3"`): the version the caller expects.
pub fn if_match(headers: &HeaderMap) -> ApiResult<Option<u64>> {
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = v.to_str().map_err(|_| bad_header("If-Match"))?;
    let t = text.trim().trim_start_matches("W/").trim_matches('"');
    t.parse::<u64>().map(Some).map_err(|_| bad_header("If-Match"))
}

/// `Idempotency-Key`: 1-255 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<IdemKey>> {
    let Some(v) = headers.get("idempotency-key") else { return Ok(None) };
    let text = v.to_str().map_err(|_| bad_header("Idempotency-Key"))?;
    if text.is_empty() || text.len() > 255 || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad_header("Idempotency-Key"));
    }
    Ok(Some(IdemKey(text.to_string())))
}

fn bad_header(name: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_header", format!("{name} is malformed")).field(name)
}

/// A numeric path id.
pub fn path_id(raw: &str, what: &str) -> ApiResult<i64> {
    raw.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| ApiError::not_found(what))
}
