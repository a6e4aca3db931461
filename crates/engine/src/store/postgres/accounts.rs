//! Accounts, sessions and API tokens.

use super::*;

const USER_COLUMNS: &str =
    "SELECT u.id, u.login, u.role, u.shop_id, u.display_name, u.password_hash, u.created_at FROM users u";

fn user_row(r: &Row) -> Result<UserRecord, StoreError> {
    let role: &str = r.try_get(2)?;
    let role = Role::parse(role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?;
    Ok(UserRecord {
        id: r.try_get(0)?,
        login: r.try_get(1)?,
        role,
        shop_id: r.try_get::<_, Option<i64>>(3)?.map(ShopId),
        display_name: r.try_get(4)?,
        password_hash: r.try_get(5)?,
        created_at: Timestamp(r.try_get(6)?),
    })
}

impl AccountReads for Pg<'_> {
    fn user_by_login(&mut self, login: &str) -> Result<Option<UserRecord>, StoreError> {
        self.opt(&format!("{USER_COLUMNS} WHERE u.login = $1"), &[&login])?.as_ref().map(user_row).transpose()
    }

    fn user_by_id(&mut self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        self.opt(&format!("{USER_COLUMNS} WHERE u.id = $1"), &[&id])?.as_ref().map(user_row).transpose()
    }

    fn users(&mut self) -> Result<Vec<UserRecord>, StoreError> {
        self.query(&format!("{USER_COLUMNS} ORDER BY u.id"), &[])?.iter().map(user_row).collect()
    }

    fn session_user(&mut self, token_hash: &str, now: Timestamp) -> Result<Option<UserRecord>, StoreError> {
        self.opt(
            &format!(
                "{USER_COLUMNS} JOIN sessions s ON s.user_id = u.id WHERE s.token_hash = $1 AND s.expires_at > $2"
            ),
            &[&token_hash, &now.0],
        )?
        .as_ref()
        .map(user_row)
        .transpose()
    }

    fn token_user(&mut self, token_hash: &str) -> Result<Option<(UserRecord, TokenScope)>, StoreError> {
        let row = self.opt(
            "SELECT u.id, u.login, u.role, u.shop_id, u.display_name, u.password_hash, u.created_at, t.scope \
             FROM users u JOIN api_tokens t ON t.user_id = u.id WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
            &[&token_hash],
        )?;
        let Some(r) = row else { return Ok(None) };
        let scope: &str = r.try_get(7)?;
        let scope = TokenScope::parse(scope).ok_or_else(|| StoreError::Corrupt(scope.to_string()))?;
        Ok(Some((user_row(&r)?, scope)))
    }

    fn tokens_of(&mut self, user: i64) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = self.query(
            "SELECT id, name, created_at, revoked_at, scope FROM api_tokens WHERE user_id = $1 ORDER BY id",
            &[&user],
        )?;
        rows.iter()
            .map(|r| {
                Ok(TokenRecord {
                    id: r.try_get(0)?,
                    user_id: user,
                    name: r.try_get(1)?,
                    created_at: Timestamp(r.try_get(2)?),
                    revoked_at: r.try_get::<_, Option<i64>>(3)?.map(Timestamp),
                    scope: TokenScope::parse(r.try_get(4)?).unwrap_or(TokenScope::Full),
                })
            })
            .collect()
    }

    fn login_failures(&mut self, login: &str) -> Result<Option<(u32, i64)>, StoreError> {
        let row = self.opt("SELECT failures, first_at FROM login_failures WHERE login = $1", &[&login])?;
        Ok(row.map(|r| Ok::<_, ::postgres::Error>((r.try_get::<_, i64>(0)? as u32, r.try_get(1)?))).transpose()?)
    }
}

impl AccountWrites for Pg<'_> {
    fn insert_user(
        &mut self,
        login: &str,
        role: Role,
        shop: Option<ShopId>,
        display_name: &str,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        let row = self.opt(
            "INSERT INTO users (login, role, shop_id, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (login) DO NOTHING RETURNING id",
            &[&login, &role.as_str(), &shop.map(|s| s.0), &display_name, &password_hash, &at.0],
        )?;
        let Some(r) = row else { return Ok(None) };
        self.dirty = true;
        Ok(Some(r.try_get(0)?))
    }

    fn insert_session(
        &mut self,
        token_hash: &str,
        user: i64,
        at: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            &[&token_hash, &user, &at.0, &expires.0],
        )?;
        Ok(())
    }

    fn delete_session(&mut self, token_hash: &str) -> Result<(), StoreError> {
        self.exec("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])?;
        Ok(())
    }

    fn insert_token(
        &mut self,
        token_hash: &str,
        user: i64,
        name: &str,
        scope: TokenScope,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        self.insert_id(
            "INSERT INTO api_tokens (token_hash, user_id, name, created_at, scope) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[&token_hash, &user, &name, &at.0, &scope.as_str()],
        )
    }

    fn revoke_token(&mut self, user: i64, id: i64, at: Timestamp) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
            &[&at.0, &id, &user],
        )?;
        Ok(n == 1)
    }

    fn record_login_failure(&mut self, login: &str, now_ms: i64, window_ms: i64) -> Result<(u32, i64), StoreError> {
        self.exec("DELETE FROM login_failures WHERE first_at <= $1", &[&(now_ms - window_ms)])?;
        self.dirty = true;
        let r = self.one(
            "INSERT INTO login_failures (login, failures, first_at) VALUES ($1, 1, $2) \
             ON CONFLICT (login) DO UPDATE SET failures = login_failures.failures + 1 RETURNING failures, first_at",
            &[&login, &now_ms],
        )?;
        Ok((r.try_get::<_, i64>(0)? as u32, r.try_get(1)?))
    }

    fn clear_login_failures(&mut self, login: &str) -> Result<(), StoreError> {
        self.exec("DELETE FROM login_failures WHERE login = $1", &[&login])?;
        Ok(())
    }
}
