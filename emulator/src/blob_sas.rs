//! Azure Storage service SAS for one blob, the token IoT Hub hands a device for a file upload
//! (docs/file-upload.md §1): `?sv=2018-03-28&sr=b&sig=…&se=…&sp=rw`, signed with the storage
//! account key so that the storage service (Azurite locally) honours it. Pure: the expiry comes in.

use crate::clock;
use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;

/// The signed version IoT Hub's tokens carry (devguide example), which Azurite 3.37 still verifies
/// with the 2015-04-05 string-to-sign (storage-sas).
pub const SIGNED_VERSION: &str = "2018-03-28";
/// Read and write on that one blob: what the docs show IoT Hub granting. Put Blob needs `w` (or
/// `c`), Put Block and Put Block List `w`, Get Blob Properties (the emulator's size lookup) `r`.
pub const PERMISSIONS: &str = "rw";

/// Query values are encoded like `encodeURIComponent` (what the storage SDKs do): `=` `+` `/`
/// `:` become `%3D` `%2B` `%2F` `%3A`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'!').remove(b'~').remove(b'*').remove(b'\'').remove(b'(').remove(b')');

/// `2021-07-30T06:11:10Z`: the storage services' SAS time format, seconds precision.
pub fn sas_time(unix_secs: u64) -> String {
    let iso = clock::iso_utc(unix_secs * 1000);
    format!("{}Z", &iso[..19])
}

/// The 13-line string-to-sign of signed versions 2015-04-05 up to 2018-11-09 (no start, policy
/// identifier, IP range, protocol or response-header overrides):
/// `sp \n st \n se \n /blob/{account}/{container}/{blob} \n si \n sip \n spr \n sv \n rscc \n rscd \n rsce \n rscl \n rsct`.
/// The blob name is the decoded one, slashes kept, as the service canonicalizes it.
pub fn string_to_sign(account: &str, container: &str, blob: &str, expiry: &str) -> String {
    [PERMISSIONS, "", expiry, &format!("/blob/{account}/{container}/{blob}"), "", "", "", SIGNED_VERSION, "", "", "", "", ""].join("\n")
}

/// `base64(HMAC-SHA256(key, string-to-sign))`; `key` is the decoded account key.
pub fn signature(key: &[u8], string_to_sign: &str) -> String {
    // HMAC takes a key of any length; the error arm cannot happen.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return String::new() };
    mac.update(string_to_sign.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The `sasToken` of the file upload answer, leading `?` included, fields in the docs' order.
pub fn blob_sas_token(account: &str, key: &[u8], container: &str, blob: &str, expiry_unix: u64) -> String {
    let se = sas_time(expiry_unix);
    let sig = signature(key, &string_to_sign(account, container, blob, &se));
    let enc = |v: &str| utf8_percent_encode(v, QUERY_VALUE).to_string();
    format!("?sv={SIGNED_VERSION}&sr=b&sig={}&se={}&sp={PERMISSIONS}", enc(&sig), enc(&se))
}

/// A blob name as one URL path: each `/`-separated segment percent-encoded, slashes kept.
pub fn encode_blob_path(blob: &str) -> String {
    blob.split('/').map(|seg| utf8_percent_encode(seg, QUERY_VALUE).to_string()).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Azurite's (and Azure's) public development account key for `devstoreaccount1`.
    const DEVSTORE_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    #[test]
    fn the_token_matches_the_storage_sdk_for_the_same_blob_and_expiry() {
        // From @azure/storage-blob 12.8.0: generateBlobSASQueryParameters({containerName:
        // 'fileuploads', blobName: 'emu-device-001/hello world.txt', permissions: 'rw',
        // expiresOn: 2021-07-30T06:11:10Z, version: '2018-03-28'}, devstoreaccount1 key).
        let key = STANDARD.decode(DEVSTORE_KEY).unwrap();
        let t = blob_sas_token("devstoreaccount1", &key, "fileuploads", "emu-device-001/hello world.txt", 1_627_625_470);
        assert_eq!(t, "?sv=2018-03-28&sr=b&sig=nTatPvRVq1INLAN5X9Gl93AdfBY1KzREJkodU9IKink%3D&se=2021-07-30T06%3A11%3A10Z&sp=rw");
    }

    #[test]
    fn the_string_to_sign_has_thirteen_lines_with_the_canonical_blob_resource_fourth() {
        let s = string_to_sign("acct", "c", "dev/a b.txt", "2021-07-30T06:11:10Z");
        let lines: Vec<&str> = s.split('\n').collect();
        assert_eq!(lines.len(), 13);
        assert_eq!(lines[..4], ["rw", "", "2021-07-30T06:11:10Z", "/blob/acct/c/dev/a b.txt"]);
        assert_eq!(lines[7], "2018-03-28");
    }

    #[test]
    fn blob_paths_keep_their_slashes_and_encode_the_rest() {
        assert_eq!(encode_blob_path("dev-1/my file#1.txt"), "dev-1/my%20file%231.txt");
    }
}
