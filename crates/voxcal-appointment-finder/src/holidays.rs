//! German public holidays per Bundesland, computed.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// The 16 German states (Bundesländer), each with its own public holidays.
///
/// `#[non_exhaustive]`: match with a `_` arm (the list follows the
/// constitution, and the crate may add regions with holidays of their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Bundesland {
    /// Baden-Württemberg (BW).
    BadenWuerttemberg,
    /// Bayern (BY).
    Bayern,
    /// Berlin (BE).
    Berlin,
    /// Brandenburg (BB).
    Brandenburg,
    /// Bremen (HB).
    Bremen,
    /// Hamburg (HH).
    Hamburg,
    /// Hessen (HE).
    Hessen,
    /// Mecklenburg-Vorpommern (MV).
    MecklenburgVorpommern,
    /// Niedersachsen (NI).
    Niedersachsen,
    /// Nordrhein-Westfalen (NW).
    NordrheinWestfalen,
    /// Rheinland-Pfalz (RP).
    RheinlandPfalz,
    /// Saarland (SL).
    Saarland,
    /// Sachsen (SN).
    Sachsen,
    /// Sachsen-Anhalt (ST).
    SachsenAnhalt,
    /// Schleswig-Holstein (SH).
    SchleswigHolstein,
    /// Thüringen (TH).
    Thueringen,
}

impl Bundesland {
    /// All 16 states.
    pub const ALL: [Bundesland; 16] = [
        Bundesland::BadenWuerttemberg,
        Bundesland::Bayern,
        Bundesland::Berlin,
        Bundesland::Brandenburg,
        Bundesland::Bremen,
        Bundesland::Hamburg,
        Bundesland::Hessen,
        Bundesland::MecklenburgVorpommern,
        Bundesland::Niedersachsen,
        Bundesland::NordrheinWestfalen,
        Bundesland::RheinlandPfalz,
        Bundesland::Saarland,
        Bundesland::Sachsen,
        Bundesland::SachsenAnhalt,
        Bundesland::SchleswigHolstein,
        Bundesland::Thueringen,
    ];

    /// The official two-letter code (`"BY"`, `"NW"`, ...).
    pub fn code(self) -> &'static str {
        match self {
            Bundesland::BadenWuerttemberg => "BW",
            Bundesland::Bayern => "BY",
            Bundesland::Berlin => "BE",
            Bundesland::Brandenburg => "BB",
            Bundesland::Bremen => "HB",
            Bundesland::Hamburg => "HH",
            Bundesland::Hessen => "HE",
            Bundesland::MecklenburgVorpommern => "MV",
            Bundesland::Niedersachsen => "NI",
            Bundesland::NordrheinWestfalen => "NW",
            Bundesland::RheinlandPfalz => "RP",
            Bundesland::Saarland => "SL",
            Bundesland::Sachsen => "SN",
            Bundesland::SachsenAnhalt => "ST",
            Bundesland::SchleswigHolstein => "SH",
            Bundesland::Thueringen => "TH",
        }
    }

    /// The state for a two-letter code, case-insensitive.
    pub fn from_code(code: &str) -> Option<Self> {
        Bundesland::ALL
            .into_iter()
            .find(|land| land.code().eq_ignore_ascii_case(code))
    }
}

/// A public holiday on one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    /// The date.
    pub date: NaiveDate,
    /// Its German name, e.g. `"Karfreitag"`.
    pub name: &'static str,
}

/// Easter Sunday of a Gregorian year (anonymous Gregorian computus,
/// "Meeus/Jones/Butcher"). `None` only for years chrono cannot represent.
///
/// ```
/// use voxcal_appointment_finder::easter_sunday;
/// use chrono::NaiveDate;
/// assert_eq!(easter_sunday(2026), NaiveDate::from_ymd_opt(2026, 4, 5));
/// ```
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// All public holidays of `land` in `year`, sorted by date.
///
/// Covers the statewide holidays: the nine nationwide ones, Heilige Drei
/// Könige (BW, BY, ST), Internationaler Frauentag (BE from 2019, MV from
/// 2023), Ostersonntag and Pfingstsonntag (BB), Fronleichnam (BW, BY, HE, NW,
/// RP, SL), Mariä Himmelfahrt (SL), Weltkindertag (TH from 2019),
/// Reformationstag (BB, MV, SN, ST, TH; HB, HH, NI, SH from 2018; everywhere
/// in 2017), Allerheiligen (BW, BY, NW, RP, SL), Buß- und Bettag (SN; everywhere
/// until 1994), and Berlin's one-off 8 May holidays of 2020 and 2025. Holidays
/// that apply only to some municipalities (Augsburger Friedensfest, Mariä
/// Himmelfahrt in Catholic Bavarian communities, Fronleichnam in parts of
/// Saxony and Thuringia) are not included. Before 1990 the national day is
/// 17 June instead of 3 October.
pub fn public_holidays(year: i32, land: Bundesland) -> Vec<Holiday> {
    let mut out = Vec::with_capacity(16);
    visit_holidays(year, land, &mut |h| out.push(h));
    out.sort_by_key(|h| h.date);
    out
}

/// Calls `f` for every holiday of `land` in `year`, without allocating.
fn visit_holidays(year: i32, land: Bundesland, f: &mut dyn FnMut(Holiday)) {
    use Bundesland as L;
    let mut push = |date: Option<NaiveDate>, name: &'static str| {
        if let Some(date) = date {
            f(Holiday { date, name });
        }
    };
    let ymd = |m: u32, d: u32| NaiveDate::from_ymd_opt(year, m, d);
    let easter = easter_sunday(year);
    let from_easter = |days: i64| easter.and_then(|e| e.checked_add_signed(Duration::days(days)));
    let is = |lands: &[Bundesland]| lands.contains(&land);

    push(ymd(1, 1), "Neujahr");
    if is(&[L::BadenWuerttemberg, L::Bayern, L::SachsenAnhalt]) {
        push(ymd(1, 6), "Heilige Drei Könige");
    }
    if (land == L::Berlin && year >= 2019) || (land == L::MecklenburgVorpommern && year >= 2023) {
        push(ymd(3, 8), "Internationaler Frauentag");
    }
    push(from_easter(-2), "Karfreitag");
    if land == L::Brandenburg {
        push(easter, "Ostersonntag");
    }
    push(from_easter(1), "Ostermontag");
    push(ymd(5, 1), "Tag der Arbeit");
    if land == L::Berlin && (year == 2020 || year == 2025) {
        push(ymd(5, 8), "Tag der Befreiung");
    }
    push(from_easter(39), "Christi Himmelfahrt");
    if land == L::Brandenburg {
        push(from_easter(49), "Pfingstsonntag");
    }
    push(from_easter(50), "Pfingstmontag");
    if is(&[
        L::BadenWuerttemberg,
        L::Bayern,
        L::Hessen,
        L::NordrheinWestfalen,
        L::RheinlandPfalz,
        L::Saarland,
    ]) {
        push(from_easter(60), "Fronleichnam");
    }
    if year < 1990 {
        push(ymd(6, 17), "Tag der deutschen Einheit");
    }
    if land == L::Saarland {
        push(ymd(8, 15), "Mariä Himmelfahrt");
    }
    if land == L::Thueringen && year >= 2019 {
        push(ymd(9, 20), "Weltkindertag");
    }
    if year >= 1990 {
        push(ymd(10, 3), "Tag der Deutschen Einheit");
    }
    let reformation = year == 2017
        || is(&[
            L::Brandenburg,
            L::MecklenburgVorpommern,
            L::Sachsen,
            L::SachsenAnhalt,
            L::Thueringen,
        ])
        || (year >= 2018
            && is(&[
                L::Bremen,
                L::Hamburg,
                L::Niedersachsen,
                L::SchleswigHolstein,
            ]));
    if reformation {
        push(ymd(10, 31), "Reformationstag");
    }
    if is(&[
        L::BadenWuerttemberg,
        L::Bayern,
        L::NordrheinWestfalen,
        L::RheinlandPfalz,
        L::Saarland,
    ]) {
        push(ymd(11, 1), "Allerheiligen");
    }
    if land == L::Sachsen || year <= 1994 {
        push(repentance_day(year), "Buß- und Bettag");
    }
    push(ymd(12, 25), "1. Weihnachtstag");
    push(ymd(12, 26), "2. Weihnachtstag");
}

/// The public holiday of `land` on `date`, if there is one.
///
/// ```
/// use voxcal_appointment_finder::{holiday_on, Bundesland};
/// use chrono::NaiveDate;
/// let corpus_christi = NaiveDate::from_ymd_opt(2026, 6, 4).unwrap();
/// assert_eq!(holiday_on(corpus_christi, Bundesland::Bayern).unwrap().name, "Fronleichnam");
/// assert!(holiday_on(corpus_christi, Bundesland::Berlin).is_none());
/// ```
pub fn holiday_on(date: NaiveDate, land: Bundesland) -> Option<Holiday> {
    with_year(date.year(), |year| {
        year.by_land[land as usize]
            .iter()
            .find(|h| h.date == date)
            .copied()
    })
}

fn holiday_on_uncached(date: NaiveDate, land: Bundesland) -> Option<Holiday> {
    let mut found = None;
    visit_holidays(date.year(), land, &mut |h| {
        if h.date == date && found.is_none() {
            found = Some(h);
        }
    });
    found
}

/// One year's holidays of every state, in [`visit_holidays`]' order (so the
/// first one found on a date is the one the uncached lookup finds), and the
/// nationwide ones.
struct YearHolidays {
    year: i32,
    by_land: [Vec<Holiday>; 16],
    nationwide: Vec<Holiday>,
}

impl YearHolidays {
    fn compute(year: i32) -> Self {
        let by_land = Bundesland::ALL.map(|land| {
            let mut days = Vec::with_capacity(16);
            visit_holidays(year, land, &mut |h| days.push(h));
            days
        });
        let nationwide = by_land[Bundesland::Berlin as usize]
            .iter()
            .filter(|h| nationwide_holiday_on_uncached(h.date) == Some(**h))
            .copied()
            .collect();
        YearHolidays {
            year,
            by_land,
            nationwide,
        }
    }
}

/// Years kept per thread: a finder looks at today and a few weeks ahead,
/// so two years cover the turn of the year; four leave room for callers
/// asking about next year's Easter.
const YEARS_KEPT: usize = 4;

thread_local! {
    static YEARS: std::cell::RefCell<Vec<YearHolidays>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on `year`'s table, computing it on this thread's first ask.
/// Lookups run on every slot a finder checks, so they must not rebuild the
/// year (Easter, sixteen states) each time.
fn with_year<R>(year: i32, f: impl FnOnce(&YearHolidays) -> R) -> R {
    YEARS.with(|cell| {
        let mut years = cell.borrow_mut();
        let at = match years.iter().position(|y| y.year == year) {
            Some(at) => at,
            None => {
                if years.len() == YEARS_KEPT {
                    years.remove(0);
                }
                years.push(YearHolidays::compute(year));
                years.len() - 1
            }
        };
        f(&years[at])
    })
}

/// Buß- und Bettag: the Wednesday before 23 November (16–22 November).
fn repentance_day(year: i32) -> Option<NaiveDate> {
    let nov_22 = NaiveDate::from_ymd_opt(year, 11, 22)?;
    let back =
        (nov_22.weekday().num_days_from_monday() + 7 - Weekday::Wed.num_days_from_monday()) % 7;
    nov_22.checked_sub_signed(Duration::days(i64::from(back)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_dates() {
        // Known Easter Sundays (Gregorian).
        let table = [
            (1970, 3, 29),
            (1981, 4, 19),
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
            (2100, 3, 28),
        ];
        for (y, m, day) in table {
            assert_eq!(easter_sunday(y), Some(d(y, m, day)), "year {y}");
        }
    }

    #[test]
    fn easter_is_always_a_sunday_between_march_22_and_april_25() {
        for year in 1583..=4099 {
            let e = easter_sunday(year).unwrap();
            assert_eq!(e.weekday(), Weekday::Sun, "{year}");
            assert!(e >= d(year, 3, 22) && e <= d(year, 4, 25), "{year}: {e}");
        }
    }

    #[test]
    fn repentance_day_is_a_wednesday_in_range() {
        assert_eq!(repentance_day(2026), Some(d(2026, 11, 18)));
        assert_eq!(repentance_day(2025), Some(d(2025, 11, 19)));
        assert_eq!(repentance_day(2023), Some(d(2023, 11, 22)));
        for year in 1970..=2100 {
            let day = repentance_day(year).unwrap();
            assert_eq!(day.weekday(), Weekday::Wed);
            assert!((16..=22).contains(&day.day()));
        }
    }

    #[test]
    fn holidays_2026_per_land() {
        // name lists per state for 2026, in date order.
        let count = |land| public_holidays(2026, land).len();
        assert_eq!(count(Bundesland::Berlin), 10);
        assert_eq!(count(Bundesland::Bayern), 12);
        assert_eq!(count(Bundesland::BadenWuerttemberg), 12);
        assert_eq!(count(Bundesland::Saarland), 12);
        assert_eq!(count(Bundesland::NordrheinWestfalen), 11);
        assert_eq!(count(Bundesland::RheinlandPfalz), 11);
        assert_eq!(count(Bundesland::Hessen), 10);
        assert_eq!(count(Bundesland::Sachsen), 11);
        assert_eq!(count(Bundesland::Thueringen), 11);
        assert_eq!(count(Bundesland::Brandenburg), 12);
        assert_eq!(count(Bundesland::Hamburg), 10);
        assert_eq!(count(Bundesland::MecklenburgVorpommern), 11);

        let by: Vec<_> = public_holidays(2026, Bundesland::Bayern)
            .iter()
            .map(|h| (h.date, h.name))
            .collect();
        assert!(by.contains(&(d(2026, 4, 3), "Karfreitag")));
        assert!(by.contains(&(d(2026, 4, 6), "Ostermontag")));
        assert!(by.contains(&(d(2026, 5, 14), "Christi Himmelfahrt")));
        assert!(by.contains(&(d(2026, 5, 25), "Pfingstmontag")));
        assert!(by.contains(&(d(2026, 6, 4), "Fronleichnam")));
        assert!(by.contains(&(d(2026, 1, 6), "Heilige Drei Könige")));
        assert!(by.contains(&(d(2026, 11, 1), "Allerheiligen")));

        let sn = holiday_on(d(2026, 11, 18), Bundesland::Sachsen).unwrap();
        assert_eq!(sn.name, "Buß- und Bettag");
        assert!(holiday_on(d(2026, 11, 18), Bundesland::Bayern).is_none());
        assert_eq!(
            holiday_on(d(2026, 9, 20), Bundesland::Thueringen).map(|h| h.name),
            Some("Weltkindertag")
        );
        assert_eq!(
            holiday_on(d(2026, 3, 8), Bundesland::Berlin).map(|h| h.name),
            Some("Internationaler Frauentag")
        );
        assert!(holiday_on(d(2018, 3, 8), Bundesland::Berlin).is_none());
        assert_eq!(
            holiday_on(d(2026, 8, 15), Bundesland::Saarland).map(|h| h.name),
            Some("Mariä Himmelfahrt")
        );
        assert!(holiday_on(d(2026, 8, 15), Bundesland::Bayern).is_none());
    }

    #[test]
    fn reformation_day_rules_change_over_time() {
        for land in Bundesland::ALL {
            assert!(holiday_on(d(2017, 10, 31), land).is_some(), "{land:?}");
        }
        assert!(holiday_on(d(2016, 10, 31), Bundesland::Hamburg).is_none());
        assert!(holiday_on(d(2018, 10, 31), Bundesland::Hamburg).is_some());
        assert!(holiday_on(d(2026, 10, 31), Bundesland::Bayern).is_none());
        assert!(holiday_on(d(2026, 10, 31), Bundesland::Sachsen).is_some());
    }

    #[test]
    fn nationwide_holidays_apply_everywhere() {
        for land in Bundesland::ALL {
            for (m, day) in [(1, 1), (5, 1), (10, 3), (12, 25), (12, 26)] {
                assert!(
                    holiday_on(d(2026, m, day), land).is_some(),
                    "{land:?} {m}-{day}"
                );
            }
            assert_eq!(Bundesland::from_code(land.code()), Some(land));
        }
        assert!(holiday_on(d(1985, 6, 17), Bundesland::Hessen).is_some());
        assert!(holiday_on(d(1985, 10, 3), Bundesland::Hessen).is_none());
    }
}

/// The public holiday on `date` that every Bundesland keeps, if there is
/// one (Neujahr, Karfreitag, Ostermontag, Tag der Arbeit, Christi
/// Himmelfahrt, Pfingstmontag, Tag der Deutschen Einheit, both
/// Weihnachtstage; and the Reformationstag of 2017).
///
/// ```
/// use voxcal_appointment_finder::nationwide_holiday_on;
/// use chrono::NaiveDate;
/// let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
/// assert_eq!(nationwide_holiday_on(day(10, 3)).unwrap().name, "Tag der Deutschen Einheit");
/// assert!(nationwide_holiday_on(day(6, 4)).is_none()); // Fronleichnam: some states only
/// ```
pub fn nationwide_holiday_on(date: NaiveDate) -> Option<Holiday> {
    with_year(date.year(), |year| {
        year.nationwide.iter().find(|h| h.date == date).copied()
    })
}

fn nationwide_holiday_on_uncached(date: NaiveDate) -> Option<Holiday> {
    // Most days are no holiday anywhere: one state answers them.
    let candidate = holiday_on_uncached(date, Bundesland::Berlin)?;
    Bundesland::ALL
        .iter()
        .all(|&land| holiday_on_uncached(date, land).is_some())
        .then_some(candidate)
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    #[test]
    fn cached_lookups_answer_as_the_uncached_ones_on_every_day() {
        // 1988 and 1994 cover the old rules; more years than the cache keeps,
        // asked twice in turn, so evicted years are computed again.
        let years = [1988, 1994, 2017, 2008, 2020, 2025, 2026, 2027, 2038];
        // The table is indexed by discriminant and built in `ALL`'s order.
        for (i, land) in Bundesland::ALL.into_iter().enumerate() {
            assert_eq!(land as usize, i, "{land:?}");
        }
        let mut holidays_seen = 0;
        for pass in 0..2 {
            for year in years {
                let mut date = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
                while date.year() == year {
                    for land in Bundesland::ALL {
                        let cached = holiday_on(date, land);
                        assert_eq!(cached, holiday_on_uncached(date, land), "{date} {land:?}");
                        holidays_seen += usize::from(cached.is_some() && pass == 0);
                    }
                    assert_eq!(
                        nationwide_holiday_on(date),
                        nationwide_holiday_on_uncached(date),
                        "{date}"
                    );
                    date = date.succ_opt().unwrap();
                }
            }
        }
        // About ten to fourteen holidays a state a year.
        assert!(holidays_seen > years.len() * 16 * 9, "{holidays_seen}");
    }
}

#[cfg(test)]
mod nationwide_tests {
    use super::*;

    #[test]
    fn nationwide_holidays_are_those_of_every_state() {
        for year in [2017, 2025, 2026, 2027, 2030] {
            let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            let mut names = Vec::new();
            for offset in 0..366 {
                let Some(date) = start.checked_add_signed(Duration::days(offset)) else {
                    continue;
                };
                if date.year() != year {
                    break;
                }
                let everywhere = Bundesland::ALL
                    .iter()
                    .all(|&l| holiday_on(date, l).is_some());
                let found = nationwide_holiday_on(date);
                assert_eq!(found.is_some(), everywhere, "{date}");
                names.extend(found.map(|h| h.name));
            }
            let want = if year == 2017 { 10 } else { 9 };
            assert_eq!(names.len(), want, "{year}: {names:?}");
            assert!(
                names.contains(&"Neujahr") && names.contains(&"Pfingstmontag"),
                "{names:?}"
            );
            assert!(
                !names.contains(&"Fronleichnam") && !names.contains(&"Internationaler Frauentag")
            );
        }
    }
}
