//! Reading an upload stream: text fields are collected, every file is streamed to the object
//! store while md5 and sha256 are computed; an upload's archive is also unpacked as it arrives
//! (`.tar.gz`, `.tar`) or spooled to a local scratch file to unpack after (`.zip`, which is read
//! from its end, or a file whose kind its start does not tell). A refused upload deletes what it
//! wrote.

use std::collections::HashMap;

use bytes::Bytes;
use common::{
    limits,
    storage::{ObjectStorage, ObjectWriter, StoredDigest},
};
use futures::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use super::{
    archive::{ArchiveFormat, UnpackLimits},
    streamed::{StreamedUnpack, Unpacked},
};
use crate::domain::{ArtifactError, ArtifactResult};

/// One part of an upload as the service sees it.
#[derive(Debug)]
pub enum UploadItem {
    Field { name: String, value: String },
    FileStart { name: String },
    Data(Bytes),
}

/// A file received and stored.
#[derive(Debug)]
pub struct IngestedFile {
    pub id: String,
    pub name: String,
    pub object_key: String,
    pub digest: StoredDigest,
    /// The archive unpacked as it arrived (the upload's first file, when a `.tar.gz` or `.tar`).
    pub unpacked: Option<Unpacked>,
    /// A local copy to unpack after (the upload's first file, when not unpacked as it arrived),
    /// removed when dropped.
    pub spool: Option<tempfile::TempPath>,
}

/// Everything an upload brought.
#[derive(Debug, Default)]
pub struct Ingested {
    pub fields: HashMap<String, String>,
    pub files: Vec<IngestedFile>,
}

impl Ingested {
    /// The object keys written.
    pub fn keys(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|file| file.object_key.clone())
            .collect()
    }

    /// A text field, trimmed, or `None` when absent or blank.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields
            .get(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// A required text field.
    pub fn required(&self, name: &str) -> ArtifactResult<String> {
        self.field(name).ok_or_else(|| ArtifactError::missing(name))
    }
}

/// Object key of a stored file.
pub fn object_key(file_id: &str) -> String {
    format!("files/{}/{file_id}", &file_id[..2.min(file_id.len())])
}

/// Where an archive's bytes go besides the object store, decided by its first chunk.
enum Unpacking {
    /// Not decided yet (no data received).
    Undecided,
    Streamed(StreamedUnpack),
    Spooled(tokio::fs::File, tempfile::TempPath),
    /// Not an archive to unpack (not the upload's first file, or not an archive upload).
    None,
}

struct OpenFile {
    id: String,
    name: String,
    writer: ObjectWriter,
    unpacking: Unpacking,
}

impl OpenFile {
    /// Stops what this file started: the object write and the unpacking.
    async fn abort(self) {
        self.writer.abort().await;
        if let Unpacking::Streamed(streamed) = self.unpacking {
            // Waits for the task so that its scratch directory is removed after its last write.
            drop(streamed.finish().await);
        }
    }
}

/// Where and how an upload is received.
pub struct IngestOptions<'a> {
    pub storage: &'a ObjectStorage,
    pub spool_dir: &'a std::path::Path,
    /// Unpack the upload's first file (an archive) within these limits.
    pub unpack: Option<UnpackLimits>,
    pub max_bytes: u64,
}

/// Receives `stream`; on any failure deletes what was written and answers the error.
pub async fn ingest<S>(options: IngestOptions<'_>, stream: S) -> ArtifactResult<Ingested>
where
    S: Stream<Item = ArtifactResult<UploadItem>> + Unpin,
{
    let mut ingested = Ingested::default();
    let mut current: Option<OpenFile> = None;
    let outcome = receive(&options, stream, &mut ingested, &mut current).await;
    match outcome {
        Ok(()) => Ok(ingested),
        Err(error) => {
            if let Some(open) = current.take() {
                open.abort().await;
            }
            options.storage.delete_all(&ingested.keys()).await;
            Err(error)
        }
    }
}

async fn receive<S>(
    options: &IngestOptions<'_>,
    mut stream: S,
    ingested: &mut Ingested,
    current: &mut Option<OpenFile>,
) -> ArtifactResult<()>
where
    S: Stream<Item = ArtifactResult<UploadItem>> + Unpin,
{
    let mut total = 0_u64;
    while let Some(item) = stream.next().await {
        match item? {
            UploadItem::Field { name, value } => {
                check_field(&name, &value)?;
                ingested.fields.insert(name, value);
            }
            UploadItem::FileStart { name } => {
                if let Some(open) = current.take() {
                    close(open, ingested, options).await?;
                }
                let name = file_name_of(&name)?;
                let id = common::ids::new_id();
                let first = ingested.files.is_empty();
                let writer = options.storage.writer(&object_key(&id)).await?;
                *current = Some(OpenFile {
                    id,
                    name,
                    writer,
                    unpacking: if first && options.unpack.is_some() {
                        Unpacking::Undecided
                    } else {
                        Unpacking::None
                    },
                });
            }
            UploadItem::Data(bytes) => {
                let open = current.as_mut().ok_or_else(|| {
                    ArtifactError::invalid("upload", "sent file data before a file name")
                })?;
                total += bytes.len() as u64;
                if total > options.max_bytes {
                    return Err(ArtifactError::TooLarge {
                        limit: options.max_bytes,
                    });
                }
                if matches!(open.unpacking, Unpacking::Undecided)
                    && let Some(limits) = options.unpack
                {
                    open.unpacking =
                        start_unpacking(options.spool_dir, limits, &open.name, &bytes).await?;
                }
                open.writer.write(&bytes).await?;
                match &mut open.unpacking {
                    Unpacking::Streamed(streamed) => streamed.feed(bytes).await,
                    Unpacking::Spooled(file, _) => file
                        .write_all(&bytes)
                        .await
                        .map_err(|error| ArtifactError::io("cannot write the spool file", error))?,
                    Unpacking::Undecided | Unpacking::None => {}
                }
            }
        }
    }
    if let Some(open) = current.take() {
        close(open, ingested, options).await?;
    }
    Ok(())
}

/// Decides by the archive's name and first chunk whether it is unpacked as it arrives or
/// spooled to unpack after, and starts that.
async fn start_unpacking(
    spool_dir: &std::path::Path,
    limits: UnpackLimits,
    name: &str,
    head: &[u8],
) -> ArtifactResult<Unpacking> {
    tokio::fs::create_dir_all(spool_dir)
        .await
        .map_err(|error| ArtifactError::io("cannot create the spool directory", error))?;
    if let Some(format @ (ArchiveFormat::TarGz | ArchiveFormat::Tar)) =
        ArchiveFormat::detect(name, head)
    {
        let streamed = StreamedUnpack::start(spool_dir, format, limits, None)
            .map_err(|error| ArtifactError::io("cannot create a scratch directory", error))?;
        return Ok(Unpacking::Streamed(streamed));
    }
    let path = tempfile::NamedTempFile::new_in(spool_dir)
        .map_err(|error| ArtifactError::io("cannot create a spool file", error))?
        .into_temp_path();
    let file = tokio::fs::File::create(&path)
        .await
        .map_err(|error| ArtifactError::io("cannot open the spool file", error))?;
    Ok(Unpacking::Spooled(file, path))
}

async fn close(
    mut open: OpenFile,
    ingested: &mut Ingested,
    options: &IngestOptions<'_>,
) -> ArtifactResult<()> {
    let key = open.writer.key().to_owned();
    if matches!(open.unpacking, Unpacking::Undecided)
        && let Some(limits) = options.unpack
    {
        // An empty file: unpacked (and refused) as any other.
        open.unpacking = start_unpacking(options.spool_dir, limits, &open.name, &[]).await?;
    }
    let (unpacked, spool) = match open.unpacking {
        Unpacking::Streamed(streamed) => (Some(streamed.finish().await), None),
        Unpacking::Spooled(mut file, path) => {
            file.flush()
                .await
                .map_err(|error| ArtifactError::io("cannot write the spool file", error))?;
            (None, Some(path))
        }
        Unpacking::Undecided | Unpacking::None => (None, None),
    };
    let digest = open.writer.finish().await?;
    ingested.files.push(IngestedFile {
        id: open.id,
        name: open.name,
        object_key: key,
        digest,
        unpacked,
        spool,
    });
    Ok(())
}

/// The limit of an upload's text field, by its name (SPEC §8).
fn field_limit(name: &str) -> (&'static str, limits::Limit) {
    match name {
        "app_id" => ("app_id", limits::ID),
        "name" => ("name", limits::NAME),
        "version" => ("version", limits::NAME),
        "md5" => ("md5", limits::TOKEN),
        "file_md5" => ("file_md5", limits::DOCUMENT),
        _ => ("upload field", limits::VALUE),
    }
}

/// Checks an upload's text field against its limit before it is kept.
fn check_field(name: &str, value: &str) -> ArtifactResult<()> {
    limits::check("upload field name", name, limits::NAME)?;
    let (field, limit) = field_limit(name);
    limits::check(field, value.trim(), limit).map_err(|error| {
        ArtifactError::invalid(
            if field == "upload field" { name } else { field },
            error.message,
        )
    })
}

/// The last segment of an uploaded file's name (browsers may send a path).
pub fn file_name_of(raw: &str) -> ArtifactResult<String> {
    let name = raw
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    limits::check("file name", raw, limits::PATH)?;
    if name.is_empty() || name == "." || name == ".." {
        return Err(ArtifactError::invalid(
            "file name",
            format!("{raw:?} is not a file name"),
        ));
    }
    limits::check("file name", &name, limits::FILE_NAME)?;
    Ok(name)
}

/// Parses the `file_md5` field: a JSON object of file name → md5.
pub fn declared_md5s(ingested: &Ingested) -> ArtifactResult<HashMap<String, String>> {
    let text = ingested.required("file_md5")?;
    let map: HashMap<String, serde_json::Value> = serde_json::from_str(&text).map_err(|error| {
        ArtifactError::invalid(
            "file_md5",
            format!("must be a JSON object of file name to md5: {error}"),
        )
    })?;
    map.into_iter()
        .map(|(name, value)| match value {
            serde_json::Value::String(md5) if md5.len() > limits::TOKEN.max => {
                Err(ArtifactError::invalid(
                    "file_md5",
                    format!("md5 of {:?} is too long", limits::excerpt(&name)),
                ))
            }
            serde_json::Value::String(md5) => Ok((name, md5.trim().to_ascii_lowercase())),
            other => Err(ArtifactError::invalid(
                "file_md5",
                format!("md5 of {name:?} must be a string, not {other}"),
            )),
        })
        .collect()
}

/// Checks every file against its declared md5 (each file must be declared).
pub fn check_md5s(ingested: &Ingested, declared: &HashMap<String, String>) -> ArtifactResult<()> {
    for file in &ingested.files {
        let expected = declared.get(&file.name).ok_or_else(|| {
            ArtifactError::invalid("file_md5", format!("has no md5 for file {:?}", file.name))
        })?;
        if *expected != file.digest.md5 {
            return Err(ArtifactError::Md5Mismatch {
                file: file.name.clone(),
                declared: expected.clone(),
                actual: file.digest.md5.clone(),
            });
        }
    }
    Ok(())
}
