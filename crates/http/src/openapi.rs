//! The OpenAPI 3.1 document, generated from the route table (`routes::api`) and the schemas
//! below. A route cannot be served without appearing here: both come from `Api::route`.

use crate::routes::{BodyDoc, RouteDoc};
use serde_json::{json, Map, Value};

fn obj(props: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": props, "required": required })
}

fn list_of(item: Value) -> Value {
    obj(json!({ "items": { "type": "array", "items": item } }), &["items"])
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// Every schema the routes name.
pub fn schemas() -> Map<String, Value> {
    let string = json!({ "type": "string" });
    let int = json!({ "type": "integer" });
    let ts = json!({ "type": "integer", "description": "milliseconds since the Unix epoch (UTC)" });
    let evidence_list = json!({ "type": "array", "items": r("Evidence") });
    let mut m = Map::new();
    let mut put = |name: &str, v: Value| {
        m.insert(name.to_string(), v);
    };
    put(
        "Problem",
        obj(
            json!({
                "type": string, "title": string, "status": int, "detail": string,
                "code": { "type": "string", "description": "stable code from the registry (docs/api.md)" },
                "field": string, "rule": { "type": "string", "description": "the rule ID that refused (rules.md)" },
                "current_version": int
            }),
            &["type", "title", "status", "detail", "code"],
        ),
    );
    put(
        "Money",
        obj(
            json!({ "minor": { "type": "integer", "minimum": 0, "description": "minor units (fen, cents)" },
        "currency": { "type": "string", "pattern": "^[A-Z]{3}$" } }),
            &["minor", "currency"],
        ),
    );
    put(
        "Logistics",
        obj(
            json!({ "carrier": string, "tracking_no": { "type": "string", "pattern": "^[A-Za-z0-9]{8,32}$" } }),
            &["carrier", "tracking_no"],
        ),
    );
    put(
        "Evidence",
        obj(
            json!({ "key": string, "kind": { "enum": ["image", "video", "pdf"] },
        "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" }, "caption": string }),
            &["key", "kind", "sha256"],
        ),
    );
    put(
        "Address",
        obj(
            json!({ "id": int, "name": string, "phone": string, "region": string, "detail": string }),
            &["id", "name", "phone", "region", "detail"],
        ),
    );
    put(
        "NewAddress",
        obj(
            json!({ "name": string, "phone": string, "region": string, "detail": string, "is_default": { "type": "boolean" } }),
            &["name", "phone", "region", "detail"],
        ),
    );
    put(
        "AddressList",
        list_of(obj(
            json!({ "address": r("Address"), "is_default": { "type": "boolean" } }),
            &["address", "is_default"],
        )),
    );
    put(
        "Register",
        obj(
            json!({ "login": string, "password": { "type": "string", "minLength": 8 }, "display_name": string }),
            &["login", "password", "display_name"],
        ),
    );
    put("Login", obj(json!({ "login": string, "password": string }), &["login", "password"]));
    let role = json!({ "enum": ["buyer", "owner", "staff", "agent", "admin"] });
    put(
        "User",
        obj(
            json!({ "id": int, "login": string, "role": role, "shop_id": { "type": ["integer", "null"] }, "display_name": string, "created_at": ts }),
            &["id", "login", "role", "display_name"],
        ),
    );
    put("UserList", list_of(r("User")));
    put(
        "NewUser",
        obj(
            json!({ "login": string, "password": string, "role": role, "shop_id": int, "display_name": string }),
            &["login", "password", "role", "display_name"],
        ),
    );
    put("Session", obj(json!({ "user": r("User"), "expires_at": ts }), &["user", "expires_at"]));
    put("NewToken", obj(json!({ "name": string }), &["name"]));
    let token = obj(
        json!({ "id": int, "user_id": int, "name": string, "created_at": ts, "revoked_at": { "type": ["integer", "null"] } }),
        &["id", "name"],
    );
    put("TokenList", list_of(token.clone()));
    put(
        "CreatedToken",
        obj(
            json!({ "token": { "type": "string", "description": "shown once; send as `Authorization: Bearer …`" }, "record": token }),
            &["token", "record"],
        ),
    );
    let policy =
        json!({ "type": "object", "description": "deadline values of the profile, durations as text (\"48h\")" });
    put("Policy", obj(json!({ "policy": policy }), &["policy"]));
    put(
        "PolicyUpdate",
        obj(
            json!({ "profile": { "enum": ["douyin", "taote", "tiktok_shop"] }, "overrides": { "type": "object" } }),
            &["profile"],
        ),
    );
    let shop = obj(
        json!({ "id": int, "name": string, "profile": string, "overrides": { "type": "object" }, "default_address": { "oneOf": [r("Address"), { "type": "null" }] } }),
        &["id", "name", "profile"],
    );
    put("Shop", obj(json!({ "shop": shop.clone(), "policy": policy }), &["shop"]));
    put("ShopList", list_of(shop));
    put(
        "NewShop",
        obj(
            json!({ "name": string, "profile": { "enum": ["douyin", "taote", "tiktok_shop"] }, "overrides": { "type": "object" } }),
            &["name", "profile"],
        ),
    );
    let template = obj(json!({ "id": int, "shop_id": int, "title": string, "body": string }), &["id", "title", "body"]);
    put("Template", template.clone());
    put("TemplateList", list_of(template));
    put("NewTemplate", obj(json!({ "title": string, "body": string }), &["title", "body"]));
    put(
        "PenaltyList",
        list_of(obj(
            json!({ "shop_id": int, "case_id": int, "reason": string, "amount": r("Money"), "at": ts }),
            &["case_id", "amount"],
        )),
    );
    put(
        "NewOrder",
        obj(
            json!({ "order_no": string, "buyer_id": int, "payment": { "enum": ["online", "cod"] }, "total": r("Money"),
        "shipping_fee": r("Money"), "fresh": { "type": "boolean" }, "customer_name": string, "customer_phone": string }),
            &["order_no", "buyer_id", "payment", "total", "shipping_fee", "customer_name", "customer_phone"],
        ),
    );
    put(
        "Order",
        obj(
            json!({ "id": int, "shop_id": int, "buyer_id": int, "order_no": string,
        "state": { "enum": ["awaiting_payment", "awaiting_confirmation", "stocking", "shipped", "delivered", "completed", "cancelled"] },
        "total": r("Money"), "shipping_fee": r("Money"), "refunded": r("Money"), "version": int }),
            &["id", "shop_id", "order_no", "state", "version"],
        ),
    );
    put(
        "OrderAction",
        json!({ "type": "object", "description": "fields of the action: ship {logistics}, cancel {reason, buyer_contacted}, set_flag {flag}, set_remark {text}; others take none",
        "properties": { "logistics": r("Logistics"), "reason": string, "buyer_contacted": { "type": "boolean" }, "flag": { "type": ["string", "null"] }, "text": string } }),
    );
    let kind = json!({ "enum": ["refund_unshipped", "refund_only", "return_refund"] });
    put(
        "Apply",
        obj(
            json!({ "kind": kind, "reason": string, "amount": r("Money"), "description": string, "evidence": evidence_list,
        "refund_account": { "type": "object", "description": "COD only (R6): holder, bank, number; shown to the buyer and the platform only",
            "properties": { "holder": string, "bank": string, "number": string } } }),
            &["kind", "reason", "amount"],
        ),
    );
    put(
        "CaseAction",
        json!({ "type": "object", "description": "fields of the action named in the path (docs/api.md lists each)",
        "properties": { "reason": string, "reason_code": string, "explanation": string, "evidence": evidence_list, "logistics": r("Logistics"),
            "address_id": int, "address": r("Address"), "refuse_freight_collect": { "type": "boolean" }, "kind": kind, "amount": r("Money"),
            "text": string, "instructions": string, "for_party": { "enum": ["buyer", "merchant"] }, "upheld": { "type": "boolean" },
            "flag": { "type": ["string", "null"] } } }),
    );
    put("ReturnLogistics", obj(json!({ "signed": { "type": "boolean" } }), &["signed"]));
    put(
        "CaseDetail",
        obj(
            json!({ "case": { "type": "object" }, "order": r("Order"), "queue": string, "status": string, "version": int,
        "amounts": { "type": "object" }, "deadline": { "type": ["object", "null"], "properties": { "kind": string, "rule": string, "due": ts, "time_left_ms": int, "on_expiry": string } },
        "available_actions": { "type": "array", "items": string }, "remarks": { "type": "object" }, "flag": { "type": ["string", "null"] },
        "log": { "type": "array", "items": { "type": "object" } }, "now": ts }),
            &["case", "order", "status", "version", "available_actions", "log"],
        ),
    );
    put(
        "CasePage",
        obj(
            json!({ "items": { "type": "array", "items": obj(json!({ "case_id": int, "order_no": string, "status": string, "queue": string,
        "customer_phone": { "type": "string", "description": "masked (W6)" }, "due": { "type": ["integer", "null"] } }), &["case_id"]) },
        "next_cursor": { "type": ["string", "null"] }, "counts": { "type": ["object", "null"], "additionalProperties": int } }),
            &["items"],
        ),
    );
    put(
        "QueueCounts",
        obj(
            json!({ "shop_id": int, "counts": { "type": "object", "additionalProperties": int } }),
            &["shop_id", "counts"],
        ),
    );
    put(
        "MessageBox",
        obj(
            json!({ "items": { "type": "array", "items": { "type": "object" } }, "unread": { "type": "object", "additionalProperties": int } }),
            &["items", "unread"],
        ),
    );
    put("MarkRead", obj(json!({ "ids": { "type": "array", "items": int } }), &["ids"]));
    put("Marked", obj(json!({ "marked": int }), &["marked"]));
    put(
        "SmsList",
        list_of(obj(
            json!({ "id": int, "phone": string, "text": string, "case_id": { "type": ["integer", "null"] }, "at": ts }),
            &["id", "phone", "text"],
        )),
    );
    put("Health", obj(json!({ "status": string }), &["status"]));
    put("Clock", obj(json!({ "now": ts, "manual": { "type": "boolean" }, "fired": int }), &["now"]));
    put("ClockAdvance", obj(json!({ "by": { "type": "string", "examples": ["6h", "2d", "1d12h"] } }), &["by"]));
    m
}

pub fn document(routes: &[RouteDoc]) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for route in routes {
        let params: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let mut op = Map::new();
        op.insert("operationId".into(), json!(route.op));
        op.insert("summary".into(), json!(route.summary));
        op.insert("description".into(), json!(format!("{} Who may call it: {}.", route.summary, route.roles)));
        op.insert("tags".into(), json!([route.tag]));
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        match &route.body {
            BodyDoc::NoBody => {}
            BodyDoc::Json(name) => {
                op.insert(
                    "requestBody".into(),
                    json!({ "required": true, "content": { "application/json": { "schema": r(name) } } }),
                );
            }
            BodyDoc::Multipart => {
                op.insert("requestBody".into(), json!({ "required": true, "content": { "multipart/form-data": { "schema": {
                    "type": "object", "properties": { "file": { "type": "string", "contentMediaType": "application/octet-stream" }, "caption": { "type": "string" } },
                    "required": ["file"] } } } }));
            }
        }
        let ok_status =
            if route.method == axum::http::Method::POST && route.summary.contains("reates") { "201" } else { "200" };
        let ok = match route.response {
            Some(name) => json!({ "description": "success", "content": { "application/json": { "schema": r(name) } } }),
            None => json!({ "description": "success" }),
        };
        let problem =
            json!({ "description": "problem", "content": { "application/problem+json": { "schema": r("Problem") } } });
        op.insert("responses".into(), json!({ ok_status: ok, "4XX": problem, "5XX": problem }));
        if route.roles == "anyone" {
            op.insert("security".into(), json!([]));
        }
        let entry = paths.entry(route.path.to_string()).or_insert_with(|| json!({}));
        if let Some(e) = entry.as_object_mut() {
            e.insert(route.method.as_str().to_ascii_lowercase(), Value::Object(op));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "aftersale",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "After-sales engine: refunds, returns, deadlines, arbitration and appeals. Errors are application/problem+json with a stable `code`.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" }
        },
        "servers": [{ "url": "/" }],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "API token from POST /api/v1/tokens" },
                "session": { "type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE }
            }
        },
        "security": [{ "bearer": [] }, { "session": [] }]
    })
}
