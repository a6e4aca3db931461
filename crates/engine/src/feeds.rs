//! Payment, delivery, completion and a return parcel signed for are the payment gateway's and
//! the logistics feed's events, not a person's: the platform, or a shop's integration token,
//! reports them on the system's behalf. The mapping to the system actor, and who may report,
//! live here, for every edge that takes such a report.

use crate::store::{reports_feeds, Credential, Role};
use crate::usecase::{Engine, EngineError, IdemKey};
use aftersale_core::values::{CaseId, OrderId};
use aftersale_core::*;

/// Who sends a command: the actor in the rules, and the account's role and credential.
#[derive(Clone, Copy, Debug)]
pub struct Sender {
    pub actor: Actor,
    pub role: Role,
    pub credential: Credential,
}

const FEED_ONLY: &str = "payment, delivery, completion, a return parcel signed for, a replacement delivered and an intercept's outcome are reported by the platform \
                         or the shop's integration token (the owner issues one: POST /api/v1/tokens with scope integration)";

impl Engine {
    /// An order command from `sender`; a feed event (pay, deliver, complete) is checked to come
    /// from a feed reporter and is then the system's. Another party's order is "not found"
    /// before anything else is said.
    pub fn order_action(
        &self,
        sender: Sender,
        id: OrderId,
        cmd: OrderCommand,
        expected: Option<u64>,
        key: Option<IdemKey>,
    ) -> Result<Order, EngineError> {
        let actor = match cmd {
            OrderCommand::Pay | OrderCommand::Deliver | OrderCommand::Complete => {
                self.order_view(sender.actor, id)?;
                if !reports_feeds(sender.role, sender.credential) {
                    return Err(EngineError::Forbidden(FEED_ONLY.into()));
                }
                Actor::System
            }
            _ => sender.actor,
        };
        self.order_command(actor, id, cmd, expected, key)
    }

    /// Who may report the logistics feed on a case: staff of its shop, an agent or an admin, and
    /// then only as a feed reporter (the platform, or the shop's integration token). Another
    /// party's case is "not found" before anything else is said.
    fn feed_on_case(&self, sender: Sender, id: CaseId) -> Result<(), EngineError> {
        sender.require(&[Role::Owner, Role::Staff, Role::Agent, Role::Admin])?;
        self.case_view(sender.actor, id)?;
        if !reports_feeds(sender.role, sender.credential) {
            return Err(EngineError::Forbidden(FEED_ONLY.into()));
        }
        Ok(())
    }

    /// M3: the logistics feed says the return parcel was signed for (or not: nothing to do).
    pub fn return_parcel_report(
        &self,
        sender: Sender,
        id: CaseId,
        signed: bool,
        key: Option<IdemKey>,
    ) -> Result<(), EngineError> {
        self.feed_on_case(sender, id)?;
        if signed {
            self.case_command(Actor::System, id, CaseCommand::ReturnParcelSigned, None, key)?;
        }
        Ok(())
    }

    /// K1/K2: the logistics feed says the replacement or resend was delivered (or not: nothing
    /// to do).
    pub fn replacement_parcel_report(
        &self,
        sender: Sender,
        id: CaseId,
        delivered: bool,
        key: Option<IdemKey>,
    ) -> Result<(), EngineError> {
        self.feed_on_case(sender, id)?;
        if delivered {
            self.case_command(Actor::System, id, CaseCommand::ReplacementDelivered, None, key)?;
        }
        Ok(())
    }

    /// I1: the logistics feed's answer on a parcel the shop asked the carrier to stop: stopped
    /// (with what it cost), not stopped (with why), or back with the shop (the refund proceeds).
    pub fn intercept_report(
        &self,
        sender: Sender,
        id: CaseId,
        report: InterceptReport,
        key: Option<IdemKey>,
    ) -> Result<(), EngineError> {
        self.feed_on_case(sender, id)?;
        let cmd = match report {
            InterceptReport::Stopped { cost } => {
                CaseCommand::InterceptResult { stopped: true, reason: String::new(), cost }
            }
            InterceptReport::Failed { reason, cost } => CaseCommand::InterceptResult { stopped: false, reason, cost },
            InterceptReport::Returned => CaseCommand::InterceptReturned,
        };
        self.case_command(Actor::System, id, cmd, None, key)?;
        Ok(())
    }
}

/// I1: what the logistics feed reports on an intercepted parcel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InterceptReport {
    Stopped { cost: Option<Money> },
    Failed { reason: String, cost: Option<Money> },
    Returned,
}
