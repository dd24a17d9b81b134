//! When a DPS SAS token can be reused, sans-I/O. Tokens are asked for with a lifetime of
//! `TOKEN_TTL_SECS` and reused until `TOKEN_RENEW_MARGIN_SECS` before they expire. A token is
//! kept by its own `se`, not by the expiry asked for: a provider may hand out shorter-lived
//! tokens, and sending one past its `se` is a terminal 401 (protocol §2.5). One without a
//! readable `se` is not reused.

use crate::auth::sas_expiry;

/// The lifetime asked of a new token.
pub const TOKEN_TTL_SECS: u64 = 3600;
/// How long before its `se` a token is replaced.
pub const TOKEN_RENEW_MARGIN_SECS: u64 = 60;

#[derive(Debug, Default)]
pub struct TokenCache {
    cached: Option<(String, u64)>,
}

impl TokenCache {
    pub fn new() -> TokenCache {
        TokenCache::default()
    }

    /// The cached token, if it is still good at `now_secs`.
    pub fn get(&self, now_secs: u64) -> Option<&str> {
        match &self.cached {
            Some((t, se)) if now_secs.saturating_add(TOKEN_RENEW_MARGIN_SECS) < *se => Some(t),
            _ => None,
        }
    }

    /// The `expiresAt` to ask for (or sign with) when a new token is needed at `now_secs`.
    pub fn expiry_for(now_secs: u64) -> u64 {
        now_secs.saturating_add(TOKEN_TTL_SECS)
    }

    /// Keeps a new token, by the `se` it carries.
    pub fn store(&mut self, token: &str) {
        self.cached = sas_expiry(token).map(|se| (token.to_string(), se));
    }
}
