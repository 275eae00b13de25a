//! The media store on the local file system, under `<data_dir>/media/`:
//! `objects/ab/abcdef…` holds the bytes whose SHA-256 is `abcdef…`;
//! `staging/` holds uploads still being written, on the same file system so
//! that committing one is a rename.

use std::fs::{self, File};
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

use super::store::{ContentDigest, MediaStore, SealedFile, StagedFile};

/// Media bytes in a folder.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// A store rooted at `root`; folders are made when first needed.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Where the bytes of `digest` are (or would be).
    pub fn object_path(&self, digest: &ContentDigest) -> PathBuf {
        let hex = digest.as_str();
        let fan_out = hex.get(..2).unwrap_or("00");
        self.root.join("objects").join(fan_out).join(hex)
    }

    fn staging_dir(&self) -> PathBuf {
        self.root.join("staging")
    }
}

/// Makes a rename inside `dir` survive a crash (best effort: not every file
/// system lets a folder be synced, and the data itself is already synced).
fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

impl MediaStore for LocalStore {
    fn stage(&self) -> io::Result<StagedFile> {
        StagedFile::create_in(&self.staging_dir())
    }

    fn commit(&self, file: SealedFile) -> io::Result<()> {
        let target = self.object_path(file.digest());
        if target.exists() {
            // The same digest names the same bytes: keep the stored copy.
            return Ok(());
        }
        let dir = target
            .parent()
            .ok_or_else(|| io::Error::other("object path has no folder"))?;
        fs::create_dir_all(dir)?;
        let staged = file.into_path();
        if let Err(err) = fs::rename(&staged, &target) {
            let _ = fs::remove_file(&staged);
            return Err(err);
        }
        sync_dir(dir);
        Ok(())
    }

    fn open(&self, digest: &ContentDigest) -> io::Result<(Box<dyn Read + Send>, u64)> {
        let file = File::open(self.object_path(digest))?;
        let len = file.metadata()?.len();
        Ok((Box::new(file), len))
    }

    fn read_at(&self, digest: &ContentDigest, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut file = File::open(self.object_path(digest))?;
        file.seek(io::SeekFrom::Start(offset))?;
        let mut bytes = Vec::with_capacity(len.min(1 << 20));
        file.take(len as u64).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn remove(&self, digest: &ContentDigest) -> io::Result<()> {
        match fs::remove_file(self.object_path(digest)) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Folder(PathBuf);

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn store() -> (LocalStore, Folder) {
        let root =
            std::env::temp_dir().join(format!("plaza-media-{}", uuid::Uuid::now_v7().simple()));
        (LocalStore::new(&root), Folder(root))
    }

    fn upload(store: &LocalStore, bytes: &[u8]) -> io::Result<ContentDigest> {
        let mut staged = store.stage()?;
        staged.write(bytes)?;
        let sealed = staged.seal()?;
        let digest = sealed.digest().clone();
        store.commit(sealed)?;
        Ok(digest)
    }

    fn read(store: &LocalStore, digest: &ContentDigest) -> io::Result<Vec<u8>> {
        let (mut reader, len) = store.open(digest)?;
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        assert_eq!(len, bytes.len() as u64);
        Ok(bytes)
    }

    fn staged_files(store: &LocalStore) -> usize {
        fs::read_dir(store.staging_dir()).map_or(0, Iterator::count)
    }

    #[test]
    fn bytes_are_stored_once_under_their_digest() -> io::Result<()> {
        let (store, _folder) = store();
        let first = upload(&store, b"the same bytes")?;
        let second = upload(&store, b"the same bytes")?;
        assert_eq!(first, second);
        assert_eq!(read(&store, &first)?, b"the same bytes");
        assert!(
            store
                .object_path(&first)
                .starts_with(store.root.join("objects"))
        );
        assert_eq!(staged_files(&store), 0, "no staged file is left behind");

        let other = upload(&store, b"other bytes")?;
        assert_ne!(other, first);
        store.remove(&first)?;
        assert!(store.open(&first).is_err());
        assert_eq!(read(&store, &other)?, b"other bytes");
        store.remove(&first)?;
        Ok(())
    }

    #[test]
    fn an_abandoned_upload_leaves_nothing() -> io::Result<()> {
        let (store, _folder) = store();
        let mut staged = store.stage()?;
        staged.write(b"half an upl")?;
        drop(staged);
        let sealed = {
            let mut staged = store.stage()?;
            staged.write(b"never committed")?;
            staged.seal()?
        };
        drop(sealed);
        assert_eq!(staged_files(&store), 0);
        Ok(())
    }
}
