//! Deployment resources of contract section 8 (clusters 8.1, hosts 8.2), the cluster read-back of
//! 5.4 / 5.8.2.1, and the admin routes for CMDB-owned clusters and hosts (SPEC §2).

use actix_web::web;
use proto::resource::v1::{self as pb, WriteChannel};

use crate::{
    body::LegacyJson,
    clients::{Call, reply},
    convert::{
        catalog::{LegacyId, RecordId},
        resource::{
            AdminClusterItem, AdminHostItem, ClusterBody, ClusterItem, ClusterSelectItem,
            ClusterTypeItem, DeletedCluster, DeletedHost, HostBindItem, HostBody, HostIdsBody,
            HostItem, UpdatedClusterItem,
        },
    },
    error::ApiError,
};

use super::{Answer, IdPath, ok, ok_each, paged_list};

/// 8.1.1 `GET /api/resource/clusters/cmdb_type`.
pub async fn cluster_types(call: Call) -> Answer {
    let request = pb::ListClusterTypesRequest {};
    let answer = reply(call.resource().list_cluster_types(request)).await?;
    ok_each(answer.cluster_types, |row| ClusterTypeItem {
        value: row.value,
        key: row.key,
    })
}

paged_list!(
    /// 8.1.3 `GET /api/resource/clusters/aos_json?app=&name=` (paginated, no envelope).
    query_clusters: resource.query_clusters(pb::QueryClustersRequest) => clusters as ClusterItem::from_proto,
    ClusterQuery { app_id: app, name: name }
);

/// 8.1.4 `POST /api/resource/clusters/aos_create`.
pub async fn create_cluster(call: Call, LegacyJson(body): LegacyJson<ClusterBody>) -> Answer {
    let (_, fields) = body.fields();
    let request = pb::CreateClusterRequest {
        id: None,
        fields: Some(fields),
        channel: WriteChannel::Aos as i32,
    };
    let cluster = reply(call.resource().create_cluster(request)).await?;
    ok(ClusterItem::from_proto(cluster, &call.times))
}

/// 8.1.10 `POST /api/resource/clusters/{id}/update`.
pub async fn update_cluster(
    call: Call,
    id: IdPath,
    LegacyJson(body): LegacyJson<ClusterBody>,
) -> Answer {
    let (_, fields) = body.fields();
    let request = pb::UpdateClusterRequest {
        id: id.into_inner(),
        fields: Some(fields),
        channel: WriteChannel::Aos as i32,
    };
    let cluster = reply(call.resource().update_cluster(request)).await?;
    ok(UpdatedClusterItem::from(ClusterItem::from_proto(
        cluster,
        &call.times,
    )))
}

/// 8.1.9 `DELETE /api/resource/clusters/aos_deletes/{id}`.
pub async fn delete_cluster(call: Call, id: IdPath) -> Answer {
    let cluster = delete_unused_cluster(&call, id.into_inner(), WriteChannel::Aos).await?;
    ok(DeletedCluster {
        id: cluster.id,
        name: cluster.name,
    })
}

/// 8.1.5 `GET /api/resource/clusters/{id}/hosts/select/pl`: hosts that may be bound.
pub async fn cluster_host_candidates(call: Call, id: IdPath) -> Answer {
    let request = pb::ClusterIdRequest {
        cluster_id: id.into_inner(),
    };
    let answer = reply(call.resource().cluster_host_candidates(request)).await?;
    ok_each(answer.hosts, |host| HostBindItem::from_proto(host, false))
}

/// 8.1.6 `GET /api/resource/clusters/{id}/hosts`: hosts bound.
pub async fn cluster_hosts(call: Call, id: IdPath) -> Answer {
    let request = pb::ClusterIdRequest {
        cluster_id: id.into_inner(),
    };
    let answer = reply(call.resource().cluster_hosts(request)).await?;
    ok_each(answer.hosts, |host| HostBindItem::from_proto(host, true))
}

/// 8.1.7 `POST /api/resource/clusters/{id}/aos_bind`.
pub async fn bind_hosts(
    call: Call,
    id: IdPath,
    LegacyJson(body): LegacyJson<HostIdsBody>,
) -> Answer {
    let request = bind_request(id.into_inner(), body);
    reply(call.resource().bind_hosts(request)).await?;
    ok(true)
}

/// 8.1.8 `POST /api/resource/clusters/{id}/unbind`.
pub async fn unbind_hosts(
    call: Call,
    id: IdPath,
    LegacyJson(body): LegacyJson<HostIdsBody>,
) -> Answer {
    let request = bind_request(id.into_inner(), body);
    reply(call.resource().unbind_hosts(request)).await?;
    ok(true)
}

/// The request of 8.1.7 and 8.1.8: the cluster and the hosts named in the body.
fn bind_request(cluster_id: String, body: HostIdsBody) -> pb::BindHostsRequest {
    pb::BindHostsRequest {
        cluster_id,
        host_ids: body.hosts.into_iter().map(LegacyId::into_string).collect(),
    }
}

/// 8.2.2 `GET /api/resource/clusters/list_4_select`.
pub async fn cluster_select(call: Call) -> Answer {
    let request = pb::ListClustersRequest {
        env_id: None,
        app_id: None,
    };
    let answer = reply(call.resource().list_clusters(request)).await?;
    ok_each(answer.clusters, ClusterSelectItem::from)
}

/// 5.4 / 5.8.2.1 `GET /api/resource/clusters/{id}/{app_id}/select/envapp`: when `id` is a
/// cluster, that cluster (if it belongs to the application); when it is a job instance, the
/// clusters of the instance's environment and application (none when `app_id` is another one).
pub async fn cluster_of_app(call: Call, path: web::Path<(String, String)>) -> Answer {
    let (id, app_id) = path.into_inner();
    let request = pb::GetClustersRequest {
        ids: vec![id.clone()],
    };
    let answer = reply(call.resource().get_clusters(request)).await?;
    if !answer.clusters.is_empty() {
        return ok(answer
            .clusters
            .into_iter()
            .filter(|cluster| cluster.app_id == app_id)
            .map(ClusterSelectItem::from)
            .collect::<Vec<_>>());
    }
    let request = proto::jobs::v1::IdRequest { id: id.clone() };
    match call.jobs().instance_cluster_choices(request).await {
        Ok(answer) => ok(answer
            .into_inner()
            .clusters
            .into_iter()
            .filter(|cluster| cluster.app_id == app_id)
            .map(|cluster| ClusterSelectItem {
                remark: cluster.remark,
                id: cluster.id,
                name: cluster.name,
            })
            .collect::<Vec<_>>()),
        Err(status)
            if proto::ErrorReason::of_status(&status) == proto::ErrorReason::InstanceNotFound =>
        {
            Err(ApiError::new(
                proto::ErrorReason::ClusterNotFound,
                format!("{id:?} is neither a cluster nor a job instance"),
            ))
        }
        Err(status) => Err(status.into()),
    }
}

/// 8.2.3 `POST /api/resource/hosts/aos_create`.
pub async fn create_host(call: Call, LegacyJson(body): LegacyJson<HostBody>) -> Answer {
    let request = pb::CreateHostRequest {
        id: None,
        fields: Some(body.fields()),
        channel: WriteChannel::Aos as i32,
    };
    let host = reply(call.resource().create_host(request)).await?;
    ok(HostItem::from_proto(host, &call.times))
}

paged_list!(
    /// 8.2.4 `GET /api/resource/hosts/aos_json?host_name=&productLine=` (paginated, no envelope).
    query_hosts: resource.query_hosts(pb::QueryHostsRequest) => hosts as HostItem::from_proto,
    HostQuery { host_name: host_name, product_line_id: #[serde(rename = "productLine")] product_line }
);

/// 8.2.5 `DELETE /api/resource/hosts/aos_deletes/{id}`.
pub async fn delete_host(call: Call, id: IdPath) -> Answer {
    let request = pb::DeleteResourceRequest {
        id: id.into_inner(),
        channel: WriteChannel::Aos as i32,
    };
    let host = reply(call.resource().delete_host(request)).await?;
    ok(DeletedHost {
        id: None,
        name: host.host_ip,
    })
}

/// 8.2.6 `POST /api/resource/hosts/{id}/update`.
pub async fn update_host(call: Call, id: IdPath, LegacyJson(body): LegacyJson<HostBody>) -> Answer {
    let request = pb::UpdateHostRequest {
        id: id.into_inner(),
        fields: Some(body.fields()),
        channel: WriteChannel::Aos as i32,
    };
    let host = reply(call.resource().update_host(request)).await?;
    ok(HostItem::from_proto(host, &call.times))
}

/// 8.2.7 `GET /api/resource/hosts/validate/{ssh_ip}/{ssh_user}/ssh`: a real SSH login.
pub async fn validate_host(call: Call, path: web::Path<(String, String)>) -> Answer {
    let (host_ip, ssh_user) = path.into_inner();
    let request = pb::ValidateSshRequest { host_ip, ssh_user };
    let answer = reply(call.resource().validate_ssh(request)).await?;
    ok(answer.ok)
}

/// `POST /api/admin/clusters`: creates or updates (by id) a CMDB-owned cluster.
pub async fn admin_upsert_cluster(call: Call, LegacyJson(body): LegacyJson<ClusterBody>) -> Answer {
    let (id, fields) = body.fields();
    let request = pb::CreateClusterRequest {
        id,
        fields: Some(fields),
        channel: WriteChannel::Admin as i32,
    };
    let cluster = reply(call.resource().create_cluster(request)).await?;
    ok(AdminClusterItem::from_proto(cluster, &call.times))
}

/// `GET /api/admin/clusters`.
pub async fn admin_list_clusters(call: Call) -> Answer {
    super::admin::require_admin(&call.caller)?;
    let request = pb::ListClustersRequest {
        env_id: None,
        app_id: None,
    };
    let answer = reply(call.resource().list_clusters(request)).await?;
    ok_each(answer.clusters, |cluster| {
        AdminClusterItem::from_proto(cluster, &call.times)
    })
}

/// `DELETE /api/admin/clusters/{id}` (CMDB-owned ones too).
pub async fn admin_delete_cluster(call: Call, id: IdPath) -> Answer {
    let cluster = delete_unused_cluster(&call, id.into_inner(), WriteChannel::Admin).await?;
    ok(RecordId { id: cluster.id })
}

/// Deletes a cluster; svc-resource refuses while a job step is bound to it (`cluster_in_use`,
/// naming the instances), so a delete never strands a step's binding.
async fn delete_unused_cluster(
    call: &Call,
    id: String,
    channel: WriteChannel,
) -> Result<pb::Cluster, ApiError> {
    let request = pb::DeleteResourceRequest {
        id,
        channel: channel as i32,
    };
    Ok(reply(call.resource().delete_cluster(request)).await?)
}

/// `POST /api/admin/hosts`: creates or updates (by id) a CMDB-owned host.
pub async fn admin_upsert_host(call: Call, LegacyJson(body): LegacyJson<HostBody>) -> Answer {
    let id = body.given_id();
    let request = pb::CreateHostRequest {
        id,
        fields: Some(body.fields()),
        channel: WriteChannel::Admin as i32,
    };
    let host = reply(call.resource().create_host(request)).await?;
    let source = host.source.clone();
    ok(AdminHostItem {
        item: HostItem::from_proto(host, &call.times),
        source,
    })
}

/// `GET /api/admin/hosts`.
pub async fn admin_list_hosts(call: Call) -> Answer {
    super::admin::require_admin(&call.caller)?;
    let request = pb::ListHostsRequest {};
    let answer = reply(call.resource().list_hosts(request)).await?;
    ok_each(answer.hosts, |host| {
        let source = host.source.clone();
        AdminHostItem {
            item: HostItem::from_proto(host, &call.times),
            source,
        }
    })
}

/// `DELETE /api/admin/hosts/{id}` (CMDB-owned ones too).
pub async fn admin_delete_host(call: Call, id: IdPath) -> Answer {
    let request = pb::DeleteResourceRequest {
        id: id.into_inner(),
        channel: WriteChannel::Admin as i32,
    };
    let host = reply(call.resource().delete_host(request)).await?;
    ok(RecordId { id: host.id })
}
