//! Outbound adapter to svc-jobs: whether a job step is bound to a cluster, asked over its gRPC API
//! with the caller's own token (a service reads another's data only through its API).

use common::telemetry::{CallContext, CallerChannel, reply};
use proto::jobs::v1::{IdRequest, jobs_service_client::JobsServiceClient};
use tonic::transport::Channel;

use crate::service::{ClusterUsage, ResourceError, ResourceResult};

/// The jobs service, as resource sees it.
#[derive(Clone)]
pub struct JobsDirectory {
    channel: Channel,
}

impl JobsDirectory {
    /// The jobs service behind `channel`.
    pub fn new(channel: Channel) -> JobsDirectory {
        JobsDirectory { channel }
    }

    /// The service's client for calls made on behalf of the caller whose token is `token`.
    fn client(&self, token: &str) -> JobsServiceClient<CallerChannel> {
        JobsServiceClient::with_interceptor(
            self.channel.clone(),
            CallContext::on_behalf_of(Some(token)),
        )
    }
}

#[async_trait::async_trait]
impl ClusterUsage for JobsDirectory {
    async fn check_unused(&self, token: &str, cluster_id: &str) -> ResourceResult<()> {
        let request = IdRequest {
            id: cluster_id.to_owned(),
        };
        reply(self.client(token).check_cluster_unused(request))
            .await
            .map_err(ResourceError::Upstream)?;
        Ok(())
    }
}
