//! Languages and speakable messages.

use std::borrow::Cow;
use std::fmt;

/// The language of a sentence a caller hears.
///
/// German is the default: the voice agents this family serves speak German.
/// The enum may gain languages; a message that does not know one falls back
/// to German (match `Lang::En` and use `_` for German).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Lang {
    /// German.
    #[default]
    De,
    /// English.
    En,
}

impl Lang {
    /// The ISO 639-1 code (`"de"`, `"en"`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// Reads an ISO 639-1 code or a language tag (`de`, `de-DE`, `EN_us`);
    /// `None` for any other language.
    pub fn from_code(code: &str) -> Option<Self> {
        let primary = code.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("de") {
            Some(Lang::De)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A value that can tell a caller what happened, in a sentence a voice agent
/// can speak as it is (no codes, no markup, no personal data).
///
/// Every public error of the family implements it; a service answers with
/// `error.user_message(Lang::De)` instead of building its own text.
///
/// ```
/// use std::borrow::Cow;
/// use voxcal_core::{Lang, UserMessage};
///
/// #[derive(Debug)]
/// struct SlotTaken { hour: u32 }
///
/// impl UserMessage for SlotTaken {
///     fn user_message(&self, lang: Lang) -> Cow<'_, str> {
///         match lang {
///             Lang::En => format!("{} o'clock is already taken.", self.hour).into(),
///             _ => format!("Um {} Uhr ist leider schon belegt.", self.hour).into(),
///         }
///     }
/// }
///
/// assert_eq!(SlotTaken { hour: 9 }.user_message(Lang::De), "Um 9 Uhr ist leider schon belegt.");
/// ```
pub trait UserMessage {
    /// The sentence in `lang` (German for a language the value does not know).
    fn user_message(&self, lang: Lang) -> Cow<'_, str>;
}

impl<T: UserMessage + ?Sized> UserMessage for &T {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        (**self).user_message(lang)
    }
}

impl<T: UserMessage + ?Sized> UserMessage for Box<T> {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        (**self).user_message(lang)
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn codes_round_trip_and_tags_are_read() {
        for lang in [Lang::De, Lang::En] {
            assert_eq!(Lang::from_code(lang.code()), Some(lang));
            assert_eq!(lang.to_string(), lang.code());
        }
        assert_eq!(Lang::from_code("de-DE"), Some(Lang::De));
        assert_eq!(Lang::from_code("EN_us"), Some(Lang::En));
        assert_eq!(Lang::from_code("fr"), None);
        assert_eq!(Lang::from_code(""), None);
        assert_eq!(Lang::default(), Lang::De);
    }
}
