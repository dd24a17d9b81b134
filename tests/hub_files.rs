//! IoT Hub file upload in the core (docs/file-upload.md): the hub requests, the blob URL, the
//! block plan and the errors of hub and storage, as readable test vectors.

use azure_iot_wasm::hub::*;

fn device() -> Identity {
    Identity::new("hub.local", "dev 1", None).unwrap()
}

fn sas() -> UploadSas {
    UploadSas {
        correlation_id: "MjAy".into(),
        host_name: "127.0.0.1:10000/devstoreaccount1".into(),
        container_name: "fileuploads".into(),
        blob_name: "dev 1/logs/day 1.txt".into(),
        sas_token: "?sv=2018-03-28&sr=b&sig=abc%3D&se=2026-12-01T01%3A00%3A00Z&sp=rw".into(),
    }
}

#[test]
fn the_sas_request_posts_the_blob_name_to_the_encoded_device_path() {
    let r = sas_request(&device(), "logs/day 1.txt").unwrap();
    assert_eq!(r.path, "/devices/dev%201/files?api-version=2021-04-12");
    assert_eq!(r.body, r#"{"blobName":"logs/day 1.txt"}"#);
    for bad in ["", "a\nb", &"x".repeat(1025)] {
        assert!(matches!(sas_request(&device(), bad), Err(HubError::InvalidArgument(_))), "{bad:?}");
    }
    let module = Identity::new("hub.local", "dev", Some("m")).unwrap();
    assert!(matches!(sas_request(&module, "a"), Err(HubError::InvalidArgument(_))), "modules cannot upload");
}

#[test]
fn the_notification_carries_the_correlation_id_and_the_outcome() {
    let ok = notification_request(&device(), "MjAy", true, 201, "uploaded").unwrap();
    assert_eq!(ok.path, "/devices/dev%201/files/notifications?api-version=2021-04-12");
    assert_eq!(ok.body, r#"{"correlationId":"MjAy","isSuccess":true,"statusCode":201,"statusDescription":"uploaded"}"#);
    let failed = notification_request(&device(), "MjAy", false, -1, "aborted").unwrap();
    assert!(failed.body.contains(r#""isSuccess":false,"statusCode":-1"#));
}

#[test]
fn the_blob_url_encodes_each_segment_and_follows_the_hubs_scheme() {
    assert_eq!(
        blob_url(&sas(), true),
        "https://127.0.0.1:10000/devstoreaccount1/fileuploads/dev%201/logs/day%201.txt?sv=2018-03-28&sr=b&sig=abc%3D&se=2026-12-01T01%3A00%3A00Z&sp=rw"
    );
    assert!(blob_url(&sas(), false).starts_with("http://127.0.0.1:10000/"));
}

#[test]
fn the_sas_answer_is_read_and_any_other_status_is_the_hubs_error() {
    let body = br#"{"correlationId":"MjAy","hostName":"h","containerName":"c","blobName":"d/b","sasToken":"?sv=1"}"#;
    assert_eq!(parse_sas_response(200, None, body).unwrap().blob_name, "d/b");
    assert!(parse_sas_response(200, None, br#"{"correlationId":"x"}"#).is_err());
    let refused = br#"{"Message":"ErrorCode:DefaultStorageEndpointNotConfigured;Default storage endpoint is not configured.","ExceptionMessage":"Tracking ID:0123abcd-G:0-TimeStamp:12/01/2026 00:00:00"}"#;
    let e = parse_sas_response(400, None, refused).unwrap_err();
    assert_eq!(e.code(), "FILE_UPLOAD_FAILED");
    assert_eq!((e.status(), e.error_name(), e.tracking_id()), (Some(400), Some("DefaultStorageEndpointNotConfigured"), Some("0123abcd")));
    let by_header = parse_sas_response(401, Some("IotHubUnauthorizedAccess"), b"").unwrap_err();
    assert_eq!(by_header.error_name(), Some("IotHubUnauthorizedAccess"));
}

#[test]
fn block_ids_have_one_length_and_the_list_names_them_in_order() {
    assert_eq!(block_id(0).len(), block_id(49_999).len());
    assert_eq!(block_id(0), "YmxvY2stMDAwMDAw"); // base64("block-000000")
    assert_eq!(block_query(1), "&comp=block&blockid=YmxvY2stMDAwMDAx");
    assert_eq!(
        block_list_xml(2),
        r#"<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>YmxvY2stMDAwMDAw</Latest><Latest>YmxvY2stMDAwMDAx</Latest></BlockList>"#
    );
    assert!(single_put(Some(4), 4) && !single_put(Some(5), 4) && !single_put(None, 4));
}

#[test]
fn storage_errors_keep_their_status_and_code() {
    let e = storage_error(403, Some("AuthorizationFailure"));
    assert_eq!((e.code(), e.status(), e.error_name()), ("STORAGE_FAILED", Some(403), Some("AuthorizationFailure")));
    assert_eq!(storage_error(500, Some("")).error_name(), None);
}

#[test]
fn the_rest_base_follows_the_websocket_urls_host_and_scheme() {
    assert_eq!(rest_base("wss://hub.azure-devices.net/$iothub/websocket?iothub-no-client-cert=true").as_deref(), Some("https://hub.azure-devices.net"));
    assert_eq!(rest_base("ws://127.0.0.1:8080/$iothub/websocket").as_deref(), Some("http://127.0.0.1:8080"));
    assert_eq!(rest_base("http://x"), None);
    assert_eq!(rest_base("ws:///path"), None);
}
