//! Stage 2 (resolve): a private site's `allow_from`, networks in CIDR form that reach nginx's
//! `allow` and the firewall's rules. Each is parsed as an address and a prefix length and
//! written back in canonical form, so no other text can reach either.

use std::net::IpAddr;

use super::invalid::{Checked, Invalid};

/// Checks a site's `listen` address: one address of the host, not a wildcard or a multicast.
pub(super) fn listen_address(value: &str) -> Checked<IpAddr> {
    let address: IpAddr = value.parse().map_err(|_| {
        Invalid::new(
            format!("`{value}` is not an IP address"),
            "write one address of the host, e.g. `100.101.102.103` or `fd7a:115c:a1e0::1`",
        )
    })?;
    if address.is_unspecified() || address.is_multicast() {
        return Err(Invalid::new(
            format!("`{value}` is not an address a site can be answered on"),
            "leave `listen` out to answer on every address, or name one address of the host",
        ));
    }
    Ok(address)
}

/// Whether an address is one only a private network reaches: RFC 1918, CGNAT (tailnets),
/// loopback, link-local, IPv6 unique-local.
pub(super) fn is_private(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Checks one network (`100.64.0.0/10`, `fd7a:115c:a1e0::/48`; a bare address is one host);
/// its canonical form.
pub(super) fn network(value: &str) -> Checked<String> {
    let bad = || {
        Invalid::new(
            format!("`{value}` is not a network in CIDR form"),
            "write an address and a prefix length, e.g. `100.64.0.0/10` or `fd7a:115c:a1e0::/48`",
        )
    };
    let (address, prefix) = match value.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (value, None),
    };
    let address: IpAddr = address.parse().map_err(|_| bad())?;
    let bits: u8 = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => bits,
        Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => p
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= bits)
            .ok_or_else(bad)?,
        Some(_) => return Err(bad()),
    };
    let masked = mask(address, prefix);
    if masked != address {
        return Err(Invalid::new(
            format!("`{value}` has host bits set"),
            format!("write the network itself, `{masked}/{prefix}`"),
        ));
    }
    Ok(format!("{address}/{prefix}"))
}

/// Whether a canonical network lets every address in (`0.0.0.0/0`, `::/0`).
pub(super) fn is_everyone(network: &str) -> bool {
    network.ends_with("/0")
}

fn mask(address: IpAddr, prefix: u8) -> IpAddr {
    match address {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let keep = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((bits & keep).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let keep = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((bits & keep).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        for (ok, canonical) in [
            ("100.64.0.0/10", "100.64.0.0/10"),
            ("10.213.0.1/32", "10.213.0.1/32"),
            ("10.213.0.1", "10.213.0.1/32"),
            ("fd7a:115c:a1e0::/48", "fd7a:115c:a1e0::/48"),
            ("FD7A:115C:A1E0:0::/48", "fd7a:115c:a1e0::/48"),
            ("0.0.0.0/0", "0.0.0.0/0"),
        ] {
            assert_eq!(network(ok).ok().as_deref(), Some(canonical), "{ok}");
        }
        for bad in [
            "",
            "100.64.0.1/10",
            "100.64.0.0/33",
            "100.64.0.0/",
            "100.64.0.0/+1",
            "fd7a::/129",
            "tailnet",
            "10.0.0.0/8; allow all",
            "10.0.0.0/8 ",
        ] {
            assert!(network(bad).is_err(), "{bad:?} accepted");
        }
        assert!(is_everyone("::/0") && !is_everyone("10.0.0.0/8"));
    }
}
