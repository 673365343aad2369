//! Safe, streaming unpacking of uploaded archives (`.tar.gz`, `.tgz`, `.tar`, `.zip`) into a
//! scratch directory. The whole archive is refused, naming the entry, for absolute paths, `..`,
//! symlinks, hardlinks, devices and other special entries, too many entries, or an expanded size
//! over the limit (archive bombs): the size is counted while bytes are written, not trusted from
//! headers. Memory stays flat: entries are copied through a fixed buffer.

use std::{
    fs::File,
    io::{BufReader, Read, Write},
    path::{Component, Path, PathBuf},
};

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
}

/// A regular file taken out of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackedFile {
    /// Relative path inside the archive, `/`-separated.
    pub relative_path: String,
    /// Where it was written.
    pub local_path: PathBuf,
    pub size: u64,
}

/// Why an archive is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnpackError {
    #[error("entry {entry:?} {reason}")]
    Entry { entry: String, reason: String },
    #[error("it has more than {limit} entries")]
    TooManyEntries { limit: u64 },
    #[error("it expands past the limit of {limit} bytes (at entry {entry:?})")]
    TooLarge { entry: String, limit: u64 },
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
        entry: entry.to_owned(),
        reason: reason.to_owned(),
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

struct Unpacker<'a> {
    destination: &'a Path,
    limits: UnpackLimits,
    entries: u64,
    written: u64,
    files: Vec<UnpackedFile>,
    buffer: Vec<u8>,
}

impl<'a> Unpacker<'a> {
    fn new(destination: &'a Path, limits: UnpackLimits) -> Unpacker<'a> {
        Unpacker {
            destination,
            limits,
            entries: 0,
            written: 0,
            files: Vec::new(),
            buffer: vec![0; 128 * 1024],
        }
    }

    fn count_entry(&mut self) -> Result<(), UnpackError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(UnpackError::TooManyEntries {
                limit: self.limits.max_entries,
            });
        }
        Ok(())
    }

    fn directory(&mut self, relative: &str) -> Result<(), UnpackError> {
        std::fs::create_dir_all(self.destination.join(relative))
            .map_err(|error| UnpackError::Local(format!("{relative}: {error}")))
    }

    fn file(&mut self, relative: &str, reader: &mut dyn Read) -> Result<(), UnpackError> {
        if self.files.iter().any(|file| file.relative_path == relative) {
            return Err(entry_error(relative, "appears twice in the archive"));
        }
        let local_path = self.destination.join(relative);
        if let Some(parent) = local_path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| UnpackError::Local(format!("{relative}: {error}")))?;
        }
        let mut output = File::create(&local_path)
            .map_err(|error| UnpackError::Local(format!("{relative}: {error}")))?;
        let mut size = 0_u64;
        loop {
            let read = reader
                .read(&mut self.buffer)
                .map_err(|error| UnpackError::Corrupt {
                    format: "an archive",
                    message: format!("entry {relative:?}: {error}"),
                })?;
            if read == 0 {
                break;
            }
            size += read as u64;
            self.written += read as u64;
            if self.written > self.limits.max_unpacked_bytes {
                return Err(UnpackError::TooLarge {
                    entry: relative.to_owned(),
                    limit: self.limits.max_unpacked_bytes,
                });
            }
            output
                .write_all(&self.buffer[..read])
                .map_err(|error| UnpackError::Local(format!("{relative}: {error}")))?;
        }
        self.files.push(UnpackedFile {
            relative_path: relative.to_owned(),
            local_path,
            size,
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
    let file = File::open(archive)
        .map_err(|error| UnpackError::Local(format!("{}: {error}", archive.display())))?;
    let mut unpacker = Unpacker::new(destination, limits);
    match format {
        ArchiveFormat::TarGz => unpack_tar(
            flate2::read::MultiGzDecoder::new(BufReader::new(file)),
            "tar.gz",
            &mut unpacker,
        )?,
        ArchiveFormat::Tar => unpack_tar(BufReader::new(file), "tar", &mut unpacker)?,
        ArchiveFormat::Zip => unpack_zip(file, &mut unpacker)?,
    }
    Ok(unpacker.files)
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
    let entries = archive.entries().map_err(|error| corrupt(format, error))?;
    for entry in entries {
        let mut entry = entry.map_err(|error| corrupt(format, error))?;
        unpacker.count_entry()?;
        let raw_path = entry.path_bytes();
        let name = String::from_utf8_lossy(&raw_path).into_owned();
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
                    unpacker.directory(&relative)?;
                }
            }
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let relative =
                    relative.ok_or_else(|| entry_error(&name, "is a file without a name"))?;
                unpacker.file(&relative, &mut entry)?;
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
    if archive.len() as u64 > unpacker.limits.max_entries {
        return Err(UnpackError::TooManyEntries {
            limit: unpacker.limits.max_entries,
        });
    }
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|error| corrupt("zip", error))?;
        unpacker.count_entry()?;
        let name = entry
            .name()
            .map_err(|error| corrupt("zip", error))?
            .into_owned();
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
                unpacker.directory(&relative)?;
            }
            continue;
        }
        let relative = relative.ok_or_else(|| entry_error(&name, "is a file without a name"))?;
        unpacker.file(&relative, &mut entry)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: UnpackLimits = UnpackLimits {
        max_unpacked_bytes: 1 << 20,
        max_entries: 100,
    };

    #[test]
    fn paths_are_checked() {
        assert_eq!(safe_relative_path("a/./b.txt"), Ok(Some("a/b.txt".into())));
        assert_eq!(safe_relative_path("./"), Ok(None));
        assert!(safe_relative_path("/etc/passwd").is_err());
        assert!(safe_relative_path("a/../../x").is_err());
        assert!(safe_relative_path("..").is_err());
        assert!(safe_relative_path("C:\\x").is_err());
    }

    #[test]
    fn formats_are_detected() {
        assert_eq!(
            ArchiveFormat::detect("a.TGZ", b""),
            Some(ArchiveFormat::TarGz)
        );
        assert_eq!(
            ArchiveFormat::detect("a.tar", b""),
            Some(ArchiveFormat::Tar)
        );
        assert_eq!(
            ArchiveFormat::detect("a.zip", b""),
            Some(ArchiveFormat::Zip)
        );
        assert_eq!(
            ArchiveFormat::detect("blob", &[0x1f, 0x8b, 8]),
            Some(ArchiveFormat::TarGz)
        );
        assert_eq!(
            ArchiveFormat::detect("blob", b"PK\x03\x04"),
            Some(ArchiveFormat::Zip)
        );
        assert_eq!(ArchiveFormat::detect("a.txt", b"hello"), None);
    }

    fn tar_with(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        build(&mut builder);
        builder.into_inner().expect("tar")
    }

    fn add_file(builder: &mut tar::Builder<Vec<u8>>, path: &str, content: &[u8]) {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, path, content)
            .expect("append");
    }

    fn unpack_bytes(
        bytes: &[u8],
        format: ArchiveFormat,
        limits: UnpackLimits,
    ) -> Result<Vec<UnpackedFile>, UnpackError> {
        let dir = tempfile::tempdir().expect("dir");
        let archive = dir.path().join("archive");
        std::fs::write(&archive, bytes).expect("write");
        let destination = dir.path().join("out");
        std::fs::create_dir(&destination).expect("mkdir");
        let files = unpack(&archive, format, &destination, limits)?;
        for file in &files {
            assert!(file.local_path.starts_with(&destination));
        }
        Ok(files)
    }

    #[test]
    fn a_tar_unpacks_its_files() {
        let bytes = tar_with(|builder| {
            add_file(builder, "bin/app.jar", b"jar");
            add_file(builder, "conf/a.yml", b"- key: x\n");
        });
        let files = unpack_bytes(&bytes, ArchiveFormat::Tar, LIMITS).expect("unpack");
        let paths: Vec<_> = files
            .iter()
            .map(|file| file.relative_path.as_str())
            .collect();
        assert_eq!(paths, vec!["bin/app.jar", "conf/a.yml"]);
        assert_eq!(files[0].size, 3);
    }

    #[test]
    fn links_and_devices_are_refused() {
        for (kind, expected) in [
            (tar::EntryType::Symlink, "symbolic link"),
            (tar::EntryType::Link, "hard link"),
            (tar::EntryType::Char, "device"),
            (tar::EntryType::Block, "device"),
            (tar::EntryType::Fifo, "FIFO"),
        ] {
            let bytes = tar_with(|builder| {
                let mut header = tar::Header::new_gnu();
                header.set_size(0);
                header.set_entry_type(kind);
                if matches!(kind, tar::EntryType::Symlink | tar::EntryType::Link) {
                    header.set_link_name("../../etc/passwd").expect("link");
                }
                header.set_path("evil").expect("path");
                header.set_cksum();
                builder.append(&header, std::io::empty()).expect("append");
            });
            let error = unpack_bytes(&bytes, ArchiveFormat::Tar, LIMITS).expect_err("refused");
            assert!(error.to_string().contains(expected), "{kind:?}: {error}");
            assert!(error.to_string().contains("\"evil\""), "{error}");
        }
    }

    #[test]
    fn bombs_and_entry_floods_are_refused() {
        let big = vec![0_u8; 2 << 20];
        let bytes = tar_with(|builder| add_file(builder, "zeros.bin", &big));
        let error = unpack_bytes(&bytes, ArchiveFormat::Tar, LIMITS).expect_err("too large");
        assert!(matches!(error, UnpackError::TooLarge { .. }), "{error}");
        let bytes = tar_with(|builder| {
            for index in 0..5 {
                add_file(builder, &format!("f{index}"), b"x");
            }
        });
        let limits = UnpackLimits {
            max_entries: 3,
            ..LIMITS
        };
        let error = unpack_bytes(&bytes, ArchiveFormat::Tar, limits).expect_err("too many");
        assert_eq!(error, UnpackError::TooManyEntries { limit: 3 });
    }

    #[test]
    fn a_zip_unpacks_and_refuses_traversal() {
        use zip::write::SimpleFileOptions;
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        writer
            .start_file("dir/a.txt", SimpleFileOptions::default())
            .expect("start");
        writer.write_all(b"hello").expect("write");
        let bytes = writer.finish().expect("finish").into_inner();
        let files = unpack_bytes(&bytes, ArchiveFormat::Zip, LIMITS).expect("unpack");
        assert_eq!(files[0].relative_path, "dir/a.txt");
        assert_eq!(
            std::fs::read(&files[0].local_path).ok(),
            None,
            "temp dir gone after the helper"
        );

        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        writer
            .start_file("../escape.txt", SimpleFileOptions::default())
            .expect("start");
        writer.write_all(b"x").expect("write");
        let bytes = writer.finish().expect("finish").into_inner();
        let error = unpack_bytes(&bytes, ArchiveFormat::Zip, LIMITS).expect_err("traversal");
        assert!(error.to_string().contains(".."), "{error}");
    }
}
