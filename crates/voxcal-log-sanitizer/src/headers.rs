//! Sanitizing `http::HeaderMap`s.

use http::header::{HeaderMap, HeaderValue};

use crate::keys::is_secret_header;
use crate::Sanitizer;

const REDACTED: HeaderValue = HeaderValue::from_static("[REDACTED]");

impl Sanitizer {
    /// Returns a copy of `headers` fit for a log line: credentials
    /// (`authorization`, `proxy-authorization`, `cookie`, `set-cookie`,
    /// `x-api-key`, `x-retell-signature`, any `*-token`, `*-secret`,
    /// `*-api-key`) are replaced whole by `[REDACTED]`; every other value goes
    /// through [`sanitize`](Self::sanitize).
    ///
    /// ```
    /// use http::header::{HeaderMap, HeaderValue};
    ///
    /// let s = voxcal_log_sanitizer::Sanitizer::default();
    /// let mut headers = HeaderMap::new();
    /// headers.insert("authorization", HeaderValue::from_static("Bearer abcdef123456"));
    /// headers.insert("x-csrf-token", HeaderValue::from_static("f00dfeed"));
    /// headers.insert("from", HeaderValue::from_static("max@gmx.de"));
    /// headers.insert("content-type", HeaderValue::from_static("application/json"));
    ///
    /// let clean = s.sanitize_headers(&headers);
    /// assert_eq!(clean["authorization"], "[REDACTED]");
    /// assert_eq!(clean["x-csrf-token"], "[REDACTED]");
    /// assert_eq!(clean["from"], "[EMAIL_REDACTED]");
    /// assert_eq!(clean["content-type"], "application/json");
    /// ```
    pub fn sanitize_headers(&self, headers: &HeaderMap) -> HeaderMap {
        let mut out = headers.clone();
        self.sanitize_headers_in_place(&mut out);
        out
    }

    /// Like [`sanitize_headers`](Self::sanitize_headers), in place.
    pub fn sanitize_headers_in_place(&self, headers: &mut HeaderMap) {
        for (name, value) in headers.iter_mut() {
            if is_secret_header(name.as_str()) {
                if self.is_enabled(crate::Kind::Secret) {
                    *value = REDACTED;
                }
                continue;
            }
            let clean = self.sanitize_bytes(value.as_bytes());
            if clean.as_bytes() != value.as_bytes() {
                *value = HeaderValue::from_str(&clean).unwrap_or(REDACTED);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_keep_multiple_values_and_redact_all_credentials() {
        let s = Sanitizer::default();
        let mut h = HeaderMap::new();
        h.append("set-cookie", HeaderValue::from_static("sid=abc"));
        h.append("set-cookie", HeaderValue::from_static("theme=dark"));
        h.insert("x-retell-signature", HeaderValue::from_static("v=1,d=abc"));
        h.insert(
            "proxy-authorization",
            HeaderValue::from_static("Basic dXNlcjpwYXNz"),
        );
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 10.0.0.1"),
        );
        h.insert("x-request-id", HeaderValue::from_static("req-2026713"));
        h.insert(
            "x-odd",
            HeaderValue::from_bytes(b"caller max@gmx.de \xfe").unwrap(),
        );
        let out = s.sanitize_headers(&h);
        let cookies: Vec<_> = out.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["[REDACTED]", "[REDACTED]"]);
        assert_eq!(out["x-retell-signature"], "[REDACTED]");
        assert_eq!(out["proxy-authorization"], "[REDACTED]");
        assert_eq!(out["x-forwarded-for"], "[IP_REDACTED], [IP_REDACTED]");
        assert_eq!(out["x-request-id"], "req-2026713");
        // Invalid UTF-8 is replaced lossily, the rest is sanitized.
        assert_eq!(
            out["x-odd"].as_bytes(),
            "caller [EMAIL_REDACTED] \u{fffd}".as_bytes()
        );
    }
}
