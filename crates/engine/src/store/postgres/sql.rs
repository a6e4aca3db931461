//! Statements over one connection, as the backend's subject files run them (`Pg`).

use super::*;

/// Queries over one connection; used for reads and, inside the writer, for writes (`write`:
/// rows read to be changed are locked, the order before its cases).
pub(crate) struct Pg<'c> {
    pub(super) conn: &'c mut Conn,
    /// Whether this job may have changed anything: a job that did and then fails takes its
    /// transaction down (`store/group.rs`).
    pub(super) dirty: bool,
    /// Whether a statement of this job failed (which aborts a PostgreSQL transaction).
    pub(super) failed: bool,
    pub(super) write: bool,
    /// The earliest due time of the deadline rows this job wrote.
    pub(super) min_due: Option<i64>,
}

pub(super) type Params<'a> = [&'a (dyn ToSql + Sync)];

impl Pg<'_> {
    /// Notes a failed statement: it has aborted the transaction it ran in.
    pub(super) fn noted<T>(&mut self, r: Result<T, ::postgres::Error>) -> Result<T, StoreError> {
        self.failed |= r.is_err();
        Ok(r?)
    }

    /// The statement for `sql`. Anything but a `SELECT` counts as a write from here on, whether
    /// or not it changes a row (a job that wrote must not be left half-done in the commit: see
    /// `store/group.rs`); `exec` is the exception, which knows from the rows it changed.
    pub(super) fn prepared(&mut self, sql: &str) -> Result<Statement, StoreError> {
        self.conn.statement(sql).inspect_err(|_| self.failed = true)
    }

    /// `prepared`, with the parameters' types given (see `Conn::statement_typed`).
    pub(super) fn typed(&mut self, sql: &str, types: &[::postgres::types::Type]) -> Result<Statement, StoreError> {
        self.conn.statement_typed(sql, types).inspect_err(|_| self.failed = true)
    }

    pub(super) fn writes(&mut self, sql: &str) {
        self.dirty |= !sql.trim_start().starts_with("SELECT");
    }

    pub(super) fn query(&mut self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>, StoreError> {
        self.writes(sql);
        let st = self.prepared(sql)?;
        let r = self.conn.client.query(&st, params);
        self.noted(r)
    }

    pub(super) fn opt(&mut self, sql: &str, params: &Params<'_>) -> Result<Option<Row>, StoreError> {
        self.writes(sql);
        let st = self.prepared(sql)?;
        let r = self.conn.client.query_opt(&st, params);
        self.noted(r)
    }

    pub(super) fn one(&mut self, sql: &str, params: &Params<'_>) -> Result<Row, StoreError> {
        self.writes(sql);
        let st = self.prepared(sql)?;
        let r = self.conn.client.query_one(&st, params);
        self.noted(r)
    }

    /// Statements sent as text (settings), outside the prepared ones.
    pub(super) fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        let r = self.conn.client.batch_execute(sql);
        self.noted(r)
    }

    /// A statement that changes rows: marks the job as having written.
    pub(super) fn exec(&mut self, sql: &str, params: &Params<'_>) -> Result<u64, StoreError> {
        let st = self.prepared(sql)?;
        let r = self.conn.client.execute(&st, params);
        let n = self.noted(r)?;
        self.dirty |= n > 0;
        Ok(n)
    }

    /// An insert that returns the new row's id.
    pub(super) fn insert_id(&mut self, sql: &str, params: &Params<'_>) -> Result<i64, StoreError> {
        self.dirty = true;
        Ok(self.one(sql, params)?.try_get(0)?)
    }

    /// A JSON document from one row's first column.
    pub(super) fn doc<T: serde::de::DeserializeOwned>(&mut self, sql: &str, id: i64) -> Result<Option<T>, StoreError> {
        match self.opt(sql, &[&id])? {
            Some(row) => Ok(Some(serde_json::from_str(row.try_get::<_, &str>(0)?)?)),
            None => Ok(None),
        }
    }
}

/// A deadline row read in this column order: subject, subject_id, kind, due_at, version.
pub(super) fn deadline_row(r: &Row) -> Result<DueDeadline, StoreError> {
    let subject: &str = r.try_get(0)?;
    let id: i64 = r.try_get(1)?;
    let kind: &str = r.try_get(2)?;
    let kind = DeadlineKind::parse(kind).ok_or_else(|| StoreError::Corrupt(format!("unknown deadline kind {kind}")))?;
    let subject = Subject::from_key(subject, id);
    Ok(DueDeadline { subject, kind, due: Timestamp(r.try_get(3)?), version: r.try_get::<_, i64>(4)? as u64 })
}
