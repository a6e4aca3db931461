//! What a client needs to know to fill a form: the reasons a buyer may give and a merchant may
//! reject with (per case type, with Chinese and English labels and whether evidence is needed),
//! the deadline table of each policy profile, and the labels of queues, statuses, case types and
//! flags. All of it is the rules core's own data.

use super::{schema, Api, BodyDoc, Reply};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::answer::Json;
use aftersale_core::command::{Reason, APPLY_REASONS, MERCHANT_REFUND_REASONS, REJECT_REASONS};
use aftersale_core::labels::{self, Label};
use aftersale_core::model::{Queue, Stage, StatusName};
use aftersale_core::values::Flag;
use aftersale_core::{CaseType, Policy};
use axum::http::{Method, StatusCode};
use axum::routing::get;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    api.route(
        Method::GET,
        "/api/v1/reasons",
        "reasons",
        "catalog",
        "Apply reasons and rejection reasons, per case type, with zh-CN and en labels.",
        "any logged-in user",
        NoBody,
        Reply::Json(200, schema::<Reasons>),
        get(reasons),
    )
    .query(schema::<ReasonsQuery>)
    .route(
        Method::GET,
        "/api/v1/profiles",
        "profiles",
        "catalog",
        "The deadline table of each policy profile (a shop's values in force: GET /shops/{shop}/policy).",
        "any logged-in user",
        NoBody,
        Reply::Json(200, schema::<Profiles>),
        get(profiles),
    )
    .route(
        Method::GET,
        "/api/v1/labels",
        "labels",
        "catalog",
        "The labels of the workbench queues, case statuses, case types and flags.",
        "any logged-in user",
        NoBody,
        Reply::Json(200, schema::<Labels>),
        get(all_labels),
    )
}

/// Which reasons to list.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonsQuery {
    /// Only the reasons for this case type.
    kind: Option<CaseType>,
    /// The policy profile (`douyin`, `taote`, `tiktok_shop`); the lists are the same in each.
    #[schemars(extend("enum" = ["douyin", "taote", "tiktok_shop"]))]
    profile: Option<String>,
}

/// A reason a buyer may give.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ApplyReason {
    #[serde(flatten)]
    reason: Reason,
    kinds: Vec<CaseType>,
    evidence_required: bool,
}

/// A reason a merchant may reject with, and when.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RejectReason {
    #[serde(flatten)]
    reason: Reason,
    /// `review` (before the goods come back) and/or `receipt` (after, M2).
    stages: Vec<Stage>,
    /// The case types whose rejection can use it.
    kinds: Vec<CaseType>,
    /// A rejection always carries evidence (S4).
    evidence_required: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Reasons {
    apply: Vec<ApplyReason>,
    reject: Vec<RejectReason>,
    /// C1: why a shop refunds a buyer of its own accord (`POST /api/v1/orders/{order}/refunds`).
    merchant_refund: Vec<Reason>,
}

const KINDS: [CaseType; 5] = CaseType::ALL;

/// The stages a rejection can happen at for a case type: only what takes the goods back (a
/// return, an exchange) is rejected on receipt.
fn stages_of(kind: CaseType) -> &'static [Stage] {
    match kind {
        CaseType::ReturnRefund | CaseType::Exchange => &[Stage::Review, Stage::Receipt],
        _ => &[Stage::Review],
    }
}

async fn reasons(_caller: Caller, uri: axum::http::Uri) -> ApiResult<Json<Reasons>> {
    let q: ReasonsQuery = crate::input::search::query(uri.query())?;
    if let Some(p) = &q.profile {
        Policy::profile(p).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e).field("profile"))?;
    }
    let kinds: Vec<CaseType> = KINDS.into_iter().filter(|k| q.kind.is_none_or(|want| want == *k)).collect();
    let apply = APPLY_REASONS
        .iter()
        .map(|r| ApplyReason {
            reason: *r,
            kinds: kinds.iter().copied().filter(|k| aftersale_core::reason_fits(*k, r.code)).collect(),
            evidence_required: false,
        })
        .filter(|r| !r.kinds.is_empty())
        .collect();
    let reject = REJECT_REASONS
        .iter()
        .filter_map(|(r, stages)| {
            let for_kinds: Vec<CaseType> =
                kinds.iter().copied().filter(|k| stages_of(*k).iter().any(|s| stages.contains(s))).collect();
            (!for_kinds.is_empty()).then(|| RejectReason {
                reason: *r,
                stages: stages.to_vec(),
                kinds: for_kinds,
                evidence_required: true,
            })
        })
        .collect();
    Ok(Json(Reasons { apply, reject, merchant_refund: MERCHANT_REFUND_REASONS.to_vec() }))
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Profile {
    name: String,
    policy: Policy,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Profiles {
    items: Vec<Profile>,
}

async fn profiles(_caller: Caller) -> ApiResult<Json<Profiles>> {
    let items = aftersale_core::policy::PROFILE_NAMES
        .iter()
        .map(|name| {
            Policy::profile(name)
                .map(|policy| Profile { name: name.to_string(), policy })
                .map_err(|_| ApiError::internal(&crate::request_id::next()))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(Profiles { items }))
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Labels {
    queues: Vec<Label<Queue>>,
    statuses: Vec<Label<StatusName>>,
    case_types: Vec<Label<CaseType>>,
    flags: Vec<Label<Flag>>,
}

async fn all_labels(_caller: Caller) -> Json<Labels> {
    Json(Labels {
        queues: labels::QUEUES.to_vec(),
        statuses: labels::STATUSES.to_vec(),
        case_types: labels::CASE_TYPES.to_vec(),
        flags: labels::FLAGS.to_vec(),
    })
}
