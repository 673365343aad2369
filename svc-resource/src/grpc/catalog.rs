//! Product lines, applications, modules, environments and cluster types: proto ⇄ rules.

use super::{
    ApplicationRow, Claims, ClusterTypeRow, EnvRow, ModuleRow, ProductLineRow, ResourceGrpc,
    Status, deleted, pb, to_unix_ms,
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
        actor: Claims,
        body: pb::UpsertProductLineRequest,
    ) -> Result<pb::ProductLine, Status> {
        let row = self
            .service
            .upsert_product_line(&actor, body.id.as_deref(), &body.name)
            .await?;
        Ok(product_line_to_proto(row))
    }

    pub(super) async fn list_product_lines(
        &self,
        actor: Claims,
        _: pb::ListProductLinesRequest,
    ) -> Result<pb::ListProductLinesResponse, Status> {
        let rows = self.service.list_product_lines(&actor).await?;
        Ok(pb::ListProductLinesResponse {
            product_lines: rows.into_iter().map(product_line_to_proto).collect(),
        })
    }

    pub(super) async fn delete_product_line(
        &self,
        actor: Claims,
        body: pb::DeleteRequest,
    ) -> Result<pb::DeleteResponse, Status> {
        let id = body.id;
        self.service.delete_product_line(&actor, &id).await?;
        Ok(deleted(id))
    }

    pub(super) async fn upsert_application(
        &self,
        actor: Claims,
        body: pb::UpsertApplicationRequest,
    ) -> Result<pb::Application, Status> {
        let row = self
            .service
            .upsert_application(
                &actor,
                body.id.as_deref(),
                &body.name,
                &body.product_line_id,
            )
            .await?;
        Ok(application_to_proto(row))
    }

    pub(super) async fn list_applications(
        &self,
        actor: Claims,
        body: pb::ListApplicationsRequest,
    ) -> Result<pb::ListApplicationsResponse, Status> {
        let rows = self
            .service
            .list_applications(&actor, body.product_line_id.as_deref())
            .await?;
        Ok(pb::ListApplicationsResponse {
            applications: rows.into_iter().map(application_to_proto).collect(),
        })
    }

    pub(super) async fn delete_application(
        &self,
        actor: Claims,
        body: pb::DeleteRequest,
    ) -> Result<pb::DeleteResponse, Status> {
        let id = body.id;
        self.service.delete_application(&actor, &id).await?;
        Ok(deleted(id))
    }

    pub(super) async fn upsert_module(
        &self,
        actor: Claims,
        body: pb::UpsertModuleRequest,
    ) -> Result<pb::Module, Status> {
        let row = self
            .service
            .upsert_module(&actor, body.id.as_deref(), &body.name, &body.application_id)
            .await?;
        Ok(module_to_proto(row))
    }

    pub(super) async fn list_modules(
        &self,
        actor: Claims,
        body: pb::ListModulesRequest,
    ) -> Result<pb::ListModulesResponse, Status> {
        let rows = self
            .service
            .list_modules(&actor, body.application_id.as_deref())
            .await?;
        Ok(pb::ListModulesResponse {
            modules: rows.into_iter().map(module_to_proto).collect(),
        })
    }

    pub(super) async fn delete_module(
        &self,
        actor: Claims,
        body: pb::DeleteRequest,
    ) -> Result<pb::DeleteResponse, Status> {
        let id = body.id;
        self.service.delete_module(&actor, &id).await?;
        Ok(deleted(id))
    }

    pub(super) async fn upsert_env(
        &self,
        actor: Claims,
        body: pb::UpsertEnvRequest,
    ) -> Result<pb::Env, Status> {
        let row = self
            .service
            .upsert_env(&actor, body.id.as_deref(), &body.name, &body.remark)
            .await?;
        Ok(env_to_proto(row))
    }

    pub(super) async fn list_envs(
        &self,
        actor: Claims,
        _: pb::ListEnvsRequest,
    ) -> Result<pb::ListEnvsResponse, Status> {
        let rows = self.service.list_envs(&actor).await?;
        Ok(pb::ListEnvsResponse {
            envs: rows.into_iter().map(env_to_proto).collect(),
        })
    }

    pub(super) async fn delete_env(
        &self,
        actor: Claims,
        body: pb::DeleteRequest,
    ) -> Result<pb::DeleteResponse, Status> {
        let id = body.id;
        self.service.delete_env(&actor, &id).await?;
        Ok(deleted(id))
    }

    pub(super) async fn upsert_cluster_type(
        &self,
        actor: Claims,
        body: pb::UpsertClusterTypeRequest,
    ) -> Result<pb::ClusterType, Status> {
        let row = self
            .service
            .upsert_cluster_type(&actor, &body.key, &body.value)
            .await?;
        Ok(cluster_type_to_proto(row))
    }

    pub(super) async fn list_cluster_types(
        &self,
        actor: Claims,
        _: pb::ListClusterTypesRequest,
    ) -> Result<pb::ListClusterTypesResponse, Status> {
        let rows = self.service.list_cluster_types(&actor).await?;
        Ok(pb::ListClusterTypesResponse {
            cluster_types: rows.into_iter().map(cluster_type_to_proto).collect(),
        })
    }

    pub(super) async fn delete_cluster_type(
        &self,
        actor: Claims,
        body: pb::DeleteRequest,
    ) -> Result<pb::DeleteResponse, Status> {
        let key = body.id;
        self.service.delete_cluster_type(&actor, &key).await?;
        Ok(deleted(key))
    }
}
