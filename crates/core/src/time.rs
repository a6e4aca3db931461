//! Time as data: instants in unix milliseconds and durations, with the calendar arithmetic the
//! rules need (working days for refund settlement, RFC 3339 for display). No clock is read here.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An instant, in milliseconds since the unix epoch (UTC). On the wire it is RFC 3339 in UTC
/// (`2026-11-29T08:00:00Z`); reading also takes any RFC 3339 offset, and the milliseconds that
/// earlier versions stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 24];
        match self.rfc3339_into(&mut buf) {
            Some(text) => s.serialize_str(text),
            None => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 time such as 2026-11-29T08:00:00Z")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v).map(Timestamp).map_err(|_| E::custom("time out of range"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse_rfc3339(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "date-time", "description": "RFC 3339, UTC on output" })
    }
}

/// A span of time in milliseconds; never negative once parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dur(pub i64);

pub const SECOND: Dur = Dur(1_000);
pub const MINUTE: Dur = Dur(60_000);
pub const HOUR: Dur = Dur(3_600_000);
pub const DAY: Dur = Dur(86_400_000);

impl Dur {
    pub const fn hours(h: i64) -> Dur {
        Dur(h * HOUR.0)
    }
    pub const fn days(d: i64) -> Dur {
        Dur(d * DAY.0)
    }
    pub const fn secs(s: i64) -> Dur {
        Dur(s * SECOND.0)
    }
    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// Parses `90s`, `30m`, `48h`, `7d`, `2w`, `1 day`, or combinations such as `1d12h` and
    /// `1 day 12 hours` (humantime's grammar).
    pub fn parse(text: &str) -> Result<Dur, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty duration".into());
        }
        let d = humantime::parse_duration(text)
            .map_err(|e| format!("{text:?} is not a duration such as 48h, 7d, 2w or 1 day 12 hours ({e})"))?;
        i64::try_from(d.as_millis()).map(Dur).map_err(|_| format!("duration {text:?} is too large"))
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0.unsigned_abs();
        if ms == 0 {
            return write!(f, "0s");
        }
        if self.0.is_negative() {
            write!(f, "-")?;
        }
        for (unit, size) in [("d", DAY.0), ("h", HOUR.0), ("m", MINUTE.0), ("s", SECOND.0)] {
            let size = size.unsigned_abs();
            if ms >= size {
                write!(f, "{}{unit}", ms / size)?;
                ms %= size;
            }
        }
        Ok(())
    }
}

impl Serialize for Dur {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl JsonSchema for Dur {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "a duration such as 48h, 7d, 2w, 1d12h or 1 day 12 hours",
            "pattern": "^ *([0-9]{1,9} *(ms|s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks) *)+$",
            "examples": ["48h", "7d"]
        })
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Dur::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl std::ops::Add<Dur> for Timestamp {
    type Output = Timestamp;
    fn add(self, rhs: Dur) -> Timestamp {
        Timestamp(self.0.saturating_add(rhs.0))
    }
}

impl std::ops::Sub<Dur> for Timestamp {
    type Output = Timestamp;
    fn sub(self, rhs: Dur) -> Timestamp {
        Timestamp(self.0.saturating_sub(rhs.0))
    }
}

impl std::ops::Sub<Timestamp> for Timestamp {
    type Output = Dur;
    fn sub(self, rhs: Timestamp) -> Dur {
        Dur(self.0.saturating_sub(rhs.0))
    }
}

impl std::ops::Sub for Dur {
    type Output = Dur;
    fn sub(self, rhs: Dur) -> Dur {
        Dur(self.0.saturating_sub(rhs.0))
    }
}

impl std::ops::Add for Dur {
    type Output = Dur;
    fn add(self, rhs: Dur) -> Dur {
        Dur(self.0.saturating_add(rhs.0))
    }
}

/// Days since 1970-01-01 to a civil (year, month, day), after H. Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Timestamp {
    /// ISO weekday: Monday = 1 … Sunday = 7.
    pub fn weekday(self) -> u32 {
        let days = self.0.div_euclid(DAY.0);
        // 1970-01-01 was a Thursday (4).
        ((days + 3).rem_euclid(7) + 1) as u32
    }

    /// The same time of day `n` working days (Monday to Friday) later.
    pub fn add_working_days(self, n: u32) -> Timestamp {
        // One step per working day, skipping the weekend: bounded by n + 2 steps a week.
        let mut t = self;
        for _ in 0..n {
            t = t + DAY;
            while t.weekday() > 5 {
                t = t + DAY;
            }
        }
        t
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.mmm]Z`.
    pub fn parse_rfc3339(text: &str) -> Result<Timestamp, String> {
        // Every time this service writes has one of two shapes: read those without the general
        // parser's splitting (a case document holds a dozen times, a queue page fifty documents).
        if let Some(t) = Self::parse_canonical(text.as_bytes()) {
            return Ok(t);
        }
        Self::parse_general(text)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.mmmZ`, as `Display` writes them; None for
    /// anything else (the general parser then decides, and words its refusal).
    fn parse_canonical(b: &[u8]) -> Option<Timestamp> {
        if !(b.len() == 20 || b.len() == 24) || b[b.len() - 1] != b'Z' {
            return None;
        }
        let num = |from: usize, len: usize| -> Option<i64> {
            b.get(from..from + len)?
                .iter()
                .try_fold(0i64, |n, &c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
        };
        let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
        if seps.iter().any(|&(i, c)| b[i] != c) {
            return None;
        }
        let ms = if b.len() == 24 {
            if b[19] != b'.' {
                return None;
            }
            num(20, 3)?
        } else {
            0
        };
        let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let (h, mi, s) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        // Month and day are checked by the calendar below (two digits each: no overflow).
        if h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let (mo, d) = (mo as u32, d as u32);
        let days = days_from_civil(y, mo, d);
        if civil_from_days(days) != (y, mo, d) {
            return None;
        }
        Some(Timestamp(days * DAY.0 + h * HOUR.0 + mi * MINUTE.0 + s * SECOND.0 + ms))
    }

    /// The time as `Display` writes it, into `buf`, for years 0–9999 (None otherwise).
    pub fn rfc3339_into(self, buf: &mut [u8; 24]) -> Option<&str> {
        let days = self.0.div_euclid(DAY.0);
        let rest = self.0.rem_euclid(DAY.0);
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            return None;
        }
        let (h, rest) = (rest / HOUR.0, rest % HOUR.0);
        let (mi, rest) = (rest / MINUTE.0, rest % MINUTE.0);
        let (s, ms) = (rest / SECOND.0, rest % SECOND.0);
        let mut put = |at: usize, v: i64, width: usize| {
            let mut v = v;
            for i in (0..width).rev() {
                buf[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, y, 4);
        put(5, i64::from(m), 2);
        put(8, i64::from(d), 2);
        put(11, h, 2);
        put(14, mi, 2);
        put(17, s, 2);
        let len = if ms == 0 {
            20
        } else {
            put(20, ms, 3);
            buf[19] = b'.';
            24
        };
        for (i, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
            buf[i] = c;
        }
        buf[len - 1] = b'Z';
        std::str::from_utf8(&buf[..len]).ok()
    }

    fn parse_general(text: &str) -> Result<Timestamp, String> {
        let bad =
            || format!("{text:?} is not an RFC 3339 time such as 2026-11-22T08:00:00Z or 2026-11-22T16:00:00+08:00");
        // The offset: `Z`, or `+hh:mm` / `-hh:mm`, subtracted to reach UTC.
        let (t, offset_ms) = match text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
            Some(t) => (t, 0),
            None => {
                let at = text.len().checked_sub(6).filter(|&i| text.is_char_boundary(i)).ok_or_else(bad)?;
                let (t, off) = text.split_at(at);
                let sign = match off.as_bytes()[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return Err(bad()),
                };
                let (oh, om) = off[1..].split_once(':').ok_or_else(bad)?;
                let digits = |v: &str| v.len() == 2 && v.bytes().all(|b| b.is_ascii_digit());
                if !digits(oh) || !digits(om) {
                    return Err(bad());
                }
                let (oh, om): (i64, i64) = (oh.parse().map_err(|_| bad())?, om.parse().map_err(|_| bad())?);
                if oh > 23 || om > 59 {
                    return Err(bad());
                }
                (t, sign * (oh * HOUR.0 + om * MINUTE.0))
            }
        };
        let (date, time) = t.split_once('T').ok_or_else(bad)?;
        let mut dp = date.split('-');
        let y: i64 = dp.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let mo: u32 = dp.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let d: u32 = dp.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
        let mut tp = hms.split(':');
        let h: i64 = tp.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let mi: i64 = tp.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let s: i64 = tp.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        // Month and day are checked below by the calendar itself.
        if !(0..=9999).contains(&y) || h > 23 || mi > 59 || s > 60 {
            return Err(bad());
        }
        if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let ms: i64 = format!("{frac:0<3}")[..3].parse().map_err(|_| bad())?;
        let days = days_from_civil(y, mo, d);
        // An impossible date (30 February) lands on another day of the calendar.
        if civil_from_days(days) != (y, mo, d) {
            return Err(bad());
        }
        Ok(Timestamp(days * DAY.0 + h * HOUR.0 + mi * MINUTE.0 + s * SECOND.0 + ms - offset_ms))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 24];
        if let Some(text) = self.rfc3339_into(&mut buf) {
            return f.write_str(text);
        }
        let days = self.0.div_euclid(DAY.0);
        let rest = self.0.rem_euclid(DAY.0);
        let (y, m, d) = civil_from_days(days);
        let (h, rest) = (rest / HOUR.0, rest % HOUR.0);
        let (mi, rest) = (rest / MINUTE.0, rest % MINUTE.0);
        let (s, ms) = (rest / SECOND.0, rest % SECOND.0);
        if ms == 0 {
            write!(f, "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
        } else {
            write!(f, "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsers_never_panic_and_round_trip(text in "\\PC{0,30}", ms in 0i64..253_402_300_800_000) {
            let _ = Dur::parse(&text);
            let _ = Timestamp::parse_rfc3339(&text);
            let t = Timestamp(ms);
            prop_assert_eq!(Timestamp::parse_rfc3339(&t.to_string()), Ok(t));
            // The canonical shapes' short cut reads what the general parser reads.
            prop_assert_eq!(Timestamp::parse_general(&t.to_string()), Ok(t));
            // The fixed-width writer writes what the formatting machinery would.
            let days = ms.div_euclid(DAY.0);
            let rest = ms.rem_euclid(DAY.0);
            let (y, m, d) = civil_from_days(days);
            let (h, mi, s, milli) = (rest / HOUR.0, rest % HOUR.0 / MINUTE.0, rest % MINUTE.0 / SECOND.0, rest % SECOND.0);
            let slow = if milli == 0 {
                format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
            } else {
                format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
            };
            prop_assert_eq!(t.to_string(), slow);
            let d = Dur(ms / 1000 * 1000);
            prop_assert_eq!(Dur::parse(&d.to_string()), Ok(d));
        }

        #[test]
        fn the_canonical_short_cut_reads_what_the_general_parser_reads(
            text in "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{3})?Z",
        ) {
            prop_assert_eq!(Timestamp::parse_canonical(text.as_bytes()), Timestamp::parse_general(&text).ok());
        }
    }

    #[test]
    fn the_two_shapes_this_service_writes_take_the_short_cut_at_their_bounds() {
        let fast = |s: &str| Timestamp::parse_canonical(s.as_bytes());
        let last = Timestamp::parse_general("2026-12-31T23:59:59.999Z").unwrap();
        assert_eq!(fast("2026-12-31T23:59:59.999Z"), Some(last));
        assert_eq!(fast("2026-12-31T23:59:60Z"), Timestamp::parse_general("2026-12-31T23:59:60Z").ok());
        assert!(fast("2026-12-31T23:59:60Z").is_some(), "a leap second, as the general parser reads it");
        for bad in [
            "2026-12-31T24:00:00Z",
            "2026-12-31T23:60:00Z",
            "2026-12-31T23:59:61Z",
            "2026-13-01T00:00:00Z",
            "2026-12-32T00:00:00Z",
            "2026-02-30T00:00:00Z",
        ] {
            assert_eq!(fast(bad), None, "{bad}");
        }
        let mut buf = [0u8; 24];
        assert_eq!(Timestamp(0).rfc3339_into(&mut buf), Some("1970-01-01T00:00:00Z"));
        assert_eq!(Timestamp(1).rfc3339_into(&mut buf), Some("1970-01-01T00:00:00.001Z"));
        let year_10000 = days_from_civil(10_000, 1, 1) * DAY.0;
        assert_eq!(Timestamp(year_10000).rfc3339_into(&mut buf), None);
        assert_eq!(
            Timestamp(year_10000).to_string(),
            "10000-01-01T00:00:00Z",
            "past the fixed width, the general writer"
        );
    }

    #[test]
    fn durations_parse_and_print() {
        assert_eq!(Dur::parse("48h"), Ok(Dur::hours(48)));
        assert_eq!(Dur::parse("1d12h"), Ok(Dur::hours(36)));
        assert!(Dur::parse("12").is_err());
        assert!(Dur::parse("3x").is_err());
        assert!(Dur::parse("").is_err());
        // weeks and words, as humantime reads them
        assert_eq!(Dur::parse("2w"), Ok(Dur::days(14)));
        assert_eq!(Dur::parse("1 day"), Ok(Dur::days(1)));
        assert_eq!(Dur::parse("1day 12hours"), Ok(Dur::hours(36)));
        assert_eq!(Dur::parse(" 30m "), Ok(Dur(30 * 60_000)));
        assert_eq!(Dur::hours(36).to_string(), "1d12h");
        assert_eq!(Dur::secs(90), Dur(90_000));
        assert_eq!(Dur::secs(90).as_millis(), 90_000);
        assert_eq!(Dur::secs(90).to_string(), "1m30s");
        assert_eq!(Dur(0).to_string(), "0s");
        // a negative span (a deadline already passed) prints with its sign
        assert_eq!(Dur(-90_000).to_string(), "-1m30s");
        assert_eq!((Dur::days(2) - Dur::hours(1)).to_string(), "1d23h");
    }

    #[test]
    fn rfc3339_takes_offsets_and_refuses_bad_ones() {
        let utc = Timestamp::parse_rfc3339("2026-11-22T00:00:00Z").unwrap();
        assert_eq!(Timestamp::parse_rfc3339("2026-11-22T08:00:00+08:00"), Ok(utc));
        assert_eq!(Timestamp::parse_rfc3339("2026-11-21T19:30:00-04:30"), Ok(utc));
        assert_eq!(Timestamp::parse_rfc3339("2026-11-22T00:00:00+00:00"), Ok(utc));
        for bad in [
            "2026-11-22T08:00:00+8:00",
            "2026-11-22T08:00:00+24:00",
            "2026-11-22T08:00:00+08:60",
            "2026-11-22T08:00:00*08:00",
            "2026-02-31T00:00:00+08:00",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad}");
        }
        // the offset's hours and minutes: two digits each, at most 23:59
        let at = |off: &str| Timestamp::parse_rfc3339(&format!("2026-11-22T00:00:00{off}"));
        assert_eq!(at("+23:59"), Ok(Timestamp(utc.0 - 23 * HOUR.0 - 59 * MINUTE.0)));
        for bad in ["+1:000", "+08:+5", "+24:00", "+08:60", "+0a:00"] {
            assert!(at(bad).is_err(), "{bad}");
        }
        // on the wire: RFC 3339 out, and the milliseconds of earlier versions still read
        assert_eq!(serde_json::to_string(&utc).unwrap(), "\"2026-11-22T00:00:00Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&utc.0.to_string()).unwrap(), utc);
        assert_eq!(serde_json::from_str::<Timestamp>("\"2026-11-22T08:00:00+08:00\"").unwrap(), utc);
        let wrong = serde_json::from_str::<Timestamp>("true").unwrap_err().to_string();
        assert!(wrong.contains("an RFC 3339 time"), "{wrong}");
    }

    #[test]
    fn rfc3339_round_trips_and_weekdays() {
        let t = Timestamp::parse_rfc3339("2026-11-22T03:08:52Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T03:08:52Z");
        assert_eq!(t.weekday(), 7); // a Sunday
        assert!(Timestamp::parse_rfc3339("2026-11-22T03:08:52.ééZ").is_err());
        assert!(Timestamp::parse_rfc3339("2026-13-22T03:08:52Z").is_err());
        assert_eq!(Timestamp::parse_rfc3339("2026-11-22T03:08:52.5Z").unwrap().to_string(), "2026-11-22T03:08:52.500Z");
        // fields out of range, and impossible dates
        for bad in [
            "2026-11-22T24:00:00Z",
            "2026-11-22T23:60:00Z",
            "2026-11-22T23:59:61Z",
            "2026-02-29T00:00:00Z",
            "2026-02-31T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-11-00T00:00:00Z",
            "2026-11-22 03:08:52Z",
            "2026-11-22T03:08:52",
            "2026-13-01T00:00:00Z",
            "2026-11-32T00:00:00Z",
            "10000-01-01T00:00:00Z",
            "-1-01-01T00:00:00Z",
            "9223372036854775807-01-01T00:00:00Z",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad}");
        }
        assert!(Timestamp::parse_rfc3339("2028-02-29T23:59:59Z").is_ok());
        assert!(Timestamp::parse_rfc3339("2026-11-22T23:59:60Z").is_ok(), "a leap second");
        // century and 400-year boundaries of the calendar arithmetic
        for t in ["2000-02-29T00:00:00Z", "2100-03-01T00:00:00Z", "2400-02-29T12:00:00Z", "9999-12-31T23:59:59Z"] {
            assert_eq!(Timestamp::parse_rfc3339(t).unwrap().to_string(), t);
        }
        assert_eq!(Timestamp::parse_rfc3339("2100-03-01T00:00:00Z").unwrap(), Timestamp(4_107_542_400_000));
        assert_eq!(Timestamp::parse_rfc3339("2400-02-29T00:00:00Z").unwrap(), Timestamp(13_574_563_200_000));
        // Friday 10:00 plus one working day is Monday 10:00.
        let fri = Timestamp::parse_rfc3339("2026-11-20T10:00:00Z").unwrap();
        assert_eq!(fri.add_working_days(1).to_string(), "2026-11-23T10:00:00Z");
        // Saturday plus one is Monday; Monday plus five is the next Monday; zero stays put
        let sat = Timestamp::parse_rfc3339("2026-11-21T10:00:00Z").unwrap();
        assert_eq!(sat.add_working_days(1).to_string(), "2026-11-23T10:00:00Z");
        let mon = Timestamp::parse_rfc3339("2026-11-23T10:00:00Z").unwrap();
        assert_eq!(mon.add_working_days(5).to_string(), "2026-11-30T10:00:00Z");
        assert_eq!(mon.add_working_days(4).to_string(), "2026-11-27T10:00:00Z");
        assert_eq!(mon.add_working_days(0), mon);
        let weekdays: Vec<u32> = (0..7).map(|i| (mon + Dur::days(i)).weekday()).collect();
        assert_eq!(weekdays, vec![1, 2, 3, 4, 5, 6, 7]);
    }
}
