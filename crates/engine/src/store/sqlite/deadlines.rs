//! Deadline rows.

use super::*;

impl DeadlineReads for Sql<'_> {
    fn deadlines_of(&mut self, subject: Subject) -> Result<Vec<DueDeadline>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT subject, subject_id, kind, due_at, version FROM deadlines WHERE subject = ? AND subject_id = ? ORDER BY due_at",
        )?;
        let rows = st.query_map(params![subject.kind_str(), subject.id()], deadline_row)?;
        rows.map(|r| to_deadline(r?)).collect()
    }

    fn due_deadlines(&mut self, now: Timestamp, limit: usize) -> Result<Vec<DueDeadline>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT subject, subject_id, kind, due_at, version FROM deadlines WHERE due_at <= ? \
             ORDER BY due_at, subject, subject_id, kind LIMIT ?",
        )?;
        let rows = st.query_map(params![now.0, limit as i64], deadline_row)?;
        rows.map(|r| to_deadline(r?)).collect()
    }

    fn due_deadlines_after(
        &mut self,
        now: Timestamp,
        after: Option<DueDeadline>,
        limit: usize,
    ) -> Result<Vec<DueDeadline>, StoreError> {
        let Some(a) = after else { return self.due_deadlines(now, limit) };
        let mut st = self.conn.prepare_cached(
            "SELECT subject, subject_id, kind, due_at, version FROM deadlines \
             WHERE due_at <= ? AND (due_at, subject, subject_id, kind) > (?, ?, ?, ?) \
             ORDER BY due_at, subject, subject_id, kind LIMIT ?",
        )?;
        let rows = st.query_map(
            params![now.0, a.due.0, a.subject.kind_str(), a.subject.id(), a.kind.as_str(), limit as i64],
            deadline_row,
        )?;
        rows.map(|r| to_deadline(r?)).collect()
    }

    fn next_due(&mut self) -> Result<Option<Timestamp>, StoreError> {
        let v: Option<i64> =
            self.conn.prepare_cached("SELECT MIN(due_at) FROM deadlines")?.query_row([], |r| r.get(0))?;
        Ok(v.map(Timestamp))
    }
}

impl DeadlineWrites for Sql<'_> {
    fn upsert_deadline(&mut self, subject: Subject, d: &Deadline, version: u64) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "INSERT INTO deadlines (subject, subject_id, kind, due_at, version) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (subject, subject_id, kind) DO UPDATE SET due_at = excluded.due_at, version = excluded.version",
            )?
            .execute(params![subject.kind_str(), subject.id(), d.kind.as_str(), d.due.0, version as i64])?;
        Ok(())
    }

    fn delete_deadline(&mut self, subject: Subject, kind: DeadlineKind) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached("DELETE FROM deadlines WHERE subject = ? AND subject_id = ? AND kind = ?")?
            .execute(params![subject.kind_str(), subject.id(), kind.as_str()])?;
        Ok(())
    }
}
