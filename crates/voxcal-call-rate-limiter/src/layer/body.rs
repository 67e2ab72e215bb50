//! A targeted parse of a Retell function-call body for [`RetellExtractor`]:
//! only `call.call_id`, `args.call_id` and `name` are kept, borrowed from the
//! body where they carry no escapes; everything else is checked and dropped.
//!
//! It reads what `serde_json::from_slice::<serde_json::Value>` followed by
//! `Value::get` would read, without building the tree:
//!
//! - the same documents are accepted and refused: every value goes through
//!   `deserialize_any`, like `Value` does, so strings, escapes, numbers
//!   (including out-of-range ones) and the nesting limit are checked exactly
//!   as there;
//! - the last of duplicate keys wins, also when the last one is not an
//!   object or not a string;
//! - `call` / `args` that are no objects, and ids that are neither strings
//!   nor numbers, give nothing; numbers give `Number::to_string`;
//! - with serde_json's `raw_value` feature on (another crate of the build may
//!   turn it on), a `Value` reads an object whose first key is serde_json's
//!   private raw-value marker as the JSON text of that key's string value;
//!   this parser does the same, so both see the same document.
//!
//! [`RetellExtractor`]: super::RetellExtractor

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The fields of a Retell body the extractor reads.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct RetellBody<'a> {
    /// `call.call_id` as text (a string, or a number's `to_string`).
    pub(crate) call_call_id: Option<Cow<'a, str>>,
    /// `args.call_id` as text.
    pub(crate) args_call_id: Option<Cow<'a, str>>,
    /// `name`, when it is a string.
    pub(crate) name: Option<Cow<'a, str>>,
    /// `args` itself, read only by [`parse_with_args`].
    pub(crate) args: Option<serde_json::Value>,
}

impl RetellBody<'_> {
    fn into_owned(self) -> RetellBody<'static> {
        RetellBody {
            call_call_id: self.call_call_id.map(|c| Cow::Owned(c.into_owned())),
            args_call_id: self.args_call_id.map(|c| Cow::Owned(c.into_owned())),
            name: self.name.map(|c| Cow::Owned(c.into_owned())),
            args: self.args,
        }
    }
}

/// The fields of `body`, or `None` when it is not one JSON document.
pub(crate) fn parse(body: &[u8]) -> Option<RetellBody<'_>> {
    walk(body, Role::Top)
}

/// [`parse`], keeping `args` as a `Value` too (as `Value::get("args")` on
/// the whole document would give it).
pub(crate) fn parse_with_args(body: &[u8]) -> Option<RetellBody<'_>> {
    walk(body, Role::TopWithArgs)
}

fn walk(body: &[u8], top: Role) -> Option<RetellBody<'_>> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let found = Walk(top).deserialize(&mut de).ok()?;
    de.end().ok()?;
    match found {
        Found::Body(body) => Some(body),
        Found::Nothing | Found::Text(_) => Some(RetellBody::default()),
    }
}

/// serde_json's private key that marks a raw value.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Whether this build's `Value` treats [`RAW_VALUE_TOKEN`] specially
/// (serde_json's `raw_value` feature, unified over the whole build).
pub(crate) fn raw_value_marker_active() -> bool {
    static ACTIVE: OnceLock<bool> = OnceLock::new();
    *ACTIVE.get_or_init(|| {
        let probe = format!("{{\"{RAW_VALUE_TOKEN}\":\"0\"}}");
        matches!(
            serde_json::from_str::<serde_json::Value>(&probe),
            Ok(serde_json::Value::Number(_))
        )
    })
}

/// What a value is read for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The whole body.
    Top,
    /// The whole body, `args` kept.
    TopWithArgs,
    /// The value of `call` or `args`: its `call_id` is wanted.
    IdHolder,
    /// The value of `call.call_id` / `args.call_id`: string or number.
    Id,
    /// The value of `name`: a string.
    Name,
    /// Anything else: checked, then dropped.
    Skip,
}

/// What a value gave.
#[derive(Debug)]
enum Found<'a> {
    Nothing,
    Text(Cow<'a, str>),
    Body(RetellBody<'a>),
}

impl<'a> Found<'a> {
    fn into_owned(self) -> Found<'static> {
        match self {
            Found::Nothing => Found::Nothing,
            Found::Text(t) => Found::Text(Cow::Owned(t.into_owned())),
            Found::Body(b) => Found::Body(b.into_owned()),
        }
    }

    fn text(self) -> Option<Cow<'a, str>> {
        match self {
            Found::Text(t) => Some(t),
            Found::Nothing | Found::Body(_) => None,
        }
    }
}

/// Reads one value for a [`Role`].
#[derive(Debug, Clone, Copy)]
struct Walk(Role);

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = Found<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A map key, classified without copying it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Call,
    Args,
    Name,
    CallId,
    RawValueToken,
    Other,
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(match key {
            "call" => Key::Call,
            "args" => Key::Args,
            "name" => Key::Name,
            "call_id" => Key::CallId,
            RAW_VALUE_TOKEN => Key::RawValueToken,
            _ => Key::Other,
        })
    }
}

/// A string value, borrowed when it has no escapes.
struct StrSeed;

impl<'de> DeserializeSeed<'de> for StrSeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for StrSeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
}

impl Walk {
    fn text<'de, E: de::Error>(self, text: Cow<'de, str>) -> Result<Found<'de>, E> {
        Ok(match self.0 {
            Role::Id | Role::Name => Found::Text(text),
            Role::Top | Role::TopWithArgs => Found::Body(RetellBody::default()),
            Role::IdHolder | Role::Skip => Found::Nothing,
        })
    }

    fn number<'de, E: de::Error>(
        self,
        number: Option<serde_json::Number>,
    ) -> Result<Found<'de>, E> {
        Ok(match (self.0, number) {
            (Role::Id, Some(n)) => Found::Text(Cow::Owned(n.to_string())),
            (Role::Top | Role::TopWithArgs, _) => Found::Body(RetellBody::default()),
            _ => Found::Nothing,
        })
    }

    fn other<'de, E: de::Error>(self) -> Result<Found<'de>, E> {
        Ok(match self.0 {
            Role::Top | Role::TopWithArgs => Found::Body(RetellBody::default()),
            _ => Found::Nothing,
        })
    }

    /// The role of the value under `key` in an object read for `self`.
    fn child(self, key: Key) -> Role {
        match (self.0, key) {
            (Role::Top | Role::TopWithArgs, Key::Call | Key::Args) => Role::IdHolder,
            (Role::Top | Role::TopWithArgs, Key::Name) => Role::Name,
            (Role::IdHolder, Key::CallId) => Role::Id,
            _ => Role::Skip,
        }
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = Found<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        self.other()
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        self.number(Some(n.into()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        self.number(Some(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        self.number(serde_json::Number::from_f64(n))
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        self.text(Cow::Borrowed(s))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        match self.0 {
            Role::Id | Role::Name => self.text(Cow::Owned(s.to_owned())),
            _ => self.other(),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.other()
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.other()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element_seed(Walk(Role::Skip))?.is_some() {}
        self.other()
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(first) = map.next_key_seed(KeySeed)? else {
            return self.other();
        };
        if first == Key::RawValueToken && raw_value_marker_active() {
            // As `Value` does: the string is the JSON text of this value,
            // read by a fresh parser; the object must end after it.
            let text = map.next_value_seed(StrSeed)?;
            let mut inner = serde_json::Deserializer::from_str(&text);
            let found = self
                .deserialize(&mut inner)
                .and_then(|found| inner.end().map(|()| found))
                .map_err(de::Error::custom)?;
            return Ok(found.into_owned());
        }
        let mut body = RetellBody::default();
        let mut id = None;
        let mut key = Some(first);
        while let Some(k) = key {
            if (self.0, k) == (Role::TopWithArgs, Key::Args) {
                // Read as `Value` reads it; its `call_id` as `IdHolder` would.
                let args: serde_json::Value = map.next_value()?;
                body.args_call_id = match args.get("call_id") {
                    Some(serde_json::Value::String(s)) => Some(Cow::Owned(s.clone())),
                    Some(serde_json::Value::Number(n)) => Some(Cow::Owned(n.to_string())),
                    _ => None,
                };
                body.args = Some(args);
                key = map.next_key_seed(KeySeed)?;
                continue;
            }
            let role = self.child(k);
            let found = map.next_value_seed(Walk(role))?;
            match (self.0, k) {
                (Role::Top | Role::TopWithArgs, Key::Call) => body.call_call_id = found.text(),
                (Role::Top, Key::Args) => body.args_call_id = found.text(),
                (Role::Top | Role::TopWithArgs, Key::Name) => body.name = found.text(),
                (Role::IdHolder, Key::CallId) => id = found.text(),
                _ => {}
            }
            key = map.next_key_seed(KeySeed)?;
        }
        Ok(match self.0 {
            Role::Top | Role::TopWithArgs => Found::Body(body),
            Role::IdHolder => id.map_or(Found::Nothing, Found::Text),
            Role::Id | Role::Name | Role::Skip => Found::Nothing,
        })
    }
}
