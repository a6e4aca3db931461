//! Password login as one read and one write: the read takes the login's failure count and its
//! account together; the password is checked off the database by the caller's verifier (the
//! engine never sees a password, only the stored hash it hands the verifier); the write either
//! counts a wrong password or, for a right one, starts the count again and opens the session,
//! in one transaction.

use crate::store::*;
use crate::usecase::{Engine, EngineError};
use aftersale_core::time::Dur;
use aftersale_core::Timestamp;

/// Wrong passwords that lock a login out, and for how long (from the first of them).
pub const MAX_LOGIN_FAILURES: u32 = 5;
pub const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;

/// What a password login came to.
#[derive(Clone, Debug)]
pub enum LoginOutcome {
    /// Too many wrong passwords for this login: it may try again in this many seconds.
    Locked { retry_after_secs: u64 },
    /// A wrong login or a wrong password (the same answer for both, so a login cannot be probed).
    Refused,
    /// The password was right and a session is open.
    Opened { user: UserRecord, expires: Timestamp },
}

impl Engine {
    /// Logs `login` in. `verify` is handed the stored password hash of the login's account
    /// (None for a login no account has: it must then verify against a hash of its own, so that
    /// both failures take as long) and answers whether the password matches. On success the
    /// session whose token hashes to `session_hash` is opened for `ttl`.
    pub fn password_login(
        &self,
        login: &str,
        verify: impl FnOnce(Option<&str>) -> bool,
        session_hash: String,
        ttl: Dur,
    ) -> Result<LoginOutcome, EngineError> {
        // A login no account can have (control characters): nothing to read, count or open —
        // and nothing a database could choke on.
        let odd = aftersale_core::values::holds_control_characters(login);
        let (failures, user) = if odd {
            (None, None)
        } else {
            let probe = login.to_string();
            self.read(move |tx| Ok((tx.login_failures(&probe)?, tx.user_by_login(&probe)?)))?
        };
        if let Some(wait) = lockout(failures, crate::runner::wall_ms()) {
            return Ok(LoginOutcome::Locked { retry_after_secs: wait });
        }
        let right = verify(user.as_ref().map(|u| u.password_hash.as_str()));
        let login = login.to_string();
        let Some(user) = user.filter(|_| right) else {
            if !odd {
                self.transact(move |tx| {
                    tx.record_login_failure(&login, crate::runner::wall_ms(), LOGIN_WINDOW_MS)?;
                    Ok(())
                })?;
            }
            return Ok(LoginOutcome::Refused);
        };
        let now = self.now();
        let expires = Timestamp(now.0.saturating_add(ttl.as_millis()));
        let (counted, id) = (failures.is_some(), user.id);
        self.transact(move |tx| {
            if counted {
                tx.clear_login_failures(&login)?;
            }
            tx.insert_session(&session_hash, id, now, expires)?;
            Ok(())
        })?;
        Ok(LoginOutcome::Opened { user, expires })
    }

    /// Seconds until `login` may try a password again, if wrong passwords have locked it out
    /// (`MAX_LOGIN_FAILURES` within `LOGIN_WINDOW_MS`, counted by every node alike).
    pub fn login_locked(&self, login: &str) -> Result<Option<u64>, EngineError> {
        if aftersale_core::values::holds_control_characters(login) {
            return Ok(None);
        }
        let login = login.to_string();
        let failures = self.read(move |tx| tx.login_failures(&login))?;
        Ok(lockout(failures, crate::runner::wall_ms()))
    }
}

/// The lockout left, in whole seconds, for a login with `failures` (count, first at) at `now_ms`.
fn lockout(failures: Option<(u32, i64)>, now_ms: i64) -> Option<u64> {
    let (n, first) = failures?;
    let left = first + LOGIN_WINDOW_MS - now_ms;
    (n >= MAX_LOGIN_FAILURES && left > 0).then(|| (left as u64).div_ceil(1000).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_locked_from_the_limit_until_the_window_from_its_first_failure_ends() {
        let first = 1_000_000;
        assert_eq!(lockout(None, first), None);
        assert_eq!(lockout(Some((MAX_LOGIN_FAILURES - 1, first)), first + 1), None, "one short of the limit");
        assert_eq!(lockout(Some((MAX_LOGIN_FAILURES, first)), first), Some((LOGIN_WINDOW_MS / 1000) as u64));
        assert_eq!(lockout(Some((MAX_LOGIN_FAILURES, first)), first + LOGIN_WINDOW_MS - 1), Some(1), "rounded up");
        assert_eq!(lockout(Some((MAX_LOGIN_FAILURES, first)), first + LOGIN_WINDOW_MS), None, "the window ended");
    }
}
