//! Retell request signatures: `X-Retell-Signature: v=<unix ms>,d=<hex>`.
//!
//! The digest is HMAC-SHA256 with the tenant's Retell API key over the raw
//! body followed by the timestamp (decimal milliseconds). Signatures older or
//! newer than five minutes are refused; digests are compared in constant time.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::state::{AppState, TenantRuntime};

/// The request header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-retell-signature";

/// How far a signature's timestamp may be from "now", in milliseconds.
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// No `X-Retell-Signature` header.
    #[error("missing signature")]
    Missing,
    /// The header is not `v=<unix ms>,d=<hex>`.
    #[error("malformed signature")]
    Malformed,
    /// The timestamp is more than five minutes away from now.
    #[error("stale signature")]
    Stale,
    /// The digest does not match.
    #[error("signature mismatch")]
    Mismatch,
}

fn digest(key: &str, body: &[u8], timestamp: &str) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    mac.update(timestamp.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The header value Retell would send for `body` at `timestamp_ms`.
///
/// ```
/// let header = booking_service::sign("key_demo", b"{}", 1_790_000_000_000);
/// assert!(header.starts_with("v=1790000000000,d="));
/// assert!(booking_service::verify_signature("key_demo", b"{}", &header, 1_790_000_000_000).is_ok());
/// ```
pub fn sign(key: &str, body: &[u8], timestamp_ms: i64) -> String {
    let ts = timestamp_ms.to_string();
    format!("v={ts},d={}", hex::encode(digest(key, body, &ts)))
}

/// Checks a signature header against `body` at `now_ms`.
pub fn verify_signature(
    key: &str,
    body: &[u8],
    header: &str,
    now_ms: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut given = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("v", v)) => timestamp = Some(v),
            Some(("d", d)) => given = Some(d),
            _ => return Err(SignatureError::Malformed),
        }
    }
    let (Some(timestamp), Some(given)) = (timestamp, given) else {
        return Err(SignatureError::Malformed);
    };
    let at: i64 = timestamp.parse().map_err(|_| SignatureError::Malformed)?;
    let given = hex::decode(given).map_err(|_| SignatureError::Malformed)?;
    if (now_ms - at).abs() > MAX_SKEW_MS {
        return Err(SignatureError::Stale);
    }
    let expected = digest(key, body, timestamp);
    if bool::from(expected.as_slice().ct_eq(given.as_slice())) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Checks the `X-Retell-Signature` of a request for `tenant`: always passes
/// for a tenant without a Retell key. Function calls
/// ([`envelope::read`](crate::envelope)) and the call webhook share it.
pub(crate) fn check_request(
    state: &AppState,
    tenant: &TenantRuntime,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), SignatureError> {
    let Some(key) = tenant.retell_api_key.as_deref() else {
        return Ok(());
    };
    match headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()) {
        None => Err(SignatureError::Missing),
        Some(header) => verify_signature(key, body, header, state.now().timestamp_millis()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_791_000_000_000;

    #[test]
    fn table() {
        let body = br#"{"call":{"call_id":"call_1"}}"#;
        let good = sign("key_a", body, NOW);
        type Case<'a> = (&'a str, &'a [u8], String, Result<(), SignatureError>);
        let cases: Vec<Case<'_>> = vec![
            ("valid", body, good.clone(), Ok(())),
            (
                "valid 4 min old",
                body,
                sign("key_a", body, NOW - 240_000),
                Ok(()),
            ),
            (
                "tampered body",
                b"{\"call\":{\"call_id\":\"call_2\"}}",
                good.clone(),
                Err(SignatureError::Mismatch),
            ),
            (
                "wrong key",
                body,
                sign("key_b", body, NOW),
                Err(SignatureError::Mismatch),
            ),
            (
                "stale",
                body,
                sign("key_a", body, NOW - 301_000),
                Err(SignatureError::Stale),
            ),
            (
                "future",
                body,
                sign("key_a", body, NOW + 301_000),
                Err(SignatureError::Stale),
            ),
            (
                "timestamp swapped",
                body,
                good.replace(&NOW.to_string(), &(NOW - 1).to_string()),
                Err(SignatureError::Mismatch),
            ),
            (
                "no timestamp",
                body,
                good.split(',').nth(1).unwrap().to_owned(),
                Err(SignatureError::Malformed),
            ),
            (
                "bad hex",
                body,
                format!("v={NOW},d=zz"),
                Err(SignatureError::Malformed),
            ),
            (
                "garbage",
                body,
                "nonsense".to_owned(),
                Err(SignatureError::Malformed),
            ),
        ];
        for (name, body, header, expected) in cases {
            assert_eq!(
                verify_signature("key_a", body, &header, NOW),
                expected,
                "{name}"
            );
        }
    }
}
