//! A case or order action named in a path (or a form) with its JSON body, turned into the typed
//! action the engine takes: the same parser for the JSON API and the pages.

use super::parse_json;
use crate::error::{ApiError, ApiResult};
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::{CaseAction, ReturnTo};
use axum::http::{header, HeaderMap, StatusCode};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Agree to the return (R2/R4): to an address of the shop's book, an address given here, or
/// (neither) the shop's default address.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreeReturnIn {
    /// An address of the shop's book (`GET /api/v1/shops/{shop}/addresses`).
    #[serde(default)]
    address_id: Option<AddressId>,
    /// An address given in full, instead of one of the book.
    #[serde(default)]
    address: Option<Address>,
    /// The shop refuses parcels sent freight collect (the buyer pays the postage).
    #[serde(default)]
    refuse_freight_collect: bool,
}

/// Propose another solution (N-rules): the kind and amount; a proposal that takes the goods back
/// names the return address, of the shop's book or given (R4).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeIn {
    /// The case type proposed.
    kind: CaseType,
    /// The amount proposed.
    amount: Money,
    /// An address of the shop's book (`GET /api/v1/shops/{shop}/addresses`).
    #[serde(default)]
    address_id: Option<AddressId>,
    /// An address given in full, instead of one of the book.
    #[serde(default)]
    address: Option<Address>,
}

/// T2: a message to the case's thread: text, or (no text) one of the shop's reply templates.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageIn {
    /// Up to 2,000 characters.
    #[serde(default)]
    #[schemars(length(max = 2000))]
    text: String,
    /// A reply template of the shop (`GET /api/v1/shops/{shop}/templates`), sent when `text` is empty.
    #[serde(default)]
    template_id: Option<i64>,
}

/// W3: the order's flag colour, or null to clear it.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagIn {
    flag: Option<Flag>,
}

/// W4: the order's remark, shared by every case of the order.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemarkIn {
    /// Up to 500 characters; empty clears it.
    #[schemars(length(max = 500))]
    text: String,
}

/// Actions a caller may name: the core's own list less the system's (expiry, refund outcomes,
/// parcel signed), so an action added to the rules is served without a second list.
pub fn caller_actions() -> impl Iterator<Item = &'static str> {
    Action::ALL.into_iter().filter(|a| a.parties() != [Party::System]).map(|a| a.as_str())
}

/// Every case action a caller may name (the order's flag and remark among them: W3, W4).
pub fn case_action_names() -> impl Iterator<Item = &'static str> {
    caller_actions()
}

/// The case action `name` with its JSON body (empty: `{}`).
pub fn case_action(name: &str, body: &[u8]) -> ApiResult<CaseAction> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    Ok(match name {
        "set_flag" => {
            let FlagIn { flag } = parse_json(body)?;
            CaseAction::SetFlag { flag }
        }
        "set_order_remark" => {
            let RemarkIn { text } = parse_json(body)?;
            CaseAction::SetOrderRemark { text }
        }
        "agree_return" => {
            let input: AgreeReturnIn = parse_json(body)?;
            let to = one_address(input.address_id, input.address)?.unwrap_or(ReturnTo::Default);
            CaseAction::AgreeReturn { to, refuse_freight_collect: input.refuse_freight_collect }
        }
        "propose" => {
            prevalidate(&parse_json(body)?)?;
            let ProposeIn { kind, amount, address_id, address } = parse_json(body)?;
            CaseAction::Propose { kind, amount, address: one_address(address_id, address)? }
        }
        "post_message" => {
            let MessageIn { text, template_id } = parse_json(body)?;
            CaseAction::PostMessage { text, template: template_id }
        }
        a if caller_actions().any(|c| c == a) => {
            let cmd: CaseCommandOf<EvidenceRef> = tagged(a, body)?;
            check_refs(cmd.evidence())?;
            CaseAction::Command(cmd)
        }
        _ => return Err(unknown_action("case action", &case_action_names().collect::<Vec<_>>())),
    })
}

/// The address an action names: of the book by id, or given in full, or none; not both.
fn one_address(id: Option<AddressId>, given: Option<Address>) -> ApiResult<Option<ReturnTo>> {
    match (id, given) {
        (Some(id), None) => Ok(Some(ReturnTo::Book(id))),
        (None, Some(address)) => Ok(Some(ReturnTo::Given(address))),
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            "give address_id or address, not both",
        )
        .field("address")),
    }
}

/// The bounds the document states for evidence references (400 when broken); whether each is
/// the caller's upload is the engine's E4 check (422).
pub fn check_refs(items: &[EvidenceRef]) -> ApiResult<()> {
    for (i, r) in items.iter().enumerate() {
        r.validate().map_err(|e| ApiError::bad(&format!("evidence[{i}]"), e))?;
    }
    // The rules' own bound, checked before any file is looked up.
    let max = aftersale_core::decide::MAX_EVIDENCE_PER_COMMAND;
    if items.len() > max {
        return Err(ApiError::bad("evidence", format!("at most {max} files")));
    }
    Ok(())
}

/// An unknown action: 404, naming the valid ones.
pub fn unknown_action(what: &str, valid: &[&str]) -> ApiError {
    let mut err = ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_action",
        format!("no {what} of that name; valid: {}", valid.join(", ")),
    )
    .field("action");
    err.0.valid = Some(valid.iter().map(|v| v.to_string()).collect());
    err
}

/// Parses `{...}` into the tagged command `action`, refusing unknown fields.
pub fn tagged<T: serde::de::DeserializeOwned + serde::Serialize>(action: &str, body: &[u8]) -> ApiResult<T> {
    let mut map: Map<String, Value> =
        if body.iter().all(u8::is_ascii_whitespace) { Map::new() } else { parse_json(body)? };
    if map.contains_key("command") {
        return Err(ApiError::bad("command", "the action is named in the path, not the body"));
    }
    prevalidate(&map)?;
    map.insert("command".into(), Value::String(action.to_string()));
    let bytes =
        serde_json::to_vec(&Value::Object(map.clone())).map_err(|_| ApiError::internal(&crate::request_id::next()))?;
    let parsed: T = parse_json(&bytes)?;
    // Serde lets unit variants of a tagged enum ignore extra fields; refuse them here.
    let known = serde_json::to_value(&parsed).map_err(|_| ApiError::internal(&crate::request_id::next()))?;
    if let Some(extra) = map.keys().find(|k| known.get(k.as_str()).is_none()) {
        return Err(ApiError::bad(extra, format!("unknown field `{extra}` for {action}")));
    }
    Ok(parsed)
}

/// Serde loses the path inside a tagged enum; parse the typed fields on their own first so an
/// error names the field (`logistics.tracking_no`, `amount.currency`).
fn prevalidate(map: &Map<String, Value>) -> ApiResult<()> {
    fn check<T: serde::de::DeserializeOwned>(key: &str, v: &Value) -> ApiResult<()> {
        let bytes = serde_json::to_vec(v).map_err(|_| ApiError::internal(&crate::request_id::next()))?;
        parse_json::<T>(&bytes).map(|_| ()).map_err(|mut e| {
            let inner = e.0.field.take().filter(|f| f != ".");
            e.0.field = Some(match inner {
                Some(f) if f.starts_with('[') => format!("{key}{f}"),
                Some(f) => format!("{key}.{f}"),
                None => key.to_string(),
            });
            e
        })
    }
    for (k, v) in map {
        match k.as_str() {
            "logistics" => check::<Logistics>(k, v)?,
            "amount" => check::<Money>(k, v)?,
            "evidence" => check::<Vec<EvidenceRef>>(k, v)?,
            "address" => check::<Option<Address>>(k, v)?,
            "refund_account" => check::<Option<RefundAccount>>(k, v)?,
            "kind" => check::<CaseType>(k, v)?,
            "flag" => check::<Option<Flag>>(k, v)?,
            "for_party" => check::<Party>(k, v)?,
            _ => {}
        }
    }
    Ok(())
}

/// A body, when there is one, must say it is JSON.
pub fn json_content(headers: &HeaderMap, body: &[u8]) -> ApiResult<()> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim() == "application/json")
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ))
    }
}
