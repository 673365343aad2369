//! The artifact records as proto messages, one `From` each.

use common::time::to_unix_ms;
use proto::{ErrorReason, artifact::v1 as pb};
use tonic::Status;

use crate::service::{
    components::{ComponentListing, MethodListing},
    records::{FileRow, ScriptRow},
    schema::SchemaNode,
    templates::TemplateVersionView,
};

/// The values of a template or method, parsed from their JSON text.
pub(super) fn values_of(json: &str) -> Result<serde_json::Value, Status> {
    serde_json::from_str(json).map_err(|error| {
        ErrorReason::InvalidValues.status(format!("values are not valid JSON: {error}"))
    })
}

/// A script version with the files it holds.
pub(super) fn script_to_proto(row: ScriptRow, files: Vec<FileRow>) -> pb::ScriptVersion {
    pb::ScriptVersion {
        id: row.id,
        name: row.name,
        app_id: row.app_id,
        uploader: row.uploader,
        status: row.status,
        reviewer: row.reviewer,
        create_time_ms: to_unix_ms(row.create_time),
        files: files.into_iter().map(Into::into).collect(),
    }
}

common::proto_from! {
    FileRow as row => pb::StoredFile {
        id, name, path, md5, sha256, version_id, creator;
        size: u64::try_from(row.size).unwrap_or(0),
        create_time_ms: to_unix_ms(row.create_time),
    }
    SchemaNode as node => pb::ConfigNode {
        id, key, remark, default, require, rule, policy, parent_id;
        r#type: node.node_type.as_str().to_owned(),
        children: node.children.into_iter().map(Into::into).collect(),
    }
    ComponentListing as listing => pb::Component {
        ; id: listing.component.id,
        name: listing.component.name,
        remark: listing.component.remark,
        methods: listing.methods.into_iter().map(Into::into).collect(),
    }
    TemplateVersionView as view => pb::TemplateVersion {
        ; version_id: view.version.id,
        version: view.version.version,
        j2: Some(view.j2.into()),
        yml_file_id: view.template.yml_file_id,
        target_name: view.template.name,
        creator: view.version.creator,
        create_time_ms: to_unix_ms(view.version.create_time),
    }
}

impl From<MethodListing> for pb::Method {
    fn from(listing: MethodListing) -> pb::Method {
        let builtin = listing.method.builtin;
        let has_params = !listing.params.is_empty();
        let (file_id, version_id, entrypoint, timeout_s) = match listing.version {
            Some(version) => (
                version.file_id,
                version.id,
                version.entrypoint,
                u32::try_from(version.timeout_s).unwrap_or(0),
            ),
            None => Default::default(),
        };
        pb::Method {
            id: listing.method.id,
            name: listing.method.name,
            remark: listing.method.remark,
            file_id,
            version_id,
            entrypoint,
            timeout_s,
            is_display_script: builtin,
            params: listing.params.into_iter().map(Into::into).collect(),
            has_params,
        }
    }
}
