//! Email to buyers over SMTP (X1): an SMTP server started here that requires STARTTLS (its
//! certificate trusted through `email.ca_file`), takes the message, and refuses an unknown
//! mailbox for good. The buyer who gave an address gets the email in the language they chose;
//! a buyer without one gets none, and no error.

use crate::harness::*;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// One message the server took: its recipient and its data.
#[derive(Clone, Debug)]
struct Mail {
    rcpt: String,
    data: String,
}

type Inbox = Arc<Mutex<Vec<Mail>>>;

fn fixture(name: &str) -> String {
    format!("{}/tests/api/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Speaks SMTP on `stream` until QUIT or STARTTLS (answered true: the caller goes on over TLS).
async fn session<S: AsyncRead + AsyncWrite + Unpin>(stream: S, tls: bool, inbox: &Inbox) -> (bool, S) {
    let mut s = BufReader::new(stream);
    let mut rcpt = String::new();
    loop {
        let mut line = String::new();
        if s.read_line(&mut line).await.unwrap_or(0) == 0 {
            return (false, s.into_inner());
        }
        let verb = line.trim_end().to_ascii_uppercase();
        let answer: String = if verb.starts_with("EHLO") || verb.starts_with("HELO") {
            if tls {
                "250-localhost\r\n250 8BITMIME\r\n".into()
            } else {
                "250-localhost\r\n250-STARTTLS\r\n250 8BITMIME\r\n".into()
            }
        } else if verb == "STARTTLS" {
            s.get_mut().write_all(b"220 2.0.0 Ready to start TLS\r\n").await.unwrap();
            return (true, s.into_inner());
        } else if verb.starts_with("MAIL FROM") {
            if tls {
                "250 2.1.0 Ok\r\n".into()
            } else {
                "530 5.7.0 Must issue a STARTTLS command first\r\n".into()
            }
        } else if verb.starts_with("RCPT TO") {
            rcpt = line.trim_end()[8..].trim().trim_matches(['<', '>']).to_string();
            if rcpt.starts_with("nobody@") {
                "550 5.1.1 <nobody@example.com>: Recipient address rejected\r\n".into()
            } else {
                "250 2.1.5 Ok\r\n".into()
            }
        } else if verb == "DATA" {
            s.get_mut().write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await.unwrap();
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if s.read_line(&mut l).await.unwrap_or(0) == 0 || l == ".\r\n" {
                    break;
                }
                data.push_str(&l);
            }
            let n = {
                let mut inbox = inbox.lock().unwrap();
                inbox.push(Mail { rcpt: rcpt.clone(), data });
                inbox.len()
            };
            format!("250 2.0.0 Ok: queued as Q{n}\r\n")
        } else if verb == "QUIT" {
            let _ = s.get_mut().write_all(b"221 2.0.0 Bye\r\n").await;
            return (false, s.into_inner());
        } else {
            "250 2.0.0 Ok\r\n".into()
        };
        if s.get_mut().write_all(answer.as_bytes()).await.is_err() {
            return (false, s.into_inner());
        }
    }
}

/// The SMTP server: its port and what it took.
async fn smtp_server() -> (u16, Inbox) {
    use tokio_rustls::rustls;
    let certs: Vec<rustls::pki_types::CertificateDer<'static>> = {
        let pem = std::fs::read_to_string(fixture("smtp-cert.pem")).unwrap();
        vec![pem_der(&pem).into()]
    };
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
        pem_der(&std::fs::read_to_string(fixture("smtp-key.pem")).unwrap()).into(),
    );
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox: Inbox = Arc::default();
    let kept = inbox.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else { return };
            let (acceptor, inbox) = (acceptor.clone(), kept.clone());
            tokio::spawn(async move {
                tcp.write_all(b"220 localhost ESMTP test\r\n").await.unwrap();
                let (upgrade, tcp) = session(tcp, false, &inbox).await;
                if upgrade {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        session(tls, true, &inbox).await;
                    }
                }
            });
        }
    });
    (port, inbox)
}

fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).unwrap()
}

/// A header's value, unfolded, its RFC 2047 words (base64 or quoted-printable) decoded.
fn header(data: &str, name: &str) -> String {
    use base64::Engine as _;
    let mut value = String::new();
    let mut inside = false;
    for line in data.split("\r\n") {
        if inside && line.starts_with([' ', '\t']) {
            // Unfolding drops the line break, not the white space.
            value.push_str(line);
        } else if inside {
            break;
        } else if let Some(v) = line.strip_prefix(&format!("{name}: ")) {
            value.push_str(v);
            inside = true;
        }
    }
    let mut out = String::new();
    // White space between two encoded words is dropped (RFC 2047), elsewhere kept.
    let mut last_encoded = false;
    for word in value.split([' ', '\t']).filter(|w| !w.is_empty()) {
        let encoded = word.starts_with("=?") && word.ends_with("?=");
        if !(out.is_empty() || encoded && last_encoded) {
            out.push(' ');
        }
        last_encoded = encoded;
        match word.strip_prefix("=?utf-8?").or_else(|| word.strip_prefix("=?UTF-8?")).and_then(|w| w.strip_suffix("?="))
        {
            Some(w) if w.starts_with(['b', 'B']) => out.push_str(
                &String::from_utf8(base64::engine::general_purpose::STANDARD.decode(&w[2..]).unwrap()).unwrap(),
            ),
            Some(w) => {
                let mut bytes = Vec::new();
                let q = &w.as_bytes()[2..];
                let mut i = 0;
                while i < q.len() {
                    match q[i] {
                        b'=' => {
                            bytes.push(u8::from_str_radix(std::str::from_utf8(&q[i + 1..i + 3]).unwrap(), 16).unwrap());
                            i += 3;
                        }
                        b'_' => {
                            bytes.push(b' ');
                            i += 1;
                        }
                        b => {
                            bytes.push(b);
                            i += 1;
                        }
                    }
                }
                out.push_str(&String::from_utf8(bytes).unwrap());
            }
            None => out.push_str(word),
        }
    }
    out
}

async fn emails_until(t: &TestApp, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..300 {
        let r = t.admin.get("/api/v1/emails").await.unwrap();
        assert_eq!(r.status, 200, "{}", body(&r));
        let items = r.json()["items"].as_array().unwrap().clone();
        if done(&items) {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the email outbox never got there: {}", body(&t.admin.get("/api/v1/emails").await.unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x1_buyers_get_emails_over_starttls_in_their_language_and_a_buyer_without_one_gets_none() {
    let (port, inbox) = smtp_server().await;
    let t = TestApp::with(|c| {
        c.email.smtp_host = "localhost".into();
        c.email.smtp_port = port;
        c.email.tls = "starttls".into();
        c.email.ca_file = fixture("smtp-cert.pem");
        c.email.from = "Shop aftersale <aftersale@example.com>".into();
        c.email.poll_ms = 50;
        c.email.retry_secs = vec![1];
    })
    .await;
    // Buyer one reads English; buyer two gave no address.
    let r = t.buyer.put("/api/v1/me/contact", &json!({ "email": "Buyer1@Example.com", "lang": "en" })).await.unwrap();
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(r.json(), json!({ "email": "Buyer1@example.com", "lang": "en" }));
    let bad = t.buyer.put("/api/v1/me/contact", &json!({ "email": "not an address", "lang": "en" })).await.unwrap();
    assert_eq!(problem(&bad, 422, "invalid_value")["field"], "email");
    assert_eq!(t.owner.get("/api/v1/me/contact").await.unwrap().status, 403);
    let o = t.order("online", true).await;
    let c = t.apply(&o, "return_refund", 5_000).await;
    let case = c["case"]["id"].as_i64().unwrap();
    t.ok(&t.staff, case, "agree_return", json!({ "address_id": t.address_id })).await;
    let o2 = t.order_in(&t.owner, t.shop, buyer_id(&t.buyer2).await, "online", true).await;
    let r =
        t.try_apply(&t.buyer2, &o2, json!({ "kind": "refund_only", "reason": "damaged", "amount": cny(1_000) })).await;
    assert_eq!(r.status, 201, "{}", body(&r));
    let items = emails_until(&t, |items| items.len() == 2 && items.iter().all(|e| !e["sent_at"].is_null())).await;
    assert!(items.iter().all(|e| e["to"] == "Buyer1@example.com" && e["lang"] == "en"), "{items:?}");
    assert!(items.iter().all(|e| e["provider_id"].as_str().unwrap().contains("queued as Q")), "{items:?}");
    let mails = inbox.lock().unwrap().clone();
    assert_eq!(mails.len(), 2, "buyer two gave no address: no email");
    let subjects: Vec<String> = mails.iter().map(|m| header(&m.data, "Subject")).collect();
    let no = format!("AS{case:08}");
    assert!(subjects.contains(&format!("[Shop One] After-sales request {no} received")), "{subjects:?}");
    assert!(subjects.contains(&format!("[Shop One] Return {no} agreed")), "{subjects:?}");
    let agreed = mails.iter().find(|m| header(&m.data, "Subject").contains("agreed")).unwrap();
    assert!(agreed.data.contains("multipart/alternative") && agreed.data.contains("text/html"), "{}", agreed.data);
    assert_eq!(agreed.rcpt, "Buyer1@example.com");
    assert!(header(&agreed.data, "From").contains("aftersale@example.com"));
    // In Chinese once the buyer asks for it; an unknown mailbox is refused for good.
    t.buyer.put("/api/v1/me/contact", &json!({ "email": "buyer1@example.com", "lang": "zh" })).await.unwrap();
    let o3 = t.order("online", true).await;
    t.apply(&o3, "refund_only", 1_000).await;
    let items = emails_until(&t, |items| items.len() == 3 && items.iter().all(|e| !e["sent_at"].is_null())).await;
    assert_eq!(items[0]["lang"], "zh");
    let mails = inbox.lock().unwrap().clone();
    let zh = header(&mails[2].data, "Subject");
    assert!(zh.starts_with("【Shop One】售后申请 AS") && zh.ends_with("已提交"), "{zh}");
    t.buyer.put("/api/v1/me/contact", &json!({ "email": "nobody@example.com", "lang": "zh" })).await.unwrap();
    let o4 = t.order("online", true).await;
    t.apply(&o4, "refund_only", 1_000).await;
    let items = emails_until(&t, |items| items.len() == 4 && !items[0]["failed_at"].is_null()).await;
    assert!(items[0]["last_error"].as_str().unwrap().contains("550"), "{}", items[0]);
    assert_eq!(inbox.lock().unwrap().len(), 3, "nothing taken for the unknown mailbox");
    t.stop().await;
}

/// The id of the buyer behind a client.
async fn buyer_id(c: &Client) -> i64 {
    c.get("/api/v1/me").await.unwrap().json()["user"]["id"].as_i64().unwrap()
}
