//! Job schedules against the real `systemd-analyze calendar`: every schedule blueprint accepts
//! systemd accepts too (blueprint's language is a subset, so a refused one may still be valid
//! systemd, like `Daily`), and the common forms are accepted. The verdicts come from compiling a
//! host with that schedule, so the whole path (raw → resolve) is what is checked.

use std::process::Command;

use super::support::{assert_no_failures, run, tempdir, tool};

/// Schedules blueprint must accept.
const COMMON: &[&str] = &[
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
    "2030-12-24 18:00 UTC",
    "*-*-* *:0/15",
    "*-*-* 0..6:00",
    "12-25 09:00",
];

/// More schedules, valid for systemd or not.
const OTHERS: &[&str] = &[
    "Daily",
    "nightly",
    "*-*-* 24:00",
    "*-*-* 03:60",
    "*-13-01 00:00",
    "*-*-32 00:00",
    "Funday 10:00",
    "Sun 17:00 Europe/Berlin",
    "*-*-*  03:30",
    "*-*-* 03:30;rm",
    "*-*-* 5..1:00",
    "*-*-* */0:00",
    "every day",
    "*-*-*",
    "mon 08:00",
    "*-01,07-01 12:00",
    "*-*-* 3:3",
    "2100-02-29 00:00",
    "Mon..Fri *-*-* 8..18:00/30",
];

fn blueprint_accepts(schedule: &str) -> bool {
    let dir = tempdir();
    let config = dir.path().join("sites.toml");
    let keys = std::fs::canonicalize("keys/ops.pub").expect("keys/ops.pub");
    let text = format!(
        "[host]\nname = \"cal\"\nos = \"debian-12\"\nacme_email = \"ops@example.com\"\nadmin_keys = [{keys:?}]\n\n\
         [sites.s]\ndomains = [\"s.example.com\"]\nslot = 1\nstatic = \"public\"\n\n\
         [sites.s.jobs.j]\nrun = \"/usr/bin/true\"\nschedule = {schedule:?}\n"
    );
    std::fs::write(&config, text).expect("write sites.toml");
    blueprint::compile(&config).is_ok()
}

#[test]
fn every_schedule_blueprint_accepts_is_one_systemd_accepts() {
    let Some(analyze) = tool("calendar", "systemd-analyze") else {
        return;
    };
    let mut failures = Vec::new();
    for schedule in COMMON.iter().chain(OTHERS) {
        let ours = blueprint_accepts(schedule);
        let theirs = run(Command::new(&analyze).args(["calendar", schedule]));
        if ours && !theirs.success {
            failures.push(format!(
                "blueprint accepts `{schedule}`, systemd does not: {}",
                theirs.output()
            ));
        }
        if COMMON.contains(schedule) && !ours {
            failures.push(format!(
                "blueprint refuses the common schedule `{schedule}`"
            ));
        }
    }
    assert_no_failures("calendar", &failures);
}

#[test]
fn the_calendar_check_can_fail() {
    // Nonsense systemd refuses, and blueprint must too: if either stopped refusing it, the
    // check above would prove less than it says.
    let Some(analyze) = tool("calendar", "systemd-analyze") else {
        return;
    };
    for schedule in ["*-*-* 25:00", "Funday 10:00"] {
        assert!(!blueprint_accepts(schedule), "{schedule}");
        assert!(!run(Command::new(&analyze).args(["calendar", schedule])).success);
    }
}
