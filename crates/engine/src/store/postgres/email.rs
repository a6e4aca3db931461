//! Contacts and the email outbox. Emails are claimed under leases written into their rows,
//! `FOR UPDATE SKIP LOCKED`: two nodes claiming at once take different rows.

use super::*;

const COLUMNS: &str = "id, event_id, user_id, to_addr, lang, kind, vars, case_id, attempts, next_at, sent_at, \
                       failed_at, provider_id, last_error, created_at";

fn email_row(r: &Row) -> Result<EmailRow, StoreError> {
    Ok(EmailRow {
        id: r.try_get(0)?,
        event_id: r.try_get(1)?,
        user_id: r.try_get(2)?,
        to: r.try_get(3)?,
        lang: r.try_get(4)?,
        kind: r.try_get(5)?,
        vars: r.try_get(6)?,
        case_id: r.try_get::<_, Option<i64>>(7)?.map(CaseId),
        attempts: r.try_get::<_, i64>(8)? as u32,
        next_at: r.try_get(9)?,
        sent_at: r.try_get::<_, Option<i64>>(10)?.map(Timestamp),
        failed_at: r.try_get::<_, Option<i64>>(11)?.map(Timestamp),
        provider_id: r.try_get(12)?,
        last_error: r.try_get(13)?,
        created_at: Timestamp(r.try_get(14)?),
    })
}

impl EmailReads for Pg<'_> {
    fn contact(&mut self, user: i64) -> Result<Option<(Option<String>, String)>, StoreError> {
        match self.opt("SELECT email, lang FROM user_contacts WHERE user_id = $1", &[&user])? {
            Some(r) => Ok(Some((r.try_get(0)?, r.try_get(1)?))),
            None => Ok(None),
        }
    }

    fn emails(&mut self, limit: usize) -> Result<Vec<EmailRow>, StoreError> {
        self.query(&format!("SELECT {COLUMNS} FROM email_outbox ORDER BY id DESC LIMIT $1"), &[&(limit as i64)])?
            .iter()
            .map(email_row)
            .collect()
    }
}

impl EmailWrites for Pg<'_> {
    fn set_contact(&mut self, user: i64, email: Option<&str>, lang: &str) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO user_contacts (user_id, email, lang) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, lang = excluded.lang",
            &[&user, &email, &lang],
        )?;
        Ok(())
    }

    fn insert_email(&mut self, e: &EmailRow) -> Result<bool, StoreError> {
        let n = self.exec(
            "INSERT INTO email_outbox (event_id, user_id, to_addr, lang, kind, vars, case_id, next_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id, user_id) DO NOTHING",
            &[
                &e.event_id,
                &e.user_id,
                &e.to,
                &e.lang,
                &e.kind,
                &e.vars,
                &e.case_id.map(|c| c.0),
                &e.next_at,
                &e.created_at.0,
            ],
        )?;
        Ok(n > 0)
    }

    fn claim_emails(
        &mut self,
        now_ms: i64,
        limit: usize,
        owner: &str,
        until_ms: i64,
    ) -> Result<Vec<EmailRow>, StoreError> {
        let rows = self.query(
            &format!(
                "UPDATE email_outbox m SET lease_owner = $1, lease_until = $2 FROM ( \
                   SELECT id FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_at <= $3 \
                     AND (lease_until IS NULL OR lease_until <= $3) ORDER BY next_at, id LIMIT $4 \
                   FOR UPDATE SKIP LOCKED) pick WHERE m.id = pick.id RETURNING {}",
                COLUMNS.split(", ").map(|c| format!("m.{c}")).collect::<Vec<_>>().join(", ")
            ),
            &[&owner, &until_ms, &now_ms, &(limit as i64)],
        )?;
        let mut out = rows.iter().map(email_row).collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|e| e.id);
        Ok(out)
    }

    fn finish_email(&mut self, id: i64, how: &SmsFinish) -> Result<(), StoreError> {
        let ended = "attempts = attempts + 1, lease_owner = NULL, lease_until = NULL";
        match how {
            SmsFinish::Sent { at, provider_id } => self.exec(
                &format!(
                    "UPDATE email_outbox SET sent_at = $1, provider_id = $2, last_error = NULL, {ended} WHERE id = $3"
                ),
                &[&at.0, provider_id, &id],
            )?,
            SmsFinish::Retry { next_at_ms, error } => self.exec(
                &format!("UPDATE email_outbox SET next_at = $1, last_error = $2, {ended} WHERE id = $3"),
                &[next_at_ms, error, &id],
            )?,
            SmsFinish::Failed { at, error } => self.exec(
                &format!("UPDATE email_outbox SET failed_at = $1, last_error = $2, {ended} WHERE id = $3"),
                &[&at.0, error, &id],
            )?,
        };
        Ok(())
    }
}
