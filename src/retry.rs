//! Backoff with jitter, as pure functions: the caller passes the jitter in.
