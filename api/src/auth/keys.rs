//! The key ring: Ed25519 keys that sign access tokens and symmetric keys that
//! encrypt secrets at rest, each with a key id so keys can rotate.
//!
//! Keys are written as `kid:base64url(32 bytes)` lists, comma-separated, the
//! first one active: the active key signs (or encrypts); every listed key
//! still verifies (or decrypts), so tokens signed before a rotation stay
//! valid until they expire.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use figment::Figment;
use figment::providers::{Format, Toml};
use jsonwebtoken::{DecodingKey, EncodingKey};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::config::{Config, Environment, Secret};

/// One token-signing key.
pub struct SigningKey {
    /// The key id put in each token's header.
    pub kid: String,
    /// The public key, base64url (the JWK `x`).
    pub public_x: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    seed: [u8; 32],
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish()
    }
}

impl SigningKey {
    fn from_seed(kid: &str, seed: [u8; 32]) -> anyhow::Result<Self> {
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let der = key
            .to_pkcs8_der()
            .map_err(|err| anyhow::anyhow!("cannot encode signing key {kid}: {err}"))?;
        let public_x = URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
        Ok(Self {
            kid: kid.to_owned(),
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding: DecodingKey::from_ed_components(&public_x)?,
            public_x,
            seed,
        })
    }

    /// The key that signs.
    pub fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The key that verifies.
    pub fn decoding(&self) -> &DecodingKey {
        &self.decoding
    }
}

/// One key for encrypting secrets at rest.
pub struct EncryptionKey {
    /// The key id stored beside each ciphertext.
    pub kid: String,
    /// The 256-bit key.
    pub key: [u8; 32],
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("kid", &self.kid)
            .finish()
    }
}

/// Every key the server holds.
#[derive(Debug)]
pub struct KeyRing {
    signing: Vec<SigningKey>,
    encryption: Vec<EncryptionKey>,
}

/// The file the embedded default keeps generated keys in.
#[derive(Debug, Serialize, Deserialize)]
struct KeyFile {
    signing_keys: String,
    encryption_keys: String,
}

/// Where the key ring came from.
#[derive(Debug, PartialEq, Eq)]
pub enum KeySource {
    /// From `PLAZA_SIGNING_KEYS` / `PLAZA_ENCRYPTION_KEYS`.
    Configured,
    /// From the data folder, generated on an earlier run.
    DataDir(PathBuf),
    /// Generated just now and written to the data folder.
    Generated(PathBuf),
}

impl KeyRing {
    /// A fresh ring with one new key of each kind.
    pub fn generate() -> anyhow::Result<Self> {
        Self::parse(&new_key_spec(), &new_key_spec())
    }

    /// Reads `kid:base64url` lists for signing and encryption keys.
    pub fn parse(signing: &str, encryption: &str) -> anyhow::Result<Self> {
        let signing = parse_list(signing, "signing")?
            .into_iter()
            .map(|(kid, seed)| SigningKey::from_seed(&kid, seed))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let encryption = parse_list(encryption, "encryption")?
            .into_iter()
            .map(|(kid, key)| EncryptionKey { kid, key })
            .collect();
        Ok(Self {
            signing,
            encryption,
        })
    }

    /// The ring for a configuration: explicit keys if given; otherwise, in
    /// development only, the keys in the data folder, generated if missing.
    pub fn for_config(config: &Config) -> anyhow::Result<(Self, KeySource)> {
        if let (Some(signing), Some(encryption)) = (&config.signing_keys, &config.encryption_keys) {
            return Ok((
                Self::parse(signing.expose(), encryption.expose())?,
                KeySource::Configured,
            ));
        }
        if config.env == Environment::Production {
            anyhow::bail!("production needs PLAZA_SIGNING_KEYS and PLAZA_ENCRYPTION_KEYS");
        }
        let path = config.data_dir.join("keys.toml");
        if path.exists() {
            let file: KeyFile = Figment::from(Toml::file_exact(&path))
                .extract()
                .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))?;
            let signing = config.signing_keys.as_ref().map(Secret::expose);
            let encryption = config.encryption_keys.as_ref().map(Secret::expose);
            let ring = Self::parse(
                signing.unwrap_or(&file.signing_keys),
                encryption.unwrap_or(&file.encryption_keys),
            )?;
            return Ok((ring, KeySource::DataDir(path)));
        }
        let file = KeyFile {
            signing_keys: new_key_spec(),
            encryption_keys: new_key_spec(),
        };
        write_private(&path, &file)?;
        let ring = Self::parse(&file.signing_keys, &file.encryption_keys)?;
        Ok((ring, KeySource::Generated(path)))
    }

    /// The key new tokens are signed with.
    #[expect(clippy::indexing_slicing, reason = "`parse` refuses an empty list")]
    pub fn active_signing(&self) -> &SigningKey {
        &self.signing[0]
    }

    /// A signing key by id; only keys in this ring are ever trusted.
    pub fn signing(&self, kid: &str) -> Option<&SigningKey> {
        self.signing.iter().find(|key| key.kid == kid)
    }

    /// Every signing key, active first (for the JWKS document).
    pub fn signing_keys(&self) -> &[SigningKey] {
        &self.signing
    }

    /// The key new secrets are encrypted with.
    #[expect(clippy::indexing_slicing, reason = "`parse` refuses an empty list")]
    pub fn active_encryption(&self) -> &EncryptionKey {
        &self.encryption[0]
    }

    /// An encryption key by id.
    pub fn encryption(&self, kid: &str) -> Option<&EncryptionKey> {
        self.encryption.iter().find(|key| key.kid == kid)
    }

    /// The encryption keys written back as a `kid:base64url` list, active first.
    pub fn encryption_spec(&self) -> String {
        self.encryption
            .iter()
            .map(|key| format!("{}:{}", key.kid, URL_SAFE_NO_PAD.encode(key.key)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The signing keys written back as a `kid:base64url` list.
    pub fn signing_spec(&self) -> String {
        self.signing
            .iter()
            .map(|key| format!("{}:{}", key.kid, URL_SAFE_NO_PAD.encode(key.seed)))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Puts a new encryption key first in the data folder's key file (the
/// development key store), keeping the old ones so existing secrets still
/// open until `plaza admin rotate-keys` re-seals them.
pub fn prepend_encryption_key(config: &Config) -> anyhow::Result<()> {
    let path = config.data_dir.join("keys.toml");
    let file: KeyFile = Figment::from(Toml::file_exact(&path))
        .extract()
        .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))?;
    let updated = KeyFile {
        signing_keys: file.signing_keys,
        encryption_keys: format!("{},{}", new_key_spec(), file.encryption_keys),
    };
    let tmp = path.with_extension("toml.new");
    let _ = std::fs::remove_file(&tmp);
    write_private(&tmp, &updated)?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

/// A new `kid:base64url(32 random bytes)` entry.
pub fn new_key_spec() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let kid = uuid::Uuid::now_v7().simple().to_string();
    format!("{kid}:{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn parse_list(spec: &str, what: &str) -> anyhow::Result<Vec<(String, [u8; 32])>> {
    let mut keys: Vec<(String, [u8; 32])> = Vec::new();
    for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((kid, material)) = entry.split_once(':') else {
            anyhow::bail!("{what} key entries must look like kid:base64url");
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(material.trim())
            .map_err(|_| anyhow::anyhow!("{what} key {kid} is not base64url"))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("{what} key {kid} must be 32 bytes"))?;
        if kid.is_empty() || keys.iter().any(|(k, _)| k == kid) {
            anyhow::bail!("{what} key ids must be non-empty and unique");
        }
        keys.push((kid.to_owned(), key));
    }
    if keys.is_empty() {
        anyhow::bail!("at least one {what} key is required");
    }
    Ok(keys)
}

fn write_private(path: &Path, file: &KeyFile) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options
        .open(path)
        .map_err(|err| anyhow::anyhow!("cannot create {}: {err}", path.display()))?;
    writeln!(
        out,
        "# Generated by plaza for development. Do not share; set PLAZA_SIGNING_KEYS\n\
         # and PLAZA_ENCRYPTION_KEYS explicitly in production.\n\
         signing_keys = \"{}\"\nencryption_keys = \"{}\"",
        file.signing_keys, file.encryption_keys
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_refuses_bad_ones() {
        let a = new_key_spec();
        let b = new_key_spec();
        let ring = KeyRing::parse(&format!("{a}, {b}"), &a).unwrap();
        assert_eq!(ring.signing_keys().len(), 2);
        assert_eq!(
            Some(ring.active_signing().kid.as_str()),
            a.split(':').next()
        );
        assert!(KeyRing::parse("", &a).is_err());
        assert!(KeyRing::parse("nokid", &a).is_err());
        assert!(KeyRing::parse("k:c2hvcnQ", &a).is_err());
        assert!(KeyRing::parse(&format!("{a},{a}"), &a).is_err());
    }

    #[test]
    fn development_generates_once_and_reuses() {
        let dir = std::env::temp_dir().join(format!("plaza-keys-{}", uuid::Uuid::now_v7()));
        let config = Config {
            data_dir: dir.clone(),
            ..Config::default()
        };
        let (first, source) = KeyRing::for_config(&config).unwrap();
        assert!(matches!(source, KeySource::Generated(_)));
        let (second, source) = KeyRing::for_config(&config).unwrap();
        assert!(matches!(source, KeySource::DataDir(_)));
        assert_eq!(first.signing_spec(), second.signing_spec());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("keys.toml"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
