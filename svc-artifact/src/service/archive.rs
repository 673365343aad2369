//! Safe, streaming unpacking of uploaded archives (`.tar.gz`, `.tgz`, `.tar`, `.zip`) into a
//! scratch directory. The whole archive is refused, naming the entry, for absolute paths, `..`,
//! symlinks, hardlinks, devices and other special entries, path components over 255 bytes or
//! paths over 1 KiB, entries that collide (a duplicate, or a file where another entry needs a
//! directory), too many entries, or an expanded size over the limit or over the unpacked/packed
//! ratio (archive bombs): sizes are counted while bytes are decompressed and written, not trusted
//! from headers. Every check runs before the entry touches the disk, so a refusal is never an OS
//! error. Memory stays flat: entries are copied through a fixed buffer.

use common::storage::{Digester, StoredDigest};
use std::{
    cell::Cell,
    collections::HashSet,
    fs::File,
    io::{BufReader, Read, Write},
    path::{Component, Path, PathBuf},
    rc::Rc,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

/// Longest path component of an entry, in bytes (the usual file system limit).
pub const MAX_COMPONENT_BYTES: usize = 255;
/// Longest path of an entry, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;
/// Unpacked bytes below which the unpacked/packed ratio is not enforced: tiny archives of
/// repetitive text may compress far better than 200:1 and are harmless.
pub const RATIO_FLOOR_BYTES: u64 = 1024 * 1024;
/// Longest excerpt of an entry name quoted in a refusal.
const NAME_EXCERPT_CHARS: usize = 160;

/// Archive formats the server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    TarGz,
    Tar,
    Zip,
}

impl ArchiveFormat {
    /// By file name, else by the first bytes (gzip, zip, ustar magic).
    pub fn detect(name: &str, head: &[u8]) -> Option<ArchiveFormat> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
            return Some(ArchiveFormat::TarGz);
        }
        if lower.ends_with(".tar") {
            return Some(ArchiveFormat::Tar);
        }
        if lower.ends_with(".zip") {
            return Some(ArchiveFormat::Zip);
        }
        if head.starts_with(&[0x1f, 0x8b]) {
            return Some(ArchiveFormat::TarGz);
        }
        if head.starts_with(b"PK\x03\x04") {
            return Some(ArchiveFormat::Zip);
        }
        if head.len() >= 262 && &head[257..262] == b"ustar" {
            return Some(ArchiveFormat::Tar);
        }
        None
    }
}

/// Limits of one unpack.
#[derive(Debug, Clone, Copy)]
pub struct UnpackLimits {
    pub max_unpacked_bytes: u64,
    pub max_entries: u64,
    /// Largest unpacked/packed size ratio (`200` for 200:1), enforced past [`RATIO_FLOOR_BYTES`].
    pub max_unpack_ratio: u64,
}

/// The packed size the unpacked/packed ratio is measured against: the whole archive's, or, while
/// an archive is unpacked as it arrives, the bytes received so far (which only grows, so the
/// ratio is checked against a smaller size than the final one: stricter, never looser).
#[derive(Debug, Clone)]
pub enum PackedSize {
    Whole(u64),
    SoFar(Arc<AtomicU64>),
}

impl PackedSize {
    fn bytes(&self) -> u64 {
        match self {
            PackedSize::Whole(bytes) => *bytes,
            PackedSize::SoFar(received) => received.load(Ordering::Acquire),
        }
    }
}

/// A regular file taken out of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackedFile {
    /// Relative path inside the archive, `/`-separated.
    pub relative_path: String,
    /// Where it was written.
    pub local_path: PathBuf,
    pub size: u64,
    /// Measured while it was written (so storing it needs no second read).
    pub digest: StoredDigest,
}

/// Why an archive is refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum UnpackError {
    #[error("entry {entry:?} {reason}")]
    Entry { entry: String, reason: String },
    #[error(
        "entry names appear twice in its zip directory (an archive with duplicate entries is \
         refused)"
    )]
    DuplicateZipNames,
    #[error("it has more than {limit} entries")]
    TooManyEntries { limit: u64 },
    #[error("it expands past the limit of {limit} bytes (at entry {entry:?})")]
    TooLarge { entry: String, limit: u64 },
    #[error(
        "it expands to more than {ratio} times its packed size of {packed} bytes, over the \
         unpacked/packed ratio limit of {ratio}:1 (at entry {entry:?})"
    )]
    TooCompressed {
        entry: String,
        ratio: u64,
        packed: u64,
    },
    #[error("it cannot be read as {format}: {message}")]
    Corrupt {
        format: &'static str,
        message: String,
    },
    #[error("cannot write the unpacked files: {0}")]
    Local(String),
}

fn entry_error(entry: &str, reason: &str) -> UnpackError {
    UnpackError::Entry {
        entry: excerpt(entry),
        reason: reason.to_owned(),
    }
}

/// The entry `name` refused for a `what` of `length` bytes, over `limit`.
fn too_long(name: &str, what: &str, length: usize, limit: usize) -> UnpackError {
    let reason = format!("has a {what} of {length} bytes (the limit is {limit})");
    entry_error(name, &reason)
}

/// An entry name as quoted in messages: whole when short, else its start and a count.
fn excerpt(name: &str) -> String {
    match name.char_indices().nth(NAME_EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}... ({} bytes)", &name[..cut], name.len()),
        None => name.to_owned(),
    }
}

/// Checks an entry name and answers its safe relative path, or `None` for the root itself.
pub fn safe_relative_path(name: &str) -> Result<Option<String>, UnpackError> {
    if name.contains('\0') {
        return Err(entry_error(name, "has a NUL byte in its path"));
    }
    if name.starts_with('/') || name.starts_with('\\') || name.contains(":\\") {
        return Err(entry_error(name, "has an absolute path"));
    }
    if name.len() > MAX_PATH_BYTES {
        return Err(too_long(name, "path", name.len(), MAX_PATH_BYTES));
    }
    let mut parts = Vec::new();
    for component in Path::new(name).components() {
        match component {
            Component::Normal(part) => {
                let part = part
                    .to_str()
                    .ok_or_else(|| entry_error(name, "has a path that is not UTF-8"))?;
                if part.contains('\\') {
                    return Err(entry_error(name, "has a backslash in its path"));
                }
                if part.len() > MAX_COMPONENT_BYTES {
                    let length = part.len();
                    return Err(too_long(
                        name,
                        "path component",
                        length,
                        MAX_COMPONENT_BYTES,
                    ));
                }
                parts.push(part.to_owned());
            }
            Component::CurDir => {}
            Component::ParentDir => return Err(entry_error(name, "has '..' in its path")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(entry_error(name, "has an absolute path"));
            }
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// A reader counting the bytes it hands out (the decompressed stream of a tar archive, headers
/// and skipped entries included), failing once they pass the unpack limits.
struct CountingReader<R> {
    inner: R,
    count: Rc<Cell<u64>>,
    limits: UnpackLimits,
    packed: PackedSize,
    /// The packed size the limits were passed at (it may grow after while arriving).
    passed_at: Rc<Cell<Option<u64>>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        let count = self.count.get() + read as u64;
        self.count.set(count);
        let packed = self.packed.bytes();
        let stop_at = self
            .limits
            .max_unpacked_bytes
            .min(ratio_limit(self.limits, packed));
        if count > stop_at {
            self.passed_at.set(Some(packed));
            return Err(std::io::Error::other("the unpack limits are exceeded"));
        }
        Ok(read)
    }
}

/// Unpacked bytes past which the ratio limit refuses an archive of `packed` bytes.
fn ratio_limit(limits: UnpackLimits, packed: u64) -> u64 {
    packed
        .saturating_mul(limits.max_unpack_ratio)
        .max(RATIO_FLOOR_BYTES)
}

struct Unpacker<'a> {
    destination: &'a Path,
    limits: UnpackLimits,
    /// Size of the archive as uploaded (so far).
    packed: PackedSize,
    entries: u64,
    /// Bytes written to unpacked files.
    written: u64,
    /// Bytes decompressed so far (tar streams), when counted.
    inflated: Option<Rc<Cell<u64>>>,
    /// The packed size at which the counted stream passed the limits, once it has.
    passed_at: Rc<Cell<Option<u64>>>,
    /// The entry being read, for messages.
    current: String,
    files: Vec<UnpackedFile>,
    file_paths: HashSet<String>,
    directory_paths: HashSet<String>,
    buffer: Vec<u8>,
}

impl<'a> Unpacker<'a> {
    fn new(destination: &'a Path, limits: UnpackLimits, packed: PackedSize) -> Unpacker<'a> {
        Unpacker {
            destination,
            limits,
            packed,
            entries: 0,
            written: 0,
            inflated: None,
            passed_at: Rc::new(Cell::new(None)),
            current: String::new(),
            files: Vec::new(),
            file_paths: HashSet::new(),
            directory_paths: HashSet::new(),
            buffer: vec![0; 128 * 1024],
        }
    }

    /// Wraps a decompressed tar stream so that its size counts against the limits.
    fn counted<R: Read>(&mut self, inner: R) -> CountingReader<R> {
        let count = Rc::new(Cell::new(0));
        self.inflated = Some(count.clone());
        CountingReader {
            inner,
            count,
            limits: self.limits,
            packed: self.packed.clone(),
            passed_at: self.passed_at.clone(),
        }
    }

    /// The limit the archive has passed, if any.
    fn over_limit(&self) -> Option<UnpackError> {
        let inflated = self.inflated.as_ref().map_or(0, |count| count.get());
        let unpacked = self.written.max(inflated);
        if unpacked > self.limits.max_unpacked_bytes {
            return Some(UnpackError::TooLarge {
                entry: excerpt(&self.current),
                limit: self.limits.max_unpacked_bytes,
            });
        }
        let packed = self.passed_at.get().unwrap_or_else(|| self.packed.bytes());
        if unpacked > ratio_limit(self.limits, packed) {
            return Some(UnpackError::TooCompressed {
                entry: excerpt(&self.current),
                ratio: self.limits.max_unpack_ratio,
                packed,
            });
        }
        None
    }

    /// A read failure: a passed limit when there is one, else the archive is corrupt.
    fn read_error(&self, format: &'static str, error: impl std::fmt::Display) -> UnpackError {
        self.over_limit()
            .unwrap_or_else(|| corrupt(format, format!("entry {:?}: {error}", self.current)))
    }

    fn count_entry(&mut self, name: &str) -> Result<(), UnpackError> {
        self.current = name.to_owned();
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(UnpackError::TooManyEntries {
                limit: self.limits.max_entries,
            });
        }
        Ok(())
    }

    /// Records `relative` and its parents as directories, refusing a file in the way.
    fn claim_directory(&mut self, entry: &str, relative: &str) -> Result<(), UnpackError> {
        let mut end = 0;
        loop {
            let next = relative[end..].find('/').map(|index| end + index);
            let prefix = &relative[..next.unwrap_or(relative.len())];
            if self.file_paths.contains(prefix) {
                return Err(entry_error(
                    entry,
                    &format!(
                        "needs {:?} to be a directory, but the archive has a file there",
                        excerpt(prefix)
                    ),
                ));
            }
            if !self.directory_paths.contains(prefix) {
                self.directory_paths.insert(prefix.to_owned());
            }
            match next {
                Some(index) => end = index + 1,
                None => return Ok(()),
            }
        }
    }

    /// Records `relative` as a file, refusing a duplicate or a directory at that path.
    fn claim_file(&mut self, entry: &str, relative: &str) -> Result<(), UnpackError> {
        if self.file_paths.contains(relative) {
            return Err(entry_error(entry, "appears twice in the archive"));
        }
        if self.directory_paths.contains(relative) {
            return Err(entry_error(
                entry,
                "is a file, but the archive has a directory at that path",
            ));
        }
        if let Some((parent, _)) = relative.rsplit_once('/') {
            self.claim_directory(entry, parent)?;
        }
        self.file_paths.insert(relative.to_owned());
        Ok(())
    }

    fn directory(&mut self, entry: &str, relative: &str) -> Result<(), UnpackError> {
        self.claim_directory(entry, relative)?;
        std::fs::create_dir_all(self.destination.join(relative))
            .map_err(|error| UnpackError::Local(format!("{relative}: {error}")))
    }

    fn file(
        &mut self,
        entry: &str,
        relative: &str,
        format: &'static str,
        reader: &mut dyn Read,
    ) -> Result<(), UnpackError> {
        self.claim_file(entry, relative)?;
        let local_path = self.destination.join(relative);
        if let Some(parent) = local_path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| UnpackError::Local(format!("{relative}: {error}")))?;
        }
        let mut output = File::create(&local_path)
            .map_err(|error| UnpackError::Local(format!("{relative}: {error}")))?;
        let mut digest = Digester::new();
        loop {
            let read = match reader.read(&mut self.buffer) {
                Ok(read) => read,
                Err(error) => return Err(self.read_error(format, error)),
            };
            if read == 0 {
                break;
            }
            self.written += read as u64;
            if let Some(error) = self.over_limit() {
                return Err(error);
            }
            digest.update(&self.buffer[..read]);
            output
                .write_all(&self.buffer[..read])
                .map_err(|error| UnpackError::Local(format!("{relative}: {error}")))?;
        }
        let digest = digest.finish();
        self.files.push(UnpackedFile {
            relative_path: relative.to_owned(),
            local_path,
            size: digest.size,
            digest,
        });
        Ok(())
    }
}

/// Unpacks `archive` (a local file) into `destination` (an empty directory); answers the regular
/// files. On an error the caller discards `destination`.
pub fn unpack(
    archive: &Path,
    format: ArchiveFormat,
    destination: &Path,
    limits: UnpackLimits,
) -> Result<Vec<UnpackedFile>, UnpackError> {
    let local =
        |error: std::io::Error| UnpackError::Local(format!("{}: {error}", archive.display()));
    let file = File::open(archive).map_err(local)?;
    let packed = file.metadata().map_err(local)?.len();
    let mut unpacker = Unpacker::new(destination, limits, PackedSize::Whole(packed));
    match format {
        ArchiveFormat::TarGz | ArchiveFormat::Tar => {
            unpack_tar_stream(BufReader::new(file), format, &mut unpacker)?
        }
        ArchiveFormat::Zip => unpack_zip(file, &mut unpacker)?,
    }
    Ok(unpacker.files)
}

/// Unpacks a `.tar.gz` or `.tar` archive read front to back from `reader` (as it arrives, so
/// a zip, which is read from its end, is refused) into `destination` (an empty directory),
/// measuring the ratio against `packed`; answers the regular files. On an error the caller
/// discards `destination`.
pub fn unpack_reader(
    reader: impl Read,
    format: ArchiveFormat,
    destination: &Path,
    limits: UnpackLimits,
    packed: PackedSize,
) -> Result<Vec<UnpackedFile>, UnpackError> {
    let mut unpacker = Unpacker::new(destination, limits, packed);
    unpack_tar_stream(reader, format, &mut unpacker)?;
    Ok(unpacker.files)
}

fn unpack_tar_stream(
    reader: impl Read,
    format: ArchiveFormat,
    unpacker: &mut Unpacker<'_>,
) -> Result<(), UnpackError> {
    match format {
        ArchiveFormat::TarGz => {
            let reader = unpacker.counted(flate2::read::MultiGzDecoder::new(reader));
            unpack_tar(reader, "tar.gz", unpacker)
        }
        ArchiveFormat::Tar => {
            let reader = unpacker.counted(reader);
            unpack_tar(reader, "tar", unpacker)
        }
        ArchiveFormat::Zip => Err(corrupt(
            "zip",
            "a zip archive is read from its end and cannot be unpacked as it arrives",
        )),
    }
}

fn corrupt(format: &'static str, error: impl std::fmt::Display) -> UnpackError {
    UnpackError::Corrupt {
        format,
        message: error.to_string(),
    }
}

fn unpack_tar(
    reader: impl Read,
    format: &'static str,
    unpacker: &mut Unpacker<'_>,
) -> Result<(), UnpackError> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive
        .entries()
        .map_err(|error| unpacker.read_error(format, error))?;
    for entry in entries {
        let mut entry = entry.map_err(|error| unpacker.read_error(format, error))?;
        let raw_path = entry.path_bytes();
        let name = String::from_utf8_lossy(&raw_path).into_owned();
        unpacker.count_entry(&name)?;
        let relative = safe_relative_path(&name)?;
        let kind = entry.header().entry_type();
        use tar::EntryType;
        match kind {
            EntryType::Symlink => return Err(entry_error(&name, "is a symbolic link")),
            EntryType::Link => return Err(entry_error(&name, "is a hard link")),
            EntryType::Char | EntryType::Block => {
                return Err(entry_error(&name, "is a device"));
            }
            EntryType::Fifo => return Err(entry_error(&name, "is a FIFO")),
            EntryType::Directory => {
                if let Some(relative) = relative {
                    unpacker.directory(&name, &relative)?;
                }
            }
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let relative =
                    relative.ok_or_else(|| entry_error(&name, "is a file without a name"))?;
                unpacker.file(&name, &relative, format, &mut entry)?;
            }
            EntryType::XGlobalHeader
            | EntryType::XHeader
            | EntryType::GNULongName
            | EntryType::GNULongLink => {}
            other => {
                return Err(entry_error(
                    &name,
                    &format!("is a special entry ({other:?}) that is not accepted"),
                ));
            }
        }
    }
    Ok(())
}

fn unpack_zip(file: File, unpacker: &mut Unpacker<'_>) -> Result<(), UnpackError> {
    let mut archive =
        zip::ZipArchive::new(BufReader::new(file)).map_err(|error| corrupt("zip", error))?;
    // The reader keeps one entry per name: refuse rather than unpack one of the duplicates.
    if archive.has_duplicate_names() {
        return Err(UnpackError::DuplicateZipNames);
    }
    if archive.len() as u64 > unpacker.limits.max_entries {
        return Err(UnpackError::TooManyEntries {
            limit: unpacker.limits.max_entries,
        });
    }
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|error| corrupt("zip", error))?;
        let name = entry
            .name()
            .map_err(|error| corrupt("zip", error))?
            .into_owned();
        unpacker.count_entry(&name)?;
        let relative = safe_relative_path(&name)?;
        if let Some(mode) = entry.unix_mode() {
            let file_type = mode & 0o170000;
            match file_type {
                0o120000 => return Err(entry_error(&name, "is a symbolic link")),
                0o020000 | 0o060000 => return Err(entry_error(&name, "is a device")),
                0o010000 => return Err(entry_error(&name, "is a FIFO")),
                _ => {}
            }
        }
        if entry.is_dir() {
            if let Some(relative) = relative {
                unpacker.directory(&name, &relative)?;
            }
            continue;
        }
        let relative = relative.ok_or_else(|| entry_error(&name, "is a file without a name"))?;
        unpacker.file(&name, &relative, "zip", &mut entry)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "archive_tests.rs"]
mod tests;
