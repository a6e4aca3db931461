//! Policy profiles as data: every deadline of the table and the thresholds around them. Profiles
//! ship as TOML (`profiles/*.toml`, embedded); a shop picks one and may override any value.

use crate::time::Dur;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The values one shop runs under. Optional windows are features a profile does not have
/// (`cod_voucher = None`: the profile takes no COD orders; `receipt_extension = None`: no M3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(description = "The deadline values a shop runs under: its profile with its overrides. A window that is \
    null is a feature the profile does not have (`cod_voucher`: the shop takes no cash-on-delivery orders; \
    `receipt_extension`: receipt cannot be extended, M3).")]
pub struct Policy {
    pub name: String,
    /// The platform's time zone: every time a shop's staff and buyers see is shown in it.
    pub zone: TimeZone,
    /// The language the platform's people read by default (each person may choose another).
    pub language: Language,
    /// The currency the platform's orders are paid in: an order in another is refused (O1).
    pub currency: crate::money::Currency,
    pub review: Dur,
    pub buyer_ship: Dur,
    pub receipt: Dur,
    #[serde(default)]
    pub receipt_extension: Option<Dur>,
    pub extension_min_tracking_age: Dur,
    #[serde(default)]
    pub cod_voucher: Option<Dur>,
    pub evidence: Dur,
    pub evidence_reminder_left: Dur,
    pub buyer_after_rejection: Dur,
    pub resubmissions: u8,
    pub appeal_window: Dur,
    pub unpaid_order: Dur,
    pub near_deadline: Dur,
    pub refund_settle_working_days: u32,
    pub refund_retry: Dur,
    /// L4: a case after delivery for any reason is accepted this long after delivery (七天无理由).
    #[serde(default = "defaults::any_reason_window")]
    pub any_reason_window: Dur,
    /// L4: … and for a quality reason (defective, damaged, not as described) this long.
    #[serde(default = "defaults::quality_window")]
    pub quality_window: Dur,
    /// L3: the most cases a buyer may open on one line of an order.
    #[serde(default = "defaults::cases_per_line")]
    pub cases_per_line: u32,
    /// K1/K2: the merchant ships a replacement or the missing units within this.
    #[serde(default = "defaults::replacement_ship")]
    pub replacement_ship: Dur,
    /// K1: a delivered replacement the buyer does not confirm is confirmed after this.
    #[serde(default = "defaults::replacement_confirm")]
    pub replacement_confirm: Dur,
    /// How refunds are paid: the deployment's choice, not the profile's (M5).
    #[serde(skip)]
    #[schemars(skip)]
    pub payout: Payout,
}

/// The values of the rules beyond the seeds (L3, L4, K1, K2) for a profile or a stored policy
/// that does not name them.
mod defaults {
    use crate::time::Dur;
    pub fn any_reason_window() -> Dur {
        Dur::days(7)
    }
    pub fn quality_window() -> Dur {
        Dur::days(15)
    }
    pub fn cases_per_line() -> u32 {
        5
    }
    pub fn replacement_ship() -> Dur {
        Dur::hours(48)
    }
    pub fn replacement_confirm() -> Dur {
        Dur::days(7)
    }
}

/// How a deployment pays refunds (M5). Only the simulated gateway settles on the service's
/// clock; the others wait for an answer: a payment service's, Alipay's, or finance's by hand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Payout {
    /// Settles every refund one working day after it started (demos, tests).
    #[default]
    Simulated,
    /// Waits as `awaiting_payout` until finance marks it paid or failed.
    Manual,
    /// A signed request to the operator's payment service.
    Http,
    /// Alipay's `alipay.trade.refund`.
    Alipay,
}

impl Payout {
    pub const ALL: [Payout; 4] = [Payout::Simulated, Payout::Manual, Payout::Http, Payout::Alipay];

    pub fn as_str(&self) -> &'static str {
        match self {
            Payout::Simulated => "simulated",
            Payout::Manual => "manual",
            Payout::Http => "http",
            Payout::Alipay => "alipay",
        }
    }

    pub fn parse(s: &str) -> Option<Payout> {
        Payout::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Whether the refund settles on the service's clock (a deadline, M5).
    pub fn scheduled(&self) -> bool {
        *self == Payout::Simulated
    }

    /// Whether a node sends the refund to a service (and retries timeouts and 5xx).
    pub fn sends(&self) -> bool {
        matches!(self, Payout::Http | Payout::Alipay)
    }
}

/// A platform's time zone, as its profile names it (`zone = "Asia/Shanghai"`). A zone is a
/// fixed offset here: the platforms the profiles describe keep no daylight saving time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum TimeZone {
    #[serde(rename = "Asia/Shanghai")]
    AsiaShanghai,
    #[serde(rename = "UTC")]
    Utc,
}

impl TimeZone {
    pub fn name(&self) -> &'static str {
        match self {
            TimeZone::AsiaShanghai => "Asia/Shanghai",
            TimeZone::Utc => "UTC",
        }
    }

    /// Ahead of UTC by this much.
    pub fn offset(&self) -> Dur {
        match self {
            TimeZone::AsiaShanghai => Dur(8 * 3_600_000),
            TimeZone::Utc => Dur(0),
        }
    }
}

/// A language people read pages and messages in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Language {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

/// A shop's changes to its profile; every field optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyOverrides {
    pub review: Option<Dur>,
    pub buyer_ship: Option<Dur>,
    pub receipt: Option<Dur>,
    pub receipt_extension: Option<Dur>,
    pub extension_min_tracking_age: Option<Dur>,
    pub cod_voucher: Option<Dur>,
    pub evidence: Option<Dur>,
    pub evidence_reminder_left: Option<Dur>,
    pub buyer_after_rejection: Option<Dur>,
    #[schemars(range(max = 255))]
    pub resubmissions: Option<u8>,
    pub appeal_window: Option<Dur>,
    pub unpaid_order: Option<Dur>,
    pub near_deadline: Option<Dur>,
    #[schemars(range(max = 4_294_967_295u32))]
    pub refund_settle_working_days: Option<u32>,
    pub refund_retry: Option<Dur>,
    pub any_reason_window: Option<Dur>,
    pub quality_window: Option<Dur>,
    #[schemars(range(min = 1, max = 100))]
    pub cases_per_line: Option<u32>,
    pub replacement_ship: Option<Dur>,
    pub replacement_confirm: Option<Dur>,
}

pub const PROFILE_NAMES: [&str; 3] = ["douyin", "taote", "tiktok_shop"];

const DOUYIN: &str = include_str!("../profiles/douyin.toml");
const TAOTE: &str = include_str!("../profiles/taote.toml");
const TIKTOK_SHOP: &str = include_str!("../profiles/tiktok_shop.toml");

impl Policy {
    /// One of the built-in profiles by name (parsed once, then cloned).
    pub fn profile(name: &str) -> Result<Policy, String> {
        static PARSED: std::sync::OnceLock<Vec<Result<Policy, String>>> = std::sync::OnceLock::new();
        let parsed = PARSED.get_or_init(|| PROFILE_NAMES.iter().map(|n| Policy::parse_profile(n)).collect());
        match PROFILE_NAMES.iter().position(|n| *n == name) {
            Some(i) => parsed[i].clone(),
            None => Err(format!("unknown profile {name:?} (known: douyin, taote, tiktok_shop)")),
        }
    }

    fn parse_profile(name: &str) -> Result<Policy, String> {
        let text = match name {
            "douyin" => DOUYIN,
            "taote" => TAOTE,
            "tiktok_shop" => TIKTOK_SHOP,
            other => return Err(format!("unknown profile {other:?} (known: douyin, taote, tiktok_shop)")),
        };
        Policy::from_toml(text)
    }

    pub fn douyin() -> Policy {
        Policy::profile("douyin").unwrap_or_else(|_| unreachable_profile())
    }

    pub fn from_toml(text: &str) -> Result<Policy, String> {
        let policy: Policy = toml::from_str(text).map_err(|e| e.to_string())?;
        policy.validate()?;
        Ok(policy)
    }

    pub fn with_overrides(&self, o: &PolicyOverrides) -> Result<Policy, String> {
        let mut p = self.clone();
        macro_rules! take {
            ($($f:ident),*) => {$( if let Some(v) = o.$f { p.$f = v; } )*};
        }
        take!(
            review,
            buyer_ship,
            receipt,
            extension_min_tracking_age,
            evidence,
            evidence_reminder_left,
            buyer_after_rejection,
            resubmissions,
            appeal_window,
            unpaid_order,
            near_deadline,
            refund_settle_working_days,
            refund_retry,
            any_reason_window,
            quality_window,
            cases_per_line,
            replacement_ship,
            replacement_confirm
        );
        if o.receipt_extension.is_some() {
            p.receipt_extension = o.receipt_extension;
        }
        if o.cod_voucher.is_some() {
            p.cod_voucher = o.cod_voucher;
        }
        p.validate()?;
        Ok(p)
    }

    /// Every window must be positive, and reminders must fall inside their window.
    pub fn validate(&self) -> Result<(), String> {
        let windows = [
            ("review", Some(self.review)),
            ("buyer_ship", Some(self.buyer_ship)),
            ("receipt", Some(self.receipt)),
            ("receipt_extension", self.receipt_extension),
            ("cod_voucher", self.cod_voucher),
            ("evidence", Some(self.evidence)),
            ("evidence_reminder_left", Some(self.evidence_reminder_left)),
            ("buyer_after_rejection", Some(self.buyer_after_rejection)),
            ("appeal_window", Some(self.appeal_window)),
            ("unpaid_order", Some(self.unpaid_order)),
            ("near_deadline", Some(self.near_deadline)),
            ("refund_retry", Some(self.refund_retry)),
            ("any_reason_window", Some(self.any_reason_window)),
            ("quality_window", Some(self.quality_window)),
            ("replacement_ship", Some(self.replacement_ship)),
            ("replacement_confirm", Some(self.replacement_confirm)),
        ];
        for (name, value) in windows {
            if let Some(v) = value {
                if v.0 <= 0 {
                    return Err(format!("policy value {name} must be positive"));
                }
                if v > Dur::days(366) {
                    return Err(format!("policy value {name} must be at most 366d"));
                }
            }
        }
        if self.evidence_reminder_left >= self.evidence {
            return Err("evidence_reminder_left must be shorter than evidence".into());
        }
        if self.near_deadline >= self.review {
            return Err("near_deadline must be shorter than review".into());
        }
        if self.refund_settle_working_days > 30 {
            return Err("refund_settle_working_days must be at most 30".into());
        }
        if self.resubmissions > 10 {
            return Err("resubmissions must be at most 10".into());
        }
        if self.quality_window < self.any_reason_window {
            return Err("quality_window must be at least any_reason_window".into());
        }
        if !(1..=100).contains(&self.cases_per_line) {
            return Err("cases_per_line must be 1 to 100".into());
        }
        Ok(())
    }

    pub fn takes_cod(&self) -> bool {
        self.cod_voucher.is_some()
    }
}

fn unreachable_profile() -> Policy {
    // The embedded profiles are checked by tests; this is only reached if one is edited badly.
    Policy {
        name: "douyin".into(),
        zone: TimeZone::AsiaShanghai,
        language: Language::ZhCn,
        currency: crate::money::Currency::CNY,
        review: Dur::hours(48),
        buyer_ship: Dur::days(7),
        receipt: Dur::days(7),
        receipt_extension: Some(Dur::days(3)),
        extension_min_tracking_age: Dur::days(5),
        cod_voucher: Some(Dur::hours(48)),
        evidence: Dur::hours(24),
        evidence_reminder_left: Dur::hours(12),
        buyer_after_rejection: Dur::days(7),
        resubmissions: 1,
        appeal_window: Dur::days(7),
        unpaid_order: Dur::hours(24),
        near_deadline: Dur::hours(12),
        refund_settle_working_days: 1,
        refund_retry: Dur::hours(1),
        any_reason_window: defaults::any_reason_window(),
        quality_window: defaults::quality_window(),
        cases_per_line: defaults::cases_per_line(),
        replacement_ship: defaults::replacement_ship(),
        replacement_confirm: defaults::replacement_confirm(),
        payout: Payout::Simulated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_names_its_platforms_zone_and_language() {
        let zone_lang = |n: &str| Policy::profile(n).map(|p| (p.zone, p.language)).unwrap();
        assert_eq!(zone_lang("douyin"), (TimeZone::AsiaShanghai, Language::ZhCn));
        assert_eq!(zone_lang("taote"), (TimeZone::AsiaShanghai, Language::ZhCn));
        assert_eq!(zone_lang("tiktok_shop"), (TimeZone::Utc, Language::En));
        assert_eq!(TimeZone::AsiaShanghai.offset(), Dur::hours(8));
        assert_eq!((TimeZone::AsiaShanghai.name(), TimeZone::Utc.name()), ("Asia/Shanghai", "UTC"));
        assert_eq!(TimeZone::Utc.offset(), Dur(0));
        // A zone the project does not know is refused, never read as another.
        let unknown = "name = \"x\"\nzone = \"Europe/Paris\"";
        assert!(toml::from_str::<Policy>(unknown).is_err());
    }

    #[test]
    fn every_profile_loads_with_the_deadline_table_values() {
        let d = Policy::profile("douyin").unwrap();
        assert_eq!(d, unreachable_profile());
        let t = Policy::profile("taote").unwrap();
        assert_eq!((t.review, t.receipt_extension, t.cod_voucher), (Dur::hours(36), None, None));
        let k = Policy::profile("tiktok_shop").unwrap();
        assert_eq!(k.buyer_ship, Dur::days(5));
        assert_eq!(k.receipt, Dur::days(8));
        assert_eq!(k.receipt_extension, Some(Dur::days(8)));
        assert_eq!(k.buyer_after_rejection, Dur::hours(48));
        assert!(Policy::profile("amazon").is_err());
    }

    #[test]
    fn overrides_apply_and_are_validated() {
        let o: PolicyOverrides = toml::from_str("review = \"24h\"\nnear_deadline = \"6h\"").unwrap();
        let p = Policy::douyin().with_overrides(&o).unwrap();
        assert_eq!((p.review, p.near_deadline), (Dur::hours(24), Dur::hours(6)));
        let bad: PolicyOverrides = toml::from_str("evidence_reminder_left = \"30h\"").unwrap();
        assert!(Policy::douyin().with_overrides(&bad).is_err());
        assert!(toml::from_str::<PolicyOverrides>("reviw = \"1h\"").is_err());
    }

    fn with(f: impl Fn(&mut Policy)) -> Result<(), String> {
        let mut p = Policy::douyin();
        f(&mut p);
        p.validate()
    }

    #[test]
    fn every_window_is_positive_and_at_most_a_year() {
        assert_eq!(with(|_| ()), Ok(()));
        assert_eq!(with(|p| p.review = Dur(0)), Err("policy value review must be positive".into()));
        assert_eq!(with(|p| p.refund_retry = Dur(-1)), Err("policy value refund_retry must be positive".into()));
        assert_eq!(with(|p| p.cod_voucher = Some(Dur(0))), Err("policy value cod_voucher must be positive".into()));
        assert_eq!(with(|p| p.cod_voucher = None), Ok(()));
        assert_eq!(with(|p| p.appeal_window = Dur(1)), Ok(()));
        assert_eq!(with(|p| p.appeal_window = Dur::days(366)), Ok(()));
        assert_eq!(
            with(|p| p.appeal_window = Dur(Dur::days(366).0 + 1)),
            Err("policy value appeal_window must be at most 366d".into())
        );
    }

    #[test]
    fn reminders_fall_inside_their_window_and_counts_are_bounded() {
        let e = Dur::hours(24);
        assert!(with(|p| p.evidence_reminder_left = e).is_err());
        assert_eq!(with(|p| p.evidence_reminder_left = Dur(e.0 - 1)), Ok(()));
        assert!(with(|p| p.near_deadline = p.review).is_err());
        assert_eq!(with(|p| p.near_deadline = Dur(p.review.0 - 1)), Ok(()));
        assert_eq!(with(|p| p.refund_settle_working_days = 30), Ok(()));
        assert!(with(|p| p.refund_settle_working_days = 31).is_err());
        assert_eq!(with(|p| p.resubmissions = 10), Ok(()));
        assert!(with(|p| p.resubmissions = 11).is_err());
        assert!(Policy::douyin().takes_cod());
        assert!(!Policy::profile("taote").unwrap().takes_cod());
    }
}
