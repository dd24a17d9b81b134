//! For the hostile-client tests: a well-behaved device that keeps sending QoS 1 telemetry the
//! whole time hostile clients do their worst, so a test can show that the emulator kept serving
//! everyone else; and this process's resident memory (the in-process emulator lives in it), so
//! a test can show that what the hostile clients sent was not kept.
#![allow(dead_code)]

use crate::common::{hub_token, hub_user, now, Client, Packet, DEV_KEY};
use iot_emulator::config::DeviceIdentity;
use iot_emulator::Emulator;
use mqtt_protocol_core::mqtt::packet::Qos;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const BYSTANDER: &str = "bystander-001";

/// Gap between two of its messages.
const PACE: Duration = Duration::from_millis(25);
/// A PUBACK slower than this counts as the emulator having stopped serving it.
const PATIENCE: Duration = Duration::from_secs(5);

/// Messages it must get acknowledged after the hostile part, to show it is still served.
const AFTER: usize = 3;

pub struct Bystander {
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<Served>,
}

#[derive(Debug)]
pub struct Served {
    pub sent: usize,
    pub acked: usize,
    pub slowest: Duration,
    /// Why it stopped before it was told to, if it did.
    pub failure: Option<String>,
}

impl Bystander {
    /// Registers the bystander's own device (hostile clients target others) and starts sending.
    pub async fn start(emu: &Emulator) -> Bystander {
        emu.state.hub.upsert_device(
            DeviceIdentity { device_id: BYSTANDER.into(), primary_key: DEV_KEY.into(), secondary_key: None, status: "enabled".into(), modules: vec![] },
            None,
        );
        let pass = hub_token(emu, BYSTANDER, DEV_KEY, now() + 3600);
        let (c, rc) = Client::connect(emu, BYSTANDER, &hub_user(emu, BYSTANDER), &pass, 60).await;
        assert_eq!(rc, 0, "the bystander connects");
        let (stop, acked) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let task = tokio::spawn(run(c, stop.clone(), acked.clone()));
        Bystander { stop, acked, task }
    }

    /// Lets it send a few more messages, stops it and asserts that every message it sent, during
    /// the hostile part and after it, was acknowledged in time and stored, and that at least
    /// `min_sent` were (a test that runs long enough to say it was served "during").
    pub async fn assert_served(self, emu: &Emulator, min_sent: usize) -> Served {
        let target = self.acked.load(Ordering::Relaxed) + AFTER;
        for _ in 0..200 {
            if self.acked.load(Ordering::Relaxed) >= target.max(min_sent) || self.task.is_finished() {
                break;
            }
            tokio::time::sleep(PACE).await;
        }
        self.stop.store(true, Ordering::Relaxed);
        let s = self.task.await.expect("the bystander's task ends");
        assert_eq!(s.failure, None, "the bystander was served throughout: {s:?}");
        assert!(s.sent >= min_sent, "the bystander sent {} messages, fewer than {min_sent}: {s:?}", s.sent);
        assert_eq!(s.acked, s.sent, "{s:?}");
        let stored = emu.state.hub.telemetry.query(Some(BYSTANDER), 0, usize::MAX).len();
        assert_eq!(stored, s.acked, "every acknowledged message is stored");
        s
    }
}

async fn run(mut c: Client, stop: Arc<AtomicBool>, acked: Arc<AtomicUsize>) -> Served {
    let topic = format!("devices/{BYSTANDER}/messages/events/");
    let mut s = Served { sent: 0, acked: 0, slowest: Duration::ZERO, failure: None };
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        c.publish(&topic, format!("b{}", s.sent).as_bytes(), Qos::AtLeastOnce).await;
        s.sent += 1;
        match c.next_or_close(PATIENCE).await {
            Ok(Packet::V3_1_1Puback(_)) => {
                s.acked += 1;
                acked.store(s.acked, Ordering::Relaxed);
            }
            Ok(other) => s.failure = Some(format!("expected a PUBACK, got {other:?}")),
            Err(true) => s.failure = Some("the emulator closed the bystander's connection".into()),
            Err(false) => s.failure = Some(format!("no PUBACK within {PATIENCE:?}")),
        }
        s.slowest = s.slowest.max(t.elapsed());
        if s.failure.is_some() {
            break;
        }
        tokio::time::sleep(PACE).await;
    }
    s
}

/// Held by each test that measures memory, for its whole run: the tests of one binary share a
/// process, and another test's buffers would otherwise count as this one's.
pub async fn measuring() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// This process's resident set (VmRSS), in KiB.
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// Asserts that resident memory grew by less than `bound_mib` since `before_kib`, and prints both
/// (the figure is the point of the test as much as the bound).
pub fn assert_rss_within(what: &str, before_kib: u64, bound_mib: u64) {
    let after = rss_kib();
    eprintln!("{what}: RSS {} MiB before, {} MiB after", before_kib / 1024, after / 1024);
    assert!(after < before_kib + bound_mib * 1024, "{what}: RSS grew from {before_kib} KiB to {after} KiB, over {bound_mib} MiB");
}

/// The number of descriptors this process has open (sockets included).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}
