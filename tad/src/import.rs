//! `tad import FILE.yaml`: loads a catalog into the resource database, idempotently (upsert by
//! id; users by username) and atomically (one transaction). Every entry error names its place in
//! the file, e.g. `applications[2].name is required`.
//!
//! ```yaml
//! users:         [{username: olga, password: "…", roles: [operator]}]
//! product_lines: [{id: "5000", name: OPENTKT}]
//! applications:  [{id: "5093", name: 票务, product_line_id: "5000"}]
//! modules:       [{id: m1, name: web, application_id: "5093"}]
//! envs:          [{id: e1, name: 预投产环境, remark: UAT},
//!                 {id: e2, name: 生产环境, protected: true, deploy_windows: ["* 9-17 * * MON-FRI"],
//!                  window_timezone: Asia/Shanghai, frozen_until: "2026-12-24T18:00:00+08:00",
//!                  outside_window: wait}]
//! cluster_types: [{key: ApacheCluster, value: ApacheCluster}]
//! clusters:      [{id: c1, name: web, type: ApacheCluster, env_id: e1, app_id: "5093", remark: ""}]
//! hosts:         [{id: h1, host_IP: 10.0.0.5, host_name: web1, ssh_user: deploy, ssh_passwd: "…",
//!                  ssh_port: 22, productLine_id: "5000", env_id: e1}]
//! bindings:      [{cluster_id: c1, host_ids: [h1]}]
//! ```
//! Clusters and hosts imported here are CMDB-owned: the legacy routes cannot edit or delete them.

use std::path::Path;

use anyhow::{Context, anyhow};
use common::{auth::Claims, config::Config};
use serde::Deserialize;
use svc_resource::service::{
    ResourceError,
    catalog::{ApplicationInput, ClusterTypeInput, EnvInput, ModuleInput, ProductLineInput},
    clusters::ClusterFields,
    governance::{GovernanceFields, GovernanceInput},
    hosts::HostFields,
    import::{CatalogImport, ImportSummary},
    users::UserInput,
};

/// An id as YAML gives it: text, or a number kept as its decimal text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum YamlId {
    Text(String),
    Number(i64),
}

impl YamlId {
    fn text(&self) -> String {
        match self {
            YamlId::Text(text) => text.clone(),
            YamlId::Number(number) => number.to_string(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    username: String,
    #[serde(default)]
    password: Option<String>,
    roles: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductLineEntry {
    id: YamlId,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicationEntry {
    id: YamlId,
    name: String,
    product_line_id: YamlId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleEntry {
    id: YamlId,
    name: String,
    application_id: YamlId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvEntry {
    id: YamlId,
    name: String,
    #[serde(default)]
    remark: String,
    /// Governance (issue 20): any of these given replaces the environment's whole governance;
    /// none given leaves it as it is.
    #[serde(default)]
    protected: Option<bool>,
    #[serde(default)]
    deploy_windows: Option<Vec<String>>,
    #[serde(default)]
    window_timezone: Option<String>,
    #[serde(default)]
    frozen_until: Option<String>,
    #[serde(default)]
    outside_window: Option<String>,
}

impl EnvEntry {
    /// The governance this entry sets, if it names any of its fields.
    fn governance(&self) -> Option<GovernanceFields> {
        let named = self.protected.is_some()
            || self.deploy_windows.is_some()
            || self.window_timezone.is_some()
            || self.frozen_until.is_some()
            || self.outside_window.is_some();
        named.then(|| GovernanceFields {
            protected: self.protected.unwrap_or(false),
            deploy_windows: self.deploy_windows.clone().unwrap_or_default(),
            window_timezone: self.window_timezone.clone().unwrap_or_default(),
            frozen_until: self.frozen_until.clone(),
            outside_window: self.outside_window.clone().unwrap_or_default(),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterTypeEntry {
    key: String,
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterEntry {
    id: YamlId,
    name: String,
    #[serde(default)]
    remark: String,
    #[serde(default, rename = "type")]
    cluster_type: String,
    env_id: YamlId,
    app_id: YamlId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostEntry {
    id: YamlId,
    #[serde(rename = "host_IP", alias = "host_ip")]
    host_ip: String,
    host_name: String,
    #[serde(default)]
    remark: String,
    ssh_user: String,
    #[serde(default)]
    ssh_port: Option<YamlId>,
    #[serde(default, alias = "ssh_password")]
    ssh_passwd: Option<String>,
    #[serde(default)]
    ssh_private_key: Option<String>,
    #[serde(rename = "productLine_id", alias = "product_line_id")]
    product_line_id: YamlId,
    env_id: YamlId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingEntry {
    cluster_id: YamlId,
    host_ids: Vec<YamlId>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    users: Vec<UserEntry>,
    #[serde(default)]
    product_lines: Vec<ProductLineEntry>,
    #[serde(default)]
    applications: Vec<ApplicationEntry>,
    #[serde(default)]
    modules: Vec<ModuleEntry>,
    #[serde(default)]
    envs: Vec<EnvEntry>,
    #[serde(default)]
    cluster_types: Vec<ClusterTypeEntry>,
    #[serde(default)]
    clusters: Vec<ClusterEntry>,
    #[serde(default)]
    hosts: Vec<HostEntry>,
    #[serde(default)]
    bindings: Vec<BindingEntry>,
}

fn at(section: &str, index: usize, error: ResourceError) -> anyhow::Error {
    match error {
        ResourceError::Missing { field } => anyhow!("{section}[{index}].{field} is required"),
        ResourceError::Invalid { field, message } => {
            anyhow!("{section}[{index}].{field} {message}")
        }
        other => anyhow!("{section}[{index}]: {other}"),
    }
}

/// Checks each entry of the file's list `section` into `inputs`; the first refused one is named
/// by its place (`envs[2].name is required`).
fn check_into<Entry, Input>(
    inputs: &mut Vec<Input>,
    section: &str,
    entries: &[Entry],
    check: impl Fn(&Entry) -> Result<Input, ResourceError>,
) -> anyhow::Result<()> {
    for (index, entry) in entries.iter().enumerate() {
        inputs.push(check(entry).map_err(|error| at(section, index, error))?);
    }
    Ok(())
}

/// The CMDB id of entry `index` of the list `section`, checked as an external id.
fn external_id(section: &str, index: usize, id: &YamlId) -> anyhow::Result<String> {
    let id = id.text();
    common::ids::validate_external_id(&id)
        .map_err(|message| anyhow!("{section}[{index}].id {message}"))?;
    Ok(id)
}

/// Parses and checks a catalog file (hashing user passwords) without touching any database.
pub fn parse_catalog(text: &str) -> anyhow::Result<CatalogImport> {
    let file: CatalogFile = if text.trim().is_empty() {
        CatalogFile::default()
    } else {
        serde_yaml::from_str(text).map_err(|error| anyhow!("not a valid catalog: {error}"))?
    };
    let mut catalog = CatalogImport::default();
    check_into(&mut catalog.users, "users", &file.users, |entry| {
        UserInput::new(&entry.username, entry.password.as_deref(), &entry.roles)
    })?;
    check_into(
        &mut catalog.product_lines,
        "product_lines",
        &file.product_lines,
        |entry| ProductLineInput::new(Some(&entry.id.text()), &entry.name),
    )?;
    check_into(
        &mut catalog.applications,
        "applications",
        &file.applications,
        |entry| {
            ApplicationInput::new(
                Some(&entry.id.text()),
                &entry.name,
                &entry.product_line_id.text(),
            )
        },
    )?;
    check_into(&mut catalog.modules, "modules", &file.modules, |entry| {
        ModuleInput::new(
            Some(&entry.id.text()),
            &entry.name,
            &entry.application_id.text(),
        )
    })?;
    check_into(&mut catalog.envs, "envs", &file.envs, |entry| {
        EnvInput::new(Some(&entry.id.text()), &entry.name, &entry.remark)
    })?;
    for (index, entry) in file.envs.iter().enumerate() {
        if let Some(fields) = entry.governance() {
            let input = GovernanceInput::new(&entry.id.text(), fields);
            catalog
                .governance
                .push(input.map_err(|error| at("envs", index, error))?);
        }
    }
    check_into(
        &mut catalog.cluster_types,
        "cluster_types",
        &file.cluster_types,
        |entry| ClusterTypeInput::new(&entry.key, &entry.value),
    )?;
    for (index, entry) in file.clusters.iter().enumerate() {
        catalog.clusters.push((
            external_id("clusters", index, &entry.id)?,
            ClusterFields {
                name: entry.name.clone(),
                remark: entry.remark.clone(),
                cluster_type: entry.cluster_type.clone(),
                env_id: entry.env_id.text(),
                app_id: entry.app_id.text(),
            },
        ));
    }
    for (index, entry) in file.hosts.iter().enumerate() {
        catalog.hosts.push((
            external_id("hosts", index, &entry.id)?,
            HostFields {
                host_ip: entry.host_ip.clone(),
                host_name: entry.host_name.clone(),
                remark: entry.remark.clone(),
                ssh_user: entry.ssh_user.clone(),
                ssh_port: entry.ssh_port.as_ref().map(YamlId::text),
                ssh_password: entry.ssh_passwd.clone(),
                ssh_private_key: entry.ssh_private_key.clone(),
                product_line_id: entry.product_line_id.text(),
                env_id: entry.env_id.text(),
            },
        ));
    }
    for entry in &file.bindings {
        catalog.bindings.push((
            entry.cluster_id.text(),
            entry.host_ids.iter().map(YamlId::text).collect(),
        ));
    }
    Ok(catalog)
}

/// Imports `file` into the configured resource database.
pub async fn import_file(config: &Config, file: &Path) -> anyhow::Result<ImportSummary> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let catalog = tokio::task::spawn_blocking(move || parse_catalog(&text))
        .await
        .context("import task stopped")?
        .with_context(|| format!("{} was not imported", file.display()))?;
    // Imports issue no tokens: a throwaway key keeps the service whole without reading secrets.
    let throwaway_key = common::ids::new_id() + &common::ids::new_id();
    let jwt = common::auth::JwtKeys::new(throwaway_key.as_bytes());
    // Embedded data directories get their credential key on first use, as `tad serve` would.
    let embedded = config.resource.database_url.starts_with("sqlite:");
    // An import deletes no cluster, so the jobs service is never asked (the channel is lazy).
    // With Redis, the import bumps the read-cache generations every replica reads, so they
    // serve the imported catalog at once.
    let service = crate::runtime::resource_service(
        config,
        crate::runtime::shared_cache(config).await?,
        jwt,
        embedded,
        crate::runtime::service_channel("jobs", &config.jobs.addr)?,
    )
    .await?;
    let actor = Claims {
        sub: "import".to_owned(),
        roles: vec!["admin".to_owned()],
        iat: 0,
        exp: 0,
        sid: None,
        api_token: None,
    };
    service
        .import_catalog(&actor, catalog)
        .await
        .map_err(|error| {
            anyhow!(
                "{} was not imported (nothing changed): {error}",
                file.display()
            )
        })
}

/// `tad import FILE.yaml`.
pub async fn run(config: Config, file: &Path) -> anyhow::Result<()> {
    let summary = import_file(&config, file).await?;
    println!(
        "imported {}: {} users, {} product lines, {} applications, {} modules, {} envs, {} cluster types, {} clusters, {} hosts, {} bindings",
        file.display(),
        summary.users,
        summary.product_lines,
        summary.applications,
        summary.modules,
        summary.envs,
        summary.cluster_types,
        summary.clusters,
        summary.hosts,
        summary.bindings
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_environments_governance_is_read_only_when_named() {
        let catalog = parse_catalog(
            "envs:\n  - {id: e1, name: uat}\n  - {id: e2, name: prod, protected: true, \
             deploy_windows: [\"* 9-17 * * MON-FRI\"], window_timezone: Asia/Shanghai, \
             frozen_until: \"2026-12-24T18:00:00+08:00\", outside_window: refuse}\n",
        )
        .expect("catalog");
        assert_eq!(catalog.envs.len(), 2);
        let [governance] = catalog.governance.as_slice() else {
            panic!("one governance: {:?}", catalog.governance);
        };
        assert_eq!(governance.env_id, "e2");
        assert!(governance.protected);
        assert_eq!(governance.windows, ["* 9-17 * * MON-FRI"]);
        assert_eq!(governance.timezone, "Asia/Shanghai");
        assert_eq!(
            governance.outside_window,
            common::deploy_window::OutsideWindow::Refuse
        );
    }

    #[test]
    fn a_bad_window_is_named_by_its_place() {
        let refused = parse_catalog(
            "envs:\n  - {id: e1, name: uat}\n  - {id: e2, name: prod, protected: true, \
             deploy_windows: [\"* 25 * * *\"]}\n",
        )
        .expect_err("bad window")
        .to_string();
        assert!(refused.contains("envs[1].deploy_windows"), "{refused}");
        assert!(refused.contains("hour"), "{refused}");
    }
}
