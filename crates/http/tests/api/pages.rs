//! The web workbench's pages over plain HTTP: status and key content, CSRF refusal on every
//! form, another shop's case as 404, R6 never on a merchant page, W6 masking, forms that act
//! once, stale pages, refusals that keep what was typed, and the expired session.

use crate::harness::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A browser without JavaScript: keeps cookies, follows no redirects, sends forms.
pub struct Page {
    base: String,
    http: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
}

pub struct Html {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Html {
    /// The value of the first hidden input `name` (the CSRF token, the form key).
    pub fn hidden(&self, name: &str) -> String {
        let needle = format!("name=\"{name}\" value=\"");
        let i = self.body.find(&needle).unwrap_or_else(|| panic!("no {name} in {}", self.body));
        let rest = &self.body[i + needle.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

impl Page {
    pub fn new(base: &str) -> Page {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Page { base: base.to_string(), http, cookies: Mutex::new(BTreeMap::new()) }
    }

    fn cookie_header(&self) -> String {
        self.cookies.lock().unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn finish(&self, res: reqwest::Response) -> Html {
        for v in res.headers().get_all("set-cookie") {
            let c = v.to_str().unwrap();
            let (kv, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, val) = kv.split_once('=').unwrap();
            if val.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.lock().unwrap().remove(k);
            } else {
                self.cookies.lock().unwrap().insert(k.to_string(), val.to_string());
            }
        }
        let status = res.status().as_u16();
        let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_string());
        Html { status, location, body: res.text().await.unwrap() }
    }

    pub async fn get(&self, path: &str) -> Html {
        let res =
            self.http.get(format!("{}{path}", self.base)).header("cookie", self.cookie_header()).send().await.unwrap();
        self.finish(res).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Html {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(res).await
    }

    pub async fn post_multipart(&self, path: &str, fields: &[(&str, &str)], file: (&str, &str, &'static [u8])) -> Html {
        let boundary = "----aftersale-test-boundary";
        let mut body: Vec<u8> = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n", file.0, file.1)
                .as_bytes(),
        );
        body.extend_from_slice(file.2);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(res).await
    }

    /// Logs in through the login page.
    pub async fn login(base: &str, login: &str, password: &str) -> Page {
        let p = Page::new(base);
        let form = p.get("/login").await;
        assert_eq!(form.status, 200);
        let csrf = form.hidden("csrf");
        let r = p.post("/login", &[("csrf", &csrf), ("next", "/"), ("login", login), ("password", password)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        p
    }

    /// Fills and sends the form of `action` on a case page as it was rendered.
    pub async fn act(&self, case: i64, action: &str, extra: &[(&str, &str)]) -> Html {
        let page = self.get(&format!("/cases/{case}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let (csrf, idem, version) = form_keys(&page.body, action);
        let mut fields = vec![("csrf", csrf.as_str()), ("idem", idem.as_str()), ("version", version.as_str())];
        fields.extend_from_slice(extra);
        self.post(&format!("/cases/{case}/act/{action}"), &fields).await
    }
}

/// The CSRF token, form key and version of one action's form on a rendered case page.
pub fn form_keys(body: &str, action: &str) -> (String, String, String) {
    let marker = "action=\"/cases/";
    let at = body
        .match_indices(marker)
        .map(|(i, _)| i)
        .find(|i| body[*i..].split('"').nth(1).is_some_and(|a| a.ends_with(&format!("/act/{action}"))))
        .unwrap_or_else(|| panic!("no form for {action}"));
    let form = &body[at..];
    let form = &form[..form.find("</form>").unwrap()];
    let h = Html { status: 200, location: None, body: form.to_string() };
    let version = if form.contains("name=\"version\"") { h.hidden("version") } else { String::new() };
    (h.hidden("csrf"), h.hidden("idem"), version)
}

fn base(t: &TestApp) -> String {
    t.anon.base().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_page_logs_in_refuses_a_wrong_password_and_a_forged_form() {
    let t = TestApp::new().await;
    let p = Page::new(&base(&t));
    // Not logged in: the start page and any page lead to the login, which comes back.
    assert_eq!(p.get("/").await.location.as_deref(), Some("/login"));
    assert_eq!(
        p.get("/w/queue?queue=closed").await.location.as_deref(),
        Some("/login?next=%2Fw%2Fqueue%3Fqueue%3Dclosed")
    );
    let form = p.get("/login?next=%2Fw%2Fqueue").await;
    let csrf = form.hidden("csrf");
    let wrong = p
        .post("/login", &[("csrf", &csrf), ("next", "/w/queue"), ("login", "staff1"), ("password", "nope-nope")])
        .await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.body.contains("Wrong login or password") || wrong.body.contains("登录名或密码错误"),
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("value=\"staff1\""), "the login typed is kept");
    // A login form posted from elsewhere (no token of this browser) logs nobody in.
    let forged = Page::new(&base(&t))
        .post("/login", &[("csrf", "x"), ("next", "/"), ("login", "staff1"), ("password", "password-123")])
        .await;
    assert_eq!(forged.status, 401);
    // Another host is never a place to go after login.
    let ok = p
        .post(
            "/login",
            &[("csrf", &csrf), ("next", "//evil.example/"), ("login", "staff1"), ("password", "password-123")],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location.as_deref(), Some("/"));
    assert_eq!(p.get("/").await.location.as_deref(), Some("/w/queue"));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w1_w6_the_queue_page_has_counts_masked_phones_and_the_shops_cases_only() {
    let t = TestApp::new().await;
    let o = t.order("online", false).await;
    let c = t.apply(&o, "refund_unshipped", 1_000).await;
    let o2 = t.order_in(&t.owner2, 2, t.buyer_id, "online", true).await;
    let other =
        t.try_apply(&t.buyer, &o2, json!({ "kind": "refund_only", "reason": "damaged", "amount": cny(500) })).await;
    assert_eq!(other.status, 201);
    let p = Page::login(&base(&t), "staff1", "password-123").await;
    let q = p.get("/w/queue").await;
    assert_eq!(q.status, 200);
    assert!(q.body.contains(o["order_no"].as_str().unwrap()));
    assert!(!q.body.contains(o2["order_no"].as_str().unwrap()), "another shop's case is listed");
    assert!(q.body.contains("138****1234"), "W6: the phone masked");
    assert!(!q.body.contains("13800131234"), "W6: the full phone on a merchant page");
    assert!(q.body.contains("data-queue=\"refund_unshipped\""));
    assert!(q.body.contains("class=\"countdown"), "a live countdown");
    // Douyin shop: Chinese by default, tabs with counts.
    assert!(q.body.contains("lang=\"zh-CN\""));
    assert!(q.body.contains("待审核·仅退款(未发货) <span class=\"count\">1</span>"), "{}", q.body);
    // Search by the case id finds it; a malformed filter says so on the page.
    let id = c["case"]["id"].as_i64().unwrap();
    let found = p.get(&format!("/w/queue?case_id={id}")).await;
    assert!(found.body.contains(&format!("href=\"/cases/{id}\"")));
    let bad = p.get("/w/queue?customer_phone=12").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("role=\"alert\""));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r6_w6_a_merchant_case_page_never_shows_a_cod_refund_account_and_another_shops_case_is_404() {
    let t = TestApp::new().await;
    let o = t.order("cod", true).await;
    let r = t
        .try_apply(
            &t.buyer,
            &o,
            json!({ "kind": "refund_only", "reason": "damaged", "amount": cny(5_000),
            "refund_account": { "holder": "李四", "bank": "工商银行", "number": "6222020200112233445" } }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", body(&r));
    let id = r.json()["case"]["id"].as_i64().unwrap();
    let staff = Page::login(&base(&t), "staff1", "password-123").await;
    let page = staff.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("6222020200"), "R6: the account on a merchant page");
    assert!(!page.body.contains("13800131234"), "W6");
    let buyer = Page::login(&base(&t), "buyer1", "password-123").await;
    let mine = buyer.get(&format!("/cases/{id}")).await;
    assert!(mine.body.contains("6222020200112233445"), "the buyer sees their own account");
    let other = Page::login(&base(&t), "owner2", "password-123").await;
    assert_eq!(other.get(&format!("/cases/{id}")).await.status, 404);
    let buyer2 = Page::login(&base(&t), "buyer2", "password-123").await;
    assert_eq!(buyer2.get(&format!("/cases/{id}")).await.status, 404);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let t = TestApp::new().await;
    let o = t.order("online", false).await;
    let id = t.apply(&o, "refund_unshipped", 1_000).await["case"]["id"].as_i64().unwrap();
    let owner = Page::login(&base(&t), "owner1", "password-123").await;
    let admin = Page::login(&base(&t), "admin", "admin-password").await;
    let before = t.fingerprint();
    let posts = [
        (&owner, format!("/cases/{id}/act/refund")),
        (&owner, format!("/cases/{id}/act/set_flag")),
        (&owner, format!("/cases/{id}/act/set_order_remark")),
        (&owner, "/w/bulk".to_string()),
        (&owner, "/w/settings/addresses".to_string()),
        (&owner, "/w/settings/templates".to_string()),
        (&owner, "/w/settings/templates/delete".to_string()),
        (&owner, "/w/messages/read".to_string()),
        (&owner, "/lang".to_string()),
        (&owner, "/logout".to_string()),
        (&admin, "/p/clock".to_string()),
        (&owner, format!("/b/orders/{}/apply", o["id"])),
    ];
    for (who, path) in &posts {
        for csrf in ["", "0123456789abcdef0123456789abcdef"] {
            let r = who
                .post(
                    path,
                    &[("csrf", csrf), ("flag", "red"), ("text", "x"), ("by", "1d"), ("lang", "en"), ("name", "n")],
                )
                .await;
            assert_eq!(r.status, 403, "{path} with csrf {csrf:?}: {}", r.body);
        }
    }
    assert_eq!(t.fingerprint(), before, "a refused form changed something");
    // The same form with the session's token acts.
    let r = owner.act(id, "refund", &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_sent_twice_acts_once_and_a_stale_page_shows_the_new_state() {
    let t = TestApp::new().await;
    let o = t.order("online", false).await;
    let id = t.apply(&o, "refund_unshipped", 1_000).await["case"]["id"].as_i64().unwrap();
    let p = Page::login(&base(&t), "staff1", "password-123").await;
    let page = p.get(&format!("/cases/{id}")).await;
    let (csrf, idem, version) = form_keys(&page.body, "refund");
    let fields = [("csrf", csrf.as_str()), ("idem", idem.as_str()), ("version", version.as_str())];
    let first = p.post(&format!("/cases/{id}/act/refund"), &fields).await;
    assert_eq!(first.status, 303);
    assert_eq!(first.location, Some(format!("/cases/{id}?done=refund")));
    let events = |t: &TestApp| t.db.count(&format!("SELECT COUNT(*) FROM events WHERE case_id = {id}"));
    let after_first = events(&t);
    // Double click / back button: the same form again acts once.
    let second = p.post(&format!("/cases/{id}/act/refund"), &fields).await;
    assert_eq!(second.status, 303, "{}", second.body);
    assert_eq!(events(&t), after_first);
    // … and says it had been done already, not "Done" again (defect 7).
    assert_eq!(second.location, Some(format!("/cases/{id}?again=refund")));
    let shown = p.get(second.location.as_deref().unwrap()).await;
    assert!(shown.body.contains("Already done") || shown.body.contains("已处理过"), "{}", shown.body);
    // A stale form (another key, the old version) is refused and shows the case as it is now.
    let stale = p
        .post(
            &format!("/cases/{id}/act/refund"),
            &[("csrf", csrf.as_str()), ("idem", "otherkey1"), ("version", version.as_str())],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(stale.body.contains("data-testid=\"banner\""));
    assert!(stale.body.contains("status-refunding"), "the new state is shown");
    assert_eq!(events(&t), after_first);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_form_says_why_next_to_the_field_keeps_what_was_typed_and_changes_nothing() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let id = t.apply(&o, "refund_only", 1_000).await["case"]["id"].as_i64().unwrap();
    let p = Page::login(&base(&t), "staff1", "password-123").await;
    let before = t.fingerprint();
    // Above what the order can refund (B3).
    let addr = t.address_id.to_string();
    let r = p.act(id, "propose", &[("kind", "return_refund"), ("amount", "999.00"), ("address_id", &addr)]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"act-propose\" open"), "the refused form is open");
    assert!(r.body.contains("value=\"999.00\""), "the amount typed is kept");
    assert!(
        r.body.contains("f-propose-amount-err"),
        "the message is next to the amount: {}",
        r.body.split("act-propose").nth(1).unwrap_or("")
    );
    assert!(r.body.contains("金额超过了可退金额"), "said in words, not as a code: {}", r.body);
    assert!(!r.body.contains("amount_above_refundable"));
    // Not an amount at all.
    let r = p.act(id, "propose", &[("kind", "return_refund"), ("amount", "ten"), ("address_id", &addr)]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("value=\"ten\""));
    assert_eq!(t.fingerprint(), before);
    // The same proposal within what can be refunded is made, to the address picked.
    let r = p.act(id, "propose", &[("kind", "return_refund"), ("amount", "50.00"), ("address_id", &addr)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let case = t.case(&t.buyer, id).await;
    assert_eq!(case["case"]["proposal"]["amount"]["minor"], 5_000);
    assert_eq!(case["case"]["proposal"]["address"]["name"], "Returns");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_returns_to_login_and_then_to_the_page() {
    let t = TestApp::new().await;
    let o = t.order("online", false).await;
    let id = t.apply(&o, "refund_unshipped", 1_000).await["case"]["id"].as_i64().unwrap();
    let p = Page::login(&base(&t), "staff1", "password-123").await;
    assert_eq!(p.get(&format!("/cases/{id}")).await.status, 200);
    // Sessions last `session_hours` (default 12): past that the page leads to login and back.
    // The admin who moves the demo clock keeps their session; nobody else's outlives the move,
    // not even for the time an authentication stays cached.
    let admin = Page::login(&base(&t), "admin", "admin-password").await;
    let console = admin.get("/p/sms").await;
    let moved = admin.post("/p/clock", &[("csrf", &console.hidden("csrf")), ("by", "13h")]).await;
    assert_eq!(moved.location.as_deref(), Some("/p/sms"), "{}", moved.body);
    assert_eq!(admin.get("/p/sms").await.status, 200, "the admin who moved the clock is still logged in");
    let r = p.get(&format!("/cases/{id}")).await;
    assert_eq!(r.status, 303);
    let next = r.location.unwrap();
    assert_eq!(next, format!("/login?next=%2Fcases%2F{id}"));
    let form = p.get(&next).await;
    let csrf = form.hidden("csrf");
    assert!(form.body.contains(&format!("value=\"/cases/{id}\"")));
    let back = p
        .post(
            "/login",
            &[("csrf", &csrf), ("next", &format!("/cases/{id}")), ("login", "staff1"), ("password", "password-123")],
        )
        .await;
    assert_eq!(back.location, Some(format!("/cases/{id}")));
    assert_eq!(p.get(&format!("/cases/{id}")).await.status, 200);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_applies_with_a_file_through_the_form_and_follows_the_case() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let p = Page::login(&base(&t), "buyer1", "password-123").await;
    let orders = p.get("/b/orders").await;
    assert!(orders.body.contains(&format!("/b/orders/{}/apply", o["id"])));
    let form = p.get(&format!("/b/orders/{}/apply", o["id"])).await;
    assert!(
        form.body.contains("value=\"100.00\""),
        "the amount is prefilled with what the rules let the buyer ask for"
    );
    let (csrf, idem) = (form.hidden("csrf"), form.hidden("idem"));
    let fields = [
        ("csrf", csrf.as_str()),
        ("idem", idem.as_str()),
        ("kind", "refund_only"),
        ("reason", "damaged"),
        ("amount", "30"),
        ("description", "broken"),
        ("caption", "the box"),
    ];
    let r = p.post_multipart(&format!("/b/orders/{}/apply", o["id"]), &fields, ("box.png", "image/png", PNG)).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let case_path = r.location.unwrap();
    let page = p.get(&case_path).await;
    assert!(
        page.body.contains("If the shop does nothing by") || page.body.contains("如果商家在以下时间前未处理"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<img src=\"/api/v1/cases/"), "the image inline");
    let src = page.body.split("<img src=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let img = p.get(&src).await;
    assert_eq!(img.status, 200, "the gallery's image is served: {src}");
    assert!(page.body.contains("the box"));
    // The same application sent twice opens one case.
    let again = p.post_multipart(&format!("/b/orders/{}/apply", o["id"]), &fields, ("box.png", "image/png", PNG)).await;
    assert_eq!(again.status, 303);
    assert_eq!(
        again.location.as_deref().map(|l| l.split('?').next().unwrap().to_string()),
        Some(case_path.split('?').next().unwrap().to_string())
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_refund_and_return_answer_per_case_done_or_refused_and_why() {
    let t = TestApp::new().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let o = t.order("online", false).await;
        ids.push(t.apply(&o, "refund_unshipped", 1_000).await["case"]["id"].as_i64().unwrap());
    }
    let p = Page::login(&base(&t), "staff1", "password-123").await;
    let q = p.get("/w/queue?queue=refund_unshipped").await;
    let csrf = q.hidden("csrf");
    let idem = q.hidden("idem");
    // The third moved on meanwhile (refunded over the API): its row's version is stale.
    t.ok(&t.staff, ids[2], "refund", json!({})).await;
    let rows: Vec<String> = ids.iter().map(|id| format!("{id}:1")).collect();
    let mut fields = vec![("csrf", csrf.as_str()), ("idem", idem.as_str()), ("action", "refund")];
    for r in &rows {
        fields.push(("case", r.as_str()));
    }
    let r = p.post("/w/bulk", &fields).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("2 / 3"), "{}", r.body);
    assert_eq!(r.body.matches("class=\"ok\"").count(), 2);
    assert_eq!(r.body.matches("class=\"error\"").count(), 1);
    for id in &ids[..2] {
        assert_eq!(t.case(&t.staff, *id).await["status"], "refunding");
    }
    // Returns are agreed in bulk too (to the default address), on the return-review queue.
    let mut returns = Vec::new();
    for _ in 0..2 {
        let o = t.order("online", true).await;
        returns.push(t.apply(&o, "return_refund", 1_000).await["case"]["id"].as_i64().unwrap());
    }
    let q = p.get("/w/queue?queue=return_review").await;
    assert!(q.body.contains("value=\"agree_return\""), "the queue offers the bulk action");
    assert!(q.body.contains("href=\"/api/v1/cases/export.csv?queue=return_review\""), "and an export of what it shows");
    let (csrf, idem) = (q.hidden("csrf"), q.hidden("idem"));
    let rows: Vec<String> = returns.iter().map(|id| format!("{id}:1")).collect();
    let mut fields = vec![("csrf", csrf.as_str()), ("idem", idem.as_str()), ("action", "agree_return")];
    for r in &rows {
        fields.push(("case", r.as_str()));
    }
    let r = p.post("/w/bulk", &fields).await;
    assert!(r.body.contains("2 / 2"), "{}", r.body);
    for id in &returns {
        assert_eq!(t.case(&t.staff, *id).await["status"], "awaiting_buyer_return");
    }
    // An action that is not offered in bulk is refused as a whole.
    let r = p.post("/w/bulk", &[("csrf", csrf.as_str()), ("idem", "x"), ("action", "reject"), ("case", "1:1")]).await;
    assert_eq!(r.status, 400);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_is_switched_per_person_and_every_page_of_each_role_renders() {
    let t = TestApp::new().await;
    let o = t.order("online", true).await;
    let id = t.apply(&o, "refund_only", 1_000).await["case"]["id"].as_i64().unwrap();
    let p = Page::login(&base(&t), "owner1", "password-123").await;
    let zh = p.get("/w/queue").await;
    assert!(zh.body.contains("售后工作台"));
    let csrf = zh.hidden("csrf");
    let r = p.post("/lang", &[("csrf", &csrf), ("lang", "en"), ("next", "/w/queue")]).await;
    assert_eq!(r.location.as_deref(), Some("/w/queue"));
    let en = p.get("/w/queue").await;
    assert!(en.body.contains("lang=\"en\"") && en.body.contains(">Cases<"));
    for path in ["/w/dashboard", "/w/settings", "/w/messages", &format!("/cases/{id}")] {
        let r = p.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    assert!(p.get("/w/dashboard").await.body.contains("<svg"), "charts drawn on the server");
    let agent = Page::login(&base(&t), "agent1", "password-123").await;
    for path in ["/p/queue", "/p/search", "/p/sms", &format!("/cases/{id}")] {
        assert_eq!(agent.get(path).await.status, 200, "{path}");
    }
    assert!(!agent.get("/p/search").await.body.contains("13800131234"), "lists show masked phones");
    let buyer = Page::login(&base(&t), "buyer1", "password-123").await;
    assert_eq!(buyer.get("/b/orders").await.status, 200);
    assert_eq!(buyer.get("/w/queue").await.status, 403, "a buyer has no queue");
    assert_eq!(p.get("/p/sms").await.status, 403, "a shop has no platform console");
    t.stop().await;
}
