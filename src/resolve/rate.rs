//! nginx request rates (`30r/s`, `600r/m`) and bursts.

use super::invalid::{Checked, Invalid};
use crate::model::RateLimit;

/// Largest rate or burst accepted; far above anything a single host serves.
const MAX: u32 = 100_000;

/// Parses `<n>r/s` or `<n>r/m` with the burst.
pub(super) fn rate_limit(rate: &str, burst: i64) -> Checked<RateLimit> {
    let help = "write the rate as `<requests>r/s` or `<requests>r/m`, e.g. `10r/s`";
    let (number, per) = rate
        .strip_suffix("r/s")
        .map(|n| (n, 's'))
        .or_else(|| rate.strip_suffix("r/m").map(|n| (n, 'm')))
        .ok_or_else(|| Invalid::new(format!("rate `{rate}` is not in nginx syntax"), help))?;
    let requests: u32 = number
        .parse()
        .ok()
        .filter(|n| (1..=MAX).contains(n) && number.chars().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| {
            Invalid::new(
                format!("rate `{rate}` must count 1 to {MAX} requests"),
                help,
            )
        })?;
    let burst = u32::try_from(burst)
        .ok()
        .filter(|b| *b <= MAX)
        .ok_or_else(|| {
            Invalid::new(
                format!("burst {burst} is out of range"),
                format!("use a burst from 0 to {MAX}"),
            )
        })?;
    Ok(RateLimit {
        requests,
        per,
        burst,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(
            rate_limit("30r/s", 50).unwrap(),
            RateLimit {
                requests: 30,
                per: 's',
                burst: 50
            }
        );
        assert_eq!(rate_limit("600r/m", 0).unwrap().rate(), "600r/m");
        for bad in [
            "",
            "30",
            "30r/h",
            "0r/s",
            "-1r/s",
            "+1r/s",
            "1.5r/s",
            "30 r/s",
            "999999r/s",
            "30r/s;",
        ] {
            assert!(rate_limit(bad, 1).is_err(), "{bad:?} accepted");
        }
        assert!(rate_limit("1r/s", -1).is_err());
        assert!(rate_limit("1r/s", 100_001).is_err());
    }
}
