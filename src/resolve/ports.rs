//! Port assignment. Every site owns a block of ten ports chosen by its `slot`, so adding or
//! removing a site never moves another site's ports. Inside the block, services without an
//! explicit `port` take the free ports in service-name order.

use crate::model::layout;

/// First port of slot 1's block (the reference host's frontends live at 3100–3109).
pub(super) const BASE: u16 = layout::PORT_BASE;
/// Ports per slot.
pub(super) const BLOCK: u16 = layout::PORTS_PER_SLOT;
/// Highest slot: keeps every block below 13100.
pub(super) const MAX_SLOT: u16 = 1000;
/// Ports a service may never take (databases and caches on the same host).
pub(super) const TAKEN_BY_SYSTEM: &[u16] = &[5432, 6379, 11211];

/// `ssh_port` may not be nginx's (80, 443), a system service's, nor lie in any slot's block:
/// sshd and an app would fight over it, and the firewall would open an app port to the world.
pub(super) fn ssh_port(port: u16) -> super::Checked<u16> {
    let taken_by = if port == 80 || port == 443 {
        Some("nginx".to_owned())
    } else if TAKEN_BY_SYSTEM.contains(&port) {
        Some("a system service".to_owned())
    } else {
        slot_of(port).map(|slot| format!("slot {slot}'s block of app ports"))
    };
    match taken_by {
        None => Ok(port),
        Some(owner) => Err(super::Invalid::new(
            format!("ssh_port {port} is taken by {owner}"),
            format!(
                "use 22, or a port below {BASE} or from {} up that no service uses",
                BASE + MAX_SLOT * BLOCK
            ),
        )),
    }
}

/// The ports of a slot's block.
pub(super) fn block(slot: u16) -> std::ops::Range<u16> {
    layout::slot_ports(slot)
}

/// The slot whose block holds `port`, if any.
pub(super) fn slot_of(port: u16) -> Option<u16> {
    let offset = port.checked_sub(BASE)?;
    let slot = offset / BLOCK + 1;
    (slot <= MAX_SLOT).then_some(slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_disjoint_and_stable() {
        assert_eq!(block(1), 3100..3110);
        assert_eq!(block(2), 3110..3120);
        assert_eq!(block(MAX_SLOT).end, 13100);
        assert_eq!(slot_of(3101), Some(1));
        assert_eq!(slot_of(3119), Some(2));
        assert_eq!(slot_of(4000), Some(91));
        assert_eq!(slot_of(3099), None);
        assert_eq!(slot_of(13100), None);
    }

    #[test]
    fn ssh_port_avoids_nginx_system_and_app_ports() {
        assert_eq!(ssh_port(22).unwrap(), 22);
        assert_eq!(ssh_port(2222).unwrap(), 2222);
        assert_eq!(ssh_port(13100).unwrap(), 13100);
        for taken in [80, 443, 5432, 3100, 3109, 4000, 13099] {
            assert!(ssh_port(taken).is_err(), "{taken}");
        }
    }
}
