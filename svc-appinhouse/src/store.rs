//! Hosted build files in the object store of `common::storage`: a local directory by default, an
//! S3-compatible bucket when one is configured (`TAD_APPINHOUSE_S3_*`), so every replica serves
//! every file. Keys are `APP/PLATFORM/VERSION/FILE`. Files go in and out as streams, so memory
//! does not grow with size.

use std::{ops::Range, path::Path};

use bytes::Bytes;
use common::storage::{
    ObjectStorage, StorageError, StorageTarget,
    leftovers::{ReferencedFuture, Removed},
};
use futures::{StreamExt, TryStreamExt, stream::BoxStream};

/// Failures of the file store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("file store: {0}")]
    Storage(#[from] StorageError),
    #[error("file store: {0}")]
    Io(#[from] std::io::Error),
}

/// The store of hosted build files.
#[derive(Clone, Debug)]
pub struct BuildStore {
    storage: ObjectStorage,
}

/// The key of one hosted file.
pub fn file_key(app: &str, platform: &str, version: &str, file: &str) -> String {
    format!("{app}/{platform}/{version}/{file}")
}

impl BuildStore {
    /// Opens the store `target` names (creating a local directory when missing).
    pub fn open(target: &StorageTarget) -> Result<BuildStore, StoreError> {
        Ok(BuildStore {
            storage: ObjectStorage::open(target)?,
        })
    }

    /// A store in a local directory (created when missing).
    pub fn local(dir: &Path) -> Result<BuildStore, StoreError> {
        BuildStore::open(&StorageTarget::Local {
            root: dir.to_owned(),
        })
    }

    /// A log-safe description of the store (no credentials).
    pub fn describe(&self) -> &str {
        self.storage.describe()
    }

    /// Removes the files at least `min_age` old that `referenced` does not claim, and
    /// half-written ones; see `common::storage::leftovers::remove_unreferenced_objects`. The
    /// store must hold hosted builds only: every key is looked at.
    pub async fn remove_unreferenced<F>(
        &self,
        min_age: std::time::Duration,
        referenced: F,
    ) -> Result<Removed, StoreError>
    where
        F: FnMut(Vec<String>) -> ReferencedFuture,
    {
        Ok(self
            .storage
            .remove_unreferenced("", min_age, referenced)
            .await?)
    }

    /// Copies a local file to `key`, part by part; answers its size.
    pub async fn put_file(&self, key: &str, local: &Path) -> Result<u64, StoreError> {
        Ok(self.storage.put_file(key, local).await?.size)
    }

    /// Writes a small file (an icon) at `key` from memory.
    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        Ok(self.storage.put_bytes(key, Bytes::from(bytes)).await?)
    }

    /// The size of the file at `key`, `None` when there is none.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.storage.size_of(key).await?)
    }

    /// The bytes `range` of the file at `key`, as a stream.
    pub async fn read(
        &self,
        key: &str,
        range: Range<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, StoreError>>, StoreError> {
        let stream = self.storage.read(key, Some(range)).await?;
        Ok(stream.map_err(StoreError::from).boxed())
    }

    /// Deletes the file at `key`; a missing file is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        Ok(self.storage.delete(key).await?)
    }

    /// Deletes every file under `prefix/` (an app's); answers how many went.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize, StoreError> {
        Ok(self.storage.delete_prefix(prefix).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_go_in_come_out_by_range_and_are_deleted_alone_or_by_app() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = BuildStore::local(&dir.path().join("files")).expect("store");
        let local = dir.path().join("build.apk");
        let part = 5 * 1024 * 1024;
        let content: Vec<u8> = (0..part + 37).map(|i| (i % 251) as u8).collect();
        std::fs::write(&local, &content).expect("write");
        let key = file_key("rog2", "android", "1.0.0", "build.apk");
        assert_eq!(
            store.put_file(&key, &local).await.expect("put"),
            content.len() as u64
        );
        assert_eq!(
            store.size(&key).await.expect("size"),
            Some(content.len() as u64)
        );
        let chunks: Vec<Bytes> = store
            .read(&key, 10..part as u64 + 20)
            .await
            .expect("read")
            .try_collect()
            .await
            .expect("chunks");
        let read: Vec<u8> = chunks.concat();
        assert_eq!(read, content[10..part + 20]);
        store.delete(&key).await.expect("delete");
        assert_eq!(store.size(&key).await.expect("size"), None);
        assert!(!dir.path().join("files/rog2/android/1.0.0").exists());
        store
            .delete(&key)
            .await
            .expect("deleting a missing file is fine");
        // An app's files go by prefix, and only its own (`rog2` is not `rog20`).
        for app in ["rog2", "rog20"] {
            let key = file_key(app, "android", "1.0.0", "build.apk");
            store.put_file(&key, &local).await.expect("put");
        }
        assert_eq!(store.delete_prefix("rog2").await.expect("prefix"), 1);
        let kept = file_key("rog20", "android", "1.0.0", "build.apk");
        assert!(store.size(&kept).await.expect("size").is_some());
    }
}
