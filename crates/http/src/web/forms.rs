//! What a page's form sends: its fields (urlencoded or multipart) and its files, and how a
//! form becomes the JSON body of an API action — so that a form is parsed and checked by the
//! very code that parses and checks the JSON API's bodies.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use aftersale_core::money::{Currency, MAX_MINOR};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, StatusCode};
use serde_json::{Map, Value};

/// A file sent with a form.
pub struct FormFile {
    pub bytes: bytes::Bytes,
    pub content_type: String,
}

/// The fields and files of a submitted form.
#[derive(Default)]
pub struct FormData {
    pub fields: Vec<(String, String)>,
    pub files: Vec<FormFile>,
}

impl FormData {
    pub fn get(&self, name: &str) -> &str {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

impl FromRequest<AppState> for FormData {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let ctype = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        if ctype.to_ascii_lowercase().starts_with("multipart/form-data") {
            let max_file = state.config.evidence.max_file_mib * 1024 * 1024;
            let max_request = state.config.evidence.max_request_mib * 1024 * 1024;
            let mut mp = Multipart::from_request(req, state).await.map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_request",
                    format!("malformed form: {}", e.body_text()),
                )
            })?;
            let mut out = FormData::default();
            let mut total = 0usize;
            let too_large =
                || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "too large").field("files");
            while let Some(field) = mp
                .next_field()
                .await
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", e.to_string()))?
            {
                let name = field.name().unwrap_or("").to_string();
                match field.file_name().map(str::to_string) {
                    Some(file_name) => {
                        let content_type = field.content_type().unwrap_or("").to_string();
                        let bytes = field.bytes().await.map_err(|_| too_large())?;
                        total += bytes.len();
                        if bytes.len() > max_file || total > max_request {
                            return Err(too_large());
                        }
                        // An empty file input sends a part with no name and no bytes.
                        if !file_name.is_empty() || !bytes.is_empty() {
                            out.files.push(FormFile { bytes, content_type });
                        }
                    }
                    None => {
                        let text = field
                            .text()
                            .await
                            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", e.to_string()))?;
                        total += text.len();
                        if total > max_request {
                            return Err(too_large());
                        }
                        out.fields.push((name, text));
                    }
                }
            }
            Ok(out)
        } else {
            let limit = state.config.server.json_limit_kib * 1024;
            let body = axum::body::to_bytes(req.into_body(), limit)
                .await
                .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the form is too large"))?;
            let fields = form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            Ok(FormData { fields, files: Vec::new() })
        }
    }
}

/// A form sent by a logged-in person, its CSRF token checked: what every page's POST takes.
/// A missing session leads to the login page, a bad token or a broken body to a page that says so.
pub struct Posted {
    pub v: super::Viewer,
    pub form: FormData,
}

impl FromRequest<AppState> for Posted {
    type Rejection = axum::response::Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        use axum::extract::FromRequestParts;
        let (mut parts, body) = req.into_parts();
        let v = super::Viewer::from_request_parts(&mut parts, state).await?;
        let form = match FormData::from_request(Request::from_parts(parts, body), state).await {
            Ok(f) => f,
            Err(e) => return Err(super::refusal_page(&v, &e)),
        };
        if let Some(refused) = v.csrf_refusal(form.get("csrf")) {
            return Err(refused);
        }
        Ok(Posted { v, form })
    }
}

/// Fields every form carries that are not the action's input.
const CONTROL: [&str; 6] = ["csrf", "idem", "version", "caption", "evidence_key", "next"];

/// Inputs whose form text is a yes/no.
const BOOLS: [&str; 2] = ["refuse_freight_collect", "upheld"];

/// Actions whose body names evidence (`evidence: [{key, caption}]`).
pub const TAKES_EVIDENCE: [&str; 6] =
    ["resubmit", "add_evidence", "reject", "submit_evidence", "upload_voucher", "appeal"];

/// `12.50` (major units, at most two decimals) as minor units.
pub fn parse_major(text: &str) -> Result<i64, String> {
    let t = text.trim().replace(',', "");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    let ok = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 2
        && frac.bytes().all(|b| b.is_ascii_digit())
        && whole.len() <= 12;
    if !ok {
        return Err(format!("{text:?} is not an amount such as 12.50"));
    }
    let whole: i64 = whole.parse().map_err(|_| format!("{text:?} is not an amount"))?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().unwrap_or(0) };
    let minor = whole.checked_mul(100).and_then(|w| w.checked_add(frac)).filter(|m| *m <= MAX_MINOR);
    minor.ok_or_else(|| format!("{text:?} is above the largest amount"))
}

/// The JSON body of an action from a form: dotted names nest (`logistics.carrier`), `amount`
/// is read in major units of `currency`, yes/no inputs become booleans, an optional group left
/// empty (a refund account) is left out, and `evidence` lists the files sent (by key).
pub fn action_body(
    action: &str,
    form: &FormData,
    currency: Currency,
    evidence: &[(String, String)],
) -> ApiResult<Vec<u8>> {
    let mut map = Map::new();
    // L2: `units.{line}` fields are the lines and units asked for (0 or empty: not that line).
    let mut picks = Vec::new();
    let mut named_units = false;
    // L5: `received.{line}` fields are the units found in the return, per line (0 included).
    let mut received = Vec::new();
    for (name, value) in &form.fields {
        if CONTROL.contains(&name.as_str()) {
            continue;
        }
        if let Some(line) = name.strip_prefix("units.") {
            named_units = true;
            let field = format!("units.{line}");
            let line: u32 = line.parse().map_err(|_| ApiError::bad("lines", "not a line of the order"))?;
            let units: u32 = match value.trim() {
                "" => 0,
                v => v.parse().map_err(|_| ApiError::bad(&field, "a whole number of units"))?,
            };
            if units > 0 {
                picks.push(serde_json::json!({ "line": line, "units": units }));
            }
            continue;
        }
        if let Some(line) = name.strip_prefix("received.") {
            let field = format!("received.{line}");
            let line: u32 = line.parse().map_err(|_| ApiError::bad("received", "not a line of the case"))?;
            let units: u32 = match value.trim() {
                "" => 0,
                v => v.parse().map_err(|_| ApiError::bad(&field, "a whole number of units"))?,
            };
            received.push(serde_json::json!({ "line": line, "units": units }));
            continue;
        }
        let v = match name.as_str() {
            "amount" => {
                let minor = parse_major(value).map_err(|e| ApiError::bad("amount", e))?;
                serde_json::json!({ "minor": minor, "currency": currency.as_str() })
            }
            "address_id" if value.is_empty() => continue,
            "address_id" | "address.id" => {
                Value::from(value.parse::<i64>().map_err(|_| ApiError::bad("address_id", "not an address"))?)
            }
            "template_id" if value.is_empty() => continue,
            "template_id" => {
                Value::from(value.parse::<i64>().map_err(|_| ApiError::bad("template_id", "not a reply template"))?)
            }
            "flag" if value.is_empty() => Value::Null,
            n if BOOLS.contains(&n) => Value::Bool(matches!(value.as_str(), "on" | "true" | "yes" | "1")),
            _ => Value::String(value.clone()),
        };
        insert_dotted(&mut map, name, v);
    }
    if named_units {
        if picks.is_empty() {
            return Err(ApiError::bad("lines", "ask about at least one unit"));
        }
        map.insert("lines".into(), Value::Array(picks));
    }
    if !received.is_empty() {
        map.insert("received".into(), Value::Array(received));
    }
    // Unchecked boxes send nothing; the JSON API's default (false) holds.
    map.retain(|_, v| !is_blank_group(v));
    if TAKES_EVIDENCE.contains(&action) {
        let items: Vec<Value> =
            evidence.iter().map(|(key, caption)| serde_json::json!({ "key": key, "caption": caption })).collect();
        map.insert("evidence".into(), Value::Array(items));
    }
    serde_json::to_vec(&Value::Object(map)).map_err(|_| ApiError::internal(&crate::request_id::next()))
}

fn insert_dotted(map: &mut Map<String, Value>, name: &str, v: Value) {
    match name.split_once('.') {
        Some((head, rest)) => {
            let entry = map.entry(head.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                insert_dotted(inner, rest, v);
            }
        }
        None => {
            map.insert(name.to_string(), v);
        }
    }
}

/// An object every field of which was left empty: an optional group not filled in.
fn is_blank_group(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            m.values().all(|x| matches!(x, Value::String(s) if s.trim().is_empty()) || is_blank_group(x))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> FormData {
        FormData { fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), files: vec![] }
    }

    #[test]
    fn amounts_are_read_in_major_units() {
        assert_eq!(parse_major("12.5"), Ok(1250));
        assert_eq!(parse_major("12.05"), Ok(1205));
        assert_eq!(parse_major(" 7 "), Ok(700));
        assert_eq!(parse_major("1,200.00"), Ok(120_000));
        for bad in ["", "-1", "1.234", "abc", "1e3", ".5", "100000000.01"] {
            assert!(parse_major(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_major("100000000"), Ok(MAX_MINOR));
    }

    #[test]
    fn a_form_becomes_the_actions_json_body() {
        let f = form(&[
            ("csrf", "x"),
            ("idem", "y"),
            ("version", "3"),
            ("logistics.carrier", "SF"),
            ("logistics.tracking_no", "SF1"),
            ("refund_account.holder", ""),
            ("refund_account.bank", " "),
            ("amount", "5.00"),
            ("refuse_freight_collect", "on"),
        ]);
        let body: Value =
            serde_json::from_slice(&action_body("submit_return_logistics", &f, Currency::CNY, &[]).unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "logistics": {"carrier": "SF", "tracking_no": "SF1"},
                "amount": {"minor": 500, "currency": "CNY"},
                "refuse_freight_collect": true
            })
        );
        let ev = [("ev-1".to_string(), "photo".to_string())];
        let body: Value = serde_json::from_slice(
            &action_body("reject", &form(&[("reason_code", "not_as_claimed")]), Currency::CNY, &ev).unwrap(),
        )
        .unwrap();
        assert_eq!(body["evidence"], serde_json::json!([{"key": "ev-1", "caption": "photo"}]));
        let body: Value =
            serde_json::from_slice(&action_body("set_flag", &form(&[("flag", "")]), Currency::CNY, &[]).unwrap())
                .unwrap();
        assert_eq!(body, serde_json::json!({"flag": null}));
        assert!(action_body("propose", &form(&[("amount", "x")]), Currency::CNY, &[]).is_err());
    }
}
