//! The OTA manifest (`.plist`) iOS installs a build from: one item whose assets list the
//! software package first, then the optional full-size and display images (`needs-shine` true),
//! and whose metadata is `bundle-identifier, bundle-version, kind=software, title`. Keys are
//! sorted; the `plist` crate writes well-formed, escaped XML.

use plist::{Dictionary, Value};

use super::{AppinhouseError, AppinhouseResult};

/// What an OTA manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtaManifest {
    pub software_url: String,
    pub bundle_identifier: String,
    pub bundle_version: String,
    pub title: String,
    pub full_size_image: Option<String>,
    pub display_image: Option<String>,
}

fn dictionary(mut entries: Vec<(&str, Value)>) -> Value {
    entries.sort_by(|left, right| left.0.cmp(right.0));
    let mut dictionary = Dictionary::new();
    for (key, value) in entries {
        dictionary.insert(key.to_owned(), value);
    }
    Value::Dictionary(dictionary)
}

fn asset(kind: &str, url: &str, needs_shine: bool) -> Value {
    let mut entries = vec![
        ("kind", Value::String(kind.to_owned())),
        ("url", Value::String(url.to_owned())),
    ];
    if needs_shine {
        entries.push(("needs-shine", Value::Boolean(true)));
    }
    dictionary(entries)
}

impl OtaManifest {
    /// The manifest as XML plist bytes.
    pub fn render(&self) -> AppinhouseResult<Vec<u8>> {
        let mut assets = vec![asset("software-package", &self.software_url, false)];
        if let Some(url) = &self.full_size_image {
            assets.push(asset("full-size-image", url, true));
        }
        if let Some(url) = &self.display_image {
            assets.push(asset("display-image", url, true));
        }
        let metadata = dictionary(vec![
            (
                "bundle-identifier",
                Value::String(self.bundle_identifier.clone()),
            ),
            ("bundle-version", Value::String(self.bundle_version.clone())),
            ("kind", Value::String("software".to_owned())),
            ("title", Value::String(self.title.clone())),
        ]);
        let item = dictionary(vec![
            ("assets", Value::Array(assets)),
            ("metadata", metadata),
        ]);
        let root = dictionary(vec![("items", Value::Array(vec![item]))]);
        let mut bytes = Vec::new();
        root.to_writer_xml(&mut bytes)
            .map_err(|error| AppinhouseError::Plist(error.to_string()))?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
