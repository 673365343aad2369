//! Hosts, their SSH validation, connections and pinned keys: proto ⇄ rules.

use super::{
    CallerExt, HostFields, HostView, Request, ResourceGrpc, Response, Status, channel_of,
    host_row_to_proto, pb,
};

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

impl ResourceGrpc {
    pub(super) async fn create_host(
        &self,
        request: Request<pb::CreateHostRequest>,
    ) -> Result<Response<pb::Host>, Status> {
        let actor = request.claims()?;
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

    pub(super) async fn update_host(
        &self,
        request: Request<pb::UpdateHostRequest>,
    ) -> Result<Response<pb::Host>, Status> {
        let actor = request.claims()?;
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

    pub(super) async fn delete_host(
        &self,
        request: Request<pb::DeleteResourceRequest>,
    ) -> Result<Response<pb::Host>, Status> {
        let actor = request.claims()?;
        let body = request.into_inner();
        let row = self
            .service
            .delete_host(&actor, &body.id, channel_of(body.channel))
            .await?;
        Ok(Response::new(host_row_to_proto(row)))
    }

    pub(super) async fn query_hosts(
        &self,
        request: Request<pb::QueryHostsRequest>,
    ) -> Result<Response<pb::HostPage>, Status> {
        let actor = request.claims()?;
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

    pub(super) async fn list_hosts(
        &self,
        request: Request<pb::ListHostsRequest>,
    ) -> Result<Response<pb::ListHostsResponse>, Status> {
        let actor = request.claims()?;
        let views = self.service.list_hosts(&actor).await?;
        Ok(Response::new(pb::ListHostsResponse {
            hosts: views.into_iter().map(host_to_proto).collect(),
        }))
    }

    pub(super) async fn validate_ssh(
        &self,
        request: Request<pb::ValidateSshRequest>,
    ) -> Result<Response<pb::ValidateSshResponse>, Status> {
        let actor = request.claims()?;
        let body = request.into_inner();
        let ok = self
            .service
            .validate_ssh(&actor, &body.host_ip, &body.ssh_user)
            .await?;
        Ok(Response::new(pb::ValidateSshResponse { ok }))
    }

    pub(super) async fn get_host_connections(
        &self,
        request: Request<pb::ClusterIdRequest>,
    ) -> Result<Response<pb::HostConnectionsResponse>, Status> {
        let actor = request.claims()?;
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

    pub(super) async fn pin_host_key(
        &self,
        request: Request<pb::PinHostKeyRequest>,
    ) -> Result<Response<pb::PinHostKeyResponse>, Status> {
        let actor = request.claims()?;
        let body = request.into_inner();
        let pinned = self
            .service
            .pin_host_key(&actor, &body.host_id, &body.fingerprint)
            .await?;
        Ok(Response::new(pb::PinHostKeyResponse { pinned }))
    }
}
