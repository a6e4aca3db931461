//! Every answer a test receives is checked against the OpenAPI document the server serves: its
//! status must be documented for the operation, its content type listed, and its JSON body
//! valid against the schema (formats such as `date-time` included). A drifted answer fails the
//! test that received it, naming the operation, the status and the field.

use aftersale_http::client;
pub use aftersale_http::client::Resp;
use axum::http::Method;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The served document and the validators built from it, once per test binary (the document is
/// the same for every server of this build; it is fetched from the first one).
struct Contract {
    doc: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

static CONTRACT: OnceLock<Contract> = OnceLock::new();

impl Contract {
    /// The operation for a concrete path: the template whose literal segments match most.
    fn operation(&self, method: &Method, path: &str) -> Option<(String, &Value)> {
        let path = path.split('?').next().unwrap_or(path);
        let segs: Vec<&str> = path.split('/').collect();
        let mut best: Option<(usize, String, &Value)> = None;
        for (template, item) in self.doc["paths"].as_object()? {
            let t: Vec<&str> = template.split('/').collect();
            if t.len() != segs.len() {
                continue;
            }
            let mut literal = 0;
            let fits = t.iter().zip(&segs).all(|(a, b)| {
                if a.starts_with('{') {
                    true
                } else if a == b {
                    literal += 1;
                    true
                } else {
                    false
                }
            });
            let Some(op) = item.get(method.as_str().to_ascii_lowercase()) else { continue };
            if fits && best.as_ref().is_none_or(|(n, _, _)| literal > *n) {
                best = Some((literal, template.clone(), op));
            }
        }
        best.map(|(_, t, op)| (t, op))
    }

    fn validator(&self, key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
        let mut cache = self.validators.lock().unwrap();
        if let Some(v) = cache.get(key) {
            return v.clone();
        }
        // The schema with the document's components beside it, so `$ref`s resolve.
        let mut root = schema.clone();
        root["components"] = self.doc["components"].clone();
        let v = Arc::new(
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("the document's schema for {key} does not compile: {e}")),
        );
        cache.insert(key.to_string(), v.clone());
        v
    }

    fn check(&self, method: &Method, path: &str, r: &Resp) -> Result<(), String> {
        let ct = r.header("content-type").unwrap_or("").split(';').next().unwrap_or("").trim().to_string();
        let problem_schema = json!({ "$ref": "#/components/schemas/Problem" });
        let Some((template, op)) = self.operation(method, path) else {
            // No such route: only a problem answer (404 or 405) is right.
            if matches!(r.status, 404 | 405) && ct == "application/problem+json" {
                return self.validate("Problem", &problem_schema, r);
            }
            return Err(format!("{method} {path}: no operation documents it, and it answered {}", r.status));
        };
        let name = format!("{method} {template} {}", r.status);
        let responses = &op["responses"];
        let class = format!("{}XX", r.status / 100);
        let Some(doc) = responses.get(r.status.to_string()).or_else(|| responses.get(&class)) else {
            return Err(format!(
                "{name}: status not documented (documented: {:?})",
                responses.as_object().map(|o| o.keys().collect::<Vec<_>>())
            ));
        };
        let Some(content) = doc.get("content").and_then(Value::as_object) else {
            return if r.body.is_empty() {
                Ok(())
            } else {
                Err(format!("{name}: documented without a body, but has one"))
            };
        };
        let Some(media) = content.get(&ct) else {
            return Err(format!(
                "{name}: content type {ct:?} not documented ({:?})",
                content.keys().collect::<Vec<_>>()
            ));
        };
        match media.get("schema") {
            Some(schema) => self.validate(&name, schema, r),
            None => Ok(()),
        }
    }

    fn validate(&self, name: &str, schema: &Value, r: &Resp) -> Result<(), String> {
        let body: Value = serde_json::from_slice(&r.body).map_err(|e| format!("{name}: the body is not JSON ({e})"))?;
        let v = self.validator(&format!("{name} {schema}"), schema);
        let errors: Vec<String> =
            v.iter_errors(&body).map(|e| format!("at {}: {e}", e.instance_path)).take(5).collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{name}: the answer contradicts the document:\n  {}\nbody: {}",
                errors.join("\n  "),
                String::from_utf8_lossy(&r.body)
            ))
        }
    }
}

/// The test client: the library's client, with every answer checked against the document.
#[derive(Clone)]
pub struct Client {
    inner: client::Client,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client { inner: client::Client::new(base) }
    }

    pub fn base(&self) -> &str {
        self.inner.base()
    }

    pub fn with_token(&self, token: &str) -> Client {
        Client { inner: self.inner.with_token(token) }
    }

    async fn contract(&self) -> &'static Contract {
        if let Some(c) = CONTRACT.get() {
            return c;
        }
        let r = self.inner.get("/api/v1/openapi.json").await.expect("the document is served");
        assert_eq!(r.status, 200);
        let doc: Value = serde_json::from_slice(&r.body).expect("the document is JSON");
        CONTRACT.get_or_init(|| Contract { doc, validators: Mutex::new(HashMap::new()) })
    }

    async fn checked(&self, method: Method, path: &str, r: Result<Resp, String>) -> Result<Resp, String> {
        let r = r?;
        let contract = self.contract().await;
        if let Err(e) = contract.check(&method, path, &r) {
            panic!("{e}");
        }
        Ok(r)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, bytes::Bytes)>,
    ) -> Result<Resp, String> {
        let r = self.inner.send(method.clone(), path, headers, body).await;
        self.checked(method, path, r).await
    }

    pub async fn get(&self, path: &str) -> Result<Resp, String> {
        let r = self.inner.get(path).await;
        self.checked(Method::GET, path, r).await
    }

    pub async fn post(&self, path: &str, json: &Value) -> Result<Resp, String> {
        let r = self.inner.post(path, json).await;
        self.checked(Method::POST, path, r).await
    }

    pub async fn post_with(&self, path: &str, json: &Value, headers: &[(&str, &str)]) -> Result<Resp, String> {
        let r = self.inner.post_with(path, json, headers).await;
        self.checked(Method::POST, path, r).await
    }

    pub async fn put(&self, path: &str, json: &Value) -> Result<Resp, String> {
        let r = self.inner.put(path, json).await;
        self.checked(Method::PUT, path, r).await
    }

    pub async fn patch(&self, path: &str, json: &Value) -> Result<Resp, String> {
        let r = self.inner.patch(path, json).await;
        self.checked(Method::PATCH, path, r).await
    }

    pub async fn delete(&self, path: &str) -> Result<Resp, String> {
        let r = self.inner.delete(path).await;
        self.checked(Method::DELETE, path, r).await
    }

    pub async fn upload(
        &self,
        path: &str,
        filename: &str,
        content_type: &str,
        data: &[u8],
        caption: &str,
    ) -> Result<Resp, String> {
        let r = self.inner.upload(path, filename, content_type, data, caption).await;
        self.checked(Method::POST, path, r).await
    }
}

/// The checker itself notices drift: an answer missing a required field, a wrong type, an
/// undocumented status and an undocumented path are each refused.
#[test]
fn the_contract_check_refuses_drifted_answers() {
    let doc = json!({
        "paths": { "/api/v1/things/{id}": { "get": { "responses": {
            "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Thing" } } } },
            "4XX": { "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } }
        } } } },
        "components": { "schemas": {
            "Thing": { "type": "object", "properties": { "id": { "type": "integer" }, "at": { "type": "string", "format": "date-time" } }, "required": ["id", "at"] },
            "Problem": { "type": "object", "properties": { "code": { "type": "string" } }, "required": ["code"] }
        } }
    });
    let c = Contract { doc, validators: Mutex::new(HashMap::new()) };
    let resp = |status: u16, ct: &str, body: &str| {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("content-type", ct.parse().unwrap());
        Resp { status, headers, body: bytes::Bytes::from(body.to_string()) }
    };
    let get = Method::GET;
    assert!(c
        .check(&get, "/api/v1/things/1", &resp(200, "application/json", r#"{"id":1,"at":"2026-11-30T00:00:00Z"}"#))
        .is_ok());
    assert!(c.check(&get, "/api/v1/things/1", &resp(200, "application/json", r#"{"id":1}"#)).is_err(), "missing field");
    assert!(
        c.check(&get, "/api/v1/things/1", &resp(200, "application/json", r#"{"id":"1","at":"2026-11-30T00:00:00Z"}"#))
            .is_err(),
        "wrong type"
    );
    assert!(
        c.check(&get, "/api/v1/things/1", &resp(200, "application/json", r#"{"id":1,"at":"1764460800000"}"#)).is_err(),
        "not a date-time"
    );
    assert!(
        c.check(&get, "/api/v1/things/1", &resp(201, "application/json", r#"{"id":1,"at":"2026-11-30T00:00:00Z"}"#))
            .is_err(),
        "undocumented status"
    );
    assert!(c.check(&get, "/api/v1/things/1", &resp(200, "text/html", "<p>")).is_err(), "undocumented content type");
    assert!(c
        .check(&get, "/api/v1/things/1", &resp(404, "application/problem+json", r#"{"code":"not_found"}"#))
        .is_ok());
    assert!(c.check(&get, "/api/v1/other", &resp(200, "application/json", "{}")).is_err(), "undocumented path");
    assert!(c.check(&get, "/api/v1/other", &resp(404, "application/problem+json", r#"{"code":"not_found"}"#)).is_ok());
}
