//! Build files made by tests: ipas (a zip with `Payload/NAME.app/Info.plist`, binary or XML, and
//! CgBI icons) and apks (a zip with a binary `AndroidManifest.xml`, UTF-16 or UTF-8 strings, and
//! for a full one a `resources.arsc` naming the label and icon), written by small encoders of
//! Android binary XML and resource tables.
#![allow(dead_code)]

use std::io::{Cursor, Write};

/// A zip holding the given entries.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(*name, options).expect("zip entry");
        writer.write_all(bytes).expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}

/// An ipa whose Info.plist names `bundle_id`, `version` and `display_name`.
pub fn ipa(bundle_id: &str, version: &str, display_name: &str, binary_plist: bool) -> Vec<u8> {
    let mut info = plist::Dictionary::new();
    info.insert("CFBundleIdentifier".into(), bundle_id.into());
    info.insert("CFBundleShortVersionString".into(), version.into());
    info.insert("CFBundleVersion".into(), "77".into());
    info.insert("CFBundleDisplayName".into(), display_name.into());
    info.insert("CFBundleName".into(), "Internal".into());
    let value = plist::Value::Dictionary(info);
    let mut bytes = Vec::new();
    if binary_plist {
        value.to_writer_binary(&mut bytes).expect("binary plist");
    } else {
        value.to_writer_xml(&mut bytes).expect("xml plist");
    }
    zip_of(&[
        ("Payload/Demo.app/Info.plist", &bytes),
        (
            "Payload/Demo.app/Demo",
            b"\xCF\xFA\xED\xFE not really mach-o",
        ),
    ])
}

/// An apk whose manifest names `package` and `version_name`.
pub fn apk(package: &str, version_name: &str, utf8: bool) -> Vec<u8> {
    zip_of(&[
        (
            "AndroidManifest.xml",
            &android_manifest(package, version_name, utf8),
        ),
        ("classes.dex", b"dex\n035\0"),
    ])
}

fn u16le(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn u32le(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn string_pool(strings: &[&str], utf8: bool) -> Vec<u8> {
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for text in strings {
        offsets.push(data.len() as u32);
        if utf8 {
            data.push(text.encode_utf16().count() as u8);
            data.push(text.len() as u8);
            data.extend_from_slice(text.as_bytes());
            data.push(0);
        } else {
            let units: Vec<u16> = text.encode_utf16().collect();
            u16le(&mut data, units.len() as u16);
            for unit in units {
                u16le(&mut data, unit);
            }
            u16le(&mut data, 0);
        }
    }
    while data.len() % 4 != 0 {
        data.push(0);
    }
    let header_size = 28u32;
    let strings_start = header_size + 4 * strings.len() as u32;
    let mut chunk = Vec::new();
    u16le(&mut chunk, 0x0001);
    u16le(&mut chunk, header_size as u16);
    u32le(&mut chunk, strings_start + data.len() as u32);
    u32le(&mut chunk, strings.len() as u32);
    u32le(&mut chunk, 0);
    u32le(&mut chunk, if utf8 { 0x100 } else { 0 });
    u32le(&mut chunk, strings_start);
    u32le(&mut chunk, 0);
    for offset in offsets {
        u32le(&mut chunk, offset);
    }
    chunk.extend_from_slice(&data);
    chunk
}

fn node(kind: u16, body: &[u8]) -> Vec<u8> {
    let mut chunk = Vec::new();
    u16le(&mut chunk, kind);
    u16le(&mut chunk, 16);
    u32le(&mut chunk, 16 + body.len() as u32);
    u32le(&mut chunk, 1);
    u32le(&mut chunk, u32::MAX);
    chunk.extend_from_slice(body);
    chunk
}

/// A typed attribute value of compiled XML.
#[derive(Clone, Copy)]
pub enum Typed<'a> {
    Text(&'a str),
    Int(u32),
    /// A reference to a resource id (`@0x7f010000`).
    Reference(u32),
}

/// An element of compiled XML: name, attributes (`android:` ones flagged), children.
pub struct Element<'a> {
    pub name: &'a str,
    pub attributes: Vec<(bool, &'a str, Typed<'a>)>,
    pub children: Vec<Element<'a>>,
}

const ANDROID_URI: &str = "http://schemas.android.com/apk/res/android";

/// Compiled Android XML (`AndroidManifest.xml`) of `root`, strings in UTF-8 or UTF-16.
pub fn compiled_xml(root: &Element<'_>, utf8: bool) -> Vec<u8> {
    fn collect<'a>(element: &Element<'a>, strings: &mut Vec<&'a str>) {
        let mut add = |text: &'a str| {
            if !strings.contains(&text) {
                strings.push(text);
            }
        };
        add(element.name);
        for (_, name, value) in &element.attributes {
            add(name);
            if let Typed::Text(text) = value {
                add(text);
            }
        }
        for child in &element.children {
            collect(child, strings);
        }
    }
    let mut strings = vec![ANDROID_URI, "android"];
    collect(root, &mut strings);
    let index = |text: &str| {
        strings
            .iter()
            .position(|known| *known == text)
            .expect("interned") as u32
    };
    fn write(element: &Element<'_>, index: &dyn Fn(&str) -> u32, out: &mut Vec<u8>) {
        let mut start = Vec::new();
        u32le(&mut start, u32::MAX);
        u32le(&mut start, index(element.name));
        u16le(&mut start, 20);
        u16le(&mut start, 20);
        u16le(&mut start, element.attributes.len() as u16);
        u16le(&mut start, 0);
        u16le(&mut start, 0);
        u16le(&mut start, 0);
        for (android, name, value) in &element.attributes {
            u32le(
                &mut start,
                if *android {
                    index(ANDROID_URI)
                } else {
                    u32::MAX
                },
            );
            u32le(&mut start, index(name));
            let (raw, kind, data) = match value {
                Typed::Text(text) => (index(text), 0x03u8, index(text)),
                Typed::Int(number) => (u32::MAX, 0x10, *number),
                Typed::Reference(id) => (u32::MAX, 0x01, *id),
            };
            u32le(&mut start, raw);
            u16le(&mut start, 8);
            start.push(0);
            start.push(kind);
            u32le(&mut start, data);
        }
        out.extend(node(0x0102, &start));
        for child in &element.children {
            write(child, index, out);
        }
        let mut end = Vec::new();
        u32le(&mut end, u32::MAX);
        u32le(&mut end, index(element.name));
        out.extend(node(0x0103, &end));
    }
    let mut namespace = Vec::new();
    u32le(&mut namespace, index("android"));
    u32le(&mut namespace, index(ANDROID_URI));
    let mut body = string_pool(&strings, utf8);
    body.extend(node(0x0100, &namespace));
    write(root, &index, &mut body);
    body.extend(node(0x0101, &namespace));
    let mut file = Vec::new();
    u16le(&mut file, 0x0003);
    u16le(&mut file, 8);
    u32le(&mut file, 8 + body.len() as u32);
    file.extend(body);
    file
}

/// A compiled `<manifest xmlns:android=... package=... android:versionName=...>`.
pub fn android_manifest(package: &str, version_name: &str, utf8: bool) -> Vec<u8> {
    compiled_xml(
        &Element {
            name: "manifest",
            attributes: vec![
                (true, "versionName", Typed::Text(version_name)),
                (false, "package", Typed::Text(package)),
            ],
            children: Vec::new(),
        },
        utf8,
    )
}

/// A chunk of a resource table: type, header (after the first 8 bytes), body.
fn table_chunk(kind: u16, header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut chunk = Vec::new();
    u16le(&mut chunk, kind);
    u16le(&mut chunk, 8 + header.len() as u16);
    u32le(&mut chunk, 8 + (header.len() + body.len()) as u32);
    chunk.extend_from_slice(header);
    chunk.extend_from_slice(body);
    chunk
}

/// A `resources.arsc` of package 0x7f with two resources: `string/app_name` (0x7f010000) = `label`
/// and `mipmap/ic_launcher` (0x7f020000) = the file `icon_path`.
pub fn resources_arsc(label: &str, icon_path: &str) -> Vec<u8> {
    let values = string_pool(&[label, icon_path], false);
    let type_names = string_pool(&["string", "mipmap"], false);
    let key_names = string_pool(&["app_name", "ic_launcher"], false);
    let mut types = Vec::new();
    for (type_id, (key, value)) in [(1u8, (0u32, 0u32)), (2, (1, 1))] {
        let mut spec_header = vec![type_id, 0];
        u16le(&mut spec_header, 0);
        u32le(&mut spec_header, 1);
        let mut flags = Vec::new();
        u32le(&mut flags, 0);
        types.extend(table_chunk(0x0202, &spec_header, &flags));
        let mut header = vec![type_id, 0];
        u16le(&mut header, 0);
        u32le(&mut header, 1);
        u32le(&mut header, 8 + 12 + 64 + 4);
        u32le(&mut header, 64);
        header.extend_from_slice(&[0u8; 60]);
        let mut body = Vec::new();
        u32le(&mut body, 0);
        u16le(&mut body, 8);
        u16le(&mut body, 0);
        u32le(&mut body, key);
        u16le(&mut body, 8);
        body.push(0);
        body.push(0x03);
        u32le(&mut body, value);
        types.extend(table_chunk(0x0201, &header, &body));
    }
    let header_size = 288u32;
    let mut package_header = Vec::new();
    u32le(&mut package_header, 0x7f);
    let mut name = [0u8; 256];
    for (index, unit) in "com.example.demo".encode_utf16().enumerate() {
        name[index * 2..index * 2 + 2].copy_from_slice(&unit.to_le_bytes());
    }
    package_header.extend_from_slice(&name);
    u32le(&mut package_header, header_size);
    u32le(&mut package_header, 2);
    u32le(&mut package_header, header_size + type_names.len() as u32);
    u32le(&mut package_header, 2);
    u32le(&mut package_header, 0);
    let mut package_body = type_names;
    package_body.extend(key_names);
    package_body.extend(types);
    let package = table_chunk(0x0200, &package_header, &package_body);
    let mut table_header = Vec::new();
    u32le(&mut table_header, 1);
    let mut body = values;
    body.extend(package);
    table_chunk(0x0002, &table_header, &body)
}

/// A 4×4 RGBA test image: a PNG, or a CgBI PNG as Xcode stores ipa icons.
pub fn icon_png(cgbi: bool) -> Vec<u8> {
    let pixels: Vec<u8> = (0..16u8)
        .flat_map(|index| [index * 15, 255 - index * 15, 128, 255])
        .collect();
    if cgbi {
        svc_appinhouse::service::icon::encode_cgbi(4, 4, &pixels).expect("cgbi icon")
    } else {
        svc_appinhouse::service::icon::encode_rgba(4, 4, &pixels).expect("png icon")
    }
}

/// An apk as a build tool makes it: a manifest with package, versionName, versionCode,
/// minSdkVersion and an application whose label and icon are resources, its resource table, and
/// the icon in two densities (the denser one is larger).
pub fn apk_with_resources(package: &str, version_name: &str, label: &str) -> Vec<u8> {
    let manifest = compiled_xml(
        &Element {
            name: "manifest",
            attributes: vec![
                (true, "versionCode", Typed::Int(42)),
                (true, "versionName", Typed::Text(version_name)),
                (false, "package", Typed::Text(package)),
            ],
            children: vec![
                Element {
                    name: "uses-sdk",
                    attributes: vec![(true, "minSdkVersion", Typed::Int(24))],
                    children: Vec::new(),
                },
                Element {
                    name: "application",
                    attributes: vec![
                        (true, "label", Typed::Reference(0x7f01_0000)),
                        (true, "icon", Typed::Reference(0x7f02_0000)),
                    ],
                    children: Vec::new(),
                },
            ],
        },
        false,
    );
    let icon = icon_png(false);
    let small_icon =
        svc_appinhouse::service::icon::encode_rgba(1, 1, &[9, 9, 9, 255]).expect("small icon");
    assert!(
        small_icon.len() < icon.len(),
        "the denser icon is the larger file"
    );
    zip_of(&[
        ("AndroidManifest.xml", &manifest),
        (
            "resources.arsc",
            &resources_arsc(label, "res/mipmap-mdpi-v4/ic_launcher.png"),
        ),
        ("res/mipmap-mdpi-v4/ic_launcher.png", &small_icon),
        ("res/mipmap-xxhdpi-v4/ic_launcher.png", &icon),
        ("classes.dex", b"dex\n035\0"),
    ])
}

/// An ipa whose Info.plist names its icons, the minimum iOS and a build number, with the icons
/// as Xcode stores them (CgBI).
pub fn ipa_with_icon(bundle_id: &str, version: &str, display_name: &str) -> Vec<u8> {
    let mut info = plist::Dictionary::new();
    info.insert("CFBundleIdentifier".into(), bundle_id.into());
    info.insert("CFBundleShortVersionString".into(), version.into());
    info.insert("CFBundleVersion".into(), "77".into());
    info.insert("CFBundleDisplayName".into(), display_name.into());
    info.insert("MinimumOSVersion".into(), "15.0".into());
    let mut primary = plist::Dictionary::new();
    primary.insert(
        "CFBundleIconFiles".into(),
        plist::Value::Array(vec!["AppIcon60x60".into()]),
    );
    let mut icons = plist::Dictionary::new();
    icons.insert(
        "CFBundlePrimaryIcon".into(),
        plist::Value::Dictionary(primary),
    );
    info.insert("CFBundleIcons".into(), plist::Value::Dictionary(icons));
    let mut bytes = Vec::new();
    plist::Value::Dictionary(info)
        .to_writer_binary(&mut bytes)
        .expect("binary plist");
    let icon = icon_png(true);
    zip_of(&[
        ("Payload/Demo.app/Info.plist", &bytes),
        ("Payload/Demo.app/AppIcon60x60@2x.png", &icon),
        (
            "Payload/Demo.app/Demo",
            b"\xCF\xFA\xED\xFE not really mach-o",
        ),
    ])
}
