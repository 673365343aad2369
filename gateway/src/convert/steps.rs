//! What is bound to a step, as the legacy JSON shows it read back (5.8.1, 5.8.2.2–5.8.2.7) and
//! as 5.6.2.2 answers its save. Fields are in alphabetical order, the order of the JSON objects
//! these types replaced, so that the answers keep every byte.

use proto::jobs::v1 as pb;
use serde::Serialize;
use serde_json::Value;
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr,
        schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type},
    },
};

use super::{artifact::ConfigNode, artifact::download_path, catalog::IdName};

/// 5.8.2.2: a file bound to a step, with its artifact version (`status` is the file name, as
/// the legacy UI reads it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StepArtifactItem {
    pub artifact_id: Option<String>,
    pub artifact_name: Option<String>,
    pub artifact_version_id: String,
    pub artifact_version_name: Option<String>,
    pub dest: String,
    pub download_path: String,
    pub file_id: String,
    pub filename: String,
    #[serde(rename = "host_IP")]
    pub host_ip: Vec<String>,
    pub md5: String,
    pub status: String,
    pub version: Option<String>,
}

impl StepArtifactItem {
    pub fn from_proto(artifact: pb::StepArtifact, base: &str) -> StepArtifactItem {
        StepArtifactItem {
            artifact_id: artifact.artifact_id,
            artifact_name: artifact.artifact_name,
            artifact_version_id: artifact.version_id,
            artifact_version_name: artifact.version.clone(),
            dest: artifact.dest,
            download_path: download_path(base, &artifact.file_id),
            file_id: artifact.file_id,
            filename: artifact.file_name.clone(),
            host_ip: artifact.host_ips,
            md5: artifact.md5,
            status: artifact.file_name,
            version: artifact.version,
        }
    }
}

/// 5.8.2.7: a script bound to a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StepScriptItem {
    pub dest: String,
    pub execute_type: String,
    #[serde(rename = "host_IP")]
    pub host_ip: Vec<String>,
    pub parameter: String,
    pub script_file_id: String,
    pub script_file_name: String,
    pub script_id: String,
    pub script_name: String,
}

impl From<pb::StepScript> for StepScriptItem {
    fn from(script: pb::StepScript) -> StepScriptItem {
        StepScriptItem {
            dest: script.dest,
            execute_type: script.execute_type,
            host_ip: script.host_ips,
            parameter: script.parameter,
            script_file_id: script.id,
            script_file_name: script.file_name,
            script_id: script.script_id,
            script_name: script.script_name,
        }
    }
}

/// A cluster a step may use (5.8.1's `clusters`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StepCluster {
    pub id: String,
    pub name: String,
    pub remark: String,
}

/// `PartialSchema` and `ToSchema` of a transparent object of values keyed by schema node id:
/// the type, its object schema (the free-form values are added) and its description.
macro_rules! values_by_node_schema {
    ($type:ty, $object:expr, $description:literal $(,)?) => {
        impl PartialSchema for $type {
            fn schema() -> RefOr<Schema> {
                $object
                    .additional_properties(Some(AdditionalProperties::FreeForm(true)))
                    .description(Some($description))
                    .into()
            }
        }

        impl ToSchema for $type {}
    };
}

/// 5.8.2.4: the values of one app-config group, keyed by schema node id (as saved).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ConfigGroupValues(pub Value);

values_by_node_schema!(
    ConfigGroupValues,
    ObjectBuilder::new().schema_type(Type::Object),
    "The values of one app-config group, keyed by schema node id",
);

/// 5.8.2.6: the saved parameter values of a step, keyed by schema node id, with `histor_data`
/// false (they are the step's own).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct StepParams(pub Value);

values_by_node_schema!(
    StepParams,
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "histor_data",
            ObjectBuilder::new().schema_type(Type::Boolean),
        )
        .required("histor_data"),
    "The saved parameter values keyed by schema node id, and `histor_data` false",
);

/// 5.8.1: everything configured on a step at once.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StepAllData {
    pub actemplate_desc: Vec<ConfigNode>,
    pub actemplate_value: Vec<ConfigGroupValues>,
    pub artifact: Vec<StepArtifactItem>,
    pub clusters: Vec<StepCluster>,
    pub config_desc: Vec<ConfigNode>,
    pub config_value: StepParams,
    pub script: Vec<StepScriptItem>,
}

/// 5.6.2.2's answer: `[true, {id, name}]`, the saved flag and the job instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedStepArtifacts(pub bool, pub IdName);

impl PartialSchema for SavedStepArtifacts {
    fn schema() -> RefOr<Schema> {
        let item = OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                IdName::name(),
            )));
        ArrayBuilder::new()
            .items(RefOr::T(Schema::OneOf(item.build())))
            .min_items(Some(2))
            .max_items(Some(2))
            .description(Some("`true` and the job instance `{id, name}`"))
            .into()
    }
}

impl ToSchema for SavedStepArtifacts {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((IdName::name().into_owned(), IdName::schema()));
        <IdName as ToSchema>::schemas(schemas);
    }
}
