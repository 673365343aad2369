//! Hosts, their SSH validation, connections and pinned keys: proto ⇄ rules.

use super::{
    Claims, HostFields, HostView, ResourceGrpc, Status, channel_of, host_row_to_proto, pb,
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
        actor: Claims,
        body: pb::CreateHostRequest,
    ) -> Result<pb::Host, Status> {
        let view = self
            .service
            .create_host(
                &actor,
                body.id.as_deref(),
                host_fields(body.fields),
                channel_of(body.channel),
            )
            .await?;
        Ok(host_to_proto(view))
    }

    pub(super) async fn update_host(
        &self,
        actor: Claims,
        body: pb::UpdateHostRequest,
    ) -> Result<pb::Host, Status> {
        let view = self
            .service
            .update_host(
                &actor,
                &body.id,
                host_fields(body.fields),
                channel_of(body.channel),
            )
            .await?;
        Ok(host_to_proto(view))
    }

    pub(super) async fn delete_host(
        &self,
        actor: Claims,
        body: pb::DeleteResourceRequest,
    ) -> Result<pb::Host, Status> {
        let row = self
            .service
            .delete_host(&actor, &body.id, channel_of(body.channel))
            .await?;
        Ok(host_row_to_proto(row))
    }

    pub(super) async fn query_hosts(
        &self,
        actor: Claims,
        body: pb::QueryHostsRequest,
    ) -> Result<pb::HostPage, Status> {
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
        Ok(pb::HostPage {
            count,
            page: page.page,
            hosts: views.into_iter().map(host_to_proto).collect(),
        })
    }

    pub(super) async fn list_hosts(
        &self,
        actor: Claims,
        _: pb::ListHostsRequest,
    ) -> Result<pb::ListHostsResponse, Status> {
        let views = self.service.list_hosts(&actor).await?;
        Ok(pb::ListHostsResponse {
            hosts: views.into_iter().map(host_to_proto).collect(),
        })
    }

    pub(super) async fn validate_ssh(
        &self,
        actor: Claims,
        body: pb::ValidateSshRequest,
    ) -> Result<pb::ValidateSshResponse, Status> {
        let ok = self
            .service
            .validate_ssh(&actor, &body.host_ip, &body.ssh_user)
            .await?;
        Ok(pb::ValidateSshResponse { ok })
    }

    pub(super) async fn get_host_connections(
        &self,
        actor: Claims,
        body: pb::ClusterIdRequest,
    ) -> Result<pb::HostConnectionsResponse, Status> {
        let connections = self
            .service
            .host_connections(&actor, &body.cluster_id)
            .await?;
        Ok(pb::HostConnectionsResponse {
            hosts: connections
                .into_iter()
                .map(|connection| pb::HostConnection {
                    host_key_fingerprint: connection.row.host_key_fingerprint.clone(),
                    host: Some(host_row_to_proto(connection.row)),
                    password: connection.password,
                    private_key: connection.private_key,
                })
                .collect(),
        })
    }

    pub(super) async fn pin_host_key(
        &self,
        actor: Claims,
        body: pb::PinHostKeyRequest,
    ) -> Result<pb::PinHostKeyResponse, Status> {
        let pinned = self
            .service
            .pin_host_key(&actor, &body.host_id, &body.fingerprint)
            .await?;
        Ok(pb::PinHostKeyResponse { pinned })
    }
}
