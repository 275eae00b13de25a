//! Secrets at rest (platform credentials, PKCE verifiers): sealed with
//! XChaCha20-Poly1305 under the ring's encryption key and bound to the row
//! they belong to, so a ciphertext copied to another row does not open.
//!
//! Format: `v1.<kid>.<base64url(nonce ‖ ciphertext)>`. The key id names the
//! key; `plaza admin rotate-keys` re-seals everything under the active key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use super::KeyRing;

/// Why a sealed secret did not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// Not something `seal` produced.
    #[error("not a sealed secret")]
    Malformed,
    /// Sealed under a key this server no longer holds.
    #[error("sealed under unknown key {0}")]
    UnknownKey(String),
    /// Tampered with, or sealed for another row.
    #[error("the secret does not open for this row")]
    Forged,
}

/// What a secret is bound to: its kind and its row.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// `channel-credentials`, `oauth-verifier`...
    pub kind: &'static str,
    /// The row's id.
    pub row: &'a str,
}

impl Binding<'_> {
    fn aad(&self) -> Vec<u8> {
        format!("plaza:{}:{}", self.kind, self.row).into_bytes()
    }
}

/// Seals `plaintext` under the active key, bound to `binding`.
pub fn seal(ring: &KeyRing, binding: Binding<'_>, plaintext: &[u8]) -> String {
    let key = ring.active_encryption();
    let cipher = XChaCha20Poly1305::new(&key.key.into());
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let aad = binding.aad();
    // Encryption with a valid key and nonce cannot fail for inputs this size.
    let ciphertext = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .unwrap_or_default();
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&ciphertext);
    format!("v1.{}.{}", key.kid, URL_SAFE_NO_PAD.encode(blob))
}

/// The key id a sealed secret names, if it is well formed.
pub fn key_id(sealed: &str) -> Option<&str> {
    let mut parts = sealed.splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(kid), Some(_)) => Some(kid),
        _ => None,
    }
}

/// Opens a sealed secret bound to `binding`.
pub fn open(ring: &KeyRing, binding: Binding<'_>, sealed: &str) -> Result<Vec<u8>, SealError> {
    let mut parts = sealed.splitn(3, '.');
    let (Some("v1"), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SealError::Malformed);
    };
    let key = ring
        .encryption(kid)
        .ok_or_else(|| SealError::UnknownKey(kid.to_owned()))?;
    let blob = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| SealError::Malformed)?;
    if blob.len() < 24 + 16 {
        return Err(SealError::Malformed);
    }
    let (nonce, ciphertext) = blob.split_at(24);
    let nonce: [u8; 24] = nonce.try_into().map_err(|_| SealError::Malformed)?;
    let cipher = XChaCha20Poly1305::new(&key.key.into());
    let aad = binding.aad();
    cipher
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| SealError::Forged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::new_key_spec;

    fn ring() -> KeyRing {
        KeyRing::parse(&new_key_spec(), &new_key_spec()).unwrap()
    }

    const ROW: Binding<'static> = Binding {
        kind: "channel-credentials",
        row: "row-1",
    };

    #[test]
    fn a_sealed_secret_opens_for_its_own_row_only() {
        let ring = ring();
        let sealed = seal(&ring, ROW, b"{\"access_token\":\"s3cret\"}");
        assert!(!sealed.contains("s3cret"));
        assert_eq!(
            open(&ring, ROW, &sealed).unwrap(),
            b"{\"access_token\":\"s3cret\"}"
        );
        let other_row = Binding {
            row: "row-2",
            ..ROW
        };
        assert_eq!(open(&ring, other_row, &sealed), Err(SealError::Forged));
        let other_kind = Binding {
            kind: "oauth-verifier",
            ..ROW
        };
        assert_eq!(open(&ring, other_kind, &sealed), Err(SealError::Forged));
    }

    #[test]
    fn tampering_and_unknown_keys_are_refused() {
        let ring = ring();
        let sealed = seal(&ring, ROW, b"x");
        let mut tampered = sealed.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(open(&ring, ROW, &tampered).is_err());
        assert_eq!(open(&ring, ROW, "nonsense"), Err(SealError::Malformed));
        let elsewhere = seal(&self::ring(), ROW, b"x");
        assert!(matches!(
            open(&ring, ROW, &elsewhere),
            Err(SealError::UnknownKey(_))
        ));
        assert_eq!(key_id(&sealed), Some(ring.active_encryption().kid.as_str()));
    }

    #[test]
    fn the_same_secret_seals_differently_each_time() {
        let ring = ring();
        assert_ne!(seal(&ring, ROW, b"x"), seal(&ring, ROW, b"x"));
    }
}
