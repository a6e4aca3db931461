//! The OpenAPI 3.1 document, derived from the route table (`routes::api`) and the Rust types
//! each route names: request bodies from the types the handlers parse (`schemars` reads their
//! serde attributes, so `deny_unknown_fields` becomes `additionalProperties: false`), answers
//! from the types they serialise (`wire`). A route cannot be served without appearing here —
//! both come from `Api::route` — and the document is built once, on first use.

use crate::routes::{BodyDoc, Reply, RouteDoc};
use schemars::generate::{Contract, SchemaSettings};
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Answers are described as the types serialise, with their named types in `components`.
fn answer_generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "#/components/schemas/".into();
            s.contract = Contract::Serialize;
            s.meta_schema = None;
        })
        .into_generator()
}

/// Request bodies are described as the types deserialise (a field with a default is optional),
/// inline, so that each body reads on its own.
fn body_generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.contract = Contract::Deserialize;
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .into_generator()
}

/// The body schema of `T`, inline.
pub fn inline_body<T: JsonSchema>() -> Value {
    let mut g = body_generator();
    let mut v = g.subschema_for::<T>().to_value();
    strip_meta(&mut v);
    v
}

/// The body of an action that takes no fields: `{}` (or no body at all).
pub fn empty_body() -> Value {
    json!({ "type": "object", "additionalProperties": false })
}

/// The bodies of an internally tagged command enum, one per variant, keyed by the tag's value
/// and without the tag (the action is named in the path). Unknown fields are refused.
pub fn variant_bodies<T: JsonSchema>(tag: &str) -> BTreeMap<String, Value> {
    let all = inline_body::<T>();
    let variants = all.get("oneOf").or_else(|| all.get("anyOf")).and_then(Value::as_array).cloned().unwrap_or_default();
    let mut out = BTreeMap::new();
    for mut v in variants {
        let Some(name) = v
            .pointer(&format!("/properties/{tag}"))
            .and_then(|t| t.get("const").or_else(|| t.get("enum").and_then(|e| e.get(0))))
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        if let Some(props) = v.get_mut("properties").and_then(Value::as_object_mut) {
            props.remove(tag);
            if props.is_empty() {
                if let Some(o) = v.as_object_mut() {
                    o.remove("properties");
                }
            }
        }
        if let Some(req) = v.get_mut("required").and_then(Value::as_array_mut) {
            req.retain(|r| r != tag);
            if req.is_empty() {
                if let Some(o) = v.as_object_mut() {
                    o.remove("required");
                }
            }
        }
        if let Some(o) = v.as_object_mut() {
            o.insert("type".into(), json!("object"));
            o.insert("additionalProperties".into(), json!(false));
        }
        out.insert(name, v);
    }
    out
}

fn strip_meta(v: &mut Value) {
    if let Some(o) = v.as_object_mut() {
        o.remove("$schema");
    }
}

/// The error registry: every `code` a problem answer can carry, with its status and meaning.
/// (code, status, meaning, the fields it names).
pub fn error_registry() -> Vec<(String, u16, String, String)> {
    let mut out: Vec<(String, u16, String, String)> =
        crate::error::CODES.iter().map(|(c, s, m, f)| (c.to_string(), *s, m.to_string(), f.to_string())).collect();
    for (code, meaning) in aftersale_core::refusal::CODES {
        let status = if *code == "not_allowed_for_actor" { 403 } else { 422 };
        let fields = match *code {
            "missing_field" | "invalid_value" => "the field",
            "amount_above_refundable" => "`amount`",
            _ => "— (`rule` names the rule)",
        };
        out.push((code.to_string(), status, meaning.to_string(), fields.to_string()));
    }
    out
}

fn problem_schema() -> Value {
    let registry = error_registry();
    let codes: Vec<&str> = registry.iter().map(|(c, _, _, _)| c.as_str()).collect();
    let table: Map<String, Value> =
        registry.iter().map(|(c, s, m, f)| (c.clone(), json!({ "status": s, "meaning": m, "fields": f }))).collect();
    json!({
        "type": "object",
        "description": "An RFC 9457 problem. `code` is stable (the registry is `x-error-codes`); `field` names the input at fault; `rule` the rule ID that refused.",
        "properties": {
            "type": { "type": "string" },
            "title": { "type": "string" },
            "status": { "type": "integer" },
            "detail": { "type": "string" },
            "code": { "type": "string", "enum": codes },
            "field": { "type": "string" },
            "rule": { "type": "string", "description": "the rule ID that refused (docs/rules.md)" },
            "current_version": { "type": "integer", "description": "with version_conflict: the version found" },
            "valid": { "type": "array", "items": { "type": "string" }, "description": "with unknown_action: the valid names" }
        },
        "required": ["type", "title", "status", "detail", "code"],
        "x-error-codes": table
    })
}

fn path_param(name: &str) -> Value {
    let schema = match name {
        "key" => json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{1,200}$" }),
        "action" => json!({ "type": "string" }),
        _ => json!({ "type": "integer", "minimum": 1, "maximum": i64::MAX }),
    };
    json!({ "name": name, "in": "path", "required": true, "schema": schema })
}

/// A query parameter cannot be null: `Option<T>` is documented as an optional `T`.
fn without_null(mut schema: Value) -> Value {
    if let Some(types) = schema.get_mut("type").and_then(Value::as_array_mut) {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types[0].clone();
            schema["type"] = only;
        }
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        let rest: Vec<Value> = any.iter().filter(|s| s.get("type") != Some(&json!("null"))).cloned().collect();
        if rest.len() == 1 {
            let mut out = rest[0].clone();
            if let (Some(o), Some(d)) = (out.as_object_mut(), schema.get("description")) {
                o.insert("description".into(), d.clone());
            }
            return out;
        }
    }
    if let Some(e) = schema.get_mut("enum").and_then(Value::as_array_mut) {
        e.retain(|v| !v.is_null());
    }
    schema
}

fn query_params(bodies: &mut SchemaGenerator, f: crate::routes::SchemaFn) -> Vec<Value> {
    // Read as the query deserialises (a field with a default is optional), inline.
    let resolved = f(bodies).to_value();
    let required: Vec<&str> = resolved
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = resolved.get("properties").and_then(Value::as_object) else { return Vec::new() };
    props
        .iter()
        .map(|(name, schema)| {
            let mut schema = without_null(schema.clone());
            let description = schema.as_object_mut().and_then(|o| o.remove("description"));
            let mut p =
                json!({ "name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": schema });
            if let Some(d) = description {
                p["description"] = d;
            }
            p
        })
        .collect()
}

fn operation(
    route: &RouteDoc,
    g: &mut SchemaGenerator,
    bodies: &mut SchemaGenerator,
    path: &str,
) -> Map<String, Value> {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(route.op));
    op.insert("summary".into(), json!(route.summary));
    op.insert("description".into(), json!(format!("{} Who may call it: {}.", route.summary, route.roles)));
    op.insert("tags".into(), json!([route.tag]));
    let mut params: Vec<Value> = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(path_param)
        .collect();
    if let Some(q) = route.query {
        params.extend(query_params(bodies, q));
    }
    if !route.method.as_str().eq_ignore_ascii_case("get") && !route.method.as_str().eq_ignore_ascii_case("delete") {
        params.push(json!({ "name": "Idempotency-Key", "in": "header", "required": false,
            "description": "Replays the first answer when the same request is sent again.",
            "schema": { "type": "string", "pattern": "^[!-~]{1,255}$" } }));
    }
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    match &route.body {
        BodyDoc::NoBody => {}
        BodyDoc::Json(f) => {
            let mut schema = f(bodies).to_value();
            strip_meta(&mut schema);
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/json": { "schema": schema } } }),
            );
        }
        BodyDoc::Csv => {
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "text/csv": { "schema": {
                    "type": "string", "description": "CSV, UTF-8, with a header line" } } } }),
            );
        }
        BodyDoc::Multipart => {
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "multipart/form-data": { "schema": {
                "type": "object", "additionalProperties": false,
                "properties": {
                    "file": { "type": "string", "format": "binary", "description": "a JPEG, PNG, WebP, MP4 or PDF" },
                    "caption": { "type": "string", "maxLength": 500, "description": "text shown with the file" } },
                "required": ["file"] } } } }),
            );
        }
    }
    let problem = json!({ "description": "a problem (see the error registry)",
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } });
    let mut responses = Map::new();
    match &route.reply {
        Reply::Json(status, f) => {
            let schema = f(g).to_value();
            responses.insert(
                status.to_string(),
                json!({ "description": "success", "content": { "application/json": { "schema": schema } } }),
            );
        }
        Reply::Empty => {
            responses.insert("204".into(), json!({ "description": "done; no body" }));
        }
        Reply::Bytes(types) => {
            let content: Map<String, Value> = types.iter().map(|t| (t.to_string(), json!({}))).collect();
            responses.insert("200".into(), json!({ "description": "the bytes", "content": content }));
        }
    }
    responses.insert("4XX".into(), problem.clone());
    responses.insert("5XX".into(), problem);
    op.insert("responses".into(), Value::Object(responses));
    if route.roles == "anyone" {
        op.insert("security".into(), json!([]));
    }
    op
}

/// The document for a route table.
pub fn document(routes: &[RouteDoc]) -> Value {
    let mut g = answer_generator();
    let mut bodies = body_generator();
    let mut paths: Map<String, Value> = Map::new();
    for route in routes {
        let method = route.method.as_str().to_ascii_lowercase();
        if route.actions.is_empty() {
            let op = operation(route, &mut g, &mut bodies, route.path);
            let entry = paths.entry(route.path.to_string()).or_insert_with(|| json!({}));
            entry[&method] = Value::Object(op);
            continue;
        }
        // An action route: one path per action, each with its own body.
        for action in &route.actions {
            let path = route.path.replace("{action}", action.name);
            let mut op = operation(route, &mut g, &mut bodies, &path);
            op.insert("operationId".into(), json!(format!("{}_{}", route.op, action.name)));
            op.insert("summary".into(), json!(action.summary));
            // A body is needed when the action has required fields; otherwise it may be left out.
            let needed = action.body.get("required").and_then(Value::as_array).is_some_and(|r| !r.is_empty());
            op.insert(
                "requestBody".into(),
                json!({ "required": needed, "content": { "application/json": { "schema": action.body } } }),
            );
            let entry = paths.entry(path).or_insert_with(|| json!({}));
            entry[&method] = Value::Object(op);
        }
    }
    let mut schemas: Map<String, Value> = g.take_definitions(true).into_iter().collect();
    schemas.insert("Problem".into(), problem_schema());
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "aftersale",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "After-sales engine: refunds, returns, deadlines, arbitration and appeals. Errors are application/problem+json with a stable `code` (registry: `components.schemas.Problem.x-error-codes`, and docs/api.md). Times are RFC 3339 in UTC.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" }
        },
        "servers": [{ "url": "/" }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "API token from POST /api/v1/tokens" },
                "session": { "type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE }
            }
        },
        "security": [{ "bearer": [] }, { "session": [] }]
    })
}

/// The served document, built once.
pub fn served() -> bytes::Bytes {
    static DOC: OnceLock<bytes::Bytes> = OnceLock::new();
    DOC.get_or_init(|| {
        let doc = document(&crate::routes::api().docs);
        bytes::Bytes::from(serde_json::to_vec(&doc).unwrap_or_default())
    })
    .clone()
}
