//! `CALCOM_API_KEY=cal_… cargo run -p voxcal-calcom-client --example slots -- --event-type 123 --date 2026-12-01`
//!
//! Prints the free slots of an event type on one day, in Europe/Berlin. Optional:
//! `--tz <IANA zone>`, `--base-url <url>` (self-hosted Cal.com).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use chrono::NaiveDate;
use chrono_tz::Tz;
use voxcal_calcom_client::{CalcomClient, Credentials, Lang, SlotsQuery, UserMessage};

struct Args {
    event_type: u64,
    date: NaiveDate,
    tz: Tz,
    base_url: String,
}

fn parse_args() -> Result<Args, String> {
    let mut event_type = None;
    let mut date = None;
    let mut tz = chrono_tz::Europe::Berlin;
    let mut base_url = voxcal_calcom_client::DEFAULT_BASE_URL.to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--event-type" => {
                event_type = Some(value()?.parse().map_err(|e| format!("--event-type: {e}"))?)
            }
            "--date" => date = Some(value()?.parse().map_err(|e| format!("--date: {e}"))?),
            "--tz" => tz = value()?.parse().map_err(|e| format!("--tz: {e}"))?,
            "--base-url" => base_url = value()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        event_type: event_type.ok_or("--event-type is required")?,
        date: date.ok_or("--date is required")?,
        tz,
        base_url,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!("{err}\nusage: slots --event-type <id> --date <YYYY-MM-DD> [--tz Europe/Berlin] [--base-url URL]");
            return ExitCode::from(2);
        }
    };
    let Ok(key) = std::env::var("CALCOM_API_KEY") else {
        eprintln!("set CALCOM_API_KEY to a Cal.com API key (cal_…)");
        return ExitCode::from(2);
    };
    let client = match CalcomClient::builder(Credentials::api_key(key))
        .base_url(args.base_url)
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    // The local day, as UTC instants: Cal.com is asked for exactly that window.
    let local = |date: NaiveDate| {
        date.and_time(chrono::NaiveTime::MIN)
            .and_local_timezone(args.tz)
            .earliest()
            .map(|at| at.with_timezone(&chrono::Utc))
    };
    let (Some(start), Some(end)) = (local(args.date), args.date.succ_opt().and_then(local)) else {
        eprintln!("{} has no midnight in {}", args.date, args.tz);
        return ExitCode::FAILURE;
    };
    let query = SlotsQuery::new(args.event_type, start, end)
        .time_zone(args.tz.name())
        .with_ends();
    match client.slots(&query).await {
        Ok(slots) if slots.is_empty() => println!("No free slots on {} ({}).", args.date, args.tz),
        Ok(slots) => {
            println!("Free slots on {} ({}):", args.date, args.tz);
            for slot in slots.iter() {
                let start = slot.start.with_timezone(&args.tz);
                match slot.end {
                    Some(end) => println!(
                        "  {} – {}",
                        start.format("%H:%M"),
                        end.with_timezone(&args.tz).format("%H:%M")
                    ),
                    None => println!("  {}", start.format("%H:%M")),
                }
            }
        }
        Err(err) => {
            eprintln!("{err}");
            eprintln!("{}", err.user_message(Lang::De));
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
