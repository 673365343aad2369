//! Build files made by tests: a minimal ipa (a zip with `Payload/NAME.app/Info.plist`, binary or
//! XML) and a minimal apk (a zip with a binary `AndroidManifest.xml`, UTF-16 or UTF-8 strings),
//! written by a small encoder of Android binary XML.
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

/// A compiled `<manifest xmlns:android=... package=... android:versionName=...>`.
pub fn android_manifest(package: &str, version_name: &str, utf8: bool) -> Vec<u8> {
    const VERSION_NAME: u32 = 0;
    const PACKAGE: u32 = 1;
    const MANIFEST: u32 = 2;
    const URI: u32 = 3;
    const PREFIX: u32 = 4;
    const VERSION_VALUE: u32 = 5;
    const PACKAGE_VALUE: u32 = 6;
    let strings = [
        "versionName",
        "package",
        "manifest",
        "http://schemas.android.com/apk/res/android",
        "android",
        version_name,
        package,
    ];
    let mut namespace = Vec::new();
    u32le(&mut namespace, PREFIX);
    u32le(&mut namespace, URI);

    let mut element = Vec::new();
    u32le(&mut element, u32::MAX);
    u32le(&mut element, MANIFEST);
    u16le(&mut element, 20);
    u16le(&mut element, 20);
    u16le(&mut element, 2);
    u16le(&mut element, 0);
    u16le(&mut element, 0);
    u16le(&mut element, 0);
    for (namespace_index, name, value) in [
        (URI, VERSION_NAME, VERSION_VALUE),
        (u32::MAX, PACKAGE, PACKAGE_VALUE),
    ] {
        u32le(&mut element, namespace_index);
        u32le(&mut element, name);
        u32le(&mut element, value);
        u16le(&mut element, 8);
        element.push(0);
        element.push(0x03);
        u32le(&mut element, value);
    }
    let mut end_element = Vec::new();
    u32le(&mut end_element, u32::MAX);
    u32le(&mut end_element, MANIFEST);

    let mut body = string_pool(&strings, utf8);
    body.extend(node(0x0100, &namespace));
    body.extend(node(0x0102, &element));
    body.extend(node(0x0103, &end_element));
    body.extend(node(0x0101, &namespace));
    let mut file = Vec::new();
    u16le(&mut file, 0x0003);
    u16le(&mut file, 8);
    u32le(&mut file, 8 + body.len() as u32);
    file.extend(body);
    file
}
