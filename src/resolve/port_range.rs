//! Whether an explicit service `port` can be bound at all, checked per service so that a wrong
//! port is reported together with the service's other mistakes (`assign_ports` then only
//! places ports, and sees only services that resolved).

use super::invalid::Invalid;
use super::ports;

/// Whether an explicit `port` is outside what a site's service may bind.
pub(super) fn port_unusable(value: i64) -> bool {
    u16::try_from(value).map_or(true, |p| p < 1024 || ports::TAKEN_BY_SYSTEM.contains(&p))
}

/// The rejection of an unusable port.
pub(super) fn port_invalid(value: i64) -> Invalid {
    Invalid::new(
        format!("port {value} cannot be used"),
        "use a port from 1024 to 65535 that no system service (PostgreSQL 5432, Redis 6379) uses",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privileged_system_and_out_of_range_ports_are_unusable() {
        assert!(port_unusable(80));
        assert!(port_unusable(5432));
        assert!(port_unusable(70_000));
        assert!(port_unusable(-1));
        assert!(!port_unusable(3101));
    }
}
