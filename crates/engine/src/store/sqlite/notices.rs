//! Message boxes and the SMS outbox.

use super::*;

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
        self.sms("SELECT id, phone, text, case_id, created_at, sent_at FROM sms_outbox ORDER BY id LIMIT ?", i64::MAX)
    }

    fn unsent_sms(&mut self, limit: usize) -> Result<Vec<StoredSms>, StoreError> {
        self.sms(
            "SELECT id, phone, text, case_id, created_at, sent_at FROM sms_outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?",
            limit as i64,
        )
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
        let mut st = self
            .conn
            .prepare_cached("INSERT INTO sms_outbox (phone, text, case_id, created_at) VALUES (?, ?, ?, ?)")?;
        for s in &outbox.sms {
            st.execute(params![s.phone.as_str(), s.text, case.map(|c| c.0), at.0])?;
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

    fn mark_sms_sent(&mut self, id: i64, at: Timestamp) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn.prepare_cached("UPDATE sms_outbox SET sent_at = ? WHERE id = ?")?.execute(params![at.0, id])?;
        Ok(())
    }
}
