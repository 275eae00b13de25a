//! Signing deliveries per the Standard Webhooks specification
//! (<https://www.standardwebhooks.com>): each request carries `webhook-id`
//! (the event's id, the same on every retry and replay), `webhook-timestamp`
//! (Unix seconds) and `webhook-signature`: `v1,<base64 HMAC-SHA256 of
//! "<id>.<timestamp>.<body>">` under the endpoint's `whsec_…` secret. While a
//! rotated-out secret is still valid, both signatures are sent, separated by
//! a space, so a receiver can switch secrets without dropping a delivery.

//!
//! Secrets are write-only: the client makes one (`whsec_` and 24 to 64
//! random bytes in base64, e.g. `echo whsec_$(openssl rand -base64 32)`)
//! and gives it to Plaza, which keeps it sealed and never shows it again.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use standardwebhooks::Webhook;

/// The prefix of every signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Fewest key bytes a secret may have.
pub const MIN_KEY_BYTES: usize = 24;
/// Most key bytes a secret may have.
pub const MAX_KEY_BYTES: usize = 64;

/// Checks a signing secret given by a client.
pub fn check_secret(secret: &str) -> Result<(), String> {
    let Some(key) = secret.strip_prefix(SECRET_PREFIX) else {
        return Err(format!("must start with {SECRET_PREFIX}"));
    };
    match STANDARD.decode(key) {
        Ok(bytes) if (MIN_KEY_BYTES..=MAX_KEY_BYTES).contains(&bytes.len()) => Ok(()),
        Ok(bytes) => Err(format!(
            "must hold {MIN_KEY_BYTES} to {MAX_KEY_BYTES} random bytes after {SECRET_PREFIX} (this one holds {})",
            bytes.len()
        )),
        Err(_) => Err(format!("must be {SECRET_PREFIX} followed by base64")),
    }
}

/// The `webhook-signature` value for a body under every secret given
/// (current first).
pub fn signature(
    secrets: &[String],
    msg_id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, String> {
    let mut signatures = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let signer = Webhook::new(secret).map_err(|e| format!("unusable signing secret: {e}"))?;
        let signed = signer
            .sign(msg_id, timestamp, body.as_bytes())
            .map_err(|e| format!("cannot sign: {e}"))?;
        signatures.push(signed);
    }
    Ok(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's reference vector.
    #[test]
    fn the_reference_vector_verifies() {
        let signed = signature(
            &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned()],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signed.as_deref(),
            Ok("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn secrets_are_whsec_and_enough_random_bytes() {
        let good = format!("{SECRET_PREFIX}{}", STANDARD.encode([7u8; 32]));
        assert_eq!(check_secret(&good), Ok(()));
        assert!(check_secret("whsec_").is_err());
        assert!(check_secret("whsec_c2hvcnQ=").is_err());
        assert!(check_secret("whsec_not base64!").is_err());
        assert!(check_secret(&STANDARD.encode([7u8; 32])).is_err());
        let old = format!("{SECRET_PREFIX}{}", STANDARD.encode([9u8; 24]));
        let both = signature(&[good, old], "evt_1", 1, "{}").expect("signs");
        assert_eq!(both.split(' ').count(), 2);
        assert!(both.split(' ').all(|s| s.starts_with("v1,")));
    }
}
