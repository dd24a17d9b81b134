//! The durable-send policy (opt-in `store` of `IotHubClient.connect`): which record a send
//! becomes, how many the store may hold, the order stored records are sent in after a restart,
//! and which stored records belong to this client. The store itself (IndexedDB, a Worker's
//! storage) is the application's; the facade calls it.
//!
//! Design: every send is written to the store before it is published and deleted on its PUBACK,
//! so a message survives a page reload between the two (at-least-once: one that reached the hub
//! before the reload without its PUBACK is sent again). A record is the publish itself — the
//! topic, with the property bag and `$.mid`, and the body — so that a re-send is byte-identical
//! and needs no options to be rebuilt. `seq` orders records across restarts: each new record gets
//! one more than any record seen, restored ones included.
//! The ledger counts what this client has in the store (written or restored, not yet deleted),
//! and admits a new record only within both bounds: past them `QUEUE_FULL`, never a drop.

use super::{HubError, Identity, Message};

/// Default bounds of the store: records and bytes (topic + body).
pub const DEFAULT_MAX_STORED: usize = 1000;
pub const DEFAULT_MAX_STORED_BYTES: usize = 8 * 1024 * 1024;

/// How long one call of the store (`put`, `delete`, `list`) may take by default before it counts
/// as failed: a store that never answers must not hold every later send behind it.
pub const STORE_CALL_TIMEOUT_MS: u64 = 30_000;

/// A send as kept in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// The message id (`$.mid`): the store's key.
    pub id: String,
    pub seq: u64,
    pub topic: String,
    pub body: Vec<u8>,
}

impl StoredRecord {
    pub fn size(&self) -> usize {
        self.topic.len() + self.body.len()
    }
}

#[derive(Debug)]
pub struct StoreLedger {
    count: usize,
    bytes: usize,
    max_count: usize,
    max_bytes: usize,
    next_seq: u64,
}

impl StoreLedger {
    pub fn new(max_count: usize, max_bytes: usize) -> StoreLedger {
        StoreLedger { count: 0, bytes: 0, max_count, max_bytes, next_seq: 1 }
    }

    /// Room for a new record of `size` bytes: its `seq`, or `QueueFull` past either bound.
    pub fn admit(&mut self, size: usize) -> Result<u64, HubError> {
        if self.count >= self.max_count || self.bytes.saturating_add(size) > self.max_bytes {
            return Err(HubError::StoreFull { capacity: self.max_count, bytes: self.max_bytes });
        }
        self.count += 1;
        self.bytes += size;
        let seq = self.next_seq;
        self.next_seq += 1;
        Ok(seq)
    }

    /// A record found in the store at start: counted (even past the bounds: it is already
    /// there), and later records are numbered after it.
    pub fn restore(&mut self, record: &StoredRecord) {
        self.count += 1;
        self.bytes += record.size();
        self.next_seq = self.next_seq.max(record.seq.saturating_add(1));
    }

    /// A record left the store (deleted after its PUBACK, or its write failed).
    pub fn release(&mut self, size: usize) {
        self.count = self.count.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(size);
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// The message id a stored send carries: the caller's `messageId`, else one made from `seed`
/// (random per client, drawn by the driver) and the record's `seq`, and set as `$.mid` so the
/// hub and the cloud side can tell a re-send from a new message.
pub fn stored_message_id(msg: &mut Message, seed: u64, seq: u64) -> String {
    if let Some((_, id)) = msg.system.iter().find(|(k, _)| k == "$.mid") {
        return id.clone();
    }
    let id = format!("{seed:016x}-{seq}");
    msg.system.push(("$.mid".into(), id.clone()));
    id
}

/// Restored records in the order they were sent: by `seq` (stable, so ties keep the store's order).
pub fn restore_order(records: &mut [StoredRecord]) {
    super::sort_small_by_key(records, |r| r.seq);
}

/// Whether `topic` is this identity's telemetry: a store shared with another device, or one
/// written by something else, must not make this client publish on a topic the hub would
/// close the connection for (protocol §5.3).
pub fn is_own_telemetry(id: &Identity, topic: &str) -> bool {
    topic
        .strip_prefix(id.topic_prefix().as_str())
        .is_some_and(|rest| rest.starts_with("/messages/events/"))
}
