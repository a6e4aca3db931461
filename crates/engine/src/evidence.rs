//! E4: evidence a command names must be a file the caller uploaded (or, for merchant staff, that
//! their shop uploaded); its kind and checksum come from the upload, so a client names evidence
//! by its key alone and nobody can attach someone else's file.

use crate::store::{EvidenceObject, EvidenceReads};
use crate::usecase::{Engine, EngineError};
use aftersale_core::values::{Evidence, EvidenceRef};
use aftersale_core::{Actor, ApplyOf, CaseCommandOf};

impl Engine {
    /// The uploads `refs` name, for `actor` (whose account is `user`). Errors name the item:
    /// `evidence[2]`.
    pub fn resolve_evidence(
        &self,
        actor: Actor,
        user: i64,
        refs: Vec<EvidenceRef>,
    ) -> Result<Vec<Evidence>, EngineError> {
        self.read(|tx| Ok(refs.into_iter().enumerate().map(|(i, r)| resolve_one(tx, actor, user, i, r)).collect()))?
    }

    pub fn resolve_command(
        &self,
        actor: Actor,
        user: i64,
        cmd: CaseCommandOf<EvidenceRef>,
    ) -> Result<CaseCommandOf<Evidence>, EngineError> {
        if cmd.evidence().is_empty() {
            // Nothing to look up: no read.
            return cmd.try_map_evidence(|i, _| Err(unknown(i)));
        }
        self.read(|tx| Ok(resolve_command_in(tx, actor, user, cmd)))?
    }

    pub fn resolve_application(
        &self,
        actor: Actor,
        user: i64,
        apply: ApplyOf<EvidenceRef>,
    ) -> Result<ApplyOf<Evidence>, EngineError> {
        let evidence = self.resolve_evidence(actor, user, apply.evidence)?;
        Ok(ApplyOf {
            kind: apply.kind,
            reason: apply.reason,
            amount: apply.amount,
            description: apply.description,
            evidence,
            refund_account: apply.refund_account,
            lines: apply.lines,
        })
    }
}

/// A command's evidence resolved for `actor` (account `user`) on `tx`: inside a write job, or on a
/// read connection.
pub(crate) fn resolve_command_in(
    tx: &mut dyn EvidenceReads,
    actor: Actor,
    user: i64,
    cmd: CaseCommandOf<EvidenceRef>,
) -> Result<CaseCommandOf<Evidence>, EngineError> {
    cmd.try_map_evidence(|i, r| resolve_one(tx, actor, user, i, r))
}

/// What an unknown key is answered (the same whether the upload is missing or someone else's).
fn unknown(i: usize) -> EngineError {
    EngineError::Evidence {
        field: format!("evidence[{i}]"),
        code: "unknown_evidence",
        detail: "unknown evidence key: upload the file first",
    }
}

/// An upload by its key; a key with control characters names none.
pub(crate) fn evidence_object(tx: &mut dyn EvidenceReads, key: &str) -> Result<Option<EvidenceObject>, EngineError> {
    if aftersale_core::values::holds_control_characters(key) {
        return Ok(None);
    }
    Ok(tx.evidence_object(key)?)
}

/// One item of a command's evidence (E4): the caller's (or, for staff, the shop's) upload,
/// matching the kind and checksum the caller gave, if any.
fn resolve_one(
    tx: &mut dyn EvidenceReads,
    actor: Actor,
    user: i64,
    i: usize,
    r: EvidenceRef,
) -> Result<Evidence, EngineError> {
    let obj = evidence_object(tx, &r.key)?.ok_or_else(|| unknown(i))?;
    let mine = obj.uploader == user || matches!(actor, Actor::Merchant { shop, .. } if obj.shop_id == Some(shop));
    if !mine {
        return Err(unknown(i));
    }
    if r.kind.is_some_and(|k| k != obj.kind) || r.sha256.as_ref().is_some_and(|h| !h.eq_ignore_ascii_case(&obj.sha256))
    {
        return Err(EngineError::Evidence {
            field: format!("evidence[{i}]"),
            code: "evidence_mismatch",
            detail: "sha256 or kind does not match the uploaded file",
        });
    }
    Ok(Evidence { key: obj.key, kind: obj.kind, sha256: obj.sha256, caption: r.caption })
}
