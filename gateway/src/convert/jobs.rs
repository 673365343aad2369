//! Job templates, instances and joint lines as contract sections 1, 4, 5 and 7 show them, and
//! the bodies those routes take. Joint-line parents come as numbers or strings and answer as
//! strings, a root as `[""]`; canvas positions answer as given.

use common::time::TimeRenderer;
use proto::jobs::v1 as pb;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use super::catalog::LegacyId;

/// A template as 4.1 answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TemplateItem {
    pub status: String,
    pub update_time: String,
    pub name: String,
    pub mender: Option<String>,
    pub creator: String,
    pub remark: String,
    pub create_time: String,
    pub jobt_rollback_name: Option<String>,
    pub jobt_rollback_id: Option<String>,
    #[serde(rename = "type")]
    pub template_type: String,
    pub id: String,
    pub deploy_type: String,
}

impl TemplateItem {
    pub fn from_proto(template: pb::Template, times: &TimeRenderer) -> TemplateItem {
        TemplateItem {
            status: template.status,
            update_time: times.render_unix_ms(template.update_time_ms),
            name: template.name,
            mender: template.mender,
            creator: template.creator,
            remark: template.remark,
            create_time: times.render_unix_ms(template.create_time_ms),
            jobt_rollback_name: template.jobt_rollback_name,
            jobt_rollback_id: template.jobt_rollback_id,
            template_type: template.r#type,
            id: template.id,
            deploy_type: template.deploy_type,
        }
    }
}

/// A template as the create route answers it: the 4.1 keys plus `application_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CreatedTemplate {
    #[serde(flatten)]
    pub item: TemplateItem,
    pub application_id: String,
}

/// 4.2: the template whose methods were replaced, and whether it now rolls back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GradedTemplate {
    pub id: String,
    pub is_rollback: bool,
}

/// 5.7: the copy of a job instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CopiedInstance {
    pub new_id: String,
    pub new_name: String,
}

/// 7.3: the saved work order (`current_flow_node` is always null).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SavedWorkOrder {
    pub current_flow_node: super::catalog::Nothing,
    pub doc_id: String,
    pub process_status: String,
}

/// A template as 5.3 lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TemplateSelectItem {
    pub id: String,
    pub creator: String,
    pub mender: Option<String>,
    pub create_time: String,
    pub update_time: String,
    pub remark: String,
    pub name: String,
    #[serde(rename = "type")]
    pub template_type: String,
    pub status: String,
    pub deploy_type: String,
}

impl TemplateSelectItem {
    pub fn from_proto(template: pb::Template, times: &TimeRenderer) -> TemplateSelectItem {
        TemplateSelectItem {
            id: template.id,
            creator: template.creator,
            mender: template.mender,
            create_time: times.render_unix_ms(template.create_time_ms),
            update_time: times.render_unix_ms(template.update_time_ms),
            remark: template.remark,
            name: template.name,
            template_type: template.r#type,
            status: template.status,
            deploy_type: template.deploy_type,
        }
    }
}

/// An instance as 1.3, 5.5 and 7.1 answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InstanceItem {
    pub status: String,
    pub product_line_name: String,
    pub update_time: String,
    pub application_id: String,
    pub name: String,
    pub mender: Option<String>,
    pub job_template_name: String,
    pub creator: String,
    pub remark: String,
    pub product_line_id: String,
    pub env_name: String,
    pub create_time: String,
    pub job_template_id: String,
    pub module_name: Option<String>,
    pub application_name: String,
    pub module_id: Option<String>,
    pub env_id: String,
    pub id: String,
    pub deploy_type: String,
}

impl InstanceItem {
    pub fn from_proto(instance: pb::Instance, times: &TimeRenderer) -> InstanceItem {
        InstanceItem {
            status: instance.status,
            product_line_name: instance.product_line_name,
            update_time: times.render_unix_ms(instance.update_time_ms),
            application_id: instance.application_id,
            name: instance.name,
            mender: instance.mender,
            job_template_name: instance.job_template_name,
            creator: instance.creator,
            remark: instance.remark,
            product_line_id: instance.product_line_id,
            env_name: instance.env_name,
            create_time: times.render_unix_ms(instance.create_time_ms),
            job_template_id: instance.job_template_id,
            module_name: instance.module_name,
            application_name: instance.application_name,
            module_id: instance.module_id,
            env_id: instance.env_id,
            id: instance.id,
            deploy_type: instance.deploy_type,
        }
    }
}

/// One step as 5.10 lists it under `methods`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InstanceMethodItem)]
pub struct MethodItem {
    pub comp_id: String,
    pub cluster_name: Option<String>,
    /// The method's remark, from the artifact service.
    pub cpm_name: Option<String>,
    pub sequence: u32,
    pub cpm_id: String,
    pub cluster_remark: Option<String>,
    pub comp_name: Option<String>,
    pub status: Option<String>,
    pub cluster_id: Option<String>,
    pub path: Option<String>,
    pub is_display_script: bool,
}

/// The download route of a method package, or null for methods without one (custom script).
fn method_path(base: &str, file_id: &str) -> Option<String> {
    (!file_id.is_empty()).then(|| super::artifact::download_path(base, file_id))
}

fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

impl MethodItem {
    /// `base` is `scheme://host` of the request, for the package's download path.
    pub fn from_proto(step: pb::Step, base: &str) -> MethodItem {
        MethodItem {
            is_display_script: step.is_display_script,
            path: method_path(base, &step.method_file_id),
            comp_id: step.component_id,
            cluster_name: step.cluster_name,
            cpm_name: non_empty(step.method_remark),
            sequence: step.sequence,
            cpm_id: step.method_id,
            cluster_remark: step.cluster_remark,
            comp_name: non_empty(step.component_name),
            status: step.status,
            cluster_id: step.cluster_id,
        }
    }
}

/// A method of a template as 4.3 answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GradedMethodItem {
    pub remark: String,
    pub component_id: String,
    pub name: String,
    pub sequence: u32,
    /// The package's download route; `""` for a method without one (as 4.4 answers it).
    pub path: String,
    pub id: String,
    pub component_name: String,
}

impl GradedMethodItem {
    pub fn from_proto(method: pb::TemplateMethod, base: &str) -> GradedMethodItem {
        GradedMethodItem {
            path: method_path(base, &method.method_file_id).unwrap_or_default(),
            remark: method.method_remark,
            component_id: method.component_id,
            name: method.method_name,
            sequence: method.sequence,
            id: method.method_id,
            component_name: method.component_name,
        }
    }
}

/// One method of 4.2's body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GradedMethodBody {
    pub component_id: LegacyId,
    pub method_id: LegacyId,
    pub sequence: u32,
}

/// Body of 4.2.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GradedBody {
    pub method: Vec<GradedMethodBody>,
}

/// `GET /api/app/jobinstance/{id}/details`: 5.10's keys and 7.2's keys in one object.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct InstanceDetails {
    #[serde(flatten)]
    pub instance: InstanceItem,
    pub methods: Vec<MethodItem>,
    pub current_flow_node: Option<String>,
    pub process_status: Option<String>,
    pub online_date: Option<String>,
    pub halt_time: Option<String>,
    pub excel_data: Option<Value>,
    pub regain_time: Option<String>,
    pub work_number: Option<String>,
    pub doc_id: Option<String>,
}

/// A joint line as 1.6 answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct JointLineItem {
    pub update_time: String,
    pub name: String,
    pub creator: String,
    pub mender: Option<String>,
    pub remark: String,
    pub create_time: String,
    pub id: String,
}

impl JointLineItem {
    pub fn from_proto(line: pb::JointLine, times: &TimeRenderer) -> JointLineItem {
        JointLineItem {
            update_time: times.render_unix_ms(line.update_time_ms),
            name: line.name,
            creator: line.creator,
            mender: line.mender,
            remark: line.remark,
            create_time: times.render_unix_ms(line.create_time_ms),
            id: line.id,
        }
    }
}

/// A canvas coordinate as given: integral values answer as integers.
pub fn coordinate(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        Value::Number(Number::from(value as i64))
    } else {
        Number::from_f64(value)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// A node as 1.5 answers it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct JointNodeItem {
    pub status: String,
    pub jobi_name: String,
    pub parent: Vec<String>,
    pub sequence: i64,
    pub top: Value,
    pub jobi_id: String,
    pub left: Value,
}

impl From<pb::JointNode> for JointNodeItem {
    fn from(node: pb::JointNode) -> JointNodeItem {
        JointNodeItem {
            status: node.status,
            jobi_name: node.instance_name,
            parent: if node.parents.is_empty() {
                vec![String::new()]
            } else {
                node.parents
            },
            sequence: node.sequence,
            top: coordinate(node.top),
            jobi_id: node.instance_id,
            left: coordinate(node.left),
        }
    }
}

/// `data` of 1.5.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct JointStructure {
    pub joint: Vec<JointNodeItem>,
    pub id: String,
    pub name: String,
}

/// Body of the template create route (beyond the contract).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TemplateBody {
    #[schema(max_length = 128)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub remark: Option<String>,
    #[serde(default, rename = "type")]
    #[schema(max_length = 128)]
    pub template_type: Option<String>,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub deploy_type: Option<String>,
    pub application_id: LegacyId,
    #[serde(default)]
    pub jobt_rollback_id: Option<LegacyId>,
}

/// Body of 5.2.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InstanceBody {
    #[schema(max_length = 128)]
    pub name: String,
    pub env_id: LegacyId,
    pub application_id: LegacyId,
    pub job_template_id: LegacyId,
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub remark: Option<String>,
    #[serde(default)]
    pub module_id: Option<LegacyId>,
}

/// Body of 5.7.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CopyBody {
    #[schema(max_length = 128)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub remark: Option<String>,
    #[serde(default)]
    pub env_id: Option<LegacyId>,
    #[serde(default)]
    pub module_id: Option<LegacyId>,
}

/// Body of 1.7.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct JointLineBody {
    #[schema(max_length = 128)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub remark: Option<String>,
    pub productline_id: LegacyId,
}

/// A node of 1.4's body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct JointNodeBody {
    pub jobi_id: LegacyId,
    #[schema(minimum = 0)]
    pub sequence: i64,
    #[serde(default)]
    pub parent: Vec<LegacyId>,
    #[serde(default)]
    pub top: f64,
    #[serde(default)]
    pub left: f64,
}

/// Body of 1.4.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SaveJointLineBody {
    pub id: LegacyId,
    pub joint: Vec<JointNodeBody>,
}

impl From<JointNodeBody> for pb::JointNode {
    fn from(node: JointNodeBody) -> pb::JointNode {
        pb::JointNode {
            instance_id: node.jobi_id.into_string(),
            sequence: node.sequence,
            parents: node.parent.into_iter().map(LegacyId::into_string).collect(),
            top: node.top,
            left: node.left,
            instance_name: String::new(),
            status: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn joint_nodes_answer_parents_as_strings_and_roots_as_empty() {
        let root = JointNodeItem::from(pb::JointNode {
            instance_id: "a".into(),
            sequence: 0,
            parents: vec![],
            top: 125.0,
            left: 256.99998474121093,
            instance_name: "asda".into(),
            status: "init".into(),
        });
        assert_eq!(
            serde_json::to_value(root).expect("json"),
            json!({"status": "init", "jobi_name": "asda", "parent": [""], "sequence": 0, "top": 125, "jobi_id": "a", "left": 256.99998474121093})
        );
    }

    #[test]
    fn parents_may_be_numbers_or_strings() {
        let body: SaveJointLineBody = serde_json::from_value(json!({"id": "j", "joint": [
            {"jobi_id": "a", "sequence": 0, "parent": [], "top": 1, "left": 2},
            {"jobi_id": "b", "sequence": 1, "parent": [0, "0"], "top": 1.5, "left": 2}
        ]}))
        .expect("body");
        let node: pb::JointNode = body.joint.into_iter().nth(1).expect("node").into();
        assert_eq!(node.parents, vec!["0".to_owned(), "0".to_owned()]);
        assert_eq!(node.top, 1.5);
    }
}
