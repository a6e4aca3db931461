//! A change's effects — log row, deadline moves, notices, text messages — in one statement, and
//! a change to a case written with its effects in one statement.

use super::*;
use ::postgres::types::Type;
use std::sync::OnceLock;

/// Which of a change's effect parts have rows to write. A statement holds only those: a part
/// with nothing to write still costs PostgreSQL opening its table and every index of it (the
/// full statement with its parts empty took 70-110 µs, the same with only the parts a remark
/// needs 37-49 µs). A few shapes, each prepared once per connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Parts {
    log: bool,
    gone: bool,
    gone_too: bool,
    moved: bool,
    told: bool,
    texted: bool,
    published: bool,
}

/// The data-modifying `WITH` parts of the effects that `parts` names, each fed by arrays, each
/// only if `guard` holds (SQL appended to its condition): a command's effects cost one round
/// trip however many rows they are. The deadline rows deleted and written are of different
/// kinds (see `diff_deadlines`), so the two parts never touch the same row. The rows to delete
/// are named per subject — two subjects at most in one statement, a case and its order — so the
/// primary key finds them whatever the plan's guesses (a join with a list of keys was planned as
/// a hash join over the whole table). The parameters keep their numbers whichever parts are
/// left out (the statement is prepared with their types: `PARAM_TYPES`).
fn effect_parts(guard: &str, parts: Parts, extra_at: usize) -> Vec<String> {
    let mut out = Vec::new();
    let (zh_title, zh_body) = (extra_at + 3, extra_at + 4);
    let (sms_kind, sms_params) = (extra_at + 5, extra_at + 6);
    if parts.log {
        out.push(format!(
            "log AS (INSERT INTO events (order_id, case_id, at, actor, kind, data) \
             SELECT $1::bigint, $2::bigint, $3::bigint, $4::text, $5::text, $6::text WHERE $1::bigint IS NOT NULL{guard})"
        ));
    }
    if parts.published {
        // The log row's domain events: the types, document and shop are the parameters from
        // `extra_at` on (`EXTRA_TYPES`).
        let (t, d, shop) = (extra_at, extra_at + 1, extra_at + 2);
        let insert = super::events::insert_published_sql(
            "$1::bigint",
            "$2::bigint",
            "$3::bigint",
            &format!("${shop}::bigint"),
            &format!("${t}::text"),
            &format!("${d}::text"),
        );
        out.push(format!("published AS ({insert} WHERE $1::bigint IS NOT NULL{guard})"));
    }
    if parts.gone {
        out.push(format!(
            "gone AS (DELETE FROM deadlines WHERE subject = $7 AND subject_id = $8 AND kind = ANY($9::text[]){guard})"
        ));
    }
    if parts.gone_too {
        out.push(format!(
            "gone_too AS (DELETE FROM deadlines WHERE subject = $24 AND subject_id = $25 AND kind = ANY($26::text[]){guard})"
        ));
    }
    if parts.moved {
        out.push(format!(
            "moved AS (INSERT INTO deadlines (subject, subject_id, kind, due_at, version) \
             SELECT * FROM unnest($10::text[], $11::bigint[], $12::text[], $13::bigint[], $14::bigint[]) WHERE true{guard} \
             ON CONFLICT (subject, subject_id, kind) DO UPDATE SET due_at = excluded.due_at, \
             version = excluded.version, lease_owner = NULL, lease_until = NULL)"
        ));
    }
    if parts.told {
        out.push(format!(
            "told AS (INSERT INTO notices (recipient, recipient_id, case_id, category, title, body, created_at, title_zh, body_zh) \
             SELECT r, rid, $15::bigint, cat, title, body, $16::bigint, title_zh, body_zh \
             FROM unnest($17::text[], $18::bigint[], $19::text[], $20::text[], $21::text[], ${zh_title}::text[], ${zh_body}::text[]) \
             AS n(r, rid, cat, title, body, title_zh, body_zh) WHERE true{guard})"
        ));
    }
    if parts.texted {
        out.push(format!(
            "texted AS (INSERT INTO sms_outbox (phone, text, case_id, created_at, kind, params) \
             SELECT phone, text, $15::bigint, $16::bigint, kind, params \
             FROM unnest($22::text[], $23::text[], ${sms_kind}::text[], ${sms_params}::text[]) AS s(phone, text, kind, params) \
             WHERE true{guard})"
        ));
    }
    out
}

/// The types of parameters `$1`–`$41` of the effects and case-change statements.
#[rustfmt::skip]
const PARAM_TYPES: [Type; 41] = {
    use Type as T;
    [
        T::INT8, T::INT8, T::INT8, T::TEXT, T::TEXT, T::TEXT, // $1-$6: the log row
        T::TEXT, T::INT8, T::TEXT_ARRAY, // $7-$9: deadlines gone (first subject)
        T::TEXT_ARRAY, T::INT8_ARRAY, T::TEXT_ARRAY, T::INT8_ARRAY, T::INT8_ARRAY, // $10-$14: deadlines set
        T::INT8, T::INT8, // $15-$16: outbox case and time
        T::TEXT_ARRAY, T::INT8_ARRAY, T::TEXT_ARRAY, T::TEXT_ARRAY, T::TEXT_ARRAY, // $17-$21: notices
        T::TEXT_ARRAY, T::TEXT_ARRAY, // $22-$23: text messages
        T::TEXT, T::INT8, T::TEXT_ARRAY, // $24-$26: deadlines gone (second subject)
        T::INT8, T::INT8, T::INT8, T::INT8, T::TEXT, T::INT8, T::TEXT, // $27-$33: the change
        T::TEXT, T::TEXT, T::INT8, // $34-$36: the order's columns
        T::TEXT, T::TEXT, T::TEXT, T::INT8, T::INT8, // $37-$41: the case's listed columns
    ]
};

/// The types of the parameters that follow the effects' in the effects statement (from `$27`)
/// and the case-change statement's (from `$42`), passed when a statement has domain events or
/// notices or text messages: the domain events' types, document and shop, the notices' Chinese
/// titles and bodies, then the text messages' kinds and template variables.
const EXTRA_TYPES: [Type; 7] =
    [Type::TEXT, Type::TEXT, Type::INT8, Type::TEXT_ARRAY, Type::TEXT_ARRAY, Type::TEXT_ARRAY, Type::TEXT_ARRAY];

impl Parts {
    /// The seven parts as bits, for the tables of statements below.
    fn bits(self) -> usize {
        [self.log, self.gone, self.gone_too, self.moved, self.told, self.texted, self.published]
            .iter()
            .enumerate()
            .map(|(i, on)| usize::from(*on) << i)
            .sum()
    }
}

/// The effects alone (`None` when there is nothing to write), made once per shape.
fn effects_sql(parts: Parts) -> Option<&'static str> {
    static MADE: [OnceLock<String>; 128] = [const { OnceLock::new() }; 128];
    let sql = MADE[parts.bits()].get_or_init(|| {
        let all = effect_parts("", parts, 27);
        if all.is_empty() {
            String::new()
        } else {
            format!("WITH {} SELECT 1", all.join(", "))
        }
    });
    (!sql.is_empty()).then_some(sql.as_str())
}

/// A change to a case with its effects. The order's version is read and its row locked first
/// (`o`, a one-time filter of the case's update, so before the case's row); the case is
/// rewritten only at the versions expected (`u`); the order's new state (`ou`, when the change
/// has one) and every effect are written only if it was (`ok`). It answers the versions found,
/// for the conflict. `listed`: whether the columns lists read change (otherwise only the
/// document and version, which lets PostgreSQL keep the row on its page without touching an
/// index).
fn case_change_sql(listed: bool, order: bool, parts: Parts) -> &'static str {
    static MADE: [OnceLock<String>; 512] = [const { OnceLock::new() }; 512];
    let shape = parts.bits() | usize::from(listed) << 7 | usize::from(order) << 8;
    MADE[shape].get_or_init(|| make_case_change_sql(listed, order, parts))
}

/// The text of `case_change_sql` for one shape.
fn make_case_change_sql(listed: bool, order: bool, parts: Parts) -> String {
    let set = if listed {
        "kind = $37, status = $38, queue = $39, due_at = $40, updated_at = $41, version = $32, data = $33"
    } else {
        "version = $32, data = $33"
    };
    let mut with = vec![
        "o AS (SELECT version FROM orders WHERE id = $27 FOR UPDATE)".to_string(),
        format!("u AS (UPDATE cases SET {set} WHERE id = $28 AND version = $29 AND (SELECT version FROM o) = $30 RETURNING 1)"),
        "ok AS (SELECT COUNT(*) AS n FROM u)".to_string(),
    ];
    if order {
        with.push(
            "ou AS (UPDATE orders SET state = $34, flag = $35, version = $36, data = $31 \
             WHERE id = $27 AND version = $30 AND (SELECT n FROM ok) = 1)"
                .to_string(),
        );
    }
    with.extend(effect_parts(" AND (SELECT n FROM ok) = 1", parts, 42));
    format!(
        "WITH {} SELECT (SELECT version FROM o), (SELECT version FROM cases WHERE id = $28), (SELECT n FROM ok)",
        with.join(", ")
    )
}

/// The effects as the statements' parameters `$1`–`$26`.
struct EffectParams<'a> {
    order_id: Option<i64>,
    case_id: Option<i64>,
    at: Option<i64>,
    actor: Option<&'a str>,
    kind: Option<&'static str>,
    data: Option<&'a str>,
    gone: [(Option<&'static str>, Option<i64>, Vec<&'static str>); 2],
    set_subject: Vec<&'static str>,
    set_id: Vec<i64>,
    set_kind: Vec<&'static str>,
    set_due: Vec<i64>,
    set_version: Vec<i64>,
    outbox_case: Option<i64>,
    outbox_at: Option<i64>,
    r_kind: Vec<&'static str>,
    r_id: Vec<i64>,
    category: Vec<&'a str>,
    title: Vec<&'a str>,
    body: Vec<&'a str>,
    phone: Vec<&'a str>,
    text: Vec<&'a str>,
    published_types: Option<&'a str>,
    published_data: Option<&'a str>,
    published_shop: Option<i64>,
    title_zh: Vec<&'a str>,
    body_zh: Vec<&'a str>,
    sms_kind: Vec<&'a str>,
    sms_params: Vec<String>,
    /// Deadline rows of subjects past the two the statement names (no change has them).
    more_gone: Vec<(Subject, DeadlineKind)>,
}

impl<'a> EffectParams<'a> {
    fn new(e: &Effects<'a>) -> EffectParams<'a> {
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
        let mut gone: Vec<(Subject, Vec<DeadlineKind>)> = Vec::new();
        for (subject, kind) in &e.deadlines_gone {
            match gone.iter_mut().find(|(s, _)| s == subject) {
                Some((_, kinds)) => kinds.push(*kind),
                None => gone.push((*subject, vec![*kind])),
            }
        }
        let more_gone =
            gone.iter().skip(2).flat_map(|(s, kinds)| kinds.iter().map(move |k| (*s, *k))).collect::<Vec<_>>();
        let slot = |i: usize| match gone.get(i) {
            Some((s, kinds)) => (Some(s.kind_str()), Some(s.id()), kinds.iter().map(|k| k.as_str()).collect()),
            None => (None, None, Vec::new()),
        };
        let (outbox_case, outbox_at, notices, sms) = match e.outbox {
            Some((case, outbox, at)) => (case.map(|c| c.0), Some(at.0), &outbox.notices[..], &outbox.sms[..]),
            None => (None, None, &[][..], &[][..]),
        };
        let published = e.log.and_then(|(_, _, row)| row.published.as_ref());
        let recipients: Vec<(&'static str, i64)> = notices.iter().map(|n| recipient_cols(n.recipient)).collect();
        EffectParams {
            order_id,
            case_id,
            at,
            actor,
            kind,
            data,
            gone: [slot(0), slot(1)],
            set_subject: e.deadlines_set.iter().map(|(s, _, _)| s.kind_str()).collect(),
            set_id: e.deadlines_set.iter().map(|(s, _, _)| s.id()).collect(),
            set_kind: e.deadlines_set.iter().map(|(_, d, _)| d.kind.as_str()).collect(),
            set_due: e.deadlines_set.iter().map(|(_, d, _)| d.due.0).collect(),
            set_version: e.deadlines_set.iter().map(|(_, _, v)| *v as i64).collect(),
            outbox_case,
            outbox_at,
            r_kind: recipients.iter().map(|r| r.0).collect(),
            r_id: recipients.iter().map(|r| r.1).collect(),
            category: notices.iter().map(|n| n.category.as_str()).collect(),
            title: notices.iter().map(|n| n.title.as_str()).collect(),
            body: notices.iter().map(|n| n.body.as_str()).collect(),
            phone: sms.iter().map(|s| s.phone.as_str()).collect(),
            text: sms.iter().map(|s| s.text.as_str()).collect(),
            published_types: published.map(|p| p.types.as_str()),
            published_data: published.map(|p| p.data.as_str()),
            published_shop: published.map(|p| p.shop.0),
            title_zh: notices.iter().map(|n| n.title_zh.as_str()).collect(),
            body_zh: notices.iter().map(|n| n.body_zh.as_str()).collect(),
            sms_kind: sms.iter().map(|s| s.kind.as_str()).collect(),
            sms_params: sms.iter().map(|s| serde_json::to_string(&s.params).unwrap_or_else(|_| "{}".into())).collect(),
            more_gone,
        }
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        let [(g_subject, g_id, g_kinds), (a_subject, a_id, a_kinds)] = &self.gone;
        vec![
            &self.order_id,
            &self.case_id,
            &self.at,
            &self.actor,
            &self.kind,
            &self.data,
            g_subject,
            g_id,
            g_kinds,
            &self.set_subject,
            &self.set_id,
            &self.set_kind,
            &self.set_due,
            &self.set_version,
            &self.outbox_case,
            &self.outbox_at,
            &self.r_kind,
            &self.r_id,
            &self.category,
            &self.title,
            &self.body,
            &self.phone,
            &self.text,
            a_subject,
            a_id,
            a_kinds,
        ]
    }

    fn parts(&self) -> Parts {
        Parts {
            log: self.order_id.is_some(),
            gone: !self.gone[0].2.is_empty(),
            gone_too: !self.gone[1].2.is_empty(),
            moved: !self.set_id.is_empty(),
            told: !self.r_kind.is_empty(),
            texted: !self.phone.is_empty(),
            published: self.published_data.is_some(),
        }
    }

    /// The parameters after the effects' (see `EXTRA_TYPES`).
    fn extra_params(&self) -> [&(dyn ToSql + Sync); 7] {
        [
            &self.published_types,
            &self.published_data,
            &self.published_shop,
            &self.title_zh,
            &self.body_zh,
            &self.sms_kind,
            &self.sms_params,
        ]
    }

    fn earliest_due(&self) -> Option<i64> {
        self.set_due.iter().min().copied()
    }
}

impl Pg<'_> {
    /// Notes the earliest due time written, for the commit's wake-up.
    fn wrote_due(&mut self, due: Option<i64>) {
        if let Some(earliest) = due {
            self.min_due = Some(self.min_due.map_or(earliest, |m| m.min(earliest)));
        }
    }
}

impl EffectWrites for Pg<'_> {
    fn write_effects(&mut self, e: &Effects<'_>) -> Result<(), StoreError> {
        let p = EffectParams::new(e);
        // Subjects past the first two, one by one before the statement.
        for (subject, kind) in &p.more_gone {
            self.delete_deadline(*subject, *kind)?;
        }
        self.wrote_due(p.earliest_due());
        let parts = p.parts();
        if let Some(sql) = effects_sql(parts) {
            let mut types = PARAM_TYPES[..26].to_vec();
            let mut params = p.params();
            if parts.published || parts.told || parts.texted {
                types.extend_from_slice(&EXTRA_TYPES);
                params.extend_from_slice(&p.extra_params());
            }
            let st = self.typed(sql, &types)?;
            let r = self.conn.client.execute(&st, &params);
            self.noted(r)?;
        }
        self.dirty = true;
        Ok(())
    }

    fn write_case_change(&mut self, change: &CaseChange<'_>, effects: &Effects<'_>) -> Result<(), StoreError> {
        let p = EffectParams::new(effects);
        if !p.more_gone.is_empty() {
            // Not a case's and its order's rows alone: statement by statement.
            return write_case_change_by_parts(self, change, effects);
        }
        let c = change.case;
        let (order_id, case_id, expected, order_expected) =
            (c.order_id.0, c.id.0, change.expected as i64, change.order_expected as i64);
        let (version, due, order_json) =
            (c.version as i64, change.due.map_or(NO_DEADLINE, |d| d.0), change.order.map(|o| o.1));
        let (kind, status, queue) = (c.kind.as_str(), c.status.as_str(), c.queue().as_str());
        let order_state = change.order.map(|(o, _)| o.state.as_str());
        let order_flag = change.order.and_then(|(o, _)| o.flag.map(|f| f.as_str()));
        let order_version = change.order.map(|(o, _)| o.version as i64);
        let mut params = p.params();
        params.extend_from_slice(&[
            &order_id,
            &case_id,
            &expected,
            &order_expected,
            &order_json,
            &version,
            &change.json,
        ]);
        params.extend_from_slice(&[&order_state, &order_flag, &order_version]);
        let parts = p.parts();
        // The listed columns' parameters are only read when they change, but the extra ones
        // come after them: with those, they are passed either way.
        let extra = parts.published || parts.told || parts.texted;
        if !change.listed_same || extra {
            params.extend_from_slice(&[&kind, &status, &queue, &due, &c.status_since.0]);
        }
        let mut types = PARAM_TYPES[..params.len()].to_vec();
        if extra {
            types.extend_from_slice(&EXTRA_TYPES);
            params.extend_from_slice(&p.extra_params());
        }
        let sql = case_change_sql(!change.listed_same, order_json.is_some(), parts);
        self.dirty = true;
        let st = self.typed(sql, &types)?;
        let r = self.conn.client.query_one(&st, &params);
        let row = self.noted(r)?;
        let order_found = row.try_get::<_, Option<i64>>(0)?.map(|v| v as u64);
        // The case's version as it was before this statement (its snapshot).
        let case_found = row.try_get::<_, Option<i64>>(1)?.map(|v| v as u64);
        if row.try_get::<_, i64>(2)? == 1 {
            self.wrote_due(p.earliest_due());
            return Ok(());
        }
        if order_found != Some(change.order_expected) {
            return Err(StoreError::Conflict {
                what: "order",
                id: order_id,
                expected: change.order_expected,
                found: order_found,
            });
        }
        Err(StoreError::Conflict { what: "case", id: case_id, expected: change.expected, found: case_found })
    }
}
