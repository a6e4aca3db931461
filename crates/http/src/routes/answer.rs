//! A JSON answer, written into one buffer sized for a page of cases up front: axum's own `Json`
//! grows a small buffer by many small writes, which a page of fifty cases pays for in copies
//! (measured by the instruction-count guard's `queue_json`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// What most answers need; a larger one grows as a `Vec` does (doubling, few copies).
const START: usize = 16 * 1024;

pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut buf = Vec::with_capacity(START);
        match serde_json::to_writer(&mut buf, &self.0) {
            Ok(()) => ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], buf).into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        }
    }
}
