//! Key-aware, recursive sanitizing of `serde_json::Value`s.

use serde_json::Value;

use crate::detect::is_marker;
use crate::keys::classify_key;
use crate::Sanitizer;

impl Sanitizer {
    /// Sanitizes a JSON value in place. Values of sensitive keys (`email`,
    /// `customer_name`, `password`, `address`, ...) are replaced whole by a
    /// marker string, even when they are objects or arrays; every other string
    /// goes through [`sanitize`](Self::sanitize). Object keys, numbers, booleans
    /// and `null` under other keys are kept, so the document keeps its shape.
    ///
    /// ```
    /// use serde_json::json;
    ///
    /// let s = voxcal_log_sanitizer::Sanitizer::default();
    /// let mut body = json!({
    ///     "name": "book_appointment",
    ///     "call": {"call_id": "c_123", "from_number": "+4917612345678"},
    ///     "args": {
    ///         "customer_name": "Max Müller",
    ///         "email": "max@gmx.de",
    ///         "address": {"street": "Hauptstr. 5", "plz": "10115"},
    ///         "notes": "Rückruf unter 0171-1234567",
    ///         "date": "2025-10-01",
    ///         "guests": 2
    ///     }
    /// });
    /// s.sanitize_json(&mut body);
    /// assert_eq!(body, json!({
    ///     "name": "book_appointment",
    ///     "call": {"call_id": "c_123", "from_number": "[PHONE_REDACTED]"},
    ///     "args": {
    ///         "customer_name": "[NAME_REDACTED]",
    ///         "email": "[EMAIL_REDACTED]",
    ///         "address": "[ADDRESS_REDACTED]",
    ///         "notes": "Rückruf unter [PHONE_REDACTED]",
    ///         "date": "2025-10-01",
    ///         "guests": 2
    ///     }
    /// }));
    /// ```
    pub fn sanitize_json(&self, value: &mut Value) {
        match value {
            Value::String(text) => {
                if let std::borrow::Cow::Owned(clean) = self.sanitize(text) {
                    *text = clean;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.sanitize_json(v)),
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    match classify_key(key.as_bytes()) {
                        Some(rule) if self.is_enabled(rule.kind) => {
                            self.redact_json_value(v, rule.kind, rule.bare_name);
                        }
                        _ => self.sanitize_json(v),
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// The by-value variant of [`sanitize_json`](Self::sanitize_json).
    pub fn sanitize_json_value(&self, mut value: Value) -> Value {
        self.sanitize_json(&mut value);
        value
    }

    fn redact_json_value(&self, v: &mut Value, kind: crate::Kind, bare_name: bool) {
        let text = match &mut *v {
            Value::Null | Value::Bool(_) => return,
            Value::String(s) if s.is_empty() || is_marker(s.as_bytes()) => return,
            // `"name": "check_availability"` is a function, not a person.
            Value::String(s) if bare_name && !s.contains(' ') && s.contains('_') => return,
            Value::String(s) => std::mem::take(s),
            other => other.to_string(),
        };
        *v = Value::String(self.inner().marker_string(kind, &text));
    }
}
