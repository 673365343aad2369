//! Deployment resources of contract section 8 (clusters 8.1, hosts 8.2), the cluster read-back of
//! 5.4 / 5.8.2.1, and the admin routes for CMDB-owned clusters and hosts (SPEC §2).

use actix_web::web;
use common::time::TimeRenderer;
use proto::resource::v1::{self as pb, WriteChannel};
use serde::Deserialize;

use crate::{
    body::{LegacyJson, page_params},
    clients::{Caller, Clients, reply},
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

use super::{Answer, ok, ok_each, page_of};

/// 8.1.1 `GET /api/resource/clusters/cmdb_type`.
pub async fn cluster_types(caller: Caller, clients: web::Data<Clients>) -> Answer {
    let request = pb::ListClusterTypesRequest {};
    let answer = reply(clients.resource(&caller).list_cluster_types(request)).await?;
    ok_each(answer.cluster_types, |row| ClusterTypeItem {
        value: row.value,
        key: row.key,
    })
}

/// Query of 8.1.3.
#[derive(Debug, Deserialize)]
pub struct ClusterQuery {
    app: Option<String>,
    name: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

/// 8.1.3 `GET /api/resource/clusters/aos_json?app=&name=` (paginated, no envelope).
pub async fn query_clusters(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    query: web::Query<ClusterQuery>,
) -> Answer {
    let query = query.into_inner();
    let (page, page_size) = page_params(query.page.as_deref(), query.page_size.as_deref())?;
    let request = pb::QueryClustersRequest {
        app_id: query.app,
        name: query.name,
        page,
        page_size,
    };
    let answer = reply(clients.resource(&caller).query_clusters(request)).await?;
    page_of(answer.count, answer.page, answer.clusters, |cluster| {
        ClusterItem::from_proto(cluster, &times)
    })
}

/// 8.1.4 `POST /api/resource/clusters/aos_create`.
pub async fn create_cluster(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    LegacyJson(body): LegacyJson<ClusterBody>,
) -> Answer {
    let (_, fields) = body.fields();
    let request = pb::CreateClusterRequest {
        id: None,
        fields: Some(fields),
        channel: WriteChannel::Aos as i32,
    };
    let cluster = reply(clients.resource(&caller).create_cluster(request)).await?;
    ok(ClusterItem::from_proto(cluster, &times))
}

/// 8.1.10 `POST /api/resource/clusters/{id}/update`.
pub async fn update_cluster(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    id: web::Path<String>,
    LegacyJson(body): LegacyJson<ClusterBody>,
) -> Answer {
    let (_, fields) = body.fields();
    let request = pb::UpdateClusterRequest {
        id: id.into_inner(),
        fields: Some(fields),
        channel: WriteChannel::Aos as i32,
    };
    let cluster = reply(clients.resource(&caller).update_cluster(request)).await?;
    ok(UpdatedClusterItem::from(ClusterItem::from_proto(
        cluster, &times,
    )))
}

/// 8.1.9 `DELETE /api/resource/clusters/aos_deletes/{id}`.
pub async fn delete_cluster(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    let cluster =
        delete_unused_cluster(&clients, &caller, id.into_inner(), WriteChannel::Aos).await?;
    ok(DeletedCluster {
        id: cluster.id,
        name: cluster.name,
    })
}

/// 8.1.5 `GET /api/resource/clusters/{id}/hosts/select/pl`: hosts that may be bound.
pub async fn cluster_host_candidates(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    let request = pb::ClusterIdRequest {
        cluster_id: id.into_inner(),
    };
    let answer = reply(clients.resource(&caller).cluster_host_candidates(request)).await?;
    ok_each(answer.hosts, |host| HostBindItem::from_proto(host, false))
}

/// 8.1.6 `GET /api/resource/clusters/{id}/hosts`: hosts bound.
pub async fn cluster_hosts(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    let request = pb::ClusterIdRequest {
        cluster_id: id.into_inner(),
    };
    let answer = reply(clients.resource(&caller).cluster_hosts(request)).await?;
    ok_each(answer.hosts, |host| HostBindItem::from_proto(host, true))
}

/// 8.1.7 `POST /api/resource/clusters/{id}/aos_bind`.
pub async fn bind_hosts(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
    LegacyJson(body): LegacyJson<HostIdsBody>,
) -> Answer {
    let request = bind_request(id.into_inner(), body);
    reply(clients.resource(&caller).bind_hosts(request)).await?;
    ok(true)
}

/// 8.1.8 `POST /api/resource/clusters/{id}/unbind`.
pub async fn unbind_hosts(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
    LegacyJson(body): LegacyJson<HostIdsBody>,
) -> Answer {
    let request = bind_request(id.into_inner(), body);
    reply(clients.resource(&caller).unbind_hosts(request)).await?;
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
pub async fn cluster_select(caller: Caller, clients: web::Data<Clients>) -> Answer {
    let request = pb::ListClustersRequest {
        env_id: None,
        app_id: None,
    };
    let answer = reply(clients.resource(&caller).list_clusters(request)).await?;
    ok_each(answer.clusters, ClusterSelectItem::from)
}

/// 5.4 / 5.8.2.1 `GET /api/resource/clusters/{id}/{app_id}/select/envapp`: when `id` is a
/// cluster, that cluster (if it belongs to the application); when it is a job instance, the
/// clusters of the instance's environment and application (none when `app_id` is another one).
pub async fn cluster_of_app(
    caller: Caller,
    clients: web::Data<Clients>,
    path: web::Path<(String, String)>,
) -> Answer {
    let (id, app_id) = path.into_inner();
    let request = pb::GetClustersRequest {
        ids: vec![id.clone()],
    };
    let answer = reply(clients.resource(&caller).get_clusters(request)).await?;
    if !answer.clusters.is_empty() {
        return ok(answer
            .clusters
            .into_iter()
            .filter(|cluster| cluster.app_id == app_id)
            .map(ClusterSelectItem::from)
            .collect::<Vec<_>>());
    }
    let request = proto::jobs::v1::IdRequest { id: id.clone() };
    match clients
        .jobs(&caller)
        .instance_cluster_choices(request)
        .await
    {
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
pub async fn create_host(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    LegacyJson(body): LegacyJson<HostBody>,
) -> Answer {
    let request = pb::CreateHostRequest {
        id: None,
        fields: Some(body.fields()),
        channel: WriteChannel::Aos as i32,
    };
    let host = reply(clients.resource(&caller).create_host(request)).await?;
    ok(HostItem::from_proto(host, &times))
}

/// Query of 8.2.4.
#[derive(Debug, Deserialize)]
pub struct HostQuery {
    host_name: Option<String>,
    #[serde(rename = "productLine")]
    product_line: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

/// 8.2.4 `GET /api/resource/hosts/aos_json?host_name=&productLine=` (paginated, no envelope).
pub async fn query_hosts(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    query: web::Query<HostQuery>,
) -> Answer {
    let query = query.into_inner();
    let (page, page_size) = page_params(query.page.as_deref(), query.page_size.as_deref())?;
    let request = pb::QueryHostsRequest {
        host_name: query.host_name,
        product_line_id: query.product_line,
        page,
        page_size,
    };
    let answer = reply(clients.resource(&caller).query_hosts(request)).await?;
    page_of(answer.count, answer.page, answer.hosts, |host| {
        HostItem::from_proto(host, &times)
    })
}

/// 8.2.5 `DELETE /api/resource/hosts/aos_deletes/{id}`.
pub async fn delete_host(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    let request = pb::DeleteResourceRequest {
        id: id.into_inner(),
        channel: WriteChannel::Aos as i32,
    };
    let host = reply(clients.resource(&caller).delete_host(request)).await?;
    ok(DeletedHost {
        id: None,
        name: host.host_ip,
    })
}

/// 8.2.6 `POST /api/resource/hosts/{id}/update`.
pub async fn update_host(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    id: web::Path<String>,
    LegacyJson(body): LegacyJson<HostBody>,
) -> Answer {
    let request = pb::UpdateHostRequest {
        id: id.into_inner(),
        fields: Some(body.fields()),
        channel: WriteChannel::Aos as i32,
    };
    let host = reply(clients.resource(&caller).update_host(request)).await?;
    ok(HostItem::from_proto(host, &times))
}

/// 8.2.7 `GET /api/resource/hosts/validate/{ssh_ip}/{ssh_user}/ssh`: a real SSH login.
pub async fn validate_host(
    caller: Caller,
    clients: web::Data<Clients>,
    path: web::Path<(String, String)>,
) -> Answer {
    let (host_ip, ssh_user) = path.into_inner();
    let request = pb::ValidateSshRequest { host_ip, ssh_user };
    let answer = reply(clients.resource(&caller).validate_ssh(request)).await?;
    ok(answer.ok)
}

/// `POST /api/admin/clusters`: creates or updates (by id) a CMDB-owned cluster.
pub async fn admin_upsert_cluster(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    LegacyJson(body): LegacyJson<ClusterBody>,
) -> Answer {
    let (id, fields) = body.fields();
    let request = pb::CreateClusterRequest {
        id,
        fields: Some(fields),
        channel: WriteChannel::Admin as i32,
    };
    let cluster = reply(clients.resource(&caller).create_cluster(request)).await?;
    ok(AdminClusterItem::from_proto(cluster, &times))
}

/// `GET /api/admin/clusters`.
pub async fn admin_list_clusters(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
) -> Answer {
    super::admin::require_admin(&caller)?;
    let request = pb::ListClustersRequest {
        env_id: None,
        app_id: None,
    };
    let answer = reply(clients.resource(&caller).list_clusters(request)).await?;
    ok_each(answer.clusters, |cluster| {
        AdminClusterItem::from_proto(cluster, &times)
    })
}

/// `DELETE /api/admin/clusters/{id}` (CMDB-owned ones too).
pub async fn admin_delete_cluster(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    let cluster =
        delete_unused_cluster(&clients, &caller, id.into_inner(), WriteChannel::Admin).await?;
    ok(RecordId { id: cluster.id })
}

/// Deletes a cluster; svc-resource refuses while a job step is bound to it (`cluster_in_use`,
/// naming the instances), so a delete never strands a step's binding.
async fn delete_unused_cluster(
    clients: &Clients,
    caller: &Caller,
    id: String,
    channel: WriteChannel,
) -> Result<pb::Cluster, ApiError> {
    let request = pb::DeleteResourceRequest {
        id,
        channel: channel as i32,
    };
    Ok(reply(clients.resource(caller).delete_cluster(request)).await?)
}

/// `POST /api/admin/hosts`: creates or updates (by id) a CMDB-owned host.
pub async fn admin_upsert_host(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    LegacyJson(body): LegacyJson<HostBody>,
) -> Answer {
    let id = body.given_id();
    let request = pb::CreateHostRequest {
        id,
        fields: Some(body.fields()),
        channel: WriteChannel::Admin as i32,
    };
    let host = reply(clients.resource(&caller).create_host(request)).await?;
    let source = host.source.clone();
    ok(AdminHostItem {
        item: HostItem::from_proto(host, &times),
        source,
    })
}

/// `GET /api/admin/hosts`.
pub async fn admin_list_hosts(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
) -> Answer {
    super::admin::require_admin(&caller)?;
    let request = pb::ListHostsRequest {};
    let answer = reply(clients.resource(&caller).list_hosts(request)).await?;
    ok_each(answer.hosts, |host| {
        let source = host.source.clone();
        AdminHostItem {
            item: HostItem::from_proto(host, &times),
            source,
        }
    })
}

/// `DELETE /api/admin/hosts/{id}` (CMDB-owned ones too).
pub async fn admin_delete_host(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    let request = pb::DeleteResourceRequest {
        id: id.into_inner(),
        channel: WriteChannel::Admin as i32,
    };
    let host = reply(clients.resource(&caller).delete_host(request)).await?;
    ok(RecordId { id: host.id })
}
