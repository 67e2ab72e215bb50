//! Finding the call id and function name of a request.

use http::request::Parts;

use crate::policy::CallKey;

/// The header the [`RetellExtractor`] falls back to for the call id.
pub const CALL_ID_HEADER: &str = "x-retell-call-id";

/// Longest call id accepted; longer ones count as missing (they would only
/// bloat keys).
const MAX_CALL_ID_LEN: usize = 200;

/// Finds the [`CallKey`] of a request from its head and its complete body.
///
/// Implemented by [`RetellExtractor`] (the default) and by any
/// `Fn(&http::request::Parts, &[u8]) -> Option<CallKey>` closure:
///
/// ```
/// use voxcal_call_rate_limiter::{CallKey, KeyExtractor};
///
/// // Limit per client IP header instead of per call.
/// let by_ip = |parts: &http::request::Parts, _body: &[u8]| {
///     let ip = parts.headers.get("x-forwarded-for")?.to_str().ok()?;
///     Some(CallKey::new(ip.to_owned()))
/// };
/// let req = http::Request::builder().header("x-forwarded-for", "192.0.2.7").body(()).unwrap();
/// let (parts, ()) = req.into_parts();
/// assert_eq!(by_ip.extract(&parts, b"").unwrap().call_id(), "192.0.2.7");
/// ```
pub trait KeyExtractor: Clone + Send + Sync + 'static {
    /// The key, or `None` when the request carries no usable call id.
    fn extract(&self, parts: &Parts, body: &[u8]) -> Option<CallKey>;
}

impl<F> KeyExtractor for F
where
    F: Fn(&Parts, &[u8]) -> Option<CallKey> + Clone + Send + Sync + 'static,
{
    fn extract(&self, parts: &Parts, body: &[u8]) -> Option<CallKey> {
        self(parts, body)
    }
}

/// Reads Retell function calls: `{"call":{"call_id":…}, "name":…, "args":{…}}`.
///
/// The call id comes from `call.call_id`, else `args.call_id`, else the
/// `X-Retell-Call-Id` header; placeholders (`undefined`, `None`, `null`,
/// `dummy_call_id`, empty, or a 1–5 digit number) are skipped as missing. The
/// function is the body's `name` without a `_vN` version suffix, else the
/// last path segment.
///
/// ```
/// use voxcal_call_rate_limiter::{KeyExtractor, RetellExtractor};
///
/// let body = br#"{"call":{"call_id":"call_3f9a"},"name":"book_appointment_v2","args":{}}"#;
/// let (parts, ()) = http::Request::post("/api/retell/x").body(()).unwrap().into_parts();
/// let key = RetellExtractor.extract(&parts, body).unwrap();
/// assert_eq!(key.call_id(), "call_3f9a");
/// assert_eq!(key.function(), Some("book_appointment"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RetellExtractor;

impl KeyExtractor for RetellExtractor {
    fn extract(&self, parts: &Parts, body: &[u8]) -> Option<CallKey> {
        // Only the three fields are read (borrowed where the body has no
        // escapes); the rest is checked and dropped, so a body is accepted
        // or refused exactly as a `serde_json::Value` would be.
        let fields = if body.is_empty() {
            None
        } else {
            super::body::parse(body)
        };
        let (call, args, name) = match &fields {
            Some(f) => (
                f.call_call_id.as_deref(),
                f.args_call_id.as_deref(),
                f.name.as_deref(),
            ),
            None => (None, None, None),
        };
        let call_id = pick_call_id(call, args, || call_id_header(&parts.headers))?;
        let function =
            function_of(name).or_else(|| parts.uri.path().rsplit('/').find(|s| !s.is_empty()));
        let key = CallKey::new(call_id);
        Some(match function {
            Some(f) => key.with_function(f),
            None => key,
        })
    }
}

/// `X-Retell-Call-Id`, when it is text.
fn call_id_header(headers: &http::HeaderMap) -> Option<&str> {
    headers.get(CALL_ID_HEADER).and_then(|v| v.to_str().ok())
}

/// The first usable call id: `call.call_id`, `args.call_id`, the header;
/// trimmed, placeholders skipped.
fn pick_call_id<'a>(
    call: Option<&'a str>,
    args: Option<&'a str>,
    header: impl FnOnce() -> Option<&'a str>,
) -> Option<&'a str> {
    [call, args]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|id| !is_placeholder_call_id(id))
        .or_else(|| {
            header()
                .map(str::trim)
                .filter(|id| !is_placeholder_call_id(id))
        })
}

/// `name` without its `_vN` suffix, unless that leaves nothing.
fn function_of(name: Option<&str>) -> Option<&str> {
    name.map(strip_version_suffix)
        .filter(|name| !name.is_empty())
}

/// A Retell function call's envelope, read in one pass: the fields
/// [`RetellExtractor`] reads, and `args`. For a service that parses the
/// body once and hands the layer its [`CallKey`] through the request's
/// extensions (see the [crate docs](crate)), so both agree on the call id.
///
/// A body is accepted or refused exactly as `serde_json::Value` would be;
/// of `call`, only `call_id` is kept (a Retell `call` object carries the
/// transcript, which is checked and dropped, never copied).
///
/// ```
/// use voxcal_call_rate_limiter::RetellEnvelope;
///
/// let body = br#"{"call":{"call_id":"call_5e1d","transcript":"..."},
///                 "name":"book_appointment_v2","args":{"datum":"morgen"}}"#;
/// let envelope = RetellEnvelope::parse(body).unwrap();
/// assert_eq!(envelope.call_id(None), Some("call_5e1d"));
/// assert_eq!(envelope.function(), Some("book_appointment"));
/// assert_eq!(envelope.args.unwrap()["datum"], "morgen");
/// assert!(RetellEnvelope::parse(b"{nope").is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct RetellEnvelope {
    /// `call.call_id` as text (a string, or a number's digits), untrimmed.
    pub call_call_id: Option<String>,
    /// `args.call_id` as text, untrimmed.
    pub args_call_id: Option<String>,
    /// `name` as sent (with any `_vN` suffix).
    pub name: Option<String>,
    /// `args`, whatever JSON it is; `None` without an `args` key.
    pub args: Option<serde_json::Value>,
}

impl RetellEnvelope {
    /// Reads `body`; `None` when it is not one JSON document. A document
    /// that is not an object reads as an envelope without fields.
    pub fn parse(body: &[u8]) -> Option<RetellEnvelope> {
        let body = super::body::parse_with_args(body)?;
        Some(RetellEnvelope {
            call_call_id: body.call_call_id.map(std::borrow::Cow::into_owned),
            args_call_id: body.args_call_id.map(std::borrow::Cow::into_owned),
            name: body.name.map(std::borrow::Cow::into_owned),
            args: body.args,
        })
    }

    /// The call id [`RetellExtractor`] counts by: `call.call_id`, then
    /// `args.call_id`, then `header` (`X-Retell-Call-Id`); trimmed, and
    /// never a placeholder ([`is_placeholder_call_id`]).
    pub fn call_id<'a>(&'a self, header: Option<&'a str>) -> Option<&'a str> {
        pick_call_id(
            self.call_call_id.as_deref(),
            self.args_call_id.as_deref(),
            || header,
        )
    }

    /// `name` without its version suffix ([`strip_version_suffix`]), unless
    /// empty.
    pub fn function(&self) -> Option<&str> {
        function_of(self.name.as_deref())
    }
}

/// Whether `id` is no real call id: empty, too long, a known placeholder
/// (`undefined`, `None`, `null`, `dummy_call_id`, any case) or a number of
/// 1 to 5 digits.
pub fn is_placeholder_call_id(id: &str) -> bool {
    let id = id.trim();
    id.is_empty()
        || id.len() > MAX_CALL_ID_LEN
        || ["undefined", "none", "null", "dummy_call_id"]
            .iter()
            .any(|p| id.eq_ignore_ascii_case(p))
        || (id.len() <= 5 && id.bytes().all(|b| b.is_ascii_digit()))
}

/// `book_appointment_v2` → `book_appointment`; names without a `_vN` suffix
/// are returned unchanged.
pub fn strip_version_suffix(name: &str) -> &str {
    let name = name.trim();
    if let Some(at) = name.rfind("_v") {
        let digits = &name[at + 2..];
        if at > 0 && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return &name[..at];
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The extractor as it was before the targeted parse: the whole body as
    /// a `serde_json::Value`. The reference the new one must agree with.
    fn extract_via_value(parts: &Parts, body: &[u8]) -> Option<CallKey> {
        let json: Option<serde_json::Value> = if body.is_empty() {
            None
        } else {
            serde_json::from_slice(body).ok()
        };
        let from_body = |outer: &str| {
            json.as_ref()
                .and_then(|j| j.get(outer))
                .and_then(|o| o.get("call_id"))
                .and_then(id_text)
        };
        let from_header = || {
            parts
                .headers
                .get(CALL_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let call_id = [from_body("call"), from_body("args"), from_header()]
            .into_iter()
            .flatten()
            .map(|id| id.trim().to_owned())
            .find(|id| !is_placeholder_call_id(id))?;
        let function = json
            .as_ref()
            .and_then(|j| j.get("name"))
            .and_then(serde_json::Value::as_str)
            .map(strip_version_suffix)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .or_else(|| {
                parts
                    .uri
                    .path()
                    .rsplit('/')
                    .find(|s| !s.is_empty())
                    .map(str::to_owned)
            });
        let key = CallKey::new(call_id);
        Some(match function {
            Some(f) => key.with_function(f),
            None => key,
        })
    }

    fn id_text(value: &serde_json::Value) -> Option<String> {
        match value {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn parts(path: &str, header: Option<&str>) -> Parts {
        let mut b = http::Request::post(path);
        if let Some(h) = header {
            b = b.header(CALL_ID_HEADER, h);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn table() {
        // (body, path, header, call id, function)
        type Case<'a> = (
            &'a str,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
        );
        let cases: &[Case<'_>] = &[
            (
                r#"{"call":{"call_id":"c1"},"name":"book_v2"}"#,
                "/f",
                None,
                Some("c1"),
                Some("book"),
            ),
            (
                r#"{"call":{"call_id":"undefined"},"args":{"call_id":"c2"}}"#,
                "/api/check",
                None,
                Some("c2"),
                Some("check"),
            ),
            (
                r#"{"call":{"call_id":"None"},"name":"x"}"#,
                "/",
                Some("hdr-id"),
                Some("hdr-id"),
                Some("x"),
            ),
            (r#"{"call":{"call_id":"12345"}}"#, "/f", None, None, None),
            (
                r#"{"call":{"call_id":"123456"}}"#,
                "/f/",
                None,
                Some("123456"),
                Some("f"),
            ),
            (
                r#"{"call":{"call_id":"dummy_call_id"}}"#,
                "/f",
                Some("  "),
                None,
                None,
            ),
            (
                "not json",
                "/api/retell/collect",
                Some("h"),
                Some("h"),
                Some("collect"),
            ),
            ("", "/", None, None, None),
            (
                r#"{"call":{"call_id":"c"},"name":"check_availability_v"}"#,
                "/",
                None,
                Some("c"),
                Some("check_availability_v"),
            ),
            (
                r#"{"call":{"call_id":"c"},"name":"_v3"}"#,
                "/p",
                None,
                Some("c"),
                Some("_v3"),
            ),
        ];
        for (body, path, header, id, function) in cases {
            let got = RetellExtractor.extract(&parts(path, *header), body.as_bytes());
            assert_eq!(got.as_ref().map(CallKey::call_id), *id, "{body}");
            if id.is_some() {
                assert_eq!(
                    got.as_ref().and_then(CallKey::function),
                    *function,
                    "{body}"
                );
            }
        }
    }

    /// serde_json's private raw-value marker (see `body.rs`).
    const RAW: &str = "$serde_json::private::RawValue";

    /// Scalars the extractor distinguishes: placeholders, ids, names with
    /// version suffixes, escapes, odd and invalid numbers and strings.
    fn leaf() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "null",
                "true",
                "false",
                "0",
                "-0",
                "7",
                "-7",
                "12345",
                "123456",
                "1.5",
                "1e3",
                "2E-2",
                "1e400",
                "-1e-400",
                "18446744073709551615",
                "18446744073709551616",
                "-9223372036854775809",
                "01",
                "1.",
                ".5",
                "- 1",
                r#""""#,
                r#""  ""#,
                r#"" undefined ""#,
                r#""NULL""#,
                r#""12345""#,
                r#""dummy_call_id""#,
                r#""call_v2""#,
                r#""book_appointment_v12""#,
                r#""_v3""#,
                r#""x_v""#,
                r#""a\nb""#,
                r#""\u00e9t\u00e9""#,
                r#""\ud83d\ude00""#,
                r#""\ud800""#,
                r#""\x""#,
                "\"tab\there\"",
                "\"caf\u{e9}\"",
            ])
            .prop_map(str::to_owned),
            "[a-zA-Z0-9 _-]{0,24}".prop_map(|s| format!("\"{s}\"")),
        ]
    }

    /// `{"<raw-value marker>": "<text as a JSON string>"}`.
    fn raw_wrapped(text: &str) -> String {
        format!("{{\"{RAW}\":{}}}", serde_json::to_string(text).unwrap())
    }

    fn object(entries: &[(String, String)]) -> String {
        let entries: Vec<String> = entries.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        format!("{{{}}}", entries.join(" , "))
    }

    /// JSON-ish text of any shape: the keys the extractor cares about, with
    /// duplicates, escapes, nesting and raw-value markers.
    fn json_ish() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "call",
            "args",
            "name",
            "call_id",
            "x",
            "",
            r"c\u0061ll",
            r"call_i\u0064",
            r"n\u0061me",
            RAW,
            "Call",
        ])
        .prop_map(|k| format!("\"{k}\""));
        leaf().prop_recursive(5, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((key.clone(), inner.clone()), 0..6)
                    .prop_map(|kv| object(&kv)),
                inner.prop_map(|v| raw_wrapped(&v)),
            ]
        })
    }

    /// Text shaped like a Retell body: `call` / `args` objects with
    /// (duplicate) `call_id`s, `name`s, other keys; objects sometimes
    /// behind a raw-value marker.
    fn retell_ish() -> impl Strategy<Value = String> {
        let maybe_raw = |text: String, wrap: bool| if wrap { raw_wrapped(&text) } else { text };
        let holder_entry = prop_oneof![
            3 => leaf().prop_map(|v| ("\"call_id\"".to_owned(), v)),
            1 => json_ish().prop_map(|v| ("\"x\"".to_owned(), v)),
        ];
        let holder = prop_oneof![
            4 => (prop::collection::vec(holder_entry, 0..3), prop::bool::weighted(0.2))
                .prop_map(move |(kv, wrap)| maybe_raw(object(&kv), wrap)),
            1 => leaf(),
        ];
        let top_entry = prop_oneof![
            (prop::sample::select(vec!["\"call\"", "\"args\""]), holder)
                .prop_map(|(k, v)| (k.to_owned(), v)),
            leaf().prop_map(|v| ("\"name\"".to_owned(), v)),
            json_ish().prop_map(|v| ("\"other\"".to_owned(), v)),
        ];
        (
            prop::collection::vec(top_entry, 0..5),
            prop::bool::weighted(0.2),
        )
            .prop_map(move |(kv, wrap)| maybe_raw(object(&kv), wrap))
    }

    /// [`json_ish`] or [`retell_ish`] text, sometimes broken: cut, a byte
    /// inserted, a byte appended.
    fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
        (
            prop_oneof![json_ish(), retell_ish()],
            0u8..6,
            any::<prop::sample::Index>(),
            prop::sample::select(vec![b'"', b',', b'}', b']', b'\\', b'x', 1u8, 0xff, b' ']),
        )
            .prop_map(|(text, mode, at, byte)| {
                let mut bytes = text.into_bytes();
                let i = at.index(bytes.len() + 1);
                match mode {
                    0 => bytes.truncate(i),
                    1 => bytes.insert(i, byte),
                    2 => bytes.push(byte),
                    _ => {}
                }
                bytes
            })
    }

    #[test]
    fn targeted_parse_matches_value_on_edge_cases() {
        // The dev-dependency turns serde_json's `raw_value` on, as in the
        // service's build, so the marker cases below are live.
        assert!(super::super::body::raw_value_marker_active());
        let deep = format!("{}{}", "[".repeat(130), "]".repeat(130));
        let cases = [
            r#"{"call":{"call_id":"a"},"call":{}}"#.to_owned(),
            r#"{"call":{"call_id":"a","call_id":null}}"#.to_owned(),
            r#"{"call":{"call_id":"a"},"call":"b","args":{"call_id":77777777}}"#.to_owned(),
            r#"{"call":{"call_id":1e2},"name":"f_v1","name":5}"#.to_owned(),
            r#"{"call":{"call_id":-123456.5}}"#.to_owned(),
            r#"{"c\u0061ll":{"call_\u0069d":"esc\u00e9"},"n\u0061me":"x\u005fv2"}"#.to_owned(),
            r#"{"call":{"call_id":"ok"},"x":"\ud800"}"#.to_owned(),
            r#"{"call":{"call_id":"ok"},"x":1e400}"#.to_owned(),
            r#"{"call":{"call_id":"ok"}} x"#.to_owned(),
            format!(r#"{{"call":{{"call_id":"ok"}},"x":{deep}}}"#),
            format!(r#"{{"{RAW}":"{{\"call\":{{\"call_id\":\"raw1\"}}}}"}}"#),
            format!(r#"{{"call":{{"{RAW}":"{{\"call_id\":\"raw2\"}}"}}}}"#),
            format!(r#"{{"call":{{"call_id":"ok"}},"x":{{"{RAW}":5}}}}"#),
            format!(r#"{{"call":{{"call_id":"ok"}},"x":{{"{RAW}":"[1]","y":2}}}}"#),
            format!(r#"{{"call":{{"call_id":"ok","{RAW}":"x"}}}}"#),
        ];
        for body in cases {
            for (path, header) in [("/api/retell/check_v2", None), ("/", Some("hdr_id_1"))] {
                let p = parts(path, header);
                assert_eq!(
                    RetellExtractor.extract(&p, body.as_bytes()),
                    extract_via_value(&p, body.as_bytes()),
                    "{body}"
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The targeted parse reads what the whole-`Value` parse read, on
        /// valid and broken JSON alike.
        #[test]
        fn targeted_parse_agrees_with_value(body in body_bytes()) {
            for (path, header) in [("/api/retell/check_availability_v2", None), ("/", Some("hdr_call_7f3a"))] {
                let p = parts(path, header);
                prop_assert_eq!(
                    RetellExtractor.extract(&p, &body),
                    extract_via_value(&p, &body),
                    "{}", String::from_utf8_lossy(&body)
                );
            }
        }

        /// The envelope reads `args` and the call id as a `Value` parse
        /// followed by the extractor's rule would.
        #[test]
        fn envelope_agrees_with_value(body in body_bytes()) {
            let envelope = RetellEnvelope::parse(&body);
            let value: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
            prop_assert_eq!(envelope.is_some(), value.is_some(), "{}", String::from_utf8_lossy(&body));
            let (Some(envelope), Some(value)) = (envelope, value) else {
                return Ok(());
            };
            prop_assert_eq!(envelope.args.as_ref(), value.get("args"));
            let p = parts("/", Some("hdr_call_7f3a"));
            let key = extract_via_value(&p, &body);
            prop_assert_eq!(
                envelope.call_id(Some("hdr_call_7f3a")),
                key.as_ref().map(CallKey::call_id),
                "{}", String::from_utf8_lossy(&body)
            );
            let name = value.get("name").and_then(serde_json::Value::as_str).map(strip_version_suffix).filter(|n| !n.is_empty());
            prop_assert_eq!(envelope.function(), name);
        }
    }

    proptest! {
        #[test]
        fn real_ids_round_trip(id in "[a-zA-Z_][a-zA-Z0-9_-]{5,40}", name in "[a-z_]{1,20}", v in 0u32..100) {
            let body = serde_json::json!({"call": {"call_id": id}, "name": format!("{name}_v{v}")});
            let key = RetellExtractor.extract(&parts("/x", None), body.to_string().as_bytes()).unwrap();
            prop_assert_eq!(key.call_id(), id.as_str());
            prop_assert_eq!(key.function(), Some(strip_version_suffix(&name)));
        }

        #[test]
        fn placeholders_never_count(n in 0u32..100_000, p in prop::sample::select(vec!["undefined", "None", "NULL", "dummy_call_id", ""])) {
            for id in [n.to_string(), p.to_owned()] {
                let body = serde_json::json!({"call": {"call_id": id}, "args": {"call_id": id}});
                prop_assert!(RetellExtractor.extract(&parts("/x", None), body.to_string().as_bytes()).is_none());
            }
        }

        #[test]
        fn never_panics_on_any_body(body in proptest::collection::vec(any::<u8>(), 0..256), header in "\\PC{0,20}") {
            let p = parts("/a/b", http::HeaderValue::from_str(&header).ok().map(|_| header.as_str()));
            if let Some(key) = RetellExtractor.extract(&p, &body) {
                prop_assert!(!is_placeholder_call_id(key.call_id()));
            }
        }

        #[test]
        fn strips_exactly_one_version_suffix(base in "[a-z][a-z_]{0,15}", n in 0u32..1000) {
            let name = format!("{base}_v{n}");
            prop_assert_eq!(strip_version_suffix(&name), base.as_str());
            // Names without a `_vN` suffix stay as they are.
            if !base.contains("_v") {
                prop_assert_eq!(strip_version_suffix(&base), base.as_str());
            }
        }
    }
}
