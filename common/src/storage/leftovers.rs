//! Crash leftovers of stored files, collected when a service starts: spool files and scratch
//! directories of uploads that never finished, objects no row references (written before a crash
//! and never recorded), and half-written objects of a local store (`KEY#N` staging files). Only
//! leftovers older than a minimum age go, so that an upload in flight on another replica (whose
//! files are younger) is never collected.

use std::{
    collections::HashSet,
    path::Path,
    time::{Duration, SystemTime},
};

use futures::{StreamExt, future::BoxFuture};
use object_store::{ObjectStore, ObjectStoreExt, path::Path as ObjectPath};

use super::{StorageError, io_error};
use crate::db::{Database, DbConnection, DbError};

/// Keys asked about at once.
const BATCH: usize = 500;

/// Answers which of the given keys a row references (a database lookup of the owning service).
pub type ReferencedFuture = BoxFuture<'static, Result<HashSet<String>, String>>;

/// How many files went and their bytes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub files: u64,
    pub bytes: u64,
}

impl Removed {
    fn add(&mut self, other: Removed) {
        self.files += other.files;
        self.bytes += other.bytes;
    }
}

/// The `referenced` answer of [`remove_unreferenced_objects`] for objects whose keys rows of
/// `database` hold: `query` answers which of a batch of keys some row refers to.
pub fn referenced_in(
    database: Database,
    query: fn(&mut DbConnection, &[String]) -> diesel::QueryResult<Vec<String>>,
) -> impl FnMut(Vec<String>) -> ReferencedFuture {
    move |keys| {
        let database = database.clone();
        Box::pin(async move {
            database
                .run(move |connection| query(connection, &keys).map_err(DbError::from))
                .await
                .map(|found| found.into_iter().collect())
                .map_err(|error: DbError| error.to_string())
        })
    }
}

/// Logs what a service's start-up collection of crash leftovers removed.
pub fn log_removed(service: &'static str, spool: Removed, objects: Removed, min_age: Duration) {
    tracing::info!(
        service,
        spool_files = spool.files,
        spool_bytes = spool.bytes,
        objects = objects.files,
        object_bytes = objects.bytes,
        min_age_secs = min_age.as_secs(),
        "crash leftovers removed"
    );
}

fn older_than(modified: SystemTime, min_age: Duration) -> bool {
    SystemTime::now()
        .duration_since(modified)
        .unwrap_or(Duration::ZERO)
        >= min_age
}

/// Files, bytes and the newest modification time under `path` (itself when a file).
fn measure(path: &Path) -> std::io::Result<(Removed, SystemTime)> {
    let metadata = std::fs::symlink_metadata(path)?;
    let modified = metadata.modified()?;
    if !metadata.is_dir() {
        return Ok((
            Removed {
                files: 1,
                bytes: metadata.len(),
            },
            modified,
        ));
    }
    let mut total = Removed::default();
    let mut newest = modified;
    for entry in std::fs::read_dir(path)? {
        let (inner, inner_newest) = measure(&entry?.path())?;
        total.add(inner);
        newest = newest.max(inner_newest);
    }
    Ok((total, newest))
}

/// The entries of `dir`; None when it does not exist.
fn entries_if_present(dir: &Path) -> std::io::Result<Option<std::fs::ReadDir>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(Some(entries)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Removes every entry of the spool directory `dir` (files, and scratch directories whole)
/// whose newest modification is at least `min_age` old. A missing directory holds nothing.
/// Blocking: call it from a blocking task.
pub fn remove_stale_spool(dir: &Path, min_age: Duration) -> std::io::Result<Removed> {
    let mut removed = Removed::default();
    let Some(entries) = entries_if_present(dir)? else {
        return Ok(removed);
    };
    for entry in entries {
        let path = entry?.path();
        let (size, newest) = match measure(&path) {
            Ok(measured) => measured,
            // Gone meanwhile (an upload finished): nothing to remove.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        if !older_than(newest, min_age) {
            continue;
        }
        let outcome = if std::fs::symlink_metadata(&path)?.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match outcome {
            Ok(()) => removed.add(size),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    Ok(removed)
}

/// Whether a local file name is a staging file of `object_store`'s local store (`KEY#N`).
fn is_staging_file(name: &str) -> bool {
    name.rsplit_once('#').is_some_and(|(_, suffix)| {
        !suffix.is_empty() && suffix.bytes().all(|byte| byte.is_ascii_digit())
    })
}

/// Removes the staging files (half-written objects) under `dir` at least `min_age` old.
fn remove_stale_staging(dir: &Path, min_age: Duration) -> std::io::Result<Removed> {
    let mut removed = Removed::default();
    let Some(entries) = entries_if_present(dir)? else {
        return Ok(removed);
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let metadata = match std::fs::symlink_metadata(&path) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        if metadata.is_dir() {
            removed.add(remove_stale_staging(&path, min_age)?);
            continue;
        }
        let name = entry.file_name();
        if !is_staging_file(&name.to_string_lossy()) || !older_than(metadata.modified()?, min_age) {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => removed.add(Removed {
                files: 1,
                bytes: metadata.len(),
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    Ok(removed)
}

/// Removes the objects of `store` under `prefix` (every object when empty) that are at least
/// `min_age` old and that `referenced` does not claim (it is asked about batches of keys and
/// answers those a row refers to), then, for a local store rooted at `local_root`, the staging
/// files of writes that never finished. S3 keeps unfinished multipart uploads out of listings;
/// a bucket lifecycle rule (`AbortIncompleteMultipartUpload`) removes them.
pub async fn remove_unreferenced_objects<F>(
    store: &dyn ObjectStore,
    local_root: Option<&Path>,
    prefix: &str,
    min_age: Duration,
    mut referenced: F,
) -> Result<Removed, StorageError>
where
    F: FnMut(Vec<String>) -> ReferencedFuture,
{
    let min_age_chrono = chrono::Duration::from_std(min_age).unwrap_or(chrono::Duration::MAX);
    let cutoff = chrono::Utc::now() - min_age_chrono;
    let list_prefix = (!prefix.is_empty()).then(|| ObjectPath::from(prefix));
    let mut listing = store.list(list_prefix.as_ref());
    let mut removed = Removed::default();
    let mut batch: Vec<(String, u64)> = Vec::new();
    loop {
        let next = listing.next().await;
        let done = next.is_none();
        if let Some(meta) = next {
            let meta = meta.map_err(|error| io_error(prefix, error))?;
            if meta.last_modified <= cutoff {
                batch.push((meta.location.to_string(), meta.size));
            }
        }
        if batch.len() >= BATCH || (done && !batch.is_empty()) {
            let keys: Vec<String> = batch.iter().map(|(key, _)| key.clone()).collect();
            let claimed = referenced(keys).await.map_err(|message| StorageError::Io {
                key: prefix.to_owned(),
                message: format!("cannot tell which objects are referenced: {message}"),
            })?;
            for (key, size) in batch.drain(..) {
                if claimed.contains(&key) {
                    continue;
                }
                match store.delete(&ObjectPath::from(key.as_str())).await {
                    Ok(()) => removed.add(Removed {
                        files: 1,
                        bytes: size,
                    }),
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(error) => return Err(io_error(&key, error)),
                }
            }
        }
        if done {
            break;
        }
    }
    if let Some(root) = local_root {
        let dir = root.join(prefix);
        let staged = tokio::task::spawn_blocking(move || remove_stale_staging(&dir, min_age))
            .await
            .map_err(|error| StorageError::Io {
                key: prefix.to_owned(),
                message: format!("staging clean-up task stopped: {error}"),
            })?
            .map_err(|error| StorageError::Io {
                key: prefix.to_owned(),
                message: format!("cannot remove half-written objects: {error}"),
            })?;
        removed.add(staged);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{ObjectStorage, StorageTarget};

    #[test]
    fn staging_names_are_recognised() {
        assert!(is_staging_file("abc#1"));
        assert!(is_staging_file("abc#123"));
        assert!(!is_staging_file("abc"));
        assert!(!is_staging_file("abc#"));
        assert!(!is_staging_file("abc#x1"));
    }

    #[tokio::test]
    async fn unreferenced_old_objects_and_spool_files_go_and_the_rest_stays() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("objects");
        let storage = ObjectStorage::open(&StorageTarget::Local { root: root.clone() })
            .expect("open local store");
        for key in ["files/aa/kept", "files/bb/orphan", "other/outside"] {
            storage
                .put_bytes(key, bytes::Bytes::from_static(b"12345"))
                .await
                .expect("put");
        }
        std::fs::write(root.join("files/aa/half#1"), b"partial").expect("staged");
        let spool = dir.path().join("tmp");
        std::fs::create_dir_all(spool.join("scratch/sub")).expect("scratch");
        std::fs::write(spool.join("scratch/sub/f"), b"abc").expect("scratch file");
        std::fs::write(spool.join(".tmpXYZ"), b"abcd").expect("spool file");

        // Young leftovers stay.
        let removed = storage
            .remove_unreferenced("files", Duration::from_secs(3600), |_| {
                Box::pin(async { Ok(HashSet::new()) })
            })
            .await
            .expect("collect");
        assert_eq!(removed, Removed::default());
        assert_eq!(
            remove_stale_spool(&spool, Duration::from_secs(3600)).expect("spool"),
            Removed::default()
        );

        let removed = storage
            .remove_unreferenced("files", Duration::ZERO, |keys| {
                Box::pin(async move {
                    Ok(keys
                        .into_iter()
                        .filter(|key| key == "files/aa/kept")
                        .collect())
                })
            })
            .await
            .expect("collect");
        assert_eq!(
            removed,
            Removed {
                files: 2,
                bytes: 12
            }
        );
        assert_eq!(
            storage.size_of("files/aa/kept").await.expect("head"),
            Some(5)
        );
        assert_eq!(
            storage.size_of("files/bb/orphan").await.expect("head"),
            None
        );
        assert_eq!(
            storage.size_of("other/outside").await.expect("head"),
            Some(5),
            "outside the prefix"
        );
        assert!(!root.join("files/aa/half#1").exists());
        assert_eq!(
            remove_stale_spool(&spool, Duration::ZERO).expect("spool"),
            Removed { files: 2, bytes: 7 }
        );
        assert_eq!(std::fs::read_dir(&spool).expect("spool").count(), 0);
        assert_eq!(
            remove_stale_spool(&dir.path().join("missing"), Duration::ZERO).expect("missing"),
            Removed::default()
        );
    }
}
