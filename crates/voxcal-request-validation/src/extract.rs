//! axum extractor for Retell's `{call, name, args}` function-call body.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::{json, Value};
use voxcal_core::{Clock, Lang, SystemClock, UserMessage};

use crate::context::ValidationContext;
use crate::error::ValidationErrors;
use crate::request::Validate;

/// How [`ValidatedArgs`] validates: the tenant's zone, the clock that gives
/// "now", the language of messages, and the status of a validation failure.
///
/// Put it into the router state (or make it [`FromRef`] of your state).
///
/// ```
/// use axum::http::StatusCode;
/// use chrono::{TimeZone, Utc};
/// use voxcal_request_validation::{FakeClock, ValidationConfig};
///
/// let now = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
/// let config = ValidationConfig::new(chrono_tz::Europe::Berlin)
///     .with_clock(FakeClock::at(now))
///     .with_rejection_status(StatusCode::UNPROCESSABLE_ENTITY);
/// assert_eq!(config.rejection_status(), StatusCode::UNPROCESSABLE_ENTITY);
/// assert_eq!(config.context().now, now);
/// ```
#[derive(Clone, Debug)]
pub struct ValidationConfig {
    tz: Tz,
    clock: Arc<dyn Clock>,
    lang: Lang,
    status: StatusCode,
}

impl ValidationConfig {
    /// Validation in `tz` with the system clock, German messages and HTTP 200
    /// failures (so the voice agent keeps talking).
    pub fn new(tz: Tz) -> Self {
        Self {
            tz,
            clock: Arc::new(SystemClock),
            lang: Lang::De,
            status: StatusCode::OK,
        }
    }

    /// Reads "now" ([`Clock::now_utc`]) from `clock` (tests pass a
    /// [`FakeClock`](voxcal_core::FakeClock); the default is the
    /// [`SystemClock`]).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The language of the `message` texts.
    pub fn with_lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    /// The HTTP status of a validation failure (default 200; 422 for clients
    /// that want a protocol error).
    pub fn with_rejection_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The configured failure status.
    pub fn rejection_status(&self) -> StatusCode {
        self.status
    }

    /// A context for the current instant of the configured clock.
    pub fn context(&self) -> ValidationContext {
        ValidationContext::new(self.clock.now_utc(), self.tz)
    }
}

/// The `call` object of a Retell function call.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct RetellCall {
    /// Retell's call id, when present.
    #[serde(default)]
    pub call_id: Option<String>,
}

#[derive(Deserialize)]
struct RetellBody {
    #[serde(default)]
    call: Option<RetellCall>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    args: Value,
}

/// Extracts Retell's `{call, name, args}` JSON body and validates `args` as `T`.
///
/// Validation failures become a [`ValidationRejection`]: HTTP 200 (by
/// default) with `{"success":false,"status":"validation_error","message":…,
/// "errors":{field:[{code,params,message}]}}`; a body that is not JSON is a
/// protocol error and keeps axum's status (400/415).
///
/// ```
/// use axum::{routing::post, Json, Router};
/// use voxcal_request_validation::{AppointmentRequest, ValidatedArgs, ValidationConfig};
///
/// async fn collect(ValidatedArgs { args, .. }: ValidatedArgs<AppointmentRequest>) -> Json<serde_json::Value> {
///     Json(serde_json::json!({"success": true, "data": args}))
/// }
///
/// let app: Router = Router::new()
///     .route("/api/retell/collect_appointment", post(collect))
///     .with_state(ValidationConfig::new(chrono_tz::Europe::Berlin));
/// # drop(app);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct ValidatedArgs<T> {
    /// The `call` object.
    pub call: Option<RetellCall>,
    /// The function name (`collect_appointment`).
    pub name: String,
    /// The validated arguments.
    pub args: T,
}

/// Why [`ValidatedArgs`] refused a request.
#[derive(Debug)]
#[non_exhaustive]
pub enum ValidationRejection {
    /// `args` failed validation.
    Invalid {
        /// The field errors.
        errors: ValidationErrors,
        /// The configured status.
        status: StatusCode,
        /// The configured language.
        lang: Lang,
    },
    /// The body was not a JSON `{call, name, args}` object.
    Body(JsonRejection),
}

/// The sentence of the response's `message`: the first field error's, or
/// that the body was not JSON.
impl UserMessage for ValidationRejection {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        match (self, lang) {
            (Self::Invalid { errors, .. }, _) => errors.user_message(lang),
            (Self::Body(_), Lang::En) => "The request was not valid JSON.".into(),
            (Self::Body(_), _) => "Die Anfrage war kein gültiges JSON.".into(),
        }
    }
}

impl IntoResponse for ValidationRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Invalid {
                errors,
                status,
                lang,
            } => {
                let body = json!({
                    "success": false,
                    "status": "validation_error",
                    "message": errors.user_message(lang),
                    "errors": errors.to_json(lang),
                });
                (status, Json(body)).into_response()
            }
            Self::Body(ref rejection) => {
                let status = rejection.status();
                let body = json!({
                    "success": false,
                    "status": "bad_request",
                    "message": self.user_message(Lang::De),
                });
                (status, Json(body)).into_response()
            }
        }
    }
}

impl<S, T> FromRequest<S> for ValidatedArgs<T>
where
    S: Send + Sync,
    T: Validate,
    ValidationConfig: FromRef<S>,
{
    type Rejection = ValidationRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let config = ValidationConfig::from_ref(state);
        let Json(body) = Json::<RetellBody>::from_request(req, state)
            .await
            .map_err(ValidationRejection::Body)?;
        let ctx = config.context();
        let args =
            T::validate(&body.args, &ctx).map_err(|errors| ValidationRejection::Invalid {
                errors,
                status: config.status,
                lang: config.lang,
            })?;
        Ok(Self {
            call: body.call,
            name: body.name,
            args,
        })
    }
}
