//! Accounts, sessions and API tokens, shop settings, evidence records, idempotency answers and
//! visibility: the use-cases the HTTP layer builds on, against the real store.

use crate::harness::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::accounts::{validate_login, NewUser};
use aftersale_engine::*;

fn user(login: &str, role: Role, shop: Option<ShopId>) -> NewUser {
    NewUser {
        login: login.into(),
        role,
        shop_id: shop,
        display_name: format!("{login} name"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
    }
}

fn field(e: EngineError) -> &'static str {
    match e {
        EngineError::Invalid { field, .. } | EngineError::Taken { field, .. } => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

#[test]
fn logins_are_3_to_64_of_lower_case_letters_digits_and_dot_underscore_at_dash() {
    for ok in ["abc", "a.b_c@d-1", &"x".repeat(64)] {
        validate_login(ok).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
    }
    for bad in ["ab", &"x".repeat(65), "Abc", "a b", "用户名", "a+b", ""] {
        assert_eq!(field(validate_login(bad).unwrap_err()), "login", "{bad}");
    }
}

#[test]
fn shop_roles_need_an_existing_shop_and_other_roles_none() {
    let a = app();
    assert_eq!(field(a.engine.create_user(user("owner1", Role::Owner, None)).unwrap_err()), "shop_id");
    assert_eq!(field(a.engine.create_user(user("buyer1", Role::Buyer, Some(ShopId(1)))).unwrap_err()), "shop_id");
    assert_eq!(field(a.engine.create_user(user("agent1", Role::Agent, Some(ShopId(1)))).unwrap_err()), "shop_id");
    assert!(matches!(
        a.engine.create_user(user("staff9", Role::Staff, Some(ShopId(99)))).unwrap_err(),
        EngineError::NotFound { what: "shop", .. }
    ));
    let blank = NewUser { display_name: "  ".into(), ..user("blank1", Role::Buyer, None) };
    assert_eq!(field(a.engine.create_user(blank).unwrap_err()), "display_name");
    let staff = a.engine.create_user(user("staff1", Role::Staff, Some(ShopId(1)))).unwrap();
    assert_eq!((staff.role, staff.shop_id, staff.created_at), (Role::Staff, Some(ShopId(1)), T0));
    assert_eq!(staff.actor(), Some(Actor::Merchant { shop: ShopId(1), staff: StaffId(staff.id) }));
    // logins are unique
    let taken = a.engine.create_user(user("staff1", Role::Buyer, None)).unwrap_err();
    assert!(matches!(taken, EngineError::Taken { field: "login", .. }), "{taken:?}");
    assert_eq!(a.engine.user_by_login("staff1").unwrap().unwrap().id, staff.id);
    assert_eq!(a.engine.user_by_login("nobody").unwrap(), None);
    // a login no account can have (a NUL, control characters) is unknown, not a database error
    for odd in ["staff1\u{0}", "\u{0}", "st\u{96}aff1"] {
        assert_eq!(a.engine.user_by_login(odd).unwrap(), None, "{odd:?}");
        assert_eq!(a.engine.login_locked(odd).unwrap(), None, "{odd:?}");
        let login = a.engine.password_login(odd, |_| true, "odd-session".into(), Dur::hours(1)).unwrap();
        assert!(matches!(login, LoginOutcome::Refused), "{odd:?}: {login:?}");
        assert!(a.engine.evidence_object(odd).unwrap().is_none(), "{odd:?}");
    }
    assert_eq!(a.engine.users().unwrap().len(), 1);
    // nothing refused was written
    assert!(a.engine.user_by_login("owner1").unwrap().is_none());
}

#[test]
fn sessions_last_their_ttl_on_the_service_clock_and_end_at_logout() {
    let a = app();
    let u = a.engine.create_user(user("buyer1", Role::Buyer, None)).unwrap();
    let expires = a.engine.open_session(u.id, "s-hash".into(), Dur::hours(2)).unwrap();
    assert_eq!(expires, T0 + Dur::hours(2));
    assert_eq!(
        a.engine.authenticate(Some("s-hash"), None).unwrap().map(|(u, c)| (u.id, c)),
        Some((u.id, Credential::Session))
    );
    assert_eq!(a.engine.authenticate(Some("other"), None).unwrap(), None);
    assert_eq!(a.engine.authenticate(None, None).unwrap(), None);
    a.clock.advance(Dur::hours(2) - Dur(1));
    assert!(a.engine.authenticate(Some("s-hash"), None).unwrap().is_some());
    a.clock.advance(Dur(1));
    assert_eq!(a.engine.authenticate(Some("s-hash"), None).unwrap(), None, "expired at its ttl");
    let _ = a.engine.open_session(u.id, "s2".into(), Dur::hours(1)).unwrap();
    a.engine.close_session("s2".into()).unwrap();
    assert_eq!(a.engine.authenticate(Some("s2"), None).unwrap(), None);
}

#[test]
fn tokens_authenticate_until_revoked_by_their_owner_only() {
    let a = app();
    let u = a.engine.create_user(user("staff1", Role::Staff, Some(ShopId(1)))).unwrap();
    let other = a.engine.create_user(user("staff2", Role::Staff, Some(ShopId(1)))).unwrap();
    assert_eq!(field(a.engine.issue_token(u.id, "t-hash".into(), " ", TokenScope::Full).unwrap_err()), "name");
    // staff cannot issue an integration token; the owner can, and it reports the feeds
    let refused = a.engine.issue_token(u.id, "t-int".into(), "erp", TokenScope::Integration).unwrap_err();
    assert!(matches!(refused, EngineError::Forbidden(_)), "{refused:?}");
    let owner = a.engine.create_user(user("owner1", Role::Owner, Some(ShopId(1)))).unwrap();
    let int = a.engine.issue_token(owner.id, "t-int".into(), "erp", TokenScope::Integration).unwrap();
    assert_eq!(int.scope, TokenScope::Integration);
    let (who, cred) = a.engine.authenticate(None, Some("t-int")).unwrap().unwrap();
    assert!(reports_feeds(who.role, cred));
    assert!(!reports_feeds(Role::Owner, Credential::Session), "a person's session does not report payments");
    assert!(!reports_feeds(Role::Staff, Credential::Token(TokenScope::Full)));
    assert!(reports_feeds(Role::Agent, Credential::Session));
    assert!(!reports_feeds(Role::Buyer, Credential::Token(TokenScope::Integration)));
    let t = a.engine.issue_token(u.id, "t-hash".into(), "erp", TokenScope::Full).unwrap();
    assert_eq!((t.user_id, t.name.as_str(), t.created_at, t.revoked_at), (u.id, "erp", T0, None));
    // a token wins over a session cookie sent alongside
    a.engine.open_session(other.id, "s-other".into(), Dur::hours(1)).unwrap();
    assert_eq!(a.engine.authenticate(Some("s-other"), Some("t-hash")).unwrap().map(|(u, _)| u.id), Some(u.id));
    assert_eq!(a.engine.authenticate(None, Some("wrong")).unwrap(), None);
    // another user cannot revoke it
    assert!(matches!(a.engine.revoke_token(other.id, t.id).unwrap_err(), EngineError::NotFound { what: "token", .. }));
    assert!(a.engine.authenticate(None, Some("t-hash")).unwrap().is_some());
    a.clock.advance(Dur::hours(1));
    a.engine.revoke_token(u.id, t.id).unwrap();
    assert_eq!(a.engine.authenticate(None, Some("t-hash")).unwrap(), None);
    assert_eq!(a.engine.tokens(u.id).unwrap()[0].revoked_at, Some(T0 + Dur::hours(1)));
    // revoking twice is not found
    assert!(a.engine.revoke_token(u.id, t.id).is_err());
    assert!(a.engine.tokens(other.id).unwrap().is_empty());
}

#[test]
fn r4_templates_and_addresses_belong_to_their_shop() {
    let a = app();
    assert_eq!(field(a.engine.add_template(ShopId(1), "", "body").unwrap_err()), "title");
    assert_eq!(field(a.engine.add_template(ShopId(1), "t", &"x".repeat(2001)).unwrap_err()), "body");
    assert!(matches!(
        a.engine.add_template(ShopId(99), "t", "b").unwrap_err(),
        EngineError::NotFound { what: "shop", .. }
    ));
    let t = a.engine.add_template(ShopId(1), " Thanks ", "We are on it.").unwrap();
    assert_eq!((t.shop_id, t.title.as_str()), (ShopId(1), "Thanks"));
    assert_eq!(a.engine.templates(ShopId(1)).unwrap(), vec![t.clone()]);
    assert!(a.engine.templates(ShopId(2)).unwrap().is_empty());
    // another shop cannot delete it
    assert!(matches!(a.engine.delete_template(ShopId(2), t.id).unwrap_err(), EngineError::NotFound { .. }));
    a.engine.delete_template(ShopId(1), t.id).unwrap();
    assert!(a.engine.templates(ShopId(1)).unwrap().is_empty());
    let book = a.engine.addresses(ShopId(1)).unwrap();
    assert_eq!(book.len(), 1);
    assert!(book[0].1, "the first address is the default");
    assert!(a.engine.addresses(ShopId(2)).unwrap().is_empty());
    assert_eq!(a.engine.shop(ShopId(1)).unwrap().default_address, Some(book[0].0.clone()));
    assert!(matches!(a.engine.shop(ShopId(99)).unwrap_err(), EngineError::NotFound { what: "shop", .. }));
    assert_eq!(a.engine.shops().unwrap().len(), 2);
}

#[test]
fn evidence_records_and_idempotency_answers_are_kept() {
    let a = app();
    let obj = EvidenceObject {
        key: "ev-1.jpg".into(),
        uploader: 7,
        shop_id: None,
        buyer_id: Some(BuyerId(7)),
        kind: EvidenceKind::Image,
        content_type: "image/jpeg".into(),
        size: 1234,
        sha256: "a".repeat(64),
        created_at: T0,
    };
    a.engine.record_evidence(obj.clone()).unwrap();
    assert_eq!(a.engine.evidence_object("ev-1.jpg").unwrap(), Some(obj));
    assert_eq!(a.engine.evidence_object("ev-2.jpg").unwrap(), None);
    assert_eq!(a.engine.recall("k1").unwrap(), None);
    assert!(a.engine.remember("k1".into(), "h1".into(), "{\"ok\":1}".into()).unwrap());
    assert!(!a.engine.remember("k1".into(), "h2".into(), "{}".into()).unwrap(), "the first answer stays");
    assert_eq!(a.engine.recall("k1").unwrap(), Some(("h1".to_string(), "{\"ok\":1}".to_string())));
}

#[test]
fn w6_orders_and_cases_are_seen_by_their_buyer_their_shop_and_the_platform_only() {
    let (a, o, c) = refund_only_case("DY1");
    for who in [BUYER, MERCHANT, AGENT, Actor::System] {
        assert_eq!(a.engine.order_view(who, o.id).unwrap().id, o.id);
        assert_eq!(a.engine.order_by_no(who, ShopId(1), "DY1").unwrap().id, o.id);
        let (case, order, log) = a.engine.case_view(who, c.id).unwrap();
        assert_eq!((case.id, order.id), (c.id, o.id));
        assert!(!log.is_empty());
    }
    for who in [OTHER_SHOP, Actor::Buyer { buyer: BuyerId(8) }] {
        assert!(matches!(a.engine.order_view(who, o.id).unwrap_err(), EngineError::NotFound { what: "order", .. }));
        assert!(a.engine.order_by_no(who, ShopId(1), "DY1").is_err());
        assert!(matches!(a.engine.case_view(who, c.id).unwrap_err(), EngineError::NotFound { what: "case", .. }));
    }
    assert!(a.engine.order_by_no(MERCHANT, ShopId(1), "DY2").is_err());
    assert!(a.engine.case_view(MERCHANT, CaseId(999)).is_err());
    let counts = a.engine.queue_counts(ShopId(1)).unwrap();
    assert!(counts.contains(&(Queue::RefundOnly, 1)), "{counts:?}");
    assert!(a.engine.queue_counts(ShopId(2)).unwrap().iter().all(|(_, n)| *n == 0));
}

#[test]
fn roles_have_stable_names_and_act_as_their_party() {
    let names = ["buyer", "owner", "staff", "agent", "admin"];
    assert_eq!(Role::ALL.map(|r| r.as_str()), names);
    for r in Role::ALL {
        assert_eq!(Role::parse(r.as_str()), Some(r));
    }
    assert_eq!(Role::parse("root"), None);
    let rec = |role, shop_id| UserRecord {
        id: 5,
        login: "x".into(),
        role,
        shop_id,
        display_name: "x".into(),
        password_hash: String::new(),
        created_at: T0,
    };
    assert_eq!(rec(Role::Buyer, None).actor(), Some(Actor::Buyer { buyer: BuyerId(5) }));
    assert_eq!(rec(Role::Owner, None).actor(), None);
    assert_eq!(rec(Role::Admin, None).actor(), Some(Actor::Platform { agent: AgentId(5) }));
    assert_eq!(rec(Role::Agent, None).actor(), Some(Actor::Platform { agent: AgentId(5) }));
    // Debug names the account but never shows the password hash
    let hashed = UserRecord { password_hash: "$argon2id$v=19$secret".into(), ..rec(Role::Staff, Some(ShopId(3))) };
    let shown = format!("{hashed:?}");
    assert!(shown.starts_with("UserRecord {") && shown.contains("login: \"x\"") && shown.contains("id: 5"), "{shown}");
    assert!(!shown.contains("argon2") && !shown.contains("secret") && !shown.contains("password"), "{shown}");
}

#[test]
fn a_shop_changed_outside_the_engine_is_read_again_once_forgotten() {
    let (a, _, c) = refund_only_case("FS1");
    let due = |a: &App| a.engine.governing_deadline(&c).unwrap().unwrap().due;
    assert_eq!(due(&a), T0 + Dur::hours(48));
    a.engine.transact(|tx| Ok(tx.update_shop(ShopId(1), "taote", &PolicyOverrides::default())?)).unwrap();
    assert_eq!(due(&a), T0 + Dur::hours(48), "still the remembered policy");
    a.engine.forget_shop(ShopId(1));
    assert_eq!(due(&a), T0 + Dur::hours(36));
    assert_eq!(a.engine.policy_of(ShopId(1)).unwrap().review, Dur::hours(36));
}

#[test]
fn the_manual_clock_reading_is_kept() {
    let a = app();
    assert_eq!(a.engine.saved_manual_clock().unwrap(), None, "a fresh database keeps none");
    a.engine.save_manual_clock(T0 + Dur::days(3)).unwrap();
    assert_eq!(a.engine.saved_manual_clock().unwrap(), Some(T0 + Dur::days(3)));
    a.engine.save_manual_clock(T0 + Dur::days(4)).unwrap();
    assert_eq!(a.engine.saved_manual_clock().unwrap(), Some(T0 + Dur::days(4)), "the last reading wins");
}

/// E4: a command names evidence by key; the engine gives the caller's own upload (or, for
/// merchant staff, their shop's) with its kind and checksum, and nothing else.
#[test]
fn e4_evidence_is_resolved_from_the_callers_own_uploads() {
    use aftersale_core::values::{EvidenceKind, EvidenceRef};
    let a = app();
    let upload = |key: &str, uploader: i64, shop: Option<ShopId>, buyer: Option<BuyerId>| {
        a.engine
            .record_evidence(EvidenceObject {
                key: key.into(),
                uploader,
                shop_id: shop,
                buyer_id: buyer,
                kind: EvidenceKind::Pdf,
                content_type: "application/pdf".into(),
                size: 10,
                sha256: "ab".repeat(32),
                created_at: T0,
            })
            .unwrap();
    };
    upload("ev-buyer", 7, None, Some(BuyerId(7)));
    upload("ev-shop", 11, Some(ShopId(1)), None);
    let r = |key: &str| EvidenceRef { key: key.into(), caption: "c".into(), kind: None, sha256: None };
    let got = a.engine.resolve_evidence(BUYER, 7, vec![r("ev-buyer")]).unwrap();
    assert_eq!(
        (got[0].kind, got[0].sha256.as_str(), got[0].caption.as_str()),
        (EvidenceKind::Pdf, "ab".repeat(32).as_str(), "c")
    );
    // another staff member of the same shop may name the shop's upload; another shop may not
    let colleague = Actor::Merchant { shop: ShopId(1), staff: StaffId(12) };
    assert_eq!(a.engine.resolve_evidence(colleague, 12, vec![r("ev-shop")]).unwrap().len(), 1);
    let code = |e: EngineError| match e {
        EngineError::Evidence { field, code, .. } => (field, code),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        code(a.engine.resolve_evidence(OTHER_SHOP, 21, vec![r("ev-shop")]).unwrap_err()),
        ("evidence[0]".into(), "unknown_evidence")
    );
    assert_eq!(
        code(a.engine.resolve_evidence(BUYER, 7, vec![r("ev-buyer"), r("ev-shop")]).unwrap_err()).0,
        "evidence[1]"
    );
    assert_eq!(code(a.engine.resolve_evidence(BUYER, 7, vec![r("nope")]).unwrap_err()).1, "unknown_evidence");
    // a kind or checksum given is checked; the right ones pass
    let with = |kind, sha: &str| EvidenceRef {
        key: "ev-buyer".into(),
        caption: String::new(),
        kind: Some(kind),
        sha256: Some(sha.into()),
    };
    assert!(a.engine.resolve_evidence(BUYER, 7, vec![with(EvidenceKind::Pdf, &"AB".repeat(32))]).is_ok());
    assert_eq!(
        code(a.engine.resolve_evidence(BUYER, 7, vec![with(EvidenceKind::Image, &"ab".repeat(32))]).unwrap_err()).1,
        "evidence_mismatch"
    );
    assert_eq!(
        code(a.engine.resolve_evidence(BUYER, 7, vec![with(EvidenceKind::Pdf, &"cd".repeat(32))]).unwrap_err()).1,
        "evidence_mismatch"
    );
}

#[test]
fn wrong_passwords_lock_a_login_out_for_the_window_and_a_right_one_starts_the_count_again() {
    let a = app();
    let staff = a.engine.create_user(user("staff1", Role::Staff, Some(ShopId(1)))).unwrap();
    let attempt = |login: &str, right: bool| {
        a.engine.password_login(login, |stored| right && stored.is_some(), format!("s-{login}-{right}"), Dur::hours(1))
    };
    let locked = |login: &str| a.engine.login_locked(login).unwrap();
    let failures = |login: &str| a.engine.read(|tx| tx.login_failures(login)).unwrap().map(|f| f.0);
    // two wrong passwords, then the right one: the count starts again and the session is open
    for _ in 0..2 {
        assert!(matches!(attempt("staff1", false).unwrap(), LoginOutcome::Refused));
    }
    assert_eq!(failures("staff1"), Some(2));
    let LoginOutcome::Opened { user, expires } = attempt("staff1", true).unwrap() else { panic!("a right password") };
    assert_eq!((user.id, expires), (staff.id, a.clock.now() + Dur::hours(1)));
    assert_eq!(failures("staff1"), None, "the count started again");
    let session = a.engine.read(|tx| tx.session_user("s-staff1-true", a.clock.now())).unwrap();
    assert_eq!(session.map(|u| u.id), Some(staff.id), "opened in the same write");
    // up to the limit
    for _ in 1..aftersale_engine::accounts::MAX_LOGIN_FAILURES {
        assert!(matches!(attempt("staff1", false).unwrap(), LoginOutcome::Refused));
    }
    assert_eq!(locked("staff1"), None, "one failure short of the limit");
    assert!(matches!(attempt("staff1", false).unwrap(), LoginOutcome::Refused));
    let wait = locked("staff1").expect("locked out at the limit");
    let window = (aftersale_engine::accounts::LOGIN_WINDOW_MS / 1000) as u64;
    assert!(wait > window - 60 && wait <= window, "{wait} s of a {window} s window");
    // locked out, even a right password is not tried, and opens nothing
    let LoginOutcome::Locked { retry_after_secs } = attempt("staff1", true).unwrap() else { panic!("locked") };
    assert!(retry_after_secs <= window);
    assert_eq!(failures("staff1"), Some(aftersale_engine::accounts::MAX_LOGIN_FAILURES));
    // another login is not locked by these failures; an unknown one is refused and counted
    assert_eq!(locked("staff2"), None);
    assert!(matches!(attempt("staff2", true).unwrap(), LoginOutcome::Refused), "no such account");
    assert_eq!(failures("staff2"), Some(1));
}
