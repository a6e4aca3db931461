//! The shop dashboard's figures for a period: cases opened and closed per day, the time to the
//! shop's first response, the share of cases a deadline decided against the shop (the seeds
//! warn that timeouts count against it), refund amounts and the top reasons. Computed from the
//! cases applied in the period and their logs, in one read transaction.

use crate::store::{CaseQuery, CaseSort};
use crate::usecase::{Engine, EngineError};
use aftersale_core::values::ShopId;
use aftersale_core::*;

/// At most this many cases of a period are read (the newest); the report says when it stopped.
pub const REPORT_CAP: usize = 5_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopReport {
    pub from: Timestamp,
    pub to: Timestamp,
    /// Per day (its start in the shop's zone, as UTC): cases applied, and of them those that
    /// finished (refunded or closed) that day.
    pub days: Vec<(Timestamp, u64, u64)>,
    pub cases: u64,
    /// False when the period held more than `REPORT_CAP` cases and only the newest were read.
    pub complete: bool,
    /// Median time from the application to the shop's first action, over the cases it answered.
    pub first_response_median: Option<Dur>,
    pub answered: u64,
    /// Cases in which a deadline waiting for the shop passed and the system acted.
    pub decided_by_timeout: u64,
    /// Refunds started or paid, summed per currency.
    pub refunded: Vec<Money>,
    pub refunded_cases: u64,
    /// Reasons by how often buyers gave them, most first.
    pub top_reasons: Vec<(String, u64)>,
    /// Per outcome asked for — `refund` (the three refund types and the shop's own refunds),
    /// `exchange` (K1), `resend` (K2) — the cases and the units of order lines they named.
    pub outcomes: Vec<Outcome>,
}

/// One outcome's share of the period's cases (L2: a case names lines and units).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub name: &'static str,
    pub cases: u64,
    pub units: u64,
    /// Distinct (order, line) pairs the cases named.
    pub lines: u64,
}

/// The outcome a case asks for.
pub fn outcome_of(kind: CaseType) -> &'static str {
    match kind {
        CaseType::Exchange => "exchange",
        CaseType::Resend => "resend",
        CaseType::RefundUnshipped | CaseType::RefundOnly | CaseType::ReturnRefund => "refund",
    }
}

impl Engine {
    /// The dashboard of `shop` for `[from, to]`, with days cut at `offset` from UTC.
    pub fn shop_report(
        &self,
        shop: ShopId,
        from: Timestamp,
        to: Timestamp,
        offset: Dur,
    ) -> Result<ShopReport, EngineError> {
        self.shop_report_capped(shop, from, to, offset, REPORT_CAP)
    }

    /// `shop_report` reading at most the newest `cap` cases of the period.
    pub fn shop_report_capped(
        &self,
        shop: ShopId,
        from: Timestamp,
        to: Timestamp,
        offset: Dur,
        cap: usize,
    ) -> Result<ShopReport, EngineError> {
        let day = 86_400_000;
        let first_day = (from.0 + offset.0).div_euclid(day) * day - offset.0;
        let n_days = ((to.0 - first_day) / day + 1).clamp(1, 366) as usize;
        self.read(|tx| {
            let mut cases = Vec::new();
            let mut q = CaseQuery {
                shop: Some(shop),
                applied_from: Some(from),
                applied_to: Some(to),
                sort: CaseSort::Newest,
                limit: 200,
                ..CaseQuery::default()
            };
            let complete = loop {
                let page = tx.search_cases(&q)?;
                cases.extend(page.items.into_iter().map(|i| i.case));
                if cases.len() >= cap {
                    break page.next.is_none();
                }
                match page.next {
                    Some(c) => q.after = Some(c),
                    None => break true,
                }
            };
            let complete = complete && cases.len() <= cap;
            cases.truncate(cap);
            let mut days: Vec<(Timestamp, u64, u64)> =
                (0..n_days).map(|i| (Timestamp(first_day + i as i64 * day), 0, 0)).collect();
            let bucket = |t: Timestamp| -> Option<usize> {
                let i = (t.0 - first_day).div_euclid(day);
                (0..n_days as i64).contains(&i).then_some(i as usize)
            };
            let mut responses = Vec::new();
            let mut decided_by_timeout = 0;
            let mut refunded: Vec<Money> = Vec::new();
            let mut refunded_cases = 0;
            let mut reasons: Vec<(String, u64)> = Vec::new();
            let mut outcomes: Vec<Outcome> = ["refund", "exchange", "resend"]
                .into_iter()
                .map(|name| Outcome { name, cases: 0, units: 0, lines: 0 })
                .collect();
            let mut lines_seen: Vec<(&'static str, i64, u32)> = Vec::new();
            for case in &cases {
                let name = outcome_of(case.requested_kind);
                if let Some(o) = outcomes.iter_mut().find(|o| o.name == name) {
                    o.cases += 1;
                    for p in case.picks() {
                        o.units += u64::from(p.units);
                        if !lines_seen.contains(&(name, case.order_id.0, p.line)) {
                            lines_seen.push((name, case.order_id.0, p.line));
                            o.lines += 1;
                        }
                    }
                }
                if let Some(i) = bucket(case.applied_at) {
                    days[i].1 += 1;
                }
                if matches!(case.status.name(), StatusName::Completed | StatusName::Closed) {
                    if let Some(i) = bucket(case.status_since) {
                        days[i].2 += 1;
                    }
                }
                match reasons.iter_mut().find(|(r, _)| *r == case.reason) {
                    Some((_, n)) => *n += 1,
                    None => reasons.push((case.reason.clone(), 1)),
                }
                if let Some(r) = &case.refund {
                    match refunded.iter_mut().find(|m| m.currency() == r.amount.currency()) {
                        Some(m) => *m = m.plus(r.amount),
                        None => refunded.push(r.amount),
                    }
                    refunded_cases += 1;
                }
                let log = tx.case_events(case.id)?;
                if let Some(first) = log.iter().find(|e| matches!(e.recorded.actor, Actor::Merchant { .. })) {
                    responses.push(first.recorded.at.0 - case.applied_at.0);
                }
                let against_shop = log.iter().any(|e| {
                    matches!(&e.recorded.event, Event::DeadlineFired { kind, .. } if waits_for(*kind).first() == Some(&Party::Merchant))
                });
                if against_shop {
                    decided_by_timeout += 1;
                }
            }
            responses.sort_unstable();
            reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            reasons.truncate(5);
            Ok(ShopReport {
                from,
                to,
                days,
                cases: cases.len() as u64,
                complete,
                first_response_median: responses.get(responses.len() / 2).map(|ms| Dur(*ms)),
                answered: responses.len() as u64,
                decided_by_timeout,
                refunded,
                refunded_cases,
                top_reasons: reasons,
                outcomes,
            })
        })
    }
}
