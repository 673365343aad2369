//! Outbound adapter to svc-jobs: whether a job step is bound to a cluster, asked over its gRPC API
//! with the caller's own token (a service reads another's data only through its API).

use common::telemetry::{CallerChannel, PeerService, reply};
use proto::jobs::v1::{IdRequest, jobs_service_client::JobsServiceClient};
use tonic::transport::Channel;

use crate::service::{ClusterUsage, ResourceError, ResourceResult};

/// The jobs service, as resource sees it.
#[derive(Clone)]
pub struct JobsDirectory(PeerService<JobsServiceClient<CallerChannel>>);

impl JobsDirectory {
    /// The jobs service behind `channel`.
    pub fn new(channel: Channel) -> JobsDirectory {
        JobsDirectory(PeerService::new(channel, JobsServiceClient::new))
    }
}

#[async_trait::async_trait]
impl ClusterUsage for JobsDirectory {
    async fn check_unused(&self, token: &str, cluster_id: &str) -> ResourceResult<()> {
        let request = IdRequest {
            id: cluster_id.to_owned(),
        };
        reply(self.0.on_behalf_of(token).check_cluster_unused(request))
            .await
            .map_err(ResourceError::Upstream)?;
        Ok(())
    }
}
