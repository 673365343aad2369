//! What an uploaded build says about itself. An ipa: its `Payload/*.app/Info.plist` (binary or
//! XML; bundle id, short version, build number, display name, minimum iOS) and the largest of
//! the icons it names. An apk: read with the maintained `apk-info` parser (binary
//! `AndroidManifest.xml` and `resources.arsc`: package, versionName, versionCode, minSdkVersion,
//! the application's label and icon). Windows installers carry nothing we read: their version
//! comes with the upload.

use std::path::Path;

use super::{
    AppinhouseResult,
    archive::{metadata_error, open_zip, read_entry},
    icon,
    platform::Platform,
};

/// Largest manifest read from an archive.
const MAX_MANIFEST_BYTES: u64 = 8 * 1024 * 1024;
/// Longest text kept of a value read from a build file.
const MAX_VALUE_CHARS: usize = 128;

/// Metadata found in a build file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildMetadata {
    pub bundle_id: String,
    pub version: String,
    pub title: String,
    /// The build number (ios `CFBundleVersion`, android `versionCode`).
    pub version_code: String,
    /// The oldest OS it installs on (`iOS 15.0`, `Android API 24`).
    pub min_os: String,
    /// The icon as an image file, when the build has one we can show.
    pub icon: Option<icon::Icon>,
}

/// `value` trimmed and cut to what we keep.
fn kept(value: &str) -> String {
    value.trim().chars().take(MAX_VALUE_CHARS).collect()
}

/// Reads an ipa's `Info.plist` and icon.
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
    let bytes = read_entry(&mut archive, &name, "Info.plist", MAX_MANIFEST_BYTES)?;
    let value = plist::Value::from_reader(std::io::Cursor::new(bytes))
        .map_err(|error| metadata_error(format!("Info.plist is not a plist: {error}")))?;
    let dictionary = value
        .as_dictionary()
        .ok_or_else(|| metadata_error("Info.plist is not a dictionary"))?;
    let text = |key: &str| {
        dictionary
            .get(key)
            .and_then(plist::Value::as_string)
            .map(kept)
            .filter(|text| !text.is_empty())
    };
    let bundle_id = text("CFBundleIdentifier")
        .ok_or_else(|| metadata_error("Info.plist has no CFBundleIdentifier"))?;
    let version = text("CFBundleShortVersionString")
        .or_else(|| text("CFBundleVersion"))
        .ok_or_else(|| metadata_error("Info.plist has no CFBundleShortVersionString"))?;
    let title = text("CFBundleDisplayName")
        .or_else(|| text("CFBundleName"))
        .unwrap_or_else(|| bundle_id.clone());
    let bundle_dir = name.trim_end_matches("Info.plist").to_owned();
    let icon = icon::ipa_icon(&mut archive, &bundle_dir, dictionary);
    Ok(BuildMetadata {
        bundle_id,
        version,
        title,
        version_code: text("CFBundleVersion").unwrap_or_default(),
        min_os: text("MinimumOSVersion")
            .map(|version| format!("iOS {version}"))
            .unwrap_or_default(),
        icon,
    })
}

/// Reads an apk's manifest, resources and icon.
pub fn read_apk(path: &Path) -> AppinhouseResult<BuildMetadata> {
    let apk = apk_info::Apk::new(path)
        .map_err(|error| metadata_error(format!("the apk cannot be read: {error}")))?;
    let bundle_id = apk
        .get_package_name()
        .map(|name| kept(&name))
        .filter(|name| !name.is_empty())
        .ok_or_else(|| metadata_error("AndroidManifest.xml has no package"))?;
    let label = apk
        .get_application_label()
        .map(|label| kept(&label))
        .filter(|label| !label.is_empty() && !label.starts_with('@'));
    let icon_path = apk.get_application_icon();
    let icon = icon_path.and_then(|icon_path| {
        let mut archive = open_zip(path, "apk").ok()?;
        icon::apk_icon(&mut archive, &icon_path)
    });
    Ok(BuildMetadata {
        title: label.unwrap_or_else(|| bundle_id.clone()),
        bundle_id,
        version: apk
            .get_version_name()
            .map(|name| kept(&name))
            .unwrap_or_default(),
        version_code: apk
            .get_version_code()
            .map(|code| kept(&code))
            .unwrap_or_default(),
        min_os: apk
            .get_min_sdk_version()
            .map(|sdk| format!("Android API {}", kept(&sdk)))
            .unwrap_or_default(),
        icon,
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
