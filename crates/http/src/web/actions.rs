//! One form per case action, shown only when the engine lists the action as available to the
//! viewer now. A refused form comes back open, with what was typed and the files already sent
//! kept, and the refusal in words next to the field it names.

use super::case::Extras;
use super::view::*;
use super::Viewer;
use aftersale_core::command::{APPLY_REASONS, REFUSE_FREIGHT_COLLECT_TEXT, REJECT_REASONS};
use aftersale_core::labels::{CASE_TYPES, FLAGS};
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::CaseSheet;
use maud::{html, Markup};

/// A refused form: which, why, and what it held.
pub struct FormError {
    pub action: String,
    pub message: String,
    pub field: Option<String>,
    pub values: Vec<(String, String)>,
    /// Files uploaded before the refusal: (key, caption).
    pub kept: Vec<(String, String)>,
}

/// The words of an action (the button and the form's title).
pub fn title(action: &str) -> &'static str {
    match action {
        "apply" => "Apply",
        "withdraw" => "Withdraw the request",
        "resubmit" => "Revise and resubmit",
        "escalate" => "Ask the platform to step in",
        "submit_return_logistics" => "Send the return",
        "accept_proposal" => "Accept the proposal",
        "decline_proposal" => "Decline the proposal",
        "add_evidence" => "Add evidence",
        "post_message" => "Send message",
        "refund" => "Refund now",
        "reject_by_shipping" => "Reject by shipping",
        "reject" => "Reject",
        "agree_return" => "Agree to the return",
        "received_refund" => "Received, refund",
        "received_part" => "Received in part",
        "extend_receipt" => "Extend receipt",
        "remind_buyer" => "Remind the buyer to ship back",
        "propose" => "Propose a settlement",
        "submit_evidence" => "Submit arbitration evidence",
        "upload_voucher" => "Upload the refund voucher",
        "appeal" => "Appeal the ruling",
        "set_remark" => "Save case remark",
        "request_evidence" => "Request evidence",
        "rule" => "Rule",
        "review_appeal" => "Start reviewing the appeal",
        "decide_appeal" => "Decide the appeal",
        "set_flag" => "Set flag",
        "set_order_remark" => "Save order remark",
        "ship_replacement" => "Ship the goods",
        "merchant_refund" => "Refund the buyer on this order",
        "request_intercept" => "Ask the carrier to stop the parcel",
        "confirm_replacement" => "Confirm the goods arrived",
        _ => "Action",
    }
}

/// Actions that cannot be taken back ask once more in the browser.
fn confirm(v: &Viewer, action: &str) -> Option<&'static str> {
    matches!(
        action,
        "refund"
            | "reject"
            | "withdraw"
            | "rule"
            | "decide_appeal"
            | "received_refund"
            | "received_part"
            | "reject_by_shipping"
    )
    .then(|| v.t("Are you sure? This cannot be undone."))
}

/// What a form needs to render its controls.
struct F<'a> {
    v: &'a Viewer,
    case: CaseId,
    action: &'static str,
    err: Option<&'a FormError>,
}

impl F<'_> {
    fn mine(&self) -> Option<&FormError> {
        self.err.filter(|e| e.action == self.action)
    }

    /// The value typed before a refusal, else `default`.
    fn val(&self, name: &str, default: &str) -> String {
        match self.mine() {
            Some(e) => e.values.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default(),
            None => default.to_string(),
        }
    }

    fn id(&self, name: &str) -> String {
        format!("f-{}-{}", self.action, name.replace('.', "-"))
    }

    /// Whether the refusal names this field (`evidence[0]` names `files`).
    fn at_fault(&self, name: &str) -> bool {
        self.mine().and_then(|e| e.field.as_deref()).is_some_and(|f| {
            f == name || f.starts_with(&format!("{name}.")) || (name == "files" && f.starts_with("evidence"))
        })
    }

    fn field_error(&self, name: &str) -> Markup {
        html! {
            @if self.at_fault(name) {
                @if let Some(e) = self.mine() { p.field-error id=(format!("{}-err", self.id(name))) { (e.message) } }
            }
        }
    }

    fn described(&self, name: &str) -> Option<String> {
        self.at_fault(name).then(|| format!("{}-err", self.id(name)))
    }

    fn text(&self, name: &str, label: &str, required: bool, max: usize) -> Markup {
        html! {
            label for=(self.id(name)) { (label) @if required { " *" } }
            input id=(self.id(name)) name=(name) value=(self.val(name, "")) required[required] maxlength=(max)
                aria-invalid=[self.at_fault(name).then_some("true")] aria-describedby=[self.described(name)];
            (self.field_error(name))
        }
    }

    fn area(&self, name: &str, label: &str, required: bool, max: usize, default: &str) -> Markup {
        html! {
            label for=(self.id(name)) { (label) @if required { " *" } }
            textarea id=(self.id(name)) name=(name) rows="3" required[required] maxlength=(max)
                aria-invalid=[self.at_fault(name).then_some("true")] aria-describedby=[self.described(name)] { (self.val(name, default)) }
            (self.field_error(name))
        }
    }

    fn select(&self, name: &str, label: &str, options: &[(String, String)], default: &str) -> Markup {
        let chosen = self.val(name, default);
        html! {
            label for=(self.id(name)) { (label) }
            select id=(self.id(name)) name=(name) aria-invalid=[self.at_fault(name).then_some("true")] aria-describedby=[self.described(name)] {
                @for (value, text) in options { option value=(value) selected[*value == chosen] { (text) } }
            }
            (self.field_error(name))
        }
    }

    fn amount(&self, default: Money) -> Markup {
        html! {
            label for=(self.id("amount")) { (self.v.t("Amount")) " (" (default.currency().as_str()) ") *" }
            input id=(self.id("amount")) name="amount" inputmode="decimal" required value=(self.val("amount", &money_input(default)))
                pattern=r"[0-9]+(\.[0-9]{1,2})?" aria-invalid=[self.at_fault("amount").then_some("true")] aria-describedby=[self.described("amount")];
            (self.field_error("amount"))
        }
    }

    fn files(&self, required: bool) -> Markup {
        let kept = self.mine().map(|e| e.kept.clone()).unwrap_or_default();
        html! {
            @for (key, _) in &kept { input type="hidden" name="evidence_key" value=(key); }
            @if !kept.is_empty() { p.kept { (self.v.t("Files already attached")) ": " (kept.len()) } }
            label for=(self.id("files")) { (self.v.t("Evidence files (JPEG, PNG, WebP, MP4, PDF)")) @if required { " *" } }
            input id=(self.id("files")) type="file" name="files" multiple accept="image/jpeg,image/png,image/webp,video/mp4,application/pdf"
                aria-invalid=[self.at_fault("files").then_some("true")] aria-describedby=[self.described("files")];
            label for=(self.id("caption")) { (self.v.t("Caption")) }
            input id=(self.id("caption")) name="caption" maxlength="500" value=(self.val("caption", ""));
            (self.field_error("files"))
        }
    }

    /// The form around the controls; open when it was refused.
    fn form(&self, version: u64, multipart: bool, controls: Markup) -> Markup {
        let mine = self.mine();
        let general = mine.filter(|e| {
            e.field.as_deref().is_none_or(|f| {
                ![
                    "files",
                    "amount",
                    "text",
                    "reason",
                    "reason_code",
                    "explanation",
                    "instructions",
                    "logistics",
                    "refund_account",
                    "address_id",
                    "kind",
                    "for_party",
                    "flag",
                ]
                .iter()
                .any(|n| f == *n || f.starts_with(&format!("{n}.")) || (*n == "files" && f.starts_with("evidence")))
            })
        });
        html! {
            details.action id=(format!("act-{}", self.action)) open[mine.is_some()] {
                summary { (self.v.t(title(self.action))) }
                form method="post" action=(format!("/cases/{}/act/{}", self.case, self.action))
                    enctype=[multipart.then_some("multipart/form-data")] novalidate[false] {
                    (self.v.form_fields())
                    input type="hidden" name="version" value=(version);
                    @if let Some(e) = general { p.error role="alert" { (e.message) } }
                    // The refusal itself is said once, next to the field it names.
                    @else if mine.is_some() { p.error role="alert" { (self.v.t("Please correct the field marked below.")) } }
                    (controls)
                    button type="submit" data-confirm=[confirm(self.v, self.action)] { (self.v.t(title(self.action))) }
                }
            }
        }
    }

    /// A one-button form (no inputs).
    fn button(&self, version: u64) -> Markup {
        let mine = self.mine();
        html! {
            form.one method="post" action=(format!("/cases/{}/act/{}", self.case, self.action)) id=(format!("act-{}", self.action)) {
                (self.v.form_fields())
                input type="hidden" name="version" value=(version);
                @if let Some(e) = mine { p.error role="alert" { (e.message) } }
                button type="submit" data-confirm=[confirm(self.v, self.action)] { (self.v.t(title(self.action))) }
            }
        }
    }
}

fn kinds(v: &Viewer) -> Vec<(String, String)> {
    CASE_TYPES.iter().map(|l| (l.value.as_str().to_string(), v.lang.pick(l.zh, l.en).to_string())).collect()
}

fn address_picker(f: &F, extras: &Extras, optional: bool) -> Markup {
    let mut options: Vec<(String, String)> = Vec::new();
    if optional {
        options.push((String::new(), f.v.t("(none)").to_string()));
    }
    let mut default = String::new();
    for (a, is_default) in &extras.addresses {
        if *is_default && !optional {
            default = a.id.0.to_string();
        }
        let mark = if *is_default { format!(" ({})", f.v.t("default")) } else { String::new() };
        options.push((a.id.0.to_string(), format!("{} · {} {}{}", a.name, a.region, a.detail, mark)));
    }
    f.select("address_id", f.v.t("Return address"), &options, &default)
}

/// The forms of the viewer's available actions (the thread's message and the remarks are shown
/// in their own sections).
pub fn forms(v: &Viewer, sheet: &CaseSheet, extras: &Extras, err: Option<&FormError>) -> Vec<Markup> {
    let case = &sheet.case;
    let version = case.version;
    let mut out = Vec::new();
    for a in &sheet.actions {
        let f = F { v, case: case.id, action: a.as_str(), err };
        let m = match a {
            // In their own sections: the thread, and the merchant's remarks and flag.
            Action::PostMessage | Action::SetRemark | Action::SetFlag | Action::SetOrderRemark => continue,
            Action::Withdraw
            | Action::AcceptProposal
            | Action::DeclineProposal
            | Action::Refund
            | Action::ReceivedRefund
            | Action::ExtendReceipt
            | Action::RemindBuyer
            | Action::ReviewAppeal
            | Action::ConfirmReplacement
            | Action::RequestIntercept => f.button(version),
            // L5: the units found in the parcel, per line of the case (all of them to start).
            Action::ReceivedPart => f.form(version, false, html! {
                p.hint { (v.t("The refund covers the units that arrived; the missing ones become a case of their own, which you refund or reject with evidence.")) }
                @let order = sheet.order.with_lines();
                @for p in case.picks() {
                    @let name = format!("received.{}", p.line);
                    @let title = order.lines.iter().find(|l| l.no == p.line).map_or("", |l| l.title.as_str());
                    label for=(f.id(&name)) { (if title.is_empty() { v.t("Units") } else { title }) " · " (p.units) " " (v.t("in the return")) }
                    input id=(f.id(&name)) type="number" name=(name) min="0" max=(p.units) step="1" value=(f.val(&name, &p.units.to_string()));
                }
                (f.field_error("received"))
            }),
            Action::ShipReplacement => f.form(version, false, html! {
                (f.text("logistics.carrier", v.t("Carrier"), true, 32))
                (f.text("logistics.tracking_no", v.t("Tracking number"), true, 40))
            }),
            Action::Resubmit => {
                let reasons: Vec<(String, String)> =
                    APPLY_REASONS.iter().map(|r| (r.code.to_string(), v.lang.pick(r.zh, r.en).to_string())).collect();
                f.form(version, true, html! {
                    (f.select("kind", v.t("Type"), &kinds(v), case.kind.as_str()))
                    (f.select("reason", v.t("Reason"), &reasons, &case.reason))
                    (f.amount(case.requested_amount))
                    (f.area("description", v.t("Description"), false, 1000, &case.description))
                    (f.files(false))
                })
            }
            Action::Escalate => f.form(version, false, html! { (f.area("reason", v.t("Why the platform should step in"), true, 500, "")) }),
            Action::SubmitReturnLogistics => f.form(version, false, html! {
                (f.text("logistics.carrier", v.t("Carrier"), true, 32))
                (f.text("logistics.tracking_no", v.t("Tracking number"), true, 40))
                @if sheet.order.payment == PaymentMethod::Cod && case.refund_account.is_none() {
                    fieldset {
                        legend { (v.t("Refund account (cash on delivery)")) }
                        (f.text("refund_account.holder", v.t("Account holder"), false, 64))
                        (f.text("refund_account.bank", v.t("Bank"), false, 64))
                        (f.text("refund_account.number", v.t("Account number"), false, 34))
                    }
                }
            }),
            Action::AddEvidence => f.form(version, true, f.files(true)),
            Action::RejectByShipping => f.form(version, false, html! {
                (f.text("logistics.carrier", v.t("Carrier"), true, 32))
                (f.text("logistics.tracking_no", v.t("Tracking number"), true, 40))
            }),
            Action::Reject => {
                // The rules say at which stage this rejection would be, and so which reasons fit.
                let stage = aftersale_core::decide::reject_stage(case);
                let reasons: Vec<(String, String)> = REJECT_REASONS
                    .iter()
                    .filter(|(_, stages)| stages.contains(&stage))
                    .map(|(r, _)| (r.code.to_string(), v.lang.pick(r.zh, r.en).to_string()))
                    .collect();
                f.form(version, true, html! {
                    (f.select("reason_code", v.t("Reason"), &reasons, ""))
                    (f.area("explanation", v.t("Explanation"), false, 1000, ""))
                    (f.files(true))
                })
            }
            Action::AgreeReturn => f.form(version, false, html! {
                (address_picker(&f, extras, false))
                div.check {
                    input id=(f.id("refuse_freight_collect")) type="checkbox" name="refuse_freight_collect" checked[f.val("refuse_freight_collect", "") == "on"];
                    label for=(f.id("refuse_freight_collect")) { (v.t("Send the buyer the SMS")) " “" (REFUSE_FREIGHT_COLLECT_TEXT) "”" }
                }
            }),
            Action::Propose => f.form(version, false, html! {
                @let other = if case.kind == CaseType::ReturnRefund { CaseType::RefundOnly } else { CaseType::ReturnRefund };
                (f.select("kind", v.t("Type"), &kinds(v), other.as_str()))
                (f.amount(case.amount))
                (address_picker(&f, extras, true))
            }),
            Action::SubmitEvidence => f.form(version, true, html! {
                (f.area("explanation", v.t("Explanation"), true, 2000, ""))
                (f.files(false))
            }),
            Action::UploadVoucher => f.form(version, true, f.files(true)),
            Action::Appeal => f.form(version, true, html! {
                (f.area("text", v.t("Why the ruling is wrong"), true, 2000, ""))
                (f.files(false))
            }),
            Action::RequestEvidence => f.form(version, false, f.area("instructions", v.t("What the shop must show"), true, 1000, "")),
            Action::Rule => {
                let parties = vec![("buyer".to_string(), v.t("For the buyer").to_string()), ("merchant".to_string(), v.t("For the shop").to_string())];
                f.form(version, false, html! {
                    (f.select("for_party", v.t("Decision"), &parties, "buyer"))
                    (f.area("reason", v.t("Reason"), true, 1000, ""))
                })
            }
            Action::DecideAppeal => {
                let options = vec![("true".to_string(), v.t("Uphold the appeal").to_string()), ("false".to_string(), v.t("Dismiss the appeal").to_string())];
                f.form(version, false, html! {
                    (f.select("upheld", v.t("Decision"), &options, "false"))
                    (f.area("reason", v.t("Reason"), true, 1000, ""))
                })
            }
            Action::Expire
            | Action::RecordRefundOutcome
            | Action::ReturnParcelSigned
            | Action::ReplacementDelivered
            | Action::InterceptResult
            | Action::InterceptReturned => {
                continue
            }
        };
        out.push(m);
    }
    out
}

/// The thread's message form, with the shop's reply templates (T2).
pub fn post_message(v: &Viewer, sheet: &CaseSheet, extras: &Extras, err: Option<&FormError>) -> Markup {
    let f = F { v, case: sheet.case.id, action: "post_message", err };
    let mut options = vec![(String::new(), v.t("(type your own)").to_string())];
    options.extend(extras.templates.iter().map(|t| (t.id.to_string(), t.title.clone())));
    html! {
        form method="post" action=(format!("/cases/{}/act/post_message", sheet.case.id)) id="act-post_message" {
            (v.form_fields())
            input type="hidden" name="version" value=(sheet.case.version);
            @if let Some(e) = f.mine().filter(|_| !f.at_fault("text")) { p.error role="alert" { (e.message) } }
            @if !extras.templates.is_empty() {
                (f.select("template_id", v.t("Reply template"), &options, ""))
                @for t in &extras.templates { template data-template=(t.id) { (t.body) } }
            }
            (f.area("text", v.t("Message"), false, 2000, ""))
            button type="submit" { (v.t("Send message")) }
        }
    }
}

/// W3 and W4 for merchant staff: the order remark and the case remark side by side, and the flag.
/// C1: the shop refunds the buyer of its own accord, on units of the order no case holds — a new
/// case, refunded at once. Offered on the case page while some unit is free.
fn merchant_refund_form(v: &Viewer, sheet: &CaseSheet, err: Option<&FormError>) -> Markup {
    use aftersale_core::command::MERCHANT_REFUND_REASONS;
    let order = sheet.order.with_lines();
    let free: Vec<(u32, String, u32)> = order
        .lines
        .iter()
        .zip(&order.line_use)
        .map(|(l, u)| (l.no, l.title.clone(), aftersale_core::lines::units::available_units(l, u)))
        .filter(|(_, _, n)| *n > 0)
        .collect();
    if free.is_empty() || order.state == OrderState::Cancelled {
        return html! {};
    }
    let f = F { v, case: sheet.case.id, action: "merchant_refund", err };
    let reasons: Vec<(String, String)> =
        MERCHANT_REFUND_REASONS.iter().map(|r| (r.code.to_string(), v.lang.pick(r.zh, r.en).to_string())).collect();
    html! {
        (f.form(sheet.case.version, false, html! {
            (f.select("reason", v.t("Reason"), &reasons, "goodwill"))
            @for (no, title, n) in &free {
                @let name = format!("units.{no}");
                label for=(f.id(&name)) { (if title.is_empty() { v.t("Units") } else { title.as_str() }) " · " (n) " " (v.t("available")) }
                input id=(f.id(&name)) type="number" name=(name) min="0" max=(n) step="1" value=(f.val(&name, "0"));
            }
            (f.field_error("lines"))
            (f.amount(Money::zero(order.total.currency())))
            (f.area("description", v.t("Description"), false, 1000, ""))
        }))
    }
}

pub fn merchant_panel(v: &Viewer, sheet: &CaseSheet, err: Option<&FormError>) -> Markup {
    let id = sheet.case.id;
    let order_f = F { v, case: id, action: "set_order_remark", err };
    let case_f = F { v, case: id, action: "set_remark", err };
    let flag_f = F { v, case: id, action: "set_flag", err };
    let mut flags = vec![(String::new(), v.t("No flag").to_string())];
    flags.extend(FLAGS.iter().map(|l| (l.value.as_str().to_string(), v.lang.pick(l.zh, l.en).to_string())));
    let current_flag = sheet.order.flag.map(|f| f.as_str()).unwrap_or("");
    html! {
        section aria-labelledby="remarks-h" {
            h2 id="remarks-h" { (v.t("Remarks and flag")) }
            div.grid {
                @if sheet.actions.contains(&Action::SetOrderRemark) {
                    form method="post" action=(format!("/cases/{id}/act/set_order_remark")) {
                        (v.form_fields())
                        @if let Some(e) = order_f.mine().filter(|_| !order_f.at_fault("text")) { p.error role="alert" { (e.message) } }
                        (order_f.area("text", v.t("Order remark (shared by the order's cases)"), false, 500, &sheet.order.remark))
                        button type="submit" { (v.t("Save order remark")) }
                    }
                }
                @if sheet.actions.contains(&Action::SetRemark) {
                    form method="post" action=(format!("/cases/{id}/act/set_remark")) {
                        (v.form_fields())
                        input type="hidden" name="version" value=(sheet.case.version);
                        @if let Some(e) = case_f.mine().filter(|_| !case_f.at_fault("text")) { p.error role="alert" { (e.message) } }
                        (case_f.area("text", v.t("Case remark"), false, 500, &sheet.case.remark))
                        button type="submit" { (v.t("Save case remark")) }
                    }
                }
                div { (merchant_refund_form(v, sheet, err)) }
                @if sheet.actions.contains(&Action::SetFlag) {
                    form method="post" action=(format!("/cases/{id}/act/set_flag")) {
                        (v.form_fields())
                        @if let Some(e) = flag_f.mine().filter(|_| !flag_f.at_fault("flag")) { p.error role="alert" { (e.message) } }
                        (flag_f.select("flag", v.t("Flag"), &flags, current_flag))
                        button type="submit" { (v.t("Set flag")) }
                    }
                }
            }
        }
    }
}
