//! Product lines, applications, modules, environments and cluster types: proto ⇄ rules.

use super::{
    ApplicationRow, CallerExt, ClusterTypeRow, EnvRow, ModuleRow, ProductLineRow, Request,
    ResourceGrpc, Response, Status, deleted, pb, to_unix_ms,
};

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

impl ResourceGrpc {
    pub(super) async fn upsert_product_line(
        &self,
        request: Request<pb::UpsertProductLineRequest>,
    ) -> Result<Response<pb::ProductLine>, Status> {
        let actor = request.claims()?;
        let body = request.into_inner();
        let row = self
            .service
            .upsert_product_line(&actor, body.id.as_deref(), &body.name)
            .await?;
        Ok(Response::new(product_line_to_proto(row)))
    }

    pub(super) async fn list_product_lines(
        &self,
        request: Request<pb::ListProductLinesRequest>,
    ) -> Result<Response<pb::ListProductLinesResponse>, Status> {
        let actor = request.claims()?;
        let rows = self.service.list_product_lines(&actor).await?;
        Ok(Response::new(pb::ListProductLinesResponse {
            product_lines: rows.into_iter().map(product_line_to_proto).collect(),
        }))
    }

    pub(super) async fn delete_product_line(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = request.claims()?;
        let id = request.into_inner().id;
        self.service.delete_product_line(&actor, &id).await?;
        Ok(deleted(id))
    }

    pub(super) async fn upsert_application(
        &self,
        request: Request<pb::UpsertApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        let actor = request.claims()?;
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

    pub(super) async fn list_applications(
        &self,
        request: Request<pb::ListApplicationsRequest>,
    ) -> Result<Response<pb::ListApplicationsResponse>, Status> {
        let actor = request.claims()?;
        let body = request.into_inner();
        let rows = self
            .service
            .list_applications(&actor, body.product_line_id.as_deref())
            .await?;
        Ok(Response::new(pb::ListApplicationsResponse {
            applications: rows.into_iter().map(application_to_proto).collect(),
        }))
    }

    pub(super) async fn delete_application(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = request.claims()?;
        let id = request.into_inner().id;
        self.service.delete_application(&actor, &id).await?;
        Ok(deleted(id))
    }

    pub(super) async fn upsert_module(
        &self,
        request: Request<pb::UpsertModuleRequest>,
    ) -> Result<Response<pb::Module>, Status> {
        let actor = request.claims()?;
        let body = request.into_inner();
        let row = self
            .service
            .upsert_module(&actor, body.id.as_deref(), &body.name, &body.application_id)
            .await?;
        Ok(Response::new(module_to_proto(row)))
    }

    pub(super) async fn list_modules(
        &self,
        request: Request<pb::ListModulesRequest>,
    ) -> Result<Response<pb::ListModulesResponse>, Status> {
        let actor = request.claims()?;
        let body = request.into_inner();
        let rows = self
            .service
            .list_modules(&actor, body.application_id.as_deref())
            .await?;
        Ok(Response::new(pb::ListModulesResponse {
            modules: rows.into_iter().map(module_to_proto).collect(),
        }))
    }

    pub(super) async fn delete_module(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = request.claims()?;
        let id = request.into_inner().id;
        self.service.delete_module(&actor, &id).await?;
        Ok(deleted(id))
    }

    pub(super) async fn upsert_env(
        &self,
        request: Request<pb::UpsertEnvRequest>,
    ) -> Result<Response<pb::Env>, Status> {
        let actor = request.claims()?;
        let body = request.into_inner();
        let row = self
            .service
            .upsert_env(&actor, body.id.as_deref(), &body.name, &body.remark)
            .await?;
        Ok(Response::new(env_to_proto(row)))
    }

    pub(super) async fn list_envs(
        &self,
        request: Request<pb::ListEnvsRequest>,
    ) -> Result<Response<pb::ListEnvsResponse>, Status> {
        let actor = request.claims()?;
        let rows = self.service.list_envs(&actor).await?;
        Ok(Response::new(pb::ListEnvsResponse {
            envs: rows.into_iter().map(env_to_proto).collect(),
        }))
    }

    pub(super) async fn delete_env(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = request.claims()?;
        let id = request.into_inner().id;
        self.service.delete_env(&actor, &id).await?;
        Ok(deleted(id))
    }

    pub(super) async fn upsert_cluster_type(
        &self,
        request: Request<pb::UpsertClusterTypeRequest>,
    ) -> Result<Response<pb::ClusterType>, Status> {
        let actor = request.claims()?;
        let body = request.into_inner();
        let row = self
            .service
            .upsert_cluster_type(&actor, &body.key, &body.value)
            .await?;
        Ok(Response::new(cluster_type_to_proto(row)))
    }

    pub(super) async fn list_cluster_types(
        &self,
        request: Request<pb::ListClusterTypesRequest>,
    ) -> Result<Response<pb::ListClusterTypesResponse>, Status> {
        let actor = request.claims()?;
        let rows = self.service.list_cluster_types(&actor).await?;
        Ok(Response::new(pb::ListClusterTypesResponse {
            cluster_types: rows.into_iter().map(cluster_type_to_proto).collect(),
        }))
    }

    pub(super) async fn delete_cluster_type(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = request.claims()?;
        let key = request.into_inner().id;
        self.service.delete_cluster_type(&actor, &key).await?;
        Ok(deleted(key))
    }
}
