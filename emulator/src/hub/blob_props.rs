//! The size and last-modified time of an uploaded blob, for the file upload notification's
//! `blobSizeInBytes` and `lastUpdatedTime` (docs/file-upload.md §5): one Get Blob Properties
//! (`HEAD`) on the storage endpoint with the upload's own SAS, over plain HTTP or over TLS
//! trusted by the emulator's CA (the HTTPS Azurite serves the emulator's certificate). Any
//! failure is `None`: the notification is recorded either way.

use super::files::Storage;
use crate::blob_sas;
use axum::body::Body;
use hyper::{header, Request};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// A lookup is a courtesy: it must not hold a device's notification up for long.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobProps {
    pub size: u64,
    /// `2016-06-01T21:22:41+00:00`, the notification's format (devguide example).
    pub last_modified: String,
}

/// Client TLS that trusts only the emulator's CA.
pub fn client_tls(ca: &rustls::pki_types::CertificateDer<'static>) -> Option<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).ok()?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions().ok()?.with_root_certificates(roots).with_no_client_auth();
    Some(Arc::new(cfg))
}

pub async fn fetch(st: &Storage, tls: Option<&Arc<rustls::ClientConfig>>, blob: &str, sas: &str) -> Option<BlobProps> {
    tokio::time::timeout(LOOKUP_TIMEOUT, head(st, tls, blob, sas)).await.ok().flatten()
}

async fn head(st: &Storage, tls: Option<&Arc<rustls::ClientConfig>>, blob: &str, sas: &str) -> Option<BlobProps> {
    let tcp = TcpStream::connect((st.connect_host.as_str(), st.port)).await.ok()?;
    let req = Request::head(format!("{}/{}/{}{sas}", st.path, st.container, blob_sas::encode_blob_path(blob)))
        .header(header::HOST, &st.authority)
        .header("x-ms-version", blob_sas::SIGNED_VERSION)
        .body(Body::empty())
        .ok()?;
    let res = if st.scheme == "https" {
        let name = rustls::pki_types::ServerName::try_from(st.connect_host.clone()).ok()?;
        let stream = tokio_rustls::TlsConnector::from(tls?.clone()).connect(name, tcp).await.ok()?;
        send(TokioIo::new(stream), req).await?
    } else {
        send(TokioIo::new(tcp), req).await?
    };
    if !res.status().is_success() {
        return None;
    }
    let h = res.headers();
    let size = h.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()?;
    let last_modified = rfc1123_to_iso(h.get(header::LAST_MODIFIED)?.to_str().ok()?)?;
    Some(BlobProps { size, last_modified })
}

async fn send<T>(io: TokioIo<T>, req: Request<Body>) -> Option<hyper::Response<hyper::body::Incoming>>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.ok()?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender.send_request(req).await.ok()
}

/// `Wed, 01 Jun 2016 21:22:41 GMT` (HTTP date) → `2016-06-01T21:22:41+00:00`.
pub fn rfc1123_to_iso(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let m = MONTHS.iter().position(|x| x == month)? + 1;
    let (d, y): (u32, u32) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<u32> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [hh, mm, ss] = hms.as_slice() else { return None };
    Some(format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}+00:00"))
}

#[cfg(test)]
mod tests {
    use super::rfc1123_to_iso;

    #[test]
    fn http_dates_become_the_notifications_timestamp_format() {
        assert_eq!(rfc1123_to_iso("Wed, 01 Jun 2016 21:22:41 GMT").as_deref(), Some("2016-06-01T21:22:41+00:00"));
        assert_eq!(rfc1123_to_iso("yesterday"), None);
    }
}
