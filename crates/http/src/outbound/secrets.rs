//! Webhook secrets: made (`whsec_` and 24 random bytes, base64, as Standard Webhooks writes
//! them), sealed for the database with AES-256-GCM under the deployment's key, and used to sign
//! (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`).

use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Seals and opens secrets under one key.
pub struct Sealer {
    key: LessSafeKey,
}

impl Sealer {
    /// From 32 bytes, base64.
    pub fn from_base64(key: &str) -> Result<Sealer, String> {
        let bytes = B64.decode(key.trim()).map_err(|_| "webhooks.secret_key is not base64".to_string())?;
        let key =
            UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| "webhooks.secret_key must be 32 bytes".to_string())?;
        Ok(Sealer { key: LessSafeKey::new(key) })
    }

    /// A new random key, base64.
    pub fn new_key() -> Result<String, String> {
        Ok(B64.encode(random::<32>()?))
    }

    /// `secret` sealed: base64 of a random nonce, then the ciphertext and its tag.
    pub fn seal(&self, secret: &str) -> Result<String, String> {
        let nonce = random::<NONCE_LEN>()?;
        let mut data = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .map_err(|_| "sealing failed".to_string())?;
        let mut out = nonce.to_vec();
        out.extend(data);
        Ok(B64.encode(out))
    }

    /// The secret, if `sealed` was sealed under this key.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = B64.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let mut data = rest.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = self.key.open_in_place(nonce, Aad::empty(), &mut data).ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).map_err(|e| format!("no randomness: {e}"))?;
    Ok(out)
}

/// A new signing secret, `whsec_` and base64.
pub fn new_secret() -> Result<String, String> {
    Ok(format!("whsec_{}", B64.encode(random::<24>()?)))
}

/// The `webhook-signature` entry of `secret` for one delivery: `v1,` and the base64 HMAC-SHA256
/// of `{id}.{timestamp}.{body}` keyed with the secret's bytes. None for a malformed secret.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = B64.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).ok()?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    Some(format!("v1,{}", B64.encode(ctx.sign().as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_under_its_key() {
        let a = Sealer::from_base64(&Sealer::new_key().unwrap()).unwrap();
        let b = Sealer::from_base64(&Sealer::new_key().unwrap()).unwrap();
        let secret = new_secret().unwrap();
        let sealed = a.seal(&secret).unwrap();
        assert!(!sealed.contains(&secret[6..]), "not stored in the clear");
        assert_eq!(a.open(&sealed).as_deref(), Some(secret.as_str()));
        assert_eq!(b.open(&sealed), None);
        assert_ne!(a.seal(&secret).unwrap(), sealed, "a fresh nonce each time");
        assert!(Sealer::from_base64("c2hvcnQ=").is_err(), "a key of the wrong length is refused");
    }

    /// The Standard Webhooks specification's published example.
    #[test]
    fn signs_the_specifications_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
