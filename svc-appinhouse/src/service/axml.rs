//! A small reader of Android binary XML (the compiled `AndroidManifest.xml` inside an apk): the
//! string pool and the attributes of the first `<manifest>` element, which is all the metadata
//! an upload needs (`package`, `android:versionName`).

use super::{AppinhouseError, AppinhouseResult};

const RES_XML_TYPE: u16 = 0x0003;
const RES_STRING_POOL_TYPE: u16 = 0x0001;
const RES_XML_START_ELEMENT_TYPE: u16 = 0x0102;
const UTF8_FLAG: u32 = 0x100;
const NO_INDEX: u32 = 0xFFFF_FFFF;
/// Typed value kind of a string (the data is a string pool index).
const TYPE_STRING: u8 = 0x03;

fn error(message: impl Into<String>) -> AppinhouseError {
    AppinhouseError::Metadata(format!("AndroidManifest.xml: {}", message.into()))
}

fn u16_at(bytes: &[u8], offset: usize) -> AppinhouseResult<u16> {
    bytes
        .get(offset..offset + 2)
        .map(|slice| u16::from_le_bytes([slice[0], slice[1]]))
        .ok_or_else(|| error(format!("truncated at byte {offset}")))
}

fn u32_at(bytes: &[u8], offset: usize) -> AppinhouseResult<u32> {
    bytes
        .get(offset..offset + 4)
        .map(|slice| u32::from_le_bytes([slice[0], slice[1], slice[2], slice[3]]))
        .ok_or_else(|| error(format!("truncated at byte {offset}")))
}

/// One attribute of an element: its name and its string value (when it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub value: Option<String>,
}

/// The first element of a binary XML document: its name and attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootElement {
    pub name: String,
    pub attributes: Vec<Attribute>,
}

impl RootElement {
    /// The string value of the attribute `name` (namespace ignored).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name == name)
            .and_then(|attribute| attribute.value.as_deref())
    }
}

fn read_string_pool(bytes: &[u8], start: usize) -> AppinhouseResult<Vec<String>> {
    let header_size = u16_at(bytes, start + 2)? as usize;
    let string_count = u32_at(bytes, start + 8)? as usize;
    let flags = u32_at(bytes, start + 16)?;
    let strings_start = u32_at(bytes, start + 20)? as usize;
    if string_count > bytes.len() {
        return Err(error("string count is larger than the file"));
    }
    let utf8 = flags & UTF8_FLAG != 0;
    let mut strings = Vec::with_capacity(string_count);
    for index in 0..string_count {
        let offset = u32_at(bytes, start + header_size + index * 4)? as usize;
        let at = start + strings_start + offset;
        strings.push(if utf8 {
            read_utf8(bytes, at)?
        } else {
            read_utf16(bytes, at)?
        });
    }
    Ok(strings)
}

fn read_utf8(bytes: &[u8], mut at: usize) -> AppinhouseResult<String> {
    // Two lengths (UTF-16 units, then bytes), each one byte, or two when the high bit is set.
    let mut length = 0usize;
    for _ in 0..2 {
        let first = *bytes.get(at).ok_or_else(|| error("truncated string"))? as usize;
        if first & 0x80 != 0 {
            let second = *bytes.get(at + 1).ok_or_else(|| error("truncated string"))? as usize;
            length = ((first & 0x7F) << 8) | second;
            at += 2;
        } else {
            length = first;
            at += 1;
        }
    }
    let slice = bytes
        .get(at..at + length)
        .ok_or_else(|| error("truncated string"))?;
    String::from_utf8(slice.to_vec()).map_err(|_| error("a string is not UTF-8"))
}

fn read_utf16(bytes: &[u8], mut at: usize) -> AppinhouseResult<String> {
    let first = u16_at(bytes, at)? as usize;
    let length = if first & 0x8000 != 0 {
        let second = u16_at(bytes, at + 2)? as usize;
        at += 4;
        ((first & 0x7FFF) << 16) | second
    } else {
        at += 2;
        first
    };
    let units = (0..length)
        .map(|index| u16_at(bytes, at + index * 2))
        .collect::<AppinhouseResult<Vec<u16>>>()?;
    String::from_utf16(&units).map_err(|_| error("a string is not UTF-16"))
}

/// Reads the first element of a binary XML document.
pub fn read_root_element(bytes: &[u8]) -> AppinhouseResult<RootElement> {
    if u16_at(bytes, 0)? != RES_XML_TYPE {
        return Err(error("not an Android binary XML file"));
    }
    let header_size = u16_at(bytes, 2)? as usize;
    let total = (u32_at(bytes, 4)? as usize).min(bytes.len());
    let mut strings: Option<Vec<String>> = None;
    let mut at = header_size;
    while at + 8 <= total {
        let chunk_type = u16_at(bytes, at)?;
        let chunk_header = u16_at(bytes, at + 2)? as usize;
        let chunk_size = u32_at(bytes, at + 4)? as usize;
        if chunk_size < 8 {
            return Err(error(format!("bad chunk size at byte {at}")));
        }
        match chunk_type {
            RES_STRING_POOL_TYPE => strings = Some(read_string_pool(bytes, at)?),
            RES_XML_START_ELEMENT_TYPE => {
                let strings = strings
                    .as_ref()
                    .ok_or_else(|| error("element before the string pool"))?;
                return read_element(bytes, at + chunk_header, strings);
            }
            _ => {}
        }
        at += chunk_size;
    }
    Err(error("no element"))
}

fn string(strings: &[String], index: u32) -> Option<String> {
    if index == NO_INDEX {
        return None;
    }
    strings.get(index as usize).cloned()
}

fn read_element(bytes: &[u8], body: usize, strings: &[String]) -> AppinhouseResult<RootElement> {
    let name_index = u32_at(bytes, body + 4)?;
    let attribute_start = u16_at(bytes, body + 8)? as usize;
    let attribute_size = u16_at(bytes, body + 10)? as usize;
    let attribute_count = u16_at(bytes, body + 12)? as usize;
    let name = string(strings, name_index).ok_or_else(|| error("element without a name"))?;
    let mut attributes = Vec::with_capacity(attribute_count);
    for index in 0..attribute_count {
        let at = body + attribute_start + index * attribute_size;
        let attribute_name = string(strings, u32_at(bytes, at + 4)?)
            .ok_or_else(|| error("attribute without a name"))?;
        let raw = u32_at(bytes, at + 8)?;
        let data_type = *bytes
            .get(at + 15)
            .ok_or_else(|| error("truncated attribute"))?;
        let data = u32_at(bytes, at + 16)?;
        let value = string(strings, raw).or_else(|| {
            (data_type == TYPE_STRING)
                .then(|| string(strings, data))
                .flatten()
        });
        attributes.push(Attribute {
            name: attribute_name,
            value,
        });
    }
    Ok(RootElement { name, attributes })
}
