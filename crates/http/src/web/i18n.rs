//! The pages' two languages: Simplified Chinese and English. The English text is the key; the
//! table below gives its Chinese. The labels of the rules' own values (queues, statuses, case
//! types, flags, reasons) come from the core's label lists, not from here. Refusals of the API
//! are shown in words, never as a raw code.

use crate::error::ApiError;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The page's `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The text in this language (English is the key; unknown keys stay English).
    pub fn t(self, en: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Zh => zh_table().get(en).copied().unwrap_or(en),
        }
    }

    /// One of a pair of labels (the core's label lists carry both).
    pub fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

fn zh_table() -> &'static HashMap<&'static str, &'static str> {
    static TABLE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| ZH.iter().copied().collect())
}

/// What an API refusal means, in the person's language: the code's sentence, with the field
/// named when there is one. A code without a sentence here shows the API's own detail.
pub fn problem_text(lang: Lang, e: &ApiError) -> String {
    let p = &e.0;
    let sentence = PROBLEMS.iter().find(|(code, _, _)| *code == p.code).map(|(_, zh, en)| lang.pick(zh, en));
    let mut text = match sentence {
        Some(s) => s.to_string(),
        None => p.detail.clone(),
    };
    if p.code == "deadline_passed" || p.code == "wrong_state" || p.code == "invalid_value" || p.code == "invalid_field"
    {
        // These depend on the case; the API's detail says which deadline or value.
        if lang == Lang::En {
            text = format!("{text} ({})", p.detail);
        }
    }
    if let Some(field) = &p.field {
        text = format!("{text} — {}: {}", lang.pick("字段", "field"), field_label(lang, field));
    }
    if let Some(rule) = &p.rule {
        text = format!("{text} [{rule}]");
    }
    text
}

/// A field as a person reads it: `evidence[0]` is the evidence files, `logistics.tracking_no`
/// the tracking number; a name without words here is shown as it is.
pub fn field_label(lang: Lang, field: &str) -> String {
    let base = field.split('[').next().unwrap_or(field);
    let found = FIELDS.iter().find(|(f, _, _)| *f == base).or_else(|| {
        let last = base.rsplit('.').next().unwrap_or(base);
        FIELDS.iter().find(|(f, _, _)| *f == last)
    });
    found.map_or_else(|| field.to_string(), |(_, zh, en)| lang.pick(zh, en).to_string())
}

/// The fields refusals name, in words.
const FIELDS: &[(&str, &str, &str)] = &[
    ("amount", "金额", "amount"),
    ("evidence", "凭证文件", "evidence files"),
    ("files", "凭证文件", "evidence files"),
    ("file", "文件", "file"),
    ("caption", "文件说明", "caption"),
    ("text", "内容", "text"),
    ("reason", "原因", "reason"),
    ("reason_code", "原因", "reason"),
    ("description", "描述", "description"),
    ("explanation", "说明", "explanation"),
    ("kind", "售后类型", "case type"),
    ("logistics", "物流信息", "logistics"),
    ("carrier", "快递公司", "carrier"),
    ("tracking_no", "运单号", "tracking number"),
    ("refund_account", "退款账户", "refund account"),
    ("holder", "开户人", "account holder"),
    ("bank", "开户行", "bank"),
    ("number", "账号", "account number"),
    ("address", "退货地址", "return address"),
    ("address_id", "退货地址", "return address"),
    ("template_id", "快捷回复", "reply template"),
    ("types", "事件类型", "event types"),
    ("url", "接收地址", "URL"),
    ("flag", "旗标", "flag"),
    ("version", "版本", "version"),
    ("case_id", "售后单号", "case number"),
    ("order_no", "订单号", "order number"),
    ("customer_name", "买家姓名", "buyer's name"),
    ("customer_phone", "手机号", "phone number"),
    ("applied_from", "申请开始日期", "applied from"),
    ("applied_to", "申请结束日期", "applied to"),
    ("due_before", "截止时间", "due before"),
    ("queue", "队列", "queue"),
    ("cursor", "翻页位置", "page cursor"),
    ("limit", "每页条数", "page size"),
    ("sort", "排序", "sort"),
    ("shop", "店铺", "shop"),
    ("name", "名称", "name"),
    ("phone", "电话", "phone"),
    ("region", "地区", "region"),
    ("detail", "详细地址", "street address"),
    ("title", "标题", "title"),
    ("body", "内容", "text"),
    ("login", "登录名", "login"),
    ("password", "密码", "password"),
    ("instructions", "举证要求", "instructions"),
    ("for_party", "裁决方", "ruling for"),
    ("by", "时长", "duration"),
];

/// Each refusal code the pages can meet, in words.
pub const PROBLEMS: &[(&str, &str, &str)] = &[
    ("not_allowed_for_actor", "您的角色不能执行此操作。", "Your role may not do this."),
    ("wrong_state", "售后单当前的状态不允许此操作。", "The case is not in a state that allows this."),
    ("deadline_passed", "此操作的期限已过。", "The time for this has run out: its deadline has passed."),
    ("missing_field", "请填写必填项。", "A required field is empty."),
    ("invalid_value", "填写的内容不符合要求。", "A value is not one that is accepted."),
    ("invalid_field", "填写的内容格式不正确。", "A value is not in the expected form."),
    ("amount_above_refundable", "金额超过了可退金额。", "The amount is above what can still be refunded."),
    ("negotiation_used", "本售后单已经协商过一次。", "This case has already had its one negotiation."),
    ("negotiation_not_available", "此时不能发起协商。", "A negotiation is not possible now."),
    (
        "extend_receipt_not_yet_allowed",
        "物流时间尚不足，暂不能延长收货。",
        "The parcel has not been under way long enough to extend receipt yet.",
    ),
    ("parcel_signed", "包裹已签收，不能延长收货。", "The parcel was signed for: receipt cannot be extended."),
    ("extension_used", "已经延长过一次收货。", "Receipt was already extended once."),
    ("extension_not_in_profile", "本店铺的规则不支持延长收货。", "This shop's rules have no receipt extension."),
    ("resubmission_used", "重新申请的次数已用完。", "No resubmission is left for this case."),
    (
        "no_return_address",
        "店铺还没有默认退货地址，请先在设置中添加。",
        "The shop has no default return address: add one in the settings.",
    ),
    ("case_already_open", "该订单已有进行中的售后单。", "This order already has an open case."),
    ("cod_not_supported", "本店铺不支持货到付款。", "This shop takes no cash-on-delivery orders."),
    ("deadline_not_due", "期限尚未到。", "The deadline is not due yet."),
    (
        "window_closed",
        "已超过可申请售后的期限（七天无理由或质量问题期限），平台仍可介入。",
        "The return window has closed (or the goods have no any-reason window); the platform may still open a case.",
    ),
    (
        "units_not_available",
        "该商品可申请的件数不足：其余已在处理中或已售后。",
        "Fewer units of this line can be applied for than asked.",
    ),
    ("case_limit_reached", "该商品的售后次数已达上限。", "This line already has as many after-sales cases as allowed."),
    ("unknown_evidence", "凭证文件不存在，请重新上传。", "An evidence file is unknown: upload it again."),
    ("evidence_mismatch", "凭证文件与上传的不一致。", "An evidence file does not match its upload."),
    ("version_conflict", "售后单已有新的进展，请查看最新状态。", "The case moved on meanwhile: here is its new state."),
    (
        "idempotency_key_reused",
        "该表单已用于另一个操作，请刷新页面。",
        "This form was used for another request: reload the page.",
    ),
    ("not_found", "没有找到，或者您无权查看。", "Not found, or not yours to see."),
    ("forbidden", "您的角色不能使用此页面。", "Your role may not use this page."),
    ("unauthenticated", "请先登录。", "Please log in."),
    ("login_failed", "登录名或密码错误。", "Wrong login or password."),
    (
        "cursor_expired",
        "事件游标已超出保留期限，请不带游标重新读取。",
        "The event cursor is older than the events kept; start again without one.",
    ),
    ("too_many_attempts", "密码错误次数过多，请稍后再试。", "Too many wrong passwords: try again later."),
    ("body_too_large", "文件太大。", "The file is too large."),
    (
        "unsupported_media_type",
        "只能上传 JPEG、PNG、WebP、MP4 或 PDF 文件。",
        "Only JPEG, PNG, WebP, MP4 or PDF files can be uploaded.",
    ),
    ("demo_only", "只有演示环境可以调整时钟。", "Only the demo's clock can be moved."),
    ("invalid_query", "搜索条件不正确。", "A search field is not in the expected form."),
    ("unavailable", "服务正在启动或停止，请稍后再试。", "The service is starting or stopping: try again shortly."),
    (
        "database_unavailable",
        "数据库暂时不可用，未做任何更改，请稍后再试。",
        "The database is unavailable for a moment; nothing was changed. Try again shortly.",
    ),
    (
        "outcome_unknown",
        "提交时数据库连接中断，操作可能已生效：请刷新页面查看后再决定是否重试。",
        "The connection broke while saving, and the change may have been made: reload the page before trying again.",
    ),
    ("internal", "服务出错了，请稍后再试。", "Something failed on our side: try again shortly."),
];

/// The Chinese of every English text the pages show.
const ZH: &[(&str, &str)] = &include!("zh.in");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_each_text_once_and_every_entry_is_filled() {
        let mut seen = std::collections::HashSet::new();
        for (en, zh) in ZH {
            assert!(seen.insert(*en), "{en:?} twice");
            assert!(!zh.is_empty() && !en.is_empty());
        }
        assert_eq!(Lang::Zh.t("Log in"), "登录");
        assert_eq!(Lang::En.t("Log in"), "Log in");
    }

    /// Every text a page passes to `t` has its Chinese: the page sources are scanned for `.t("…")`.
    #[test]
    fn every_text_the_pages_show_has_its_chinese() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("actions.rs"),
            include_str!("buyer.rs"),
            include_str!("case.rs"),
            include_str!("console.rs"),
            include_str!("dashboard.rs"),
            include_str!("queue.rs"),
            include_str!("settings.rs"),
            include_str!("view.rs"),
        ];
        let mut missing = Vec::new();
        for src in sources {
            let mut rest = src;
            while let Some(i) = rest.find(".t(\"") {
                rest = &rest[i + 4..];
                let Some(end) = rest.find('"') else { break };
                let text = &rest[..end];
                if !zh_table().contains_key(text) {
                    missing.push(text.to_string());
                }
            }
        }
        assert!(missing.is_empty(), "no Chinese for {missing:?}");
    }

    #[test]
    fn every_refusal_of_the_rules_and_every_api_code_has_words() {
        let codes: Vec<&str> =
            crate::error::CODES.iter().map(|c| c.0).chain(aftersale_core::refusal::CODES.iter().map(|c| c.0)).collect();
        for code in codes {
            if matches!(
                code,
                "malformed_json"
                    | "invalid_header"
                    | "unknown_action"
                    | "method_not_allowed"
                    | "timeout"
                    | "malformed_request"
                    | "already_exists"
            ) {
                // Requests the pages never send.
                continue;
            }
            assert!(PROBLEMS.iter().any(|(c, _, _)| *c == code), "no words for {code}");
        }
    }
}
