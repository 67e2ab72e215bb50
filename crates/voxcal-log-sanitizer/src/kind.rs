//! The kinds of personal data and secrets the sanitizer knows.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use voxcal_core::{Lang, UserMessage};

/// One kind of personal data or secret. Each kind can be switched off on the
/// [`SanitizerBuilder`](crate::SanitizerBuilder); all are on by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    /// E-mail addresses, including IDN domains and `%40`-encoded forms.
    Email,
    /// German and international phone numbers, written or spoken (German
    /// number words; English ones from `zero`/`plus`/`double` on).
    Phone,
    /// IBANs that pass the mod-97 check.
    Iban,
    /// Payment card numbers that pass the Luhn check.
    Card,
    /// Bearer/Basic credentials, JWTs, API keys, private keys and values of
    /// secret-named keys (`password`, `token`, `api_key`, ...).
    Secret,
    /// Names: by key, and after a salutation, a label or a customer word
    /// (`Kunde Max Mustermann`) in free text; in call transcripts after the
    /// phrases callers use (`mein Name ist`, `hier spricht`) and as the
    /// caller's bare answer to the agent's question for the name.
    Name,
    /// Dates of birth next to a label (`geb.`, `Geburtsdatum`, `dob`, ...).
    Dob,
    /// IPv4 and IPv6 addresses.
    Ip,
    /// German tax identification numbers (Steuer-IdNr): 11 digits, plain or
    /// grouped `12 345 678 995`, ISO 7064 MOD 11,10 checked in free text.
    TaxId,
    /// German social insurance numbers (Sozialversicherungs-/Renten-
    /// versicherungsnummer), `65 170839 J 00 3`, check digit verified in free text.
    SvNumber,
    /// Postal addresses: a street with a house number (`Hauptstraße 12`,
    /// `Am Markt 3a`), a postcode with its city (`10115 Berlin`), and the values
    /// of address keys (`address`, `plz`, `city`, ...).
    Address,
}

impl Kind {
    /// Every kind, in a fixed order.
    pub const ALL: [Kind; 11] = [
        Kind::Email,
        Kind::Phone,
        Kind::Iban,
        Kind::Card,
        Kind::Secret,
        Kind::Name,
        Kind::Dob,
        Kind::Ip,
        Kind::TaxId,
        Kind::SvNumber,
        Kind::Address,
    ];

    /// The lower-case name used by [`FromStr`] and the example's `--disable` flag.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Iban => "iban",
            Kind::Card => "card",
            Kind::Secret => "secret",
            Kind::Name => "name",
            Kind::Dob => "dob",
            Kind::Ip => "ip",
            Kind::TaxId => "tax_id",
            Kind::SvNumber => "sv_number",
            Kind::Address => "address",
        }
    }

    /// The marker that replaces a value of this kind, e.g. `[EMAIL_REDACTED]`.
    /// Secrets use the plain `[REDACTED]` of the original helper.
    pub fn marker(self) -> &'static str {
        match self {
            Kind::Email => "[EMAIL_REDACTED]",
            Kind::Phone => "[PHONE_REDACTED]",
            Kind::Iban => "[IBAN_REDACTED]",
            Kind::Card => "[CARD_REDACTED]",
            Kind::Secret => "[REDACTED]",
            Kind::Name => "[NAME_REDACTED]",
            Kind::Dob => "[DOB_REDACTED]",
            Kind::Ip => "[IP_REDACTED]",
            Kind::TaxId => "[TAX_ID_REDACTED]",
            Kind::SvNumber => "[SV_NUMBER_REDACTED]",
            Kind::Address => "[ADDRESS_REDACTED]",
        }
    }

    /// The label inside a pseudonym tag, e.g. `EMAIL` in `[EMAIL:3f9a1c2e]`.
    pub(crate) fn tag_label(self) -> &'static str {
        match self {
            Kind::Email => "EMAIL",
            Kind::Phone => "PHONE",
            Kind::Iban => "IBAN",
            Kind::Card => "CARD",
            Kind::Secret => "SECRET",
            Kind::Name => "NAME",
            Kind::Dob => "DOB",
            Kind::Ip => "IP",
            Kind::TaxId => "TAX_ID",
            Kind::SvNumber => "SV_NUMBER",
            Kind::Address => "ADDRESS",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string names no [`Kind`].
///
/// Its [`UserMessage`] names the accepted kinds, German first:
///
/// ```
/// use voxcal_log_sanitizer::{Kind, Lang, UserMessage};
///
/// let err = "mail".parse::<Kind>().unwrap_err();
/// assert_eq!(err.input(), "mail");
/// assert!(err.user_message(Lang::De).starts_with("Die Datenart „mail“ ist unbekannt"));
/// assert!(err.user_message(Lang::En).contains("email, phone, iban"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown kind `{0}`; expected one of email, phone, iban, card, secret, name, dob, ip, tax_id, sv_number, address")]
pub struct ParseKindError(String);

impl ParseKindError {
    /// The text that named no kind.
    pub fn input(&self) -> &str {
        &self.0
    }
}

impl UserMessage for ParseKindError {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        let kinds = "email, phone, iban, card, secret, name, dob, ip, tax_id, sv_number, address";
        let name = self.0.trim();
        match lang {
            Lang::En => format!("The kind “{name}” is unknown; possible are {kinds}.").into(),
            _ => format!("Die Datenart „{name}“ ist unbekannt; möglich sind {kinds}.").into(),
        }
    }
}

impl FromStr for Kind {
    type Err = ParseKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseKindError(s.to_owned()))
    }
}

/// A small set of kinds (a bit set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KindSet(u16);

impl KindSet {
    pub(crate) const ALL: KindSet = KindSet((1 << Kind::ALL.len()) - 1);

    pub(crate) fn contains(self, kind: Kind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub(crate) fn set(&mut self, kind: Kind, on: bool) {
        if on {
            self.0 |= kind.bit();
        } else {
            self.0 &= !kind.bit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
            assert_eq!(kind.to_string().to_uppercase().parse::<Kind>(), Ok(kind));
        }
        assert!("mail".parse::<Kind>().is_err());
    }

    #[test]
    fn a_parse_error_speaks_german_first() {
        let err = " Mail ".parse::<Kind>().unwrap_err();
        assert_eq!(err.input(), " Mail ");
        assert_eq!(
            err.user_message(Lang::default()),
            "Die Datenart „Mail“ ist unbekannt; möglich sind email, phone, iban, card, secret, name, dob, ip, tax_id, sv_number, address."
        );
        assert_eq!(
            err.user_message(Lang::En),
            "The kind “Mail” is unknown; possible are email, phone, iban, card, secret, name, dob, ip, tax_id, sv_number, address."
        );
    }

    #[test]
    fn set_toggles() {
        let mut set = KindSet::ALL;
        set.set(Kind::Ip, false);
        assert!(!set.contains(Kind::Ip));
        assert!(set.contains(Kind::Email));
        set.set(Kind::Ip, true);
        assert_eq!(set, KindSet::ALL);
    }
}
