//! Message boxes and the SMS outbox.

use super::*;

/// One `sms_outbox` row, in the column order the queries read.
pub(super) fn sms_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredSms> {
    Ok(StoredSms {
        id: r.get(0)?,
        phone: r.get(1)?,
        text: r.get(2)?,
        case_id: r.get::<_, Option<i64>>(3)?.map(CaseId),
        at: Timestamp(r.get(4)?),
        sent_at: r.get::<_, Option<i64>>(5)?.map(Timestamp),
        kind: r.get(6)?,
        params: r.get(7)?,
        attempts: r.get::<_, i64>(8)? as u32,
        failed_at: r.get::<_, Option<i64>>(9)?.map(Timestamp),
        provider_id: r.get(10)?,
        last_error: r.get(11)?,
        next_at: r.get(12)?,
    })
}

impl NoticeReads for Sql<'_> {
    fn notices(&mut self, to: Recipient) -> Result<Vec<StoredNotice>, StoreError> {
        let (kind, id) = recipient_cols(to);
        let mut st = self.conn.prepare_cached(
            "SELECT id, recipient, recipient_id, case_id, category, title, body, created_at, read_at, title_zh, body_zh FROM notices \
             WHERE recipient = ? AND recipient_id = ? ORDER BY id",
        )?;
        let rows = st.query_map(params![kind, id], notice_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn notices_page(&mut self, to: Recipient, q: &NoticeQuery) -> Result<Vec<StoredNotice>, StoreError> {
        let (kind, id) = recipient_cols(to);
        let mut st = self.conn.prepare_cached(
            "SELECT id, recipient, recipient_id, case_id, category, title, body, created_at, read_at, title_zh, body_zh FROM notices \
             WHERE recipient = ?1 AND recipient_id = ?2 AND id < ?3 AND (?4 = 0 OR read_at IS NULL) \
             AND (?5 IS NULL OR category = ?5) ORDER BY id DESC LIMIT ?6",
        )?;
        let before = q.before.unwrap_or(i64::MAX);
        let rows =
            st.query_map(params![kind, id, before, q.unread_only as i64, q.category, q.limit as i64], notice_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn unread_counts(&mut self, to: Recipient) -> Result<Vec<(String, u64)>, StoreError> {
        let (kind, id) = recipient_cols(to);
        let mut st = self.conn.prepare_cached(
            "SELECT category, COUNT(*) FROM notices WHERE recipient = ? AND recipient_id = ? AND read_at IS NULL \
             GROUP BY category ORDER BY category",
        )?;
        let rows = st.query_map(params![kind, id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn sms_outbox(&mut self) -> Result<Vec<StoredSms>, StoreError> {
        self.sms("SELECT id, phone, text, case_id, created_at, sent_at, kind, params, attempts, failed_at, provider_id, last_error, next_at FROM sms_outbox WHERE ?1 >= 0 ORDER BY id", 0)
    }

    fn unsent_sms(&mut self, limit: usize, now_ms: i64) -> Result<Vec<StoredSms>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, phone, text, case_id, created_at, sent_at, kind, params, attempts, failed_at, provider_id, last_error, next_at FROM sms_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_at <= ?1 \
             ORDER BY id LIMIT ?2",
        )?;
        let rows = st.query_map(params![now_ms, limit as i64], sms_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl NoticeWrites for Sql<'_> {
    fn insert_outbox(&mut self, case: Option<CaseId>, outbox: &Outbox, at: Timestamp) -> Result<(), StoreError> {
        self.dirty = true;
        let mut st = self.conn.prepare_cached(
            "INSERT INTO notices (recipient, recipient_id, case_id, category, title, body, created_at, title_zh, body_zh) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for n in &outbox.notices {
            let (kind, id) = recipient_cols(n.recipient);
            st.execute(params![
                kind,
                id,
                case.map(|c| c.0),
                n.category.as_str(),
                n.title,
                n.body,
                at.0,
                n.title_zh,
                n.body_zh
            ])?;
        }
        let mut st = self.conn.prepare_cached(
            "INSERT INTO sms_outbox (phone, text, case_id, created_at, kind, params) VALUES (?, ?, ?, ?, ?, ?)",
        )?;
        for s in &outbox.sms {
            let params = serde_json::to_string(&s.params).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            st.execute(params![s.phone.as_str(), s.text, case.map(|c| c.0), at.0, s.kind, params])?;
        }
        Ok(())
    }

    fn mark_read(&mut self, to: Recipient, ids: &[i64], at: Timestamp) -> Result<u64, StoreError> {
        let (kind, rid) = recipient_cols(to);
        let mut st = self.conn.prepare_cached(
            "UPDATE notices SET read_at = ? WHERE id = ? AND recipient = ? AND recipient_id = ? AND read_at IS NULL",
        )?;
        let mut n = 0;
        for id in ids {
            n += st.execute(params![at.0, id, kind, rid])? as u64;
        }
        self.dirty |= n > 0;
        Ok(n)
    }

    fn finish_sms(&mut self, id: i64, how: &SmsFinish) -> Result<(), StoreError> {
        self.dirty = true;
        let (sql, args): (&str, Vec<rusqlite::types::Value>) = match how {
            SmsFinish::Sent { at, provider_id } => (
                "UPDATE sms_outbox SET sent_at = ?1, provider_id = ?2, last_error = NULL, attempts = attempts + 1 WHERE id = ?3",
                vec![at.0.into(), provider_id.clone().into(), id.into()],
            ),
            SmsFinish::Retry { next_at_ms, error } => (
                "UPDATE sms_outbox SET next_at = ?1, last_error = ?2, attempts = attempts + 1 WHERE id = ?3",
                vec![(*next_at_ms).into(), error.clone().into(), id.into()],
            ),
            SmsFinish::Failed { at, error } => (
                "UPDATE sms_outbox SET failed_at = ?1, last_error = ?2, attempts = attempts + 1 WHERE id = ?3",
                vec![at.0.into(), error.clone().into(), id.into()],
            ),
        };
        self.conn.prepare_cached(sql)?.execute(rusqlite::params_from_iter(args))?;
        Ok(())
    }
}
