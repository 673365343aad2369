//! The object-store port: stored files live in a local directory (default `DATA_DIR/objects`) or
//! in an S3-compatible bucket, behind one [`ObjectStorage`] type built on the `object_store`
//! crate. Writes stream (multipart) while md5 and sha256 are computed, so memory does not grow
//! with the size of a file; reads stream whole objects or byte ranges. Crash leftovers (objects
//! no row references, half-written local objects, spool files) are collected by the functions
//! of [`leftovers`]; [`testing`] lists stored files for tests.

pub mod leftovers;
pub mod testing;

use std::{ops::Range, path::PathBuf, sync::Arc};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream::BoxStream};
use md5::{Digest, Md5};
use object_store::{
    Certificate, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart,
    aws::AmazonS3Builder, local::LocalFileSystem, path::Path as ObjectPath,
};
use sha2::Sha256;

/// Size of one multipart part (S3 refuses parts under 5 MiB except the last).
const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts in flight at once per write: bounds the memory of one upload to a few parts.
const PARTS_IN_FLIGHT: usize = 2;

/// Where stored files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageTarget {
    /// A directory on this machine.
    Local { root: PathBuf },
    /// An S3-compatible bucket.
    S3(S3Target),
}

/// An S3-compatible bucket (AWS, MinIO, Ceph ...); `https://` goes through rustls
/// (see [`crate::https`]).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Target {
    pub bucket: String,
    /// Custom endpoint (`http://minio:9000`); AWS when unset.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Allow `http://` endpoints.
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Target {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("S3Target")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// Failures of the object store, naming the object.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open the object store {target}: {message}")]
    Open { target: String, message: String },
    #[error("object {key:?} does not exist in the object store")]
    NotFound { key: String },
    #[error("object store failed on {key:?}: {message}")]
    Io { key: String, message: String },
}

/// The S3 client's options: rustls on the process's provider (see [`crate::https`]), verifying
/// against the system's roots merged with the bundled Mozilla roots, like every other client.
fn s3_client_options() -> Result<ClientOptions, object_store::Error> {
    crate::https::install_crypto_provider();
    let mut options = ClientOptions::new();
    for der in crate::https::bundled_roots() {
        options = options.with_root_certificate(Certificate::from_der(der)?);
    }
    Ok(options)
}

fn io_error(key: &str, error: object_store::Error) -> StorageError {
    match error {
        object_store::Error::NotFound { .. } => StorageError::NotFound {
            key: key.to_owned(),
        },
        other => StorageError::Io {
            key: key.to_owned(),
            message: other.to_string(),
        },
    }
}

/// What a finished write measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDigest {
    pub size: u64,
    /// Lowercase hex.
    pub md5: String,
    /// Lowercase hex.
    pub sha256: String,
}

/// md5, sha256 and size of bytes as they pass, for a digest measured while writing.
#[derive(Clone, Default)]
pub struct Digester {
    md5: Md5,
    sha256: Sha256,
    size: u64,
}

impl Digester {
    pub fn new() -> Digester {
        Digester::default()
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        self.sha256.update(bytes);
        self.size += bytes.len() as u64;
    }

    /// Bytes seen so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn finish(self) -> StoredDigest {
        StoredDigest {
            size: self.size,
            md5: hex::encode(self.md5.finalize()),
            sha256: hex::encode(self.sha256.finalize()),
        }
    }
}

/// The object store of a service: local directory or S3 bucket.
#[derive(Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    description: String,
    /// The directory of a local store (where half-written objects may stay after a crash).
    local_root: Option<PathBuf>,
    /// The local store itself, which can take a finished local file by renaming it.
    local: Option<Arc<LocalFileSystem>>,
}

impl std::fmt::Debug for ObjectStorage {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.description)
    }
}

impl ObjectStorage {
    /// Opens the store (creating a local directory when needed).
    pub fn open(target: &StorageTarget) -> Result<ObjectStorage, StorageError> {
        match target {
            StorageTarget::Local { root } => {
                let description = format!("local directory {}", root.display());
                std::fs::create_dir_all(root).map_err(|error| StorageError::Open {
                    target: description.clone(),
                    message: error.to_string(),
                })?;
                let store = LocalFileSystem::new_with_prefix(root)
                    .map_err(|error| StorageError::Open {
                        target: description.clone(),
                        message: error.to_string(),
                    })?
                    .with_automatic_cleanup(true);
                let store = Arc::new(store);
                Ok(ObjectStorage {
                    store: store.clone(),
                    description,
                    local_root: Some(root.clone()),
                    local: Some(store),
                })
            }
            StorageTarget::S3(s3) => {
                let description = format!(
                    "s3 bucket {} at {}",
                    s3.bucket,
                    s3.endpoint.as_deref().unwrap_or("aws")
                );
                let options = s3_client_options().map_err(|error| StorageError::Open {
                    target: description.clone(),
                    message: error.to_string(),
                })?;
                // The client options first: the setters below write into them.
                let mut builder = AmazonS3Builder::new()
                    .with_client_options(options)
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_allow_http(s3.allow_http);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_virtual_hosted_style_request(false);
                }
                if let Some(key) = &s3.access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = &s3.secret_access_key {
                    builder = builder.with_secret_access_key(secret);
                }
                let store = builder.build().map_err(|error| StorageError::Open {
                    target: description.clone(),
                    message: error.to_string(),
                })?;
                Ok(ObjectStorage {
                    store: Arc::new(store),
                    description,
                    local_root: None,
                    local: None,
                })
            }
        }
    }

    /// A log-safe description of the store.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Removes the objects under `prefix` older than `min_age` that `referenced` does not
    /// claim, and (local store) half-written objects older than `min_age`; see
    /// [`leftovers::remove_unreferenced_objects`].
    pub async fn remove_unreferenced<F>(
        &self,
        prefix: &str,
        min_age: std::time::Duration,
        referenced: F,
    ) -> Result<leftovers::Removed, StorageError>
    where
        F: FnMut(Vec<String>) -> leftovers::ReferencedFuture,
    {
        leftovers::remove_unreferenced_objects(
            self.store.as_ref(),
            self.local_root.as_deref(),
            prefix,
            min_age,
            referenced,
        )
        .await
    }

    /// Starts a streaming write of `key`.
    pub async fn writer(&self, key: &str) -> Result<ObjectWriter, StorageError> {
        let path = ObjectPath::from(key);
        let upload = self
            .store
            .put_multipart(&path)
            .await
            .map_err(|error| io_error(key, error))?;
        Ok(ObjectWriter {
            key: key.to_owned(),
            write: WriteMultipart::new_with_chunk_size(upload, PART_BYTES),
            digest: Digester::new(),
        })
    }

    /// Stores a local file under `key`, streaming, and answers its digest.
    pub async fn put_file(
        &self,
        key: &str,
        file: &std::path::Path,
    ) -> Result<StoredDigest, StorageError> {
        use tokio::io::AsyncReadExt;
        let local_error = |error: std::io::Error| StorageError::Io {
            key: key.to_owned(),
            message: format!("cannot read {}: {error}", file.display()),
        };
        let mut source = tokio::fs::File::open(file).await.map_err(local_error)?;
        let mut writer = self.writer(key).await?;
        let mut buffer = vec![0_u8; 256 * 1024];
        loop {
            let read = match source.read(&mut buffer).await {
                Ok(read) => read,
                Err(error) => {
                    writer.abort().await;
                    return Err(local_error(error));
                }
            };
            if read == 0 {
                break;
            }
            if let Err(error) = writer.write(&buffer[..read]).await {
                writer.abort().await;
                return Err(error);
            }
        }
        writer.finish().await
    }

    /// Stores `file`, a finished local file whose `digest` was measured while it was written,
    /// under `key`, taking it: a local store on the same file system renames it into place (no
    /// copy, no second read); otherwise it is streamed like [`ObjectStorage::put_file`] (which
    /// measures it again) and removed.
    pub async fn adopt_file(
        &self,
        key: &str,
        file: &std::path::Path,
        digest: StoredDigest,
    ) -> Result<StoredDigest, StorageError> {
        if let Some(local) = &self.local {
            let target = local
                .path_to_filesystem(&ObjectPath::from(key))
                .map_err(|error| io_error(key, error))?;
            let source = file.to_owned();
            let renamed = tokio::task::spawn_blocking(move || {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::rename(source, target)
            })
            .await;
            if let Ok(Ok(())) = renamed {
                return Ok(digest);
            }
        }
        let stored = self.put_file(key, file).await?;
        if let Err(error) = tokio::fs::remove_file(file).await {
            tracing::debug!(file = %file.display(), error = %error, "cannot remove a stored local file");
        }
        Ok(stored)
    }

    /// Stores small bytes under `key` at once.
    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store
            .put(&ObjectPath::from(key), bytes.into())
            .await
            .map(|_| ())
            .map_err(|error| io_error(key, error))
    }

    /// Streams `key`, whole or the byte `range`.
    pub async fn read(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, StorageError>>, StorageError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&ObjectPath::from(key), options)
            .await
            .map_err(|error| io_error(key, error))?;
        let owned_key = key.to_owned();
        Ok(result
            .into_stream()
            .map(move |chunk| chunk.map_err(|error| io_error(&owned_key, error)))
            .boxed())
    }

    /// Reads a whole (small) object.
    pub async fn read_all(&self, key: &str) -> Result<Bytes, StorageError> {
        let result = self
            .store
            .get(&ObjectPath::from(key))
            .await
            .map_err(|error| io_error(key, error))?;
        result.bytes().await.map_err(|error| io_error(key, error))
    }

    /// Size of `key`, or `None` when it does not exist.
    pub async fn size_of(&self, key: &str) -> Result<Option<u64>, StorageError> {
        match self.store.head(&ObjectPath::from(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(io_error(key, error)),
        }
    }

    /// Deletes `key`; a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(io_error(key, error)),
        }
    }

    /// Deletes every object under `prefix/` (whole path segments: `app` does not reach
    /// `app2/...`); answers how many went.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize, StorageError> {
        let keys: Vec<ObjectPath> = self
            .store
            .list(Some(&ObjectPath::from(prefix)))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(|error| io_error(prefix, error))?;
        for key in &keys {
            self.delete(key.as_ref()).await?;
        }
        Ok(keys.len())
    }

    /// Deletes every key, logging (not failing on) the ones that cannot be deleted: clean-up of
    /// a refused upload.
    pub async fn delete_all(&self, keys: &[String]) {
        for key in keys {
            if let Err(error) = self.delete(key).await {
                tracing::warn!(key = %key, error = %error, "cannot delete object of a refused upload");
            }
        }
    }
}

/// A streaming write in progress; nothing is visible under the key until [`ObjectWriter::finish`].
pub struct ObjectWriter {
    key: String,
    write: WriteMultipart,
    digest: Digester,
}

impl ObjectWriter {
    /// The key being written.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.digest.size()
    }

    /// Appends bytes, waiting while too many parts are in flight.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        self.digest.update(bytes);
        self.write
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(|error| io_error(&self.key, error))?;
        self.write.write(bytes);
        Ok(())
    }

    /// Completes the object and answers its digest.
    pub async fn finish(self) -> Result<StoredDigest, StorageError> {
        let key = self.key;
        self.write
            .finish()
            .await
            .map_err(|error| io_error(&key, error))?;
        Ok(self.digest.finish())
    }

    /// Abandons the write: nothing remains under the key.
    pub async fn abort(self) {
        let key = self.key;
        if let Err(error) = self.write.abort().await {
            tracing::warn!(key = %key, error = %error, "cannot abort object write");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> (tempfile::TempDir, ObjectStorage) {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = ObjectStorage::open(&StorageTarget::Local {
            root: dir.path().join("objects"),
        })
        .expect("open local store");
        (dir, storage)
    }

    async fn collect(storage: &ObjectStorage, key: &str, range: Option<Range<u64>>) -> Vec<u8> {
        let mut stream = storage.read(key, range).await.expect("read");
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.expect("chunk"));
        }
        bytes
    }

    #[tokio::test]
    async fn a_streamed_write_is_read_back_with_its_digest() {
        let (_dir, storage) = local();
        let content: Vec<u8> = (0..(12 * 1024 * 1024_u32))
            .map(|i| (i % 251) as u8)
            .collect();
        let mut writer = storage.writer("ab/cdef").await.expect("writer");
        for piece in content.chunks(100_000) {
            writer.write(piece).await.expect("write");
        }
        let digest = writer.finish().await.expect("finish");
        assert_eq!(digest.size, content.len() as u64);
        assert_eq!(digest.md5, hex::encode(Md5::digest(&content)));
        assert_eq!(digest.sha256, hex::encode(Sha256::digest(&content)));
        assert_eq!(collect(&storage, "ab/cdef", None).await, content);
        assert_eq!(
            collect(&storage, "ab/cdef", Some(1000..5000)).await,
            &content[1000..5000]
        );
        assert_eq!(
            storage.size_of("ab/cdef").await.expect("head"),
            Some(content.len() as u64)
        );
        storage.delete("ab/cdef").await.expect("delete");
        assert_eq!(storage.size_of("ab/cdef").await.expect("head"), None);
        storage
            .delete("ab/cdef")
            .await
            .expect("deleting twice is fine");
    }

    #[tokio::test]
    async fn an_adopted_local_file_is_moved_into_the_store_with_its_digest() {
        let (dir, storage) = local();
        let content = b"unpacked file content".repeat(1000);
        let mut measured = Digester::new();
        measured.update(&content);
        let measured = measured.finish();
        let file = dir.path().join("scratch.bin");
        std::fs::write(&file, &content).expect("write");
        let digest = storage
            .adopt_file("files/ab/adopted", &file, measured.clone())
            .await
            .expect("adopt");
        assert_eq!(digest, measured);
        assert_eq!(digest.md5, hex::encode(Md5::digest(&content)));
        assert!(!file.exists(), "moved, not copied");
        assert_eq!(collect(&storage, "files/ab/adopted", None).await, content);
    }

    #[tokio::test]
    async fn an_aborted_write_leaves_nothing() {
        let (dir, storage) = local();
        let mut writer = storage.writer("x/y").await.expect("writer");
        writer.write(b"partial").await.expect("write");
        writer.abort().await;
        assert_eq!(storage.size_of("x/y").await.expect("head"), None);
        let leftovers = testing::files_under(&dir.path().join("objects"));
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[tokio::test]
    async fn a_missing_object_is_named() {
        let (_dir, storage) = local();
        let error = storage.read("nope", None).await.err().expect("missing");
        assert!(matches!(error, StorageError::NotFound { ref key } if key == "nope"));
    }

    #[test]
    fn an_s3_store_is_built_from_its_target() {
        let storage = ObjectStorage::open(&StorageTarget::S3(S3Target {
            bucket: "tad".into(),
            endpoint: Some("http://127.0.0.1:9000".into()),
            region: "us-east-1".into(),
            access_key_id: Some("key".into()),
            secret_access_key: Some("secret".into()),
            allow_http: true,
        }))
        .expect("s3 builder");
        assert!(storage.describe().contains("s3 bucket tad"));
        assert!(
            !format!(
                "{:?}",
                S3Target {
                    bucket: "b".into(),
                    endpoint: None,
                    region: "r".into(),
                    access_key_id: None,
                    secret_access_key: Some("hunter2".into()),
                    allow_http: false,
                }
            )
            .contains("hunter2")
        );
    }
}
