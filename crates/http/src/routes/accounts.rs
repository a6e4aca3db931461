//! Accounts (register, login, logout, API tokens), platform administration (shops, staff,
//! agents) and shop settings (policy profile and overrides, address book, reply templates).

use super::{path_id, schema, Api, BodyDoc, JsonBody, Reply};
use crate::auth::{new_token, sha256_hex, Caller};
use crate::error::ApiResult;
use crate::routes::answer::Json;
use crate::state::AppState;
use crate::wire;
use aftersale_core::values::ShopId;
use aftersale_core::PolicyOverrides;
use aftersale_engine::accounts::NewUser;
use aftersale_engine::{AddressInput, ReplyTemplate, Role, ShopRecord, UserRecord};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub fn routes(api: Api) -> Api {
    use BodyDoc::*;
    api.route(
        Method::POST,
        "/api/v1/auth/register",
        "register",
        "accounts",
        "A buyer registers an account.",
        "anyone",
        Json(schema::<Register>),
        Reply::Json(201, schema::<UserRecord>),
        post(register),
    )
    .route(
        Method::POST,
        "/api/v1/auth/login",
        "login",
        "accounts",
        "Password login; sets the session cookie.",
        "anyone",
        Json(schema::<Login>),
        Reply::Json(200, schema::<wire::Session>),
        post(login),
    )
    .route(
        Method::POST,
        "/api/v1/auth/logout",
        "logout",
        "accounts",
        "Ends the session.",
        "any logged-in user",
        NoBody,
        Reply::Empty,
        post(logout),
    )
    .route(
        Method::GET,
        "/api/v1/me/contact",
        "get_contact",
        "accounts",
        "The buyer's email address and the language of their emails.",
        "a buyer",
        NoBody,
        Reply::Json(200, schema::<Contact>),
        get(contact),
    )
    .route(
        Method::PUT,
        "/api/v1/me/contact",
        "set_contact",
        "accounts",
        "Sets (or, with null, removes) the buyer's email address and the language of their emails.",
        "a buyer",
        Json(schema::<Contact>),
        Reply::Json(200, schema::<Contact>),
        put(set_contact),
    )
    .route(
        Method::GET,
        "/api/v1/emails",
        "email_outbox",
        "notices",
        "The latest emails to buyers, newest first, with how each send ended.",
        "agent, admin",
        NoBody,
        Reply::Json(200, schema::<wire::EmailList>),
        get(emails),
    )
    .route(
        Method::GET,
        "/api/v1/me",
        "me",
        "accounts",
        "The caller's account.",
        "any logged-in user",
        NoBody,
        Reply::Json(200, schema::<wire::Me>),
        get(me),
    )
    .route(
        Method::GET,
        "/api/v1/tokens",
        "list_tokens",
        "accounts",
        "The caller's API tokens (never the secrets).",
        "any logged-in user",
        NoBody,
        Reply::Json(200, schema::<wire::TokenList>),
        get(list_tokens),
    )
    .route(
        Method::POST,
        "/api/v1/tokens",
        "create_token",
        "accounts",
        "Creates an API token; the secret is shown once.",
        "any logged-in user",
        Json(schema::<NewToken>),
        Reply::Json(201, schema::<wire::CreatedToken>),
        post(create_token),
    )
    .route(
        Method::DELETE,
        "/api/v1/tokens/{id}",
        "revoke_token",
        "accounts",
        "Revokes one of the caller's tokens.",
        "any logged-in user",
        NoBody,
        Reply::Empty,
        delete(revoke_token),
    )
    .route(
        Method::GET,
        "/api/v1/users",
        "list_users",
        "admin",
        "All accounts.",
        "admin",
        NoBody,
        Reply::Json(200, schema::<wire::UserList>),
        get(list_users),
    )
    .route(
        Method::POST,
        "/api/v1/users",
        "create_user",
        "admin",
        "Creates shop staff (owner, staff), platform agents or admins.",
        "admin",
        Json(schema::<CreateUser>),
        Reply::Json(201, schema::<UserRecord>),
        post(create_user),
    )
    .route(
        Method::GET,
        "/api/v1/shops",
        "list_shops",
        "shops",
        "Shops the caller may see.",
        "staff, agent, admin",
        NoBody,
        Reply::Json(200, schema::<wire::ShopList>),
        get(list_shops),
    )
    .route(
        Method::POST,
        "/api/v1/shops",
        "create_shop",
        "admin",
        "Creates a shop on a policy profile.",
        "admin",
        Json(schema::<NewShop>),
        Reply::Json(201, schema::<ShopRecord>),
        post(create_shop),
    )
    .route(
        Method::GET,
        "/api/v1/shops/{shop}",
        "get_shop",
        "shops",
        "A shop with its effective policy.",
        "its staff, agent, admin",
        NoBody,
        Reply::Json(200, schema::<wire::ShopPage>),
        get(get_shop),
    )
    .route(
        Method::GET,
        "/api/v1/shops/{shop}/policy",
        "get_policy",
        "shops",
        "The deadline values in force for the shop: its profile with its overrides.",
        "its staff, agent, admin",
        NoBody,
        Reply::Json(200, schema::<wire::PolicyAnswer>),
        get(get_policy),
    )
    .route(
        Method::PUT,
        "/api/v1/shops/{shop}/policy",
        "set_policy",
        "shops",
        "Sets the shop's profile and overrides; open deadlines are re-armed.",
        "its owner, admin",
        Json(schema::<PolicyUpdate>),
        Reply::Json(200, schema::<wire::PolicyAnswer>),
        put(set_policy),
    )
    .route(
        Method::GET,
        "/api/v1/shops/{shop}/addresses",
        "list_addresses",
        "shops",
        "The shop's return address book (R4).",
        "its staff, agent, admin",
        NoBody,
        Reply::Json(200, schema::<wire::AddressList>),
        get(list_addresses),
    )
    .route(
        Method::POST,
        "/api/v1/shops/{shop}/addresses",
        "add_address",
        "shops",
        "Adds a return address (R4).",
        "its owner, admin",
        Json(schema::<AddressInput>),
        Reply::Json(201, schema::<wire::AddressEntry>),
        post(add_address),
    )
    .route(
        Method::GET,
        "/api/v1/shops/{shop}/templates",
        "list_templates",
        "shops",
        "The shop's reply templates.",
        "its staff",
        NoBody,
        Reply::Json(200, schema::<wire::TemplateList>),
        get(list_templates),
    )
    .route(
        Method::POST,
        "/api/v1/shops/{shop}/templates",
        "add_template",
        "shops",
        "Adds a reply template.",
        "its owner",
        Json(schema::<NewTemplate>),
        Reply::Json(201, schema::<ReplyTemplate>),
        post(add_template),
    )
    .route(
        Method::DELETE,
        "/api/v1/shops/{shop}/templates/{id}",
        "delete_template",
        "shops",
        "Deletes a reply template.",
        "its owner",
        NoBody,
        Reply::Empty,
        delete(delete_template),
    )
    .route(
        Method::GET,
        "/api/v1/shops/{shop}/penalties",
        "list_penalties",
        "shops",
        "M6 penalties charged to the shop.",
        "its staff, agent, admin",
        NoBody,
        Reply::Json(200, schema::<wire::PenaltyList>),
        get(list_penalties),
    )
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Register {
    #[schemars(regex(pattern = "^[a-z0-9._@-]{3,64}$"))]
    login: String,
    #[schemars(length(min = 8, max = 256))]
    password: String,
    #[schemars(length(min = 1, max = 64))]
    display_name: String,
    /// Where emails about the buyer's cases go (optional).
    #[serde(default)]
    #[schemars(length(max = 254))]
    email: Option<String>,
    /// The language of those emails: `zh` (default) or `en`.
    #[serde(default)]
    lang: Option<ContactLang>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum ContactLang {
    Zh,
    En,
}

impl ContactLang {
    fn as_str(self) -> &'static str {
        match self {
            ContactLang::Zh => "zh",
            ContactLang::En => "en",
        }
    }
}

/// A buyer's email address and the language emails are written in.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Null: no email.
    #[schemars(length(max = 254))]
    email: Option<String>,
    lang: ContactLang,
}

async fn register(State(state): State<AppState>, JsonBody(body): JsonBody<Register>) -> ApiResult<Response> {
    aftersale_engine::accounts::validate_login(&body.login)?;
    // Checked before the account is made: a bad address makes nothing.
    let email =
        body.email.filter(|e| !e.trim().is_empty()).map(|e| aftersale_engine::email::valid_email(&e)).transpose()?;
    let lang = body.lang.unwrap_or(ContactLang::Zh);
    let password_hash = crate::services::hash_blocking(body.password).await?;
    let new =
        NewUser { login: body.login, role: Role::Buyer, shop_id: None, display_name: body.display_name, password_hash };
    let user = state
        .run(move |e| {
            let user = e.create_user(new)?;
            if email.is_some() || lang != ContactLang::Zh {
                e.set_contact(user.id, email, lang.as_str())?;
            }
            Ok(user)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

async fn contact(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Contact>> {
    let sender = caller.sender();
    let (email, lang) = state.run(move |e| e.contact_as(&sender)).await?;
    Ok(Json(Contact { email, lang: if lang == "en" { ContactLang::En } else { ContactLang::Zh } }))
}

async fn set_contact(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Contact>,
) -> ApiResult<Json<Contact>> {
    let sender = caller.sender();
    let lang = body.lang;
    state.run(move |e| e.set_contact_as(&sender, body.email, lang.as_str())).await?;
    contact(State(state), caller).await
}

async fn emails(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<wire::EmailList>> {
    let sender = caller.sender();
    let items = state.run(move |e| e.emails_as(&sender, 200)).await?;
    Ok(Json(wire::EmailList { items }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    login: String,
    password: String,
}

async fn login(State(state): State<AppState>, JsonBody(body): JsonBody<Login>) -> ApiResult<Response> {
    let (cookie, session) = crate::services::password_login(&state, body.login, body.password).await?;
    let mut res = Json(session).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

async fn logout(State(state): State<AppState>, _caller: Caller, headers: axum::http::HeaderMap) -> ApiResult<Response> {
    let mut parts = axum::http::Request::new(()).into_parts().0;
    parts.headers = headers;
    if let Some(token) = crate::auth::session_cookie(&parts) {
        let hash = sha256_hex(token.as_bytes());
        state.run(move |e| e.close_session(hash)).await?;
        state.auth_cache.clear();
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    let gone = crate::auth::session_set_cookie("", 0, state.config.server.secure_cookies);
    if let Ok(v) = HeaderValue::from_str(&gone) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

async fn me(caller: Caller) -> Json<wire::Me> {
    Json(wire::Me { actor: Some(caller.actor), user: caller.user })
}

async fn list_tokens(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<wire::TokenList>> {
    let id = caller.user.id;
    let items = state.run(move |e| e.tokens(id)).await?;
    Ok(Json(wire::TokenList { items }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewToken {
    #[schemars(length(min = 1, max = 64))]
    name: String,
    /// `full` (the default): the caller's own rights. `integration`: for the shop's systems,
    /// issued by the shop owner; it may also report payment, delivery and completion.
    #[serde(default)]
    scope: aftersale_engine::TokenScope,
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewToken>,
) -> ApiResult<Response> {
    let token = new_token()?;
    let hash = sha256_hex(token.as_bytes());
    let id = caller.user.id;
    let record = state.run(move |e| e.issue_token(id, hash, &body.name, body.scope)).await?;
    Ok((StatusCode::CREATED, Json(wire::CreatedToken { token, record })).into_response())
}

async fn revoke_token(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = path_id(&id, "token")?;
    let user = caller.user.id;
    state.run(move |e| e.revoke_token(user, id)).await?;
    state.auth_cache.clear();
    Ok(StatusCode::NO_CONTENT)
}

async fn list_users(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<wire::UserList>> {
    let sender = caller.sender();
    let items = state.run(move |e| e.users_as(&sender)).await?;
    Ok(Json(wire::UserList { items }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CreateUser {
    #[schemars(regex(pattern = "^[a-z0-9._@-]{3,64}$"))]
    login: String,
    #[schemars(length(min = 8, max = 256))]
    password: String,
    /// Staff roles only: buyers register themselves.
    role: Role,
    /// Required for owner and staff; refused for agent and admin.
    #[serde(default)]
    shop_id: Option<ShopId>,
    #[schemars(length(min = 1, max = 64))]
    display_name: String,
}

async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateUser>,
) -> ApiResult<Response> {
    state.engine.may_create_users(&caller.sender())?;
    aftersale_engine::accounts::validate_login(&body.login)?;
    let password_hash = crate::services::hash_blocking(body.password).await?;
    let new = NewUser {
        login: body.login,
        role: body.role,
        shop_id: body.shop_id,
        display_name: body.display_name,
        password_hash,
    };
    let sender = caller.sender();
    let user = state.run(move |e| e.create_user_as(&sender, new)).await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

/// The shop id of a path.
fn shop_of(raw: &str) -> ApiResult<ShopId> {
    Ok(ShopId(path_id(raw, "shop")?))
}

async fn list_shops(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<wire::ShopList>> {
    let sender = caller.sender();
    let items = state.run(move |e| e.shops_as(&sender)).await?;
    Ok(Json(wire::ShopList { items }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewShop {
    #[schemars(length(min = 1, max = 64))]
    name: String,
    /// A policy profile: `douyin`, `taote` or `tiktok_shop` (`GET /api/v1/profiles`).
    #[schemars(extend("enum" = ["douyin", "taote", "tiktok_shop"]))]
    profile: String,
    #[serde(default)]
    overrides: PolicyOverrides,
}

async fn create_shop(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewShop>,
) -> ApiResult<Response> {
    let sender = caller.sender();
    let shop = state.run(move |e| e.create_shop_as(&sender, &body.name, &body.profile, body.overrides)).await?;
    Ok((StatusCode::CREATED, Json(shop)).into_response())
}

async fn get_shop(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
) -> ApiResult<Json<wire::ShopPage>> {
    let (shop, sender) = (shop_of(&shop)?, caller.sender());
    let (shop, policy) = state.run(move |e| e.shop_as(&sender, shop)).await?;
    Ok(Json(wire::ShopPage { shop, policy }))
}

/// The deadline values in force for a shop: its profile with its overrides.
async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
) -> ApiResult<Json<wire::PolicyAnswer>> {
    let (shop, sender) = (shop_of(&shop)?, caller.sender());
    let policy = state.run(move |e| e.policy_as(&sender, shop)).await?;
    Ok(Json(wire::PolicyAnswer { policy }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PolicyUpdate {
    #[schemars(extend("enum" = ["douyin", "taote", "tiktok_shop"]))]
    profile: String,
    #[serde(default)]
    overrides: PolicyOverrides,
}

async fn set_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    JsonBody(body): JsonBody<PolicyUpdate>,
) -> ApiResult<Json<wire::PolicyAnswer>> {
    let (shop, sender) = (shop_of(&shop)?, caller.sender());
    let policy = state.run(move |e| e.update_shop_policy_as(&sender, shop, &body.profile, body.overrides)).await?;
    Ok(Json(wire::PolicyAnswer { policy }))
}

async fn list_addresses(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
) -> ApiResult<Json<wire::AddressList>> {
    let (shop, sender) = (shop_of(&shop)?, caller.sender());
    let list = state.run(move |e| e.addresses_as(&sender, shop)).await?;
    let items = list.into_iter().map(|(address, is_default)| wire::AddressEntry { address, is_default }).collect();
    Ok(Json(wire::AddressList { items }))
}

async fn add_address(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    JsonBody(body): JsonBody<AddressInput>,
) -> ApiResult<Response> {
    let (shop, sender) = (shop_of(&shop)?, caller.sender());
    let is_default = body.is_default;
    let address = state.run(move |e| e.add_address_as(&sender, shop, body)).await?;
    Ok((StatusCode::CREATED, Json(wire::AddressEntry { address, is_default })).into_response())
}

async fn list_templates(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
) -> ApiResult<Json<wire::TemplateList>> {
    let (shop, sender) = (shop_of(&shop)?, caller.sender());
    let items = state.run(move |e| e.templates_as(&sender, shop)).await?;
    Ok(Json(wire::TemplateList { items }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewTemplate {
    #[schemars(length(min = 1, max = 64))]
    title: String,
    #[schemars(length(min = 1, max = 2000))]
    body: String,
}

async fn add_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    JsonBody(body): JsonBody<NewTemplate>,
) -> ApiResult<Response> {
    let (shop, sender) = (shop_of(&shop)?, caller.sender());
    let t = state.run(move |e| e.add_template_as(&sender, shop, &body.title, &body.body)).await?;
    Ok((StatusCode::CREATED, Json(t)).into_response())
}

async fn delete_template(
    State(state): State<AppState>,
    caller: Caller,
    Path((shop, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (shop, sender) = (shop_of(&shop)?, caller.sender());
    let id = path_id(&id, "template")?;
    state.run(move |e| e.delete_template_as(&sender, shop, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_penalties(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
) -> ApiResult<Json<wire::PenaltyList>> {
    let (shop, sender) = (shop_of(&shop)?, caller.sender());
    let items = state.run(move |e| e.penalties_as(&sender, shop)).await?;
    Ok(Json(wire::PenaltyList { items }))
}
