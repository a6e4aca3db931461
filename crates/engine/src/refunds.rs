//! Refunds as money that leaves (M5): the ledger row each started refund gets, in the same
//! transaction as the case; the due refunds a node claims to send to a payment service; what
//! the service's answer (or finance's, by hand or by the bank's payout file) does to the ledger
//! and the case. A refund is never marked paid without an answer saying so, and never sent
//! under two keys (the key is the ledger row's id).

use crate::feeds::Sender;
use crate::store::*;
use crate::submit::decide_and_write;
use crate::usecase::{Deps, Engine, EngineError};
use aftersale_core::time::{Dur, DAY};
use aftersale_core::*;

/// What a payment service answered to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayAnswer {
    /// Paid, with the service's reference.
    Succeeded { reference: Option<String> },
    /// Refused for good (a closed trade, an account that cannot take it): the reason.
    Failed { reason: String },
    /// Taken, outcome not known yet: settled by the service's callback, or asked about again
    /// `ask_after` from now on the service's clock (Alipay's query).
    Pending { reference: Option<String>, ask_after: Option<Dur> },
    /// No answer (timeout, connection refused) or a 5xx: sent again, under the same key, after
    /// the M5 backoff.
    Unreachable { error: String },
    /// The service has no refund under this key (asked about a pending one): it never took the
    /// request; sent again now, under the same key.
    Resend,
}

/// Finance's word on a refund: paid (with the bank's reference) or failed (with the reason).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutResult {
    pub paid: bool,
    pub reference: Option<String>,
    pub reason: Option<String>,
}

/// One line of a payout file, as the edge read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutLine {
    /// The file's line number (for the report).
    pub line: usize,
    /// `rf_<id>` or the bare id.
    pub refund: String,
    pub result: Result<PayoutResult, String>,
}

/// The wait before sending again after `attempts` unanswered requests (M5: the retry wait,
/// doubling, at most a day).
pub fn backoff(policy: &Policy, attempts: u32) -> Dur {
    let factor = 1i64 << attempts.saturating_sub(1).min(5);
    Dur((policy.refund_retry.0 * factor).min(DAY.0))
}

/// What a case change does to the ledger: a refund started gets its row; a refund settled (by
/// the simulated gateway's firing, a service's answer or finance) moves its row to match.
pub(crate) fn ledger_effects(
    tx: &mut dyn WriteTx,
    case: &Case,
    order_no: &str,
    recorded: &[Recorded],
    payout: Payout,
) -> Result<(), EngineError> {
    for r in recorded {
        match &r.event {
            Event::RefundStarted { amount, settle_at, .. } => {
                let (status, next_at) = match payout {
                    Payout::Manual => (LedgerStatus::AwaitingPayout, None),
                    Payout::Http | Payout::Alipay => (LedgerStatus::Requested, Some(r.at)),
                    Payout::Simulated => (LedgerStatus::Requested, *settle_at),
                };
                tx.insert_refund(&RefundRow {
                    id: 0,
                    case: case.id,
                    order: case.order_id,
                    order_no: order_no.to_string(),
                    shop: case.shop_id,
                    amount: *amount,
                    gateway: payout.as_str().into(),
                    status,
                    attempts: 0,
                    reference: None,
                    last_error: None,
                    requested_at: r.at,
                    settled_at: None,
                    next_at,
                })?;
            }
            Event::RefundSettled { ok, detail, retry_at } => {
                let Some(refund) = &case.refund else { continue };
                let mut row = match tx.refund_of_case(case.id)? {
                    Some(row) => row,
                    // A refund started before the ledger existed: its row is made now.
                    None => {
                        let mut row = RefundRow {
                            id: 0,
                            case: case.id,
                            order: case.order_id,
                            order_no: order_no.to_string(),
                            shop: case.shop_id,
                            amount: refund.amount,
                            gateway: Payout::Simulated.as_str().into(),
                            status: LedgerStatus::Requested,
                            attempts: 0,
                            reference: None,
                            last_error: None,
                            requested_at: refund.started_at,
                            settled_at: None,
                            next_at: None,
                        };
                        row.id = tx.insert_refund(&row)?;
                        row
                    }
                };
                let before = row.clone();
                row.attempts = row.attempts.max(refund.attempts);
                if *ok {
                    row.status = LedgerStatus::Succeeded;
                    row.settled_at = Some(r.at);
                    row.last_error = None;
                    row.next_at = None;
                } else {
                    // The simulated gateway tries again on the clock; any other failure is final.
                    row.status = if retry_at.is_some() { LedgerStatus::Requested } else { LedgerStatus::Failed };
                    row.last_error = Some(detail.clone());
                    row.next_at = *retry_at;
                }
                // A service's answer has written the row already: written once.
                if row != before {
                    tx.update_refund(&row)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Applies a settled outcome to the refund's case, as the system. A case that no longer waits
/// for it (finance settled it first, say) keeps the ledger's word and says why in the log.
fn settle_case(
    tx: &mut dyn WriteTx,
    deps: &Deps,
    row: &RefundRow,
    ok: bool,
    detail: String,
    now: Timestamp,
) -> Result<(), EngineError> {
    // A case that no longer waits (not refunding) is refused by the rules (M5): no read first.
    let cmd = CaseCommand::RecordRefundOutcome { ok, detail };
    match decide_and_write(tx, deps, row.case, &Actor::System, &cmd, None, now) {
        Ok(_) => Ok(()),
        Err(EngineError::Refused(why)) => {
            tracing::warn!(refund = row.id, case = %row.case, "refund settled, but its case refused it: {why}");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Checks a refund id as the API and payout files write it (`rf_12` or `12`).
pub fn parse_refund_id(s: &str) -> Option<i64> {
    let s = s.trim();
    s.strip_prefix("rf_").unwrap_or(s).parse().ok().filter(|id: &i64| *id > 0)
}

fn check_result(r: &PayoutResult) -> Result<(), EngineError> {
    let bounded = |field: &'static str, v: &Option<String>, required: bool| match v.as_deref().map(str::trim) {
        None | Some("") if required => Err(EngineError::Invalid { field, reason: "is required (M5)".into() }),
        Some(t) if t.chars().count() > 200 => {
            Err(EngineError::Invalid { field, reason: "is longer than 200 characters (M5)".into() })
        }
        _ => Ok(()),
    };
    bounded("reference", &r.reference, r.paid)?;
    bounded("reason", &r.reason, !r.paid)
}

/// Settles `row` as finance said, in `tx`; refuses a refund that is being sent (its service's
/// answer decides) or already ended otherwise.
fn apply_payout(
    tx: &mut dyn WriteTx,
    deps: &Deps,
    mut row: RefundRow,
    result: &PayoutResult,
    now: Timestamp,
) -> Result<RefundRow, EngineError> {
    check_result(result)?;
    let target = if result.paid { LedgerStatus::Succeeded } else { LedgerStatus::Failed };
    if row.status == target && row.reference.as_deref() == result.reference.as_deref().map(str::trim) {
        return Ok(row); // said twice: the same answer
    }
    let open = matches!(row.status, LedgerStatus::AwaitingPayout | LedgerStatus::Pending | LedgerStatus::Failed);
    if !open {
        return Err(Refusal::WrongState {
            action: "settle_refund",
            subject: "refund",
            state: row.status.as_str().into(),
            rule: "M5",
        }
        .into());
    }
    let reference = result.reference.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
    row.status = target;
    row.next_at = None;
    if result.paid {
        row.reference = reference.clone();
        row.settled_at = Some(now);
        row.last_error = None;
    } else {
        row.last_error = result.reason.as_deref().map(|r| r.trim().to_string());
    }
    tx.update_refund(&row)?;
    let detail = if result.paid {
        format!("paid, reference {}", reference.unwrap_or_default())
    } else {
        row.last_error.clone().unwrap_or_default()
    };
    settle_case(tx, deps, &row, result.paid, detail, now)?;
    // As the case's change left it (the ledger moves with the case).
    Ok(tx.refund(row.id)?.unwrap_or(row))
}

/// Who may read the ledger: the platform, and a shop's owner and staff (their shop's).
fn reads_ledger(s: &Sender) -> Result<(), EngineError> {
    s.require(&[Role::Owner, Role::Staff, Role::Agent, Role::Admin])
}

/// Who may settle a refund by hand: finance, that is the platform's admin, a shop's owner, or
/// the shop's integration token (the payment service's callback).
fn settles(s: &Sender) -> Result<(), EngineError> {
    if s.role == Role::Owner || s.role == Role::Admin || reports_feeds(s.role, s.credential) {
        Ok(())
    } else {
        Err(EngineError::Forbidden(
            "refunds are settled by the shop's owner, its integration token, or a platform admin".into(),
        ))
    }
}

impl Engine {
    /// The refunds `s` may see that match `f` (a shop's staff: their shop's only).
    pub fn refunds_as(&self, s: &Sender, mut f: RefundFilter) -> Result<Vec<RefundRow>, EngineError> {
        reads_ledger(s)?;
        if let Some(shop) = f.shop {
            s.sees_shop(shop)?;
        }
        if !s.is_platform() {
            f.shop = s.shop();
        }
        f.limit = f.limit.clamp(1, 1000);
        self.read(|tx| tx.refunds(&f))
    }

    /// One refund, if `s` may see it (another shop's is "not found").
    pub fn refund_as(&self, s: &Sender, id: i64) -> Result<RefundRow, EngineError> {
        reads_ledger(s)?;
        let not_found = || EngineError::NotFound { what: "refund", id: format!("rf_{id}") };
        let row = self.read(|tx| tx.refund(id))?.ok_or_else(not_found)?;
        s.sees_shop(row.shop).map_err(|_| not_found())?;
        Ok(row)
    }

    /// Finance's (or the payment service's callback's) word on one refund.
    pub fn settle_refund_as(&self, s: &Sender, id: i64, result: PayoutResult) -> Result<RefundRow, EngineError> {
        settles(s)?;
        self.refund_as(s, id)?;
        check_result(&result)?;
        let deps = self.deps.clone();
        let now = self.now();
        let row = self.transact(move |tx| {
            let row = tx.refund(id)?.ok_or(EngineError::NotFound { what: "refund", id: format!("rf_{id}") })?;
            apply_payout(tx, &deps, row, &result, now)
        })?;
        Ok(row)
    }

    /// A payout file: every line is checked first, and only when all are good is any applied,
    /// all in one transaction. A bad line (an unknown refund, one of another shop, one already
    /// ended otherwise, a missing reference) refuses the file, naming each bad line.
    pub fn settle_payouts_as(&self, s: &Sender, lines: Vec<PayoutLine>) -> Result<Vec<RefundRow>, EngineError> {
        settles(s)?;
        if lines.is_empty() {
            return Err(EngineError::Invalid { field: "file", reason: "has no payout lines (M5)".into() });
        }
        let deps = self.deps.clone();
        let now = self.now();
        let sender = *s;
        self.transact(move |tx| {
            let mut bad = Vec::new();
            let mut good = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for l in &lines {
                let row = parse_refund_id(&l.refund)
                    .map(|id| tx.refund(id))
                    .transpose()?
                    .flatten()
                    .filter(|r| sender.sees_shop(r.shop).is_ok());
                let checked = match (row, &l.result) {
                    (None, _) => Err(format!("unknown refund {:?}", l.refund)),
                    (_, Err(why)) => Err(why.clone()),
                    (Some(row), Ok(_)) if !seen.insert(row.id) => Err(format!("{} is on an earlier line", row.key())),
                    (Some(row), Ok(result)) => {
                        check_result(result).map(|_| (row, result.clone())).map_err(|e| e.to_string())
                    }
                };
                match checked {
                    Ok(pair) => good.push((l.line, pair)),
                    Err(why) => bad.push(format!("line {}: {why}", l.line)),
                }
            }
            if !bad.is_empty() {
                return Err(EngineError::Invalid {
                    field: "file",
                    reason: format!("{} (M5; nothing was applied)", bad.join("; ")),
                });
            }
            let mut done = Vec::new();
            for (line, (row, result)) in good {
                match apply_payout(tx, &deps, row, &result, now) {
                    Ok(row) => done.push(row),
                    Err(e) => {
                        return Err(EngineError::Invalid {
                            field: "file",
                            reason: format!("line {line}: {e} (M5; nothing was applied)"),
                        })
                    }
                }
            }
            Ok(done)
        })
    }

    /// Claims up to `limit` refunds due to be sent (or asked about) through `gateway`, for
    /// `owner` during `lease_ms`; a node that dies holding them loses nothing: the lease runs
    /// out and another node sends them again, under the same key.
    pub fn claim_refunds(
        &self,
        gateway: Payout,
        limit: usize,
        owner: &str,
        lease_ms: i64,
    ) -> Result<Vec<RefundRow>, EngineError> {
        let now = self.now();
        let wall = crate::runner::wall_ms();
        let owner = owner.to_string();
        self.transact(move |tx| Ok(tx.claim_refunds(&[gateway.as_str()], now, limit, &owner, wall, wall + lease_ms)?))
    }

    /// What the payment service answered to a claimed refund: the ledger moves, and the case
    /// with it when the answer is final.
    pub fn record_refund_answer(&self, id: i64, answer: GatewayAnswer) -> Result<RefundRow, EngineError> {
        let deps = self.deps.clone();
        let now = self.now();
        self.transact(move |tx| {
            let not_found = || EngineError::NotFound { what: "refund", id: format!("rf_{id}") };
            record_answer(tx, &deps, id, answer.clone(), now)?.ok_or_else(not_found)?;
            // As the case's change left it (the ledger moves with the case).
            tx.refund(id)?.ok_or_else(not_found)
        })
    }

    /// `record_refund_answer` for every answer the dispatcher has in hand, in one transaction
    /// (one commit, as the deadline runner fires a batch in one); how many were recorded.
    pub fn record_refund_answers(&self, answers: Vec<(i64, GatewayAnswer)>) -> Result<usize, EngineError> {
        let deps = self.deps.clone();
        let now = self.now();
        self.transact(move |tx| {
            let mut recorded = 0;
            for (id, answer) in &answers {
                match record_answer(tx, &deps, *id, answer.clone(), now)? {
                    Some(()) => recorded += 1,
                    // A row gone (never, short of an operator's hand) must not hold up the rest.
                    None => tracing::warn!(refund = id, "an answer for a refund no longer in the ledger"),
                }
            }
            Ok(recorded)
        })
    }
}

/// One answer recorded in `tx`: the ledger row, and the case when the answer is final. None when
/// the ledger has no such refund.
fn record_answer(
    tx: &mut dyn WriteTx,
    deps: &Deps,
    id: i64,
    answer: GatewayAnswer,
    now: Timestamp,
) -> Result<Option<()>, EngineError> {
    let Some(mut row) = tx.refund(id)? else { return Ok(None) };
    if row.status.is_final() || row.status == LedgerStatus::AwaitingPayout {
        return Ok(Some(())); // settled meanwhile (by finance, or a callback)
    }
    row.attempts += 1;
    let settled = match answer {
        GatewayAnswer::Succeeded { reference } => {
            row.reference = reference.or(row.reference.take());
            row.status = LedgerStatus::Succeeded;
            row.settled_at = Some(now);
            row.next_at = None;
            row.last_error = None;
            Some((true, format!("paid, reference {}", row.reference.clone().unwrap_or_default())))
        }
        GatewayAnswer::Failed { reason } => {
            row.status = LedgerStatus::Failed;
            row.next_at = None;
            row.last_error = Some(reason.clone());
            Some((false, reason))
        }
        GatewayAnswer::Pending { reference, ask_after } => {
            row.reference = reference.or(row.reference.take());
            row.status = LedgerStatus::Pending;
            row.next_at = ask_after.map(|d| now + d);
            None
        }
        GatewayAnswer::Resend => {
            row.status = LedgerStatus::Requested;
            row.next_at = Some(now);
            row.last_error = Some("the payment service had no such refund; sent again".into());
            None
        }
        GatewayAnswer::Unreachable { error } => {
            let policy = deps.shops.get(tx, row.shop)?.policy.clone();
            row.status =
                if row.status == LedgerStatus::Pending { LedgerStatus::Pending } else { LedgerStatus::Requested };
            row.next_at = Some(now + backoff(&policy, row.attempts));
            row.last_error = Some(error);
            None
        }
    };
    tx.update_refund(&row)?;
    if let Some((ok, detail)) = settled {
        settle_case(tx, deps, &row, ok, detail, now)?;
    }
    Ok(Some(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refund_ids_read_with_or_without_their_prefix() {
        assert_eq!(parse_refund_id("rf_12"), Some(12));
        assert_eq!(parse_refund_id(" 12 "), Some(12));
        assert_eq!(parse_refund_id("rf_0"), None);
        assert_eq!(parse_refund_id("rf_x"), None);
        assert_eq!(parse_refund_id("-3"), None);
    }

    #[test]
    fn the_backoff_doubles_from_the_retry_wait_to_a_day() {
        let p = Policy::douyin();
        let waits: Vec<i64> = (1..=8).map(|a| backoff(&p, a).0 / 3_600_000).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 24, 24, 24]);
    }
}
