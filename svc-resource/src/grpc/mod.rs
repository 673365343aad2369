//! Inbound gRPC adapter of svc-resource: verifies the caller's token, translates proto ⇄ domain,
//! and maps rule failures to statuses with a stable reason. Nothing else.

use common::{
    auth::{AUTHORIZATION, Actor, Claims},
    time::to_unix_ms,
};
use proto::{
    ErrorReason,
    resource::v1::{self as pb, resource_service_server::ResourceService as ResourceApi},
};
use tonic::{Request, Response, Status};

use crate::{
    db::models::{
        catalog::{ApplicationRow, ClusterTypeRow, EnvRow, ModuleRow, ProductLineRow},
        resources::HostRow,
        users::UserRow,
    },
    service::{
        ConflictKind, RecordKind, ResourceError, ResourceService, WriteChannel,
        clusters::{ClusterFields, ClusterView},
        hosts::{HostFields, HostView},
        lookups::NameLookup,
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

    /// The verified caller: signature, expiry, and (user tokens) an active session.
    fn caller<T>(
        &self,
        request: &Request<T>,
    ) -> impl std::future::Future<Output = Result<Claims, Status>> + Send + 'static {
        let actor = self.actor(request);
        async move { actor.await.map(|actor| actor.claims) }
    }

    fn actor<T>(
        &self,
        request: &Request<T>,
    ) -> impl std::future::Future<Output = Result<Actor, Status>> + Send + 'static {
        let header = request
            .metadata()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let jwt = self.service.jwt().clone();
        async move {
            jwt.authenticate(header.as_deref())
                .await
                .map_err(auth_status)
        }
    }
}

/// A refused token answers `unauthorized`; an unanswerable session check `service_unavailable`.
fn auth_status(error: common::auth::AuthError) -> Status {
    let reason = if error.is_unavailable() {
        ErrorReason::ServiceUnavailable
    } else {
        ErrorReason::Unauthorized
    };
    reason.status(error.to_string())
}

fn not_found_reason(kind: RecordKind) -> ErrorReason {
    match kind {
        RecordKind::User => ErrorReason::UserNotFound,
        RecordKind::ProductLine => ErrorReason::ProductLineNotFound,
        RecordKind::Application => ErrorReason::ApplicationNotFound,
        RecordKind::Module => ErrorReason::ModuleNotFound,
        RecordKind::Env => ErrorReason::EnvNotFound,
        RecordKind::ClusterType => ErrorReason::ClusterTypeNotFound,
        RecordKind::Cluster => ErrorReason::ClusterNotFound,
        RecordKind::Host => ErrorReason::HostNotFound,
    }
}

fn reason_of(error: &ResourceError) -> ErrorReason {
    match error {
        ResourceError::Entry { source, .. } => reason_of(source),
        other => reason_of_single(other),
    }
}

impl From<ResourceError> for Status {
    fn from(error: ResourceError) -> Status {
        let message = error.to_string();
        let reason = reason_of(&error);
        if reason == ErrorReason::InternalError {
            tracing::error!(error = %message, "resource request failed");
        }
        reason.status(message)
    }
}

fn reason_of_single(error: &ResourceError) -> ErrorReason {
    {
        match error {
            ResourceError::Missing { .. } => ErrorReason::MissingField,
            ResourceError::Invalid { .. } => ErrorReason::InvalidField,
            ResourceError::NotFound { kind, .. } => not_found_reason(*kind),
            ResourceError::UsernameTaken(_) => ErrorReason::UsernameTaken,
            ResourceError::InUse { kind, .. } => match kind {
                RecordKind::Application => ErrorReason::ApplicationInUse,
                RecordKind::Env => ErrorReason::EnvInUse,
                RecordKind::Host => ErrorReason::HostBound,
                _ => ErrorReason::ProductLineInUse,
            },
            ResourceError::Conflict(kind, _) => match kind {
                ConflictKind::ClusterNameTaken => ErrorReason::ClusterNameTaken,
                ConflictKind::HostIpTaken => ErrorReason::HostIpTaken,
                ConflictKind::HostOutsideCluster => ErrorReason::HostOutsideCluster,
                ConflictKind::HostBound => ErrorReason::HostBound,
            },
            ResourceError::CmdbOwned { .. } => ErrorReason::CmdbOwned,
            ResourceError::CannotDeleteSelf(_) => ErrorReason::CannotDeleteSelf,
            ResourceError::Forbidden(_) => ErrorReason::Forbidden,
            ResourceError::InvalidCredentials => ErrorReason::InvalidCredentials,
            ResourceError::TooManyLoginAttempts(_) => ErrorReason::TooManyLoginAttempts,
            ResourceError::Unauthenticated(_) => ErrorReason::Unauthorized,
            ResourceError::Database(_)
            | ResourceError::Cache(_)
            | ResourceError::Hashing(_)
            | ResourceError::Token(_)
            | ResourceError::Credentials(_)
            | ResourceError::Entry { .. } => ErrorReason::InternalError,
        }
    }
}

fn user_to_proto(row: UserRow) -> pb::User {
    let roles = row.role_names();
    pb::User {
        id: row.id,
        username: row.username,
        roles,
        creator: row.creator,
        create_time_ms: to_unix_ms(row.create_time),
    }
}

fn product_line_to_proto(row: ProductLineRow) -> pb::ProductLine {
    pb::ProductLine {
        id: row.id,
        name: row.name,
        creator: row.creator,
        create_time_ms: to_unix_ms(row.create_time),
        mender: row.mender,
        update_time_ms: to_unix_ms(row.update_time),
    }
}

fn application_to_proto(row: ApplicationRow) -> pb::Application {
    pb::Application {
        id: row.id,
        name: row.name,
        product_line_id: row.product_line_id,
        creator: row.creator,
        create_time_ms: to_unix_ms(row.create_time),
        mender: row.mender,
        update_time_ms: to_unix_ms(row.update_time),
    }
}

fn module_to_proto(row: ModuleRow) -> pb::Module {
    pb::Module {
        id: row.id,
        name: row.name,
        application_id: row.application_id,
        creator: row.creator,
        create_time_ms: to_unix_ms(row.create_time),
        mender: row.mender,
        update_time_ms: to_unix_ms(row.update_time),
    }
}

fn env_to_proto(row: EnvRow) -> pb::Env {
    pb::Env {
        id: row.id,
        name: row.name,
        remark: row.remark,
        creator: row.creator,
        create_time_ms: to_unix_ms(row.create_time),
        mender: row.mender,
        update_time_ms: to_unix_ms(row.update_time),
    }
}

fn cluster_type_to_proto(row: ClusterTypeRow) -> pb::ClusterType {
    pb::ClusterType {
        key: row.type_key,
        value: row.type_value,
    }
}

fn cluster_to_proto(view: ClusterView) -> pb::Cluster {
    let row = view.row;
    pb::Cluster {
        id: row.id,
        name: row.name,
        remark: row.remark,
        r#type: row.cluster_type,
        env_id: row.env_id,
        env_name: view.env_name,
        app_id: row.app_id,
        app_name: view.app_name,
        source: row.source,
        creator: row.creator,
        create_time_ms: to_unix_ms(row.create_time),
        mender: row.mender,
        update_time_ms: to_unix_ms(row.update_time),
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

fn host_to_proto(view: HostView) -> pb::Host {
    pb::Host {
        product_line_name: view.product_line_name,
        env_name: view.env_name,
        clusters: view
            .clusters
            .into_iter()
            .map(|(id, name)| pb::ClusterName { id, name })
            .collect(),
        apps: view.apps,
        ..host_row_to_proto(view.row)
    }
}

fn channel_of(value: i32) -> WriteChannel {
    match pb::WriteChannel::try_from(value) {
        Ok(pb::WriteChannel::Admin) => WriteChannel::Admin,
        _ => WriteChannel::Aos,
    }
}

fn cluster_fields(fields: Option<pb::ClusterFields>) -> ClusterFields {
    let fields = fields.unwrap_or_default();
    ClusterFields {
        name: fields.name,
        remark: fields.remark,
        cluster_type: fields.r#type,
        env_id: fields.env_id,
        app_id: fields.app_id,
    }
}

fn host_fields(fields: Option<pb::HostFields>) -> HostFields {
    let fields = fields.unwrap_or_default();
    HostFields {
        host_ip: fields.host_ip,
        host_name: fields.host_name,
        remark: fields.remark,
        ssh_user: fields.ssh_user,
        ssh_port: fields.ssh_port,
        ssh_password: fields.ssh_password,
        ssh_private_key: fields.ssh_private_key,
        product_line_id: fields.product_line_id,
        env_id: fields.env_id,
    }
}

fn deleted(id: String) -> Response<pb::DeleteResponse> {
    Response::new(pb::DeleteResponse { id })
}

#[tonic::async_trait]
impl ResourceApi for ResourceGrpc {
    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        let body = request.into_inner();
        let (token, roles) = self.service.login(&body.username, &body.password).await?;
        Ok(Response::new(pb::LoginResponse {
            token: token.token,
            expires_at_ms: token.expires_at_ms,
            username: body.username.trim().to_owned(),
            roles,
        }))
    }

    async fn check_session(
        &self,
        request: Request<pb::CheckSessionRequest>,
    ) -> Result<Response<pb::CheckSessionResponse>, Status> {
        let header = request
            .metadata()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let active = match self.service.jwt().authenticate(header.as_deref()).await {
            Ok(_) => true,
            Err(error) if error.is_unavailable() => return Err(auth_status(error)),
            Err(_) => false,
        };
        Ok(Response::new(pb::CheckSessionResponse { active }))
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let actor = self.actor(&request).await?;
        self.service.logout(&actor).await?;
        Ok(Response::new(pb::LogoutResponse {
            username: actor.username().to_owned(),
        }))
    }

    async fn update_user(
        &self,
        request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let row = self
            .service
            .update_user(&actor, &body.id, body.password.as_deref(), &body.roles)
            .await?;
        Ok(Response::new(user_to_proto(row)))
    }

    async fn create_user(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let row = self
            .service
            .create_user(&actor, &body.username, &body.password, &body.roles)
            .await?;
        Ok(Response::new(user_to_proto(row)))
    }

    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let actor = self.caller(&request).await?;
        let rows = self.service.list_users(&actor).await?;
        Ok(Response::new(pb::ListUsersResponse {
            users: rows.into_iter().map(user_to_proto).collect(),
        }))
    }

    async fn delete_user(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = self.caller(&request).await?;
        let id = request.into_inner().id;
        self.service.delete_user(&actor, &id).await?;
        Ok(deleted(id))
    }

    async fn upsert_product_line(
        &self,
        request: Request<pb::UpsertProductLineRequest>,
    ) -> Result<Response<pb::ProductLine>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let row = self
            .service
            .upsert_product_line(&actor, body.id.as_deref(), &body.name)
            .await?;
        Ok(Response::new(product_line_to_proto(row)))
    }

    async fn list_product_lines(
        &self,
        request: Request<pb::ListProductLinesRequest>,
    ) -> Result<Response<pb::ListProductLinesResponse>, Status> {
        let actor = self.caller(&request).await?;
        let rows = self.service.list_product_lines(&actor).await?;
        Ok(Response::new(pb::ListProductLinesResponse {
            product_lines: rows.into_iter().map(product_line_to_proto).collect(),
        }))
    }

    async fn delete_product_line(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = self.caller(&request).await?;
        let id = request.into_inner().id;
        self.service.delete_product_line(&actor, &id).await?;
        Ok(deleted(id))
    }

    async fn upsert_application(
        &self,
        request: Request<pb::UpsertApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let row = self
            .service
            .upsert_application(
                &actor,
                body.id.as_deref(),
                &body.name,
                &body.product_line_id,
            )
            .await?;
        Ok(Response::new(application_to_proto(row)))
    }

    async fn list_applications(
        &self,
        request: Request<pb::ListApplicationsRequest>,
    ) -> Result<Response<pb::ListApplicationsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let rows = self
            .service
            .list_applications(&actor, body.product_line_id.as_deref())
            .await?;
        Ok(Response::new(pb::ListApplicationsResponse {
            applications: rows.into_iter().map(application_to_proto).collect(),
        }))
    }

    async fn delete_application(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = self.caller(&request).await?;
        let id = request.into_inner().id;
        self.service.delete_application(&actor, &id).await?;
        Ok(deleted(id))
    }

    async fn upsert_module(
        &self,
        request: Request<pb::UpsertModuleRequest>,
    ) -> Result<Response<pb::Module>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let row = self
            .service
            .upsert_module(&actor, body.id.as_deref(), &body.name, &body.application_id)
            .await?;
        Ok(Response::new(module_to_proto(row)))
    }

    async fn list_modules(
        &self,
        request: Request<pb::ListModulesRequest>,
    ) -> Result<Response<pb::ListModulesResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let rows = self
            .service
            .list_modules(&actor, body.application_id.as_deref())
            .await?;
        Ok(Response::new(pb::ListModulesResponse {
            modules: rows.into_iter().map(module_to_proto).collect(),
        }))
    }

    async fn delete_module(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = self.caller(&request).await?;
        let id = request.into_inner().id;
        self.service.delete_module(&actor, &id).await?;
        Ok(deleted(id))
    }

    async fn upsert_env(
        &self,
        request: Request<pb::UpsertEnvRequest>,
    ) -> Result<Response<pb::Env>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let row = self
            .service
            .upsert_env(&actor, body.id.as_deref(), &body.name, &body.remark)
            .await?;
        Ok(Response::new(env_to_proto(row)))
    }

    async fn list_envs(
        &self,
        request: Request<pb::ListEnvsRequest>,
    ) -> Result<Response<pb::ListEnvsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let rows = self.service.list_envs(&actor).await?;
        Ok(Response::new(pb::ListEnvsResponse {
            envs: rows.into_iter().map(env_to_proto).collect(),
        }))
    }

    async fn delete_env(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = self.caller(&request).await?;
        let id = request.into_inner().id;
        self.service.delete_env(&actor, &id).await?;
        Ok(deleted(id))
    }

    async fn upsert_cluster_type(
        &self,
        request: Request<pb::UpsertClusterTypeRequest>,
    ) -> Result<Response<pb::ClusterType>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let row = self
            .service
            .upsert_cluster_type(&actor, &body.key, &body.value)
            .await?;
        Ok(Response::new(cluster_type_to_proto(row)))
    }

    async fn list_cluster_types(
        &self,
        request: Request<pb::ListClusterTypesRequest>,
    ) -> Result<Response<pb::ListClusterTypesResponse>, Status> {
        let actor = self.caller(&request).await?;
        let rows = self.service.list_cluster_types(&actor).await?;
        Ok(Response::new(pb::ListClusterTypesResponse {
            cluster_types: rows.into_iter().map(cluster_type_to_proto).collect(),
        }))
    }

    async fn delete_cluster_type(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = self.caller(&request).await?;
        let key = request.into_inner().id;
        self.service.delete_cluster_type(&actor, &key).await?;
        Ok(deleted(key))
    }

    async fn query_clusters(
        &self,
        request: Request<pb::QueryClustersRequest>,
    ) -> Result<Response<pb::ClusterPage>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let page = crate::service::PageRequest::new(body.page, body.page_size);
        let (count, views) = self
            .service
            .query_clusters(&actor, body.app_id.as_deref(), body.name.as_deref(), page)
            .await?;
        Ok(Response::new(pb::ClusterPage {
            count,
            page: page.page,
            clusters: views.into_iter().map(cluster_to_proto).collect(),
        }))
    }

    async fn create_cluster(
        &self,
        request: Request<pb::CreateClusterRequest>,
    ) -> Result<Response<pb::Cluster>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let view = self
            .service
            .create_cluster(
                &actor,
                body.id.as_deref(),
                cluster_fields(body.fields),
                channel_of(body.channel),
            )
            .await?;
        Ok(Response::new(cluster_to_proto(view)))
    }

    async fn update_cluster(
        &self,
        request: Request<pb::UpdateClusterRequest>,
    ) -> Result<Response<pb::Cluster>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let view = self
            .service
            .update_cluster(
                &actor,
                &body.id,
                cluster_fields(body.fields),
                channel_of(body.channel),
            )
            .await?;
        Ok(Response::new(cluster_to_proto(view)))
    }

    async fn delete_cluster(
        &self,
        request: Request<pb::DeleteResourceRequest>,
    ) -> Result<Response<pb::Cluster>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let row = self
            .service
            .delete_cluster(&actor, &body.id, channel_of(body.channel))
            .await?;
        Ok(Response::new(cluster_to_proto(ClusterView {
            row,
            env_name: String::new(),
            app_name: String::new(),
        })))
    }

    async fn list_clusters(
        &self,
        request: Request<pb::ListClustersRequest>,
    ) -> Result<Response<pb::ListClustersResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let views = self
            .service
            .list_clusters(&actor, body.env_id.as_deref(), body.app_id.as_deref())
            .await?;
        Ok(Response::new(pb::ListClustersResponse {
            clusters: views.into_iter().map(cluster_to_proto).collect(),
        }))
    }

    async fn get_clusters(
        &self,
        request: Request<pb::GetClustersRequest>,
    ) -> Result<Response<pb::ListClustersResponse>, Status> {
        let actor = self.caller(&request).await?;
        let views = self
            .service
            .get_clusters(&actor, request.into_inner().ids)
            .await?;
        Ok(Response::new(pb::ListClustersResponse {
            clusters: views.into_iter().map(cluster_to_proto).collect(),
        }))
    }

    async fn cluster_host_candidates(
        &self,
        request: Request<pb::ClusterIdRequest>,
    ) -> Result<Response<pb::ListHostsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let rows = self
            .service
            .cluster_host_candidates(&actor, &request.into_inner().cluster_id)
            .await?;
        Ok(Response::new(pb::ListHostsResponse {
            hosts: rows.into_iter().map(host_row_to_proto).collect(),
        }))
    }

    async fn cluster_hosts(
        &self,
        request: Request<pb::ClusterIdRequest>,
    ) -> Result<Response<pb::ListHostsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let rows = self
            .service
            .cluster_hosts(&actor, &request.into_inner().cluster_id)
            .await?;
        Ok(Response::new(pb::ListHostsResponse {
            hosts: rows.into_iter().map(host_row_to_proto).collect(),
        }))
    }

    async fn bind_hosts(
        &self,
        request: Request<pb::BindHostsRequest>,
    ) -> Result<Response<pb::BindHostsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        self.service
            .bind_hosts(&actor, &body.cluster_id, body.host_ids)
            .await?;
        Ok(Response::new(pb::BindHostsResponse {}))
    }

    async fn unbind_hosts(
        &self,
        request: Request<pb::BindHostsRequest>,
    ) -> Result<Response<pb::BindHostsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        self.service
            .unbind_hosts(&actor, &body.cluster_id, body.host_ids)
            .await?;
        Ok(Response::new(pb::BindHostsResponse {}))
    }

    async fn create_host(
        &self,
        request: Request<pb::CreateHostRequest>,
    ) -> Result<Response<pb::Host>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let view = self
            .service
            .create_host(
                &actor,
                body.id.as_deref(),
                host_fields(body.fields),
                channel_of(body.channel),
            )
            .await?;
        Ok(Response::new(host_to_proto(view)))
    }

    async fn update_host(
        &self,
        request: Request<pb::UpdateHostRequest>,
    ) -> Result<Response<pb::Host>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let view = self
            .service
            .update_host(
                &actor,
                &body.id,
                host_fields(body.fields),
                channel_of(body.channel),
            )
            .await?;
        Ok(Response::new(host_to_proto(view)))
    }

    async fn delete_host(
        &self,
        request: Request<pb::DeleteResourceRequest>,
    ) -> Result<Response<pb::Host>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let row = self
            .service
            .delete_host(&actor, &body.id, channel_of(body.channel))
            .await?;
        Ok(Response::new(host_row_to_proto(row)))
    }

    async fn query_hosts(
        &self,
        request: Request<pb::QueryHostsRequest>,
    ) -> Result<Response<pb::HostPage>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let page = crate::service::PageRequest::new(body.page, body.page_size);
        let (count, views) = self
            .service
            .query_hosts(
                &actor,
                body.host_name.as_deref(),
                body.product_line_id.as_deref(),
                page,
            )
            .await?;
        Ok(Response::new(pb::HostPage {
            count,
            page: page.page,
            hosts: views.into_iter().map(host_to_proto).collect(),
        }))
    }

    async fn list_hosts(
        &self,
        request: Request<pb::ListHostsRequest>,
    ) -> Result<Response<pb::ListHostsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let views = self.service.list_hosts(&actor).await?;
        Ok(Response::new(pb::ListHostsResponse {
            hosts: views.into_iter().map(host_to_proto).collect(),
        }))
    }

    async fn validate_ssh(
        &self,
        request: Request<pb::ValidateSshRequest>,
    ) -> Result<Response<pb::ValidateSshResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let ok = self
            .service
            .validate_ssh(&actor, &body.host_ip, &body.ssh_user)
            .await?;
        Ok(Response::new(pb::ValidateSshResponse { ok }))
    }

    async fn get_host_connections(
        &self,
        request: Request<pb::ClusterIdRequest>,
    ) -> Result<Response<pb::HostConnectionsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let connections = self
            .service
            .host_connections(&actor, &request.into_inner().cluster_id)
            .await?;
        Ok(Response::new(pb::HostConnectionsResponse {
            hosts: connections
                .into_iter()
                .map(|connection| pb::HostConnection {
                    host_key_fingerprint: connection.row.host_key_fingerprint.clone(),
                    host: Some(host_row_to_proto(connection.row)),
                    password: connection.password,
                    private_key: connection.private_key,
                })
                .collect(),
        }))
    }

    async fn pin_host_key(
        &self,
        request: Request<pb::PinHostKeyRequest>,
    ) -> Result<Response<pb::PinHostKeyResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let pinned = self
            .service
            .pin_host_key(&actor, &body.host_id, &body.fingerprint)
            .await?;
        Ok(Response::new(pb::PinHostKeyResponse { pinned }))
    }

    async fn lookup_names(
        &self,
        request: Request<pb::LookupNamesRequest>,
    ) -> Result<Response<pb::LookupNamesResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let names = self
            .service
            .lookup_names(
                &actor,
                NameLookup {
                    env_ids: body.env_ids,
                    application_ids: body.application_ids,
                    product_line_ids: body.product_line_ids,
                    module_ids: body.module_ids,
                },
            )
            .await?;
        Ok(Response::new(pb::LookupNamesResponse {
            envs: names.envs,
            applications: names.applications,
            product_lines: names.product_lines,
            modules: names.modules,
            application_product_lines: names.application_product_lines,
        }))
    }
}
