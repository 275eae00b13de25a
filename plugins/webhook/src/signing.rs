//! Standard Webhooks signatures (<https://www.standardwebhooks.com>), the
//! scheme Plaza's own outgoing webhooks use: `webhook-signature` is
//! `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`
//! keyed with the base64 bytes after `whsec_`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use plaza_sdk::PluginError;
use sha2::Sha256;

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// The credential holding the signing secret.
pub const SECRET: &str = "secret";

/// A signing key, decoded from a `whsec_…` secret.
#[derive(Debug, Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl Signer {
    /// Decodes a secret; anything but `whsec_` and base64 is `Invalid`.
    pub fn new(secret: &str) -> Result<Self, PluginError> {
        let encoded = secret.trim().strip_prefix(SECRET_PREFIX).ok_or_else(|| {
            PluginError::invalid(format!("the secret must start with {SECRET_PREFIX}"))
        })?;
        let key = STANDARD.decode(encoded).map_err(|_| {
            PluginError::invalid(format!(
                "the secret must be {SECRET_PREFIX} followed by base64"
            ))
        })?;
        if key.is_empty() {
            return Err(PluginError::invalid("the secret holds no key"));
        }
        Ok(Self { key })
    }

    /// The `webhook-signature` value for one message.
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> Result<String, PluginError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key)
            .map_err(|err| PluginError::invalid(format!("unusable secret: {err}")))?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        Ok(format!(
            "v1,{}",
            STANDARD.encode(mac.finalize().into_bytes())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: u64 = 1_614_265_330;
    const BODY: &str = r#"{"test": 2432232314}"#;

    /// The specification's reference vector.
    #[test]
    fn the_reference_vector_signs_as_the_specification_says() {
        let signature = Signer::new(SECRET)
            .unwrap()
            .sign(ID, TIMESTAMP, BODY.as_bytes())
            .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    /// The reference implementation accepts what the plugin signs (it
    /// checks the timestamp against its clock, so this signs "now").
    #[test]
    fn the_standardwebhooks_crate_verifies_the_signature() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let signature = Signer::new(SECRET)
            .unwrap()
            .sign(ID, now, BODY.as_bytes())
            .unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("webhook-id", ID.parse().unwrap());
        headers.insert("webhook-timestamp", now.to_string().parse().unwrap());
        headers.insert("webhook-signature", signature.parse().unwrap());
        let verifier = standardwebhooks::Webhook::new(SECRET).unwrap();
        verifier.verify(BODY.as_bytes(), &headers).unwrap();
        let mut tampered = headers.clone();
        tampered.insert("webhook-id", "msg_other".parse().unwrap());
        assert!(verifier.verify(BODY.as_bytes(), &tampered).is_err());
    }

    #[test]
    fn secrets_must_be_whsec_and_base64() {
        for bad in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_!!"] {
            assert!(
                matches!(Signer::new(bad), Err(PluginError::Invalid(_))),
                "{bad}"
            );
        }
    }
}
