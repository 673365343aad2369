//! Artifact answers as the legacy JSON shows them: package sync (9), the two 5.11.1 uploads,
//! `{id, name}` lists (5.11.1), review (5.11.3), config schema nodes (5.8.2.3 / 5.8.2.5) and
//! components with their methods (4.4). Download paths are this gateway's download route.

use proto::artifact::v1 as pb;
use serde::Serialize;
use serde_json::Value;

/// The download route of a stored file, under `base` (`scheme://host`, or empty for a path).
pub fn download_path(base: &str, file_id: &str) -> String {
    format!("{base}/api/artifact/files/{file_id}/download")
}

/// 9 and the script upload of 5.11.1: one stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SyncedFile {
    pub file_name: String,
    pub file_path: String,
    pub md5: String,
    pub file_id: String,
    pub version_id: String,
}

impl SyncedFile {
    pub fn from_proto(file: pb::StoredFile, base: &str) -> SyncedFile {
        SyncedFile {
            file_path: download_path(base, &file.id),
            file_name: file.name,
            md5: file.md5,
            file_id: file.id,
            version_id: file.version_id,
        }
    }
}

/// The app-config upload of 5.11.1: one stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConfigureFile {
    pub download_path: String,
    pub md5: String,
    pub id: String,
    pub artifact_version_id: String,
    pub filename: String,
}

impl ConfigureFile {
    pub fn from_proto(file: pb::StoredFile, base: &str) -> ConfigureFile {
        ConfigureFile {
            download_path: download_path(base, &file.id),
            md5: file.md5,
            id: file.id,
            artifact_version_id: file.version_id,
            filename: file.name,
        }
    }
}

/// A config schema node as 5.8.2.3 / 5.8.2.5 show it (leaves have `children: null`).
// Fields in alphabetical order, the order of the JSON object this type replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConfigNode {
    #[schema(no_recursion)]
    pub children: Option<Vec<ConfigNode>>,
    pub default: String,
    pub has_subitem: bool,
    pub id: String,
    pub key: String,
    #[serde(rename = "parentId")]
    pub parent_id: String,
    pub policy: String,
    pub remark: String,
    pub require: bool,
    pub rule: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl From<pb::ConfigNode> for ConfigNode {
    fn from(node: pb::ConfigNode) -> ConfigNode {
        let has_subitem = !node.children.is_empty();
        ConfigNode {
            children: has_subitem
                .then(|| node.children.into_iter().map(ConfigNode::from).collect()),
            default: node.default,
            has_subitem,
            id: node.id,
            key: node.key,
            parent_id: node.parent_id,
            policy: node.policy,
            remark: node.remark,
            require: node.require,
            rule: node.rule,
            kind: node.r#type,
        }
    }
}

/// A config schema node as JSON (see [`ConfigNode`]).
pub fn node_json(node: pb::ConfigNode) -> Value {
    serde_json::to_value(ConfigNode::from(node)).unwrap_or(Value::Null)
}

/// One version of an app-config template (`GET /api/artifact/configure/{id}/versions`), with
/// its `.j2` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConfigureVersion {
    pub create_time: String,
    pub creator: String,
    pub download_path: String,
    pub file_id: String,
    pub filename: String,
    pub md5: String,
    pub targetname: String,
    pub version: String,
    pub version_id: String,
    pub yml_file_id: String,
}

/// An app-config template and its versions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConfigureVersions {
    pub app_id: String,
    pub id: String,
    pub name: String,
    pub versions: Vec<ConfigureVersion>,
}

/// 5.11.4: the text of a script file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FileText {
    pub file_data: String,
}

/// A method of 4.4.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MethodItem {
    pub path: String,
    pub remark: String,
    pub config: Value,
    pub id: String,
    pub name: String,
}

/// A component of 4.4.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ComponentItem {
    pub method: Vec<MethodItem>,
    pub remark: String,
    pub id: String,
    pub name: String,
}

impl ComponentItem {
    pub fn from_proto(component: pb::Component, base: &str) -> ComponentItem {
        ComponentItem {
            method: component
                .methods
                .into_iter()
                .map(|method| MethodItem {
                    path: if method.file_id.is_empty() {
                        String::new()
                    } else {
                        download_path(base, &method.file_id)
                    },
                    remark: method.remark,
                    config: if method.has_params {
                        Value::Array(method.params.into_iter().map(node_json).collect())
                    } else {
                        Value::Null
                    },
                    id: method.id,
                    name: method.name,
                })
                .collect(),
            remark: component.remark,
            id: component.id,
            name: component.name,
        }
    }
}

/// A byte range asked for by a `Range` header, resolved against the file size: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No (usable) `Range` header: the whole file.
    Whole,
    Partial {
        start: u64,
        end: u64,
    },
    /// A range outside the file (416).
    Unsatisfiable,
}

/// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n` (one range; several fall back to the whole).
pub fn parse_range(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|value| value.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Whole;
    };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let parsed = if first.is_empty() {
        match last.parse::<u64>() {
            Ok(0) => return RangeRequest::Unsatisfiable,
            Ok(suffix) => Some((size.saturating_sub(suffix), size)),
            Err(_) => None,
        }
    } else {
        match (first.parse::<u64>(), last) {
            (Ok(start), "") => Some((start, size)),
            (Ok(start), last) => match last.parse::<u64>() {
                Ok(end) if end >= start => Some((start, end.saturating_add(1).min(size))),
                _ => None,
            },
            _ => None,
        }
    };
    match parsed {
        None => RangeRequest::Whole,
        Some((start, end)) if start >= size || start >= end => RangeRequest::Unsatisfiable,
        Some((start, end)) => RangeRequest::Partial { start, end },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ranges_are_resolved_against_the_size() {
        let partial = |start, end| RangeRequest::Partial { start, end };
        let cases = [
            (None, RangeRequest::Whole),
            (Some("bytes=2-4"), partial(2, 5)),
            (Some("bytes=7-"), partial(7, 10)),
            (Some("bytes=-3"), partial(7, 10)),
            (Some("bytes=5-100"), partial(5, 10)),
            (Some("bytes=10-"), RangeRequest::Unsatisfiable),
            (Some("bytes=0-1,4-5"), RangeRequest::Whole),
            (Some("items=1-2"), RangeRequest::Whole),
        ];
        for (header, expected) in cases {
            assert_eq!(parse_range(header, 10), expected, "{header:?}");
        }
    }

    #[test]
    fn leaves_have_null_children_and_lists_their_items() {
        let node = pb::ConfigNode {
            id: "apa101".into(),
            key: "ports".into(),
            r#type: "list-map".into(),
            remark: "待添加端口信息".into(),
            require: true,
            policy: "不变".into(),
            children: vec![pb::ConfigNode {
                id: "apa10101".into(),
                key: "port".into(),
                r#type: "other".into(),
                parent_id: "apa101".into(),
                ..pb::ConfigNode::default()
            }],
            ..pb::ConfigNode::default()
        };
        let value = node_json(node);
        assert_eq!(value["has_subitem"], true);
        assert_eq!(value["parentId"], "");
        assert_eq!(value["children"][0]["children"], Value::Null);
        assert_eq!(value["children"][0]["parentId"], "apa101");
        assert_eq!(value["children"][0]["has_subitem"], false);
    }

    #[test]
    fn synced_files_have_the_keys_of_contract_9() {
        let file = pb::StoredFile {
            id: "f1".into(),
            name: "pkg.tar.gz".into(),
            md5: "abc".into(),
            version_id: "v1".into(),
            ..pb::StoredFile::default()
        };
        let value = serde_json::to_value(SyncedFile::from_proto(file, "http://h")).expect("json");
        assert_eq!(
            value,
            json!({"file_name": "pkg.tar.gz", "file_path": "http://h/api/artifact/files/f1/download",
                   "md5": "abc", "file_id": "f1", "version_id": "v1"})
        );
    }
}
