//! A small JSON client over reqwest, for `aftersale clock advance`, the HTTP load benchmark and
//! the black-box tests: it sends what it is given and hands back the status, headers and bytes
//! (no redirects followed, nothing decompressed), so tests see exactly what the server answered.

use bytes::Bytes;
use reqwest::Method;
use serde_json::Value;

#[derive(Clone)]
pub struct Client {
    inner: reqwest::Client,
    base: String,
    token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Client {
    /// `base` like `http://127.0.0.1:8080`.
    pub fn new(base: &str) -> Client {
        let inner = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Client { inner, base: base.trim_end_matches('/').to_string(), token: None }
    }

    pub fn with_token(&self, token: &str) -> Client {
        Client { inner: self.inner.clone(), base: self.base.clone(), token: Some(token.to_string()) }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Bytes)>,
    ) -> Result<Resp, String> {
        let mut req = self.inner.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some((ct, bytes)) = body {
            req = req.header(reqwest::header::CONTENT_TYPE, ct).body(bytes);
        }
        let res = req.send().await.map_err(|e| format!("{e:?}"))?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.bytes().await.map_err(|e| e.to_string())?;
        Ok(Resp { status, headers, body })
    }

    pub async fn get(&self, path: &str) -> Result<Resp, String> {
        self.send(Method::GET, path, &[], None).await
    }

    pub async fn post(&self, path: &str, json: &Value) -> Result<Resp, String> {
        self.post_with(path, json, &[]).await
    }

    pub async fn post_with(&self, path: &str, json: &Value, headers: &[(&str, &str)]) -> Result<Resp, String> {
        let bytes = Bytes::from(serde_json::to_vec(json).map_err(|e| e.to_string())?);
        self.send(Method::POST, path, headers, Some(("application/json", bytes))).await
    }

    pub async fn put(&self, path: &str, json: &Value) -> Result<Resp, String> {
        let bytes = Bytes::from(serde_json::to_vec(json).map_err(|e| e.to_string())?);
        self.send(Method::PUT, path, &[], Some(("application/json", bytes))).await
    }

    pub async fn patch(&self, path: &str, json: &Value) -> Result<Resp, String> {
        let bytes = Bytes::from(serde_json::to_vec(json).map_err(|e| e.to_string())?);
        self.send(Method::PATCH, path, &[], Some(("application/json", bytes))).await
    }

    pub async fn delete(&self, path: &str) -> Result<Resp, String> {
        self.send(Method::DELETE, path, &[], None).await
    }

    /// A multipart upload of one file part (and a caption).
    pub async fn upload(
        &self,
        path: &str,
        filename: &str,
        content_type: &str,
        data: &[u8],
        caption: &str,
    ) -> Result<Resp, String> {
        let boundary = "aftersale-boundary-7d1f";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\n{caption}\r\n").as_bytes(),
        );
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let ct = format!("multipart/form-data; boundary={boundary}");
        self.send(Method::POST, path, &[], Some((&ct, Bytes::from(body)))).await
    }
}
