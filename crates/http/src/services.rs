//! What both edges call — the JSON API (`routes/`) and the pages (`web/`) — where a use-case of
//! the engine needs what only the HTTP side has: the object store for evidence, the request
//! metrics, the manual clock, sessions and password hashing. Each is the engine's use-case plus
//! that glue, never a rule or a check of its own.

use crate::auth::{hash_password, new_token, sha256_hex, verify_password, Caller};
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::state::AppState;
use crate::wire;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::{CaseQuery, EvidenceObject, LoginOutcome};
use axum::http::StatusCode;

/// Checks an uploaded file (not empty; a JPEG, PNG, WebP, MP4 or PDF by its bytes, as declared),
/// stores it and records it as the caller's: what the JSON upload and the pages' forms share.
/// `key` names the object (a page derives it from its form key, so that a form sent twice
/// stores its file once and its action replays); a key already taken by the same caller for
/// the same bytes answers that object.
pub async fn store_upload(
    state: &AppState,
    caller: &Caller,
    bytes: bytes::Bytes,
    declared: &str,
    caption: String,
    key: Option<String>,
) -> ApiResult<(Evidence, &'static str)> {
    if bytes.is_empty() {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", "the file is empty").field("file"));
    }
    let Some((kind, content_type)) = objects::sniff(&bytes) else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the file is not a JPEG, PNG, WebP, MP4 or PDF",
        )
        .field("file"));
    };
    if !objects::declared_matches(declared, content_type) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("the file was declared {declared} but its bytes are {content_type}"),
        )
        .field("file"));
    }
    let sha256 = sha256_hex(&bytes);
    // A key without `/`, so that it is one path segment wherever it is named.
    let key = match key {
        Some(k) => {
            let k2 = k.clone();
            if let Some(obj) = state.run(move |e| e.evidence_object(&k2)).await? {
                if obj.uploader == caller.user.id && obj.sha256 == sha256 {
                    return Ok((Evidence { key: obj.key, kind, sha256, caption }, content_type));
                }
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency_key_reused",
                    "this form already sent another file",
                ));
            }
            k
        }
        None => format!("ev-{}", &crate::auth::new_token()?[3..35]),
    };
    objects::put(state.objects.as_ref(), &key, bytes.clone()).await.map_err(|e| {
        let id = crate::request_id::next();
        tracing::error!(request_id = %id, error = %e, "evidence store put failed");
        ApiError::internal(&id)
    })?;
    let object = EvidenceObject {
        key: key.clone(),
        uploader: caller.user.id,
        shop_id: caller.shop(),
        buyer_id: match caller.actor {
            Actor::Buyer { buyer } => Some(buyer),
            _ => None,
        },
        kind,
        content_type: content_type.to_string(),
        size: bytes.len() as u64,
        sha256: sha256.clone(),
        created_at: state.engine.now(),
    };
    state.run(move |e| e.record_evidence(object)).await?;
    let evidence = Evidence { key, kind, sha256, caption };
    Ok((evidence, content_type))
}

/// A buyer's application, checked and resolved (E4) the same way for the JSON API and the pages.
pub async fn apply(
    state: &AppState,
    caller: &Caller,
    id: OrderId,
    cmd: ApplyOf<EvidenceRef>,
    key: Option<aftersale_engine::IdemKey>,
) -> ApiResult<Case> {
    crate::input::actions::check_refs(&cmd.evidence)?;
    let (actor, user) = (caller.actor, caller.user.id);
    let case = state
        .run(move |e| {
            let cmd = e.resolve_application(actor, user, cmd)?;
            e.apply(actor, id, cmd, key)
        })
        .await?;
    state.metrics.command("apply");
    Ok(case)
}

/// C1: the shop refunds the buyer of its own accord (the JSON API and the pages call this).
pub async fn merchant_refund(
    state: &AppState,
    caller: &Caller,
    id: OrderId,
    cmd: MerchantRefund,
    key: Option<aftersale_engine::IdemKey>,
) -> ApiResult<Case> {
    let actor = caller.actor;
    let case = state.run(move |e| e.merchant_refund(actor, id, cmd, key)).await?;
    state.metrics.command("merchant_refund");
    Ok(case)
}

/// One case action by name with its JSON body: what the JSON API and the pages both call — the
/// body parsed into the engine's typed action (`input::actions`), the engine deciding.
pub async fn case_action(
    state: &AppState,
    caller: &Caller,
    id: CaseId,
    action: &str,
    body: &[u8],
    expected: Option<u64>,
    key: Option<aftersale_engine::IdemKey>,
) -> ApiResult<aftersale_engine::ActionAnswer> {
    let typed = crate::input::actions::case_action(action, body)?;
    let answer = state.engine.case_action(caller.actor, caller.user.id, id, typed, expected, key).await?;
    if !answer.replayed {
        state.metrics.command(action);
    }
    Ok(answer)
}

/// One action of a batch: the case, the action's name and JSON body, the version the caller saw
/// and the item's idempotency key.
pub struct BatchCall {
    pub case: CaseId,
    pub action: String,
    pub body: Vec<u8>,
    pub expected: Option<u64>,
    pub key: Option<aftersale_engine::IdemKey>,
}

/// A batch of case actions (the JSON API's `POST /cases/batch` and the queue page's bulk
/// actions): each taken as its single action, side by side (they share group commits), each
/// answered on its own, in order.
pub async fn case_actions(
    state: &AppState,
    caller: &Caller,
    calls: Vec<BatchCall>,
) -> Vec<ApiResult<aftersale_engine::ActionAnswer>> {
    let runs = calls
        .into_iter()
        .map(|c| async move { case_action(state, caller, c.case, &c.action, &c.body, c.expected, c.key).await });
    futures_util::future::join_all(runs).await
}

/// Moves the manual clock (a platform admin, on the demo only) and fires what came due before
/// answering: the JSON API's and the console's.
pub async fn advance_clock(state: &AppState, caller: &Caller, by: Dur) -> ApiResult<(Timestamp, u64)> {
    state.engine.may_move_clock(&caller.sender())?;
    let Some(clock) = state.manual_clock.clone() else {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "demo_only", "the server runs on the system clock"));
    };
    if by.0 <= 0 || by.0 > 366 * 86_400_000 {
        return Err(ApiError::bad("by", "between 1 ms and 366 days"));
    }
    // Fire what came due before answering, so the caller sees the result.
    let (now, stats) = state.advance_and_fire(clock, by).await?;
    tracing::info!(%by, fired = stats.fired, "manual clock advanced");
    // The move must not log out the admin who made it: their session starts again from the new
    // time (everyone else's lapses as the clock says).
    if let Some(hash) = caller.session_hash.clone() {
        let (user, ttl) = (caller.user.id, Dur(state.config.server.session_hours.max(1) * 3_600_000));
        state.run(move |e| e.renew_session(user, hash, ttl)).await?;
    }
    // Which sessions are live depends on the clock.
    state.auth_cache.clear();
    Ok((now, stats.fired))
}

/// A password login with throttling (the JSON API's and the login page's): the session
/// cookie to set, and the session.
pub async fn password_login(state: &AppState, login: String, password: String) -> ApiResult<(String, wire::Session)> {
    let token = new_token()?;
    let hours = state.config.server.session_hours.max(1);
    let hash = sha256_hex(token.as_bytes());
    // One read, the hash checked on this blocking thread, one write (`Engine::password_login`).
    // An unknown login is checked against a fixed hash, so that both failures take as long.
    let verify = move |stored: Option<&str>| verify_password(&password, stored.unwrap_or_else(|| dummy_hash()));
    let outcome = state.run(move |e| e.password_login(&login, verify, hash, Dur(hours * 3_600_000))).await?;
    match outcome {
        LoginOutcome::Locked { retry_after_secs } => {
            let mut err = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!("too many wrong passwords for this login; try again in {retry_after_secs} s"),
            );
            err.0.retry_after = Some(retry_after_secs);
            Err(err)
        }
        LoginOutcome::Refused => {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "login_failed", "wrong login or password"))
        }
        LoginOutcome::Opened { user, expires } => {
            let cookie = crate::auth::session_set_cookie(&token, hours * 3600, state.config.server.secure_cookies);
            Ok((cookie, wire::Session { user, expires_at: expires }))
        }
    }
}

/// An argon2id hash of a random password nobody knows, made once: verifying against it costs
/// what verifying a real one does.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| new_token().and_then(|random| hash_password(&random)).unwrap_or_default())
}

pub async fn hash_blocking(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| ApiError::internal(&crate::request_id::next()))?
}

/// One page of cases and, for a shop, the counts of its queues: the JSON list's and the
/// workbench's queue page's read.
pub async fn page_and_counts(
    state: &AppState,
    caller: &Caller,
    q: CaseQuery,
) -> ApiResult<(aftersale_engine::CasePage, Option<Vec<(Queue, u64)>>)> {
    let actor = caller.actor;
    state.run(move |e| e.search_with_counts(actor, q)).await
}

/// Reads a payout file and settles it (the API's and the workbench's upload).
pub async fn settle_payout_file(
    state: &AppState,
    sender: aftersale_engine::Sender,
    bytes: &[u8],
) -> ApiResult<Vec<aftersale_engine::store::RefundRow>> {
    let text = std::str::from_utf8(bytes).map_err(|_| ApiError::bad("file", "the file is not UTF-8 text"))?;
    // A file that is text but not a payout file (no header naming refund_id and status, a
    // quote never closed) is refused by the rule, not malformed: 422, as a bad line is.
    let lines = crate::input::payouts::lines(text).map_err(|why| {
        ApiError::from(aftersale_engine::EngineError::Invalid { field: "file", reason: format!("{why} (M5)") })
    })?;
    state.run(move |e| e.settle_payouts_as(&sender, lines)).await
}
