//! Sizes and quotas: systemd `MemoryMax=`/`CPUQuota=`/`TasksMax=` and nginx
//! `client_max_body_size`. Plain digits with a unit suffix only.

use super::invalid::{Checked, Invalid};
use crate::model::Limits;

pub(super) use crate::model::{DEFAULT_CPU_QUOTA, DEFAULT_MEMORY_MAX, DEFAULT_TASKS_MAX};
/// nginx body size default.
pub(super) const DEFAULT_BODY_SIZE: &str = "10m";

/// Builds a service's limits from the optional raw values; every wrong one is reported, so one
/// mistake never hides another.
pub(super) fn limits(
    memory_max: Option<&str>,
    cpu_quota: Option<&str>,
    tasks_max: Option<i64>,
) -> Result<Limits, Vec<(Field, Invalid)>> {
    let mut wrong = Vec::new();
    let memory_max = memory_max.unwrap_or(DEFAULT_MEMORY_MAX);
    if !digits_with_suffix(memory_max, &['K', 'M', 'G', 'T']) && memory_max != "infinity" {
        wrong.push((
            Field::MemoryMax,
            Invalid::new(
                format!("memory_max `{memory_max}` is not a systemd size"),
                "write a number with K, M, G or T, e.g. `512M`, or `infinity`",
            ),
        ));
    }
    let cpu_quota = cpu_quota.unwrap_or(DEFAULT_CPU_QUOTA);
    let percent_ok = cpu_quota.strip_suffix('%').is_some_and(|n| {
        n.chars().all(|c| c.is_ascii_digit())
            && n.parse::<u32>().is_ok_and(|n| (1..=100_000).contains(&n))
    });
    if !percent_ok {
        wrong.push((
            Field::CpuQuota,
            Invalid::new(
                format!("cpu_quota `{cpu_quota}` is not a percentage"),
                "write a percentage of one core, e.g. `50%` or `200%`",
            ),
        ));
    }
    let tasks_max = match tasks_max {
        None => DEFAULT_TASKS_MAX,
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .unwrap_or_else(|| {
                wrong.push((
                    Field::TasksMax,
                    Invalid::new(
                        format!("tasks_max {n} is out of range"),
                        "use a number from 1 to 1000000",
                    ),
                ));
                0
            }),
    };
    if !wrong.is_empty() {
        return Err(wrong);
    }
    Ok(Limits {
        memory_max: memory_max.to_owned(),
        cpu_quota: cpu_quota.to_owned(),
        tasks_max,
    })
}

/// Which limit was wrong, so the caller can point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    /// `memory_max`
    MemoryMax,
    /// `cpu_quota`
    CpuQuota,
    /// `tasks_max`
    TasksMax,
}

/// nginx size: digits with an optional `k`/`m`/`g` suffix.
pub(super) fn body_size(size: &str) -> Checked<()> {
    if digits_with_suffix(size, &['k', 'K', 'm', 'M', 'g', 'G'])
        || (!size.is_empty() && size.chars().all(|c| c.is_ascii_digit()) && size.len() <= 12)
    {
        Ok(())
    } else {
        Err(Invalid::new(
            format!("client_max_body_size `{size}` is not an nginx size"),
            "write a number with an optional k, m or g suffix, e.g. `10m`",
        ))
    }
}

fn digits_with_suffix(value: &str, suffixes: &[char]) -> bool {
    let Some(last) = value.chars().last() else {
        return false;
    };
    let number = &value[..value.len() - last.len_utf8()];
    suffixes.contains(&last)
        && !number.is_empty()
        && number.len() <= 12
        && number.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        let l = limits(None, None, None).unwrap();
        assert_eq!(
            (l.memory_max.as_str(), l.cpu_quota.as_str(), l.tasks_max),
            ("1G", "100%", 256)
        );
        assert!(limits(Some("512M"), Some("50%"), Some(64)).is_ok());
        assert_eq!(
            limits(Some("1GB"), None, None).unwrap_err()[0].0,
            Field::MemoryMax
        );
        assert_eq!(
            limits(None, Some("50"), None).unwrap_err()[0].0,
            Field::CpuQuota
        );
        assert_eq!(
            limits(None, Some("0%"), None).unwrap_err()[0].0,
            Field::CpuQuota
        );
        assert_eq!(
            limits(None, None, Some(0)).unwrap_err()[0].0,
            Field::TasksMax
        );
        assert!(body_size("10m").is_ok() && body_size("1024").is_ok());
        assert!(body_size("10 m").is_err() && body_size("").is_err() && body_size("10m;").is_err());
    }
}
