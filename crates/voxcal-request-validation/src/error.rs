//! Field errors with stable codes, parameters and speakable messages.

use std::borrow::Cow;
use std::fmt;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;
use voxcal_core::{Lang, UserMessage};

/// Why one value was rejected.
///
/// `code()` is the stable machine-readable name, `params()` the values a
/// message needs, and [`UserMessage::user_message`] the sentence an agent
/// can say ([`ValidationError::message`] names the field in it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The field is missing or empty.
    #[error("the field is required")]
    Required,
    /// The cleaned value has more characters than allowed.
    #[error("the value has {actual} characters, at most {max} are allowed")]
    TooLong {
        /// Allowed characters.
        max: usize,
        /// Characters after cleaning.
        actual: usize,
    },
    /// The value consisted of markup only; nothing was left after cleaning.
    #[error("the value contained only markup")]
    MarkupOnly,
    /// The value carries script-like content (encoded tags, `javascript:`, `on…=`).
    #[error("the value contains script-like content")]
    UnsafeContent,
    /// The value is not a JSON string, number or boolean where one was expected.
    #[error("the value has the wrong type, expected {expected}")]
    WrongType {
        /// What was expected (`"string"`, `"boolean"`, `"integer"`).
        expected: &'static str,
    },
    /// An agent variable such as `{{customer_name}}` was never filled in.
    #[error("an agent placeholder was not filled in")]
    UnfilledPlaceholder,
    /// The date could not be understood.
    #[error("the date could not be understood")]
    InvalidDate,
    /// The date lies before today in the tenant's time zone.
    #[error("the date lies in the past")]
    PastDate,
    /// The time of day could not be understood.
    #[error("the time could not be understood")]
    InvalidTime,
    /// The e-mail address breaks the policy.
    #[error("the e-mail address is invalid")]
    InvalidEmail,
    /// The phone number has characters other than digits and `+ ( ) / - .`,
    /// or is not a valid number.
    #[error("the phone number is invalid")]
    InvalidPhone,
    /// A yes/no value was not one of `true/false/1/0/ja/nein`.
    #[error("the value is not a yes/no answer")]
    InvalidBoolean,
    /// A number lies outside the allowed range.
    #[error("the value must lie between {min} and {max}")]
    OutOfRange {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// The field is not part of the request.
    #[error("the field is not known")]
    UnknownField,
}

impl ValidationError {
    /// The stable code, e.g. `"too_long"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::TooLong { .. } => "too_long",
            Self::MarkupOnly => "markup_only",
            Self::UnsafeContent => "unsafe_content",
            Self::WrongType { .. } => "wrong_type",
            Self::UnfilledPlaceholder => "unfilled_placeholder",
            Self::InvalidDate => "invalid_date",
            Self::PastDate => "past_date",
            Self::InvalidTime => "invalid_time",
            Self::InvalidEmail => "invalid_email",
            Self::InvalidPhone => "invalid_phone",
            Self::InvalidBoolean => "invalid_boolean",
            Self::OutOfRange { .. } => "out_of_range",
            Self::UnknownField => "unknown_field",
        }
    }

    /// The parameters of the error as `(name, value)` pairs.
    pub fn params(&self) -> Vec<(&'static str, Value)> {
        match self {
            Self::TooLong { max, actual } => {
                vec![("max", (*max).into()), ("actual", (*actual).into())]
            }
            Self::WrongType { expected } => vec![("expected", (*expected).into())],
            Self::OutOfRange { min, max } => vec![("min", (*min).into()), ("max", (*max).into())],
            _ => Vec::new(),
        }
    }

    /// A sentence for the caller that names `field` where it helps (what
    /// [`FieldError`]'s [`UserMessage`] says).
    ///
    /// ```
    /// use voxcal_request_validation::{Lang, UserMessage, ValidationError};
    /// let e = ValidationError::Required;
    /// assert_eq!(e.message("email", Lang::De), "Bitte nennen Sie mir noch die E-Mail-Adresse.");
    /// assert_eq!(e.user_message(Lang::De), "Bitte nennen Sie mir noch diese Angabe.");
    /// ```
    pub fn message(&self, field: &str, lang: Lang) -> String {
        self.sentence(Some(field), lang)
    }

    /// The sentence, naming `field` when there is one.
    fn sentence(&self, field: Option<&str>, lang: Lang) -> String {
        match lang {
            Lang::En => self.english(field),
            _ => self.german(field),
        }
    }

    fn german(&self, field: Option<&str>) -> String {
        let label = field.map_or("diese Angabe", |f| field_label(f, Lang::De));
        // "Die Angabe für die Notiz ..." with a field, "Diese Angabe ..." without.
        let subject = match field {
            Some(_) => format!("Die Angabe für {label}"),
            None => "Diese Angabe".to_owned(),
        };
        match self {
            Self::Required | Self::UnfilledPlaceholder => format!("Bitte nennen Sie mir noch {label}."),
            Self::TooLong { max, .. } => {
                format!("{subject} ist zu lang, höchstens {max} Zeichen sind möglich.")
            }
            Self::MarkupOnly | Self::UnsafeContent => {
                format!("{subject} konnte ich nicht übernehmen. Können Sie sie bitte noch einmal sagen?")
            }
            Self::WrongType { .. } => format!("{subject} habe ich nicht verstanden."),
            Self::InvalidDate => "Das Datum habe ich nicht verstanden. Können Sie es bitte noch einmal sagen, zum Beispiel morgen oder am 15. März?".to_owned(),
            Self::PastDate => "Das Datum liegt in der Vergangenheit. Welcher Tag ab heute passt Ihnen?".to_owned(),
            Self::InvalidTime => "Die Uhrzeit habe ich nicht verstanden. Können Sie sie bitte noch einmal sagen, zum Beispiel 14 Uhr?".to_owned(),
            Self::InvalidEmail => "Die E-Mail-Adresse scheint unvollständig zu sein. Können Sie sie bitte buchstabieren?".to_owned(),
            Self::InvalidPhone => "Die Telefonnummer habe ich nicht richtig verstanden. Können Sie sie bitte Ziffer für Ziffer wiederholen?".to_owned(),
            Self::InvalidBoolean => "Bitte antworten Sie mit ja oder nein.".to_owned(),
            Self::OutOfRange { min, max } => {
                format!("{subject} muss zwischen {min} und {max} liegen.")
            }
            Self::UnknownField => match field {
                Some(field) => format!("Die Angabe {field} kenne ich nicht."),
                None => "Diese Angabe kenne ich nicht.".to_owned(),
            },
        }
    }

    fn english(&self, field: Option<&str>) -> String {
        let label = field.map_or("detail", |f| field_label(f, Lang::En));
        // "the note" with a field, "this detail" without.
        let the = if field.is_some() { "the" } else { "this" };
        let capital = if field.is_some() { "The" } else { "This" };
        match self {
            Self::Required => format!("I still need {the} {label}."),
            Self::TooLong { max, .. } => {
                format!("{capital} {label} is too long; at most {max} characters are allowed.")
            }
            Self::MarkupOnly | Self::UnsafeContent => {
                format!("I could not accept {the} {label}. Could you say it again, please?")
            }
            Self::WrongType { .. } => format!("I did not understand {the} {label}."),
            Self::UnfilledPlaceholder => format!("I still need {the} {label}. Could you tell me, please?"),
            Self::InvalidDate => "I did not understand the date. Could you say it again, for example tomorrow or March 15?".to_owned(),
            Self::PastDate => "That date is in the past. Which day from today on suits you?".to_owned(),
            Self::InvalidTime => "I did not understand the time. Could you say it again, for example 2 pm?".to_owned(),
            Self::InvalidEmail => "The e-mail address seems incomplete. Could you spell it, please?".to_owned(),
            Self::InvalidPhone => "I did not get the phone number right. Could you repeat it digit by digit, please?".to_owned(),
            Self::InvalidBoolean => "Please answer yes or no.".to_owned(),
            Self::OutOfRange { min, max } => {
                format!("{capital} {label} must be between {min} and {max}.")
            }
            Self::UnknownField => match field {
                Some(field) => format!("I do not know the field {field}."),
                None => "I do not know this field.".to_owned(),
            },
        }
    }
}

/// The sentence without a field name ("Bitte nennen Sie mir noch diese
/// Angabe."); a [`FieldError`] names its field.
impl UserMessage for ValidationError {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        self.sentence(None, lang).into()
    }
}

/// How a field is named in a sentence ("die E-Mail-Adresse", "e-mail
/// address"); unknown fields by their name.
fn field_label(field: &str, lang: Lang) -> &str {
    let (de, en) = match field {
        "datum" => ("das Datum", "date"),
        "uhrzeit" => ("die Uhrzeit", "time"),
        "name" => ("Ihren Namen", "name"),
        "dienstleistung" => ("die Dienstleistung", "service"),
        "email" => ("die E-Mail-Adresse", "e-mail address"),
        "telefonnummer" => ("die Telefonnummer", "phone number"),
        "mitarbeiter" => ("den Mitarbeiter", "staff member"),
        "notiz" => ("die Notiz", "note"),
        "bestaetigung" => ("die Bestätigung", "confirmation"),
        "duration" => ("die Dauer", "duration"),
        "call_id" => ("die Anruf-Kennung", "call id"),
        other => return other,
    };
    match lang {
        Lang::En => en,
        _ => de,
    }
}

/// One rejected field: `{field, code, params}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    field: String,
    error: ValidationError,
}

impl FieldError {
    /// Pairs a field name with the reason it was rejected.
    pub fn new(field: impl Into<String>, error: ValidationError) -> Self {
        Self {
            field: field.into(),
            error,
        }
    }

    /// The field's canonical (German) name, e.g. `"email"` or `"datum"`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The reason.
    pub fn error(&self) -> &ValidationError {
        &self.error
    }

    /// The stable code, e.g. `"invalid_email"`.
    pub fn code(&self) -> &'static str {
        self.error.code()
    }
}

/// The error's sentence, naming the field.
impl UserMessage for FieldError {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        self.error.message(&self.field, lang).into()
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.error)
    }
}

impl Serialize for FieldError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("field", &self.field)?;
        map.serialize_entry("code", self.code())?;
        let params: serde_json::Map<String, Value> = self
            .error
            .params()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        map.serialize_entry("params", &params)?;
        map.end()
    }
}

/// All field errors of one request, in field order.
#[derive(Clone, Debug, PartialEq, Eq, Default, thiserror::Error)]
#[error("{} field(s) failed validation", errors.len())]
pub struct ValidationErrors {
    errors: Vec<FieldError>,
}

impl ValidationErrors {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one error.
    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// Whether no error was recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// Whether `field` has an error with `code`.
    pub fn has(&self, field: &str, code: &str) -> bool {
        self.errors
            .iter()
            .any(|e| e.field() == field && e.code() == code)
    }

    /// The errors grouped by field: `{field: [{code, params, message}]}`.
    pub fn to_json(&self, lang: Lang) -> Value {
        let mut out = serde_json::Map::new();
        for e in &self.errors {
            let entry = serde_json::json!({
                "code": e.code(),
                "params": serde_json::to_value(e).ok().and_then(|v| v.get("params").cloned()),
                "message": e.user_message(lang),
            });
            match out.get_mut(e.field()) {
                Some(Value::Array(list)) => list.push(entry),
                _ => {
                    out.insert(e.field().to_owned(), Value::Array(vec![entry]));
                }
            }
        }
        Value::Object(out)
    }
}

/// One sentence for the agent to say: the message of the first error.
impl UserMessage for ValidationErrors {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        match (self.errors.first(), lang) {
            (Some(first), _) => first.user_message(lang),
            (None, Lang::En) => "The request is valid.".into(),
            (None, _) => "Die Angaben sind in Ordnung.".into(),
        }
    }
}

impl Serialize for ValidationErrors {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.errors.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_shape_is_field_code_params() {
        let mut errors = ValidationErrors::new();
        errors.push(FieldError::new(
            "notiz",
            ValidationError::TooLong {
                max: 1000,
                actual: 1001,
            },
        ));
        errors.push(FieldError::new("email", ValidationError::InvalidEmail));
        let json = serde_json::to_value(&errors).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"field": "notiz", "code": "too_long", "params": {"max": 1000, "actual": 1001}},
                {"field": "email", "code": "invalid_email", "params": {}},
            ])
        );
        let grouped = errors.to_json(Lang::De);
        assert_eq!(grouped["notiz"][0]["params"]["max"], 1000);
        assert_eq!(
            grouped["notiz"][0]["message"],
            "Die Angabe für die Notiz ist zu lang, höchstens 1000 Zeichen sind möglich."
        );
        assert_eq!(
            errors.errors()[1].user_message(Lang::En),
            "The e-mail address seems incomplete. Could you spell it, please?"
        );
    }

    #[test]
    fn every_error_has_both_languages() {
        let all = [
            ValidationError::Required,
            ValidationError::TooLong { max: 1, actual: 2 },
            ValidationError::MarkupOnly,
            ValidationError::UnsafeContent,
            ValidationError::WrongType { expected: "string" },
            ValidationError::UnfilledPlaceholder,
            ValidationError::InvalidDate,
            ValidationError::PastDate,
            ValidationError::InvalidTime,
            ValidationError::InvalidEmail,
            ValidationError::InvalidPhone,
            ValidationError::InvalidBoolean,
            ValidationError::OutOfRange { min: 15, max: 480 },
            ValidationError::UnknownField,
        ];
        let mut codes = std::collections::BTreeSet::new();
        for e in &all {
            assert!(codes.insert(e.code()), "duplicate code {}", e.code());
            let de = e.message("datum", Lang::De);
            let en = e.message("datum", Lang::En);
            assert!(
                de.ends_with(['.', '?']) && en.ends_with(['.', '?']),
                "{de} / {en}"
            );
            assert_ne!(de, en);
            // Speakable: no braces, codes or markup in the German text.
            assert!(!de.contains(['{', '<', '_']), "{de}");
            // Without a field, too.
            let (de, en) = (e.user_message(Lang::De), e.user_message(Lang::En));
            assert!(
                de.ends_with(['.', '?']) && en.ends_with(['.', '?']),
                "{de} / {en}"
            );
            assert_ne!(de, en);
            assert!(!de.contains(['{', '<', '_']), "{de}");
        }
    }
}
