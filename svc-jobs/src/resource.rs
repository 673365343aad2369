//! Outbound adapter to svc-resource: names beside ids, applications' product lines and clusters,
//! asked over its gRPC API with the caller's own token (a service reads another's data only
//! through its API).

use chrono::{DateTime, Utc};
use common::deploy_window::DeployWindow;
pub use common::deploy_window::OutsideWindow;
pub use common::names::{NameLookup, Names};
use common::telemetry::{CallerChannel, PeerService, reply};

use proto::resource::v1::{self as pb, resource_service_client::ResourceServiceClient};
use tonic::transport::Channel;

use crate::domain::{JobsError, JobsResult, RecordKind};

/// The message another service answers, or its status as [`JobsError::Upstream`].
pub(crate) async fn upstream<T>(
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> JobsResult<T> {
    reply(call).await.map_err(JobsError::Upstream)
}

/// What jobs needs of a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    pub id: String,
    pub name: String,
    pub remark: String,
    pub env_id: String,
    pub app_id: String,
    /// Its delete is under way: bind nothing to it.
    pub deleting: bool,
}

/// How runs on an environment are governed (issue 20).
#[derive(Debug, Clone)]
pub struct EnvGovernance {
    pub env_id: String,
    pub env_name: String,
    /// Runs need an approval.
    pub protected: bool,
    /// When approved runs may start (none: any time).
    pub windows: Vec<DeployWindow>,
    /// No run starts before then.
    pub frozen_until: Option<DateTime<Utc>>,
    /// What an approval outside the windows does.
    pub outside_window: OutsideWindow,
}

/// The governance answered, its windows parsed. A stored window or choice that no longer reads
/// (checked when saved, so only a changed zone database) fails the run rather than ignore a rule.
fn env_governance(answer: pb::EnvGovernance) -> JobsResult<EnvGovernance> {
    let unreadable = |what: String| {
        JobsError::Unavailable(format!(
            "the governance of environment {:?} does not read: {what}",
            answer.env_id
        ))
    };
    let mut windows = Vec::with_capacity(answer.deploy_windows.len());
    for cron in &answer.deploy_windows {
        let window = DeployWindow::parse(cron, &answer.window_timezone)
            .map_err(|refused| unreadable(refused.to_string()))?;
        windows.push(window);
    }
    let outside_window = OutsideWindow::parse(&answer.outside_window)
        .ok_or_else(|| unreadable(format!("outside_window {:?}", answer.outside_window)))?;
    let frozen_until = answer
        .frozen_until_ms
        .and_then(common::time::from_unix_ms)
        .map(|until| until.and_utc());
    Ok(EnvGovernance {
        env_id: answer.env_id,
        env_name: answer.env_name,
        protected: answer.protected,
        windows,
        frozen_until,
        outside_window,
    })
}

/// The resource service, as jobs sees it.
#[derive(Clone)]
pub struct ResourceDirectory(PeerService<ResourceServiceClient<CallerChannel>>);

fn cluster_info(cluster: pb::Cluster) -> ClusterInfo {
    ClusterInfo {
        id: cluster.id,
        name: cluster.name,
        remark: cluster.remark,
        env_id: cluster.env_id,
        app_id: cluster.app_id,
        deleting: cluster.deleting,
    }
}

impl ResourceDirectory {
    pub fn new(channel: Channel) -> ResourceDirectory {
        ResourceDirectory(PeerService::new(channel, ResourceServiceClient::new))
    }

    pub async fn names(&self, token: &str, query: NameLookup) -> JobsResult<Names> {
        let request = pb::LookupNamesRequest {
            env_ids: query.env_ids,
            application_ids: query.application_ids,
            product_line_ids: query.product_line_ids,
            module_ids: query.module_ids,
        };
        let answer = upstream(self.0.on_behalf_of(token).lookup_names(request)).await?;
        Ok(Names {
            envs: answer.envs,
            applications: answer.applications,
            product_lines: answer.product_lines,
            modules: answer.modules,
            application_product_lines: answer.application_product_lines,
        })
    }

    /// Fails with [`JobsError::NotFound`] unless svc-resource names the `kind` record `id`, an
    /// application or a product line (it names no record of another kind).
    pub async fn require_named(&self, token: &str, kind: RecordKind, id: &str) -> JobsResult<()> {
        let ids = vec![id.to_owned()];
        let query = match kind {
            RecordKind::Application => NameLookup {
                application_ids: ids,
                ..NameLookup::default()
            },
            RecordKind::ProductLine => NameLookup {
                product_line_ids: ids,
                ..NameLookup::default()
            },
            _ => NameLookup::default(),
        };
        let names = self.names(token, query).await?;
        if names.applications.contains_key(id) || names.product_lines.contains_key(id) {
            return Ok(());
        }
        Err(JobsError::NotFound {
            kind,
            id: id.to_owned(),
        })
    }

    /// Clusters by id (unknown ids are left out).
    pub async fn clusters(&self, token: &str, ids: Vec<String>) -> JobsResult<Vec<ClusterInfo>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let answer = upstream(
            self.0
                .on_behalf_of(token)
                .get_clusters(pb::GetClustersRequest { ids }),
        )
        .await?;
        Ok(answer.clusters.into_iter().map(cluster_info).collect())
    }

    /// How runs on environment `env_id` are governed.
    pub async fn env_governance(&self, token: &str, env_id: &str) -> JobsResult<EnvGovernance> {
        let request = pb::GetEnvGovernanceRequest {
            env_id: env_id.to_owned(),
        };
        let answer = upstream(self.0.on_behalf_of(token).get_env_governance(request)).await?;
        env_governance(answer)
    }

    /// Ids of the modules of an application.
    pub async fn module_ids_of(&self, token: &str, app_id: &str) -> JobsResult<Vec<String>> {
        let request = pb::ListModulesRequest {
            application_id: Some(app_id.to_owned()),
        };
        let answer = upstream(self.0.on_behalf_of(token).list_modules(request)).await?;
        Ok(answer.modules.into_iter().map(|module| module.id).collect())
    }

    /// Clusters of an environment and application.
    pub async fn clusters_of(
        &self,
        token: &str,
        env_id: &str,
        app_id: &str,
    ) -> JobsResult<Vec<ClusterInfo>> {
        let request = pb::ListClustersRequest {
            env_id: Some(env_id.to_owned()),
            app_id: Some(app_id.to_owned()),
        };
        let answer = upstream(self.0.on_behalf_of(token).list_clusters(request)).await?;
        Ok(answer.clusters.into_iter().map(cluster_info).collect())
    }
}

impl ResourceDirectory {
    /// IPs of the hosts bound to a cluster.
    pub async fn cluster_host_ips(&self, token: &str, cluster_id: &str) -> JobsResult<Vec<String>> {
        let answer = upstream(
            self.0
                .on_behalf_of(token)
                .cluster_hosts(pb::ClusterIdRequest {
                    cluster_id: cluster_id.to_owned(),
                }),
        )
        .await?;
        Ok(answer.hosts.into_iter().map(|host| host.host_ip).collect())
    }
}

/// How to reach one host of a cluster (secrets in clear: never logged, never stored).
#[derive(Clone)]
pub struct HostConnection {
    pub host_id: String,
    pub host_ip: String,
    pub ssh_port: u16,
    pub ssh_user: String,
    pub password: Option<String>,
    pub private_key: Option<String>,
    pub pinned_fingerprint: Option<String>,
}

impl std::fmt::Debug for HostConnection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HostConnection")
            .field("host_ip", &self.host_ip)
            .field("ssh_port", &self.ssh_port)
            .field("ssh_user", &self.ssh_user)
            .finish_non_exhaustive()
    }
}

impl ResourceDirectory {
    /// Hosts of a cluster with their SSH secrets (needs an internal token).
    pub async fn host_connections(
        &self,
        internal_token: &str,
        cluster_id: &str,
    ) -> JobsResult<Vec<HostConnection>> {
        let answer = upstream(self.0.on_behalf_of(internal_token).get_host_connections(
            pb::ClusterIdRequest {
                cluster_id: cluster_id.to_owned(),
            },
        ))
        .await?;
        Ok(answer
            .hosts
            .into_iter()
            .filter_map(|connection| {
                let host = connection.host?;
                Some(HostConnection {
                    host_id: host.id,
                    host_ip: host.host_ip,
                    ssh_port: u16::try_from(host.ssh_port).unwrap_or(22),
                    ssh_user: host.ssh_user,
                    password: connection.password,
                    private_key: connection.private_key,
                    pinned_fingerprint: connection.host_key_fingerprint,
                })
            })
            .collect())
    }

    /// Pins a host key on first use; answers the pinned fingerprint.
    pub async fn pin_host_key(
        &self,
        internal_token: &str,
        host_id: &str,
        fingerprint: &str,
    ) -> JobsResult<String> {
        let answer = upstream(self.0.on_behalf_of(internal_token).pin_host_key(
            pb::PinHostKeyRequest {
                host_id: host_id.to_owned(),
                fingerprint: fingerprint.to_owned(),
            },
        ))
        .await?;
        Ok(answer.pinned)
    }
}
