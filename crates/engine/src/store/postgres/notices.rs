//! Message boxes and the SMS outbox.

use super::*;

const NOTICE_COLUMNS: &str =
    "SELECT id, recipient, recipient_id, case_id, category, title, body, created_at, read_at, title_zh, body_zh FROM notices";
pub(super) const SMS_FIELDS: &str = "id, phone, text, case_id, created_at, sent_at, kind, params, attempts, failed_at, provider_id, last_error, next_at";
const SMS_COLUMNS: &str = "SELECT id, phone, text, case_id, created_at, sent_at, kind, params, attempts, failed_at, provider_id, last_error, next_at FROM sms_outbox";

fn notice_row(r: &Row) -> Result<StoredNotice, StoreError> {
    Ok(StoredNotice {
        id: r.try_get(0)?,
        recipient: parse_recipient(r.try_get(1)?, r.try_get(2)?),
        case_id: r.try_get::<_, Option<i64>>(3)?.map(CaseId),
        category: r.try_get(4)?,
        title: r.try_get(5)?,
        body: r.try_get(6)?,
        at: Timestamp(r.try_get(7)?),
        read: r.try_get::<_, Option<i64>>(8)?.is_some(),
        title_zh: r.try_get(9)?,
        body_zh: r.try_get(10)?,
    })
}

pub(super) fn sms_row(r: &Row) -> Result<StoredSms, StoreError> {
    Ok(StoredSms {
        id: r.try_get(0)?,
        phone: r.try_get(1)?,
        text: r.try_get(2)?,
        case_id: r.try_get::<_, Option<i64>>(3)?.map(CaseId),
        at: Timestamp(r.try_get(4)?),
        sent_at: r.try_get::<_, Option<i64>>(5)?.map(Timestamp),
        kind: r.try_get(6)?,
        params: r.try_get(7)?,
        attempts: r.try_get::<_, i64>(8)? as u32,
        failed_at: r.try_get::<_, Option<i64>>(9)?.map(Timestamp),
        provider_id: r.try_get(10)?,
        last_error: r.try_get(11)?,
        next_at: r.try_get(12)?,
    })
}

impl NoticeReads for Pg<'_> {
    fn notices(&mut self, to: Recipient) -> Result<Vec<StoredNotice>, StoreError> {
        let (kind, id) = recipient_cols(to);
        let rows = self.query(
            &format!("{NOTICE_COLUMNS} WHERE recipient = $1 AND recipient_id = $2 ORDER BY id"),
            &[&kind, &id],
        )?;
        rows.iter().map(notice_row).collect()
    }

    fn notices_page(&mut self, to: Recipient, q: &NoticeQuery) -> Result<Vec<StoredNotice>, StoreError> {
        let (kind, id) = recipient_cols(to);
        let rows = self.query(
            &format!(
                "{NOTICE_COLUMNS} WHERE recipient = $1 AND recipient_id = $2 AND id < $3 \
                 AND (NOT $4 OR read_at IS NULL) AND ($5::text IS NULL OR category = $5) ORDER BY id DESC LIMIT $6"
            ),
            &[&kind, &id, &q.before.unwrap_or(i64::MAX), &q.unread_only, &q.category, &(q.limit as i64)],
        )?;
        rows.iter().map(notice_row).collect()
    }

    fn unread_counts(&mut self, to: Recipient) -> Result<Vec<(String, u64)>, StoreError> {
        let (kind, id) = recipient_cols(to);
        let rows = self.query(
            "SELECT category, COUNT(*) FROM notices WHERE recipient = $1 AND recipient_id = $2 AND read_at IS NULL \
             GROUP BY category ORDER BY category",
            &[&kind, &id],
        )?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get::<_, i64>(1)? as u64))).collect()
    }

    fn sms_outbox(&mut self) -> Result<Vec<StoredSms>, StoreError> {
        let rows = self.query(&format!("{SMS_COLUMNS} ORDER BY id"), &[])?;
        rows.iter().map(sms_row).collect()
    }

    fn unsent_sms(&mut self, limit: usize, now_ms: i64) -> Result<Vec<StoredSms>, StoreError> {
        let rows = self.query(
            &format!(
                "{SMS_COLUMNS} WHERE sent_at IS NULL AND failed_at IS NULL AND next_at <= $2 ORDER BY id LIMIT $1"
            ),
            &[&(limit as i64), &now_ms],
        )?;
        rows.iter().map(sms_row).collect()
    }
}

impl NoticeWrites for Pg<'_> {
    fn insert_outbox(&mut self, case: Option<CaseId>, outbox: &Outbox, at: Timestamp) -> Result<(), StoreError> {
        let case = case.map(|c| c.0);
        for n in &outbox.notices {
            let (kind, id) = recipient_cols(n.recipient);
            self.exec(
                "INSERT INTO notices (recipient, recipient_id, case_id, category, title, body, created_at, title_zh, body_zh) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[&kind, &id, &case, &n.category.as_str(), &n.title, &n.body, &at.0, &n.title_zh, &n.body_zh],
            )?;
        }
        for s in &outbox.sms {
            let params = serde_json::to_string(&s.params).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            self.exec(
                "INSERT INTO sms_outbox (phone, text, case_id, created_at, kind, params) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&s.phone.as_str(), &s.text, &case, &at.0, &s.kind, &params],
            )?;
        }
        Ok(())
    }

    fn mark_read(&mut self, to: Recipient, ids: &[i64], at: Timestamp) -> Result<u64, StoreError> {
        let (kind, rid) = recipient_cols(to);
        self.exec(
            "UPDATE notices SET read_at = $1 WHERE id = ANY($2) AND recipient = $3 AND recipient_id = $4 AND read_at IS NULL",
            &[&at.0, &ids, &kind, &rid],
        )
    }

    fn finish_sms(&mut self, id: i64, how: &SmsFinish) -> Result<(), StoreError> {
        let ended = "attempts = attempts + 1, lease_owner = NULL, lease_until = NULL";
        match how {
            SmsFinish::Sent { at, provider_id } => self.exec(
                &format!(
                    "UPDATE sms_outbox SET sent_at = $1, provider_id = $2, last_error = NULL, {ended} WHERE id = $3"
                ),
                &[&at.0, provider_id, &id],
            )?,
            SmsFinish::Retry { next_at_ms, error } => self.exec(
                &format!("UPDATE sms_outbox SET next_at = $1, last_error = $2, {ended} WHERE id = $3"),
                &[next_at_ms, error, &id],
            )?,
            SmsFinish::Failed { at, error } => self.exec(
                &format!("UPDATE sms_outbox SET failed_at = $1, last_error = $2, {ended} WHERE id = $3"),
                &[&at.0, error, &id],
            )?,
        };
        Ok(())
    }
}
