//! Who may reach the emulator's cloud side: the `Host` check against DNS rebinding (hosts.rs),
//! the path check against `..` and encoded slashes in ids (paths.rs),
//! CORS for named origins only (origins.rs), the `Origin` check on WebSocket upgrades, and the
//! service key that `/service/*` requires (service_key.rs), and the shared access policies of the
//! hub's and DPS's service REST APIs (policies.rs). Device-facing DPS and hub endpoints keep their
//! own device credentials (sas.rs); this only decides which pages, names and back ends get in.

pub mod hosts;
pub mod origins;
pub mod paths;
pub mod policies;
pub mod service_key;

use hosts::Hosts;
use origins::Origins;
use policies::Policies;
use service_key::ServiceKey;

#[derive(Debug, Clone)]
pub struct Guard {
    pub hosts: Hosts,
    pub origins: Origins,
    pub service_key: ServiceKey,
    /// The hub's policies; `iothubowner`'s primary key is `service_key`.
    pub hub_policies: Policies,
    pub dps_policies: Policies,
}

impl Guard {
    /// Whether a WebSocket upgrade that carries this `Origin` may proceed. Handshakes are not
    /// subject to CORS (protocol.md §4.2), so without this any page could open one.
    pub fn allows_ws_origin(&self, origin: &str) -> bool {
        self.origins.allows(origin) || self.hosts.is_own_origin(origin)
    }
}
