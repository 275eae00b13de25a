//! Where media bytes live: a store addressed by SHA-256, and the staged
//! files uploads are written to before they join it.
//!
//! Every method blocks (file or network I/O): call them off the async
//! workers, from `web::block` or a database closure.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The SHA-256 of a file's bytes in lower-case hex: its name in the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContentDigest(String);

impl ContentDigest {
    /// Reads a digest as stored; `None` unless it is 64 lower-case hex digits
    /// (so a digest can never name a path outside the store).
    pub fn parse(hex: &str) -> Option<Self> {
        let valid = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| Self(hex.to_owned()))
    }

    /// The digest of everything a hasher has seen.
    fn finish(hasher: Sha256) -> Self {
        let digest = hasher.finalize();
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContentDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A store of media bytes, each file named by its [`ContentDigest`].
///
/// Files are immutable: the same digest always names the same bytes, so a
/// file committed twice is stored once.
pub trait MediaStore: Send + Sync + fmt::Debug {
    /// A new, empty file to write an upload into. It is removed again if it
    /// is dropped before [`MediaStore::commit`].
    fn stage(&self) -> io::Result<StagedFile>;

    /// Makes a sealed upload part of the store under its digest, atomically:
    /// readers see the whole file or none. Bytes the store already holds are
    /// kept and the upload discarded.
    fn commit(&self, file: SealedFile) -> io::Result<()>;

    /// The stored bytes of `digest` and their length.
    fn open(&self, digest: &ContentDigest) -> io::Result<(Box<dyn Read + Send>, u64)>;

    /// Forgets the bytes of `digest`; forgetting absent bytes is no error.
    fn remove(&self, digest: &ContentDigest) -> io::Result<()>;

    /// Up to `len` bytes of `digest` from `offset`; fewer at the end of the
    /// file. Stores that can seek should answer without reading the start.
    fn read_at(&self, digest: &ContentDigest, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let (mut reader, _) = self.open(digest)?;
        io::copy(&mut (&mut reader).take(offset), &mut io::sink())?;
        let mut bytes = Vec::with_capacity(len.min(1 << 20));
        reader.take(len as u64).read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

/// An upload being written: hashed and counted as it goes.
#[derive(Debug)]
pub struct StagedFile {
    path: PathBuf,
    file: Option<File>,
    hasher: Sha256,
    len: u64,
}

impl StagedFile {
    /// Creates a new, uniquely named staged file in `dir`.
    pub fn create_in(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}.part", uuid::Uuid::now_v7().simple()));
        let file = File::options().write(true).create_new(true).open(&path)?;
        Ok(Self {
            path,
            file: Some(file),
            hasher: Sha256::new(),
            len: 0,
        })
    }

    /// Appends bytes.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("staged file already closed"))?;
        file.write_all(bytes)?;
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Flushes the bytes to disk and closes the file; it can no longer change.
    pub fn seal(mut self) -> io::Result<SealedFile> {
        if let Some(file) = self.file.take() {
            file.sync_all()?;
        }
        let hasher = std::mem::take(&mut self.hasher);
        let path = std::mem::take(&mut self.path);
        Ok(SealedFile {
            path: Some(path),
            digest: ContentDigest::finish(hasher),
            len: self.len,
        })
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        drop(self.file.take());
        if !self.path.as_os_str().is_empty() {
            // Best effort: a leftover `.part` file is only wasted space.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// A complete upload on disk with its digest, waiting to be committed.
/// Removed when dropped uncommitted.
#[derive(Debug)]
pub struct SealedFile {
    path: Option<PathBuf>,
    digest: ContentDigest,
    len: u64,
}

impl SealedFile {
    /// The SHA-256 of its bytes.
    pub fn digest(&self) -> &ContentDigest {
        &self.digest
    }

    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where it is, to read it (image dimensions) before it is committed.
    pub fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or_else(|| Path::new(""))
    }

    /// Takes the file over: the caller moves or removes it.
    pub fn into_path(mut self) -> PathBuf {
        self.path.take().unwrap_or_default()
    }
}

impl Drop for SealedFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // Best effort: a leftover `.part` file is only wasted space.
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        std::env::temp_dir().join(format!("plaza-staged-{}", uuid::Uuid::now_v7().simple()))
    }

    #[test]
    fn digests_are_strict_lower_case_hex() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert!(ContentDigest::parse(hex).is_some());
        assert!(ContentDigest::parse(&hex.to_uppercase()).is_none());
        assert!(ContentDigest::parse(&hex[1..]).is_none());
        assert!(ContentDigest::parse("../../../../etc/passwd").is_none());
    }

    #[test]
    fn staged_files_hash_what_they_hold_and_vanish_unless_kept() -> io::Result<()> {
        let dir = temp_dir();
        let mut staged = StagedFile::create_in(&dir)?;
        staged.write(b"hello ")?;
        staged.write(b"world")?;
        assert_eq!(staged.len(), 11);
        let sealed = staged.seal()?;
        assert_eq!(
            sealed.digest().as_str(),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(fs::read(sealed.path())?, b"hello world");
        let path = sealed.path().to_owned();
        drop(sealed);
        assert!(!path.exists(), "dropped uncommitted, removed");

        let abandoned = StagedFile::create_in(&dir)?;
        let path = abandoned.path.clone();
        drop(abandoned);
        assert!(!path.exists());
        fs::remove_dir_all(dir)
    }
}
