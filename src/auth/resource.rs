//! Resource URIs that SAS tokens are scoped to (protocol §2.2, §5.8).

/// `{idScope}/registrations/{registrationId}`
pub fn dps_resource_uri(id_scope: &str, registration_id: &str) -> String {
    format!("{id_scope}/registrations/{registration_id}")
}

/// `{host}/devices/{deviceId}` or `{host}/devices/{deviceId}/modules/{moduleId}`
pub fn hub_resource_uri(host: &str, device_id: &str, module_id: Option<&str>) -> String {
    match module_id {
        Some(m) if !m.is_empty() => format!("{host}/devices/{device_id}/modules/{m}"),
        _ => format!("{host}/devices/{device_id}"),
    }
}
