//! Port assignment. Every site owns a block of ten ports chosen by its `slot`, so adding or
//! removing a site never moves another site's ports. Inside the block, services without an
//! explicit `port` take the free ports in service-name order.

/// First port of slot 1's block (the reference host's frontends live at 3100–3109).
pub(super) const BASE: u16 = 3100;
/// Ports per slot.
pub(super) const BLOCK: u16 = 10;
/// Highest slot: keeps every block below 13100.
pub(super) const MAX_SLOT: u16 = 1000;
/// Ports a service may never take (databases and caches on the same host).
pub(super) const TAKEN_BY_SYSTEM: &[u16] = &[5432, 6379, 11211];

/// The ports of a slot's block.
pub(super) fn block(slot: u16) -> std::ops::Range<u16> {
    let start = BASE + (slot - 1) * BLOCK;
    start..start + BLOCK
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
}
