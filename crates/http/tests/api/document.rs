//! The OpenAPI document itself.

use crate::harness::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_every_route_and_validates() {
    let t = TestApp::new().await;
    let doc = t.anon.get("/api/v1/openapi.json").await.unwrap().json();
    assert_eq!(doc["openapi"], "3.1.0");
    let docs = aftersale_http::routes::api().docs;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut ops = std::collections::HashSet::new();
    let mut documented = 0;
    for route in &docs {
        // An action route is documented once per action, each with its own body.
        let paths: Vec<String> = if route.actions.is_empty() {
            vec![route.path.to_string()]
        } else {
            route.actions.iter().map(|a| route.path.replace("{action}", a.name)).collect()
        };
        for p in &paths {
            let op = &doc["paths"][p.as_str()][route.method.as_str().to_ascii_lowercase()];
            assert!(op.is_object(), "{} {p} missing from the document", route.method);
            documented += 1;
        }
        let first = paths[0].clone();
        let op = &doc["paths"][first.as_str()][route.method.as_str().to_ascii_lowercase()];
        assert!(op.is_object(), "{} {} missing from the document", route.method, route.path);
        assert!(ops.insert(op["operationId"].as_str().unwrap().to_string()), "duplicate operationId");
        // Every path parameter is declared.
        for seg in first.split('/').filter(|s| s.starts_with('{')) {
            let name = seg.trim_matches(|c| c == '{' || c == '}');
            assert!(op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true));
        }
        assert!(op["responses"].as_object().map(|r| !r.is_empty()).unwrap_or(false));
        // Every route is served: the fallback's "no route" never answers a documented path.
        let path = first
            .replace("{shop}", "1")
            .replace("{order}", "1")
            .replace("{case}", "1")
            .replace("{action}", "refund")
            .replace("{id}", "1")
            .replace("{key}", "x");
        let r = t.anon.send(route.method.clone(), &path, &[], None).await.unwrap();
        assert!(!String::from_utf8_lossy(&r.body).contains("no route"), "{} {path} is not served", route.method);
        assert_ne!(r.status, 405, "{} {path}", route.method);
    }
    // Every $ref resolves.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|c| refs(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
    // Every path of the document is a route (no stale entries).
    assert_eq!(
        doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum::<usize>(),
        documented
    );
    // Each case action has its own body: `reject` needs a reason code, `withdraw` takes nothing,
    // and unknown fields are refused everywhere.
    let body = |a: &str| {
        doc["paths"][format!("/api/v1/cases/{{case}}/actions/{a}")]["post"]["requestBody"]["content"]
            ["application/json"]["schema"]
            .clone()
    };
    assert!(body("reject")["required"].as_array().unwrap().contains(&serde_json::json!("reason_code")));
    assert!(body("withdraw")["properties"].as_object().is_none_or(|p| p.is_empty()));
    for a in ["reject", "withdraw", "agree_return", "propose", "set_flag"] {
        assert_eq!(body(a)["additionalProperties"], false, "{a}");
    }
    // The case list documents its query parameters; the problem schema carries the registry.
    let params = doc["paths"]["/api/v1/cases"]["get"]["parameters"].as_array().unwrap();
    for name in [
        "queue",
        "kind",
        "flag",
        "due_before",
        "order_no",
        "customer_name",
        "customer_phone",
        "sort",
        "limit",
        "cursor",
    ] {
        assert!(params.iter().any(|p| p["name"] == name && p["in"] == "query"), "{name}");
    }
    let registry = doc["components"]["schemas"]["Problem"]["x-error-codes"].as_object().unwrap();
    for code in ["invalid_field", "deadline_passed", "version_conflict", "unknown_action", "parcel_signed"] {
        assert!(registry.contains_key(code), "{code}");
    }
    t.stop().await;
}

/// `/` leads to the login page, which says where the API's reference is; `/api/docs` is the reference page, its script served from the binary
/// under a name that changes with its bytes, cached for a year.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_and_the_api_reference_page() {
    let t = TestApp::new().await;
    // The pages are not API operations: read them as a browser does.
    let browser = crate::pages::Page::new(t.anon.base());
    let home = browser.get("/").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location.as_deref(), Some("/login"));
    let html = browser.get("/login").await.body;
    assert!(html.contains("href=\"/api/docs\"") && html.contains("href=\"/api/v1/openapi.json\""), "{html}");
    let page = t.anon.get("/api/docs").await.unwrap();
    let html = String::from_utf8_lossy(&page.body).to_string();
    assert!(html.contains("spec-url=\"/api/v1/openapi.json\""), "{html}");
    assert!(!html.contains("https://"), "no CDN: {html}");
    let script = html.split("src=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert!(script.starts_with("/api/docs/rapidoc-") && script.ends_with(".js"), "{script}");
    let js = t.anon.get(&script).await.unwrap();
    assert_eq!(js.status, 200);
    assert_eq!(js.header("content-type"), Some("text/javascript"));
    assert!(js.header("cache-control").unwrap().contains("immutable"));
    assert!(js.body.len() > 100_000);
    problem(&t.anon.get("/api/docs/rapidoc-0000.js").await.unwrap(), 404, "not_found");
    t.stop().await;
}

/// The error registry in docs/api.md is the one the document carries: every code with its status,
/// and no code the server does not know.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_error_registry_in_the_docs_matches_the_document() {
    let t = TestApp::new().await;
    let doc = t.anon.get("/api/v1/openapi.json").await.unwrap().json();
    let registry = doc["components"]["schemas"]["Problem"]["x-error-codes"].as_object().unwrap().clone();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md")).unwrap();
    let table: std::collections::BTreeMap<String, u64> = text
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let code = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let status = cells.get(2)?.parse().ok()?;
            Some((code.to_string(), status))
        })
        .collect();
    for (code, entry) in &registry {
        assert_eq!(table.get(code), entry["status"].as_u64().as_ref(), "{code} in docs/api.md");
    }
    for code in table.keys() {
        assert!(registry.contains_key(code), "docs/api.md lists {code}, which the server does not know");
    }
    // and the problem schema's `code` enum is the registry
    let codes = doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"].as_array().unwrap();
    assert_eq!(codes.len(), registry.len());
    t.stop().await;
}

/// Every code the server's source can answer with (each `ApiError::new(StatusCode::X, "code"`,
/// however it is wrapped over lines) is in the registry, with the same status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_code_the_server_answers_is_in_the_registry() {
    let t = TestApp::new().await;
    let doc = t.anon.get("/api/v1/openapi.json").await.unwrap().json();
    let registry = doc["components"]["schemas"]["Problem"]["x-error-codes"].as_object().unwrap().clone();
    let mut found = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            // Without whitespace: a call wrapped over lines reads as one written on one.
            let text: String = std::fs::read_to_string(&path).unwrap().split_whitespace().collect();
            for call in text.split("ApiError::new(StatusCode::").skip(1) {
                let Some((status, rest)) = call.split_once(',') else { continue };
                let rest = rest.trim_start();
                let Some(code) = rest.strip_prefix('"').and_then(|r| r.split('"').next()) else { continue };
                found.push((path.display().to_string(), status.trim().to_string(), code.to_string()));
            }
        }
    }
    assert!(found.len() > 20, "the scan finds the calls: {found:?}");
    for (file, status, code) in found {
        let entry = registry.get(&code).unwrap_or_else(|| panic!("{file} answers {code}, not in the registry"));
        let status = match status.as_str() {
            "BAD_REQUEST" => Some(axum::http::StatusCode::BAD_REQUEST),
            "UNAUTHORIZED" => Some(axum::http::StatusCode::UNAUTHORIZED),
            "FORBIDDEN" => Some(axum::http::StatusCode::FORBIDDEN),
            "NOT_FOUND" => Some(axum::http::StatusCode::NOT_FOUND),
            "METHOD_NOT_ALLOWED" => Some(axum::http::StatusCode::METHOD_NOT_ALLOWED),
            "REQUEST_TIMEOUT" => Some(axum::http::StatusCode::REQUEST_TIMEOUT),
            "CONFLICT" => Some(axum::http::StatusCode::CONFLICT),
            "GONE" => Some(axum::http::StatusCode::GONE),
            "PAYLOAD_TOO_LARGE" => Some(axum::http::StatusCode::PAYLOAD_TOO_LARGE),
            "UNSUPPORTED_MEDIA_TYPE" => Some(axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE),
            "UNPROCESSABLE_ENTITY" => Some(axum::http::StatusCode::UNPROCESSABLE_ENTITY),
            "TOO_MANY_REQUESTS" => Some(axum::http::StatusCode::TOO_MANY_REQUESTS),
            "INTERNAL_SERVER_ERROR" => Some(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
            "SERVICE_UNAVAILABLE" => Some(axum::http::StatusCode::SERVICE_UNAVAILABLE),
            _ => None,
        }
        .unwrap_or_else(|| panic!("{file}: status {status} of {code} is not one this test knows"));
        assert_eq!(entry["status"].as_u64(), Some(status.as_u16() as u64), "{file}: {code}");
    }
    t.stop().await;
}

/// Defect 8: the document's texts are for API users: no implementation notes copied from the
/// code's comments (type parameters, private fields, Rust's `None`, what breaks the build).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_speaks_to_api_users_not_of_the_code() {
    let t = TestApp::new().await;
    let doc = t.anon.get("/api/v1/openapi.json").await.unwrap().json();
    let mut texts = Vec::new();
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    if k == "description" || k == "summary" {
                        if let Some(s) = v.as_str() {
                            out.push(s.to_string());
                        }
                    }
                    walk(v, out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(&doc, &mut texts);
    assert!(texts.len() > 100);
    let internal =
        ["`E`", "private", "deserialis", "`Debug`", "the build", "None", "Rust", "struct", "`new`", "inside the rules"];
    for text in &texts {
        for word in internal {
            assert!(!text.contains(word), "an implementation note in the document ({word}): {text}");
        }
    }
    t.stop().await;
}
