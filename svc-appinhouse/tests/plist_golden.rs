//! The exact bytes of the OTA plist, pinned by golden files (with and without images), and that
//! they parse back as an Apple plist with the structure SPEC §6 describes.

use svc_appinhouse::service::plist::OtaManifest;

fn example(images: bool) -> OtaManifest {
    OtaManifest {
        software_url: "https://appinhouse.rog2.org/download/rog2/ios/1.0.2/ROG2 & <Dev>.ipa"
            .to_owned(),
        bundle_identifier: "org.rog2.dev".to_owned(),
        bundle_version: "1.0.2".to_owned(),
        title: "ROG2 \"测试\"".to_owned(),
        full_size_image: images.then(|| "https://appinhouse.rog2.org/full.png".to_owned()),
        display_image: images.then(|| "https://appinhouse.rog2.org/display.png".to_owned()),
    }
}

/// Compares with the golden file; `UPDATE_GOLDEN=1` rewrites it (review the diff before committing).
fn assert_golden(name: &str, bytes: &[u8]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, bytes).expect("write golden file");
    }
    let golden = std::fs::read(&path).expect("golden file");
    assert_eq!(
        String::from_utf8_lossy(bytes),
        String::from_utf8_lossy(&golden),
        "{name}"
    );
    assert_eq!(bytes, golden.as_slice(), "{name}: byte for byte");
}

#[test]
fn the_plist_without_images_has_the_golden_bytes() {
    assert_golden("ota-plain.plist", &example(false).render().expect("render"));
}

#[test]
fn the_plist_with_images_has_the_golden_bytes() {
    assert_golden("ota-images.plist", &example(true).render().expect("render"));
}

#[test]
fn the_plist_parses_back_with_its_structure() {
    let bytes = example(true).render().expect("render");
    let value = plist::Value::from_reader_xml(bytes.as_slice()).expect("well-formed plist");
    let item = &value.as_dictionary().expect("root")["items"]
        .as_array()
        .expect("items")[0];
    let item = item.as_dictionary().expect("item");
    let assets = item["assets"].as_array().expect("assets");
    let kinds: Vec<&str> = assets
        .iter()
        .map(|asset| {
            asset.as_dictionary().expect("asset")["kind"]
                .as_string()
                .expect("kind")
        })
        .collect();
    assert_eq!(
        kinds,
        ["software-package", "full-size-image", "display-image"]
    );
    assert_eq!(
        assets[0].as_dictionary().expect("asset")["url"].as_string(),
        Some("https://appinhouse.rog2.org/download/rog2/ios/1.0.2/ROG2 & <Dev>.ipa")
    );
    assert_eq!(
        assets[1].as_dictionary().expect("asset")["needs-shine"].as_boolean(),
        Some(true)
    );
    let metadata = item["metadata"].as_dictionary().expect("metadata");
    let keys: Vec<&str> = metadata.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["bundle-identifier", "bundle-version", "kind", "title"]
    );
    assert_eq!(metadata["kind"].as_string(), Some("software"));
    assert_eq!(metadata["title"].as_string(), Some("ROG2 \"测试\""));
}
