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

/// An amount in minor units (fen, cents). Non-negative by construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Money {
    /// Minor units (fen, cents).
    #[schemars(range(min = 0, max = 10_000_000_000i64))]
    pub minor: i64,
    pub currency: Currency,
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

    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    pub fn cny(minor: i64) -> Money {
        Money { minor, currency: Currency::CNY }
    }

    /// `self - other`, floored at zero; currencies must match.
    pub fn saturating_sub(self, other: Money) -> Money {
        Money { minor: (self.minor - other.minor).max(0), currency: self.currency }
    }

    pub fn plus(self, other: Money) -> Money {
        Money { minor: self.minor.saturating_add(other.minor), currency: self.currency }
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

    proptest! {
        #[test]
        fn money_and_currency_constructors_only_build_valid_values(minor in any::<i64>(), code in "\\PC{0,4}") {
            match Money::new(minor, Currency::CNY) {
                Ok(m) => prop_assert!((0..=MAX_MINOR).contains(&m.minor)),
                Err(_) => prop_assert!(!(0..=MAX_MINOR).contains(&minor)),
            }
            if let Ok(c) = Currency::parse(&code) {
                prop_assert_eq!(c.as_str(), code.as_str());
                prop_assert!(c.as_str().len() == 3 && c.as_str().bytes().all(|b| b.is_ascii_uppercase()));
            }
        }
    }
}
