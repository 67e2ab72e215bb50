//! Tolerant decoding helpers for the places where Cal.com's answers differ from its
//! spec: counts and durations that arrive as strings (`"slotDuration": "30"`), and
//! `null` where the spec promises a string, list, flag or object.
//!
//! Ids and instants are never decoded through these helpers: an id that is a string
//! or a fraction, or an instant that does not parse, still fails.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A whole, non-negative number as Cal.com may send it: `30`, `30.0` or `"30"`.
struct Count;

impl Visitor<'_> for Count {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole non-negative number, or a string holding one")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        // Exactly representable whole numbers only (no rounding of 29.5 to 30).
        if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 18_446_744_073_709_551_616.0 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(v as u64)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        let text = v.trim();
        if let Ok(n) = text.parse::<u64>() {
            return Ok(n);
        }
        match text.parse::<f64>() {
            Ok(f) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
                self.visit_f64(f)
            }
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

/// One optional count: `null` is `None`, anything else as [`Count`].
struct OptCount;

impl<'de> Visitor<'de> for OptCount {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Count.expecting(f)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Count).map(Some)
    }
}

fn narrow<E: de::Error>(n: u64) -> Result<u32, E> {
    u32::try_from(n).map_err(|_| E::custom(format!("{n} is out of range for a 32-bit count")))
}

/// A required `u32` count or duration (number, whole float or numeric string).
pub(crate) fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    narrow(d.deserialize_any(Count)?)
}

/// A required `u64` count, `null` read as 0 (pagination counters).
pub(crate) fn u64_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(d.deserialize_option(OptCount)?.unwrap_or(0))
}

/// An optional `u32` count or duration; `null` is `None`.
pub(crate) fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    d.deserialize_option(OptCount)?.map(narrow).transpose()
}

/// A list of `u32` counts, each tolerant; `null` is empty.
pub(crate) fn vec_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    #[derive(Deserialize)]
    struct Item(#[serde(deserialize_with = "u32")] u32);
    let items: Option<Vec<Item>> = Option::deserialize(d)?;
    Ok(items
        .unwrap_or_default()
        .into_iter()
        .map(|item| item.0)
        .collect())
}

/// Any defaultable value where `null` means "not given".
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An optional id: a whole number, or `None` for `null` and for an object (the
/// spec types a team event type's `ownerId` as `object`, so a mock of it sends
/// `{}`). Strings and fractions still fail: ids are never guessed.
pub(crate) fn opt_id_or_object<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null | serde_json::Value::Object(_) => Ok(None),
        serde_json::Value::Number(n) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("id {n} is not a whole non-negative number"))),
        other => Err(de::Error::custom(format!(
            "expected a numeric id, got {}",
            match other {
                serde_json::Value::String(_) => "a string",
                serde_json::Value::Bool(_) => "a boolean",
                _ => "a list",
            }
        ))),
    }
}

/// Optional free text: a string, or a number written out; other shapes (an object
/// where a string was documented) are `None` rather than a failure.
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Probe {
        #[serde(deserialize_with = "u32")]
        n: u32,
        #[serde(default, deserialize_with = "opt_u32")]
        maybe: Option<u32>,
        #[serde(default, deserialize_with = "vec_u32")]
        list: Vec<u32>,
        #[serde(default, deserialize_with = "null_default")]
        text: String,
        #[serde(default, deserialize_with = "opt_text")]
        free: Option<String>,
        #[serde(default, deserialize_with = "u64_or_zero")]
        total: u64,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Owner {
        #[serde(default, deserialize_with = "opt_id_or_object")]
        id: Option<u64>,
    }

    #[test]
    fn ids_stay_strict() {
        let owner = |v: serde_json::Value| serde_json::from_value::<Owner>(json!({ "id": v }));
        assert_eq!(owner(json!(10)).unwrap().id, Some(10));
        assert_eq!(owner(json!(null)).unwrap().id, None);
        assert_eq!(owner(json!({})).unwrap().id, None);
        for bad in [json!("10"), json!(1.5), json!(-3), json!(true), json!([1])] {
            assert!(owner(bad.clone()).is_err(), "{bad}");
        }
    }

    fn probe(value: serde_json::Value) -> Result<Probe, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn counts_arrive_as_numbers_floats_or_strings() {
        for n in [
            json!(30),
            json!(30.0),
            json!("30"),
            json!(" 30 "),
            json!("30.0"),
        ] {
            assert_eq!(probe(json!({ "n": n })).unwrap().n, 30, "{n}");
        }
        for bad in [
            json!(29.5),
            json!(-1),
            json!("-1"),
            json!("30 min"),
            json!(""),
            json!("1e3"),
            json!(null),
            json!(true),
            json!([30]),
            json!(4_294_967_296u64),
        ] {
            assert!(probe(json!({ "n": bad })).is_err(), "{bad} must not decode");
        }
    }

    #[test]
    fn nulls_are_missing_values() {
        let p = probe(
            json!({"n": 1, "maybe": null, "list": null, "text": null, "free": null, "total": null}),
        )
        .unwrap();
        assert_eq!(
            p,
            Probe {
                n: 1,
                maybe: None,
                list: vec![],
                text: String::new(),
                free: None,
                total: 0
            }
        );
        let p = probe(json!({"n": 1, "maybe": "15", "list": [15, "30", 60.0], "free": 7})).unwrap();
        assert_eq!(p.maybe, Some(15));
        assert_eq!(p.list, [15, 30, 60]);
        assert_eq!(p.free.as_deref(), Some("7"));
        assert_eq!(
            probe(json!({"n": 1, "free": {"type": "x"}})).unwrap().free,
            None
        );
        assert!(probe(json!({"n": 1, "list": ["x"]})).is_err());
    }

    proptest! {
        /// Every u32 decodes the same from a number, a whole float and a string.
        #[test]
        fn any_count_in_any_form(n in any::<u32>(), form in 0..4u8) {
            let wire = match form {
                0 => json!(n),
                1 => json!(f64::from(n)),
                2 => json!(n.to_string()),
                _ => json!(format!(" {n}")),
            };
            let decoded = probe(json!({ "n": wire })).unwrap();
            prop_assert_eq!(decoded.n, n);
        }

        /// Text that is not a whole number never decodes as a count.
        #[test]
        fn non_numeric_text_is_rejected(text in "[^0-9]{0,8}[a-zA-Z-][^0-9]{0,8}") {
            let decoded = probe(json!({ "n": text }));
            prop_assert!(decoded.is_err());
        }
    }
}
