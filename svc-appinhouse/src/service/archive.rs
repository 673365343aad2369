//! Entries of a build file's zip archive (ipa, apk), read with a size limit so a crafted archive
//! cannot make a reader allocate more than it asked for.

use std::{fs::File, io::Read, path::Path};

use super::AppinhouseError;

/// A failure to read what a build file says about itself.
pub fn metadata_error(message: impl Into<String>) -> AppinhouseError {
    AppinhouseError::Metadata(message.into())
}

/// Opens a build file as a zip archive (`kind` names it in the error).
pub fn open_zip(path: &Path, kind: &str) -> Result<zip::ZipArchive<File>, AppinhouseError> {
    let file = File::open(path).map_err(|error| metadata_error(error.to_string()))?;
    zip::ZipArchive::new(file)
        .map_err(|error| metadata_error(format!("the {kind} is not a zip archive: {error}")))
}

/// The names of the entries of an archive.
pub fn entry_names(archive: &zip::ZipArchive<File>) -> Vec<String> {
    archive
        .file_names()
        .filter_map(|name| name.ok())
        .map(|name| name.into_owned())
        .collect()
}

/// Reads the entry `name` whole, refusing one larger than `max` bytes.
pub fn read_entry(
    archive: &mut zip::ZipArchive<File>,
    name: &str,
    what: &str,
    max: u64,
) -> Result<Vec<u8>, AppinhouseError> {
    let entry = archive
        .by_name(name)
        .map_err(|error| metadata_error(format!("cannot read {what}: {error}")))?;
    if entry.size() > max {
        return Err(metadata_error(format!("{what} is too large")));
    }
    let mut bytes = Vec::new();
    entry
        .take(max)
        .read_to_end(&mut bytes)
        .map_err(|error| metadata_error(format!("cannot read {what}: {error}")))?;
    Ok(bytes)
}
