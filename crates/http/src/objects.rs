//! Evidence files behind `object_store`: a local directory by default, S3-compatible storage
//! when configured. Types are sniffed from the bytes, never taken from the client's header.

use crate::config::EvidenceConfig;
use aftersale_core::values::EvidenceKind;
use object_store::{path::Path as ObjectPath, ObjectStore, PutPayload};
use std::sync::Arc;

pub fn open(config: &EvidenceConfig) -> Result<Arc<dyn ObjectStore>, String> {
    match config.store.as_str() {
        "local" => {
            std::fs::create_dir_all(&config.dir).map_err(|e| format!("creating {}: {e}", config.dir.display()))?;
            let store =
                object_store::local::LocalFileSystem::new_with_prefix(&config.dir).map_err(|e| e.to_string())?;
            Ok(Arc::new(store))
        }
        #[cfg(feature = "s3")]
        "s3" => {
            let s3 = &config.s3;
            let mut b = object_store::aws::AmazonS3Builder::new()
                .with_bucket_name(&s3.bucket)
                .with_region(&s3.region)
                .with_access_key_id(&s3.access_key_id)
                .with_secret_access_key(&s3.secret_access_key)
                .with_allow_http(s3.allow_http);
            if !s3.endpoint.is_empty() {
                b = b.with_endpoint(&s3.endpoint);
            }
            Ok(Arc::new(b.build().map_err(|e| e.to_string())?))
        }
        other => Err(format!("evidence store {other:?} is not available in this build")),
    }
}

/// Every content type an evidence file is served as.
pub const SERVED_TYPES: [&str; 5] = ["image/jpeg", "image/png", "image/webp", "video/mp4", "application/pdf"];

/// What the bytes are, by their magic numbers: (kind, content type).
pub fn sniff(bytes: &[u8]) -> Option<(EvidenceKind, &'static str)> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some((EvidenceKind::Image, "image/jpeg"));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((EvidenceKind::Image, "image/png"));
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some((EvidenceKind::Image, "image/webp"));
    }
    if bytes.starts_with(b"%PDF-") {
        return Some((EvidenceKind::Pdf, "application/pdf"));
    }
    // ISO base media: a box size, then `ftyp` and an MP4-family brand.
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        const BRANDS: [&[u8; 4]; 8] = [b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"mmp4"];
        if BRANDS.iter().any(|b| &b[..] == brand) {
            return Some((EvidenceKind::Video, "video/mp4"));
        }
    }
    None
}

/// Whether a declared content type agrees with the sniffed one.
pub fn declared_matches(declared: &str, sniffed: &str) -> bool {
    let declared = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    declared.is_empty()
        || declared == "application/octet-stream"
        || declared == sniffed
        || (declared == "image/jpg" && sniffed == "image/jpeg")
}

pub async fn put(store: &dyn ObjectStore, key: &str, bytes: bytes::Bytes) -> Result<(), String> {
    store.put(&ObjectPath::from(key), PutPayload::from(bytes)).await.map(|_| ()).map_err(|e| e.to_string())
}

pub async fn get(store: &dyn ObjectStore, key: &str) -> Result<bytes::Bytes, String> {
    let r = store.get(&ObjectPath::from(key)).await.map_err(|e| e.to_string())?;
    r.bytes().await.map_err(|e| e.to_string())
}
