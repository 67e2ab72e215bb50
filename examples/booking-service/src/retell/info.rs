//! `get_opening_hours` and `list_services`.

use super::*;

impl Call<'_> {
    pub(super) fn opening_hours(&self) -> Reply {
        let hours = self.tenant.tenant.hours();
        let weekdays = [
            chrono::Weekday::Mon,
            chrono::Weekday::Tue,
            chrono::Weekday::Wed,
            chrono::Weekday::Thu,
            chrono::Weekday::Fri,
            chrono::Weekday::Sat,
            chrono::Weekday::Sun,
        ];
        let fmt_iv = |iv: &voxcal_appointment_finder::OpeningInterval| {
            let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
            format!("{}-{}", hm(iv.start_minutes()), hm(iv.end_minutes()))
        };
        let days: Vec<Value> = weekdays
            .iter()
            .map(|d| {
                let ivs: Vec<String> = hours.weekday_intervals(*d).iter().map(fmt_iv).collect();
                json!({"weekday": weekday_de(*d), "open": !ivs.is_empty(), "intervals": ivs})
            })
            .collect();
        // Group consecutive days with the same hours: "Montag bis Freitag von 9 bis 18 Uhr".
        let mut parts: Vec<String> = Vec::new();
        let mut i = 0;
        while i < weekdays.len() {
            let ivs = hours.weekday_intervals(weekdays[i]);
            let mut j = i;
            while j + 1 < weekdays.len() && hours.weekday_intervals(weekdays[j + 1]) == ivs {
                j += 1;
            }
            if !ivs.is_empty() {
                let span = if i == j {
                    weekday_de(weekdays[i]).to_owned()
                } else {
                    format!(
                        "{} bis {}",
                        weekday_de(weekdays[i]),
                        weekday_de(weekdays[j])
                    )
                };
                let times: Vec<String> = ivs
                    .iter()
                    .map(|iv| {
                        let t = |m: u16| {
                            speak::time(
                                NaiveTime::from_hms_opt(u32::from(m / 60), u32::from(m % 60), 0)
                                    .unwrap_or(NaiveTime::MIN),
                            )
                            .trim_end_matches(" Uhr")
                            .to_owned()
                        };
                        format!(
                            "von {} bis {} Uhr",
                            t(iv.start_minutes()),
                            t(iv.end_minutes())
                        )
                    })
                    .collect();
                let times: Vec<&str> = times.iter().map(String::as_str).collect();
                parts.push(format!("{span} {}", join_de(&times)));
            }
            i = j + 1;
        }
        let message = if parts.is_empty() {
            "Wir haben derzeit leider keine Öffnungszeiten.".to_owned()
        } else {
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            format!("Wir haben {} geöffnet.", join_de(&parts))
        };
        Reply::ok(
            Status::OpeningHours,
            message,
            json!({
                "business": self.tenant.name,
                "time_zone": hours.zone().name(),
                "public_holidays": hours
                    .public_holidays()
                    .map(|b| b.code())
                    .or(hours.nationwide_holidays().then_some("DE")),
                "days": days,
            }),
        )
    }

    pub(super) fn list_services(&self) -> Reply {
        let services: Vec<Value> = self
            .tenant
            .services
            .iter()
            .map(|s| {
                json!({
                    "id": s.event_type.as_str(),
                    "name": s.name,
                    "duration_minutes": s.duration.num_minutes(),
                })
            })
            .collect();
        let spoken: Vec<String> = self
            .tenant
            .services
            .iter()
            .map(|s| format!("{} ({} Minuten)", s.name, s.duration.num_minutes()))
            .collect();
        let spoken: Vec<&str> = spoken.iter().map(String::as_str).collect();
        Reply::ok(
            Status::Services,
            format!("Wir bieten {} an.", join_de(&spoken)),
            json!({"services": services}),
        )
    }
}
