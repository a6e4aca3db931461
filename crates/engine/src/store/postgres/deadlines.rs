//! Deadline rows.

use super::*;

const COLUMNS: &str = "SELECT subject, subject_id, kind, due_at, version FROM deadlines";

impl DeadlineReads for Pg<'_> {
    fn deadlines_of(&mut self, subject: Subject) -> Result<Vec<DueDeadline>, StoreError> {
        let rows = self.query(
            &format!("{COLUMNS} WHERE subject = $1 AND subject_id = $2 ORDER BY due_at"),
            &[&subject.kind_str(), &subject.id()],
        )?;
        rows.iter().map(deadline_row).collect()
    }

    fn due_deadlines(&mut self, now: Timestamp, limit: usize) -> Result<Vec<DueDeadline>, StoreError> {
        let rows = self.query(
            &format!("{COLUMNS} WHERE due_at <= $1 ORDER BY due_at, subject, subject_id, kind LIMIT $2"),
            &[&now.0, &(limit as i64)],
        )?;
        rows.iter().map(deadline_row).collect()
    }

    fn due_deadlines_after(
        &mut self,
        now: Timestamp,
        after: Option<DueDeadline>,
        limit: usize,
    ) -> Result<Vec<DueDeadline>, StoreError> {
        let Some(a) = after else { return self.due_deadlines(now, limit) };
        let rows = self.query(
            &format!(
                "{COLUMNS} WHERE due_at <= $1 AND (due_at, subject, subject_id, kind) > ($2, $3, $4, $5) \
                 ORDER BY due_at, subject, subject_id, kind LIMIT $6"
            ),
            &[&now.0, &a.due.0, &a.subject.kind_str(), &a.subject.id(), &a.kind.as_str(), &(limit as i64)],
        )?;
        rows.iter().map(deadline_row).collect()
    }

    fn next_due(&mut self) -> Result<Option<Timestamp>, StoreError> {
        let v: Option<i64> = self.one("SELECT MIN(due_at) FROM deadlines", &[])?.try_get(0)?;
        Ok(v.map(Timestamp))
    }
}

impl DeadlineWrites for Pg<'_> {
    fn upsert_deadline(&mut self, subject: Subject, d: &Deadline, version: u64) -> Result<(), StoreError> {
        self.min_due = Some(self.min_due.map_or(d.due.0, |m| m.min(d.due.0)));
        self.exec(
            "INSERT INTO deadlines (subject, subject_id, kind, due_at, version) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (subject, subject_id, kind) DO UPDATE SET due_at = excluded.due_at, \
             version = excluded.version, lease_owner = NULL, lease_until = NULL",
            &[&subject.kind_str(), &subject.id(), &d.kind.as_str(), &d.due.0, &(version as i64)],
        )?;
        Ok(())
    }

    fn delete_deadline(&mut self, subject: Subject, kind: DeadlineKind) -> Result<(), StoreError> {
        self.exec(
            "DELETE FROM deadlines WHERE subject = $1 AND subject_id = $2 AND kind = $3",
            &[&subject.kind_str(), &subject.id(), &kind.as_str()],
        )?;
        Ok(())
    }
}
