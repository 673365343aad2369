//! Inbound gRPC adapter of svc-resource: reads the caller the doorway layer verified
//! (`common::doorway`), translates proto ⇄ domain (the RPC table here, the records' messages in
//! `convert`), and maps rule failures to statuses with a stable reason (`error`). Nothing else.

mod convert;
mod error;

use common::{
    auth::{Actor, Claims},
    doorway::{Authentication, Public, auth_status, converted},
};
use proto::resource::v1::{self as pb, resource_service_server::ResourceService as ResourceApi};

use crate::service::{
    PageRequest, ResourceService, clusters::ClusterView, governance::GovernanceInput,
    tokens::NewToken,
};
use convert::channel_of;

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

common::grpc_api! {
    impl ResourceApi for ResourceGrpc {}

    // Sessions.
    login(&self, _: Public, body: pb::LoginRequest) -> pb::LoginResponse {
        let (token, roles) = self.service.login(&body.username, &body.password).await?;
        pb::LoginResponse {
            token: token.token,
            expires_at_ms: token.expires_at_ms,
            username: body.username.trim().to_owned(),
            roles,
        }
    }
    check_session(
        &self,
        authentication: Authentication,
        _: pb::CheckSessionRequest,
    ) -> pb::CheckSessionResponse {
        let active = match authentication.0 {
            Ok(_) => true,
            Err(error) if error.is_unavailable() => return Err(auth_status(&error)),
            Err(_) => false,
        };
        pb::CheckSessionResponse { active }
    }
    logout(&self, actor: Actor, _: pb::LogoutRequest) -> pb::LogoutResponse {
        self.service.logout(&actor).await?;
        pb::LogoutResponse { username: actor.username().to_owned() }
    }

    // API tokens (issue 20).
    create_api_token(
        &self,
        actor: Claims,
        body: pb::CreateApiTokenRequest,
    ) -> pb::CreatedApiToken {
        let new = NewToken {
            name: &body.name,
            expires_in_days: body.expires_in_days,
            roles: &body.roles,
        };
        let (token, secret) = self.service.create_api_token(&actor, new).await?;
        pb::CreatedApiToken { token: Some(token.into()), secret }
    }
    list_api_tokens(&self, actor: Claims, _: pb::ListApiTokensRequest) -> pb::ListApiTokensResponse {
        pb::ListApiTokensResponse { tokens: converted(self.service.list_api_tokens(&actor).await?) }
    }
    revoke_api_token(&self, actor: Claims, body: pb::DeleteRequest) -> pb::DeleteResponse {
        self.service.revoke_api_token(&actor, &body.id).await?;
        pb::DeleteResponse { id: body.id }
    }
    resolve_api_token(
        &self,
        _: Public,
        body: pb::ResolveApiTokenRequest,
    ) -> pb::ResolveApiTokenResponse {
        let token = self.service.resolve_api_token(&body.token).await?;
        pb::ResolveApiTokenResponse { token: token.map(Into::into) }
    }

    // Users and their roles.
    update_user(&self, actor: Claims, body: pb::UpdateUserRequest) -> pb::User {
        let password = body.password.as_deref();
        self.service.update_user(&actor, &body.id, password, &body.roles).await?.into()
    }
    create_user(&self, actor: Claims, body: pb::CreateUserRequest) -> pb::User {
        let (name, password) = (&body.username, &body.password);
        self.service.create_user(&actor, name, password, &body.roles).await?.into()
    }
    list_users(&self, actor: Claims, _: pb::ListUsersRequest) -> pb::ListUsersResponse {
        pb::ListUsersResponse { users: converted(self.service.list_users(&actor).await?) }
    }
    delete_user(&self, actor: Claims, body: pb::DeleteRequest) -> pb::DeleteResponse {
        self.service.delete_user(&actor, &body.id).await?;
        pb::DeleteResponse { id: body.id }
    }

    // Product lines, applications, modules, environments and cluster types.
    upsert_product_line(
        &self,
        actor: Claims,
        body: pb::UpsertProductLineRequest,
    ) -> pb::ProductLine {
        let id = body.id.as_deref();
        self.service.upsert_product_line(&actor, id, &body.name).await?.into()
    }
    list_product_lines(
        &self,
        actor: Claims,
        _: pb::ListProductLinesRequest,
    ) -> pb::ListProductLinesResponse {
        let rows = self.service.list_product_lines(&actor).await?;
        pb::ListProductLinesResponse { product_lines: converted(rows) }
    }
    delete_product_line(&self, actor: Claims, body: pb::DeleteRequest) -> pb::DeleteResponse {
        self.service.delete_product_line(&actor, &body.id).await?;
        pb::DeleteResponse { id: body.id }
    }
    upsert_application(
        &self,
        actor: Claims,
        body: pb::UpsertApplicationRequest,
    ) -> pb::Application {
        let (id, name) = (body.id.as_deref(), &body.name);
        let product_line_id = &body.product_line_id;
        self.service.upsert_application(&actor, id, name, product_line_id).await?.into()
    }
    list_applications(
        &self,
        actor: Claims,
        body: pb::ListApplicationsRequest,
    ) -> pb::ListApplicationsResponse {
        let product_line_id = body.product_line_id.as_deref();
        let rows = self.service.list_applications(&actor, product_line_id).await?;
        pb::ListApplicationsResponse { applications: converted(rows) }
    }
    delete_application(&self, actor: Claims, body: pb::DeleteRequest) -> pb::DeleteResponse {
        self.service.delete_application(&actor, &body.id).await?;
        pb::DeleteResponse { id: body.id }
    }
    upsert_module(&self, actor: Claims, body: pb::UpsertModuleRequest) -> pb::Module {
        let (id, name, application_id) = (body.id.as_deref(), &body.name, &body.application_id);
        self.service.upsert_module(&actor, id, name, application_id).await?.into()
    }
    list_modules(&self, actor: Claims, body: pb::ListModulesRequest) -> pb::ListModulesResponse {
        let rows = self.service.list_modules(&actor, body.application_id.as_deref()).await?;
        pb::ListModulesResponse { modules: converted(rows) }
    }
    delete_module(&self, actor: Claims, body: pb::DeleteRequest) -> pb::DeleteResponse {
        self.service.delete_module(&actor, &body.id).await?;
        pb::DeleteResponse { id: body.id }
    }
    upsert_env(&self, actor: Claims, body: pb::UpsertEnvRequest) -> pb::Env {
        let (id, name, remark) = (body.id.as_deref(), &body.name, &body.remark);
        self.service.upsert_env(&actor, id, name, remark).await?.into()
    }
    list_envs(&self, actor: Claims, _: pb::ListEnvsRequest) -> pb::ListEnvsResponse {
        pb::ListEnvsResponse { envs: converted(self.service.list_envs(&actor).await?) }
    }
    delete_env(&self, actor: Claims, body: pb::DeleteRequest) -> pb::DeleteResponse {
        self.service.delete_env(&actor, &body.id).await?;
        pb::DeleteResponse { id: body.id }
    }
    set_env_governance(
        &self,
        actor: Claims,
        body: pb::SetEnvGovernanceRequest,
    ) -> pb::EnvGovernance {
        let env_id = body.env_id.clone();
        let input = GovernanceInput::new(&env_id, body.into());
        self.service.set_env_governance(&actor, input).await?.into()
    }
    get_env_governance(
        &self,
        actor: Claims,
        body: pb::GetEnvGovernanceRequest,
    ) -> pb::EnvGovernance {
        self.service.env_governance(&actor, &body.env_id).await?.into()
    }
    upsert_cluster_type(
        &self,
        actor: Claims,
        body: pb::UpsertClusterTypeRequest,
    ) -> pb::ClusterType {
        self.service.upsert_cluster_type(&actor, &body.key, &body.value).await?.into()
    }
    list_cluster_types(
        &self,
        actor: Claims,
        _: pb::ListClusterTypesRequest,
    ) -> pb::ListClusterTypesResponse {
        let rows = self.service.list_cluster_types(&actor).await?;
        pb::ListClusterTypesResponse { cluster_types: converted(rows) }
    }
    delete_cluster_type(&self, actor: Claims, body: pb::DeleteRequest) -> pb::DeleteResponse {
        self.service.delete_cluster_type(&actor, &body.id).await?;
        pb::DeleteResponse { id: body.id }
    }

    // Clusters and the hosts bound to them.
    query_clusters(&self, actor: Claims, body: pb::QueryClustersRequest) -> pb::ClusterPage {
        let page = PageRequest::new(body.page, body.page_size);
        let (app_id, name) = (body.app_id.as_deref(), body.name.as_deref());
        let (count, views) = self.service.query_clusters(&actor, app_id, name, page).await?;
        pb::ClusterPage { count, page: page.page, clusters: converted(views) }
    }
    create_cluster(&self, actor: Claims, body: pb::CreateClusterRequest) -> pb::Cluster {
        let fields = body.fields.unwrap_or_default().into();
        let channel = channel_of(body.channel);
        let id = body.id.as_deref();
        self.service.create_cluster(&actor, id, fields, channel).await?.into()
    }
    update_cluster(&self, actor: Claims, body: pb::UpdateClusterRequest) -> pb::Cluster {
        let fields = body.fields.unwrap_or_default().into();
        let channel = channel_of(body.channel);
        self.service.update_cluster(&actor, &body.id, fields, channel).await?.into()
    }
    delete_cluster(&self, actor: Actor, body: pb::DeleteResourceRequest) -> pb::Cluster {
        let channel = channel_of(body.channel);
        let row = self.service.delete_cluster(&actor, &body.id, channel).await?;
        let (env_name, app_name) = (String::new(), String::new());
        ClusterView { row, env_name, app_name, deleting: false }.into()
    }
    list_clusters(&self, actor: Claims, body: pb::ListClustersRequest) -> pb::ListClustersResponse {
        let (env_id, app_id) = (body.env_id.as_deref(), body.app_id.as_deref());
        let views = self.service.list_clusters(&actor, env_id, app_id).await?;
        pb::ListClustersResponse { clusters: converted(views) }
    }
    get_clusters(&self, actor: Claims, body: pb::GetClustersRequest) -> pb::ListClustersResponse {
        let views = self.service.get_clusters(&actor, body.ids).await?;
        pb::ListClustersResponse { clusters: converted(views) }
    }
    cluster_host_candidates(
        &self,
        actor: Claims,
        body: pb::ClusterIdRequest,
    ) -> pb::ListHostsResponse {
        let rows = self.service.cluster_host_candidates(&actor, &body.cluster_id);
        pb::ListHostsResponse { hosts: converted(rows.await?) }
    }
    cluster_hosts(&self, actor: Claims, body: pb::ClusterIdRequest) -> pb::ListHostsResponse {
        let rows = self.service.cluster_hosts(&actor, &body.cluster_id).await?;
        pb::ListHostsResponse { hosts: converted(rows) }
    }
    bind_hosts(&self, actor: Claims, body: pb::BindHostsRequest) -> pb::BindHostsResponse {
        let cluster_id = &body.cluster_id;
        self.service.bind_hosts(&actor, cluster_id, body.host_ids).await?;
        pb::BindHostsResponse {}
    }
    unbind_hosts(&self, actor: Claims, body: pb::BindHostsRequest) -> pb::BindHostsResponse {
        let cluster_id = &body.cluster_id;
        self.service.unbind_hosts(&actor, cluster_id, body.host_ids).await?;
        pb::BindHostsResponse {}
    }

    // Hosts, their SSH validation, connections and pinned keys.
    create_host(&self, actor: Claims, body: pb::CreateHostRequest) -> pb::Host {
        let fields = body.fields.unwrap_or_default().into();
        let channel = channel_of(body.channel);
        let id = body.id.as_deref();
        self.service.create_host(&actor, id, fields, channel).await?.into()
    }
    update_host(&self, actor: Claims, body: pb::UpdateHostRequest) -> pb::Host {
        let fields = body.fields.unwrap_or_default().into();
        let channel = channel_of(body.channel);
        self.service.update_host(&actor, &body.id, fields, channel).await?.into()
    }
    delete_host(&self, actor: Claims, body: pb::DeleteResourceRequest) -> pb::Host {
        let channel = channel_of(body.channel);
        self.service.delete_host(&actor, &body.id, channel).await?.into()
    }
    query_hosts(&self, actor: Claims, body: pb::QueryHostsRequest) -> pb::HostPage {
        let page = PageRequest::new(body.page, body.page_size);
        let host_name = body.host_name.as_deref();
        let product_line_id = body.product_line_id.as_deref();
        let query = self.service.query_hosts(&actor, host_name, product_line_id, page);
        let (count, views) = query.await?;
        pb::HostPage { count, page: page.page, hosts: converted(views) }
    }
    list_hosts(&self, actor: Claims, _: pb::ListHostsRequest) -> pb::ListHostsResponse {
        pb::ListHostsResponse { hosts: converted(self.service.list_hosts(&actor).await?) }
    }
    validate_ssh(&self, actor: Claims, body: pb::ValidateSshRequest) -> pb::ValidateSshResponse {
        let ok = self.service.validate_ssh(&actor, &body.host_ip, &body.ssh_user).await?;
        pb::ValidateSshResponse { ok }
    }
    get_host_connections(
        &self,
        actor: Claims,
        body: pb::ClusterIdRequest,
    ) -> pb::HostConnectionsResponse {
        let connections = self.service.host_connections(&actor, &body.cluster_id).await?;
        pb::HostConnectionsResponse { hosts: converted(connections) }
    }
    pin_host_key(&self, actor: Claims, body: pb::PinHostKeyRequest) -> pb::PinHostKeyResponse {
        let (host_id, fingerprint) = (&body.host_id, &body.fingerprint);
        let pinned = self.service.pin_host_key(&actor, host_id, fingerprint).await?;
        pb::PinHostKeyResponse { pinned }
    }

    // Names of records by id, for other services' answers.
    lookup_names(&self, actor: Claims, body: pb::LookupNamesRequest) -> pb::LookupNamesResponse {
        let lookup = convert::name_lookup(body);
        convert::names_response(self.service.lookup_names(&actor, lookup).await?)
    }

    // The audit trail (issue 20).
    query_audit(
        &self,
        actor: common::auth::Actor,
        body: proto::audit::v1::AuditQuery,
    ) -> proto::audit::v1::AuditPage {
        common::audit_rpc::query(self.service.database(), &actor.claims, body).await?
    }
    record_audit_refusal(
        &self,
        authentication: Authentication,
        body: proto::audit::v1::AuditRefusal,
    ) -> proto::audit::v1::AuditRecorded {
        let caller = authentication.0.as_ref();
        common::audit_rpc::record_refusal(self.service.database(), caller, body).await?
    }
}
