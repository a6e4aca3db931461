//! Accounts, sessions and API tokens.

use super::*;

impl AccountReads for Sql<'_> {
    fn user_by_login(&mut self, login: &str) -> Result<Option<UserRecord>, StoreError> {
        self.user_where("u.login = ?", rusqlite::types::Value::Text(login.to_string()))
    }

    fn user_by_id(&mut self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        self.user_where("u.id = ?", rusqlite::types::Value::Integer(id))
    }

    fn users(&mut self) -> Result<Vec<UserRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!("{USER_COLUMNS} ORDER BY u.id"))?;
        let rows = st.query_map([], user_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    fn session_user(&mut self, token_hash: &str, now: Timestamp) -> Result<Option<UserRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!(
            "{USER_COLUMNS} JOIN sessions s ON s.user_id = u.id WHERE s.token_hash = ? AND s.expires_at > ?"
        ))?;
        match st.query_row(params![token_hash, now.0], user_row).optional()? {
            Some(u) => Ok(Some(u?)),
            None => Ok(None),
        }
    }

    fn token_user(&mut self, token_hash: &str) -> Result<Option<(UserRecord, TokenScope)>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT u.id, u.login, u.role, u.shop_id, u.display_name, u.password_hash, u.created_at, t.scope \
             FROM users u JOIN api_tokens t ON t.user_id = u.id WHERE t.token_hash = ? AND t.revoked_at IS NULL",
        )?;
        let row = st
            .query_row([token_hash], |r| {
                let scope: String = r.get(7)?;
                Ok((user_row(r)?, scope))
            })
            .optional()?;
        match row {
            Some((u, scope)) => Ok(Some((u?, TokenScope::parse(&scope).ok_or(StoreError::Corrupt(scope))?))),
            None => Ok(None),
        }
    }

    fn tokens_of(&mut self, user: i64) -> Result<Vec<TokenRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, name, created_at, revoked_at, scope FROM api_tokens WHERE user_id = ? ORDER BY id",
        )?;
        let rows = st.query_map([user], |r| {
            Ok(TokenRecord {
                id: r.get(0)?,
                user_id: user,
                name: r.get(1)?,
                created_at: Timestamp(r.get(2)?),
                revoked_at: r.get::<_, Option<i64>>(3)?.map(Timestamp),
                scope: TokenScope::parse(&r.get::<_, String>(4)?).unwrap_or(TokenScope::Full),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn login_failures(&mut self, login: &str) -> Result<Option<(u32, i64)>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT failures, first_at FROM login_failures WHERE login = ?")?
            .query_row([login], |r| Ok((r.get::<_, i64>(0)? as u32, r.get::<_, i64>(1)?)))
            .optional()?)
    }
}

impl AccountWrites for Sql<'_> {
    fn insert_user(
        &mut self,
        login: &str,
        role: Role,
        shop: Option<ShopId>,
        display_name: &str,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO users (login, role, shop_id, display_name, password_hash, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (login) DO NOTHING",
            )?
            .execute(params![login, role.as_str(), shop.map(|s| s.0), display_name, password_hash, at.0])?;
        if n == 0 {
            return Ok(None);
        }
        self.dirty = true;
        Ok(Some(self.conn.last_insert_rowid()))
    }

    fn insert_session(
        &mut self,
        token_hash: &str,
        user: i64,
        at: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")?
            .execute(params![token_hash, user, at.0, expires.0])?;
        Ok(())
    }

    fn delete_session(&mut self, token_hash: &str) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn.prepare_cached("DELETE FROM sessions WHERE token_hash = ?")?.execute([token_hash])?;
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
        self.dirty = true;
        self.conn
            .prepare_cached(
                "INSERT INTO api_tokens (token_hash, user_id, name, created_at, scope) VALUES (?, ?, ?, ?, ?)",
            )?
            .execute(params![token_hash, user, name, at.0, scope.as_str()])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn revoke_token(&mut self, user: i64, id: i64, at: Timestamp) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL")?
            .execute(params![at.0, id, user])?;
        self.dirty |= n > 0;
        Ok(n == 1)
    }

    fn record_login_failure(&mut self, login: &str, now_ms: i64, window_ms: i64) -> Result<(u32, i64), StoreError> {
        self.dirty = true;
        let stale = now_ms - window_ms;
        self.conn.prepare_cached("DELETE FROM login_failures WHERE first_at <= ?")?.execute([stale])?;
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO login_failures (login, failures, first_at) VALUES (?1, 1, ?2) \
                 ON CONFLICT (login) DO UPDATE SET failures = failures + 1 RETURNING failures, first_at",
            )?
            .query_row(params![login, now_ms], |r| Ok((r.get::<_, i64>(0)? as u32, r.get::<_, i64>(1)?)))?)
    }

    fn clear_login_failures(&mut self, login: &str) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn.prepare_cached("DELETE FROM login_failures WHERE login = ?")?.execute([login])?;
        Ok(())
    }
}
