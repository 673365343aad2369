//! Clusters and hosts as contract section 8 (and 5.4 / 5.8.2.1) shows them, and the bodies those
//! routes take. Ports answer as text ("22"), `wait_bind` as "True"/"False", hosts are named by IP.

use common::time::TimeRenderer;
use proto::resource::v1 as pb;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalog::LegacyId;

/// A cluster as 8.1.3 and 8.1.4 answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ClusterItem {
    pub remark: String,
    pub name: String,
    pub creator: String,
    pub env_name: String,
    pub apps: String,
    pub update_time: String,
    pub create_time: String,
    pub env_id: String,
    #[serde(rename = "type")]
    pub cluster_type: String,
    pub id: String,
}

impl ClusterItem {
    pub fn from_proto(cluster: pb::Cluster, times: &TimeRenderer) -> ClusterItem {
        ClusterItem {
            remark: cluster.remark,
            name: cluster.name,
            creator: cluster.creator,
            env_name: cluster.env_name,
            apps: cluster.app_name,
            update_time: times.render_unix_ms(cluster.update_time_ms),
            create_time: times.render_unix_ms(cluster.create_time_ms),
            env_id: cluster.env_id,
            cluster_type: cluster.r#type,
            id: cluster.id,
        }
    }
}

/// A cluster as 8.1.10 answers it (the legacy answer has no `creator`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UpdatedClusterItem {
    pub remark: String,
    pub name: String,
    pub env_name: String,
    pub apps: String,
    pub update_time: String,
    pub create_time: String,
    pub env_id: String,
    #[serde(rename = "type")]
    pub cluster_type: String,
    pub id: String,
}

impl From<ClusterItem> for UpdatedClusterItem {
    fn from(item: ClusterItem) -> UpdatedClusterItem {
        UpdatedClusterItem {
            remark: item.remark,
            name: item.name,
            env_name: item.env_name,
            apps: item.apps,
            update_time: item.update_time,
            create_time: item.create_time,
            env_id: item.env_id,
            cluster_type: item.cluster_type,
            id: item.id,
        }
    }
}

/// A cluster as the admin routes answer it: the 8.1.4 keys plus `app_id` and `source`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AdminClusterItem {
    #[serde(flatten)]
    pub item: ClusterItem,
    pub app_id: String,
    pub source: String,
}

impl AdminClusterItem {
    pub fn from_proto(cluster: pb::Cluster, times: &TimeRenderer) -> AdminClusterItem {
        let app_id = cluster.app_id.clone();
        let source = cluster.source.clone();
        AdminClusterItem {
            item: ClusterItem::from_proto(cluster, times),
            app_id,
            source,
        }
    }
}

/// `{remark, id, name}` of 8.2.2, 5.4 and 5.8.2.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ClusterSelectItem {
    pub remark: String,
    pub id: String,
    pub name: String,
}

impl From<pb::Cluster> for ClusterSelectItem {
    fn from(cluster: pb::Cluster) -> ClusterSelectItem {
        ClusterSelectItem {
            remark: cluster.remark,
            id: cluster.id,
            name: cluster.name,
        }
    }
}

/// `{id, name}` of a deleted cluster (8.1.9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeletedCluster {
    pub id: String,
    pub name: String,
}

/// A host as 8.1.5 / 8.1.6 list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HostBindItem {
    pub ssh_port: String,
    #[serde(rename = "host_IP")]
    pub host_ip: String,
    pub ssh_user: String,
    pub host_name: String,
    /// "True" for hosts that may be bound, "False" for bound ones.
    #[schema(value_type = String)]
    pub wait_bind: &'static str,
    pub id: String,
}

impl HostBindItem {
    pub fn from_proto(host: pb::Host, bound: bool) -> HostBindItem {
        HostBindItem {
            ssh_port: host.ssh_port.to_string(),
            host_ip: host.host_ip,
            ssh_user: host.ssh_user,
            host_name: host.host_name,
            wait_bind: if bound { "False" } else { "True" },
            id: host.id,
        }
    }
}

/// `{id, name}` of a cluster a host is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ClusterRef {
    pub id: String,
    pub name: String,
}

/// A host as 8.2.3, 8.2.4 and 8.2.6 answer it (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HostItem {
    pub remark: String,
    pub name: String,
    pub creator: String,
    pub ssh_port: String,
    pub env_name: String,
    pub app: Vec<String>,
    #[serde(rename = "productLine_name")]
    pub product_line_name: String,
    #[serde(rename = "host_IP")]
    pub host_ip: String,
    pub create_time: String,
    pub ssh_user: String,
    pub host_name: String,
    #[serde(rename = "productLine_id")]
    pub product_line_id: String,
    pub clusters: Vec<ClusterRef>,
    pub env_id: String,
    pub id: String,
}

impl HostItem {
    pub fn from_proto(host: pb::Host, times: &TimeRenderer) -> HostItem {
        HostItem {
            remark: host.remark,
            name: host.host_ip.clone(),
            creator: host.creator,
            ssh_port: host.ssh_port.to_string(),
            env_name: host.env_name,
            app: host.apps,
            product_line_name: host.product_line_name,
            host_ip: host.host_ip,
            create_time: times.render_unix_ms(host.create_time_ms),
            ssh_user: host.ssh_user,
            host_name: host.host_name,
            product_line_id: host.product_line_id,
            clusters: host
                .clusters
                .into_iter()
                .map(|cluster| ClusterRef {
                    id: cluster.id,
                    name: cluster.name,
                })
                .collect(),
            env_id: host.env_id,
            id: host.id,
        }
    }
}

/// A host as the admin routes answer it: the 8.2.3 keys plus `source`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AdminHostItem {
    #[serde(flatten)]
    pub item: HostItem,
    pub source: String,
}

/// 8.2.5's answer: the legacy platform answered the deleted host with `id` null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeletedHost {
    pub id: Option<String>,
    pub name: String,
}

/// `{type, key}` of 8.1.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ClusterTypeItem {
    pub value: String,
    pub key: String,
}

/// Body of 8.1.4 / 8.1.10 (and of the admin route, with `id`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ClusterBody {
    #[serde(default)]
    pub id: Option<LegacyId>,
    #[schema(max_length = 128)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub remark: Option<String>,
    #[serde(default, rename = "type")]
    #[schema(max_length = 128)]
    pub cluster_type: Option<String>,
    pub env_id: LegacyId,
    pub app_id: LegacyId,
}

impl ClusterBody {
    pub fn fields(self) -> (Option<String>, pb::ClusterFields) {
        (
            self.id.map(LegacyId::into_string),
            pb::ClusterFields {
                name: self.name,
                remark: self.remark.unwrap_or_default(),
                r#type: self.cluster_type.unwrap_or_default(),
                env_id: self.env_id.into_string(),
                app_id: self.app_id.into_string(),
            },
        )
    }
}

/// Body of 8.2.3 / 8.2.6 (and of the admin route, with `id`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HostBody {
    #[serde(default)]
    #[schema(value_type = Option<LegacyId>)]
    pub id: Option<Value>,
    #[serde(rename = "host_IP")]
    #[schema(max_length = 64)]
    pub host_ip: String,
    #[schema(max_length = 128)]
    pub host_name: String,
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub remark: Option<String>,
    #[schema(max_length = 128)]
    pub ssh_user: String,
    #[serde(default)]
    #[schema(max_length = 16384)]
    pub ssh_passwd: Option<String>,
    #[serde(default)]
    #[schema(max_length = 16384)]
    pub ssh_private_key: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<LegacyId>)]
    pub ssh_port: Option<Value>,
    #[serde(rename = "productLine_id")]
    pub product_line_id: LegacyId,
    pub env_id: LegacyId,
}

/// A JSON value as the text a rule checks: numbers and strings as written, null as absent.
fn value_text(value: Option<Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

impl HostBody {
    /// The id the caller gave (the legacy UI sends `0` for "none").
    pub fn given_id(&self) -> Option<String> {
        match &self.id {
            Some(Value::String(text)) if !text.is_empty() => Some(text.clone()),
            Some(Value::Number(number)) if number.as_i64() != Some(0) => Some(number.to_string()),
            _ => None,
        }
    }

    pub fn fields(self) -> pb::HostFields {
        pb::HostFields {
            host_ip: self.host_ip,
            host_name: self.host_name,
            remark: self.remark.unwrap_or_default(),
            ssh_user: self.ssh_user,
            ssh_port: value_text(self.ssh_port),
            ssh_password: self.ssh_passwd.filter(|password| !password.is_empty()),
            ssh_private_key: self.ssh_private_key.filter(|key| !key.is_empty()),
            product_line_id: self.product_line_id.into_string(),
            env_id: self.env_id.into_string(),
        }
    }
}

/// Body of 8.1.7 / 8.1.8.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HostIdsBody {
    pub hosts: Vec<LegacyId>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::convert::shanghai;

    #[test]
    fn clusters_have_the_8_1_3_keys() {
        let cluster = pb::Cluster {
            id: "d5b6".into(),
            name: "ceshiPPP".into(),
            remark: "".into(),
            r#type: "其它".into(),
            env_id: "11ac".into(),
            env_name: "预投产环境P".into(),
            app_id: "4".into(),
            app_name: "apache应用".into(),
            source: "aos".into(),
            creator: "admin".into(),
            create_time_ms: 1_534_242_959_000,
            mender: "admin".into(),
            update_time_ms: 1_534_242_959_000,
            deleting: false,
        };
        let value = serde_json::to_value(ClusterItem::from_proto(cluster.clone(), &shanghai()))
            .expect("json");
        assert_eq!(
            value,
            json!({"remark": "", "name": "ceshiPPP", "creator": "admin", "env_name": "预投产环境P", "apps": "apache应用",
                   "update_time": "2018-08-14 18:35:59", "create_time": "2018-08-14 18:35:59", "env_id": "11ac",
                   "type": "其它", "id": "d5b6"})
        );
        let updated = serde_json::to_value(UpdatedClusterItem::from(ClusterItem::from_proto(
            cluster,
            &shanghai(),
        )))
        .expect("json");
        assert!(updated.get("creator").is_none());
    }

    #[test]
    fn hosts_use_the_legacy_spellings() {
        let host = pb::Host {
            id: "h1".into(),
            host_ip: "127.0.1.2".into(),
            host_name: "aa".into(),
            ssh_port: 22,
            ssh_user: "aa".into(),
            product_line_id: "4".into(),
            product_line_name: "apache产品线".into(),
            env_id: "e".into(),
            env_name: "内测环境N".into(),
            clusters: vec![pb::ClusterName {
                id: "c1".into(),
                name: "ceshi3".into(),
            }],
            ..Default::default()
        };
        let value =
            serde_json::to_value(HostItem::from_proto(host.clone(), &shanghai())).expect("json");
        assert_eq!(value["host_IP"], "127.0.1.2");
        assert_eq!(value["name"], "127.0.1.2");
        assert_eq!(value["ssh_port"], "22");
        assert_eq!(value["productLine_name"], "apache产品线");
        assert_eq!(value["clusters"], json!([{"id": "c1", "name": "ceshi3"}]));
        let bind = serde_json::to_value(HostBindItem::from_proto(host, false)).expect("json");
        assert_eq!(
            bind,
            json!({"ssh_port": "22", "host_IP": "127.0.1.2", "ssh_user": "aa", "host_name": "aa", "wait_bind": "True", "id": "h1"})
        );
    }

    #[test]
    fn host_bodies_take_ports_and_ids_as_sent() {
        let body: HostBody = serde_json::from_value(
            json!({"id": 0, "host_IP": "1.1.1.1", "host_name": "h", "ssh_user": "root",
            "ssh_passwd": "pw", "ssh_port": 2222, "productLine_id": 4, "env_id": "e"}),
        )
        .expect("body");
        assert_eq!(body.given_id(), None);
        let fields = body.fields();
        assert_eq!(fields.ssh_port.as_deref(), Some("2222"));
        assert_eq!(fields.product_line_id, "4");
        let body: HostBody = serde_json::from_value(
            json!({"host_IP": "1.1.1.1", "host_name": "h", "ssh_user": "root",
            "ssh_port": "ssh", "productLine_id": "4", "env_id": "e"}),
        )
        .expect("body");
        assert_eq!(body.fields().ssh_port.as_deref(), Some("ssh"));
    }
}
