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

#[cfg(test)]
mod tests {
    use super::super::testing;
    use super::*;
    use crate::TenantConfig;
    use voxcal_appointment_finder::{BusinessHours, OpeningInterval};

    fn hours_of(config: TenantConfig) -> Reply {
        let state = testing::state(vec![config]);
        let tenant = testing::tenant(&state, "t");
        testing::call(&state, &tenant, "call_info").opening_hours()
    }

    #[test]
    fn the_demo_week_is_spoken_as_one_span() {
        let reply = hours_of(TenantConfig::demo("t"));
        assert_eq!(reply.status, Status::OpeningHours);
        assert_eq!(
            reply.message,
            "Wir haben Montag bis Freitag von 9 bis 18 Uhr geöffnet."
        );
        let data = testing::data(&reply);
        assert_eq!(data["time_zone"], "Europe/Berlin");
        assert_eq!(data["public_holidays"], "DE", "{data}");
        let days = data["days"].as_array().unwrap();
        assert_eq!(days.len(), 7);
        assert_eq!(days[0]["weekday"], "Montag");
        assert_eq!(days[0]["intervals"], json!(["09:00-18:00"]));
        assert_eq!(days[5]["open"], false);
        assert_eq!(days[6]["intervals"], json!([]));
    }

    #[test]
    fn a_lunch_break_and_a_saturday_are_their_own_parts() {
        let iv = |a, b| OpeningInterval::new((a, 0), (b, 0)).unwrap();
        let mut config = TenantConfig::demo("t");
        config.hours = BusinessHours::closed(chrono_tz::Europe::Berlin)
            .with_weekdays(
                [
                    chrono::Weekday::Mon,
                    chrono::Weekday::Tue,
                    chrono::Weekday::Wed,
                    chrono::Weekday::Thu,
                    chrono::Weekday::Fri,
                ],
                [iv(9, 12), iv(14, 18)],
            )
            .with_day(chrono::Weekday::Sat, [iv(9, 12)]);
        let reply = hours_of(config);
        assert_eq!(
            reply.message,
            "Wir haben Montag bis Freitag von 9 bis 12 Uhr und von 14 bis 18 Uhr und Samstag von 9 bis 12 Uhr geöffnet."
        );
        let data = testing::data(&reply);
        assert_eq!(
            data["days"][2]["intervals"],
            json!(["09:00-12:00", "14:00-18:00"])
        );
        assert_eq!(data["days"][5]["open"], true);
        assert_eq!(
            data["public_holidays"],
            Value::Null,
            "no holidays configured"
        );
    }

    #[test]
    fn a_tenant_without_hours_says_so() {
        let mut config = TenantConfig::demo("t");
        config.hours = BusinessHours::closed(chrono_tz::Europe::Berlin);
        let reply = hours_of(config);
        assert_eq!(
            reply.message,
            "Wir haben derzeit leider keine Öffnungszeiten."
        );
        let data = testing::data(&reply);
        assert!(data["days"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["open"] == false));
    }

    #[test]
    fn every_service_is_listed_with_its_length() {
        let state = testing::state(testing::demo_tenants(&["t"]));
        let tenant = testing::tenant(&state, "t");
        let reply = testing::call(&state, &tenant, "call_info").list_services();
        assert_eq!(reply.status, Status::Services);
        let listed = testing::data(&reply)["services"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(listed.len(), tenant.services.len());
        assert!(
            tenant.services.len() >= 2,
            "the demo offers several services"
        );
        for (out, service) in listed.iter().zip(&tenant.services) {
            assert_eq!(out["id"], service.event_type.as_str());
            assert_eq!(out["name"], service.name);
            assert_eq!(out["duration_minutes"], service.duration.num_minutes());
            let spoken = format!(
                "{} ({} Minuten)",
                service.name,
                service.duration.num_minutes()
            );
            assert!(
                reply.message.contains(&spoken),
                "{spoken} in {}",
                reply.message
            );
        }
        assert!(reply.message.starts_with("Wir bieten ") && reply.message.ends_with(" an."));
    }
}
