//! The API's routes. Every route is added through `Api::route`, which registers the handler and
//! records its documentation in one step: the OpenAPI document is generated from this table, so
//! a route cannot exist without being documented.

pub mod accounts;
pub mod batch;
pub mod cases;
pub mod catalog;
pub mod events;
pub mod evidence;
pub mod export;
pub mod home;
pub mod messages;
pub mod ops;
pub mod orders;
pub mod refunds;
pub mod search;
pub mod webhooks;

use crate::state::AppState;
use axum::http::Method;
use axum::routing::MethodRouter;
use axum::Router;

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
    /// A CSV file (`text/csv`).
    Csv,
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
    let api = export::routes(api);
    let api = batch::routes(api);
    let api = search::routes(api);
    let api = evidence::routes(api);
    let api = events::routes(api);
    let api = webhooks::routes(api);
    let api = refunds::routes(api);
    messages::routes(api)
}

pub use crate::input::{idempotency_key, if_match, parse_json, path_id, JsonBody, RawBody};
pub mod answer;
