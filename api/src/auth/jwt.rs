//! Access tokens: short-lived EdDSA JWTs (RFC 9068 `at+jwt`).
//!
//! Verification trusts nothing in the token until the signature checks out:
//! the algorithm is pinned to EdDSA, the `kid` is looked up only in the local
//! key ring, and `typ`, `iss`, `aud`, `exp`, `nbf` and `sub` are all required.

use chrono::Utc;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::auth::KeyRing;
use crate::domain::ids::UserId;

/// The `typ` header of access tokens.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECS: u64 = 30;

/// What an access token says.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The account.
    pub sub: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires.
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
}

/// Where issued tokens come from and whom they are for.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// Lifetime in seconds.
    pub ttl_secs: u64,
}

/// Signs a new access token for `user`.
pub fn issue(keys: &KeyRing, settings: &TokenSettings, user: UserId) -> anyhow::Result<String> {
    let now = Utc::now().timestamp();
    let claims = Claims {
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
        sub: user.to_string(),
        iat: now,
        nbf: now,
        exp: now + i64::try_from(settings.ttl_secs)?,
        jti: uuid::Uuid::now_v7().to_string(),
    };
    let key = keys.active_signing();
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
    header.kid = Some(key.kid.clone());
    Ok(jsonwebtoken::encode(&header, &claims, key.encoding())?)
}

/// Why a token was refused. Kept for logs; callers all answer the same 401.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, or its header is unreadable.
    #[error("malformed token")]
    Malformed,
    /// Any algorithm but EdDSA.
    #[error("algorithm not allowed")]
    Algorithm,
    /// `typ` is missing or not `at+jwt`.
    #[error("wrong token type")]
    Type,
    /// The `kid` is missing or not in the key ring.
    #[error("unknown key id")]
    UnknownKey,
    /// Signature, expiry, audience, issuer or subject failed.
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// Verifies an access token and returns the account it was issued to.
pub fn verify(keys: &KeyRing, settings: &TokenSettings, token: &str) -> Result<UserId, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    if header.alg != Algorithm::EdDSA {
        return Err(TokenError::Algorithm);
    }
    if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
        return Err(TokenError::Type);
    }
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| keys.signing(kid))
        .ok_or(TokenError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.leeway = LEEWAY_SECS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.set_issuer(&[&settings.issuer]);
    validation.set_audience(&[&settings.audience]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<Claims>(token, key.decoding(), &validation)
        .map_err(|err| TokenError::Invalid(err.to_string()))?;
    data.claims
        .sub
        .parse()
        .map_err(|_| TokenError::Invalid("sub is not an account id".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> TokenSettings {
        TokenSettings {
            issuer: "plaza".into(),
            audience: "plaza-api".into(),
            ttl_secs: 900,
        }
    }

    #[test]
    fn a_token_verifies_with_its_ring_only() {
        let ring = KeyRing::generate().unwrap();
        let user = UserId::new();
        let token = issue(&ring, &settings(), user).unwrap();
        assert_eq!(verify(&ring, &settings(), &token).unwrap(), user);
        let other = KeyRing::generate().unwrap();
        assert!(matches!(
            verify(&other, &settings(), &token),
            Err(TokenError::UnknownKey)
        ));
    }

    #[test]
    fn audience_and_issuer_must_match() {
        let ring = KeyRing::generate().unwrap();
        let token = issue(&ring, &settings(), UserId::new()).unwrap();
        let wrong_aud = TokenSettings {
            audience: "someone-else".into(),
            ..settings()
        };
        assert!(verify(&ring, &wrong_aud, &token).is_err());
        let wrong_iss = TokenSettings {
            issuer: "evil".into(),
            ..settings()
        };
        assert!(verify(&ring, &wrong_iss, &token).is_err());
    }

    #[test]
    fn old_keys_keep_verifying_after_rotation() {
        let old = crate::auth::keys::new_key_spec();
        let enc = crate::auth::keys::new_key_spec();
        let before = KeyRing::parse(&old, &enc).unwrap();
        let token = issue(&before, &settings(), UserId::new()).unwrap();
        let new = crate::auth::keys::new_key_spec();
        let after = KeyRing::parse(&format!("{new},{old}"), &enc).unwrap();
        assert!(verify(&after, &settings(), &token).is_ok());
        let retired = KeyRing::parse(&new, &enc).unwrap();
        assert!(verify(&retired, &settings(), &token).is_err());
    }
}
