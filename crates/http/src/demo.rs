//! The demo: a fresh database seeded with shops on each profile, staff, buyers, platform
//! agents, address books, reply templates, and orders and cases in every queue and state, all
//! through the same use-cases the API calls. The server then runs on the manual clock.

use crate::auth::{hash_password, new_token, sha256_hex};
use crate::state::AppState;
use aftersale_core::lines::receipt::Received;
use aftersale_core::lines::units::Pick;
use aftersale_core::lines::{LineKind, NewLine};
use aftersale_core::notice::Recipient;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::accounts::NewUser;
use aftersale_engine::{AddressInput, Engine, EngineError, EvidenceObject, Role};
use serde::Serialize;
use std::collections::BTreeMap;

pub const DEMO_PASSWORD: &str = "demo-password";

/// What the demo prints: logins (all with `DEMO_PASSWORD`) and one API token per role.
#[derive(Debug, Clone, Serialize)]
pub struct Credentials {
    pub logins: BTreeMap<String, String>,
    pub tokens: BTreeMap<String, String>,
}

fn e2s(e: EngineError) -> String {
    e.to_string()
}

/// A 1x1 PNG, stored as evidence so the demo's rejections and vouchers carry real files.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

struct Seeder<'a> {
    engine: &'a Engine,
    state: &'a AppState,
    rt: tokio::runtime::Handle,
    hash: String,
    n: u32,
}

impl Seeder<'_> {
    fn user(
        &self,
        login: &str,
        role: Role,
        shop: Option<ShopId>,
        name: &str,
    ) -> Result<aftersale_engine::UserRecord, String> {
        self.engine
            .create_user(NewUser {
                login: login.into(),
                role,
                shop_id: shop,
                display_name: name.into(),
                password_hash: self.hash.clone(),
            })
            .map_err(e2s)
    }

    fn token(&self, user: i64, name: &str) -> Result<String, String> {
        let token = new_token().map_err(|e| e.0.detail.clone())?;
        self.engine
            .issue_token(user, sha256_hex(token.as_bytes()), name, aftersale_engine::TokenScope::Full)
            .map_err(e2s)?;
        Ok(token)
    }

    fn evidence(
        &self,
        uploader: i64,
        shop: Option<ShopId>,
        buyer: Option<BuyerId>,
        caption: &str,
    ) -> Result<Evidence, String> {
        let key = format!("ev-{}", &new_token().map_err(|e| e.0.detail.clone())?[3..35]);
        let objects = self.state.objects.clone();
        let k = key.clone();
        self.rt
            .block_on(async move { crate::objects::put(objects.as_ref(), &k, bytes::Bytes::from_static(PNG)).await })?;
        let sha256 = sha256_hex(PNG);
        self.engine
            .record_evidence(EvidenceObject {
                key: key.clone(),
                uploader,
                shop_id: shop,
                buyer_id: buyer,
                kind: EvidenceKind::Image,
                content_type: "image/png".into(),
                size: PNG.len() as u64,
                sha256: sha256.clone(),
                created_at: self.engine.now(),
            })
            .map_err(e2s)?;
        Ok(Evidence { key, kind: EvidenceKind::Image, sha256, caption: caption.into() })
    }

    /// An order in `shop`, paid (online) and, if `delivered`, shipped and signed for.
    fn order(
        &mut self,
        shop: ShopId,
        staff: Actor,
        buyer: BuyerId,
        payment: PaymentMethod,
        delivered: bool,
        yuan: i64,
    ) -> Result<Order, String> {
        self.order_of(shop, staff, buyer, payment, delivered, yuan, vec![])
    }

    /// A delivered three-line order (L1): two thermos cups, a rice cooker, three boxes of
    /// strawberries (fresh), 20 off the list price.
    fn three_lines(&mut self, shop: ShopId, staff: Actor, buyer: BuyerId) -> Result<Order, String> {
        let currency = self.engine.policy_of(shop).map_err(e2s)?.currency;
        let money = |minor: i64| Money::new(minor, currency).map_err(|e| e.to_string());
        let line = |sku: &str, title: &str, quantity: u32, unit: i64, kind: LineKind| -> Result<NewLine, String> {
            Ok(NewLine { sku: sku.into(), title: title.into(), quantity, unit_price: money(unit * 100)?, kind })
        };
        let lines = vec![
            line("CUP-RED-500", "保温杯 红色 500ml", 2, 40, LineKind::Standard)?,
            line("COOKER-3L", "电饭煲 3L", 1, 100, LineKind::Standard)?,
            line("BERRY-1KG", "草莓 1kg", 3, 10, LineKind::Fresh)?,
        ];
        self.order_of(shop, staff, buyer, PaymentMethod::Online, true, 190, lines)
    }

    #[allow(clippy::too_many_arguments)]
    fn order_of(
        &mut self,
        shop: ShopId,
        staff: Actor,
        buyer: BuyerId,
        payment: PaymentMethod,
        delivered: bool,
        yuan: i64,
        lines: Vec<NewLine>,
    ) -> Result<Order, String> {
        self.n += 1;
        let names = ["王小明", "李华", "张伟", "刘洋", "陈静", "杨帆"];
        // Amounts in the currency of the shop's platform (O1); "yuan" are its major units.
        let currency = self.engine.policy_of(shop).map_err(e2s)?.currency;
        let money = |minor: i64| Money::new(minor, currency).map_err(|e| e.to_string());
        let new = NewOrder {
            order_no: format!("DY{}{:04}", 2026_1100 + shop.0, self.n),
            buyer_id: buyer,
            payment,
            total: money(yuan * 100 + 1000)?,
            shipping_fee: money(1000)?,
            fresh: false,
            customer_name: names[self.n as usize % names.len()].into(),
            customer_phone: Phone::parse(&format!("138{:08}", 10_000_000 + self.n * 7919))
                .map_err(|e| e.to_string())?,
            lines,
        };
        let mut o = self.engine.create_order(staff, shop, new, None).map_err(e2s)?;
        if payment == PaymentMethod::Online {
            o = self.engine.order_command(Actor::System, o.id, OrderCommand::Pay, None, None).map_err(e2s)?;
        } else {
            o = self.engine.order_command(staff, o.id, OrderCommand::Confirm, None, None).map_err(e2s)?;
        }
        if delivered {
            let logistics = Logistics {
                carrier: Carrier::parse("SF").map_err(|e| e.to_string())?,
                tracking_no: TrackingNo::parse(&format!("SF{:010}", 1_000_000 + self.n)).map_err(|e| e.to_string())?,
            };
            self.engine.order_command(staff, o.id, OrderCommand::Ship { logistics }, None, None).map_err(e2s)?;
            o = self.engine.order_command(Actor::System, o.id, OrderCommand::Deliver, None, None).map_err(e2s)?;
        }
        Ok(o)
    }

    fn apply(
        &self,
        buyer: BuyerId,
        order: &Order,
        kind: CaseType,
        reason: &str,
        yuan: i64,
        account: Option<RefundAccount>,
    ) -> Result<Case, String> {
        self.apply_lines(buyer, order, kind, reason, yuan, account, &[])
    }

    /// An application naming lines and units (L2); `yuan` may be 0 for an exchange or a resend.
    #[allow(clippy::too_many_arguments)]
    fn apply_lines(
        &self,
        buyer: BuyerId,
        order: &Order,
        kind: CaseType,
        reason: &str,
        yuan: i64,
        account: Option<RefundAccount>,
        lines: &[(u32, u32)],
    ) -> Result<Case, String> {
        let cmd = Apply {
            kind,
            reason: reason.into(),
            amount: Money::new(yuan * 100, order.total.currency()).map_err(|e| e.to_string())?,
            description: "演示 / demo".into(),
            evidence: vec![],
            refund_account: account,
            lines: lines.iter().map(|&(line, units)| Pick { line, units }).collect(),
        };
        self.engine.apply(Actor::Buyer { buyer }, order.id, cmd, None).map_err(e2s)
    }

    /// K1: an exchange of one unit of `line`, agreed to `address`, sent back and received: the
    /// replacement is owed.
    fn exchange_received(
        &mut self,
        order: &Order,
        buyer: BuyerId,
        merchant: Actor,
        address: &Address,
        reason: &str,
        line: u32,
    ) -> Result<Case, String> {
        let ex = self.apply_lines(buyer, order, CaseType::Exchange, reason, 0, None, &[(line, 1)])?;
        let ex = self.sent_back(&ex, buyer, merchant, address)?;
        self.cmd(merchant, &ex, CaseCommand::ReceivedRefund)
    }

    /// A case that takes goods back, agreed to `address` and its parcel sent: awaiting receipt.
    fn sent_back(&mut self, case: &Case, buyer: BuyerId, merchant: Actor, address: &Address) -> Result<Case, String> {
        let agree = CaseCommand::AgreeReturn { address: address.clone(), refuse_freight_collect: false };
        let case = self.cmd(merchant, case, agree)?;
        self.n += 1;
        let back = CaseCommand::SubmitReturnLogistics { logistics: logistics(self.n)?, refund_account: None };
        self.cmd(Actor::Buyer { buyer }, &case, back)
    }

    fn cmd(&self, actor: Actor, case: &Case, cmd: CaseCommand) -> Result<Case, String> {
        self.engine.case_command(actor, case.id, cmd, None, None).map_err(e2s)
    }
}

fn logistics(n: u32) -> Result<Logistics, String> {
    Ok(Logistics {
        carrier: Carrier::parse("YTO").map_err(|e| e.to_string())?,
        tracking_no: TrackingNo::parse(&format!("YT{:010}", 5_000_000 + n)).map_err(|e| e.to_string())?,
    })
}

/// Seeds the demo data. Call on a fresh database with the manual clock; blocks (run it on the
/// blocking pool).
pub fn seed(state: &AppState, rt: tokio::runtime::Handle) -> Result<Credentials, String> {
    let engine = state.engine.as_ref();
    let clock = state.manual_clock.clone().ok_or("the demo needs the manual clock")?;
    let hash = hash_password(DEMO_PASSWORD).map_err(|e| e.0.detail.clone())?;
    let mut s = Seeder { engine, state, rt, hash, n: 0 };
    let mut logins = BTreeMap::new();

    let admin = s.user("admin", Role::Admin, None, "Platform admin")?;
    let agent = s.user("agent", Role::Agent, None, "Arbitration agent 仲裁专员")?;
    logins.insert("admin".into(), "platform admin".into());
    logins.insert("agent".into(), "platform agent".into());
    let alice = s.user("alice", Role::Buyer, None, "Alice 买家")?;
    let bob = s.user("bob", Role::Buyer, None, "Bob 买家")?;
    logins.insert("alice".into(), "buyer".into());
    logins.insert("bob".into(), "buyer".into());
    let (ba, bb) = (BuyerId(alice.id), BuyerId(bob.id));
    let platform = Actor::Platform { agent: AgentId(agent.id) };

    let mut shops = Vec::new();
    for (profile, name) in
        [("douyin", "抖店 Demo Shop"), ("taote", "淘特 Demo Shop"), ("tiktok_shop", "TikTok Demo Shop")]
    {
        let shop = engine.create_shop(name, profile, PolicyOverrides::default()).map_err(e2s)?;
        let owner = s.user(
            &format!("owner-{profile}").replace('_', "-"),
            Role::Owner,
            Some(shop.id),
            &format!("{name} owner"),
        )?;
        let staff = s.user(
            &format!("staff-{profile}").replace('_', "-"),
            Role::Staff,
            Some(shop.id),
            &format!("{name} staff"),
        )?;
        logins.insert(owner.login.clone(), format!("shop owner, {profile}"));
        logins.insert(staff.login.clone(), format!("shop staff, {profile}"));
        for (i, (region, detail)) in
            [("浙江省 杭州市 余杭区", "文一西路 969 号 退货仓"), ("广东省 深圳市 南山区", "科技园 8 栋 售后部")]
                .iter()
                .enumerate()
        {
            engine
                .add_address(
                    shop.id,
                    AddressInput {
                        name: "售后仓 Returns".into(),
                        phone: Phone::parse(&format!("1390571{:04}", 8800 + i)).map_err(|e| e.to_string())?,
                        region: (*region).into(),
                        detail: (*detail).into(),
                        is_default: i == 0,
                    },
                )
                .map_err(e2s)?;
        }
        engine.add_template(shop.id, "已同意退款", "您好，已为您办理退款，请留意原路退回。").map_err(e2s)?;
        engine.add_template(shop.id, "请寄回商品", "您好，请按售后地址寄回商品并填写单号。").map_err(e2s)?;
        shops.push((shop, owner, staff));
    }

    // Phase 1, three days ago: cases that are finished or far along by now.
    let start = aftersale_engine::Clock::now(&clock);
    clock.set(Timestamp(start.0 - 3 * 86_400_000));
    let (shop, owner, _) = &shops[0];
    let m = Actor::Merchant { shop: shop.id, staff: StaffId(owner.id) };
    let proof = s.evidence(owner.id, Some(shop.id), None, "出库检测照片 / dispatch check photo")?;

    // Completed: refunded, settled one working day later.
    let o = s.order(shop.id, m, ba, PaymentMethod::Online, true, 89)?;
    let c = s.apply(ba, &o, CaseType::RefundOnly, "damaged", 89, None)?;
    s.cmd(m, &c, CaseCommand::Refund)?;
    // Closed: the buyer withdrew.
    let o = s.order(shop.id, m, bb, PaymentMethod::Online, false, 45)?;
    let c = s.apply(bb, &o, CaseType::RefundUnshipped, "no_longer_needed", 45, None)?;
    s.cmd(Actor::Buyer { buyer: bb }, &c, CaseCommand::Withdraw)?;
    // Appeal: rejected, escalated, ruled for the buyer, the merchant appeals.
    let o = s.order(shop.id, m, ba, PaymentMethod::Online, true, 120)?;
    let c = s.apply(ba, &o, CaseType::RefundOnly, "not_as_described", 120, None)?;
    let c = s.cmd(
        m,
        &c,
        CaseCommand::Reject {
            reason_code: "not_as_claimed".into(),
            explanation: "商品与描述一致".into(),
            evidence: vec![proof.clone()],
        },
    )?;
    let c = s.cmd(Actor::Buyer { buyer: ba }, &c, CaseCommand::Escalate { reason: "商品有瑕疵 / flawed".into() })?;
    let c = s.cmd(
        platform,
        &c,
        CaseCommand::Rule { for_party: Party::Buyer, reason: "买家举证充分 / the buyer's evidence holds".into() },
    )?;
    s.cmd(m, &c, CaseCommand::Appeal { text: "请复核 / please review".into(), evidence: vec![proof.clone()] })?;
    engine.forget_shop(shop.id);
    clock.set(start);
    let stats = aftersale_engine::Runner::new(state.engine.clone()).run_due().map_err(e2s)?;
    tracing::debug!(fired = stats.fired, "demo: phase one deadlines fired");

    // Phase 2, now: every waiting state, on every shop.
    for (i, (shop, owner, staff)) in shops.iter().enumerate() {
        let m = Actor::Merchant { shop: shop.id, staff: StaffId(staff.id) };
        let mo = Actor::Merchant { shop: shop.id, staff: StaffId(owner.id) };
        let buyer = if i % 2 == 0 { ba } else { bb };
        let b = Actor::Buyer { buyer };
        let proof = s.evidence(owner.id, Some(shop.id), None, "质检报告 / inspection photo")?;
        // Awaiting review, one per type (queues refund_unshipped, refund_only, return_review).
        let o = s.order(shop.id, mo, buyer, PaymentMethod::Online, false, 59)?;
        s.apply(buyer, &o, CaseType::RefundUnshipped, "not_shipped_on_time", 59, None)?;
        let o = s.order(shop.id, mo, buyer, PaymentMethod::Online, true, 99)?;
        s.apply(buyer, &o, CaseType::RefundOnly, "missing_or_wrong_item", 30, None)?;
        let o = s.order(shop.id, mo, buyer, PaymentMethod::Online, true, 199)?;
        s.apply(buyer, &o, CaseType::ReturnRefund, "defective", 199, None)?;
        // Awaiting the buyer's return.
        let o = s.order(shop.id, mo, buyer, PaymentMethod::Online, true, 149)?;
        let c = s.apply(buyer, &o, CaseType::ReturnRefund, "quality_issue", 149, None)?;
        let c = s.cmd(
            m,
            &c,
            CaseCommand::AgreeReturn { address: default_address(engine, shop.id)?, refuse_freight_collect: false },
        )?;
        // Awaiting receipt: agreed and shipped back.
        let o = s.order(shop.id, mo, buyer, PaymentMethod::Online, true, 259)?;
        let c2 = s.apply(buyer, &o, CaseType::ReturnRefund, "not_as_described", 259, None)?;
        let c2 = s.cmd(
            m,
            &c2,
            CaseCommand::AgreeReturn { address: default_address(engine, shop.id)?, refuse_freight_collect: true },
        )?;
        s.n += 1;
        s.cmd(b, &c2, CaseCommand::SubmitReturnLogistics { logistics: logistics(s.n)?, refund_account: None })?;
        let _ = c;
        // Negotiation pending: the merchant proposes a partial refund.
        let o = s.order(shop.id, mo, buyer, PaymentMethod::Online, true, 300)?;
        let c = s.apply(buyer, &o, CaseType::ReturnRefund, "damaged", 300, None)?;
        s.cmd(
            m,
            &c,
            CaseCommand::Propose {
                kind: CaseType::RefundOnly,
                amount: Money::new(100 * 100, o.total.currency()).map_err(|e| e.to_string())?,
                address: None,
            },
        )?;
        // Rejected, waiting on the buyer (in progress).
        let o = s.order(shop.id, mo, buyer, PaymentMethod::Online, true, 79)?;
        let c = s.apply(buyer, &o, CaseType::RefundOnly, "quality_issue", 79, None)?;
        s.cmd(
            m,
            &c,
            CaseCommand::Reject {
                reason_code: "no_quality_issue".into(),
                explanation: "出库前已检测".into(),
                evidence: vec![proof.clone()],
            },
        )?;
        // In arbitration, and awaiting the merchant's evidence.
        let o = s.order(shop.id, mo, buyer, PaymentMethod::Online, true, 66)?;
        let c = s.apply(buyer, &o, CaseType::RefundOnly, "damaged", 66, None)?;
        let c = s.cmd(
            m,
            &c,
            CaseCommand::Reject {
                reason_code: "not_as_claimed".into(),
                explanation: "包装完好".into(),
                evidence: vec![proof.clone()],
            },
        )?;
        s.cmd(b, &c, CaseCommand::Escalate { reason: "商家拒绝不合理".into() })?;
        let o = s.order(shop.id, mo, buyer, PaymentMethod::Online, true, 88)?;
        let c = s.apply(buyer, &o, CaseType::RefundOnly, "defective", 88, None)?;
        let c = s.cmd(
            m,
            &c,
            CaseCommand::Reject {
                reason_code: "not_as_claimed".into(),
                explanation: "无法复现".into(),
                evidence: vec![proof.clone()],
            },
        )?;
        let c = s.cmd(b, &c, CaseCommand::Escalate { reason: "质量问题".into() })?;
        s.cmd(platform, &c, CaseCommand::RequestEvidence { instructions: "请上传发货前的检测记录".into() })?;
        // Refunding: agreed, the payment gateway settles a working day later.
        let o = s.order(shop.id, mo, buyer, PaymentMethod::Online, false, 39)?;
        let c = s.apply(buyer, &o, CaseType::RefundUnshipped, "no_longer_needed", 39, None)?;
        s.cmd(m, &c, CaseCommand::Refund)?;
        // A flagged order with remarks.
        let o = s.order(shop.id, mo, buyer, PaymentMethod::Online, true, 129)?;
        let c = s.apply(buyer, &o, CaseType::RefundOnly, "other", 20, None)?;
        let flag = aftersale_engine::CaseAction::SetFlag { flag: Some(Flag::Red) };
        engine.case_action_blocking(m, 0, c.id, flag, None, None).map_err(e2s)?;
        let remark = aftersale_engine::CaseAction::SetOrderRemark { text: "VIP 客户，优先处理".into() };
        engine.case_action_blocking(m, 0, c.id, remark, None, None).map_err(e2s)?;
        s.cmd(m, &c, CaseCommand::SetRemark { text: "已电话联系买家".into() })?;
        s.cmd(b, &c, CaseCommand::PostMessage { text: "请尽快处理，谢谢".into() })?;
        // A three-line order (L1) with a case on each line (L3): an exchange of a cup awaiting the
        // replacement (K1), the missing strawberries resent and on their way (K2), and a return of
        // the rice cooker under review.
        let o = s.three_lines(shop.id, mo, buyer)?;
        let address = default_address(engine, shop.id)?;
        s.exchange_received(&o, buyer, m, &address, "defective", 1)?;
        let rs = s.apply_lines(buyer, &o, CaseType::Resend, "missing_or_wrong_item", 0, None, &[(3, 1)])?;
        s.n += 1;
        s.cmd(m, &rs, CaseCommand::ShipReplacement { logistics: logistics(s.n)? })?;
        s.apply_lines(buyer, &o, CaseType::ReturnRefund, "defective", 80, None, &[(2, 1)])?;
        // A resend delivered (completed), and an exchange shipped and delivered, awaiting the
        // buyer's word.
        let o = s.three_lines(shop.id, mo, buyer)?;
        let rs = s.apply_lines(buyer, &o, CaseType::Resend, "missing_or_wrong_item", 0, None, &[(1, 2)])?;
        s.n += 1;
        let rs = s.cmd(m, &rs, CaseCommand::ShipReplacement { logistics: logistics(s.n)? })?;
        s.cmd(Actor::System, &rs, CaseCommand::ReplacementDelivered)?;
        let ex = s.exchange_received(&o, buyer, m, &address, "damaged", 2)?;
        s.n += 1;
        let ex = s.cmd(m, &ex, CaseCommand::ShipReplacement { logistics: logistics(s.n)? })?;
        s.cmd(Actor::System, &ex, CaseCommand::ReplacementDelivered)?;
        // L5: both cups returned, one arrived: refunded for it, the missing cup a case of its
        // own awaiting the shop's word.
        let o = s.three_lines(shop.id, mo, buyer)?;
        let r = s.apply_lines(buyer, &o, CaseType::ReturnRefund, "damaged", 50, None, &[(1, 2)])?;
        let r = s.sent_back(&r, buyer, m, &address)?;
        s.cmd(m, &r, CaseCommand::ReceivedPart { received: vec![Received { line: 1, units: 1 }] })?;
        // A refund asked while the parcel is on its way, and the carrier asked to stop it (I1).
        let o = s.order(shop.id, mo, buyer, PaymentMethod::Online, false, 45)?;
        s.n += 1;
        s.engine.order_command(mo, o.id, OrderCommand::Ship { logistics: logistics(s.n)? }, None, None).map_err(e2s)?;
        let o = engine.order_view(mo, o.id).map_err(e2s)?;
        let c = s.apply(buyer, &o, CaseType::RefundOnly, "no_longer_needed", 45, None)?;
        s.cmd(m, &c, CaseCommand::RequestIntercept)?;
        // COD (profiles that take it): refund agreed, awaiting the merchant's voucher (R6).
        if engine.policy_of(shop.id).map_err(e2s)?.cod_voucher.is_some() {
            let o = s.order(shop.id, mo, buyer, PaymentMethod::Cod, true, 158)?;
            let account =
                RefundAccount {
                    holder: "Alice".into(), bank: "招商银行".into(), number: "6225 8888 1234 5678".into()
                };
            let c = s.apply(buyer, &o, CaseType::RefundOnly, "damaged", 158, Some(account))?;
            s.cmd(m, &c, CaseCommand::Refund)?;
        }
    }
    let mut tokens = BTreeMap::new();
    tokens.insert("buyer".into(), s.token(alice.id, "demo")?);
    tokens.insert("merchant".into(), s.token(shops[0].1.id, "demo")?);
    tokens.insert("platform".into(), s.token(agent.id, "demo")?);
    tokens.insert("admin".into(), s.token(admin.id, "demo")?);
    let _ = engine.message_box(Recipient::Platform);
    Ok(Credentials { logins, tokens })
}

fn default_address(engine: &Engine, shop: ShopId) -> Result<Address, String> {
    engine.shop(shop).map_err(e2s)?.default_address.ok_or_else(|| "demo shop has no default address".to_string())
}
