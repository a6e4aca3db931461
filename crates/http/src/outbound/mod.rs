//! What leaves the service for other systems: signed webhooks (`webhooks`) and the secrets they
//! are signed with (`secrets`); refunds sent to a payment service (`refunds`, `alipay`); text messages (`sms`); email to buyers (`email`).

pub mod alipay;
pub mod email;
pub mod refunds;
pub mod secrets;
pub mod sms;
pub mod webhooks;
