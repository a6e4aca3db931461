//! Contacts and the email outbox.

use super::*;

const COLUMNS: &str = "id, event_id, user_id, to_addr, lang, kind, vars, case_id, attempts, next_at, sent_at, \
                       failed_at, provider_id, last_error, created_at";

fn email_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EmailRow> {
    Ok(EmailRow {
        id: r.get(0)?,
        event_id: r.get(1)?,
        user_id: r.get(2)?,
        to: r.get(3)?,
        lang: r.get(4)?,
        kind: r.get(5)?,
        vars: r.get(6)?,
        case_id: r.get::<_, Option<i64>>(7)?.map(CaseId),
        attempts: r.get::<_, i64>(8)? as u32,
        next_at: r.get(9)?,
        sent_at: r.get::<_, Option<i64>>(10)?.map(Timestamp),
        failed_at: r.get::<_, Option<i64>>(11)?.map(Timestamp),
        provider_id: r.get(12)?,
        last_error: r.get(13)?,
        created_at: Timestamp(r.get(14)?),
    })
}

impl EmailReads for Sql<'_> {
    fn contact(&mut self, user: i64) -> Result<Option<(Option<String>, String)>, StoreError> {
        let mut st = self.conn.prepare_cached("SELECT email, lang FROM user_contacts WHERE user_id = ?")?;
        Ok(st.query_row([user], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
    }

    fn emails(&mut self, limit: usize) -> Result<Vec<EmailRow>, StoreError> {
        let mut st =
            self.conn.prepare_cached(&format!("SELECT {COLUMNS} FROM email_outbox ORDER BY id DESC LIMIT ?"))?;
        let rows = st.query_map([limit as i64], email_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl EmailWrites for Sql<'_> {
    fn set_contact(&mut self, user: i64, email: Option<&str>, lang: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO user_contacts (user_id, email, lang) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, lang = excluded.lang",
            )?
            .execute(params![user, email, lang])?;
        Ok(())
    }

    fn insert_email(&mut self, e: &EmailRow) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO email_outbox (event_id, user_id, to_addr, lang, kind, vars, case_id, next_at, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, user_id) DO NOTHING",
            )?
            .execute(params![
                e.event_id,
                e.user_id,
                e.to,
                e.lang,
                e.kind,
                e.vars,
                e.case_id.map(|c| c.0),
                e.next_at,
                e.created_at.0
            ])?;
        Ok(n > 0)
    }

    fn claim_emails(
        &mut self,
        now_ms: i64,
        limit: usize,
        owner: &str,
        until_ms: i64,
    ) -> Result<Vec<EmailRow>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!(
            "UPDATE email_outbox SET lease_owner = ?1, lease_until = ?2 WHERE id IN ( \
               SELECT id FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_at <= ?3 \
                 AND (lease_until IS NULL OR lease_until <= ?3) ORDER BY next_at, id LIMIT ?4) \
             RETURNING {COLUMNS}"
        ))?;
        let rows = st.query_map(params![owner, until_ms, now_ms, limit as i64], email_row)?;
        let mut out: Vec<EmailRow> = rows.collect::<Result<_, _>>()?;
        out.sort_by_key(|e| e.id);
        Ok(out)
    }

    fn finish_email(&mut self, id: i64, how: &SmsFinish) -> Result<(), StoreError> {
        let ended = "attempts = attempts + 1, lease_owner = NULL, lease_until = NULL";
        let (sql, args): (String, Vec<rusqlite::types::Value>) = match how {
            SmsFinish::Sent { at, provider_id } => (
                format!(
                    "UPDATE email_outbox SET sent_at = ?1, provider_id = ?2, last_error = NULL, {ended} WHERE id = ?3"
                ),
                vec![at.0.into(), provider_id.clone().into(), id.into()],
            ),
            SmsFinish::Retry { next_at_ms, error } => (
                format!("UPDATE email_outbox SET next_at = ?1, last_error = ?2, {ended} WHERE id = ?3"),
                vec![(*next_at_ms).into(), error.clone().into(), id.into()],
            ),
            SmsFinish::Failed { at, error } => (
                format!("UPDATE email_outbox SET failed_at = ?1, last_error = ?2, {ended} WHERE id = ?3"),
                vec![at.0.into(), error.clone().into(), id.into()],
            ),
        };
        self.conn.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(args))?;
        Ok(())
    }
}
