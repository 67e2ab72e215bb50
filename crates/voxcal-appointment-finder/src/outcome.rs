//! What `find` answers, and the sentence the agent says.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use crate::hours::{AdjustReason, Adjustment, Closure};
use voxcal_core::{Lang, UserMessage};

use crate::source::SourceError;
use crate::speak::{
    capitalize, day_in, push_date, push_list, slot_in, time_in, weekday_in, SpokenLang,
};

/// How an offered slot was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum OfferKind {
    /// Exactly the wished (or adjusted) time.
    Exact,
    /// Within the fuzzy tolerance of the wish (no longer produced by the
    /// finder: near slots are offered as [`OfferKind::SameDay`]).
    Near,
    /// Same day, nearest earlier or later.
    SameDay,
    /// The next open day, near the same time.
    NextOpenDay,
    /// The same weekday a week later (no longer produced by the finder).
    SameWeekdayNextWeek,
    /// One of the first free slots of the horizon (filling up to two, and
    /// every offer of a window request).
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

    pub(crate) fn of_adjustment(reason: AdjustReason) -> Unmet {
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
    /// The wished local time as asked (the reading of an ambiguous hour
    /// that was taken, see [`FindRequest::with_alternative_reading`](crate::FindRequest::with_alternative_reading)).
    pub requested: NaiveDateTime,
    /// The local time looked for (after adjustment).
    pub looked_for: NaiveDateTime,
    /// Set when the wish was moved into business hours.
    pub adjustment: Option<Adjustment>,
    /// Why the wished slot itself is not offered, as the finder found it
    /// (`None` for an offered wish and for a window request); see
    /// [`Outcome::unmet`].
    pub unmet: Option<Unmet>,
    /// The tenant's local date when searching ("heute").
    pub today: NaiveDate,
    /// Days searched after the wished day.
    pub horizon_days: u32,
    /// When the wished day's opening hours end (the end of its last
    /// interval), if it opens at all: a wish too late to finish before
    /// then is told so ("wir schließen um 18 Uhr"), not "geschlossen".
    pub closes_at: Option<NaiveTime>,
}

/// The answer of [`AlternativeFinder::find`](crate::AlternativeFinder::find).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// The wished time itself is free (the finder answers nothing else with
    /// this variant; `fuzzy` stays for callers that build outcomes).
    Available {
        /// The free slot.
        offer: Offer,
        /// `true` when the slot is near, not exactly at, the wish.
        fuzzy: bool,
        /// What was searched for.
        context: SearchContext,
    },
    /// The wish cannot be met (or a window was asked for); these are the
    /// alternatives, in time order.
    Alternatives {
        /// Verified free slots, in time order.
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

/// At most this many alternatives are spoken in one sentence.
pub const MAX_SPOKEN: usize = 3;

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

    /// Why the wished slot itself is not offered; `None` when it is (an
    /// [`Outcome::Available`] at the wished time) and for a window request
    /// (nothing particular was wished). Only with `None` and `Available`
    /// may an agent say the wish is free.
    ///
    /// The finder's own finding ([`SearchContext::unmet`]) when set;
    /// otherwise derived from the adjustment (an outcome built by hand).
    ///
    /// ```
    /// # use voxcal_appointment_finder::*;
    /// # use chrono::*;
    /// let day = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(); // Neujahr
    /// let monday = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
    /// let at = |d: NaiveDate, h| d.and_hms_opt(h, 0, 0).unwrap();
    /// let hours = BusinessHours::default().with_nationwide_holidays();
    /// let adjusted = hours.adjust(at(day, 10), Duration::minutes(30)).unwrap();
    /// let outcome = Outcome::Alternatives {
    ///     alternatives: vec![Offer {
    ///         start: adjusted.instant, end: adjusted.instant + Duration::minutes(30),
    ///         local_date: monday, local_time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
    ///         kind: OfferKind::NextOpenDay, score: 0.0,
    ///     }],
    ///     context: SearchContext {
    ///         requested: at(day, 10), looked_for: adjusted.local,
    ///         adjustment: adjusted.adjustment, unmet: None, today: day, horizon_days: 14,
    ///         closes_at: None,
    ///     },
    /// };
    /// assert_eq!(outcome.unmet(), Some(Unmet::Holiday));
    /// assert_eq!(outcome.unmet().unwrap().as_str(), "holiday");
    /// assert!(outcome.speak(Lang::De).starts_with("Heute ist Neujahr, da haben wir geschlossen."));
    /// ```
    pub fn unmet(&self) -> Option<Unmet> {
        if let Some(unmet) = self.context().unmet {
            return Some(unmet);
        }
        if let Some(adjustment) = self.adjustment() {
            return Some(Unmet::of_adjustment(adjustment.reason));
        }
        match self {
            Outcome::Available { fuzzy: true, .. } => Some(Unmet::OffGrid),
            _ => None,
        }
    }

    /// The offered alternatives (empty unless [`Outcome::Alternatives`]).
    pub fn alternatives(&self) -> &[Offer] {
        match self {
            Outcome::Alternatives { alternatives, .. } => alternatives,
            _ => &[],
        }
    }

    /// The sentence the agent says, in natural German or English: the
    /// reason the wish cannot be met, then at most [`MAX_SPOKEN`]
    /// alternatives (days and times phrased by [`speak`](crate::speak)).
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
    ///     alternatives: vec![offer(13, 13, 30), offer(13, 14, 30), offer(15, 10, 0)],
    ///     context: SearchContext {
    ///         requested: at(13, 14, 0), looked_for: at(13, 14, 0), adjustment: None,
    ///         unmet: Some(Unmet::Taken), today: day(12), horizon_days: 14, closes_at: None,
    ///     },
    /// };
    /// assert_eq!(
    ///     outcome.speak(Lang::De),
    ///     "Um 14 Uhr ist leider schon belegt. Ich kann Ihnen morgen um 13:30 Uhr, \
    ///      um 14:30 Uhr oder am Donnerstag um 10 Uhr anbieten. Welcher Termin passt Ihnen besser?"
    /// );
    /// ```
    pub fn speak(&self, lang: Lang) -> String {
        let asked = lang;
        let lang = SpokenLang::from(lang);
        let ctx = self.context();
        let mut out = String::with_capacity(200);
        let callback = match lang {
            SpokenLang::De => "Darf ich einen Rückruf für Sie notieren?",
            SpokenLang::En => "May I arrange a call back for you?",
        };
        if !matches!(self, Outcome::SourceUnavailable { .. }) {
            if let Some(unmet) = self.unmet() {
                out.push_str(&reason_sentence(unmet, ctx, lang));
                out.push(' ');
            }
        }
        match self {
            Outcome::Available { offer, .. } if self.unmet().is_none() => {
                let when = capitalize(&slot_in(
                    offer.local_date,
                    offer.local_time,
                    ctx.today,
                    lang,
                ));
                out.push_str(&match lang {
                    SpokenLang::De => {
                        format!("{when} ist noch frei. Soll ich den Termin für Sie eintragen?")
                    }
                    SpokenLang::En => format!("{when} is available. Shall I book it for you?"),
                });
            }
            Outcome::Available { offer, .. } => {
                push_offers(&mut out, &[*offer], ctx.today, lang);
            }
            Outcome::Alternatives { alternatives, .. } => {
                if alternatives.is_empty() {
                    out.push_str(callback);
                } else {
                    push_offers(&mut out, alternatives, ctx.today, lang);
                }
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

/// "Ich kann Ihnen … anbieten. Welcher Termin passt Ihnen besser?"
fn push_offers(out: &mut String, offers: &[Offer], today: NaiveDate, lang: SpokenLang) {
    let slots: Vec<(NaiveDate, NaiveTime)> = offers
        .iter()
        .take(MAX_SPOKEN)
        .map(|o| (o.local_date, o.local_time))
        .collect();
    let one = slots.len() == 1;
    match lang {
        SpokenLang::De => {
            out.push_str("Ich kann Ihnen ");
            push_list(out, &slots, today, lang);
            out.push_str(if one {
                " anbieten. Passt Ihnen das?"
            } else {
                " anbieten. Welcher Termin passt Ihnen besser?"
            });
        }
        SpokenLang::En => {
            out.push_str("I can offer you ");
            push_list(out, &slots, today, lang);
            out.push_str(if one {
                ". Does that suit you?"
            } else {
                ". Which one suits you better?"
            });
        }
    }
}

/// The sentence that says why the wish cannot be met.
fn reason_sentence(unmet: Unmet, ctx: &SearchContext, lang: SpokenLang) -> String {
    let asked = ctx.adjustment.map_or(ctx.requested, |a| a.from);
    let at = time_in(asked.time(), lang);
    let on_day = capitalize(&day_in(asked.date(), ctx.today, lang));
    let reason = ctx.adjustment.map(|a| a.reason);
    let break_or_gap = |r| reason == Some(r);
    match (lang, unmet) {
        (SpokenLang::De, Unmet::BeforeOpening) => format!("Um {at} haben wir noch nicht geöffnet."),
        (SpokenLang::En, Unmet::BeforeOpening) => format!("We are not open yet at {at}."),
        (SpokenLang::De, Unmet::AfterClosing) if break_or_gap(AdjustReason::InBreak) => {
            format!("Um {at} haben wir Pause.")
        }
        (SpokenLang::En, Unmet::AfterClosing) if break_or_gap(AdjustReason::InBreak) => {
            format!("We are on a break at {at}.")
        }
        (SpokenLang::De, Unmet::AfterClosing) => match ctx.closes_at {
            Some(close) if asked.time() < close => format!(
                "Um {at} reicht die Zeit nicht mehr, wir schließen um {}.",
                time_in(close, lang)
            ),
            _ => format!("Um {at} haben wir schon geschlossen."),
        },
        (SpokenLang::En, Unmet::AfterClosing) => match ctx.closes_at {
            Some(close) if asked.time() < close => format!(
                "At {at} there is not enough time left: we close at {}.",
                time_in(close, lang)
            ),
            _ => format!("We are already closed at {at}."),
        },
        (_, Unmet::Holiday) => {
            let name = match reason {
                Some(AdjustReason::Closed(Closure::Holiday(h))) => Some(h.name),
                _ => None,
            };
            // "der Tag der Arbeit", "der 1. Weihnachtstag"; "Neujahr".
            let article = |name: &str| {
                if name.starts_with("Tag ") || name.starts_with(|c: char| c.is_ascii_digit()) {
                    "der "
                } else {
                    ""
                }
            };
            let mut date = String::new();
            let relative = (asked.date() - ctx.today).num_days();
            match (lang, name) {
                (SpokenLang::De, Some(name)) if (0..=2).contains(&relative) => {
                    format!(
                        "{on_day} ist {}{name}, da haben wir geschlossen.",
                        article(name)
                    )
                }
                (SpokenLang::De, Some(name)) => {
                    push_date(&mut date, asked.date(), false, lang);
                    format!(
                        "Am {date} ist {}{name}, da haben wir geschlossen.",
                        article(name)
                    )
                }
                (SpokenLang::De, None) => {
                    format!("{on_day} ist Feiertag, da haben wir geschlossen.")
                }
                (SpokenLang::En, Some(name)) => {
                    format!("{on_day} is a public holiday ({name}), we are closed.")
                }
                (SpokenLang::En, None) => format!("{on_day} is a public holiday, we are closed."),
            }
        }
        (SpokenLang::De, Unmet::ClosedDay) => {
            // "Samstags" for a weekday the business never opens, otherwise
            // the day itself (a closed date).
            match reason {
                Some(AdjustReason::Closed(Closure::Weekday)) => {
                    format!(
                        "{}s haben wir geschlossen.",
                        weekday_in(asked.date().weekday(), lang)
                    )
                }
                _ => {
                    let comma = if on_day.contains(", dem ") { "," } else { "" };
                    format!("{on_day}{comma} haben wir geschlossen.")
                }
            }
        }
        (SpokenLang::En, Unmet::ClosedDay) => {
            format!("We are closed {}.", day_in(asked.date(), ctx.today, lang))
        }
        (SpokenLang::De, Unmet::OffGrid) if break_or_gap(AdjustReason::NonexistentTime) => {
            let day = day_in(asked.date(), ctx.today, lang);
            let comma = if day.contains(", dem ") { "," } else { "" };
            format!("Wegen der Zeitumstellung gibt es {day}{comma} {at} nicht.")
        }
        (SpokenLang::En, Unmet::OffGrid) if break_or_gap(AdjustReason::NonexistentTime) => {
            format!(
                "Because of the clock change, {at} does not exist {}.",
                day_in(asked.date(), ctx.today, lang)
            )
        }
        (SpokenLang::De, Unmet::OffGrid) => {
            format!("Um {at} vergeben wir keine Termine, sie beginnen bei uns zu festen Zeiten.")
        }
        (SpokenLang::En, Unmet::OffGrid) => {
            format!("We do not start appointments at {at}; they begin at set times.")
        }
        (SpokenLang::De, Unmet::Taken) => format!("Um {at} ist leider schon belegt."),
        (SpokenLang::En, Unmet::Taken) => format!("Unfortunately, {at} is already taken."),
        (SpokenLang::De, Unmet::Past) => {
            "Dieser Zeitpunkt liegt leider schon in der Vergangenheit.".to_owned()
        }
        (SpokenLang::En, Unmet::Past) => "Unfortunately, that time has already passed.".to_owned(),
    }
}
