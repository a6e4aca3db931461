//! L4: the any-reason and quality windows after delivery.

use crate::harness::T0;
use aftersale_core::actor::Party;
use aftersale_core::lines::window::{check_window, window_for, ReasonCode};
use aftersale_core::lines::LineKind;
use aftersale_core::policy::{Policy, PolicyOverrides};
use aftersale_core::refusal::Refusal;
use aftersale_core::time::Dur;

#[test]
fn l4_any_reason_within_7_days_quality_within_15_and_outside_both_refused_naming_the_window() {
    let p = Policy::douyin();
    let delivered = Some(T0);
    let at = |days: i64| T0 + Dur::days(days);
    let buyer = |reason, kind, now| check_window(&p, Party::Buyer, delivered, reason, kind, now);
    // Day 6: any reason is fine, until day 7.
    assert_eq!(buyer(ReasonCode::NoReason, LineKind::Standard, at(6)), Ok(Some(at(7))));
    // Day 8, no reason: refused, naming the any-reason window and when it closed.
    let refused = buyer(ReasonCode::NoReason, LineKind::Standard, at(8)).unwrap_err();
    assert_eq!(refused, Refusal::WindowClosed { window: "any_reason", until: Some(at(7)) });
    assert_eq!((refused.code(), refused.rule()), ("window_closed", Some("L4")));
    assert!(refused.to_string().contains("any-reason"), "{refused}");
    // Day 10, a quality reason: accepted, until day 15.
    assert_eq!(buyer(ReasonCode::Defective, LineKind::Standard, at(10)), Ok(Some(at(15))));
    // The last moment before the end is in, the end itself is out.
    assert!(buyer(ReasonCode::Damaged, LineKind::Standard, at(15) - Dur(1)).is_ok());
    assert_eq!(
        buyer(ReasonCode::NotAsDescribed, LineKind::Standard, at(15)),
        Err(Refusal::WindowClosed { window: "quality", until: Some(at(15)) })
    );
    // Before delivery no window runs.
    assert_eq!(check_window(&p, Party::Buyer, None, ReasonCode::NoReason, LineKind::Fresh, at(30)), Ok(None));
    // The platform may open outside the window (C1), and is told when it closed.
    assert_eq!(
        check_window(&p, Party::Platform, delivered, ReasonCode::NoReason, LineKind::Standard, at(20)),
        Ok(Some(at(7)))
    );
}

#[test]
fn l4_fresh_and_custom_lines_have_no_any_reason_window_but_keep_the_quality_one() {
    let p = Policy::douyin();
    for kind in [LineKind::Fresh, LineKind::Custom] {
        let refused =
            check_window(&p, Party::Buyer, Some(T0), ReasonCode::NoReason, kind, T0 + Dur::hours(1)).unwrap_err();
        assert_eq!(refused, Refusal::WindowClosed { window: "any_reason", until: None });
        assert!(refused.to_string().contains("fresh or custom"), "{refused}");
        assert_eq!(window_for(&p, Some(T0), ReasonCode::NoReason, kind), Some(("any_reason", None)));
        assert_eq!(
            check_window(&p, Party::Buyer, Some(T0), ReasonCode::Defective, kind, T0 + Dur::days(3)),
            Ok(Some(T0 + Dur::days(15)))
        );
    }
    // Every reason but "no reason" is a quality reason.
    let quality: Vec<&str> = ReasonCode::ALL.iter().filter(|r| r.is_quality()).map(|r| r.as_str()).collect();
    assert_eq!(quality, ["defective", "damaged", "not_as_described", "wrong_item", "missing_items"]);
    assert_eq!(ReasonCode::parse("no_reason"), Some(ReasonCode::NoReason));
    assert_eq!(ReasonCode::parse("bored"), None);
}

#[test]
fn l4_the_windows_are_profile_values_a_shop_may_override_within_bounds() {
    let p = Policy::douyin();
    assert_eq!((p.any_reason_window, p.quality_window, p.cases_per_line), (Dur::days(7), Dur::days(15), 5));
    for name in ["taote", "tiktok_shop"] {
        let q = Policy::profile(name).unwrap();
        assert_eq!((q.any_reason_window, q.quality_window), (Dur::days(7), Dur::days(15)), "{name}");
        assert_eq!((q.replacement_ship, q.replacement_confirm), (Dur::hours(48), Dur::days(7)), "{name}");
    }
    let o = PolicyOverrides { any_reason_window: Some(Dur::days(10)), cases_per_line: Some(3), ..Default::default() };
    let q = p.with_overrides(&o).unwrap();
    assert_eq!((q.any_reason_window, q.cases_per_line), (Dur::days(10), 3));
    assert_eq!(
        check_window(&q, Party::Buyer, Some(T0), ReasonCode::NoReason, LineKind::Standard, T0 + Dur::days(9)),
        Ok(Some(T0 + Dur::days(10)))
    );
    // The quality window is never shorter than the any-reason one; a shop has 1 to 100 cases a line.
    let longer = PolicyOverrides { any_reason_window: Some(Dur::days(20)), ..Default::default() };
    assert!(p.with_overrides(&longer).unwrap_err().contains("quality_window"));
    // As long as it is fine: 15 days for any reason and for quality.
    let equal = PolicyOverrides { any_reason_window: Some(Dur::days(15)), ..Default::default() };
    assert_eq!(p.with_overrides(&equal).unwrap().any_reason_window, Dur::days(15));
    let none = PolicyOverrides { cases_per_line: Some(0), ..Default::default() };
    assert!(p.with_overrides(&none).unwrap_err().contains("cases_per_line"));
    let max = PolicyOverrides { cases_per_line: Some(100), ..Default::default() };
    assert!(p.with_overrides(&max).is_ok());
    let over = PolicyOverrides { cases_per_line: Some(101), ..Default::default() };
    assert!(p.with_overrides(&over).is_err());
    // A policy stored before these values existed reads with the defaults.
    let mut stored = serde_json::to_value(&p).unwrap();
    for k in ["any_reason_window", "quality_window", "cases_per_line", "replacement_ship", "replacement_confirm"] {
        stored.as_object_mut().unwrap().remove(k);
    }
    let read: Policy = serde_json::from_value(stored).unwrap();
    assert_eq!(read, p);
}

#[test]
fn l4_each_application_reason_falls_in_its_window() {
    for (code, reason) in [
        ("no_longer_needed", ReasonCode::NoReason),
        ("other", ReasonCode::NoReason),
        ("missing_or_wrong_item", ReasonCode::MissingItems),
        ("damaged", ReasonCode::Damaged),
        ("not_as_described", ReasonCode::NotAsDescribed),
        ("defective", ReasonCode::Defective),
        ("quality_issue", ReasonCode::Defective),
        ("not_delivered", ReasonCode::Defective),
        ("not_shipped_on_time", ReasonCode::Defective),
    ] {
        assert_eq!(ReasonCode::of_apply_reason(code), reason, "{code}");
    }
}
