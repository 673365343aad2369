//! Clusters and the hosts bound to them: proto ⇄ rules.

use super::{
    Actor, Claims, ClusterFields, ClusterView, ResourceGrpc, Status, channel_of, host_row_to_proto,
    pb, to_unix_ms,
};

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
        deleting: view.deleting,
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

impl ResourceGrpc {
    pub(super) async fn query_clusters(
        &self,
        actor: Claims,
        body: pb::QueryClustersRequest,
    ) -> Result<pb::ClusterPage, Status> {
        let page = crate::service::PageRequest::new(body.page, body.page_size);
        let (count, views) = self
            .service
            .query_clusters(&actor, body.app_id.as_deref(), body.name.as_deref(), page)
            .await?;
        Ok(pb::ClusterPage {
            count,
            page: page.page,
            clusters: views.into_iter().map(cluster_to_proto).collect(),
        })
    }

    pub(super) async fn create_cluster(
        &self,
        actor: Claims,
        body: pb::CreateClusterRequest,
    ) -> Result<pb::Cluster, Status> {
        let view = self
            .service
            .create_cluster(
                &actor,
                body.id.as_deref(),
                cluster_fields(body.fields),
                channel_of(body.channel),
            )
            .await?;
        Ok(cluster_to_proto(view))
    }

    pub(super) async fn update_cluster(
        &self,
        actor: Claims,
        body: pb::UpdateClusterRequest,
    ) -> Result<pb::Cluster, Status> {
        let view = self
            .service
            .update_cluster(
                &actor,
                &body.id,
                cluster_fields(body.fields),
                channel_of(body.channel),
            )
            .await?;
        Ok(cluster_to_proto(view))
    }

    pub(super) async fn delete_cluster(
        &self,
        actor: Actor,
        body: pb::DeleteResourceRequest,
    ) -> Result<pb::Cluster, Status> {
        let row = self
            .service
            .delete_cluster(&actor, &body.id, channel_of(body.channel))
            .await?;
        Ok(cluster_to_proto(ClusterView {
            row,
            env_name: String::new(),
            app_name: String::new(),
            deleting: false,
        }))
    }

    pub(super) async fn list_clusters(
        &self,
        actor: Claims,
        body: pb::ListClustersRequest,
    ) -> Result<pb::ListClustersResponse, Status> {
        let views = self
            .service
            .list_clusters(&actor, body.env_id.as_deref(), body.app_id.as_deref())
            .await?;
        Ok(pb::ListClustersResponse {
            clusters: views.into_iter().map(cluster_to_proto).collect(),
        })
    }

    pub(super) async fn get_clusters(
        &self,
        actor: Claims,
        body: pb::GetClustersRequest,
    ) -> Result<pb::ListClustersResponse, Status> {
        let views = self.service.get_clusters(&actor, body.ids).await?;
        Ok(pb::ListClustersResponse {
            clusters: views.into_iter().map(cluster_to_proto).collect(),
        })
    }

    pub(super) async fn cluster_host_candidates(
        &self,
        actor: Claims,
        body: pb::ClusterIdRequest,
    ) -> Result<pb::ListHostsResponse, Status> {
        let rows = self
            .service
            .cluster_host_candidates(&actor, &body.cluster_id)
            .await?;
        Ok(pb::ListHostsResponse {
            hosts: rows.into_iter().map(host_row_to_proto).collect(),
        })
    }

    pub(super) async fn cluster_hosts(
        &self,
        actor: Claims,
        body: pb::ClusterIdRequest,
    ) -> Result<pb::ListHostsResponse, Status> {
        let rows = self.service.cluster_hosts(&actor, &body.cluster_id).await?;
        Ok(pb::ListHostsResponse {
            hosts: rows.into_iter().map(host_row_to_proto).collect(),
        })
    }

    pub(super) async fn bind_hosts(
        &self,
        actor: Claims,
        body: pb::BindHostsRequest,
    ) -> Result<pb::BindHostsResponse, Status> {
        self.service
            .bind_hosts(&actor, &body.cluster_id, body.host_ids)
            .await?;
        Ok(pb::BindHostsResponse {})
    }

    pub(super) async fn unbind_hosts(
        &self,
        actor: Claims,
        body: pb::BindHostsRequest,
    ) -> Result<pb::BindHostsResponse, Status> {
        self.service
            .unbind_hosts(&actor, &body.cluster_id, body.host_ids)
            .await?;
        Ok(pb::BindHostsResponse {})
    }
}
