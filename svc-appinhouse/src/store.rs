//! Hosted build files in an object store (`object_store`): a local directory by default. Keys are
//! `APP/PLATFORM/VERSION/FILE`. Files go in and out as streams, so memory does not grow with size.

use std::{ops::Range, path::Path as FsPath, sync::Arc};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream::BoxStream};
use object_store::{
    GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart, local::LocalFileSystem,
    path::Path,
};
use tokio::io::AsyncReadExt;

/// Bytes read from a local file per part written to the store.
const PART_BYTES: usize = 1024 * 1024;
/// Parts in flight at once while writing.
const PARTS_IN_FLIGHT: usize = 4;

/// Failures of the file store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("file store: {0}")]
    Store(#[from] object_store::Error),
    #[error("file store: {0}")]
    Io(#[from] std::io::Error),
}

/// The store of hosted build files.
#[derive(Clone, Debug)]
pub struct BuildStore {
    inner: Arc<dyn ObjectStore>,
    /// The directory of a local store (where half-written files may stay after a crash).
    local_root: Option<std::path::PathBuf>,
}

/// The key of one hosted file.
pub fn file_key(app: &str, platform: &str, version: &str, file: &str) -> String {
    format!("{app}/{platform}/{version}/{file}")
}

impl BuildStore {
    /// A store in a local directory (created when missing).
    pub fn local(dir: &FsPath) -> Result<BuildStore, StoreError> {
        std::fs::create_dir_all(dir)?;
        let store = LocalFileSystem::new_with_prefix(dir)?;
        Ok(BuildStore {
            inner: Arc::new(store),
            local_root: Some(dir.to_owned()),
        })
    }

    /// A store over any object store (S3-compatible in production).
    pub fn new(inner: Arc<dyn ObjectStore>) -> BuildStore {
        BuildStore {
            inner,
            local_root: None,
        }
    }

    /// Removes the files at least `min_age` old that `referenced` does not claim, and
    /// half-written ones; see `common::storage::leftovers::remove_unreferenced_objects`.
    pub async fn remove_unreferenced<F>(
        &self,
        min_age: std::time::Duration,
        referenced: F,
    ) -> Result<common::storage::leftovers::Removed, common::storage::StorageError>
    where
        F: FnMut(Vec<String>) -> common::storage::leftovers::ReferencedFuture,
    {
        common::storage::leftovers::remove_unreferenced_objects(
            self.inner.as_ref(),
            self.local_root.as_deref(),
            "",
            min_age,
            referenced,
        )
        .await
    }

    /// Copies a local file to `key`, part by part; answers its size.
    pub async fn put_file(&self, key: &str, local: &FsPath) -> Result<u64, StoreError> {
        let upload = self.inner.put_multipart(&Path::from(key)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut file = tokio::fs::File::open(local).await?;
        let mut buffer = vec![0u8; PART_BYTES];
        let mut size = 0u64;
        loop {
            let read = match file.read(&mut buffer).await {
                Ok(read) => read,
                Err(error) => {
                    let _ = writer.abort().await;
                    return Err(error.into());
                }
            };
            if read == 0 {
                break;
            }
            size += read as u64;
            if let Err(error) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                return Err(error.into());
            }
            writer.write(&buffer[..read]);
        }
        writer.finish().await?;
        Ok(size)
    }

    /// Writes a small file (an icon) at `key` from memory.
    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.inner
            .put(&Path::from(key), Bytes::from(bytes).into())
            .await?;
        Ok(())
    }

    /// The size of the file at `key`, `None` when there is none.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, StoreError> {
        match self.inner.head(&Path::from(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// The bytes `range` of the file at `key`, as a stream.
    pub async fn read(
        &self,
        key: &str,
        range: Range<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, StoreError>>, StoreError> {
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        let result = self.inner.get_opts(&Path::from(key), options).await?;
        Ok(result.into_stream().map_err(StoreError::from).boxed())
    }

    /// Deletes the file at `key`; a missing file is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Deletes every file under `prefix/`; answers how many went.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize, StoreError> {
        let keys: Vec<Path> = self
            .inner
            .list(Some(&Path::from(prefix)))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await?;
        for key in &keys {
            match self.inner.delete(key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(keys.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_go_in_and_come_out_by_range_and_prefix_deletes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = BuildStore::local(&dir.path().join("files")).expect("store");
        let local = dir.path().join("build.apk");
        let content: Vec<u8> = (0..3 * PART_BYTES + 17).map(|i| (i % 251) as u8).collect();
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
            .read(&key, 10..PART_BYTES as u64 + 20)
            .await
            .expect("read")
            .try_collect()
            .await
            .expect("chunks");
        let read: Vec<u8> = chunks.concat();
        assert_eq!(read, content[10..PART_BYTES + 20]);
        assert_eq!(store.delete_prefix("rog2").await.expect("delete"), 1);
        assert_eq!(store.size(&key).await.expect("size"), None);
        store
            .delete(&key)
            .await
            .expect("deleting a missing file is fine");
    }
}
