//! API errors as `application/problem+json` (RFC 9457). Every answer carries a stable `code`
//! from the registry below, the field at fault when there is one, and the rule ID when a rule
//! refused. Internal errors are opaque to the client: a request id, with the cause logged.

use aftersale_engine::{EngineError, StoreError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The registry of codes that are not rule refusals (those come from `Refusal::code`).
/// (code, status, meaning, the fields it names).
pub const CODES: &[(&str, u16, &str, &str)] = &[
    ("malformed_json", 400, "The body is not valid JSON, or not the JSON this endpoint takes.", "—"),
    (
        "invalid_field",
        400,
        "A field has a value this endpoint does not take.",
        "the field (`amount.currency`, `evidence[0]`, `logistics.tracking_no`)",
    ),
    ("invalid_query", 400, "A query parameter has a value this endpoint does not take.", "the parameter"),
    (
        "invalid_header",
        400,
        "A header has a value this endpoint does not take.",
        "the header (`If-Match`, `Idempotency-Key`)",
    ),
    ("unauthenticated", 401, "No valid session cookie or API token.", "—"),
    ("forbidden", 403, "Your role may not use this endpoint.", "—"),
    ("not_found", 404, "No such resource, or not one you may see.", "—"),
    ("unknown_action", 404, "No action of that name on this resource; `valid` lists the names there are.", "`action`"),
    ("method_not_allowed", 405, "The resource does not take this method; `Allow` lists the ones it takes.", "—"),
    ("timeout", 408, "The request took longer than the server's time limit (`server.request_timeout_secs`).", "—"),
    (
        "malformed_request",
        400,
        "The request is not one this endpoint takes (for example a broken multipart body).",
        "—",
    ),
    (
        "version_conflict",
        409,
        "The resource changed since the version you named (If-Match / expected_version).",
        "— (`current_version`)",
    ),
    ("already_exists", 409, "A unique value (a login) is already in use.", "the unique field (`login`)"),
    ("unknown_evidence", 422, "An evidence key that the caller (or their shop) never uploaded (E4).", "`evidence[i]`"),
    ("evidence_mismatch", 422, "The evidence's sha256 or kind differs from the uploaded file's (E4).", "`evidence[i]`"),
    (
        "idempotency_key_reused",
        409,
        "The Idempotency-Key was used before for a different request.",
        "`Idempotency-Key`",
    ),
    ("body_too_large", 413, "The body is larger than this endpoint takes.", "`file` for uploads"),
    (
        "unsupported_media_type",
        415,
        "The content type, or the uploaded bytes, are not what this endpoint takes.",
        "`file` for uploads",
    ),
    ("login_failed", 401, "Wrong login or password.", "—"),
    (
        "cursor_expired",
        410,
        "The event cursor points into events no longer kept (older than the retention); start again without one.",
        "`after`",
    ),
    (
        "too_many_attempts",
        429,
        "Too many wrong passwords for this login; try again after Retry-After seconds.",
        "— (`Retry-After`)",
    ),
    ("demo_only", 403, "Only a server running on the manual (demo) clock takes this.", "—"),
    ("internal", 500, "Something failed on our side; quote the request id.", "—"),
    ("unavailable", 503, "The service is starting or stopping.", "—"),
    (
        "database_unavailable",
        503,
        "The database could not be reached, or another transaction held what the request needed; \
         nothing was changed. Send the same request again after Retry-After.",
        "— (`Retry-After`)",
    ),
    (
        "outcome_unknown",
        503,
        "The database connection broke while the change was being committed, and whether it was \
         could not be learnt: read the resource, or resend with the same Idempotency-Key (which \
         answers the first outcome if it was made).",
        "— (`Retry-After`)",
    ),
];

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<u64>,
    /// With `unknown_action`: the names that are valid there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid: Option<Vec<String>>,
    /// With `too_many_attempts`: seconds to wait, sent as `Retry-After`.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

#[derive(Debug)]
pub struct ApiError(pub Box<Problem>);

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> ApiError {
        let title = status.canonical_reason().unwrap_or("Error").to_string();
        ApiError(Box::new(Problem {
            type_: format!("https://aftersale.dev/problems/{code}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_string(),
            field: None,
            rule: None,
            current_version: None,
            valid: None,
            retry_after: None,
        }))
    }
    pub fn field(mut self, field: impl Into<String>) -> ApiError {
        self.0.field = Some(field.into());
        self
    }
    /// Seconds after which the same request may succeed (sent as `Retry-After`).
    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.0.retry_after = Some(seconds);
        self
    }
    pub fn rule(mut self, rule: &str) -> ApiError {
        self.0.rule = Some(rule.to_string());
        self
    }
    pub fn bad(field: &str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_field", detail).field(field)
    }
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }
    pub fn unauthenticated() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "log in, or send an API token as a Bearer token")
    }
    pub fn internal(request_id: &str) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("internal error; request id {request_id}"))
    }
    pub fn status(&self) -> u16 {
        self.0.status
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::Refused(r) => {
                let status = match r {
                    aftersale_core::Refusal::NotAllowedFor { .. } => StatusCode::FORBIDDEN,
                    aftersale_core::Refusal::MissingField { .. } | aftersale_core::Refusal::InvalidField { .. } => {
                        StatusCode::UNPROCESSABLE_ENTITY
                    }
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                let mut err = ApiError::new(status, r.code(), r.to_string());
                err.0.field = r.field().map(str::to_string);
                err.0.rule = r.rule().map(str::to_string);
                err
            }
            EngineError::Conflict { actual, .. } => {
                let mut err = ApiError::new(StatusCode::CONFLICT, "version_conflict", e.to_string());
                err.0.current_version = Some(actual);
                err
            }
            EngineError::NotFound { what, .. } => ApiError::not_found(what),
            EngineError::IdempotencyKeyReused => {
                ApiError::new(StatusCode::CONFLICT, "idempotency_key_reused", e.to_string()).field("Idempotency-Key")
            }
            // Well-formed and well-typed, but not a value the engine takes (an empty name, a
            // policy whose reminder comes after its deadline): refused by a rule, 422.
            EngineError::Invalid { field, reason } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", format!("{field}: {reason}"))
                    .field(field)
            }
            EngineError::Evidence { field, code, detail } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail).field(field).rule("E4")
            }
            EngineError::Forbidden(why) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", why),
            EngineError::Gone { reason, .. } => {
                ApiError::new(StatusCode::GONE, "cursor_expired", reason).field("after")
            }
            EngineError::Taken { field, .. } => {
                ApiError::new(StatusCode::CONFLICT, "already_exists", e.to_string()).field(field)
            }
            EngineError::Store(StoreError::WriterGone) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the store is shutting down")
                    .retry_after(1)
            }
            // The connection broke while committing and whether the commit happened could not
            // be learnt: never "nothing changed".
            EngineError::Store(StoreError::OutcomeUnknown(cause)) => {
                tracing::warn!(error = %cause, "commit outcome unknown");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "outcome_unknown",
                    "the database connection broke while committing, and the change may have been made: \
                     read the resource, or send the request again with the same Idempotency-Key",
                )
                .retry_after(1)
            }
            // The database is away (restarting, the connection dropped) or another node holds
            // what this request needs: nothing was written; the same request may be sent again.
            EngineError::Store(err) if err.is_transient() => {
                tracing::warn!(error = %err, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "the database is unavailable for a moment; nothing was changed, try again",
                )
                .retry_after(1)
            }
            EngineError::Store(err) => {
                let id = crate::request_id::next();
                tracing::error!(request_id = %id, error = %err, "store error");
                ApiError::internal(&id)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&*self.0).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(v) = self.0.retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"aftersale\", cookie=\"aftersale_session\""),
            );
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
