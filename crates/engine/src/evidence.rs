//! E4: evidence a command names must be a file the caller uploaded (or, for merchant staff, that
//! their shop uploaded); its kind and checksum come from the upload, so a client names evidence
//! by its key alone and nobody can attach someone else's file.

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
        refs.into_iter().enumerate().map(|(i, r)| self.resolve_one(actor, user, i, r)).collect()
    }

    pub fn resolve_command(
        &self,
        actor: Actor,
        user: i64,
        cmd: CaseCommandOf<EvidenceRef>,
    ) -> Result<CaseCommandOf<Evidence>, EngineError> {
        cmd.try_map_evidence(|i, r| self.resolve_one(actor, user, i, r))
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
        })
    }

    fn resolve_one(&self, actor: Actor, user: i64, i: usize, r: EvidenceRef) -> Result<Evidence, EngineError> {
        let field = format!("evidence[{i}]");
        let unknown = || EngineError::Evidence {
            field: field.clone(),
            code: "unknown_evidence",
            detail: "unknown evidence key: upload the file first",
        };
        let obj = self.evidence_object(&r.key)?.ok_or_else(unknown)?;
        let mine = obj.uploader == user || matches!(actor, Actor::Merchant { shop, .. } if obj.shop_id == Some(shop));
        if !mine {
            return Err(unknown());
        }
        if r.kind.is_some_and(|k| k != obj.kind)
            || r.sha256.as_ref().is_some_and(|h| !h.eq_ignore_ascii_case(&obj.sha256))
        {
            return Err(EngineError::Evidence {
                field,
                code: "evidence_mismatch",
                detail: "sha256 or kind does not match the uploaded file",
            });
        }
        Ok(Evidence { key: obj.key, kind: obj.kind, sha256: obj.sha256, caption: r.caption })
    }
}
