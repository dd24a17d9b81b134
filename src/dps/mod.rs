//! Device Provisioning Service core, sans-I/O: requests, responses and the next-step policy.
