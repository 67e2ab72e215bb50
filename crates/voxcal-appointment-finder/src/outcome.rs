//! What `find` answers, and the sentence the agent says.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use crate::hours::{AdjustReason, Adjustment, Closure};
use voxcal_core::{Lang, UserMessage};

use crate::source::SourceError;
use crate::speak::{
    capitalize, day_phrase, push_day_phrase, push_time_phrase, time_phrase, SpokenLang,
};

/// How an offered slot was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum OfferKind {
    /// Exactly the wished (or adjusted) time.
    Exact,
    /// Within the fuzzy tolerance of the wish.
    Near,
    /// Same day, nearest earlier or later.
    SameDay,
    /// The next open day, near the same time.
    NextOpenDay,
    /// The same weekday a week later.
    SameWeekdayNextWeek,
    /// The first free slot after the wished day.
    FirstFree,
}

/// A verified free slot offered to the caller, with machine fields.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Offer {
    /// Start instant (UTC).
    pub start: DateTime<Utc>,
    /// End instant (UTC).
    pub end: DateTime<Utc>,
    /// Local date in the tenant's zone.
    pub local_date: NaiveDate,
    /// Local start time in the tenant's zone.
    pub local_time: NaiveTime,
    /// How it was found.
    pub kind: OfferKind,
    /// Ranking score (lower is better), see [`ScoreWeights`](crate::ScoreWeights).
    pub score: f64,
}

impl Offer {
    /// The start as an ISO 8601 / RFC 3339 instant, e.g.
    /// `2026-10-13T12:30:00Z`.
    pub fn iso_instant(&self) -> String {
        self.start
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// Local date and time.
    pub fn local(&self) -> NaiveDateTime {
        self.local_date.and_time(self.local_time)
    }
}

/// Why the wished slot itself is not what is offered, for the agent's
/// machine fields (`as_str`) and its sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Unmet {
    /// The business is closed that weekday, or on that date.
    ClosedDay,
    /// A public holiday.
    Holiday,
    /// Before opening on that day.
    BeforeOpening,
    /// At or after closing on that day (or in a break between its hours).
    AfterClosing,
    /// The slot is booked.
    Taken,
    /// Not a slot start (between two slots, a wall time skipped by the DST
    /// switch): the nearest slots are offered.
    OffGrid,
    /// The time has passed.
    Past,
}

impl Unmet {
    /// The machine name: `closed_day`, `holiday`, `before_opening`,
    /// `after_closing`, `taken`, `off_grid`, `past`.
    pub fn as_str(self) -> &'static str {
        match self {
            Unmet::ClosedDay => "closed_day",
            Unmet::Holiday => "holiday",
            Unmet::BeforeOpening => "before_opening",
            Unmet::AfterClosing => "after_closing",
            Unmet::Taken => "taken",
            Unmet::OffGrid => "off_grid",
            Unmet::Past => "past",
        }
    }

    fn of_adjustment(reason: AdjustReason) -> Unmet {
        match reason {
            AdjustReason::BeforeOpening => Unmet::BeforeOpening,
            AdjustReason::Closed(Closure::Holiday(_)) => Unmet::Holiday,
            AdjustReason::Closed(_) => Unmet::ClosedDay,
            AdjustReason::NonexistentTime => Unmet::OffGrid,
            // In a break, at or after closing.
            _ => Unmet::AfterClosing,
        }
    }
}

/// What was searched for: the request after business-hours adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchContext {
    /// The wished local time as asked.
    pub requested: NaiveDateTime,
    /// The local time looked for (after adjustment).
    pub looked_for: NaiveDateTime,
    /// Set when the wish was moved into business hours.
    pub adjustment: Option<Adjustment>,
    /// The tenant's local date when searching ("heute").
    pub today: NaiveDate,
    /// Days searched after the wished day.
    pub horizon_days: u32,
}

/// The answer of [`AlternativeFinder::find`](crate::AlternativeFinder::find).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// The wished (possibly adjusted) time, or one within the tolerance, is free.
    Available {
        /// The free slot.
        offer: Offer,
        /// `true` when the slot is near, not exactly at, the wish.
        fuzzy: bool,
        /// What was searched for.
        context: SearchContext,
    },
    /// The wish is taken; these are the best alternatives, best first.
    Alternatives {
        /// Verified free slots, ranked.
        alternatives: Vec<Offer>,
        /// What was searched for.
        context: SearchContext,
    },
    /// Nothing is free within the horizon.
    NoAvailability {
        /// What was searched for.
        context: SearchContext,
    },
    /// The calendar could not be asked; offer a callback.
    SourceUnavailable {
        /// The source's error, with its user message.
        error: SourceError,
        /// What was searched for.
        context: SearchContext,
    },
}

impl Outcome {
    /// What was searched for.
    pub fn context(&self) -> &SearchContext {
        match self {
            Outcome::Available { context, .. }
            | Outcome::Alternatives { context, .. }
            | Outcome::NoAvailability { context }
            | Outcome::SourceUnavailable { context, .. } => context,
        }
    }

    /// The business-hours adjustment, if the wish was moved.
    pub fn adjustment(&self) -> Option<&Adjustment> {
        self.context().adjustment.as_ref()
    }

    /// Why the wished slot itself is not offered; `None` exactly when it is
    /// (an [`Outcome::Available`] at the wished time, neither moved into
    /// business hours nor near it by the tolerance). Only then may an agent
    /// say the wish is free.
    ///
    /// ```
    /// # use voxcal_appointment_finder::*;
    /// # use chrono::*;
    /// let day = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(); // Neujahr
    /// let monday = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
    /// let at = |d: NaiveDate, h| d.and_hms_opt(h, 0, 0).unwrap();
    /// let hours = BusinessHours::default().with_nationwide_holidays();
    /// let adjusted = hours.adjust(at(day, 10), Duration::minutes(30)).unwrap();
    /// let outcome = Outcome::Available {
    ///     offer: Offer {
    ///         start: adjusted.instant, end: adjusted.instant + Duration::minutes(30),
    ///         local_date: monday, local_time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
    ///         kind: OfferKind::Exact, score: 0.0,
    ///     },
    ///     fuzzy: false,
    ///     context: SearchContext {
    ///         requested: at(day, 10), looked_for: adjusted.local,
    ///         adjustment: adjusted.adjustment, today: day, horizon_days: 14,
    ///     },
    /// };
    /// assert_eq!(outcome.unmet(), Some(Unmet::Holiday));
    /// assert_eq!(outcome.unmet().unwrap().as_str(), "holiday");
    /// ```
    pub fn unmet(&self) -> Option<Unmet> {
        if let Some(adjustment) = self.adjustment() {
            return Some(Unmet::of_adjustment(adjustment.reason));
        }
        match self {
            Outcome::Available { fuzzy: false, .. } => None,
            Outcome::Available { .. } => Some(Unmet::OffGrid),
            _ => Some(Unmet::Taken),
        }
    }

    /// The offered alternatives (empty unless [`Outcome::Alternatives`]).
    pub fn alternatives(&self) -> &[Offer] {
        match self {
            Outcome::Alternatives { alternatives, .. } => alternatives,
            _ => &[],
        }
    }

    /// The sentence the agent says, in natural German or English.
    ///
    /// ```
    /// # use voxcal_appointment_finder::*;
    /// # use chrono::*;
    /// let day = |d| NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
    /// let at = |d, h, m| day(d).and_hms_opt(h, m, 0).unwrap();
    /// let offer = |d, h, m| Offer {
    ///     start: Utc::now(), end: Utc::now(), local_date: day(d),
    ///     local_time: NaiveTime::from_hms_opt(h, m, 0).unwrap(),
    ///     kind: OfferKind::SameDay, score: 0.0,
    /// };
    /// let outcome = Outcome::Alternatives {
    ///     alternatives: vec![offer(13, 14, 30), offer(15, 10, 0)],
    ///     context: SearchContext {
    ///         requested: at(12, 14, 0), looked_for: at(12, 14, 0), adjustment: None,
    ///         today: day(12), horizon_days: 14,
    ///     },
    /// };
    /// assert_eq!(
    ///     outcome.speak(Lang::De),
    ///     "Um 14 Uhr ist leider schon belegt. Ich kann Ihnen morgen um halb drei oder \
    ///      am Donnerstag um 10 Uhr anbieten. Welcher Termin passt Ihnen besser?"
    /// );
    /// ```
    pub fn speak(&self, lang: Lang) -> String {
        let asked = lang;
        let lang = SpokenLang::from(lang);
        let ctx = self.context();
        let mut out = String::new();
        if let Some(adj) = &ctx.adjustment {
            out.push_str(&adjustment_sentence(adj, ctx.today, lang));
            out.push(' ');
        }
        let when = |at: NaiveDateTime| -> String {
            match lang {
                SpokenLang::De => format!(
                    "{} um {}",
                    day_phrase(at.date(), ctx.today, lang),
                    time_phrase(at.time(), lang)
                ),
                SpokenLang::En => format!(
                    "{} at {}",
                    day_phrase(at.date(), ctx.today, lang),
                    time_phrase(at.time(), lang)
                ),
            }
        };
        let taken = || -> String {
            let at = ctx.looked_for;
            match (lang, ctx.adjustment.is_some()) {
                (SpokenLang::De, false) => format!(
                    "Um {} ist leider schon belegt.",
                    time_phrase(at.time(), lang)
                ),
                (SpokenLang::De, true) => {
                    format!("{} ist leider schon belegt.", capitalize(&when(at)))
                }
                (SpokenLang::En, false) => format!(
                    "Unfortunately, {} is already taken.",
                    time_phrase(at.time(), lang)
                ),
                (SpokenLang::En, true) => format!("Unfortunately, {} is already taken.", when(at)),
            }
        };
        let callback = match lang {
            SpokenLang::De => "Darf ich einen Rückruf für Sie notieren?",
            SpokenLang::En => "May I arrange a call back for you?",
        };
        match self {
            Outcome::Available {
                offer,
                fuzzy: false,
                ..
            } => {
                out.push_str(&match lang {
                    SpokenLang::De => format!(
                        "{} ist noch frei. Soll ich den Termin für Sie eintragen?",
                        capitalize(&when(offer.local()))
                    ),
                    SpokenLang::En => format!(
                        "{} is available. Shall I book it for you?",
                        capitalize(&when(offer.local()))
                    ),
                });
            }
            Outcome::Available {
                offer, fuzzy: true, ..
            } => {
                let taken = taken();
                out.push_str(&match lang {
                    SpokenLang::De => format!(
                        "{taken} Ich kann Ihnen aber {} anbieten. Passt Ihnen das?",
                        when(offer.local())
                    ),
                    SpokenLang::En => format!(
                        "{taken} I can offer you {} instead. Does that suit you?",
                        when(offer.local())
                    ),
                });
            }
            // Written straight into `out` (the usual answer: no `format!`
            // per offer, no joined intermediate strings).
            Outcome::Alternatives { alternatives, .. } => {
                match (lang, ctx.adjustment.is_some()) {
                    (SpokenLang::De, false) => {
                        out.push_str("Um ");
                        push_time_phrase(&mut out, ctx.looked_for.time(), lang);
                        out.push_str(" ist leider schon belegt.");
                    }
                    (SpokenLang::En, false) => {
                        out.push_str("Unfortunately, ");
                        push_time_phrase(&mut out, ctx.looked_for.time(), lang);
                        out.push_str(" is already taken.");
                    }
                    (_, true) => out.push_str(&taken()),
                }
                let Some(last) = alternatives.len().checked_sub(1) else {
                    out.push(' ');
                    out.push_str(callback);
                    return out;
                };
                let (offer, offered, or, at, ask) = match lang {
                    SpokenLang::De => (
                        " Ich kann Ihnen ",
                        " anbieten. ",
                        " oder ",
                        " um ",
                        if last == 0 {
                            "Passt Ihnen das?"
                        } else {
                            "Welcher Termin passt Ihnen besser?"
                        },
                    ),
                    SpokenLang::En => (
                        " I can offer you ",
                        ". ",
                        " or ",
                        " at ",
                        if last == 0 {
                            "Does that suit you?"
                        } else {
                            "Which one suits you better?"
                        },
                    ),
                };
                out.reserve(160);
                out.push_str(offer);
                for (i, o) in alternatives.iter().enumerate() {
                    if i > 0 {
                        out.push_str(if i == last { or } else { ", " });
                    }
                    push_day_phrase(&mut out, o.local_date, ctx.today, lang);
                    out.push_str(at);
                    push_time_phrase(&mut out, o.local_time, lang);
                }
                out.push_str(offered);
                out.push_str(ask);
            }
            Outcome::NoAvailability { context } => {
                out.push_str(&match lang {
                    SpokenLang::De => format!("In den nächsten {} Tagen ist leider kein Termin mehr frei. {callback}", context.horizon_days),
                    SpokenLang::En => format!("Unfortunately, there is no free appointment in the next {} days. {callback}", context.horizon_days),
                });
            }
            Outcome::SourceUnavailable { error, .. } => {
                out.push_str(error.user_message(asked).trim_end());
                out.push(' ');
                out.push_str(callback);
            }
        }
        out
    }
}

fn adjustment_sentence(adj: &Adjustment, today: NaiveDate, lang: SpokenLang) -> String {
    let from_day = day_phrase(adj.from.date(), today, lang);
    let from_time = time_phrase(adj.from.time(), lang);
    let to_day = day_phrase(adj.to.date(), today, lang);
    let to_time = time_phrase(adj.to.time(), lang);
    match (lang, adj.reason) {
        (SpokenLang::De, AdjustReason::BeforeOpening) => {
            format!("Wir öffnen {to_day} erst um {to_time}.")
        }
        (SpokenLang::De, AdjustReason::InBreak) => format!("Um {from_time} haben wir Pause."),
        (SpokenLang::De, AdjustReason::AfterClosing) => {
            format!("Um {from_time} haben wir schon geschlossen.")
        }
        (SpokenLang::De, AdjustReason::Closed(Closure::Holiday(h))) => {
            format!(
                "{} ist Feiertag ({}), da haben wir geschlossen.",
                capitalize(&from_day),
                h.name
            )
        }
        (SpokenLang::De, AdjustReason::Closed(_)) => {
            format!("{} haben wir geschlossen.", capitalize(&from_day))
        }
        (SpokenLang::De, AdjustReason::NonexistentTime) => {
            format!("Wegen der Zeitumstellung gibt es {from_day} {from_time} nicht.")
        }
        (SpokenLang::En, AdjustReason::BeforeOpening) => {
            format!("We only open at {to_time} {to_day}.")
        }
        (SpokenLang::En, AdjustReason::InBreak) => format!("We are on a break at {from_time}."),
        (SpokenLang::En, AdjustReason::AfterClosing) => {
            format!("We are already closed at {from_time}.")
        }
        (SpokenLang::En, AdjustReason::Closed(Closure::Holiday(h))) => {
            format!(
                "{} is a public holiday ({}), we are closed.",
                capitalize(&from_day),
                h.name
            )
        }
        (SpokenLang::En, AdjustReason::Closed(_)) => format!("We are closed {from_day}."),
        (SpokenLang::En, AdjustReason::NonexistentTime) => {
            format!("Because of the clock change, {from_time} does not exist {from_day}.")
        }
    }
}
