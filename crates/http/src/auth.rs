//! Who is asking: a session cookie (from password login) or an API token (Bearer). Passwords
//! are kept as argon2id hashes; session and API tokens are 256-bit random values kept as SHA-256
//! hashes, so the database alone opens no account.

use crate::error::ApiError;
use crate::state::AppState;
use aftersale_core::Actor;
use aftersale_engine::{Role, UserRecord};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "aftersale_session";

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: UserRecord,
    pub actor: Actor,
    /// A session, or an API token and its scope.
    pub credential: aftersale_engine::Credential,
    /// The SHA-256 of the session token, when the caller came with a session cookie.
    pub session_hash: Option<String>,
}

impl Caller {
    pub fn role(&self) -> Role {
        self.user.role
    }
    /// Refuses unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("a {} may not use this endpoint", self.user.role.as_str())))
        }
    }
    pub fn is_platform(&self) -> bool {
        matches!(self.user.role, Role::Agent | Role::Admin)
    }
    /// Who sends a command, as the engine takes it.
    pub fn sender(&self) -> aftersale_engine::Sender {
        aftersale_engine::Sender { actor: self.actor, role: self.user.role, credential: self.credential }
    }

    /// The caller's own shop, when the caller works for one.
    pub fn shop(&self) -> Option<aftersale_core::values::ShopId> {
        match self.actor {
            Actor::Merchant { shop, .. } => Some(shop),
            _ => None,
        }
    }
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    if password.chars().count() < 8 || password.len() > 256 {
        return Err(ApiError::bad("password", "must be 8-256 characters"));
    }
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|_| ApiError::internal(&crate::request_id::next()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| ApiError::internal(&crate::request_id::next()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| ApiError::internal(&crate::request_id::next()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// A new random token: `as_` + 64 hex digits.
pub fn new_token() -> Result<String, ApiError> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(|_| ApiError::internal(&crate::request_id::next()))?;
    Ok(format!("as_{}", hex(&b)))
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// The session cookie's value, if the request carries one.
pub fn session_cookie(parts: &Parts) -> Option<String> {
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(&parts.headers);
    jar.get(SESSION_COOKIE).map(|c| c.value().to_string()).filter(|v| !v.is_empty())
}

/// The session cookie that login sets (and, with an empty value and no lifetime, logout):
/// HttpOnly, SameSite=Lax, `Secure` when the server is configured for HTTPS.
pub fn session_set_cookie(value: &str, seconds: i64, secure: bool) -> String {
    use axum_extra::extract::cookie::{Cookie, SameSite};
    Cookie::build((SESSION_COOKIE, value.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(seconds))
        .build()
        .to_string()
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let bearer = match parts.headers.get(header::AUTHORIZATION) {
            Some(v) => {
                let text = v.to_str().map_err(|_| ApiError::unauthenticated())?;
                let token = text.strip_prefix("Bearer ").ok_or_else(ApiError::unauthenticated)?;
                Some(sha256_hex(token.trim().as_bytes()))
            }
            None => None,
        };
        let session = if bearer.is_none() { session_cookie(parts).map(|s| sha256_hex(s.as_bytes())) } else { None };
        if bearer.is_none() && session.is_none() {
            return Err(ApiError::unauthenticated());
        }
        let key = match (&bearer, &session) {
            (Some(t), _) => format!("t:{t}"),
            (None, Some(s)) => format!("s:{s}"),
            (None, None) => return Err(ApiError::unauthenticated()),
        };
        let session_hash = session.clone();
        let (user, credential) = match state.auth_cache.get(&key) {
            Some(hit) => hit,
            None => {
                let engine = state.engine.clone();
                let user =
                    tokio::task::spawn_blocking(move || engine.authenticate(session.as_deref(), bearer.as_deref()))
                        .await
                        .map_err(|_| ApiError::internal(&crate::request_id::next()))??
                        .ok_or_else(ApiError::unauthenticated)?;
                state.auth_cache.put(key, user.clone());
                user
            }
        };
        let actor = user
            .actor()
            .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "forbidden", "this account has no shop"))?;
        Ok(Caller { user, actor, credential, session_hash })
    }
}
