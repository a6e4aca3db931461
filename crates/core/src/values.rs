//! Identifiers and validated values: each is built only through a fallible constructor, so a
//! value that exists is a valid one (parse, don't validate).

use crate::time::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($($name:ident),*) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "{}", self.0) }
        }
    )*};
}
id_type!(OrderId, CaseId, ShopId, BuyerId, StaffId, AgentId, AddressId);

/// Trimmed text with a length limit (in characters); `required` refuses empty text.
pub fn text(field: &'static str, value: &str, max: usize, required: bool) -> Result<String, (String, String)> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err((field.into(), "is required".into()));
    }
    if v.chars().count() > max {
        return Err((field.into(), format!("is longer than {max} characters")));
    }
    if holds_control_characters(v) {
        return Err((field.into(), "contains control characters".into()));
    }
    Ok(v.to_string())
}

/// What `text` refuses: a control character other than a line break (a NUL among them). No
/// stored text holds one, so a lookup by such text can be answered without the database.
pub fn holds_control_characters(v: &str) -> bool {
    v.chars().any(|c| c.is_control() && c != '\n')
}

/// What `Phone::parse` takes, as a regular expression: spaces and dashes anywhere, a mainland
/// mobile (optionally after `0086`), or `+` and 8-15 digits.
pub const PHONE_PATTERN: &str =
    r"^[ -]*(?:(?:0[ -]*0[ -]*8[ -]*6[ -]*)?1(?:[ -]*[0-9]){10}|\+(?:[ -]*[0-9]){8,15})[ -]*$";

/// What `PhoneSearch::parse` takes: a phone number as `PHONE_PATTERN`, or four digits.
pub const PHONE_SEARCH_PATTERN: &str =
    r"^[ -]*(?:[0-9](?:[ -]*[0-9]){3}|(?:0[ -]*0[ -]*8[ -]*6[ -]*)?1(?:[ -]*[0-9]){10}|\+(?:[ -]*[0-9]){8,15})[ -]*$";

/// A phone number: a mainland mobile (11 digits starting with 1) or E.164 (`+` and 8–15 digits).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Phone, String> {
        let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        // A mainland number written with its country code is the same number: `+86 138…`.
        let compact = match compact.strip_prefix("+86").or_else(|| compact.strip_prefix("0086")) {
            Some(rest) if rest.len() == 11 && rest.starts_with('1') => rest.to_string(),
            _ => compact,
        };
        let ok_cn = compact.len() == 11 && compact.starts_with('1') && compact.bytes().all(|b| b.is_ascii_digit());
        let ok_e164 = compact.starts_with('+')
            && (9..=16).contains(&compact.len())
            && compact[1..].bytes().all(|b| b.is_ascii_digit());
        if ok_cn || ok_e164 {
            Ok(Phone(compact))
        } else {
            Err(format!("{raw:?} is not a mobile number (11 digits starting with 1, or +country number)"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// W6: the form shown in lists — first three and last four digits, the middle masked.
    pub fn masked(&self) -> String {
        // A phone is ASCII (digits and a leading `+`, `parse` sees to it): cut by bytes.
        let s = self.0.as_str();
        let n = s.len();
        let head = s.get(..3.min(n)).unwrap_or_default();
        let tail = s.get(n.saturating_sub(4)..).unwrap_or_default();
        let mut out = String::with_capacity(head.len() + 4 + tail.len());
        out.push_str(head);
        out.push_str("****");
        out.push_str(tail);
        out
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}
impl TryFrom<String> for Phone {
    type Error = String;
    fn try_from(v: String) -> Result<Self, String> {
        Phone::parse(&v)
    }
}
impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

impl JsonSchema for Phone {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Phone".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": PHONE_PATTERN, "description": "a mainland mobile (11 digits starting with 1) or +country number; spaces and dashes are ignored" })
    }
}

/// W2: a phone search — the full number (normalised as `Phone` is) or its last four digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneSearch {
    Full(Phone),
    LastFour(String),
}

impl PhoneSearch {
    pub fn parse(raw: &str) -> Result<PhoneSearch, String> {
        let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if compact.len() == 4 && compact.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(PhoneSearch::LastFour(compact));
        }
        Phone::parse(raw)
            .map(PhoneSearch::Full)
            .map_err(|_| format!("{raw:?} is neither a phone number nor its last four digits"))
    }
}

/// A carrier code such as `SF`, `YTO`, `EMS`: 2–16 ASCII letters, digits or `_`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Carrier(String);

impl Carrier {
    pub fn parse(raw: &str) -> Result<Carrier, String> {
        let v = raw.trim().to_ascii_uppercase();
        if (2..=16).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            Ok(Carrier(v))
        } else {
            Err(format!("{raw:?} is not a carrier code (2-16 letters or digits, e.g. SF)"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Carrier {
    type Error = String;
    fn try_from(v: String) -> Result<Self, String> {
        Carrier::parse(&v)
    }
}
impl From<Carrier> for String {
    fn from(p: Carrier) -> String {
        p.0
    }
}

impl JsonSchema for Carrier {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Carrier".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[A-Za-z0-9_]{2,16}$", "description": "carrier code such as SF, YTO, EMS (stored upper-case)" })
    }
}

/// A tracking number: 8–32 ASCII letters or digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingNo(String);

impl TrackingNo {
    pub fn parse(raw: &str) -> Result<TrackingNo, String> {
        let v = raw.trim().to_ascii_uppercase();
        if (8..=32).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(TrackingNo(v))
        } else {
            Err(format!("{raw:?} is not a tracking number (8-32 letters or digits)"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for TrackingNo {
    type Error = String;
    fn try_from(v: String) -> Result<Self, String> {
        TrackingNo::parse(&v)
    }
}
impl From<TrackingNo> for String {
    fn from(p: TrackingNo) -> String {
        p.0
    }
}

impl JsonSchema for TrackingNo {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TrackingNo".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[A-Za-z0-9]{8,32}$", "description": "tracking number, 8-32 letters or digits (stored upper-case)" })
    }
}

/// A parcel's carrier and tracking number (forward shipment or return).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Logistics {
    pub carrier: Carrier,
    pub tracking_no: TrackingNo,
}

/// A return address from the shop's address book (R4), copied into the case when used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Address {
    pub id: AddressId,
    pub name: String,
    pub phone: Phone,
    pub region: String,
    pub detail: String,
}

/// W3: the flag palette shared by orders and cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    Gray,
    Red,
    Yellow,
    Green,
    Blue,
    Purple,
}

impl Flag {
    pub const ALL: [Flag; 6] = [Flag::Gray, Flag::Red, Flag::Yellow, Flag::Green, Flag::Blue, Flag::Purple];
    pub fn as_str(&self) -> &'static str {
        match self {
            Flag::Gray => "gray",
            Flag::Red => "red",
            Flag::Yellow => "yellow",
            Flag::Green => "green",
            Flag::Blue => "blue",
            Flag::Purple => "purple",
        }
    }
    pub fn parse(s: &str) -> Result<Flag, String> {
        Flag::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a flag colour (gray, red, yellow, green, blue, purple)"))
    }
}

/// What a piece of evidence is; the file itself lives in the object store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Image,
    Video,
    Pdf,
}

/// A stored evidence file: its object key, kind and SHA-256, and who added it when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    #[schemars(length(min = 1, max = 200))]
    pub key: String,
    pub kind: EvidenceKind,
    #[schemars(regex(pattern = "^[0-9a-fA-F]{64}$"))]
    pub sha256: String,
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub caption: String,
}

impl Evidence {
    pub fn validate(&self) -> Result<(), String> {
        if self.key.is_empty() || self.key.len() > 200 {
            return Err("evidence key must be 1-200 characters".into());
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("evidence sha256 must be 64 hex digits".into());
        }
        if self.caption.chars().count() > 500 {
            return Err("evidence caption is longer than 500 characters".into());
        }
        Ok(())
    }
}

/// Evidence as a client names it in a command: the key of a file it uploaded, and a caption. The
/// server knows the file's kind and checksum (E4); a client that also sends them has them checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRef {
    #[schemars(length(min = 1, max = 200))]
    pub key: String,
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub caption: String,
    /// Optional: checked against the upload when given.
    #[serde(default)]
    pub kind: Option<EvidenceKind>,
    /// Optional: checked against the upload when given.
    #[serde(default)]
    #[schemars(regex(pattern = "^[0-9a-fA-F]{64}$"))]
    pub sha256: Option<String>,
}

impl EvidenceRef {
    /// The bounds the document states: a key of 1-200 characters, a caption of at most 500, a
    /// checksum of 64 hex digits.
    pub fn validate(&self) -> Result<(), String> {
        if self.key.is_empty() || self.key.chars().count() > 200 {
            return Err("evidence key must be 1-200 characters".into());
        }
        if self.caption.chars().count() > 500 {
            return Err("evidence caption is longer than 500 characters".into());
        }
        if let Some(h) = &self.sha256 {
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err("evidence sha256 must be 64 hex digits".into());
            }
        }
        Ok(())
    }
}

/// R6: a COD buyer's refund account, used only by the platform for advance compensation.
/// Its `Debug` redacts the number; merchant views never carry it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "R6: a cash-on-delivery buyer's bank account for the refund. Shown to the buyer and the \
    platform only (the platform pays from it when the shop does not: M6); never to the shop.")]
pub struct RefundAccount {
    pub holder: String,
    pub bank: String,
    pub number: String,
}

impl RefundAccount {
    pub fn validate(&self) -> Result<(), String> {
        if self.holder.trim().is_empty() || self.holder.chars().count() > 64 {
            return Err("refund account holder must be 1-64 characters".into());
        }
        if self.bank.trim().is_empty() || self.bank.chars().count() > 64 {
            return Err("refund account bank must be 1-64 characters".into());
        }
        let digits = self.number.chars().filter(|c| !c.is_whitespace()).count();
        if !(8..=34).contains(&digits) || !self.number.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ') {
            return Err("refund account number must be 8-34 letters or digits".into());
        }
        Ok(())
    }
}

impl fmt::Debug for RefundAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RefundAccount(<redacted>)")
    }
}

/// A message in a case's thread (T2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ThreadMessage {
    pub from: crate::actor::Party,
    pub text: String,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The documented patterns say exactly what the parsers take, so that a client that
        /// follows the document is never refused and one that does not is never let through.
        #[test]
        fn phone_patterns_agree_with_the_parsers(raw in "[0-9 +-]{0,20}", generated in "[ -]{0,2}(0086)?1[0-9]{10}[ -]{0,2}") {
            let phone = regex::Regex::new(PHONE_PATTERN).unwrap();
            let search = regex::Regex::new(PHONE_SEARCH_PATTERN).unwrap();
            for text in [raw.as_str(), generated.as_str()] {
                prop_assert_eq!(phone.is_match(text), Phone::parse(text).is_ok(), "{:?}", text);
                prop_assert_eq!(search.is_match(text), PhoneSearch::parse(text).is_ok(), "{:?}", text);
            }
        }
    }

    #[test]
    fn w6_phone_is_masked_in_lists() {
        let p = Phone::parse("138 0013 1234").unwrap();
        assert_eq!(p.as_str(), "13800131234");
        assert_eq!(p.masked(), "138****1234");
        assert!(!format!("{p:?}").contains("0013"));
        assert!(Phone::parse("12345").is_err());
        assert_eq!(Phone::parse("+8613800131234").unwrap().masked(), "138****1234", "+86 read as the national number");
    }

    #[test]
    fn carriers_tracking_numbers_phones_and_flags_parse_into_their_canonical_form() {
        assert_eq!(Carrier::parse(" yto ").unwrap().as_str(), "YTO");
        assert_eq!(Carrier::parse("JD_EXPRESS").unwrap().as_str(), "JD_EXPRESS");
        assert_eq!(Carrier::parse(&"A".repeat(16)).unwrap().as_str().len(), 16);
        for bad in ["S", "S F", "S-F", &"A".repeat(17), ""] {
            assert!(Carrier::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(String::from(Carrier::parse("sf").unwrap()), "SF");
        assert_eq!(String::from(TrackingNo::parse("sf12345678").unwrap()), "SF12345678");
        assert!(TrackingNo::parse("SF123456").is_ok() && TrackingNo::parse("SF12345").is_err());
        let p = Phone::parse("138-0013-1234").unwrap();
        assert_eq!(String::from(p.clone()), "13800131234");
        assert_eq!(Phone::try_from("13800131234".to_string()), Ok(p.clone()));
        assert_eq!(format!("{p:?}"), "Phone(138****1234)");
        assert!(Phone::parse("23800131234").is_err(), "mainland mobiles start with 1");
        assert!(Phone::parse("+1234567").is_err() && Phone::parse("+12345678").is_ok());
        for f in Flag::ALL {
            assert_eq!(Flag::parse(f.as_str()), Ok(f));
        }
        assert_eq!(Flag::ALL.map(|f| f.as_str()), ["gray", "red", "yellow", "green", "blue", "purple"]);
        assert!(Flag::parse("orange").is_err());
    }

    #[test]
    fn r6_refund_accounts_are_bounded_and_never_printed() {
        let ok =
            RefundAccount { holder: "李四".into(), bank: "工商银行".into(), number: "6222 0202 0011".into() };
        assert_eq!(ok.validate(), Ok(()));
        assert_eq!(format!("{ok:?}"), "RefundAccount(<redacted>)");
        let with = |f: &dyn Fn(&mut RefundAccount)| {
            let mut a = ok.clone();
            f(&mut a);
            a.validate()
        };
        let holder = Err("refund account holder must be 1-64 characters".to_string());
        let bank = Err("refund account bank must be 1-64 characters".to_string());
        let number = Err("refund account number must be 8-34 letters or digits".to_string());
        assert_eq!(with(&|a| a.holder = " ".into()), holder);
        assert_eq!(with(&|a| a.holder = "李".repeat(65)), holder);
        assert_eq!(with(&|a| a.holder = "李".repeat(64)), Ok(()));
        assert_eq!(with(&|a| a.bank = String::new()), bank);
        assert_eq!(with(&|a| a.bank = "行".repeat(65)), bank);
        assert_eq!(with(&|a| a.bank = "行".repeat(64)), Ok(()));
        assert_eq!(with(&|a| a.number = "1234567".into()), number);
        assert_eq!(with(&|a| a.number = "1234 5678".into()), Ok(()));
        assert_eq!(with(&|a| a.number = "GB33BUKB20201555555555".into()), Ok(()));
        assert_eq!(with(&|a| a.number = "1".repeat(35)), number);
        assert_eq!(with(&|a| a.number = "1234-5678".into()), number);
    }

    #[test]
    fn text_is_trimmed_bounded_in_characters_and_free_of_control_characters() {
        assert_eq!(text("t", "  好  ", 1, true), Ok("好".to_string()));
        assert_eq!(text("t", &"好".repeat(3), 3, true), Ok("好好好".to_string()));
        assert_eq!(text("t", &"好".repeat(4), 3, true), Err(("t".into(), "is longer than 3 characters".into())));
        assert_eq!(text("t", " ", 3, true), Err(("t".into(), "is required".into())));
        assert_eq!(text("t", " ", 3, false), Ok(String::new()));
        assert_eq!(text("t", "a\nb", 3, true), Ok("a\nb".to_string()));
        assert_eq!(text("t", "a\tb", 3, true), Err(("t".into(), "contains control characters".into())));
        assert!(text("t", "a\u{0}b", 3, true).is_err());
    }

    proptest! {
        #[test]
        fn phones_either_parse_to_digits_or_refuse(s in "\\PC{0,20}") {
            if let Ok(p) = Phone::parse(&s) {
                prop_assert!(p.as_str().trim_start_matches('+').bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(p.masked().contains("****"));
            }
        }

        #[test]
        fn tracking_numbers_are_normalised(s in "[a-zA-Z0-9]{8,32}") {
            let t = TrackingNo::parse(&s).unwrap();
            prop_assert_eq!(t.as_str(), s.to_ascii_uppercase());
        }

        #[test]
        fn tracking_numbers_refuse_other_text(s in "\\PC{0,40}") {
            if let Ok(t) = TrackingNo::parse(&s) {
                prop_assert!(t.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
                prop_assert!((8..=32).contains(&t.as_str().len()));
            }
        }
    }

    #[test]
    fn a_mainland_number_written_with_its_country_code_is_the_same_number() {
        assert_eq!(Phone::parse("+86 138-0013-1234").unwrap().as_str(), "13800131234");
        assert_eq!(Phone::parse("008613800131234").unwrap().as_str(), "13800131234");
        // +86 followed by something that is not a mainland mobile stays an E.164 number
        assert_eq!(Phone::parse("+861234567").unwrap().as_str(), "+861234567");
        assert_eq!(Phone::parse("+86123456789").unwrap().as_str(), "+86123456789");
        assert_eq!(Phone::parse("+8623456789012").unwrap().as_str(), "+8623456789012");
    }
}
