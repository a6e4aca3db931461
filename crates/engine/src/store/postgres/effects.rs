//! A change's effects — log row, deadline moves, notices, text messages — in one statement.

use super::*;

/// One statement of data-modifying `WITH` parts, each fed by arrays (empty ones write
/// nothing): a command's effects cost one round trip however many rows they are. The deadline
/// rows deleted and written are of different kinds (see `diff_deadlines`), so the two parts
/// never touch the same row. The rows to delete are named per subject — two subjects at most in
/// one statement, a case and its order — so the primary key finds them whatever the plan's
/// guesses (a join with a list of keys was planned as a hash join over the whole table).
const EFFECTS: &str = "WITH \
     log AS (INSERT INTO events (order_id, case_id, at, actor, kind, data) \
             SELECT $1::bigint, $2::bigint, $3::bigint, $4::text, $5::text, $6::text WHERE $1::bigint IS NOT NULL), \
     gone AS (DELETE FROM deadlines WHERE subject = $7 AND subject_id = $8 AND kind = ANY($9::text[])), \
     gone_too AS (DELETE FROM deadlines WHERE subject = $24 AND subject_id = $25 AND kind = ANY($26::text[])), \
     moved AS (INSERT INTO deadlines (subject, subject_id, kind, due_at, version) \
               SELECT * FROM unnest($10::text[], $11::bigint[], $12::text[], $13::bigint[], $14::bigint[]) \
               ON CONFLICT (subject, subject_id, kind) DO UPDATE SET due_at = excluded.due_at, \
               version = excluded.version, lease_owner = NULL, lease_until = NULL), \
     told AS (INSERT INTO notices (recipient, recipient_id, case_id, category, title, body, created_at) \
              SELECT r, rid, $15::bigint, cat, title, body, $16::bigint \
              FROM unnest($17::text[], $18::bigint[], $19::text[], $20::text[], $21::text[]) AS n(r, rid, cat, title, body)), \
     texted AS (INSERT INTO sms_outbox (phone, text, case_id, created_at) \
                SELECT phone, text, $15::bigint, $16::bigint FROM unnest($22::text[], $23::text[]) AS s(phone, text)) \
     SELECT 1";

impl EffectWrites for Pg<'_> {
    fn write_effects(&mut self, e: &Effects<'_>) -> Result<(), StoreError> {
        let (order_id, case_id, at, actor, kind, data) = match e.log {
            Some((order, case, row)) => (
                Some(order.0),
                if row.case_events { case.map(|c| c.0) } else { None },
                Some(row.at.0),
                Some(row.actor_json.as_str()),
                Some(row.kind),
                Some(row.events_json.as_str()),
            ),
            None => (None, None, None, None, None, None),
        };
        // The rows to delete, by subject: the first two subjects in the statement, any others
        // (no change has them) one by one before it.
        let mut gone: Vec<(Subject, Vec<DeadlineKind>)> = Vec::new();
        for (subject, kind) in &e.deadlines_gone {
            match gone.iter_mut().find(|(s, _)| s == subject) {
                Some((_, kinds)) => kinds.push(*kind),
                None => gone.push((*subject, vec![*kind])),
            }
        }
        for (subject, kinds) in gone.iter().skip(2) {
            for kind in kinds {
                self.delete_deadline(*subject, *kind)?;
            }
        }
        let slot = |i: usize| match gone.get(i) {
            Some((s, kinds)) => (Some(s.kind_str()), Some(s.id()), kinds.iter().map(|k| k.as_str()).collect()),
            None => (None, None, Vec::<&str>::new()),
        };
        let ((gone_subject, gone_id, gone_kinds), (also_subject, also_id, also_kinds)) = (slot(0), slot(1));
        let set_subject: Vec<&str> = e.deadlines_set.iter().map(|(s, _, _)| s.kind_str()).collect();
        let set_id: Vec<i64> = e.deadlines_set.iter().map(|(s, _, _)| s.id()).collect();
        let set_kind: Vec<&str> = e.deadlines_set.iter().map(|(_, d, _)| d.kind.as_str()).collect();
        let set_due: Vec<i64> = e.deadlines_set.iter().map(|(_, d, _)| d.due.0).collect();
        let set_version: Vec<i64> = e.deadlines_set.iter().map(|(_, _, v)| *v as i64).collect();
        if let Some(earliest) = set_due.iter().min() {
            self.min_due = Some(self.min_due.map_or(*earliest, |m| m.min(*earliest)));
        }
        let (outbox_case, outbox_at, notices, sms) = match e.outbox {
            Some((case, outbox, at)) => (case.map(|c| c.0), Some(at.0), &outbox.notices[..], &outbox.sms[..]),
            None => (None, None, &[][..], &[][..]),
        };
        let recipients: Vec<(&str, i64)> = notices.iter().map(|n| recipient_cols(n.recipient)).collect();
        let r_kind: Vec<&str> = recipients.iter().map(|r| r.0).collect();
        let r_id: Vec<i64> = recipients.iter().map(|r| r.1).collect();
        let category: Vec<&str> = notices.iter().map(|n| n.category.as_str()).collect();
        let title: Vec<&str> = notices.iter().map(|n| n.title.as_str()).collect();
        let body: Vec<&str> = notices.iter().map(|n| n.body.as_str()).collect();
        let phone: Vec<&str> = sms.iter().map(|s| s.phone.as_str()).collect();
        let text: Vec<&str> = sms.iter().map(|s| s.text.as_str()).collect();
        self.exec(
            EFFECTS,
            &[
                &order_id,
                &case_id,
                &at,
                &actor,
                &kind,
                &data,
                &gone_subject,
                &gone_id,
                &gone_kinds,
                &set_subject,
                &set_id,
                &set_kind,
                &set_due,
                &set_version,
                &outbox_case,
                &outbox_at,
                &r_kind,
                &r_id,
                &category,
                &title,
                &body,
                &phone,
                &text,
                &also_subject,
                &also_id,
                &also_kinds,
            ],
        )?;
        self.dirty = true;
        Ok(())
    }
}
