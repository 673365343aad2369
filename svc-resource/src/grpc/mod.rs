//! Inbound gRPC adapter of svc-resource: reads the caller the doorway layer verified
//! (`common::doorway`), translates proto ⇄ domain in one file per area, and maps rule failures
//! to statuses with a stable reason (`error`). Nothing else.

mod catalog;
mod clusters;
mod error;
mod hosts;
mod lookups;
mod sessions;
mod users;

use common::{
    auth::{Actor, Claims},
    doorway::{Authentication, Public, auth_status},
    time::to_unix_ms,
};
use proto::resource::v1::{self as pb, resource_service_server::ResourceService as ResourceApi};
use tonic::Status;

use crate::service::{
    ResourceService, WriteChannel,
    clusters::{ClusterFields, ClusterView},
    hosts::{HostFields, HostView},
    lookups::NameLookup,
    records::{
        ApplicationRow, ClusterTypeRow, EnvRow, HostRow, ModuleRow, ProductLineRow, UserRow,
    },
};

/// The tonic service over the resource rules.
#[derive(Clone)]
pub struct ResourceGrpc {
    service: ResourceService,
}

impl ResourceGrpc {
    pub fn new(service: ResourceService) -> ResourceGrpc {
        ResourceGrpc { service }
    }
}

fn host_row_to_proto(row: HostRow) -> pb::Host {
    pb::Host {
        has_password: row.ssh_password_sealed.is_some(),
        has_private_key: row.ssh_private_key_sealed.is_some(),
        host_key_pinned: row.host_key_fingerprint.is_some(),
        id: row.id,
        host_ip: row.host_ip,
        host_name: row.host_name,
        remark: row.remark,
        ssh_port: row.ssh_port,
        ssh_user: row.ssh_user,
        product_line_id: row.product_line_id,
        product_line_name: String::new(),
        env_id: row.env_id,
        env_name: String::new(),
        source: row.source,
        creator: row.creator,
        create_time_ms: to_unix_ms(row.create_time),
        mender: row.mender,
        update_time_ms: to_unix_ms(row.update_time),
        clusters: Vec::new(),
        apps: Vec::new(),
    }
}

fn channel_of(value: i32) -> WriteChannel {
    match pb::WriteChannel::try_from(value) {
        Ok(pb::WriteChannel::Admin) => WriteChannel::Admin,
        _ => WriteChannel::Aos,
    }
}

fn deleted(id: String) -> pb::DeleteResponse {
    pb::DeleteResponse { id }
}

common::grpc_api! {
    impl ResourceApi for ResourceGrpc {}
    login(pb::LoginRequest) -> pb::LoginResponse;
    check_session(pb::CheckSessionRequest) -> pb::CheckSessionResponse;
    logout(pb::LogoutRequest) -> pb::LogoutResponse;
    update_user(pb::UpdateUserRequest) -> pb::User;
    create_user(pb::CreateUserRequest) -> pb::User;
    list_users(pb::ListUsersRequest) -> pb::ListUsersResponse;
    delete_user(pb::DeleteRequest) -> pb::DeleteResponse;
    upsert_product_line(pb::UpsertProductLineRequest) -> pb::ProductLine;
    list_product_lines(pb::ListProductLinesRequest) -> pb::ListProductLinesResponse;
    delete_product_line(pb::DeleteRequest) -> pb::DeleteResponse;
    upsert_application(pb::UpsertApplicationRequest) -> pb::Application;
    list_applications(pb::ListApplicationsRequest) -> pb::ListApplicationsResponse;
    delete_application(pb::DeleteRequest) -> pb::DeleteResponse;
    upsert_module(pb::UpsertModuleRequest) -> pb::Module;
    list_modules(pb::ListModulesRequest) -> pb::ListModulesResponse;
    delete_module(pb::DeleteRequest) -> pb::DeleteResponse;
    upsert_env(pb::UpsertEnvRequest) -> pb::Env;
    list_envs(pb::ListEnvsRequest) -> pb::ListEnvsResponse;
    delete_env(pb::DeleteRequest) -> pb::DeleteResponse;
    upsert_cluster_type(pb::UpsertClusterTypeRequest) -> pb::ClusterType;
    list_cluster_types(pb::ListClusterTypesRequest) -> pb::ListClusterTypesResponse;
    delete_cluster_type(pb::DeleteRequest) -> pb::DeleteResponse;
    query_clusters(pb::QueryClustersRequest) -> pb::ClusterPage;
    create_cluster(pb::CreateClusterRequest) -> pb::Cluster;
    update_cluster(pb::UpdateClusterRequest) -> pb::Cluster;
    delete_cluster(pb::DeleteResourceRequest) -> pb::Cluster;
    list_clusters(pb::ListClustersRequest) -> pb::ListClustersResponse;
    get_clusters(pb::GetClustersRequest) -> pb::ListClustersResponse;
    cluster_host_candidates(pb::ClusterIdRequest) -> pb::ListHostsResponse;
    cluster_hosts(pb::ClusterIdRequest) -> pb::ListHostsResponse;
    bind_hosts(pb::BindHostsRequest) -> pb::BindHostsResponse;
    unbind_hosts(pb::BindHostsRequest) -> pb::BindHostsResponse;
    create_host(pb::CreateHostRequest) -> pb::Host;
    update_host(pb::UpdateHostRequest) -> pb::Host;
    delete_host(pb::DeleteResourceRequest) -> pb::Host;
    query_hosts(pb::QueryHostsRequest) -> pb::HostPage;
    list_hosts(pb::ListHostsRequest) -> pb::ListHostsResponse;
    validate_ssh(pb::ValidateSshRequest) -> pb::ValidateSshResponse;
    get_host_connections(pb::ClusterIdRequest) -> pb::HostConnectionsResponse;
    pin_host_key(pb::PinHostKeyRequest) -> pb::PinHostKeyResponse;
    lookup_names(pb::LookupNamesRequest) -> pb::LookupNamesResponse;
}
