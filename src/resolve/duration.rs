//! Stage 2 (resolve): durations that reach nginx (`proxy_read_timeout`) and systemd
//! (`TimeoutStartSec=`): a number and one unit, `s`, `m` or `h`, which both read the same way,
//! from 1 s to 24 h (past a day, a hung upstream or job holds on forever).

use super::invalid::{Checked, Invalid};

const MAX_SECONDS: u64 = 24 * 3600;

/// Checks `value`; its length in seconds.
pub(super) fn duration(what: &str, value: &str) -> Checked<u64> {
    let bad = || {
        Invalid::new(
            format!("{what} `{value}` is not a duration from 1s to 24h"),
            "write a number and one unit: `90s`, `10m` or `1h`",
        )
    };
    let (digits, unit) = value.split_at(value.len().saturating_sub(1));
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(bad()),
    };
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let seconds = digits.parse::<u64>().map_err(|_| bad())? * scale;
    if seconds == 0 || seconds > MAX_SECONDS {
        return Err(bad());
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (ok, seconds) in [
            ("1s", 1),
            ("90s", 90),
            ("10m", 600),
            ("1h", 3600),
            ("24h", 86400),
        ] {
            assert_eq!(duration("t", ok).ok(), Some(seconds), "{ok}");
        }
        for bad in [
            "", "s", "0s", "25h", "86401s", "1d", "1.5h", "1 h", "-1s", "1h30m", "60",
        ] {
            assert!(duration("t", bad).is_err(), "{bad:?} accepted");
        }
    }
}
