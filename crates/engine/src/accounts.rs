//! Accounts, sessions, API tokens, shop settings and evidence records: the use-cases the HTTP
//! layer needs besides the rules. Secrets arrive here already hashed (argon2 for passwords,
//! SHA-256 for session and API tokens); the engine never sees a password or a token.

use crate::store::*;
use crate::usecase::{Engine, EngineError};

pub use crate::login::{LOGIN_WINDOW_MS, MAX_LOGIN_FAILURES};
use aftersale_core::values::*;
use aftersale_core::*;

/// A new account, its password already hashed.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub login: String,
    pub role: Role,
    pub shop_id: Option<ShopId>,
    pub display_name: String,
    pub password_hash: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> EngineError {
    EngineError::Invalid { field, reason: reason.into() }
}

/// Logins are 3-64 characters of lower-case letters, digits and `._@-`.
pub fn validate_login(login: &str) -> Result<(), EngineError> {
    let ok_chars = login.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._@-".contains(&b));
    if !(3..=64).contains(&login.len()) || !ok_chars {
        return Err(invalid("login", "must be 3-64 characters of a-z, 0-9 and . _ @ -"));
    }
    Ok(())
}

impl Engine {
    /// Creates an account. Shop roles need an existing shop; other roles must not name one.
    pub fn create_user(&self, new: NewUser) -> Result<UserRecord, EngineError> {
        validate_login(&new.login)?;
        let display_name =
            text("display_name", &new.display_name, 64, true).map_err(|(_, reason)| invalid("display_name", reason))?;
        match (new.role, new.shop_id) {
            (Role::Owner | Role::Staff, None) => return Err(invalid("shop_id", "is required for shop staff")),
            (Role::Buyer | Role::Agent | Role::Admin, Some(_)) => {
                return Err(invalid("shop_id", "is only for shop staff"))
            }
            _ => {}
        }
        let now = self.now();
        self.transact(move |tx| {
            if let Some(shop) = new.shop_id {
                tx.shop(shop)?.ok_or(EngineError::NotFound { what: "shop", id: shop.to_string() })?;
            }
            let id = tx
                .insert_user(&new.login, new.role, new.shop_id, &display_name, &new.password_hash, now)?
                .ok_or_else(|| EngineError::Taken { field: "login", value: new.login.clone() })?;
            Ok(UserRecord {
                id,
                login: new.login.clone(),
                role: new.role,
                shop_id: new.shop_id,
                display_name: display_name.clone(),
                password_hash: new.password_hash.clone(),
                created_at: now,
            })
        })
    }

    pub fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>, EngineError> {
        if aftersale_core::values::holds_control_characters(login) {
            return Ok(None);
        }
        self.read(|tx| tx.user_by_login(login))
    }

    pub fn users(&self) -> Result<Vec<UserRecord>, EngineError> {
        self.read(|tx| tx.users())
    }

    /// Opens a session for `ttl`; the caller keeps the token, the store only its hash.
    pub fn open_session(&self, user: i64, token_hash: String, ttl: Dur) -> Result<Timestamp, EngineError> {
        let now = self.now();
        let expires = Timestamp(now.0.saturating_add(ttl.as_millis()));
        self.transact(move |tx| {
            tx.insert_session(&token_hash, user, now, expires)?;
            Ok(expires)
        })
    }

    /// Starts `user`'s session `token_hash` again for `ttl` from now: the admin who moves the demo
    /// clock keeps the session the move would otherwise have ended.
    pub fn renew_session(&self, user: i64, token_hash: String, ttl: Dur) -> Result<Timestamp, EngineError> {
        let now = self.now();
        let expires = Timestamp(now.0.saturating_add(ttl.as_millis()));
        self.transact(move |tx| {
            tx.delete_session(&token_hash)?;
            tx.insert_session(&token_hash, user, now, expires)?;
            Ok(expires)
        })?;
        self.announce(Topic::Auth, "session");
        Ok(expires)
    }

    pub fn close_session(&self, token_hash: String) -> Result<(), EngineError> {
        self.transact(move |tx| Ok(tx.delete_session(&token_hash)?))?;
        self.announce(Topic::Auth, "session");
        Ok(())
    }

    /// The account behind a session or an API token hash, if it is live.
    pub fn authenticate(
        &self,
        session_hash: Option<&str>,
        token_hash: Option<&str>,
    ) -> Result<Option<(UserRecord, Credential)>, EngineError> {
        let now = self.now();
        self.read(|tx| {
            if let Some(h) = token_hash {
                return Ok(tx.token_user(h)?.map(|(u, scope)| (u, Credential::Token(scope))));
            }
            match session_hash {
                Some(h) => Ok(tx.session_user(h, now)?.map(|u| (u, Credential::Session))),
                None => Ok(None),
            }
        })
    }

    /// A new API token for `user`. Only a shop owner issues an `integration` token (for the
    /// shop's own systems).
    pub fn issue_token(
        &self,
        user: i64,
        token_hash: String,
        name: &str,
        scope: TokenScope,
    ) -> Result<TokenRecord, EngineError> {
        let name = text("name", name, 64, true).map_err(|(_, reason)| invalid("name", reason))?;
        let now = self.now();
        self.transact(move |tx| {
            if scope == TokenScope::Integration {
                let owner = tx.user_by_id(user)?.is_some_and(|u| u.role == Role::Owner);
                if !owner {
                    return Err(EngineError::Forbidden("only a shop owner issues integration tokens".into()));
                }
            }
            let id = tx.insert_token(&token_hash, user, &name, scope, now)?;
            Ok(TokenRecord { id, user_id: user, name: name.clone(), created_at: now, revoked_at: None, scope })
        })
    }

    pub fn tokens(&self, user: i64) -> Result<Vec<TokenRecord>, EngineError> {
        self.read(|tx| tx.tokens_of(user))
    }

    /// Revokes one of the user's own tokens; another user's token is "not found".
    pub fn revoke_token(&self, user: i64, id: i64) -> Result<(), EngineError> {
        let now = self.now();
        self.transact(move |tx| {
            if tx.revoke_token(user, id, now)? {
                Ok(())
            } else {
                Err(EngineError::NotFound { what: "token", id: id.to_string() })
            }
        })?;
        self.announce(Topic::Auth, "token");
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Shop settings

    pub fn shops(&self) -> Result<Vec<ShopRecord>, EngineError> {
        self.read(|tx| tx.shops())
    }

    pub fn shop(&self, id: ShopId) -> Result<ShopRecord, EngineError> {
        self.read(|tx| tx.shop(id))?.ok_or(EngineError::NotFound { what: "shop", id: id.to_string() })
    }

    /// R4: the shop's address book; `true` marks the default.
    pub fn addresses(&self, shop: ShopId) -> Result<Vec<(Address, bool)>, EngineError> {
        self.read(|tx| tx.addresses(shop))
    }

    pub fn templates(&self, shop: ShopId) -> Result<Vec<ReplyTemplate>, EngineError> {
        self.read(|tx| tx.templates(shop))
    }

    pub fn add_template(&self, shop: ShopId, title: &str, body: &str) -> Result<ReplyTemplate, EngineError> {
        let title = text("title", title, 64, true).map_err(|(_, reason)| invalid("title", reason))?;
        let body = text("body", body, 2000, true).map_err(|(_, reason)| invalid("body", reason))?;
        self.transact(move |tx| {
            tx.shop(shop)?.ok_or(EngineError::NotFound { what: "shop", id: shop.to_string() })?;
            let id = tx.insert_template(shop, &title, &body)?;
            Ok(ReplyTemplate { id, shop_id: shop, title: title.clone(), body: body.clone() })
        })
    }

    pub fn delete_template(&self, shop: ShopId, id: i64) -> Result<(), EngineError> {
        self.transact(move |tx| {
            if tx.delete_template(shop, id)? {
                Ok(())
            } else {
                Err(EngineError::NotFound { what: "template", id: id.to_string() })
            }
        })
    }

    // -----------------------------------------------------------------------------------------
    // Evidence

    pub fn record_evidence(&self, object: EvidenceObject) -> Result<EvidenceObject, EngineError> {
        self.transact(move |tx| {
            tx.insert_evidence_object(&object)?;
            Ok(object.clone())
        })
    }

    pub fn evidence_object(&self, key: &str) -> Result<Option<EvidenceObject>, EngineError> {
        self.read(|tx| Ok(crate::evidence::evidence_object(tx, key)))?
    }

    /// A case with its order and the events of its log, for a caller allowed to see it.
    pub fn case_view(&self, actor: Actor, id: CaseId) -> Result<(Case, Order, Vec<StoredEvent>), EngineError> {
        let found = self.read(|tx| {
            let Some((case, order)) = tx.case_and_order(id)? else { return Ok(None) };
            let events = tx.case_events(id)?;
            Ok(Some((case, order, events)))
        })?;
        match found {
            Some((case, order, events)) if may_see_case(&actor, &case) => Ok((case, order, events)),
            _ => Err(EngineError::NotFound { what: "case", id: id.to_string() }),
        }
    }

    /// An order, for a caller allowed to see it (its buyer, its shop, the platform).
    pub fn order_view(&self, actor: Actor, id: OrderId) -> Result<Order, EngineError> {
        match self.read(|tx| tx.order(id))? {
            Some(o) if may_see_order(&actor, &o) => Ok(o),
            _ => Err(EngineError::NotFound { what: "order", id: id.to_string() }),
        }
    }

    /// A buyer's own orders, newest first, a page at a time (ids below `before`), each with its
    /// current case (see `current_cases`).
    pub fn buyer_orders(
        &self,
        buyer: BuyerId,
        before: Option<OrderId>,
        limit: usize,
    ) -> Result<Vec<(Order, Option<CaseId>)>, EngineError> {
        self.read(|tx| {
            let orders = tx.orders_of_buyer(buyer, before, limit.clamp(1, 200))?;
            current_cases(tx, orders)
        })
    }

    /// An order the actor may see, with its current case.
    pub fn order_with_case(&self, actor: Actor, id: OrderId) -> Result<(Order, Option<CaseId>), EngineError> {
        let order = self.order_view(actor, id)?;
        let mut with = self.read(|tx| current_cases(tx, vec![order]))?;
        with.pop().ok_or(EngineError::NotFound { what: "order", id: id.to_string() })
    }

    pub fn order_by_no(&self, actor: Actor, shop: ShopId, order_no: &str) -> Result<Order, EngineError> {
        match self.read(|tx| tx.order_by_no(shop, order_no))? {
            Some(o) if may_see_order(&actor, &o) => Ok(o),
            _ => Err(EngineError::NotFound { what: "order", id: order_no.to_string() }),
        }
    }

    pub fn queue_counts(&self, shop: ShopId) -> Result<Vec<(Queue, u64)>, EngineError> {
        self.read(|tx| tx.queue_counts(shop))
    }

    /// An answer stored under an idempotency key by the HTTP layer: (request hash, answer).
    pub fn recall(&self, key: &str) -> Result<Option<(String, String)>, EngineError> {
        self.read(|tx| tx.idempotency_get(key))
    }

    /// Stores an answer under an idempotency key; false if the key was taken meanwhile.
    pub fn remember(&self, key: String, request_hash: String, response: String) -> Result<bool, EngineError> {
        let now = self.now();
        self.transact(move |tx| {
            if tx.idempotency_get(&key)?.is_some() {
                return Ok(false);
            }
            tx.idempotency_put(&key, &request_hash, &response, now)?;
            Ok(true)
        })
    }

    pub fn sms_outbox(&self) -> Result<Vec<StoredSms>, EngineError> {
        self.read(|tx| tx.sms_outbox())
    }

    pub fn penalties(&self, shop: ShopId) -> Result<Vec<Penalty>, EngineError> {
        self.read(|tx| tx.penalties(shop))
    }
}

/// Each order with its current case: the one open on it (T1), or else its newest case while that
/// case is not finished — a refund still settling, a COD voucher awaited — so a party can always
/// reach a case that is still moving. One read for all the orders.
fn current_cases(tx: &mut dyn CaseReads, orders: Vec<Order>) -> Result<Vec<(Order, Option<CaseId>)>, StoreError> {
    let settling: Vec<OrderId> = orders.iter().filter(|o| o.open_case.is_none()).map(|o| o.id).collect();
    let latest = if settling.is_empty() { Vec::new() } else { tx.latest_cases(&settling)? };
    Ok(orders
        .into_iter()
        .map(|o| {
            let current = o.open_case.or_else(|| {
                latest.iter().find(|(order, _, queue)| *order == o.id && *queue != Queue::Closed).map(|(_, c, _)| *c)
            });
            (o, current)
        })
        .collect())
}

/// A case is visible to its buyer, its shop's staff and the platform.
pub fn may_see_case(actor: &Actor, case: &Case) -> bool {
    sees(actor, case.shop_id, case.buyer_id)
}

/// An order likewise (a case carries its order's shop and buyer).
pub fn may_see_order(actor: &Actor, order: &Order) -> bool {
    sees(actor, order.shop_id, order.buyer_id)
}

fn sees(actor: &Actor, shop_id: ShopId, buyer_id: BuyerId) -> bool {
    match actor {
        Actor::Buyer { buyer } => *buyer == buyer_id,
        Actor::Merchant { shop, .. } => *shop == shop_id,
        Actor::Platform { .. } | Actor::System => true,
    }
}
