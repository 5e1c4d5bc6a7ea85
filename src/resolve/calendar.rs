//! Stage 2 (resolve): a job's `schedule`, a systemd calendar event (systemd.time(7)) that
//! becomes the timer's `OnCalendar=`. Checked at build time so a typo is an error with a
//! position here, not a timer that never fires on the host. The accepted language is a subset
//! of systemd's: the shorthands, and `[WEEKDAYS] [DATE] TIME [UTC]` where each date and time
//! component is `*`, a number, a list (`1,15`), a range (`1..5`) or a repetition (`*/15`,
//! `0/2`). tests/validate/calendar.rs compiles a corpus of schedules and checks each verdict
//! against `systemd-analyze calendar`: what this accepts, systemd accepts.

use super::invalid::{Checked, Invalid};

/// systemd's shorthands.
const SHORTHANDS: &[&str] = &[
    "minutely",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "yearly",
    "annually",
    "quarterly",
    "semiannually",
];

const WEEKDAYS: &[&str] = &["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Checks a calendar event.
pub(super) fn calendar(value: &str) -> Checked<()> {
    let bad = |why: &str| {
        Invalid::new(
            format!("schedule `{value}` is not a calendar event blueprint accepts: {why}"),
            "write `hourly`, `daily`, `weekly`, or `[Mon..Fri] [*-*-*] HH:MM[:SS] [UTC]`, e.g. `*-*-* 03:30` or `Mon..Fri 08:00` (systemd.time(7))",
        )
    };
    if SHORTHANDS.contains(&value) {
        return Ok(());
    }
    let mut words: Vec<&str> = value.split(' ').collect();
    if words.iter().any(|w| w.is_empty()) {
        return Err(bad("separate its parts by single spaces"));
    }
    if words.last() == Some(&"UTC") {
        words.pop();
    }
    let Some(time) = words.pop() else {
        return Err(bad("it has no time"));
    };
    time_of_day(time).map_err(|why| bad(&why))?;
    let mut rest = words.into_iter();
    let mut next = rest.next();
    if let Some(days) = next.filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic())) {
        weekdays(days).map_err(|why| bad(&why))?;
        next = rest.next();
    }
    if let Some(date_part) = next {
        date(date_part).map_err(|why| bad(&why))?;
    }
    if rest.next().is_some() {
        return Err(bad("it has more parts than weekdays, a date and a time"));
    }
    Ok(())
}

fn weekdays(days: &str) -> Result<(), String> {
    for item in days.split(',') {
        let (from, to) = item.split_once("..").unwrap_or((item, item));
        for day in [from, to] {
            if !WEEKDAYS.contains(&day) {
                return Err(format!("`{day}` is not a weekday (write Mon … Sun)"));
            }
        }
    }
    Ok(())
}

/// `Y-M-D` or `M-D`.
fn date(text: &str) -> Result<(), String> {
    let parts: Vec<&str> = text.split('-').collect();
    let (year, month, day) = match parts[..] {
        [y, m, d] => (Some(y), m, d),
        [m, d] => (None, m, d),
        _ => {
            return Err(format!(
                "`{text}` is not a date (write *-*-* or YYYY-MM-DD)"
            ))
        }
    };
    if let Some(y) = year {
        component(y, 1970, 2199, "year")?;
    }
    component(month, 1, 12, "month")?;
    component(day, 1, 31, "day")
}

/// `H:M` or `H:M:S`.
fn time_of_day(text: &str) -> Result<(), String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (hour, minute, second) = match parts[..] {
        [h, m] => (h, m, None),
        [h, m, s] => (h, m, Some(s)),
        _ => return Err(format!("`{text}` is not a time (write HH:MM or HH:MM:SS)")),
    };
    component(hour, 0, 23, "hour")?;
    component(minute, 0, 59, "minute")?;
    if let Some(s) = second {
        component(s, 0, 59, "second")?;
    }
    Ok(())
}

/// One component: `*`, or a list of `N`, `N..M`, `N/STEP`, `*/STEP`, within `min..=max`.
fn component(text: &str, min: u32, max: u32, what: &str) -> Result<(), String> {
    if text == "*" {
        return Ok(());
    }
    let number = |n: &str| -> Result<u32, String> {
        if n.is_empty() || n.len() > 4 || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{text}` is not a valid {what}"));
        }
        let v: u32 = n
            .parse()
            .map_err(|_| format!("`{text}` is not a valid {what}"))?;
        if (min..=max).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{what} {v} is out of range ({min} to {max})"))
        }
    };
    for item in text.split(',') {
        let (base, step) = match item.split_once('/') {
            Some((base, step)) => (base, Some(step)),
            None => (item, None),
        };
        if let Some(step) = step {
            let valid = step.bytes().all(|b| b.is_ascii_digit())
                && step.parse::<u32>().is_ok_and(|s| s > 0);
            if !valid {
                return Err(format!("`{item}` has no valid repetition"));
            }
            if base != "*" {
                number(base)?;
            }
            continue;
        }
        match base.split_once("..") {
            Some((from, to)) => {
                if number(from)? > number(to)? {
                    return Err(format!("the range `{base}` runs backwards"));
                }
            }
            None => {
                number(base)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCEPTED: &[&str] = &[
        "hourly",
        "daily",
        "weekly",
        "monthly",
        "*-*-* 03:30",
        "*-*-* 03:30:00",
        "03:30",
        "Mon..Fri 08:00",
        "Sat,Sun 10:00",
        "Mon *-*-* 04:00:00",
        "*-*-01 00:00",
        "*-01,07-01 12:00",
        "2030-12-24 18:00 UTC",
        "*-*-* *:0/15",
        "*-*-* *:*:00",
        "*-*-* 0..6:00",
        "12-25 09:00",
    ];
    const REFUSED: &[&str] = &[
        "",
        "nightly",
        "Daily",
        "*-*-* 24:00",
        "*-*-* 03:60",
        "*-13-01 00:00",
        "*-*-32 00:00",
        "Funday 10:00",
        "*-*-* 3:30 Europe/Berlin",
        "*-*-*  03:30",
        "*-*-* 03:30;rm",
        "*-*-* 5..1:00",
        "*-*-* */0:00",
        "every day",
        "*-*-*",
    ];

    #[test]
    fn corpus() {
        for ok in ACCEPTED {
            assert!(calendar(ok).is_ok(), "{ok:?} refused: {:?}", calendar(ok));
        }
        for bad in REFUSED {
            assert!(calendar(bad).is_err(), "{bad:?} accepted");
        }
    }
}
