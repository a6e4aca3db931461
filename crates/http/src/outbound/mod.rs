//! What leaves the service for other systems: signed webhooks (`webhooks`) and the secrets they
//! are signed with (`secrets`); refunds sent to a payment service (`refunds`, `alipay`); text messages (`sms`); email to buyers (`email`).

pub mod alipay;
pub mod email;
pub mod refunds;
pub mod secrets;
pub mod sms;
pub mod webhooks;

/// The HTTP client every operator-configured service is called with (payment services, Alipay,
/// SMS gateways): no redirects followed, no proxy, `timeout_secs` for the connection and for the
/// whole request.
pub(crate) fn service_client(timeout_secs: u64, what: &str) -> Result<reqwest::Client, String> {
    let timeout = std::time::Duration::from_secs(timeout_secs.max(1));
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .no_proxy()
        .user_agent("aftersale/1")
        .build()
        .map_err(|e| format!("the {what} client: {e}"))
}
