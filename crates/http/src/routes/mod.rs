//! The API's routes. Every route is added through `Api::route`, which registers the handler and
//! records its documentation in one step: the OpenAPI document is generated from this table, so
//! a route cannot exist without being documented.

pub mod accounts;
pub mod cases;
pub mod catalog;
pub mod evidence;
pub mod home;
pub mod messages;
pub mod ops;
pub mod orders;
pub mod search;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use aftersale_engine::IdemKey;
use axum::body::Bytes;
use axum::extract::FromRequest;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::routing::MethodRouter;
use axum::Router;
use serde::de::DeserializeOwned;

/// Writes the schema of a type into the document's components and answers a reference to it.
pub type SchemaFn = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;

/// The schema of `T`, for the route table: `schema::<OrderView>`.
pub fn schema<T: schemars::JsonSchema>(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    g.subschema_for::<T>()
}

/// A route's documentation.
#[derive(Clone, Debug)]
pub struct RouteDoc {
    pub method: Method,
    pub path: &'static str,
    pub op: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// Who may call it.
    pub roles: &'static str,
    pub body: BodyDoc,
    pub reply: Reply,
    /// The query parameters, as the properties of one type.
    pub query: Option<SchemaFn>,
    /// A route whose last segment names an action: documented as one path per action, each
    /// with its own body.
    pub actions: Vec<ActionDoc>,
}

#[derive(Clone, Debug)]
pub enum BodyDoc {
    NoBody,
    /// A JSON body of this type.
    Json(SchemaFn),
    Multipart,
}

/// What a route answers on success.
#[derive(Clone, Debug)]
pub enum Reply {
    /// JSON of this type, with this status.
    Json(u16, SchemaFn),
    /// No body (204).
    Empty,
    /// Bytes of one of these content types (files, the metrics page, the document itself).
    Bytes(&'static [&'static str]),
}

/// One action of an action route: its name in the path and its body.
#[derive(Clone, Debug)]
pub struct ActionDoc {
    pub name: &'static str,
    pub summary: String,
    /// The body's schema as JSON (derived from the command enum's variant).
    pub body: serde_json::Value,
}

pub struct Api {
    pub router: Router<AppState>,
    pub docs: Vec<RouteDoc>,
}

impl Api {
    fn new() -> Api {
        Api { router: Router::new(), docs: Vec::new() }
    }

    #[allow(clippy::too_many_arguments)]
    fn route(
        mut self,
        method: Method,
        path: &'static str,
        op: &'static str,
        tag: &'static str,
        summary: &'static str,
        roles: &'static str,
        body: BodyDoc,
        reply: Reply,
        handler: MethodRouter<AppState>,
    ) -> Api {
        self.router = self.router.route(path, handler);
        self.docs.push(RouteDoc {
            method,
            path,
            op,
            tag,
            summary,
            roles,
            body,
            reply,
            query: None,
            actions: Vec::new(),
        });
        self
    }

    /// Documents the query parameters of the route added last.
    fn query(mut self, query: SchemaFn) -> Api {
        if let Some(last) = self.docs.last_mut() {
            last.query = Some(query);
        }
        self
    }

    /// Documents the actions of the route added last.
    fn actions(mut self, actions: Vec<ActionDoc>) -> Api {
        if let Some(last) = self.docs.last_mut() {
            last.actions = actions;
        }
        self
    }
}

/// Every route of the service, with its documentation.
pub fn api() -> Api {
    let api = Api::new();
    let api = home::routes(api);
    let api = ops::routes(api);
    let api = accounts::routes(api);
    let api = catalog::routes(api);
    let api = orders::routes(api);
    let api = cases::routes(api);
    let api = search::routes(api);
    let api = evidence::routes(api);
    messages::routes(api)
}

// ---------------------------------------------------------------------------------------------
// Extractors and helpers shared by the handlers

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
