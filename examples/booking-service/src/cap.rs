//! Retell's cap on a function's answer: Retell cuts a reply longer than
//! [`MAX_REPLY_CHARS`] characters, which leaves the agent with broken JSON.
//! Replies stay under it: lists in `data` lose their last entries (longest
//! list first) and `data.truncated` says so; the speakable `message` stays.

use axum::body::{to_bytes, Body, HttpBody};
use axum::http::header;
use axum::response::Response;
use serde_json::Value;

/// Retell's limit on a function's answer, in characters.
pub(crate) const MAX_REPLY_CHARS: usize = 15_000;

/// Bodies at most this many bytes are passed without a look (a character
/// is at least one byte); larger ones are read to be measured.
const READ_LIMIT: usize = 4 * 1024 * 1024;

/// The handler's last step: passes small replies untouched, shortens long
/// ones.
pub(crate) async fn cap_reply(response: Response) -> Response {
    match response.body().size_hint().exact() {
        Some(n) if usize::try_from(n).is_ok_and(|n| n <= MAX_REPLY_CHARS) => return response,
        _ => {}
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, READ_LIMIT).await else {
        tracing::warn!("reply body unreadable; sent empty");
        return Response::from_parts(parts, Body::empty());
    };
    let fits = std::str::from_utf8(&bytes).is_ok_and(|s| s.chars().count() <= MAX_REPLY_CHARS);
    if fits {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let dropped = shorten(&mut value, MAX_REPLY_CHARS);
    tracing::warn!(dropped, "reply over Retell's cap: list entries dropped");
    metrics::counter!("reply_truncations_total").increment(1);
    let text = value.to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

/// Drops entries from the longest list under `data` until `value`
/// serializes to at most `max` characters; if no list is left, `data`
/// becomes `{"truncated":true}`. Returns how many entries went.
pub(crate) fn shorten(value: &mut Value, max: usize) -> usize {
    let mut dropped = 0;
    let len = |v: &Value| v.to_string().chars().count();
    if len(value) <= max {
        return 0;
    }
    let Some(data) = value.get_mut("data") else {
        return 0;
    };
    if let Some(map) = data.as_object_mut() {
        map.insert("truncated".to_owned(), Value::Bool(true));
    }
    // Each step drops a tenth of the longest list (at least one entry):
    // few re-serializations even for long lists.
    while len(value) > max {
        let Some(list) = value.get_mut("data").and_then(longest_list) else {
            break;
        };
        let cut = (list.len() / 10).max(1);
        list.truncate(list.len() - cut);
        dropped += cut;
    }
    if len(value) > max {
        if let Some(data) = value.get_mut("data") {
            *data = serde_json::json!({"truncated": true});
        }
    }
    // A message alone over the cap: cut at a character boundary.
    let over = len(value).saturating_sub(max);
    if over > 0 {
        if let Some(Value::String(message)) = value.get_mut("message") {
            let keep = message.chars().count().saturating_sub(over + 1);
            *message = message.chars().take(keep).chain(['…']).collect();
        }
    }
    dropped
}

/// The longest non-empty array in `value` (at any depth).
fn longest_list(value: &mut Value) -> Option<&mut Vec<Value>> {
    fn find(value: &Value, path: &mut Vec<usize>, best: &mut Option<(usize, Vec<usize>)>) {
        match value {
            Value::Array(items) => {
                if !items.is_empty() && best.as_ref().is_none_or(|(n, _)| items.len() > *n) {
                    *best = Some((items.len(), path.clone()));
                }
                for (i, item) in items.iter().enumerate() {
                    path.push(i);
                    find(item, path, best);
                    path.pop();
                }
            }
            Value::Object(map) => {
                for (i, item) in map.values().enumerate() {
                    path.push(i);
                    find(item, path, best);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut best = None;
    find(value, &mut Vec::new(), &mut best);
    let (_, path) = best?;
    let mut at = value;
    for i in path {
        at = match at {
            Value::Array(items) => items.get_mut(i)?,
            Value::Object(map) => map.values_mut().nth(i)?,
            _ => return None,
        };
    }
    at.as_array_mut()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn long_reply(entries: usize) -> Value {
        let slots: Vec<Value> = (0..entries)
            .map(|i| json!({"start": format!("2026-10-13T{:02}:00:00+02:00", i % 24), "spoken": "Dienstag, der dreizehnte Oktober um vierzehn Uhr dreißig"}))
            .collect();
        json!({"success": true, "status": "unavailable", "message": "Leider ist das nicht frei.",
               "data": {"alternatives": slots, "services": ["a", "b"]}})
    }

    #[test]
    fn a_long_list_is_cut_under_the_cap_and_the_message_stays() {
        let mut reply = long_reply(1_000);
        assert!(reply.to_string().chars().count() > MAX_REPLY_CHARS);
        let dropped = shorten(&mut reply, MAX_REPLY_CHARS);
        let text = reply.to_string();
        assert!(
            text.chars().count() <= MAX_REPLY_CHARS,
            "{} chars",
            text.len()
        );
        let kept = reply["data"]["alternatives"].as_array().unwrap().len();
        assert_eq!(kept + dropped, 1_000);
        assert!(kept > 50, "kept only {kept}");
        assert_eq!(reply["data"]["truncated"], true);
        assert_eq!(reply["message"], "Leider ist das nicht frei.");
        assert_eq!(reply["data"]["services"], json!(["a", "b"]));
        // Still valid JSON the agent can read.
        let _: Value = serde_json::from_str(&text).unwrap();
    }

    #[test]
    fn a_short_reply_is_untouched() {
        let mut reply = long_reply(3);
        let before = reply.clone();
        assert_eq!(shorten(&mut reply, MAX_REPLY_CHARS), 0);
        assert_eq!(reply, before);
    }

    #[test]
    fn a_long_reply_without_lists_loses_its_data() {
        let mut reply =
            json!({"success": true, "message": "ok", "data": {"text": "x".repeat(20_000)}});
        shorten(&mut reply, MAX_REPLY_CHARS);
        assert_eq!(reply["data"], json!({"truncated": true}));
        assert_eq!(reply["message"], "ok");
    }

    #[test]
    fn a_message_over_the_cap_is_cut() {
        let mut reply = json!({"success": true, "message": "ä".repeat(20_000), "data": {}});
        shorten(&mut reply, MAX_REPLY_CHARS);
        let text = reply.to_string();
        assert!(
            text.chars().count() <= MAX_REPLY_CHARS,
            "{}",
            text.chars().count()
        );
        assert!(reply["message"].as_str().unwrap().ends_with('…'));
    }

    #[test]
    fn characters_not_bytes_are_counted() {
        // 'ü' is two bytes: 9,000 of them are 18,000 bytes but 9,000 chars.
        let mut reply = json!({"message": "ok", "data": {"list": ["ü".repeat(9_000)]}});
        assert_eq!(shorten(&mut reply, MAX_REPLY_CHARS), 0);
    }

    #[tokio::test]
    async fn the_layer_shortens_a_long_body_and_passes_a_short_one() {
        let long = Response::new(Body::from(long_reply(1_000).to_string()));
        let out = cap_reply(long).await;
        let bytes = to_bytes(out.into_body(), READ_LIMIT).await.unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.chars().count() <= MAX_REPLY_CHARS);
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["data"]["truncated"], true);

        let short_text = long_reply(2).to_string();
        let short = Response::new(Body::from(short_text.clone()));
        let out = cap_reply(short).await;
        let bytes = to_bytes(out.into_body(), READ_LIMIT).await.unwrap();
        assert_eq!(bytes, short_text.as_bytes());
    }
}
