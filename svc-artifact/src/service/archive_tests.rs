//! Tests of the archive checks: paths, links and devices, collisions, limits and the ratio.

use super::*;

const LIMITS: UnpackLimits = UnpackLimits {
    max_unpacked_bytes: 1 << 20,
    max_entries: 100,
    max_unpack_ratio: 200,
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

fn add_directory(builder: &mut tar::Builder<Vec<u8>>, path: &str) {
    let mut header = tar::Header::new_gnu();
    header.set_size(0);
    header.set_mode(0o755);
    header.set_entry_type(tar::EntryType::Directory);
    builder
        .append_data(&mut header, path, std::io::empty())
        .expect("append directory");
}

#[test]
fn colliding_entries_are_refused_before_anything_is_written() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "file then file below it",
            tar_with(|builder| {
                add_file(builder, "a", b"x");
                add_file(builder, "a/b", b"y");
            }),
            "\"a/b\" needs \"a\" to be a directory",
        ),
        (
            "file then the file above it",
            tar_with(|builder| {
                add_file(builder, "a/b", b"y");
                add_file(builder, "a", b"x");
            }),
            "\"a\" is a file, but the archive has a directory",
        ),
        (
            "directory then a file of its name",
            tar_with(|builder| {
                add_directory(builder, "a/");
                add_file(builder, "a", b"x");
            }),
            "\"a\" is a file, but the archive has a directory",
        ),
        (
            "file then a directory of its name",
            tar_with(|builder| {
                add_file(builder, "a", b"x");
                add_directory(builder, "a/b/");
            }),
            "needs \"a\" to be a directory",
        ),
        (
            "duplicate",
            tar_with(|builder| {
                add_file(builder, "d/a", b"x");
                add_file(builder, "./d/a", b"y");
            }),
            "\"d/a\" appears twice",
        ),
    ];
    for (case, bytes, expected) in cases {
        let dir = tempfile::tempdir().expect("dir");
        let archive = dir.path().join("archive");
        std::fs::write(&archive, &bytes).expect("write");
        let destination = dir.path().join("out");
        std::fs::create_dir(&destination).expect("mkdir");
        let error = unpack(&archive, ArchiveFormat::Tar, &destination, LIMITS).expect_err(case);
        assert!(
            matches!(error, UnpackError::Entry { .. }),
            "{case}: {error:?}"
        );
        assert!(error.to_string().contains(expected), "{case}: {error}");
    }
    // Repeated directories and files beside each other are fine.
    let bytes = tar_with(|builder| {
        add_directory(builder, "a/");
        add_directory(builder, "a/");
        add_file(builder, "a/b", b"x");
        add_file(builder, "a/c/d", b"y");
        add_file(builder, "ab", b"z");
    });
    let files = unpack_bytes(&bytes, ArchiveFormat::Tar, LIMITS).expect("unpack");
    assert_eq!(files.len(), 3);
}

#[test]
fn long_components_and_paths_are_refused() {
    let long = "x".repeat(MAX_COMPONENT_BYTES + 1);
    let error = safe_relative_path(&format!("dir/{long}")).expect_err("long component");
    assert!(
        error.to_string().contains("path component of 256 bytes"),
        "{error}"
    );
    let fits = "x".repeat(MAX_COMPONENT_BYTES);
    assert!(safe_relative_path(&format!("dir/{fits}")).is_ok());
    let deep = vec!["y".repeat(200); 6].join("/");
    let error = safe_relative_path(&deep).expect_err("long path");
    assert!(error.to_string().contains("path of 1205 bytes"), "{error}");
    assert!(
        error.to_string().len() < 400,
        "the name is quoted as an excerpt: {error}"
    );
}

fn gzip_of(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

#[test]
fn the_unpack_ratio_is_enforced_past_the_floor() {
    let limits = UnpackLimits {
        max_unpacked_bytes: 1 << 30,
        ..LIMITS
    };
    // 8 MiB of zeros: a few KiB packed, far over 200:1.
    let bomb = gzip_of(&tar_with(|builder| {
        add_file(builder, "zeros.bin", &vec![0_u8; 8 << 20])
    }));
    let error = unpack_bytes(&bomb, ArchiveFormat::TarGz, limits).expect_err("bomb");
    assert!(
        matches!(error, UnpackError::TooCompressed { ratio: 200, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("ratio limit of 200:1"),
        "{error}"
    );
    // Under the floor, a high ratio is fine.
    let small = gzip_of(&tar_with(|builder| {
        add_file(builder, "zeros.bin", &vec![0_u8; 512 << 10])
    }));
    unpack_bytes(&small, ArchiveFormat::TarGz, limits).expect("under the floor");
    // The same bomb in a zip.
    use zip::write::SimpleFileOptions;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer
        .start_file("zeros.bin", SimpleFileOptions::default())
        .expect("start");
    writer.write_all(&vec![0_u8; 8 << 20]).expect("write");
    let bytes = writer.finish().expect("finish").into_inner();
    let error = unpack_bytes(&bytes, ArchiveFormat::Zip, limits).expect_err("zip bomb");
    assert!(
        matches!(error, UnpackError::TooCompressed { .. }),
        "{error:?}"
    );
    // Skipped data counts too: a pax header of 8 MiB of zeros is decompressed, not written.
    let mut raw = tar_with(|builder| {
        let mut header = tar::Header::new_ustar();
        header.set_size(8 << 20);
        header.set_entry_type(tar::EntryType::XGlobalHeader);
        header.set_path("pax").expect("path");
        header.set_cksum();
        builder
            .append(&header, std::io::repeat(0).take(8 << 20))
            .expect("append");
    });
    raw.extend_from_slice(&[0_u8; 1024]);
    let error =
        unpack_bytes(&gzip_of(&raw), ArchiveFormat::TarGz, limits).expect_err("skipped bomb");
    assert!(
        matches!(error, UnpackError::TooCompressed { .. }),
        "{error:?}"
    );
}
