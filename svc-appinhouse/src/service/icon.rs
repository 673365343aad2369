//! The icon of a build, as a file a browser shows. An apk names its icon through its resources
//! (`apk-info` resolves it): the densest PNG or WebP of that name is taken. An ipa names its icons
//! in `Info.plist` (`CFBundleIcons`, `CFBundleIconFiles`, `CFBundleIconFile`): the largest PNG of
//! those names is taken; Xcode stores those as "CgBI" PNGs (raw deflate, BGRA, premultiplied
//! alpha) that browsers do not show, so they are rewritten as standard PNGs here.

use std::{fs::File, io::Read, io::Write};

use super::archive::{entry_names, read_entry};

/// Largest icon file taken from a build.
const MAX_ICON_BYTES: u64 = 1024 * 1024;
/// Widest and tallest icon rewritten from CgBI.
const MAX_ICON_SIDE: u32 = 1024;
/// Icon files considered in one build.
const MAX_CANDIDATES: usize = 64;
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// An icon image and the extension of its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icon {
    pub bytes: Vec<u8>,
    /// `png` or `webp`.
    pub extension: &'static str,
}

impl Icon {
    /// The file name the icon is stored under, beside the build's file.
    pub fn file_name(&self) -> String {
        format!("icon.{}", self.extension)
    }
}

/// The largest entry among `names` (uncompressed size), at most [`MAX_ICON_BYTES`].
fn largest(archive: &mut zip::ZipArchive<File>, names: &[String]) -> Option<String> {
    let mut best: Option<(u64, String)> = None;
    for name in names.iter().take(MAX_CANDIDATES) {
        let Ok(entry) = archive.by_name(name) else {
            continue;
        };
        let size = entry.size();
        if size == 0 || size > MAX_ICON_BYTES {
            continue;
        }
        if best.as_ref().is_none_or(|(best_size, _)| size > *best_size) {
            best = Some((size, name.clone()));
        }
    }
    best.map(|(_, name)| name)
}

/// The icon an apk's manifest names (`res/mipmap-hdpi-v4/ic_launcher.png`, or an adaptive icon's
/// XML): the largest PNG or WebP of the same name in any resource directory.
pub fn apk_icon(archive: &mut zip::ZipArchive<File>, icon_path: &str) -> Option<Icon> {
    let file = icon_path.rsplit('/').next()?;
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    if stem.is_empty() {
        return None;
    }
    let candidates: Vec<String> = entry_names(archive)
        .into_iter()
        .filter(|name| {
            name.starts_with("res/")
                && name.rsplit('/').next().is_some_and(|base| {
                    base == format!("{stem}.png") || base == format!("{stem}.webp")
                })
        })
        .collect();
    let name = largest(archive, &candidates)?;
    let bytes = read_entry(archive, &name, "the icon", MAX_ICON_BYTES).ok()?;
    let extension = if bytes.starts_with(PNG_SIGNATURE) {
        "png"
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "webp"
    } else {
        return None;
    };
    Some(Icon { bytes, extension })
}

/// Icon names an ipa's `Info.plist` lists.
fn ipa_icon_names(info: &plist::Dictionary) -> Vec<String> {
    let mut names = Vec::new();
    let mut add_files = |files: Option<&plist::Value>| {
        for file in files.and_then(plist::Value::as_array).into_iter().flatten() {
            if let Some(name) = file.as_string() {
                names.push(name.to_owned());
            }
        }
    };
    for key in ["CFBundleIcons", "CFBundleIcons~ipad"] {
        add_files(
            info.get(key)
                .and_then(plist::Value::as_dictionary)
                .and_then(|icons| icons.get("CFBundlePrimaryIcon"))
                .and_then(plist::Value::as_dictionary)
                .and_then(|primary| primary.get("CFBundleIconFiles")),
        );
    }
    add_files(info.get("CFBundleIconFiles"));
    if let Some(name) = info
        .get("CFBundleIconFile")
        .and_then(plist::Value::as_string)
    {
        names.push(name.to_owned());
    }
    names
        .into_iter()
        .map(|name| name.trim_end_matches(".png").to_owned())
        .filter(|name| !name.is_empty() && !name.contains('/'))
        .collect()
}

/// The largest icon an ipa names, as a standard PNG.
pub fn ipa_icon(
    archive: &mut zip::ZipArchive<File>,
    bundle_dir: &str,
    info: &plist::Dictionary,
) -> Option<Icon> {
    let names = ipa_icon_names(info);
    if names.is_empty() {
        return None;
    }
    let candidates: Vec<String> = entry_names(archive)
        .into_iter()
        .filter(|entry| {
            entry
                .strip_prefix(bundle_dir)
                .filter(|file| !file.contains('/') && file.ends_with(".png"))
                .is_some_and(|file| names.iter().any(|name| file.starts_with(name.as_str())))
        })
        .collect();
    let name = largest(archive, &candidates)?;
    let bytes = read_entry(archive, &name, "the icon", MAX_ICON_BYTES).ok()?;
    let bytes = standard_png(bytes)?;
    Some(Icon {
        bytes,
        extension: "png",
    })
}

/// The chunks of a PNG file: (type, data).
fn chunks(png: &[u8]) -> Option<Vec<([u8; 4], &[u8])>> {
    let mut rest = png.strip_prefix(PNG_SIGNATURE)?;
    let mut found = Vec::new();
    while rest.len() >= 12 {
        let length = u32::from_be_bytes(rest[..4].try_into().ok()?) as usize;
        let kind: [u8; 4] = rest[4..8].try_into().ok()?;
        let data = rest.get(8..8 + length)?;
        found.push((kind, data));
        rest = rest.get(12 + length..)?;
        if &kind == b"IEND" {
            break;
        }
    }
    Some(found)
}

/// `png` as a PNG browsers show: unchanged when standard, rewritten when CgBI (8-bit RGBA only),
/// `None` when it is neither.
pub fn standard_png(png: Vec<u8>) -> Option<Vec<u8>> {
    let parts = chunks(&png)?;
    if !parts.iter().any(|(kind, _)| kind == b"CgBI") {
        return parts
            .first()
            .is_some_and(|(kind, _)| kind == b"IHDR")
            .then_some(png);
    }
    let header = parts.iter().find(|(kind, _)| kind == b"IHDR")?.1;
    if header.len() != 13 {
        return None;
    }
    let width = u32::from_be_bytes(header[0..4].try_into().ok()?);
    let height = u32::from_be_bytes(header[4..8].try_into().ok()?);
    let (depth, color, interlace) = (header[8], header[9], header[12]);
    if depth != 8 || color != 6 || interlace != 0 {
        return None;
    }
    if width == 0 || height == 0 || width > MAX_ICON_SIDE || height > MAX_ICON_SIDE {
        return None;
    }
    let compressed: Vec<u8> = parts
        .iter()
        .filter(|(kind, _)| kind == b"IDAT")
        .flat_map(|(_, data)| data.iter().copied())
        .collect();
    let stride = width as usize * 4;
    let expected = (stride + 1) * height as usize;
    let mut filtered = Vec::with_capacity(expected);
    flate2::read::DeflateDecoder::new(compressed.as_slice())
        .take(expected as u64 + 1)
        .read_to_end(&mut filtered)
        .ok()?;
    if filtered.len() != expected {
        return None;
    }
    let mut pixels = unfilter(&filtered, stride, height as usize)?;
    for pixel in pixels.chunks_exact_mut(4) {
        let (blue, green, red, alpha) = (pixel[0], pixel[1], pixel[2], pixel[3]);
        let straight = |premultiplied: u8| {
            if alpha == 0 {
                0
            } else {
                ((u32::from(premultiplied) * 255 + u32::from(alpha) / 2) / u32::from(alpha))
                    .min(255) as u8
            }
        };
        pixel.copy_from_slice(&[straight(red), straight(green), straight(blue), alpha]);
    }
    encode_rgba(width, height, &pixels)
}

/// Undoes PNG's per-row filters (4 bytes a pixel).
fn unfilter(filtered: &[u8], stride: usize, height: usize) -> Option<Vec<u8>> {
    let mut pixels = vec![0u8; stride * height];
    for row in 0..height {
        let line = &filtered[row * (stride + 1)..(row + 1) * (stride + 1)];
        let (filter, data) = (line[0], &line[1..]);
        let (done, current) = pixels.split_at_mut(row * stride);
        let current = &mut current[..stride];
        let above = if row == 0 {
            None
        } else {
            Some(&done[(row - 1) * stride..])
        };
        for index in 0..stride {
            let left = if index >= 4 { current[index - 4] } else { 0 };
            let up = above.map_or(0, |above| above[index]);
            let up_left = match above {
                Some(above) if index >= 4 => above[index - 4],
                _ => 0,
            };
            let predictor = match filter {
                0 => 0,
                1 => left,
                2 => up,
                3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                4 => paeth(left, up, up_left),
                _ => return None,
            };
            current[index] = data[index].wrapping_add(predictor);
        }
    }
    Some(pixels)
}

fn paeth(left: u8, up: u8, up_left: u8) -> u8 {
    let estimate = i16::from(left) + i16::from(up) - i16::from(up_left);
    let (to_left, to_up, to_up_left) = (
        (estimate - i16::from(left)).abs(),
        (estimate - i16::from(up)).abs(),
        (estimate - i16::from(up_left)).abs(),
    );
    if to_left <= to_up && to_left <= to_up_left {
        left
    } else if to_up <= to_up_left {
        up
    } else {
        up_left
    }
}

/// The `IHDR` data of 8-bit RGBA pixels.
fn rgba_header(width: u32, height: u32) -> Vec<u8> {
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    header
}

fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// A standard PNG of 8-bit RGBA pixels (no filters).
pub fn encode_rgba(width: u32, height: u32, pixels: &[u8]) -> Option<Vec<u8>> {
    let stride = width as usize * 4;
    if pixels.len() != stride * height as usize {
        return None;
    }
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    for row in pixels.chunks_exact(stride) {
        encoder.write_all(&[0]).ok()?;
        encoder.write_all(row).ok()?;
    }
    let compressed = encoder.finish().ok()?;
    let header = rgba_header(width, height);
    let mut out = PNG_SIGNATURE.to_vec();
    write_chunk(&mut out, b"IHDR", &header);
    write_chunk(&mut out, b"IDAT", &compressed);
    write_chunk(&mut out, b"IEND", &[]);
    Some(out)
}

/// A CgBI PNG of 8-bit BGRA premultiplied pixels, as Xcode writes them (for tests and fixtures).
pub fn encode_cgbi(width: u32, height: u32, rgba: &[u8]) -> Option<Vec<u8>> {
    let stride = width as usize * 4;
    if rgba.len() != stride * height as usize {
        return None;
    }
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    for row in rgba.chunks_exact(stride) {
        encoder.write_all(&[0]).ok()?;
        for pixel in row.chunks_exact(4) {
            let alpha = u32::from(pixel[3]);
            let premultiply = |value: u8| ((u32::from(value) * alpha + 127) / 255) as u8;
            encoder
                .write_all(&[
                    premultiply(pixel[2]),
                    premultiply(pixel[1]),
                    premultiply(pixel[0]),
                    pixel[3],
                ])
                .ok()?;
        }
    }
    let compressed = encoder.finish().ok()?;
    let header = rgba_header(width, height);
    let mut out = PNG_SIGNATURE.to_vec();
    write_chunk(&mut out, b"CgBI", &[0x50, 0x00, 0x20, 0x06]);
    write_chunk(&mut out, b"IHDR", &header);
    write_chunk(&mut out, b"IDAT", &compressed);
    write_chunk(&mut out, b"IEND", &[]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pixels whose alpha keeps premultiplication exact enough to compare.
    fn sample(width: u32, height: u32) -> Vec<u8> {
        let mut pixels = Vec::new();
        for y in 0..height {
            for x in 0..width {
                let alpha = if (x + y) % 3 == 0 { 255 } else { 0 };
                let value = |seed: u32| {
                    if alpha == 0 {
                        0
                    } else {
                        ((x * 37 + y * seed) % 256) as u8
                    }
                };
                pixels.extend_from_slice(&[value(11), value(23), value(41), alpha]);
            }
        }
        pixels
    }

    /// Decodes a standard PNG written by `encode_rgba` (filter 0 rows) back to pixels.
    fn decode_standard(png: &[u8]) -> (u32, u32, Vec<u8>) {
        let parts = chunks(png).expect("chunks");
        assert_eq!(&parts[0].0, b"IHDR", "a standard PNG starts with IHDR");
        let header = parts[0].1;
        let width = u32::from_be_bytes(header[0..4].try_into().expect("width"));
        let height = u32::from_be_bytes(header[4..8].try_into().expect("height"));
        let compressed: Vec<u8> = parts
            .iter()
            .filter(|(kind, _)| kind == b"IDAT")
            .flat_map(|(_, data)| data.iter().copied())
            .collect();
        let mut filtered = Vec::new();
        flate2::read::ZlibDecoder::new(compressed.as_slice())
            .read_to_end(&mut filtered)
            .expect("zlib");
        let pixels = unfilter(&filtered, width as usize * 4, height as usize).expect("unfilter");
        (width, height, pixels)
    }

    #[test]
    fn a_cgbi_icon_becomes_a_standard_png_with_the_same_pixels() {
        let pixels = sample(9, 7);
        let crushed = encode_cgbi(9, 7, &pixels).expect("cgbi");
        assert!(
            chunks(&crushed)
                .expect("chunks")
                .iter()
                .any(|(kind, _)| kind == b"CgBI")
        );
        let standard = standard_png(crushed).expect("rewritten");
        assert!(
            !chunks(&standard)
                .expect("chunks")
                .iter()
                .any(|(kind, _)| kind == b"CgBI")
        );
        assert_eq!(decode_standard(&standard), (9, 7, pixels));
    }

    #[test]
    fn standard_pngs_pass_unchanged_and_other_bytes_are_refused() {
        let png = encode_rgba(2, 2, &[7u8; 16]).expect("png");
        assert_eq!(standard_png(png.clone()), Some(png));
        assert_eq!(standard_png(b"GIF89a not a png".to_vec()), None);
        let mut truncated = encode_cgbi(4, 4, &[255u8; 64]).expect("cgbi");
        truncated.truncate(truncated.len() - 20);
        assert_eq!(standard_png(truncated), None);
    }

    #[test]
    fn every_png_filter_is_undone() {
        // Two rows of one pixel after a row of four pixels, filtered with each filter type.
        let stride = 8;
        let rows: [[u8; 8]; 2] = [
            [10, 20, 30, 40, 50, 60, 70, 80],
            [1, 2, 3, 4, 200, 100, 50, 25],
        ];
        for filter in 0..=4u8 {
            let mut filtered = vec![0u8];
            filtered.extend_from_slice(&rows[0]);
            filtered.push(filter);
            for index in 0..stride {
                let left = if index >= 4 { rows[1][index - 4] } else { 0 };
                let up = rows[0][index];
                let up_left = if index >= 4 { rows[0][index - 4] } else { 0 };
                let predictor = match filter {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                    _ => paeth(left, up, up_left),
                };
                filtered.push(rows[1][index].wrapping_sub(predictor));
            }
            let pixels = unfilter(&filtered, stride, 2).expect("unfilter");
            assert_eq!(&pixels[8..], &rows[1], "filter {filter}");
        }
        assert_eq!(
            unfilter(&[5, 0, 0, 0, 0], 4, 1),
            None,
            "unknown filter type"
        );
    }
}
