//! Evidence: the multipart upload (types read from the bytes) and the downloads, to the case's
//! parties when the case references the file and to the uploader.

use super::{path_id, schema, Api, BodyDoc, Reply};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::routes::answer::Json;
use crate::state::AppState;
use crate::wire;
use aftersale_core::values::*;
use aftersale_core::*;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    api.route(
        Method::GET,
        "/api/v1/cases/{case}/evidence/{key}",
        "case_evidence",
        "evidence",
        "An evidence file of the case.",
        "the case's parties, agent, admin",
        NoBody,
        Reply::Bytes(&crate::objects::SERVED_TYPES),
        get(case_evidence),
    )
    .route(
        Method::POST,
        "/api/v1/evidence",
        "upload_evidence",
        "evidence",
        "Uploads an evidence file (JPEG, PNG, WebP, MP4, PDF), checksummed; use the answer in a command.",
        "any logged-in user",
        Multipart,
        Reply::Json(201, schema::<wire::Uploaded>),
        post(upload_evidence).layer(axum::extract::DefaultBodyLimit::disable()),
    )
    .route(
        Method::GET,
        "/api/v1/evidence/{key}",
        "own_evidence",
        "evidence",
        "An evidence file the caller uploaded.",
        "its uploader",
        NoBody,
        Reply::Bytes(&crate::objects::SERVED_TYPES),
        get(own_evidence),
    )
}

async fn upload_evidence(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Response> {
    let multipart_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart_type {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the file as multipart/form-data with a `file` part (and an optional `caption`)",
        ));
    }
    let mut multipart = multipart.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            format!("malformed multipart body: {}", e.body_text()),
        )
    })?;
    // The JSON body limit is lifted on this route; the two upload limits are counted here.
    let max_file = state.config.evidence.max_file_mib * 1024 * 1024;
    let max_request = state.config.evidence.max_request_mib * 1024 * 1024;
    let mut total = 0usize;
    let mut file: Option<(bytes::Bytes, String)> = None;
    let mut caption = String::new();
    let too_large = |what: &str| {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("{what} is too large")).field("file")
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large("the request")),
            Err(e) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_request",
                    format!("malformed multipart body: {e}"),
                ))
            }
        };
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "file" => {
                if file.is_some() {
                    return Err(ApiError::bad("file", "one file per upload"));
                }
                let declared = field.content_type().unwrap_or("").to_string();
                let mut field = field;
                let mut buf = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            total += chunk.len();
                            if total > max_request {
                                return Err(too_large("the request"));
                            }
                            if buf.len() + chunk.len() > max_file {
                                return Err(too_large("the file"));
                            }
                            buf.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large("the request")),
                        Err(e) => return Err(ApiError::bad("file", format!("malformed multipart body: {e}"))),
                    }
                }
                file = Some((bytes::Bytes::from(buf), declared));
            }
            "caption" => {
                caption = field.text().await.map_err(|e| ApiError::bad("caption", e.to_string()))?;
                if caption.chars().count() > 500 {
                    return Err(ApiError::bad("caption", "caption is longer than 500 characters"));
                }
            }
            other => return Err(ApiError::bad(other, format!("unknown multipart field {other:?}"))),
        }
    }
    let Some((bytes, declared)) = file else { return Err(ApiError::bad("file", "a `file` part is required")) };
    let size = bytes.len() as u64;
    let (evidence, content_type) =
        crate::services::store_upload(&state, &caller, bytes, &declared, caption, None).await?;
    let uploaded = wire::Uploaded { evidence, content_type: content_type.to_string(), size };
    Ok((StatusCode::CREATED, Json(uploaded)).into_response())
}

fn case_references(case: &Case, key: &str) -> bool {
    let mut all: Vec<&Evidence> = case.evidence.iter().map(|(_, e)| e).collect();
    if let Some(r) = &case.rejection {
        all.extend(r.evidence.iter());
    }
    if let Some(a) = &case.arbitration {
        for req in &a.requests {
            all.extend(req.evidence.iter());
        }
    }
    if let Some(a) = &case.appeal {
        all.extend(a.evidence.iter());
    }
    if let Some(r) = &case.refund {
        all.extend(r.voucher.iter());
    }
    all.iter().any(|e| e.key == key)
}

async fn serve_object(state: &AppState, key: String) -> ApiResult<Response> {
    let k = key.clone();
    let obj = state.run(move |e| e.evidence_object(&k)).await?.ok_or_else(|| ApiError::not_found("evidence"))?;
    let bytes = objects::get(state.objects.as_ref(), &key).await.map_err(|e| {
        let id = crate::request_id::next();
        tracing::error!(request_id = %id, error = %e, "evidence store get failed");
        ApiError::internal(&id)
    })?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&obj.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment"));
    if let Ok(v) = HeaderValue::from_str(&format!("sha256={}", obj.sha256)) {
        h.insert("x-checksum", v);
    }
    Ok(res)
}

async fn case_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path((case, key)): Path<(String, String)>,
) -> ApiResult<Response> {
    let id = CaseId(path_id(&case, "case")?);
    let actor = caller.actor;
    let (case, _, _) = state.run(move |e| e.case_view(actor, id)).await?;
    if !case_references(&case, &key) {
        return Err(ApiError::not_found("evidence"));
    }
    serve_object(&state, key).await
}

async fn own_evidence(State(state): State<AppState>, caller: Caller, Path(key): Path<String>) -> ApiResult<Response> {
    let k = key.clone();
    let obj = state.run(move |e| e.evidence_object(&k)).await?;
    match obj {
        Some(o) if o.uploader == caller.user.id => serve_object(&state, key).await,
        _ => Err(ApiError::not_found("evidence")),
    }
}
