//! Hosts (contract 8.2): deployment targets of a product line in an environment. SSH secrets are
//! sealed at rest and leave the service only to internal callers; SSH validation logs in for real
//! and pins the host key on first success; CMDB-owned hosts are read-only through legacy routes.

use std::{collections::HashMap, net::IpAddr};

use common::{
    audit::{Change, NewEvent, Origin},
    auth::Claims,
    db::DbConnection,
    limits,
    ssh::{LoginOutcome, SshAuth, SshTarget, try_login},
    time::now_utc,
};

use super::{
    PageRequest, RESOURCES_SCOPE, RESOURCES_WRITE, RecordKind, ResourceError, ResourceResult,
    ResourceService, WriteChannel,
    audit::{self, Audited, deleted, saved},
    clusters::NameCache,
    require_admin, require_admin_reader, require_internal, require_operator, require_reader,
    validate,
};
use crate::db::models::{
    catalog::{envs, product_lines},
    resources::{HostRow, SOURCE_AOS, SOURCE_CMDB, binding_queries, host_queries},
};

/// Port used when none is given.
pub const DEFAULT_SSH_PORT: u16 = 22;

/// What a caller sends to create or edit a host (field names as the legacy API spells them in
/// messages: `host_IP`, `ssh_passwd`, `productLine_id`).
#[derive(Debug, Clone, Default)]
pub struct HostFields {
    pub host_ip: String,
    pub host_name: String,
    pub remark: String,
    pub ssh_user: String,
    /// As sent: a number or text; empty means 22.
    pub ssh_port: Option<String>,
    /// On edits, absent keeps the stored one.
    pub ssh_password: Option<String>,
    /// An OpenSSH private key instead of (or beside) the password.
    pub ssh_private_key: Option<String>,
    pub product_line_id: String,
    pub env_id: String,
}

/// A host with the names around it and the clusters it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostView {
    pub row: HostRow,
    pub env_name: String,
    pub product_line_name: String,
    /// (id, name) of the clusters it is bound to.
    pub clusters: Vec<(String, String)>,
    /// Names of the applications of those clusters, without repeats.
    pub apps: Vec<String>,
}

/// A host's connection details with its secrets opened (internal callers only).
#[derive(Debug, Clone)]
pub struct HostConnection {
    pub row: HostRow,
    pub password: Option<String>,
    pub private_key: Option<String>,
}

struct CheckedHost {
    host_ip: String,
    host_name: String,
    remark: String,
    ssh_user: String,
    ssh_port: i32,
    product_line_id: String,
    env_id: String,
}

fn parse_port(text: Option<&str>) -> ResourceResult<i32> {
    let text = text.map(str::trim).unwrap_or("");
    limits::check("ssh_port", text, limits::TOKEN)?;
    if text.is_empty() {
        return Ok(i32::from(DEFAULT_SSH_PORT));
    }
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(i32::from(port)),
        _ => Err(ResourceError::Invalid {
            field: "ssh_port",
            message: format!("{text:?} is not a port number from 1 to 65535"),
        }),
    }
}

fn check_fields(connection: &mut DbConnection, fields: &HostFields) -> ResourceResult<CheckedHost> {
    let raw_ip = fields.host_ip.trim();
    if raw_ip.is_empty() {
        return Err(ResourceError::Missing { field: "host_IP" });
    }
    limits::check("host_IP", raw_ip, limits::TOKEN)?;
    let host_ip = raw_ip
        .parse::<IpAddr>()
        .map_err(|_| ResourceError::Invalid {
            field: "host_IP",
            message: format!("{raw_ip:?} is not an IPv4 or IPv6 address"),
        })?
        .to_string();
    let host_name = validate::name("host_name", &fields.host_name)?;
    let ssh_user = fields.ssh_user.trim().to_owned();
    if ssh_user.is_empty() {
        return Err(ResourceError::Missing { field: "ssh_user" });
    }
    if ssh_user
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
        || ssh_user.len() > 64
    {
        return Err(ResourceError::Invalid {
            field: "ssh_user",
            message: "must be a user name without spaces".to_owned(),
        });
    }
    let ssh_port = parse_port(fields.ssh_port.as_deref())?;
    limits::check_opt("ssh_passwd", fields.ssh_password.as_deref(), limits::SECRET)?;
    limits::check_opt(
        "ssh_private_key",
        fields.ssh_private_key.as_deref(),
        limits::SECRET,
    )?;
    if let Some(key) = fields
        .ssh_private_key
        .as_deref()
        .filter(|key| !key.trim().is_empty())
        && !key.trim_start().starts_with("-----BEGIN")
    {
        return Err(ResourceError::Invalid {
            field: "ssh_private_key",
            message: "must be a PEM private key (-----BEGIN ...)".to_owned(),
        });
    }
    let product_line_id = validate::reference("productLine_id", &fields.product_line_id)?;
    if product_lines::find(connection, &product_line_id)?.is_none() {
        return Err(ResourceError::NotFound {
            kind: RecordKind::ProductLine,
            id: product_line_id,
        });
    }
    let env_id = validate::reference("env_id", &fields.env_id)?;
    if envs::find(connection, &env_id)?.is_none() {
        return Err(ResourceError::NotFound {
            kind: RecordKind::Env,
            id: env_id,
        });
    }
    Ok(CheckedHost {
        host_ip,
        host_name,
        remark: validate::text("remark", &fields.remark, limits::REMARK)?,
        ssh_user,
        ssh_port,
        product_line_id,
        env_id,
    })
}

fn check_unique_ip(
    connection: &mut DbConnection,
    checked: &CheckedHost,
    id: &str,
) -> ResourceResult<()> {
    if let Some(other) =
        host_queries::find_by_env_ip(connection, &checked.env_id, &checked.host_ip, id)?
    {
        return Err(ResourceError::Conflict(
            super::ConflictKind::HostIpTaken,
            format!(
                "host_IP {} is already used by host {:?} ({}) in this environment",
                checked.host_ip, other.host_name, other.id
            ),
        ));
    }
    Ok(())
}

/// The event of pinning `fingerprint` as the key of `host` (as it was before).
fn key_pinned(origin: &Origin, host: &HostRow, fingerprint: &str) -> NewEvent {
    let before = host.host_key_fingerprint.as_deref();
    NewEvent::new(origin, "host.pin_key", HostRow::KIND, &host.id)
        .env(Some(&host.env_id))
        .change(audit::change("host_key", before, Some(fingerprint)))
}

fn found_host(connection: &mut DbConnection, id: &str) -> ResourceResult<HostRow> {
    host_queries::find(connection, id)?.ok_or_else(|| ResourceError::NotFound {
        kind: RecordKind::Host,
        id: id.to_owned(),
    })
}

fn refuse_cmdb(row: &HostRow, channel: WriteChannel, action: &'static str) -> ResourceResult<()> {
    if channel == WriteChannel::Aos && row.source == SOURCE_CMDB {
        return Err(ResourceError::CmdbOwned {
            kind: RecordKind::Host,
            id: row.id.clone(),
            action,
        });
    }
    Ok(())
}

pub(crate) fn host_views(
    connection: &mut DbConnection,
    rows: Vec<HostRow>,
) -> ResourceResult<Vec<HostView>> {
    let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    let mut bindings: HashMap<String, Vec<crate::db::models::resources::ClusterRow>> =
        HashMap::new();
    for (host_id, cluster) in binding_queries::clusters_of_hosts(connection, &ids)? {
        bindings.entry(host_id).or_default().push(cluster);
    }
    let mut names = NameCache::default();
    let mut product_line_names: HashMap<String, String> = HashMap::new();
    rows.into_iter()
        .map(|row| {
            let env_name = names.env(connection, &row.env_id)?;
            let product_line_name = match product_line_names.get(&row.product_line_id) {
                Some(name) => name.clone(),
                None => {
                    let name = product_lines::find(connection, &row.product_line_id)?
                        .map(|line| line.name)
                        .unwrap_or_default();
                    product_line_names.insert(row.product_line_id.clone(), name.clone());
                    name
                }
            };
            let clusters = bindings.remove(&row.id).unwrap_or_default();
            let mut apps: Vec<String> = Vec::new();
            for cluster in &clusters {
                let app = names.app(connection, &cluster.app_id)?;
                if !apps.contains(&app) {
                    apps.push(app);
                }
            }
            Ok(HostView {
                clusters: clusters
                    .into_iter()
                    .map(|cluster| (cluster.id, cluster.name))
                    .collect(),
                apps,
                env_name,
                product_line_name,
                row,
            })
        })
        .collect()
}

impl ResourceService {
    fn seal(&self, secret: Option<&str>, host_id: &str) -> ResourceResult<Option<String>> {
        match secret.filter(|secret| !secret.is_empty()) {
            None => Ok(None),
            Some(secret) => self
                .cipher
                .seal(secret, host_id)
                .map(Some)
                .map_err(|_| ResourceError::Credentials(host_id.to_owned())),
        }
    }

    fn open(&self, sealed: Option<&str>, host_id: &str) -> ResourceResult<Option<String>> {
        match sealed {
            None => Ok(None),
            Some(sealed) => self
                .cipher
                .open(sealed, host_id)
                .map(Some)
                .map_err(|_| ResourceError::Credentials(host_id.to_owned())),
        }
    }

    /// Creates (or, through the admin channel, upserts by id) a host; answers the row it replaced
    /// (`None`: created) and the view of the saved one.
    pub(crate) fn save_host_in(
        &self,
        connection: &mut DbConnection,
        actor: &str,
        id: Option<String>,
        fields: &HostFields,
        channel: WriteChannel,
    ) -> ResourceResult<(Option<HostRow>, HostView)> {
        let checked = check_fields(connection, fields)?;
        let id = id.unwrap_or_else(common::ids::new_id);
        check_unique_ip(connection, &checked, &id)?;
        let existing = host_queries::find(connection, &id)?;
        let before = existing.clone();
        let is_update = existing.is_some();
        let password = self.seal(fields.ssh_password.as_deref(), &id)?;
        let private_key = self.seal(fields.ssh_private_key.as_deref(), &id)?;
        let source = match channel {
            WriteChannel::Aos => SOURCE_AOS,
            WriteChannel::Admin => SOURCE_CMDB,
        };
        let now = now_utc();
        let row = match existing {
            Some(existing) => HostRow {
                host_key_fingerprint: if existing.host_ip == checked.host_ip
                    && existing.ssh_port == checked.ssh_port
                {
                    existing.host_key_fingerprint.clone()
                } else {
                    None
                },
                ssh_password_sealed: password.or(existing.ssh_password_sealed.clone()),
                ssh_private_key_sealed: private_key.or(existing.ssh_private_key_sealed.clone()),
                host_ip: checked.host_ip,
                host_name: checked.host_name,
                remark: checked.remark,
                ssh_port: checked.ssh_port,
                ssh_user: checked.ssh_user,
                product_line_id: checked.product_line_id,
                env_id: checked.env_id,
                source: source.to_owned(),
                mender: actor.to_owned(),
                update_time: now,
                ..existing
            },
            None => {
                if password.is_none() && private_key.is_none() {
                    return Err(ResourceError::Missing {
                        field: "ssh_passwd",
                    });
                }
                HostRow {
                    id: id.clone(),
                    host_ip: checked.host_ip,
                    host_name: checked.host_name,
                    remark: checked.remark,
                    ssh_port: checked.ssh_port,
                    ssh_user: checked.ssh_user,
                    ssh_password_sealed: password,
                    ssh_private_key_sealed: private_key,
                    host_key_fingerprint: None,
                    product_line_id: checked.product_line_id,
                    env_id: checked.env_id,
                    source: source.to_owned(),
                    creator: actor.to_owned(),
                    create_time: now,
                    mender: actor.to_owned(),
                    update_time: now,
                }
            }
        };
        if is_update {
            host_queries::update(connection, &row)?;
        } else if !common::db::insert_unless_taken(connection, |connection| {
            host_queries::insert(connection, &row)
        })? {
            // A concurrent create took the IP after the look above.
            return Err(ResourceError::Conflict(
                super::ConflictKind::HostIpTaken,
                format!(
                    "host_IP {} is already used by another host in this environment",
                    row.host_ip
                ),
            ));
        }
        Ok((before, host_views(connection, vec![row])?.remove(0)))
    }

    /// Saves a host as [`Self::save_host_in`] does, with the event of `action` (its SSH secrets
    /// only as whether they were set).
    fn save_host_audited(
        &self,
        connection: &mut DbConnection,
        (origin, action): (&Origin, &str),
        actor: &str,
        id: Option<String>,
        fields: &HostFields,
        channel: WriteChannel,
    ) -> ResourceResult<HostView> {
        let (before, view) = self.save_host_in(connection, actor, id, fields, channel)?;
        let mut event = saved(origin, action, before.as_ref(), &view.row);
        let secrets = [
            (
                "ssh_password",
                &fields.ssh_password,
                before.as_ref().map(|row| &row.ssh_password_sealed),
            ),
            (
                "ssh_private_key",
                &fields.ssh_private_key,
                before.as_ref().map(|row| &row.ssh_private_key_sealed),
            ),
        ];
        for (field, given, stored) in secrets {
            if given.as_deref().is_some_and(|secret| !secret.is_empty()) {
                let was_set = stored.is_some_and(Option::is_some);
                event = event.change(Change::secret(field, was_set, true));
            }
        }
        audit::append(connection, event)?;
        Ok(view)
    }

    /// 8.2.3 (legacy channel) or the admin route: creates a host.
    pub async fn create_host(
        &self,
        actor: &Claims,
        id: Option<&str>,
        fields: HostFields,
        channel: WriteChannel,
    ) -> ResourceResult<HostView> {
        let id = channel.new_record_id(actor, id)?;
        let origin = Origin::of(actor);
        let action = match channel {
            WriteChannel::Aos => "host.create",
            WriteChannel::Admin => "host.save",
        };
        let actor = actor.username().to_owned();
        let service = self.clone();
        let written = self
            .database
            .transaction(move |connection| {
                let event = (&origin, action);
                service.save_host_audited(connection, event, &actor, id, &fields, channel)
            })
            .await;
        self.reads.written(RESOURCES_WRITE, written).await
    }

    /// 8.2.6: edits a host; an absent password keeps the stored one; a bound host keeps its
    /// environment and product line.
    pub async fn update_host(
        &self,
        actor: &Claims,
        id: &str,
        fields: HostFields,
        channel: WriteChannel,
    ) -> ResourceResult<HostView> {
        match channel {
            WriteChannel::Aos => require_operator(actor)?,
            WriteChannel::Admin => require_admin(actor)?,
        }
        let origin = Origin::of(actor);
        let actor = actor.username().to_owned();
        let id = id.to_owned();
        let service = self.clone();
        let written = self
            .database
            .transaction(move |connection| {
                let existing = found_host(connection, &id)?;
                refuse_cmdb(&existing, channel, "edited")?;
                let clusters = binding_queries::clusters_of_hosts(connection, std::slice::from_ref(&id))?;
                if !clusters.is_empty() && (fields.env_id != existing.env_id || fields.product_line_id != existing.product_line_id) {
                    let names: Vec<String> = clusters.iter().map(|(_, cluster)| format!("{} ({})", cluster.name, cluster.id)).collect();
                    return Err(ResourceError::Conflict(
                        super::ConflictKind::HostBound,
                        format!(
                        "host {} is bound to {}: unbind it before moving it to another environment or product line",
                        existing.host_ip,
                        names.join(", ")
                    ),
                    ));
                }
                let channel = if existing.source == SOURCE_CMDB { WriteChannel::Admin } else { WriteChannel::Aos };
                let event = (&origin, "host.update");
                service.save_host_audited(connection, event, &actor, Some(id), &fields, channel)
            })
            .await;
        self.reads.written(RESOURCES_WRITE, written).await
    }

    /// 8.2.5: deletes a host that no cluster holds (not a CMDB one through the legacy channel).
    pub async fn delete_host(
        &self,
        actor: &Claims,
        id: &str,
        channel: WriteChannel,
    ) -> ResourceResult<HostRow> {
        match channel {
            WriteChannel::Aos => require_operator(actor)?,
            WriteChannel::Admin => require_admin(actor)?,
        }
        let origin = Origin::of(actor);
        let id = id.to_owned();
        let written = self
            .database
            .transaction(move |connection| {
                let existing = found_host(connection, &id)?;
                refuse_cmdb(&existing, channel, "deleted")?;
                let clusters =
                    binding_queries::clusters_of_hosts(connection, std::slice::from_ref(&id))?;
                if !clusters.is_empty() {
                    return Err(ResourceError::InUse {
                        kind: RecordKind::Host,
                        id,
                        dependent_kind: RecordKind::Cluster,
                        dependents: clusters
                            .iter()
                            .map(|(_, cluster)| format!("{} ({})", cluster.name, cluster.id))
                            .collect(),
                    });
                }
                host_queries::delete(connection, &id)?;
                audit::append(connection, deleted(&origin, "host.delete", &existing))?;
                Ok(existing)
            })
            .await;
        self.reads.written(RESOURCES_WRITE, written).await
    }

    /// 8.2.4: one page of hosts by host-name fragment and product line; and the total count.
    pub async fn query_hosts(
        &self,
        actor: &Claims,
        host_name: Option<&str>,
        product_line_id: Option<&str>,
        page: PageRequest,
    ) -> ResourceResult<(i64, Vec<HostView>)> {
        require_reader(actor)?;
        let host_name = validate::filter_text(host_name);
        let product_line_id = validate::filter_id(product_line_id);
        let read = format!("hosts\n{host_name:?}\n{product_line_id:?}\n{page:?}");
        let load = self.database.run(move |connection| {
            let (count, rows) = host_queries::page(
                connection,
                host_name.as_deref(),
                product_line_id.as_deref(),
                page.offset(),
                page.limit(),
            )?;
            Ok((count, host_views(connection, rows)?))
        });
        self.reads
            .read_through(&[RESOURCES_SCOPE], &read, load)
            .await
    }

    /// Every host (admin list).
    pub async fn list_hosts(&self, actor: &Claims) -> ResourceResult<Vec<HostView>> {
        require_admin_reader(actor)?;
        let load = self.database.run(|connection| {
            let rows = host_queries::list(connection)?;
            host_views(connection, rows)
        });
        self.reads
            .read_through(&[RESOURCES_SCOPE], "every host", load)
            .await
    }

    /// 8.2.7: logs in over SSH with the stored credentials of the host with this IP and user.
    /// Answers whether it worked; the first success pins the host key, and a later different key
    /// answers false (the log names both fingerprints).
    pub async fn validate_ssh(
        &self,
        actor: &Claims,
        host_ip: &str,
        ssh_user: &str,
    ) -> ResourceResult<bool> {
        require_operator(actor)?;
        let lookup = (host_ip.trim().to_owned(), ssh_user.trim().to_owned());
        let candidates = self
            .database
            .run(move |connection| {
                Ok::<_, ResourceError>(host_queries::find_by_ip_user(
                    connection, &lookup.0, &lookup.1,
                )?)
            })
            .await?;
        let Some(host) = candidates.into_iter().next() else {
            return Err(ResourceError::NotFound {
                kind: RecordKind::Host,
                id: format!("{} with ssh_user {}", host_ip.trim(), ssh_user.trim()),
            });
        };
        let auth = match (
            self.open(host.ssh_private_key_sealed.as_deref(), &host.id)?,
            self.open(host.ssh_password_sealed.as_deref(), &host.id)?,
        ) {
            (Some(key), _) => SshAuth::PrivateKey(key),
            (None, Some(password)) => SshAuth::Password(password),
            (None, None) => return Err(ResourceError::Credentials(host.id.clone())),
        };
        let port = u16::try_from(host.ssh_port).unwrap_or(DEFAULT_SSH_PORT);
        let target = SshTarget {
            host: host.host_ip.clone(),
            port,
            user: host.ssh_user.clone(),
        };
        let outcome = try_login(
            &target,
            &auth,
            host.host_key_fingerprint.as_deref(),
            self.settings.ssh_timeout,
        )
        .await;
        match outcome {
            LoginOutcome::Success { fingerprint } => {
                if host.host_key_fingerprint.is_none() {
                    let host_id = host.id.clone();
                    let pinned = fingerprint.clone();
                    let origin = Origin::of(actor);
                    let written = self
                        .database
                        .transaction(move |connection| {
                            let Some(before) = host_queries::find(connection, &host_id)? else {
                                return Ok(());
                            };
                            host_queries::pin_fingerprint(connection, &host_id, &pinned)?;
                            if before.host_key_fingerprint.as_deref() != Some(pinned.as_str()) {
                                audit::append(connection, key_pinned(&origin, &before, &pinned))?;
                            }
                            Ok::<_, ResourceError>(())
                        })
                        .await;
                    // 8.2.4 shows whether a host key is pinned.
                    self.reads.written(RESOURCES_WRITE, written).await?;
                    tracing::info!(host = %host.host_ip, port, %fingerprint, "ssh host key pinned");
                }
                tracing::info!(host = %host.host_ip, port, user = %host.ssh_user, "ssh validation succeeded");
                Ok(true)
            }
            LoginOutcome::HostKeyMismatch { pinned, presented } => {
                tracing::warn!(host = %host.host_ip, port, pinned = %pinned, presented = %presented, "ssh host key changed: refusing the host");
                Ok(false)
            }
            LoginOutcome::AuthenticationFailed => {
                tracing::warn!(host = %host.host_ip, port, user = %host.ssh_user, "ssh validation failed: credentials refused");
                Ok(false)
            }
            LoginOutcome::Unreachable(reason) => {
                tracing::warn!(host = %host.host_ip, port, %reason, "ssh validation failed: no session");
                Ok(false)
            }
            LoginOutcome::TimedOut => {
                tracing::warn!(host = %host.host_ip, port, timeout_s = self.settings.ssh_timeout.as_secs(), "ssh validation timed out");
                Ok(false)
            }
        }
    }

    /// Pins a host's SSH key the first time the jobs service connects (trust on first use);
    /// answers the pinned fingerprint, which differs from `fingerprint` when one was pinned before.
    pub async fn pin_host_key(
        &self,
        actor: &Claims,
        host_id: &str,
        fingerprint: &str,
    ) -> ResourceResult<String> {
        require_internal(actor)?;
        if !fingerprint.starts_with("SHA256:") {
            return Err(ResourceError::Invalid {
                field: "fingerprint",
                message: "must be a SHA256 fingerprint".to_owned(),
            });
        }
        let origin = Origin::of(actor);
        let host_id = host_id.to_owned();
        let fingerprint = fingerprint.to_owned();
        let written = self
            .database
            .transaction(move |connection| {
                let before = found_host(connection, &host_id)?;
                let pinned =
                    host_queries::pin_first_fingerprint(connection, &host_id, &fingerprint)?
                        .ok_or(ResourceError::NotFound {
                            kind: RecordKind::Host,
                            id: host_id,
                        })?;
                if before.host_key_fingerprint.is_none() {
                    audit::append(connection, key_pinned(&origin, &before, &pinned))?;
                }
                Ok(pinned)
            })
            .await;
        self.reads.written(RESOURCES_WRITE, written).await
    }

    /// Hosts bound to a cluster with their secrets opened, for the jobs service only.
    pub async fn host_connections(
        &self,
        actor: &Claims,
        cluster_id: &str,
    ) -> ResourceResult<Vec<HostConnection>> {
        require_internal(actor)?;
        let cluster_id = cluster_id.to_owned();
        let rows = self
            .database
            .run(move |connection| {
                if crate::db::models::resources::cluster_queries::find(connection, &cluster_id)?
                    .is_none()
                {
                    return Err(ResourceError::NotFound {
                        kind: RecordKind::Cluster,
                        id: cluster_id,
                    });
                }
                Ok(binding_queries::hosts_of_cluster(connection, &cluster_id)?)
            })
            .await?;
        rows.into_iter()
            .map(|row| {
                let password = self.open(row.ssh_password_sealed.as_deref(), &row.id)?;
                let private_key = self.open(row.ssh_private_key_sealed.as_deref(), &row.id)?;
                Ok(HostConnection {
                    row,
                    password,
                    private_key,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_default_to_22_and_must_be_numbers() {
        assert_eq!(parse_port(None).expect("default"), 22);
        assert_eq!(parse_port(Some("")).expect("default"), 22);
        assert_eq!(parse_port(Some(" 2222 ")).expect("parsed"), 2222);
        for bad in ["ssh", "0", "65536", "-1"] {
            assert!(
                matches!(
                    parse_port(Some(bad)),
                    Err(ResourceError::Invalid {
                        field: "ssh_port",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }
}
