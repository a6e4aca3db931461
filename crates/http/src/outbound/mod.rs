//! What leaves the service for other systems: signed webhooks (`webhooks`) and the secrets they
//! are signed with (`secrets`).

pub mod secrets;
pub mod webhooks;
