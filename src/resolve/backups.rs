//! Stage 2 (resolve): `[host.backups]` into the model's [`Backups`]: the schedule of every
//! site's backup timer (a calendar event, checked like a job's) and the retention. Backups are
//! on unless turned off: seed 003's worst finding is a host whose data was never saved.

use toml::Spanned;

use super::invalid::{Checked, Invalid};
use super::{calendar, Resolver};
use crate::model::Backups;
use crate::raw::RawBackups;

/// When a backup runs unless `schedule` says otherwise.
const DEFAULT_SCHEDULE: &str = "daily";
/// Days whose newest backup is kept by default.
const DEFAULT_KEEP_DAILY: u32 = 7;
/// ISO weeks whose newest backup is kept by default.
const DEFAULT_KEEP_WEEKLY: u32 = 4;

impl Resolver<'_> {
    /// `None` (after reporting) for an invalid table, `Some(None)` when backups are off.
    pub(super) fn backups(&mut self, raw: Option<&Spanned<RawBackups>>) -> Option<Option<Backups>> {
        let Some(raw) = raw.map(Spanned::get_ref) else {
            return Some(Some(Backups {
                schedule: DEFAULT_SCHEDULE.to_owned(),
                keep_daily: DEFAULT_KEEP_DAILY,
                keep_weekly: DEFAULT_KEEP_WEEKLY,
            }));
        };
        let schedule = match &raw.schedule {
            None => Some(DEFAULT_SCHEDULE.to_owned()),
            Some(s) => self
                .check(s.span(), calendar::calendar(s.get_ref()))
                .map(|()| s.get_ref().clone()),
        };
        let mut keep = |value: &Option<Spanned<i64>>, key: &str, min: i64, default: u32| match value
        {
            None => Some(default),
            Some(v) => self.check(v.span(), kept(key, *v.get_ref(), min)),
        };
        let keep_daily = keep(&raw.keep_daily, "keep_daily", 1, DEFAULT_KEEP_DAILY);
        let keep_weekly = keep(&raw.keep_weekly, "keep_weekly", 0, DEFAULT_KEEP_WEEKLY);
        let backups = Backups {
            schedule: schedule?,
            keep_daily: keep_daily?,
            keep_weekly: keep_weekly?,
        };
        Some(raw.enabled.unwrap_or(true).then_some(backups))
    }
}

/// A retention count: at least `min` (the newest backup is always kept), at most ten years.
fn kept(key: &str, value: i64, min: i64) -> Checked<u32> {
    const MAX: i64 = 3660;
    if (min..=MAX).contains(&value) {
        return Ok(u32::try_from(value).expect("in range"));
    }
    Err(Invalid::new(
        format!("{key} = {value} is out of range"),
        format!("use a number from {min} to {MAX}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::kept;

    #[test]
    fn retention_counts_are_bounded() {
        assert_eq!(kept("keep_daily", 7, 1).unwrap(), 7);
        assert!(kept("keep_daily", 0, 1).is_err());
        assert_eq!(kept("keep_weekly", 0, 0).unwrap(), 0);
        assert!(kept("keep_weekly", -1, 0).is_err());
        assert!(kept("keep_weekly", 100_000, 0).is_err());
    }
}
