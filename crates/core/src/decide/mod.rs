//! Deciding: a command, its actor and the time go in; events or a typed refusal come out.
//! `gate` holds the preconditions that do not depend on a command's inputs, so the same code
//! answers "may I?" (`available_actions`) and "do it" (`decide_case`).

use crate::actor::{Actor, Party};
use crate::command::*;
use crate::deadline::{Deadline, DeadlineKind};
use crate::model::*;
use crate::money::Money;
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::time::Timestamp;
use crate::values::*;

/// What a decision needs besides the state: the shop's policy, the time, and the shop's default
/// return address (R2).
#[derive(Clone, Debug)]
pub struct Ctx<'a> {
    pub policy: &'a Policy,
    pub now: Timestamp,
    pub default_address: Option<&'a Address>,
}

type Events = Vec<Event>;

fn field_err((field, reason): (String, String), rule: &'static str) -> Refusal {
    Refusal::invalid(field, reason, rule)
}

/// T2: the most messages one party may post in a case's thread. The thread is part of the case,
/// which every command on the case reads and writes whole: without a bound, one party could
/// make every later command on the case slower, message by message.
pub const MAX_MESSAGES_PER_PARTY: usize = 100;

/// T1: the most evidence files a case keeps from one party (its application's or rejection's
/// and those it added), for the same reason.
pub const MAX_EVIDENCE_PER_PARTY: usize = 60;

/// T2: room in the thread for one more message from `party`.
fn check_thread_room(case: &Case, party: Party) -> Result<(), Refusal> {
    let posted = case.thread.iter().filter(|m| m.from == party).count();
    if posted >= MAX_MESSAGES_PER_PARTY {
        return Err(Refusal::invalid(
            "text",
            format!("the thread already holds {posted} messages from this side, the most a case keeps ({MAX_MESSAGES_PER_PARTY})"),
            "T2",
        ));
    }
    Ok(())
}

/// T1: room in the case for `adding` more evidence files from `party`.
fn check_evidence_room(case: &Case, party: Party, adding: usize) -> Result<(), Refusal> {
    let kept = case.evidence.iter().filter(|(p, _)| *p == party).count();
    if kept + adding > MAX_EVIDENCE_PER_PARTY {
        return Err(Refusal::invalid(
            "evidence",
            format!(
                "the case already keeps {kept} files from this side; {adding} more would pass the most it keeps ({MAX_EVIDENCE_PER_PARTY})"
            ),
            "T1",
        ));
    }
    Ok(())
}

/// The most evidence files one command carries.
pub const MAX_EVIDENCE_PER_COMMAND: usize = 20;

fn check_evidence(evidence: &[Evidence], field: &'static str, rule: &'static str) -> Result<(), Refusal> {
    if evidence.len() > MAX_EVIDENCE_PER_COMMAND {
        return Err(Refusal::invalid(field, format!("has more than {MAX_EVIDENCE_PER_COMMAND} files"), rule));
    }
    for (i, e) in evidence.iter().enumerate() {
        e.validate().map_err(|m| Refusal::invalid(format!("{field}[{i}]"), m, rule))?;
    }
    Ok(())
}

fn check_amount(amount: Money, max: Money, rule: &'static str) -> Result<(), Refusal> {
    if amount.currency != max.currency {
        return Err(Refusal::invalid("amount", format!("must be in {}", max.currency), rule));
    }
    if amount.minor <= 0 {
        return Err(Refusal::invalid("amount", "must be above zero", rule));
    }
    if amount.minor > max.minor {
        return Err(Refusal::AmountAboveRefundable { requested: amount, max });
    }
    Ok(())
}

mod cases;
mod gate;
mod orders;

pub use cases::*;
pub use gate::*;
pub use orders::*;
