//! The dry run of 6.1 (issue 21): what a deploy of an instance would do now, without doing it.
//! Each step's hosts and batches, its artifacts (and on which hosts each differs from the last
//! successful run of the instance), its rendered app configs as unified diffs against what that
//! run rendered, its parameters as a diff, its scripts with their review state, and what would
//! block the run (an unreviewed script, a host key not pinned yet, an approval, a closed
//! window). Secrets are masked. The plan id is a keyed fingerprint of the full plans: the same
//! inputs give the same id on every replica. The plans are kept under their id for a week, so
//! that 6.1 with a `plan_id` refuses to start when anything changed since, naming what.

use serde::Serialize;
use serde_json::Value;

use super::{Engine, approval::describe_closed, approval::frozen_changes};
use crate::{
    db::models::{
        run_plans::{self, RunPlanRow},
        runs,
    },
    domain::{
        JobsError, JobsResult,
        plan::{ConfigPlan, StepPlan},
    },
};

use common::audit::MASKED;

/// What 6.1 of an instance would do now.
#[derive(Debug, Clone, Serialize)]
pub struct InstancePlan {
    pub plan_id: String,
    pub instance_id: String,
    pub use_tad_host: bool,
    /// The last successful run compared with (none: the instance never succeeded).
    pub compared_with: Option<String>,
    pub steps: Vec<PlannedStep>,
    /// What would stop the run or hold it (empty: 6.1 would start now).
    pub blockers: Vec<Blocker>,
}

/// Plans next to the last successful run of their instance.
#[derive(Debug, Clone, Serialize)]
pub struct PlanComparison {
    /// The run compared with (none: the instance never succeeded).
    pub compared_with: Option<String>,
    pub steps: Vec<PlannedStep>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Blocker {
    /// `unreviewed_script`, `unknown_host_key`, `approval_required` or `window_closed`.
    pub kind: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedStep {
    pub sequence: i32,
    pub component_id: String,
    pub method_id: String,
    pub method_name: String,
    pub cluster_id: String,
    pub hosts: Vec<String>,
    /// The hosts of each batch, in order (one batch when the step is not rolling).
    pub batches: Vec<Vec<String>>,
    pub artifacts: Vec<PlannedArtifact>,
    pub configs: Vec<ConfigDiff>,
    /// The parameters that differ from the last successful run (all of them the first time).
    pub params: Vec<ParamChange>,
    pub scripts: Vec<PlannedScript>,
    pub timeout_secs: u64,
    /// The step's health-gated rollout (its health check, failure limit and what a failure
    /// does), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<crate::domain::rollout::Rollout>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedArtifact {
    pub file_name: String,
    pub version: Option<String>,
    pub md5: String,
    pub dest: String,
    pub hosts: Vec<String>,
    /// The hosts where the last successful run left another file (or none) at this path.
    pub changed_hosts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigDiff {
    /// `dest/target_name`.
    pub path: String,
    pub hosts: Vec<String>,
    pub changed: bool,
    /// Unified diff against what the last successful run rendered (empty when equal).
    pub diff: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ParamChange {
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedScript {
    pub script_name: String,
    pub file_name: String,
    pub parameter: String,
    pub hosts: Vec<String>,
    /// Reviewed (`able`): only reviewed versions run.
    pub reviewed: bool,
}

impl Engine {
    /// The dry run of 6.1 of `instance_id` (stores the plans under their id).
    pub async fn plan_instance(
        &self,
        instance_id: &str,
        use_tad_host: bool,
    ) -> JobsResult<InstancePlan> {
        let fresh = self.fresh_plans(instance_id).await?;
        let plan_id = self.plan_id_of(instance_id, use_tad_host, &fresh)?;
        let sealed = fresh
            .iter()
            .map(|plan| self.inner.sealer.seal_plan(plan))
            .collect::<JobsResult<Vec<_>>>()?;
        let row = RunPlanRow {
            plan_id: plan_id.clone(),
            instance_id: instance_id.to_owned(),
            plans: serde_json::to_string(&sealed).map_err(|error| JobsError::Invalid {
                field: "plans",
                message: error.to_string(),
            })?,
            create_time: common::time::now_utc(),
        };
        let owned_id = instance_id.to_owned();
        let instance = self
            .inner
            .database
            .transaction(move |connection| {
                run_plans::keep(connection, &row)?;
                super::existing_instance(connection, &owned_id)
            })
            .await?;
        let PlanComparison {
            compared_with,
            steps,
        } = self.compare_with_last_success(instance_id, &fresh).await?;
        let mut blockers = Vec::new();
        for plan in &fresh {
            if let Some(script) = plan.disabled_script() {
                blockers.push(Blocker {
                    kind: "unreviewed_script",
                    message: format!(
                        "step {}: {} {} ({}) is not reviewed: the step would fail before any host starts",
                        plan.sequence, script.role, script.script_name, script.file_name
                    ),
                });
            }
        }
        if !use_tad_host {
            self.unpinned_hosts(&fresh, &mut blockers).await?;
        }
        let governance = self.env_governance(&instance.env_id).await?;
        if governance.protected {
            blockers.push(Blocker {
                kind: "approval_required",
                message: format!(
                    "environment {:?} is protected: 6.1 would ask for an approval",
                    governance.env_name
                ),
            });
            if let Err(closed) = common::deploy_window::check(
                &governance.windows,
                governance.frozen_until,
                chrono::Utc::now(),
            ) {
                let (text, _) = describe_closed(&governance, &closed);
                blockers.push(Blocker {
                    kind: "window_closed",
                    message: format!(
                        "environment {:?} {text}: an approved run would {}",
                        governance.env_name,
                        match governance.outside_window {
                            common::deploy_window::OutsideWindow::Wait => "wait for it",
                            common::deploy_window::OutsideWindow::Refuse => "be refused",
                        }
                    ),
                });
            }
        }
        Ok(InstancePlan {
            plan_id,
            instance_id: instance_id.to_owned(),
            use_tad_host,
            compared_with,
            steps,
            blockers,
        })
    }

    /// `plans` of `instance_id` next to what its last successful run ran (secrets masked).
    pub async fn compare_with_last_success(
        &self,
        instance_id: &str,
        plans: &[StepPlan],
    ) -> JobsResult<PlanComparison> {
        let owned_id = instance_id.to_owned();
        let previous_run = self
            .inner
            .database
            .run(move |connection| {
                Ok::<_, JobsError>(
                    runs::successful_of_instance(connection, &owned_id)?
                        .into_iter()
                        .next(),
                )
            })
            .await?;
        let previous = match &previous_run {
            Some(run) => self.plans_of_run(&run.id).await?,
            None => Vec::new(),
        };
        let steps = plans
            .iter()
            .map(|plan| {
                let before = previous.iter().find(|old| old.sequence == plan.sequence);
                planned_step(plan, before)
            })
            .collect();
        Ok(PlanComparison {
            compared_with: previous_run.map(|run| run.id),
            steps,
        })
    }

    /// Refuses unless `plan_id` is what 6.1 of `instance_id` would run now; the refusal names
    /// what changed since the plan was answered.
    pub async fn check_plan(
        &self,
        instance_id: &str,
        use_tad_host: bool,
        plan_id: &str,
    ) -> JobsResult<()> {
        let fresh = self.fresh_plans(instance_id).await?;
        if self.plan_id_of(instance_id, use_tad_host, &fresh)? == plan_id {
            return Ok(());
        }
        let stored = self
            .kept_plan(
                plan_id,
                instance_id,
                &format!("job instance {instance_id:?}"),
            )
            .await?;
        let sealed: Vec<String> =
            serde_json::from_str(&stored.plans).map_err(|error| JobsError::Invalid {
                field: "plans",
                message: format!("of plan {plan_id} cannot be read: {error}"),
            })?;
        let before = sealed
            .iter()
            .map(|text| self.inner.sealer.open_plan(text))
            .collect::<JobsResult<Vec<_>>>()?;
        let mut changes = frozen_changes(
            &vec![(instance_id.to_owned(), before)],
            &vec![(instance_id.to_owned(), fresh)],
        );
        if changes.is_empty() {
            changes.push("use_tad_host differs from the plan's".to_owned());
        }
        Err(JobsError::PlanChanged {
            message: format!(
                "the plan {plan_id} is out of date: {}; ask for the plan again",
                changes.join("; ")
            ),
        })
    }

    pub(super) fn plan_id_of(
        &self,
        instance_id: &str,
        use_tad_host: bool,
        plans: &[StepPlan],
    ) -> JobsResult<String> {
        self.fingerprint_of(&(instance_id, use_tad_host, plans))
    }

    /// The keyed fingerprint of `value`'s JSON: a plan id.
    pub(super) fn fingerprint_of(&self, value: &impl Serialize) -> JobsResult<String> {
        let text = serde_json::to_string(value).map_err(|error| JobsError::Invalid {
            field: "plans",
            message: error.to_string(),
        })?;
        Ok(self.inner.sealer.fingerprint(text.as_bytes()))
    }

    /// The kept plan `plan_id` of `owner` (an instance id, or a joint line's key), or
    /// `plan_changed` saying it is not one of `what`'s plans.
    pub(super) async fn kept_plan(
        &self,
        plan_id: &str,
        owner: &str,
        what: &str,
    ) -> JobsResult<RunPlanRow> {
        let owned_plan = plan_id.to_owned();
        self.inner
            .database
            .run(move |connection| Ok::<_, JobsError>(run_plans::find(connection, &owned_plan)?))
            .await?
            .filter(|row| row.instance_id == owner)
            .ok_or_else(|| JobsError::PlanChanged {
                message: format!(
                    "plan_id {plan_id:?} is not a plan of {what} (plans are kept {} days): ask for the plan again",
                    run_plans::KEPT_DAYS
                ),
            })
    }

    /// A blocker per host of the plans whose SSH host key is not pinned yet.
    async fn unpinned_hosts(
        &self,
        plans: &[StepPlan],
        blockers: &mut Vec<Blocker>,
    ) -> JobsResult<()> {
        let token = self.inner.service_token()?;
        let mut clusters: Vec<&str> = plans.iter().map(|plan| plan.cluster_id.as_str()).collect();
        clusters.sort_unstable();
        clusters.dedup();
        let mut named: Vec<String> = Vec::new();
        for cluster in clusters {
            for host in self
                .inner
                .resource
                .host_connections(&token, cluster)
                .await?
            {
                let used = plans.iter().any(|plan| plan.hosts.contains(&host.host_ip));
                if used && host.pinned_fingerprint.is_none() && !named.contains(&host.host_ip) {
                    blockers.push(Blocker {
                        kind: "unknown_host_key",
                        message: format!(
                            "host {}: its SSH host key is not pinned yet; it would be trusted on first use (check it with 8.2.7 first)",
                            host.host_ip
                        ),
                    });
                    named.push(host.host_ip);
                }
            }
        }
        Ok(())
    }
}

/// One step's plan next to the last successful run's plan of the same step.
fn planned_step(plan: &StepPlan, before: Option<&StepPlan>) -> PlannedStep {
    let mut secrets = plan.secret_values();
    if let Some(before) = before {
        secrets.extend(before.secret_values());
    }
    let masked = |text: &str| mask(text, &secrets);
    let batches = super::runner::host_batches(plan);
    let hosts_of = |host_ips: &[String]| -> Vec<String> {
        plan.hosts
            .iter()
            .filter(|host| StepPlan::applies(host_ips, host))
            .cloned()
            .collect()
    };
    PlannedStep {
        sequence: plan.sequence,
        component_id: plan.component_id.clone(),
        method_id: plan.method_id.clone(),
        method_name: plan.method_name.clone(),
        cluster_id: plan.cluster_id.clone(),
        hosts: plan.hosts.clone(),
        batches,
        artifacts: plan
            .artifacts
            .iter()
            .map(|artifact| {
                let hosts = hosts_of(&artifact.host_ips);
                let changed_hosts = hosts
                    .iter()
                    .filter(|host| {
                        !before.is_some_and(|before| {
                            before.hosts.contains(*host)
                                && before.artifacts.iter().any(|old| {
                                    old.dest == artifact.dest
                                        && old.file_name == artifact.file_name
                                        && old.md5 == artifact.md5
                                        && StepPlan::applies(&old.host_ips, host)
                                })
                        })
                    })
                    .cloned()
                    .collect();
                PlannedArtifact {
                    file_name: artifact.file_name.clone(),
                    version: artifact.version.clone(),
                    md5: artifact.md5.clone(),
                    dest: artifact.dest.clone(),
                    hosts,
                    changed_hosts,
                }
            })
            .collect(),
        configs: plan
            .configs
            .iter()
            .map(|config| {
                let old = before.and_then(|before| {
                    before.configs.iter().find(|old| {
                        old.dest == config.dest && old.target_name == config.target_name
                    })
                });
                config_diff(config, old, &hosts_of(&config.host_ips), &masked)
            })
            .collect(),
        params: param_changes(&plan.params, before.map(|before| &before.params), &secrets),
        scripts: plan
            .scripts
            .iter()
            .map(|script| PlannedScript {
                script_name: script.script_name.clone(),
                file_name: script.file_name.clone(),
                parameter: masked(&script.parameter),
                hosts: hosts_of(&script.host_ips),
                reviewed: script.able,
            })
            .collect(),
        timeout_secs: plan.timeout_secs,
        rollout: plan.rollout.clone(),
    }
}

fn config_diff(
    config: &ConfigPlan,
    old: Option<&ConfigPlan>,
    hosts: &[String],
    masked: &dyn Fn(&str) -> String,
) -> ConfigDiff {
    let path = format!(
        "{}/{}",
        config.dest.trim_end_matches('/'),
        config.target_name
    );
    let after = masked(&config.text);
    let before = old.map(|old| masked(&old.text)).unwrap_or_default();
    let changed = old.is_none_or(|old| old.text != config.text);
    let diff = if changed {
        similar::TextDiff::from_lines(before.as_str(), after.as_str())
            .unified_diff()
            .context_radius(3)
            .header(&format!("a{path}"), &format!("b{path}"))
            .to_string()
    } else {
        String::new()
    };
    ConfigDiff {
        path,
        hosts: hosts.to_vec(),
        changed,
        diff,
    }
}

/// The top-level parameters that differ, by key (values as JSON text, secrets masked).
fn param_changes(after: &Value, before: Option<&Value>, secrets: &[String]) -> Vec<ParamChange> {
    let text = |value: &Value| -> String {
        let shown = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        mask(&shown, secrets)
    };
    let empty = serde_json::Map::new();
    let after = after.as_object().unwrap_or(&empty);
    let before = before.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = after.keys().chain(before.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .filter(|key| after.get(*key) != before.get(*key))
        .map(|key| ParamChange {
            key: key.clone(),
            before: before.get(key).map(text),
            after: after.get(key).map(text),
        })
        .collect()
}

/// `text` with every (non-empty) secret value replaced by `******`.
pub fn mask(text: &str, secrets: &[String]) -> String {
    let mut shown = text.to_owned();
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        shown = shown.replace(secret.as_str(), MASKED);
    }
    shown
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_empty_secret_masks_nothing() {
        let secrets = vec![String::new(), "pw".to_owned()];
        assert_eq!(mask("user=a pw=pw", &secrets), "user=a ******=******");
        assert_eq!(mask("plain", &[String::new()]), "plain");
    }

    #[test]
    fn parameters_diff_by_key_with_secrets_masked() {
        let secrets = vec!["hunter2".to_owned(), "s3cret".to_owned()];
        let changes = param_changes(
            &json!({"greeting": "hello", "db_password": "hunter2", "port": 9090}),
            Some(&json!({"greeting": "hello", "db_password": "s3cret", "port": 8080, "old": 1})),
            &secrets,
        );
        let shown: Vec<(&str, Option<&str>, Option<&str>)> = changes
            .iter()
            .map(|change| {
                (
                    change.key.as_str(),
                    change.before.as_deref(),
                    change.after.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("db_password", Some(MASKED), Some(MASKED)),
                ("old", Some("1"), None),
                ("port", Some("8080"), Some("9090")),
            ]
        );
    }

    #[test]
    fn a_changed_config_is_a_unified_diff_and_an_equal_one_none() {
        let config = |text: &str| ConfigPlan {
            dest: "/etc/shop/".into(),
            target_name: "shop.conf".into(),
            host_ips: Vec::new(),
            text: text.into(),
        };
        let masked = |text: &str| text.to_owned();
        let hosts = vec!["10.0.0.1".to_owned()];
        let changed = config_diff(
            &config("listen=9090\nname=shop\n"),
            Some(&config("listen=8080\nname=shop\n")),
            &hosts,
            &masked,
        );
        assert_eq!(changed.path, "/etc/shop/shop.conf");
        assert!(changed.changed);
        assert!(
            changed.diff.contains("-listen=8080\n+listen=9090\n"),
            "{}",
            changed.diff
        );
        assert!(changed.diff.contains(" name=shop"), "{}", changed.diff);
        let same = config_diff(&config("a\n"), Some(&config("a\n")), &hosts, &masked);
        assert!(!same.changed && same.diff.is_empty());
        let first = config_diff(&config("a\n"), None, &hosts, &masked);
        assert!(first.changed && first.diff.contains("+a"), "{}", first.diff);
    }
}
