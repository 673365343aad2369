//! What an uploaded build says about itself: an ipa's `Payload/*.app/Info.plist` (binary or XML;
//! bundle id, short version, display name) and an apk's binary `AndroidManifest.xml` (package,
//! versionName). Windows installers carry nothing we read: their version comes with the upload.

use std::{fs::File, io::Read, path::Path};

use super::{AppinhouseError, AppinhouseResult, axml, platform::Platform};

/// Largest manifest read from an archive.
const MAX_MANIFEST_BYTES: u64 = 8 * 1024 * 1024;

/// Metadata found in a build file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildMetadata {
    pub bundle_id: String,
    pub version: String,
    pub title: String,
}

fn metadata_error(message: impl Into<String>) -> AppinhouseError {
    AppinhouseError::Metadata(message.into())
}

fn read_entry(
    archive: &mut zip::ZipArchive<File>,
    name: &str,
    what: &str,
) -> AppinhouseResult<Vec<u8>> {
    let entry = archive
        .by_name(name)
        .map_err(|error| metadata_error(format!("cannot read {what}: {error}")))?;
    if entry.size() > MAX_MANIFEST_BYTES {
        return Err(metadata_error(format!("{what} is too large")));
    }
    let mut bytes = Vec::new();
    entry
        .take(MAX_MANIFEST_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|error| metadata_error(format!("cannot read {what}: {error}")))?;
    Ok(bytes)
}

fn open_zip(path: &Path, kind: &str) -> AppinhouseResult<zip::ZipArchive<File>> {
    let file = File::open(path).map_err(|error| metadata_error(error.to_string()))?;
    zip::ZipArchive::new(file)
        .map_err(|error| metadata_error(format!("the {kind} is not a zip archive: {error}")))
}

/// Reads an ipa's `Info.plist`.
pub fn read_ipa(path: &Path) -> AppinhouseResult<BuildMetadata> {
    let mut archive = open_zip(path, "ipa")?;
    let name = archive
        .file_names()
        .filter_map(|name| name.ok())
        .find(|name| {
            let parts: Vec<&str> = name.split('/').collect();
            parts.len() == 3
                && parts[0] == "Payload"
                && parts[1].ends_with(".app")
                && parts[2] == "Info.plist"
        })
        .map(|name| name.into_owned())
        .ok_or_else(|| metadata_error("the ipa has no Payload/*.app/Info.plist"))?;
    let bytes = read_entry(&mut archive, &name, "Info.plist")?;
    let value = plist::Value::from_reader(std::io::Cursor::new(bytes))
        .map_err(|error| metadata_error(format!("Info.plist is not a plist: {error}")))?;
    let dictionary = value
        .as_dictionary()
        .ok_or_else(|| metadata_error("Info.plist is not a dictionary"))?;
    let text = |key: &str| {
        dictionary
            .get(key)
            .and_then(plist::Value::as_string)
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let bundle_id = text("CFBundleIdentifier")
        .ok_or_else(|| metadata_error("Info.plist has no CFBundleIdentifier"))?;
    let version = text("CFBundleShortVersionString")
        .or_else(|| text("CFBundleVersion"))
        .ok_or_else(|| metadata_error("Info.plist has no CFBundleShortVersionString"))?;
    let title = text("CFBundleDisplayName")
        .or_else(|| text("CFBundleName"))
        .unwrap_or_else(|| bundle_id.clone());
    Ok(BuildMetadata {
        bundle_id,
        version,
        title,
    })
}

/// Reads an apk's `AndroidManifest.xml`.
pub fn read_apk(path: &Path) -> AppinhouseResult<BuildMetadata> {
    let mut archive = open_zip(path, "apk")?;
    let bytes = read_entry(&mut archive, "AndroidManifest.xml", "AndroidManifest.xml")?;
    let root = axml::read_root_element(&bytes)?;
    if root.name != "manifest" {
        return Err(metadata_error(format!(
            "AndroidManifest.xml starts with <{}>, not <manifest>",
            root.name
        )));
    }
    let bundle_id = root
        .attribute("package")
        .filter(|value| !value.is_empty())
        .ok_or_else(|| metadata_error("AndroidManifest.xml has no package"))?
        .to_owned();
    let version = root.attribute("versionName").unwrap_or_default().to_owned();
    Ok(BuildMetadata {
        title: bundle_id.clone(),
        bundle_id,
        version,
    })
}

/// Reads what the file of `platform` says (nothing for windows installers).
pub fn read(platform: Platform, path: &Path) -> AppinhouseResult<BuildMetadata> {
    match platform {
        Platform::Ios => read_ipa(path),
        Platform::Android => read_apk(path),
        Platform::Windows => Ok(BuildMetadata::default()),
    }
}
