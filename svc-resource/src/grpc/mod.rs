//! Inbound gRPC adapter of svc-resource: verifies the caller's token, translates proto ⇄ domain,
//! and maps rule failures to statuses with a stable reason. Nothing else.

use common::{
    auth::{AUTHORIZATION, Claims},
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
        users::UserRow,
    },
    service::{RecordKind, ResourceError, ResourceService},
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

    fn caller<T>(&self, request: &Request<T>) -> Result<Claims, Status> {
        let header = request
            .metadata()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        self.service
            .jwt()
            .verify_header(header)
            .map_err(|error| ErrorReason::Unauthorized.status(error.to_string()))
    }
}

fn not_found_reason(kind: RecordKind) -> ErrorReason {
    match kind {
        RecordKind::User => ErrorReason::UserNotFound,
        RecordKind::ProductLine => ErrorReason::ProductLineNotFound,
        RecordKind::Application => ErrorReason::ApplicationNotFound,
        RecordKind::Module => ErrorReason::ModuleNotFound,
        RecordKind::Env => ErrorReason::EnvNotFound,
        RecordKind::ClusterType => ErrorReason::ClusterTypeNotFound,
    }
}

impl From<ResourceError> for Status {
    fn from(error: ResourceError) -> Status {
        let message = error.to_string();
        let reason = match &error {
            ResourceError::Missing { .. } => ErrorReason::MissingField,
            ResourceError::Invalid { .. } => ErrorReason::InvalidField,
            ResourceError::NotFound { kind, .. } => not_found_reason(*kind),
            ResourceError::UsernameTaken(_) => ErrorReason::UsernameTaken,
            ResourceError::InUse {
                kind: RecordKind::Application,
                ..
            } => ErrorReason::ApplicationInUse,
            ResourceError::InUse { .. } => ErrorReason::ProductLineInUse,
            ResourceError::CannotDeleteSelf(_) => ErrorReason::CannotDeleteSelf,
            ResourceError::Forbidden(_) => ErrorReason::Forbidden,
            ResourceError::InvalidCredentials => ErrorReason::InvalidCredentials,
            ResourceError::TooManyLoginAttempts(_) => ErrorReason::TooManyLoginAttempts,
            ResourceError::Unauthenticated(_) => ErrorReason::Unauthorized,
            ResourceError::Database(_)
            | ResourceError::Cache(_)
            | ResourceError::Hashing(_)
            | ResourceError::Token(_) => {
                tracing::error!(error = %message, "resource request failed");
                ErrorReason::InternalError
            }
        };
        reason.status(message)
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

    async fn create_user(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let actor = self.caller(&request)?;
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
        let actor = self.caller(&request)?;
        let rows = self.service.list_users(&actor).await?;
        Ok(Response::new(pb::ListUsersResponse {
            users: rows.into_iter().map(user_to_proto).collect(),
        }))
    }

    async fn delete_user(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = self.caller(&request)?;
        let id = request.into_inner().id;
        self.service.delete_user(&actor, &id).await?;
        Ok(deleted(id))
    }

    async fn upsert_product_line(
        &self,
        request: Request<pb::UpsertProductLineRequest>,
    ) -> Result<Response<pb::ProductLine>, Status> {
        let actor = self.caller(&request)?;
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
        let actor = self.caller(&request)?;
        let rows = self.service.list_product_lines(&actor).await?;
        Ok(Response::new(pb::ListProductLinesResponse {
            product_lines: rows.into_iter().map(product_line_to_proto).collect(),
        }))
    }

    async fn delete_product_line(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = self.caller(&request)?;
        let id = request.into_inner().id;
        self.service.delete_product_line(&actor, &id).await?;
        Ok(deleted(id))
    }

    async fn upsert_application(
        &self,
        request: Request<pb::UpsertApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        let actor = self.caller(&request)?;
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
        let actor = self.caller(&request)?;
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
        let actor = self.caller(&request)?;
        let id = request.into_inner().id;
        self.service.delete_application(&actor, &id).await?;
        Ok(deleted(id))
    }

    async fn upsert_module(
        &self,
        request: Request<pb::UpsertModuleRequest>,
    ) -> Result<Response<pb::Module>, Status> {
        let actor = self.caller(&request)?;
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
        let actor = self.caller(&request)?;
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
        let actor = self.caller(&request)?;
        let id = request.into_inner().id;
        self.service.delete_module(&actor, &id).await?;
        Ok(deleted(id))
    }

    async fn upsert_env(
        &self,
        request: Request<pb::UpsertEnvRequest>,
    ) -> Result<Response<pb::Env>, Status> {
        let actor = self.caller(&request)?;
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
        let actor = self.caller(&request)?;
        let rows = self.service.list_envs(&actor).await?;
        Ok(Response::new(pb::ListEnvsResponse {
            envs: rows.into_iter().map(env_to_proto).collect(),
        }))
    }

    async fn delete_env(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = self.caller(&request)?;
        let id = request.into_inner().id;
        self.service.delete_env(&actor, &id).await?;
        Ok(deleted(id))
    }

    async fn upsert_cluster_type(
        &self,
        request: Request<pb::UpsertClusterTypeRequest>,
    ) -> Result<Response<pb::ClusterType>, Status> {
        let actor = self.caller(&request)?;
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
        let actor = self.caller(&request)?;
        let rows = self.service.list_cluster_types(&actor).await?;
        Ok(Response::new(pb::ListClusterTypesResponse {
            cluster_types: rows.into_iter().map(cluster_type_to_proto).collect(),
        }))
    }

    async fn delete_cluster_type(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = self.caller(&request)?;
        let key = request.into_inner().id;
        self.service.delete_cluster_type(&actor, &key).await?;
        Ok(deleted(key))
    }
}
