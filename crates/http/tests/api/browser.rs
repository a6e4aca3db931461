//! A real headless Chromium driven over WebDriver (chromedriver, W3C protocol, plain JSON over
//! HTTP), for the browser tests: navigate, find, type, click, press keys, read, screenshot, and
//! run axe-core in the page. Chromium and chromedriver are Debian's (`chromium`,
//! `chromium-driver`); axe-core is the npm registry's, installed by `scripts/test.sh`.

use base64::Engine as _;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
    base: String,
    pub site: String,
}

fn find_binary(names: &[&str]) -> Option<PathBuf> {
    for n in names {
        for dir in ["/usr/bin", "/usr/lib/chromium", "/usr/local/bin"] {
            let p = PathBuf::from(dir).join(n);
            if p.exists() {
                return Some(p);
            }
        }
    }
    None
}

/// Where screenshots go: `target/browser/` of the workspace.
pub fn artefacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser");
    std::fs::create_dir_all(&dir).unwrap();
    // Chromium takes only canonical paths for file inputs.
    dir.canonicalize().unwrap()
}

impl Browser {
    /// A fresh browser (own profile) for the site at `site`.
    pub async fn start(site: &str) -> Browser {
        let driver_bin = find_binary(&["chromedriver"]).expect(
            "chromedriver is not installed: run scripts/test.sh (Debian packages chromium and chromium-driver)",
        );
        let chromium = find_binary(&["chromium"]).expect("chromium is not installed: run scripts/test.sh");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=zh-CN"]
            }
        } } });
        let r: Value = serde_json::from_slice(
            &http
                .post(format!("{base}/session"))
                .header("content-type", "application/json")
                .body(caps.to_string())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap(),
        )
        .unwrap();
        let session = r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {r}")).to_string();
        Browser { driver, http, session, base, site: site.trim_end_matches('/').to_string() }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let v: Value = serde_json::from_slice(&req.send().await.unwrap().bytes().await.unwrap()).unwrap();
        if v["value"].get("error").is_some() {
            panic!("webdriver {path}: {}", v["value"]);
        }
        v["value"].clone()
    }

    pub async fn goto(&self, path: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": format!("{}{path}", self.site) }))).await;
    }

    pub async fn path(&self) -> String {
        let url = self.call(reqwest::Method::GET, "/url", None).await;
        url.as_str().unwrap().trim_start_matches(&self.site).to_string()
    }

    pub async fn find(&self, css: &str) -> String {
        let v =
            self.call(reqwest::Method::POST, "/element", Some(json!({ "using": "css selector", "value": css }))).await;
        v[ELEMENT].as_str().unwrap().to_string()
    }

    pub async fn count(&self, css: &str) -> usize {
        let v =
            self.call(reqwest::Method::POST, "/elements", Some(json!({ "using": "css selector", "value": css }))).await;
        v.as_array().map(Vec::len).unwrap_or(0)
    }

    pub async fn click(&self, css: &str) {
        // Marks this document, so that `settle` can tell the next one from it.
        self.script("window.__aftersale_before_click = true;").await;
        let e = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{e}/click"), Some(json!({}))).await;
    }

    pub async fn type_in(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{e}/clear"), Some(json!({}))).await;
        self.call(reqwest::Method::POST, &format!("/element/{e}/value"), Some(json!({ "text": text }))).await;
    }

    /// Picks the option of a `<select>` with this value.
    pub async fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value=\"{value}\"]")).await;
    }

    /// A file for a file input (a path on this machine).
    pub async fn attach(&self, css: &str, path: &std::path::Path) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": path.to_str().unwrap() })),
        )
        .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{e}/text"), None).await.as_str().unwrap().to_string()
    }

    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    pub async fn script(&self, script: &str) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": script, "args": [] }))).await
    }

    /// Opens an action's form (its `<details>`), answers its confirm dialog yes, and submits it.
    pub async fn open_action(&self, action: &str) {
        let open = self.script(&format!("return document.querySelector('#act-{action}').open === true")).await;
        if open != json!(true) {
            self.click(&format!("#act-{action} summary")).await;
        }
    }

    pub async fn submit_action(&self, action: &str) {
        self.script("window.confirm = function () { return true; };").await;
        self.click(&format!("#act-{action} button[type=submit]")).await;
        self.settle().await;
    }

    /// Waits for the navigation a click or a key started: until a new document (without the
    /// mark `click` or `keys` left on the old one) has loaded.
    pub async fn settle(&self) {
        for _ in 0..300 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let loaded = self
                .script("return window.__aftersale_before_click !== true && document.readyState === 'complete'")
                .await;
            if loaded == json!(true) {
                return;
            }
        }
        panic!("no new page after 6 s at {}", self.path().await);
    }

    /// Presses keys on whatever has the focus (`\u{E004}` is Tab, `\u{E007}` Enter).
    pub async fn keys(&self, keys: &str) {
        self.script("window.__aftersale_before_click = true;").await;
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| {
                [
                    json!({ "type": "keyDown", "value": c.to_string() }),
                    json!({ "type": "keyUp", "value": c.to_string() }),
                ]
            })
            .collect();
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({ "actions": [{ "type": "key", "id": "kb", "actions": actions }] })),
        )
        .await;
    }

    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap()).unwrap();
        let path = artefacts().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.call(reqwest::Method::POST, "/window/rect", Some(json!({ "width": width, "height": height }))).await;
    }

    /// axe-core's serious and critical violations on the current page, as "rule: target" lines.
    pub async fn accessibility_problems(&self) -> Vec<String> {
        let axe = axe_source();
        self.script(&axe).await;
        let script = "var done = arguments[arguments.length - 1];\
            axe.run(document, { resultTypes: ['violations'] }).then(function (r) { done(r.violations); }, function (e) { done([{id: 'axe-error', impact: 'critical', nodes: [{target: [String(e)]}]}]); });";
        let v = self.call(reqwest::Method::POST, "/execute/async", Some(json!({ "script": script, "args": [] }))).await;
        v.as_array()
            .unwrap()
            .iter()
            .filter(|x| matches!(x["impact"].as_str(), Some("serious") | Some("critical")))
            .map(|x| {
                format!(
                    "{} ({}): {}",
                    x["id"],
                    x["impact"],
                    x["nodes"]
                        .as_array()
                        .map(|n| n.iter().map(|n| n["target"].to_string()).collect::<Vec<_>>().join(", "))
                        .unwrap_or_default()
                )
            })
            .collect()
    }

    pub async fn quit(mut self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self.http.delete(url).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// axe-core's script, from the npm registry (installed by `scripts/test.sh` into
/// `target/npm`, or named by `AXE_CORE_JS`).
fn axe_source() -> String {
    let path = std::env::var("AXE_CORE_JS").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/npm/node_modules/axe-core/axe.min.js")
    });
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("axe-core not found at {}: {e}; run scripts/test.sh", path.display()))
}
