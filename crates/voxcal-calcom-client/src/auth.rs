//! Credentials: an API key or a platform OAuth client. Never printed.

use std::fmt;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};

use crate::error::CalcomError;

/// How the client authenticates to Cal.com.
///
/// `Debug` shows which variant it is, never the secret:
///
/// ```
/// use voxcal_calcom_client::Credentials;
///
/// let key = Credentials::api_key("cal_live_0123456789abcdef");
/// assert_eq!(format!("{key:?}"), "Credentials::ApiKey(\"cal_…[redacted]\")");
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// An API key (`cal_…` or `cal_live_…`), sent as `Authorization: Bearer <key>`.
    ApiKey(String),
    /// A platform OAuth client, sent as `x-cal-client-id` / `x-cal-secret-key`.
    PlatformClient {
        /// The OAuth client id (not secret, shown in `Debug`).
        client_id: String,
        /// The OAuth client secret key.
        secret_key: String,
    },
}

impl Credentials {
    /// An API key credential.
    pub fn api_key(key: impl Into<String>) -> Self {
        Self::ApiKey(key.into())
    }

    /// A platform OAuth client credential.
    pub fn platform_client(client_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self::PlatformClient {
            client_id: client_id.into(),
            secret_key: secret_key.into(),
        }
    }

    /// A stable, non-secret label for this credential (used to name breakers and
    /// quotas): the OAuth client id, or a short hash of the API key.
    pub fn label(&self) -> String {
        match self {
            Self::ApiKey(key) => format!("key-{:016x}", fnv1a(key.as_bytes())),
            Self::PlatformClient { client_id, .. } => format!("client-{client_id}"),
        }
    }

    /// The authentication headers, marked sensitive so `reqwest` and `http` never print them.
    pub(crate) fn headers(&self) -> Result<HeaderMap, CalcomError> {
        let mut headers = HeaderMap::new();
        let invalid = |_| {
            CalcomError::invalid_request("credentials", "credential contains invalid characters")
        };
        match self {
            Self::ApiKey(key) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(invalid)?;
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
            }
            Self::PlatformClient {
                client_id,
                secret_key,
            } => {
                let id = HeaderValue::from_str(client_id).map_err(invalid)?;
                let mut secret = HeaderValue::from_str(secret_key).map_err(invalid)?;
                secret.set_sensitive(true);
                headers.insert("x-cal-client-id", id);
                headers.insert("x-cal-secret-key", secret);
            }
        }
        Ok(headers)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiKey(key) => {
                let prefix = if key.starts_with("cal_") { "cal_" } else { "" };
                write!(f, "Credentials::ApiKey(\"{prefix}…[redacted]\")")
            }
            Self::PlatformClient { client_id, .. } => f
                .debug_struct("Credentials::PlatformClient")
                .field("client_id", client_id)
                .field("secret_key", &"[redacted]")
                .finish(),
        }
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_label_never_show_secrets() {
        let key = Credentials::api_key("cal_live_supersecret");
        let platform = Credentials::platform_client("client-1", "topsecret");
        for text in [
            format!("{key:?}"),
            format!("{platform:?}"),
            key.label(),
            platform.label(),
        ] {
            assert!(!text.contains("supersecret"), "{text}");
            assert!(!text.contains("topsecret"), "{text}");
        }
        assert!(format!("{platform:?}").contains("client-1"));
        assert_ne!(key.label(), Credentials::api_key("cal_other").label());
    }

    #[test]
    fn headers_are_sensitive() {
        let headers = Credentials::api_key("cal_x").headers().unwrap();
        assert_eq!(headers[AUTHORIZATION], "Bearer cal_x");
        assert!(headers[AUTHORIZATION].is_sensitive());
        let headers = Credentials::platform_client("id", "secret")
            .headers()
            .unwrap();
        assert_eq!(headers["x-cal-client-id"], "id");
        assert!(headers["x-cal-secret-key"].is_sensitive());
        assert!(Credentials::api_key("bad\nkey").headers().is_err());
    }
}
