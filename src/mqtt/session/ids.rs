//! Packet-id allocation (MQTT 3.1.1 §2.3.1): ids 1..=65535, never one still in use.

/// Design: one bit per id (8 KiB) so that "is this id in use" is O(1) however many
/// publishes are queued; `next` walks forward and wraps from 65535 to 1, so a freed id is
/// not handed out again until the others have had their turn.
#[derive(Debug)]
pub(crate) struct PacketIds {
    used: Vec<u64>,
    next: u16,
    in_use: usize,
}

impl PacketIds {
    pub(crate) fn new() -> PacketIds {
        PacketIds { used: vec![0; 1024], next: 1, in_use: 0 }
    }

    fn slot(&mut self, id: u16) -> Option<(&mut u64, u64)> {
        let word = self.used.get_mut(usize::from(id >> 6))?;
        Some((word, 1u64 << (id & 63)))
    }

    /// A free id, now marked in use; `None` when all 65,535 are taken.
    pub(crate) fn alloc(&mut self) -> Option<u16> {
        if self.in_use >= 65_535 {
            return None;
        }
        loop {
            let id = self.next;
            self.next = if id == u16::MAX { 1 } else { id + 1 };
            if let Some((word, bit)) = self.slot(id) {
                if *word & bit == 0 {
                    *word |= bit;
                    self.in_use += 1;
                    return Some(id);
                }
            }
        }
    }

    /// Returns an id to the pool; freeing a free id does nothing.
    pub(crate) fn free(&mut self, id: u16) {
        if let Some((word, bit)) = self.slot(id) {
            if *word & bit != 0 {
                *word &= !bit;
                self.in_use -= 1;
            }
        }
    }

    /// Moves the allocation cursor (tests use it to reach the wrap quickly).
    pub(crate) fn set_next(&mut self, id: u16) {
        self.next = id.max(1);
    }
}
