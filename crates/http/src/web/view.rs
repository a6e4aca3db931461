//! Small pieces the pages share: money, times in the shop's zone, live countdowns, the rules'
//! labels in the viewer's language.

use super::i18n::Lang;
use super::Zone;
use aftersale_core::command::{APPLY_REASONS, REJECT_REASONS};
use aftersale_core::labels::{CASE_TYPES, FLAGS, STATUSES};
use aftersale_core::values::Flag;
use aftersale_core::*;
use maud::{html, Markup};

/// `¥12.50`, `$3.00`, or `12.50 EUR`.
pub fn money(m: Money) -> String {
    let major = format!("{}.{:02}", m.minor() / 100, m.minor() % 100);
    match m.currency().as_str() {
        "CNY" => format!("¥{major}"),
        "USD" => format!("${major}"),
        other => format!("{major} {other}"),
    }
}

/// The amount as a form shows it: `12.50`.
pub fn money_input(m: Money) -> String {
    format!("{}.{:02}", m.minor() / 100, m.minor() % 100)
}

/// A time in the zone, to the minute: `2026-12-01 14:00`.
pub fn local(t: Timestamp, zone: Zone) -> String {
    let s = Timestamp(t.0 + zone.offset.0).to_string();
    // `YYYY-MM-DDTHH:MM:SS…Z`
    format!("{} {}", &s[..10], s.get(11..16).unwrap_or(""))
}

/// The date in the zone: `2026-12-01`.
pub fn local_date(t: Timestamp, zone: Zone) -> String {
    Timestamp(t.0 + zone.offset.0).to_string()[..10].to_string()
}

/// A `<time>` in the zone, the zone named.
pub fn time(t: Timestamp, zone: Zone) -> Markup {
    html! { time datetime=(t.to_string()) { (local(t, zone)) " " small.zone { (zone.name) } } }
}

/// "2d 3h" / "2天3小时": what is left, to the minute under a day.
pub fn left_text(lang: Lang, ms: i64) -> String {
    if ms <= 0 {
        return lang.t("due now").to_string();
    }
    // Up to the minute: "1m left" while any time is left, and the same text as `app.js` shows.
    let mins = (ms + 59_999) / 60_000;
    let (d, h, m) = (mins / 1440, (mins / 60) % 24, mins % 60);
    match lang {
        Lang::Zh if d > 0 => format!("剩{d}天{h}小时"),
        Lang::Zh if h > 0 => format!("剩{h}小时{m}分"),
        Lang::Zh => format!("剩{m}分"),
        Lang::En if d > 0 => format!("{d}d {h}h left"),
        Lang::En if h > 0 => format!("{h}h {m}m left"),
        Lang::En => format!("{m}m left"),
    }
}

/// A live countdown: the server renders the text, `app.js` keeps it moving from the service
/// clock's reading. Red once less than `near` is left (the seeds' "less than 12h").
pub fn countdown(lang: Lang, due: Timestamp, now: Timestamp, near: Dur) -> Markup {
    let left = due.0 - now.0;
    let class = if left <= 0 {
        "countdown overdue"
    } else if left <= near.0 {
        "countdown near"
    } else {
        "countdown"
    };
    html! {
        time class=(class) datetime=(due.to_string()) data-due=(due.0) data-near=(near.0) { (left_text(lang, left)) }
    }
}

pub fn status_label(lang: Lang, s: StatusName) -> &'static str {
    STATUSES.iter().find(|l| l.value == s).map(|l| lang.pick(l.zh, l.en)).unwrap_or("")
}

pub fn type_label(lang: Lang, k: CaseType) -> &'static str {
    CASE_TYPES.iter().find(|l| l.value == k).map(|l| lang.pick(l.zh, l.en)).unwrap_or("")
}

pub fn flag_label(lang: Lang, f: Flag) -> &'static str {
    FLAGS.iter().find(|l| l.value == f).map(|l| lang.pick(l.zh, l.en)).unwrap_or("")
}

/// A reason code of an application or a rejection, in words (the code itself if unknown).
pub fn reason_label(lang: Lang, code: &str) -> String {
    APPLY_REASONS
        .iter()
        .chain(REJECT_REASONS.iter().map(|(r, _)| r))
        .find(|r| r.code == code)
        .map(|r| lang.pick(r.zh, r.en).to_string())
        .unwrap_or_else(|| code.to_string())
}

pub fn party_label(lang: Lang, p: Party) -> &'static str {
    match p {
        Party::Buyer => lang.t("Buyer"),
        Party::Merchant => lang.t("Shop"),
        Party::Platform => lang.t("Platform"),
        Party::System => lang.t("System"),
    }
}

pub fn flag_chip(lang: Lang, f: Option<Flag>) -> Markup {
    html! {
        @if let Some(f) = f {
            span class=(format!("flag flag-{}", f.as_str())) title=(flag_label(lang, f)) {
                span.sr { (flag_label(lang, f)) }
            }
        }
    }
}

/// The words of a log entry: the event's name, in the viewer's language.
pub fn event_label(lang: Lang, e: &Event) -> String {
    let name = serde_json::to_value(e)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
        .unwrap_or_default();
    match EVENT_NAMES.iter().find(|(n, _, _)| *n == name) {
        Some((_, zh, en)) => lang.pick(zh, en).to_string(),
        None => name.replace('_', " "),
    }
}

const EVENT_NAMES: &[(&str, &str, &str)] = &[
    ("applied", "买家申请售后", "The buyer applied"),
    ("withdrawn", "买家撤销申请", "The buyer withdrew"),
    ("resubmitted", "买家修改后重新申请", "The buyer revised and resubmitted"),
    ("rejected", "商家拒绝", "The shop rejected"),
    ("rejected_by_shipping", "商家发货拒绝(拒绝并发货)", "The shop rejected by shipping"),
    ("return_agreed", "商家同意退货", "The shop agreed to the return"),
    ("return_logistics_submitted", "买家填写退货物流", "The buyer sent the return"),
    ("return_parcel_signed", "退货包裹已签收", "The return parcel was signed for"),
    ("buyer_reminded", "提醒买家退货", "The buyer was reminded to ship back"),
    ("receipt_extended", "延长收货时间", "Receipt was extended"),
    ("receipt_confirmed", "商家确认收货", "The shop confirmed receipt"),
    ("turned_into_refund_only", "转为仅退款", "Turned into a refund only"),
    ("refund_started", "退款开始", "The refund started"),
    ("refund_settled", "退款到账", "The refund settled"),
    ("voucher_awaited", "等待商家上传退款凭证", "Waiting for the shop's refund voucher"),
    ("voucher_uploaded", "商家上传退款凭证", "The shop uploaded the refund voucher"),
    ("advance_compensated", "平台先行赔付", "The platform compensated the buyer"),
    ("proposal_made", "商家发起协商", "The shop proposed a settlement"),
    ("proposal_accepted", "买家同意协商", "The buyer accepted the proposal"),
    ("proposal_declined", "买家拒绝协商", "The buyer declined the proposal"),
    ("proposal_withdrawn", "协商已撤回", "The proposal was withdrawn"),
    ("proposal_lapsed", "协商已失效", "The proposal lapsed"),
    ("escalated", "申请平台介入", "Taken to the platform"),
    ("evidence_requested", "平台要求举证", "The platform asked for evidence"),
    ("evidence_submitted", "商家提交举证", "The shop submitted evidence"),
    ("ruled", "平台裁决", "The platform ruled"),
    ("appeal_submitted", "商家提交申诉", "The shop appealed"),
    ("appeal_review_started", "平台开始审核申诉", "The platform started reviewing the appeal"),
    ("appeal_decided", "申诉已有结果", "The appeal was decided"),
    ("appeal_window_closed", "申诉期已过", "The appeal window closed"),
    ("closed", "售后关闭", "The case closed"),
    ("evidence_added", "补充凭证", "Evidence was added"),
    ("message_posted", "留言", "A message was posted"),
    ("case_remark_set", "修改售后备注", "The case remark was changed"),
    ("reminder_sent", "发送提醒", "A reminder was sent"),
    ("reminder_dropped", "提醒已取消", "A reminder was dropped"),
    ("deadline_fired", "期限已到,系统自动处理", "A deadline passed and the system acted"),
    ("merchant_refund_opened", "商家主动退款", "The shop refunded of its own accord"),
    ("received_in_part", "商家部分收货", "The shop received the return in part"),
    ("split_off", "未收到的商品转为新售后单", "Opened for units a return arrived without"),
    ("replacement_awaited", "等待商家发货", "Waiting for the shop to ship the goods"),
    ("replacement_shipped", "商家已发货", "The shop shipped the goods"),
    ("replacement_delivered", "商品已送达", "The goods were delivered"),
    ("replacement_confirmed", "买家确认收货", "The goods were confirmed received"),
    ("replacement_turned_to_refund", "未按时发货,改为退款", "Not shipped in time: refunded instead"),
    ("intercept_requested", "商家申请物流拦截", "The shop asked the carrier to stop the parcel"),
    ("intercept_answered", "物流拦截结果", "The carrier answered the intercept"),
    ("intercept_returned", "拦截包裹已退回", "The stopped parcel is back"),
    ("flag_set", "设置旗帜", "The flag was set"),
    ("order_remark_set", "修改订单备注", "The order remark was changed"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_is_rounded_up_to_the_minute_in_both_languages() {
        let day = 86_400_000;
        assert_eq!(left_text(Lang::En, 6 * day), "6d 0h left");
        assert_eq!(left_text(Lang::En, 6 * day - 1), "6d 0h left", "the browser's clock a moment later");
        assert_eq!(left_text(Lang::En, 6 * day + 1), "6d 0h left");
        assert_eq!(left_text(Lang::Zh, 3 * 3_600_000 + 1), "剩3小时1分");
        assert_eq!(left_text(Lang::En, 30_000), "1m left");
        assert_eq!(left_text(Lang::En, 0), "due now");
        assert_eq!(left_text(Lang::Zh, -5), "已到期");
    }

    #[test]
    fn a_countdown_turns_red_within_the_near_window_and_says_when_overdue() {
        let now = Timestamp(1_000_000);
        let near = Dur::hours(12);
        let class = |due: i64| countdown(Lang::En, Timestamp(due), now, near).into_string();
        assert!(class(now.0 + near.0 + 1).contains("class=\"countdown\""));
        assert!(class(now.0 + near.0).contains("countdown near"));
        assert!(class(now.0).contains("countdown overdue"));
    }

    #[test]
    fn times_are_shown_in_the_zone_to_the_minute() {
        let t = Timestamp::parse_rfc3339("2026-12-01T18:30:00Z").unwrap();
        assert_eq!(local(t, Zone::SHANGHAI), "2026-12-02 02:30");
        assert_eq!(local(t, Zone { name: "UTC", offset: Dur(0) }), "2026-12-01 18:30");
        assert_eq!(local_date(t, Zone::SHANGHAI), "2026-12-02");
        assert_eq!(money(Money::cny(1205)), "¥12.05");
    }
}
