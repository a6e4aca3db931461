//! Money in integer minor units with a currency; never floats.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency code, three upper-case ASCII letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const CNY: Currency = Currency(*b"CNY");
    pub const USD: Currency = Currency(*b"USD");

    pub fn parse(code: &str) -> Result<Currency, String> {
        let bytes = code.as_bytes();
        if bytes.len() == 3 && bytes.iter().all(u8::is_ascii_uppercase) {
            Ok(Currency([bytes[0], bytes[1], bytes[2]]))
        } else {
            Err(format!("{code:?} is not a currency code such as CNY"))
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl JsonSchema for Currency {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Currency".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code, e.g. CNY" })
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Currency::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An amount in minor units (fen, cents), from zero to `MAX_MINOR`: the fields are private and
/// every way in (`new`, deserialising) checks them, so a negative or oversized amount cannot be
/// built at all. (Whether an amount may be zero is a rule's: a refund must be above zero, a
/// shipping fee need not.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "MoneyIn")]
#[schemars(description = "An amount: whole minor units (fen, cents; 0 to 10,000,000,000) and an ISO 4217 \
    currency. `{\"minor\": 15800, \"currency\": \"CNY\"}` is 158.00 yuan.")]
pub struct Money {
    /// Minor units (fen, cents).
    #[schemars(range(min = 0, max = 10_000_000_000i64))]
    pub(crate) minor: i64,
    pub(crate) currency: Currency,
}

/// Money as it arrives, before its check.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Money")]
struct MoneyIn {
    /// Minor units (fen, cents).
    #[schemars(range(min = 0, max = 10_000_000_000i64))]
    minor: i64,
    currency: Currency,
}

impl TryFrom<MoneyIn> for Money {
    type Error = String;
    fn try_from(m: MoneyIn) -> Result<Money, String> {
        Money::new(m.minor, m.currency)
    }
}

/// The largest amount accepted anywhere: 100 million in major units.
pub const MAX_MINOR: i64 = 10_000_000_000;

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Result<Money, String> {
        if minor < 0 {
            return Err(format!("amount {minor} is negative"));
        }
        if minor > MAX_MINOR {
            return Err(format!("amount {minor} is above the maximum {MAX_MINOR}"));
        }
        Ok(Money { minor, currency })
    }

    /// Minor units (fen, cents).
    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// Yuan in fen, for amounts written in code; held to the bounds like every other way in.
    pub fn cny(minor: i64) -> Money {
        Money { minor: minor.clamp(0, MAX_MINOR), currency: Currency::CNY }
    }

    /// `self - other`, floored at zero; currencies must match.
    pub fn saturating_sub(self, other: Money) -> Money {
        Money { minor: (self.minor - other.minor).max(0), currency: self.currency }
    }

    /// The smaller of `self` and `cap` (a ceiling applied); currencies must match.
    pub fn at_most(self, cap: Money) -> Money {
        if self.minor <= cap.minor {
            self
        } else {
            cap
        }
    }

    pub fn plus(self, other: Money) -> Money {
        Money { minor: self.minor.saturating_add(other.minor).min(MAX_MINOR), currency: self.currency }
    }
}

impl Money {
    /// The amount as people read it: `¥158.00` for yuan, `158.00 USD` otherwise.
    pub fn words(&self) -> String {
        if self.currency == Currency::CNY {
            format!("¥{}.{:02}", self.minor / 100, self.minor % 100)
        } else {
            format!("{}.{:02} {}", self.minor / 100, self.minor % 100, self.currency)
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02} {}", self.minor / 100, self.minor % 100, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn deserialising_refuses_a_negative_or_oversized_amount_and_unknown_fields() {
        let ok: Money = serde_json::from_str(r#"{"minor": 0, "currency": "CNY"}"#).unwrap();
        assert_eq!((ok.minor(), ok.currency()), (0, Currency::CNY));
        for bad in [
            r#"{"minor": -1, "currency": "CNY"}"#,
            r#"{"minor": 10000000001, "currency": "CNY"}"#,
            r#"{"minor": 1, "currency": "CNY", "major": 1}"#,
            r#"{"minor": 1, "currency": "cny"}"#,
        ] {
            assert!(serde_json::from_str::<Money>(bad).is_err(), "{bad}");
        }
        assert_eq!(Money::cny(-5).minor(), 0);
        assert_eq!(Money::cny(MAX_MINOR).plus(Money::cny(1)).minor(), MAX_MINOR);
    }

    proptest! {
        #[test]
        fn money_and_currency_constructors_only_build_valid_values(minor in any::<i64>(), code in "\\PC{0,4}") {
            match Money::new(minor, Currency::CNY) {
                Ok(m) => prop_assert!((0..=MAX_MINOR).contains(&m.minor)),
                Err(_) => prop_assert!(!(0..=MAX_MINOR).contains(&minor)),
            }
            // Deserialising checks the same bounds: no JSON builds an amount `new` would refuse.
            let json = format!("{{\"minor\": {minor}, \"currency\": \"CNY\"}}");
            let parsed: Result<Money, _> = serde_json::from_str(&json);
            prop_assert_eq!(parsed.is_ok(), (0..=MAX_MINOR).contains(&minor));
            if let Ok(c) = Currency::parse(&code) {
                prop_assert_eq!(c.as_str(), code.as_str());
                prop_assert!(c.as_str().len() == 3 && c.as_str().bytes().all(|b| b.is_ascii_uppercase()));
            }
        }
    }
}
