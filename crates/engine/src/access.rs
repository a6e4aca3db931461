//! Who may do what, outside the rules of a case: the account matters every edge (JSON API,
//! pages, CLI) asks the engine about instead of checking for itself. The rules of a case decide
//! by party (`aftersale_core::gate`); these decide by role and shop. Each `*_as` use-case checks
//! its sender first and then runs the plain use-case, which trusted callers (the demo seed, the
//! CLI's `create-admin`, tests) call directly.

use crate::accounts::NewUser;
use crate::feeds::Sender;
use crate::store::{AddressInput, Penalty, ReplyTemplate, Role, ShopRecord, StoredSms, UserRecord};
use crate::usecase::{Engine, EngineError};
use aftersale_core::values::*;
use aftersale_core::*;

impl Sender {
    /// Refuses unless the sender has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), EngineError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(EngineError::Forbidden(format!("a {} may not use this endpoint", self.role.as_str())))
        }
    }

    /// An agent or an admin.
    pub fn is_platform(&self) -> bool {
        matches!(self.role, Role::Agent | Role::Admin)
    }

    /// The sender's own shop, when the sender works for one.
    pub fn shop(&self) -> Option<ShopId> {
        match self.actor {
            Actor::Merchant { shop, .. } => Some(shop),
            _ => None,
        }
    }

    /// `shop`, if the sender may see it (its own staff, or the platform); another shop is "not
    /// found", as a missing one is.
    pub fn sees_shop(&self, shop: ShopId) -> Result<ShopId, EngineError> {
        if self.is_platform() || self.shop() == Some(shop) {
            Ok(shop)
        } else {
            Err(EngineError::NotFound { what: "shop", id: shop.to_string() })
        }
    }

    /// `shop`, if the sender may change its settings: its owner, or a platform admin.
    pub fn manages_shop(&self, shop: ShopId) -> Result<ShopId, EngineError> {
        self.sees_shop(shop)?;
        self.require(&[Role::Owner, Role::Admin])?;
        Ok(shop)
    }
}

impl Engine {
    /// The shops the sender may see: all for the platform, its own for shop staff.
    pub fn shops_as(&self, s: &Sender) -> Result<Vec<ShopRecord>, EngineError> {
        if s.role == Role::Buyer {
            return Err(EngineError::Forbidden("buyers do not list shops".into()));
        }
        let own = s.shop();
        Ok(self.shops()?.into_iter().filter(|shop| own.is_none() || own == Some(shop.id)).collect())
    }

    pub fn create_shop_as(
        &self,
        s: &Sender,
        name: &str,
        profile: &str,
        overrides: PolicyOverrides,
    ) -> Result<ShopRecord, EngineError> {
        s.require(&[Role::Admin])?;
        self.create_shop(name, profile, overrides)
    }

    /// A shop and the policy in force for it.
    pub fn shop_as(&self, s: &Sender, shop: ShopId) -> Result<(ShopRecord, Policy), EngineError> {
        self.shop_with_policy(s.sees_shop(shop)?)
    }

    pub fn policy_as(&self, s: &Sender, shop: ShopId) -> Result<Policy, EngineError> {
        self.policy_of(s.sees_shop(shop)?)
    }

    pub fn update_shop_policy_as(
        &self,
        s: &Sender,
        shop: ShopId,
        profile: &str,
        overrides: PolicyOverrides,
    ) -> Result<Policy, EngineError> {
        self.update_shop_policy(s.manages_shop(shop)?, profile, overrides)
    }

    pub fn addresses_as(&self, s: &Sender, shop: ShopId) -> Result<Vec<(Address, bool)>, EngineError> {
        self.addresses(s.sees_shop(shop)?)
    }

    pub fn add_address_as(&self, s: &Sender, shop: ShopId, input: AddressInput) -> Result<Address, EngineError> {
        self.add_address(s.manages_shop(shop)?, input)
    }

    pub fn templates_as(&self, s: &Sender, shop: ShopId) -> Result<Vec<ReplyTemplate>, EngineError> {
        self.templates(s.sees_shop(shop)?)
    }

    pub fn add_template_as(
        &self,
        s: &Sender,
        shop: ShopId,
        title: &str,
        body: &str,
    ) -> Result<ReplyTemplate, EngineError> {
        self.add_template(s.manages_shop(shop)?, title, body)
    }

    pub fn delete_template_as(&self, s: &Sender, shop: ShopId, id: i64) -> Result<(), EngineError> {
        self.delete_template(s.manages_shop(shop)?, id)
    }

    pub fn penalties_as(&self, s: &Sender, shop: ShopId) -> Result<Vec<Penalty>, EngineError> {
        self.penalties(s.sees_shop(shop)?)
    }

    pub fn users_as(&self, s: &Sender) -> Result<Vec<UserRecord>, EngineError> {
        s.require(&[Role::Admin])?;
        self.users()
    }

    /// Whether the sender may make staff accounts (an admin): asked before a password is hashed,
    /// so that nobody else makes the server do that work.
    pub fn may_create_users(&self, s: &Sender) -> Result<(), EngineError> {
        s.require(&[Role::Admin])
    }

    /// A staff account (owner, staff, agent, admin), made by an admin: buyers register themselves.
    pub fn create_user_as(&self, s: &Sender, new: NewUser) -> Result<UserRecord, EngineError> {
        self.may_create_users(s)?;
        if new.role == Role::Buyer {
            return Err(EngineError::Invalid {
                field: "role",
                reason: "buyers register themselves at /api/v1/auth/register".into(),
            });
        }
        self.create_user(new)
    }

    /// X2: every SMS recorded, for the platform.
    pub fn sms_outbox_as(&self, s: &Sender) -> Result<Vec<StoredSms>, EngineError> {
        s.require(&[Role::Agent, Role::Admin])?;
        self.sms_outbox()
    }

    /// O1: an order recorded for a shop, by its staff or the platform.
    pub fn create_order_as(
        &self,
        s: &Sender,
        shop: ShopId,
        new: NewOrder,
        key: Option<crate::usecase::IdemKey>,
    ) -> Result<Order, EngineError> {
        s.require(&[Role::Owner, Role::Staff, Role::Agent, Role::Admin])?;
        self.create_order(s.actor, s.sees_shop(shop)?, new, key)
    }

    /// The service clock's reading, for the platform.
    pub fn clock_as(&self, s: &Sender) -> Result<Timestamp, EngineError> {
        s.require(&[Role::Agent, Role::Admin])?;
        Ok(self.now())
    }

    /// Whether the sender may move a demo's manual clock: a platform admin.
    pub fn may_move_clock(&self, s: &Sender) -> Result<(), EngineError> {
        s.require(&[Role::Admin])
    }

    /// W1: the counts of a shop's queues: merchant staff their own shop's (naming it or not),
    /// the platform the shop it names.
    pub fn queue_counts_as(
        &self,
        s: &Sender,
        shop: Option<ShopId>,
    ) -> Result<(ShopId, Vec<(Queue, u64)>), EngineError> {
        let shop = match (s.shop(), shop) {
            (Some(own), None) => own,
            (Some(own), Some(named)) => s.sees_shop(named).map(|_| own)?,
            (None, Some(named)) if s.is_platform() => named,
            (None, None) if s.is_platform() => {
                return Err(EngineError::Invalid { field: "shop", reason: "platform callers name the shop".into() })
            }
            (None, _) => return Err(EngineError::Forbidden("queues are for shop staff and the platform".into())),
        };
        Ok((shop, self.queue_counts(shop)?))
    }
}
