//! Job instances (contract 5.2, 5.5, 1.3 / 7.1, 5.7, 5.9, 5.10) and the cluster of each step
//! (5.6.2.1, 5.4): a template bound to an application and an environment, one step per template
//! method. Status: `init` on create, `ready` once every step has a cluster.

use std::collections::HashSet;

use common::{limits, paging::PageRequest, time::now_utc};

use super::{
    Actor, JobsError, JobsResult, JobsService, RecordKind, checked_name, checked_reference,
    checked_text, filter_text, require_operator, require_reader, status,
};
use crate::domain::{
    INSTANCES_SCOPE,
    audit::{self, NewEvent},
    existing_instance,
};
use crate::{
    db::models::{
        instances::{self, InstanceFilter, InstanceRow, StepRow},
        joint_lines, runs, schedules, templates, work_orders,
    },
    resource::{ClusterInfo, NameLookup, Names},
};
use common::read_cache::RESOURCE_CATALOG;

/// What the instance lists show: instances (with their status and template names) and the
/// catalog names svc-resource resolves. The answer is the same for every role that may read.
const INSTANCE_LISTS: &[&str] = &[INSTANCES_SCOPE, RESOURCE_CATALOG];
/// What 5.10 shows: the instance (its steps and the latest run's step statuses: every step
/// event bumps the instances' generation), names from svc-resource's catalog, its clusters, and
/// its methods from svc-artifact's catalog.
const INSTANCE_DETAILS: &[&str] = &[
    INSTANCES_SCOPE,
    RESOURCE_CATALOG,
    common::read_cache::RESOURCE_RECORDS,
    common::read_cache::ARTIFACT_CATALOG,
];

/// What a caller sends to create an instance.
#[derive(Debug, Clone, Default)]
pub struct InstanceInput {
    pub name: String,
    pub remark: String,
    pub env_id: String,
    pub application_id: String,
    pub job_template_id: String,
    pub module_id: Option<String>,
}

/// An instance with the names around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceView {
    pub row: InstanceRow,
    pub env_name: String,
    pub application_name: String,
    pub product_line_name: String,
    pub module_name: Option<String>,
    pub job_template_name: String,
    pub deploy_type: String,
}

/// A step with its cluster's and its method's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepView {
    pub row: StepRow,
    pub cluster: Option<ClusterInfo>,
    pub component_name: String,
    pub method_remark: String,
    pub method_file_id: String,
    pub is_display_script: bool,
    /// The step's status in the instance's latest run (`pending`, `running`, `success`, ...);
    /// `None` before the first run, or when that run did not hold this step.
    pub status: Option<String>,
}

/// Where an instance belongs, as checked against the resource service.
struct Placement {
    product_line_id: String,
    /// The module given, or the application's only module when none was given.
    module_id: Option<String>,
}

/// What the copy route (5.7) may change.
#[derive(Debug, Clone, Default)]
pub struct CopyInput {
    pub name: String,
    pub remark: Option<String>,
    pub env_id: Option<String>,
    pub module_id: Option<String>,
}

/// `ready` when there is at least one step and every step has a cluster and, when its method
/// has required parameters, saved (and so valid) parameter values.
pub(crate) fn derived_status(
    steps: &[StepRow],
    needs_params: &dyn Fn(&StepRow) -> bool,
) -> &'static str {
    let complete = |step: &StepRow| {
        step.cluster_id.is_some()
            && (!needs_params(step)
                || super::bindings::StepBindings::of(step)
                    .config_value
                    .is_some())
    };
    if !steps.is_empty() && steps.iter().all(complete) {
        status::READY
    } else {
        status::INIT
    }
}

/// The event of a write of a whole instance: its name, template, environment and application.
fn instance_event(origin: &audit::Origin, action: &str, row: &InstanceRow) -> NewEvent {
    NewEvent::new(origin, action, "instance", &row.id)
        .app(Some(&row.application_id))
        .env(Some(&row.env_id))
        .change(audit::created("name", &row.name))
        .change(audit::created("job_template_id", &row.job_template_id))
        .change(audit::created("env_id", &row.env_id))
}

impl JobsService {
    async fn names_for(&self, actor: &Actor, rows: &[InstanceRow]) -> JobsResult<Names> {
        let mut query = NameLookup::default();
        for row in rows {
            query.env_ids.push(row.env_id.clone());
            query.application_ids.push(row.application_id.clone());
            query.product_line_ids.push(row.product_line_id.clone());
            query.module_ids.extend(row.module_id.clone());
        }
        for ids in [
            &mut query.env_ids,
            &mut query.application_ids,
            &mut query.product_line_ids,
            &mut query.module_ids,
        ] {
            let mut seen = HashSet::new();
            ids.retain(|id| seen.insert(id.clone()));
        }
        self.resource.names(&actor.token, query).await
    }

    /// Instances with names resolved in one call to the resource service.
    async fn views(&self, actor: &Actor, rows: Vec<InstanceRow>) -> JobsResult<Vec<InstanceView>> {
        let names = self.names_for(actor, &rows).await?;
        let template_ids: Vec<String> =
            rows.iter().map(|row| row.job_template_id.clone()).collect();
        let found = self
            .database
            .run(move |connection| {
                Ok::<_, JobsError>(templates::find_many(connection, &template_ids)?)
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let template = found
                    .iter()
                    .find(|template| template.id == row.job_template_id);
                InstanceView {
                    env_name: names.envs.get(&row.env_id).cloned().unwrap_or_default(),
                    application_name: names
                        .applications
                        .get(&row.application_id)
                        .cloned()
                        .unwrap_or_default(),
                    product_line_name: names
                        .product_lines
                        .get(&row.product_line_id)
                        .cloned()
                        .unwrap_or_default(),
                    module_name: row
                        .module_id
                        .as_ref()
                        .and_then(|id| names.modules.get(id).cloned()),
                    job_template_name: template
                        .map(|template| template.name.clone())
                        .unwrap_or_default(),
                    deploy_type: template
                        .map(|template| template.deploy_type.clone())
                        .unwrap_or_default(),
                    row,
                }
            })
            .collect())
    }

    /// Checks that the environment, application (and module) exist; answers the application's
    /// product line.
    async fn check_placement(
        &self,
        actor: &Actor,
        env_id: &str,
        application_id: &str,
        module_id: Option<&str>,
    ) -> JobsResult<Placement> {
        limits::check("env_id", env_id, limits::ID)?;
        limits::check("application_id", application_id, limits::ID)?;
        limits::check_opt("module_id", module_id, limits::ID)?;
        let names = self
            .resource
            .names(
                &actor.token,
                NameLookup {
                    env_ids: vec![env_id.to_owned()],
                    application_ids: vec![application_id.to_owned()],
                    module_ids: module_id.map(|id| vec![id.to_owned()]).unwrap_or_default(),
                    ..NameLookup::default()
                },
            )
            .await?;
        if !names.envs.contains_key(env_id) {
            return Err(JobsError::NotFound {
                kind: RecordKind::Env,
                id: env_id.to_owned(),
            });
        }
        let Some(product_line_id) = names.application_product_lines.get(application_id) else {
            return Err(JobsError::NotFound {
                kind: RecordKind::Application,
                id: application_id.to_owned(),
            });
        };
        let modules = self
            .resource
            .module_ids_of(&actor.token, application_id)
            .await?;
        let module_id = match module_id {
            Some(module_id) if modules.iter().any(|known| known == module_id) => {
                Some(module_id.to_owned())
            }
            Some(module_id) if !names.modules.contains_key(module_id) => {
                return Err(JobsError::NotFound {
                    kind: RecordKind::Module,
                    id: module_id.to_owned(),
                });
            }
            Some(module_id) => {
                return Err(JobsError::Invalid {
                    field: "module_id",
                    message: format!(
                        "{module_id:?} is a module of another application than {application_id:?}"
                    ),
                });
            }
            // The application's only module is the instance's module.
            None => match modules.as_slice() {
                [only] => Some(only.clone()),
                _ => None,
            },
        };
        Ok(Placement {
            product_line_id: product_line_id.clone(),
            module_id,
        })
    }

    /// 5.2: creates an instance of a template, one step per template method.
    pub async fn create_instance(
        &self,
        actor: &Actor,
        input: InstanceInput,
    ) -> JobsResult<InstanceView> {
        require_operator(actor)?;
        let name = checked_name("name", &input.name)?;
        let remark = checked_text("remark", &input.remark, limits::REMARK)?;
        let env_id = checked_reference("env_id", &input.env_id)?;
        let application_id = checked_reference("application_id", &input.application_id)?;
        let job_template_id = checked_reference("job_template_id", &input.job_template_id)?;
        let Placement {
            product_line_id,
            module_id,
        } = self
            .check_placement(
                actor,
                &env_id,
                &application_id,
                filter_text(input.module_id.as_deref()).as_deref(),
            )
            .await?;
        let creator = actor.username().to_owned();
        let origin = audit::origin(actor);
        let row = self
            .write(crate::domain::INSTANCES_WRITE, move |connection| {
                if templates::find(connection, &job_template_id)?.is_none() {
                    return Err(JobsError::NotFound {
                        kind: RecordKind::Template,
                        id: job_template_id,
                    });
                }
                let now = now_utc();
                let id = common::ids::new_id();
                let steps: Vec<StepRow> = templates::methods(connection, &job_template_id)?
                    .into_iter()
                    .map(|method| StepRow {
                        instance_id: id.clone(),
                        sequence: method.sequence,
                        component_id: method.component_id,
                        method_id: method.method_id,
                        cluster_id: None,
                        bindings: "{}".to_owned(),
                    })
                    .collect();
                let row = InstanceRow {
                    id,
                    name,
                    remark,
                    status: status::INIT.to_owned(),
                    env_id,
                    application_id,
                    product_line_id,
                    module_id,
                    job_template_id,
                    creator,
                    create_time: now,
                    mender: None,
                    update_time: now,
                };
                instances::insert_with_steps(connection, &row, &steps)?;
                audit::append(connection, instance_event(&origin, "instance.create", &row))?;
                Ok(row)
            })
            .await?;
        Ok(self.views(actor, vec![row]).await?.remove(0))
    }

    /// 5.5: one page of instances by name fragment and application.
    pub async fn query_instances(
        &self,
        actor: &Actor,
        filter: InstanceFilter,
        page: PageRequest,
    ) -> JobsResult<(i64, Vec<InstanceView>)> {
        require_reader(actor)?;
        let read = format!("instances\n{filter:?}\n{page:?}");
        let load = async {
            let (count, rows) = self
                .database
                .run(move |connection| {
                    Ok::<_, JobsError>(instances::page(
                        connection,
                        &filter,
                        page.offset(),
                        page.limit(),
                    )?)
                })
                .await?;
            Ok((count, self.views(actor, rows).await?))
        };
        self.reads.read_through(INSTANCE_LISTS, &read, load).await
    }

    /// 1.3 / 7.1: every instance of a filter, unpaginated.
    pub async fn list_instances(
        &self,
        actor: &Actor,
        filter: InstanceFilter,
    ) -> JobsResult<Vec<InstanceView>> {
        require_reader(actor)?;
        let read = format!("all instances\n{filter:?}");
        let load = async {
            let rows = self
                .database
                .run(move |connection| Ok::<_, JobsError>(instances::list(connection, &filter)?))
                .await?;
            self.views(actor, rows).await
        };
        self.reads.read_through(INSTANCE_LISTS, &read, load).await
    }

    /// 5.7: copies an instance with every binding under a new name (and, optionally, another
    /// environment, where the step clusters are dropped: a cluster belongs to one environment).
    pub async fn copy_instance(
        &self,
        actor: &Actor,
        id: &str,
        input: CopyInput,
    ) -> JobsResult<InstanceView> {
        require_operator(actor)?;
        let name = checked_name("name", &input.name)?;
        let remark = input
            .remark
            .as_deref()
            .map(|remark| checked_text("remark", remark, limits::REMARK))
            .transpose()?;
        let source_id = id.to_owned();
        let source = self
            .database
            .run(move |connection| {
                let row = existing_instance(connection, &source_id)?;
                let steps = instances::steps(connection, &source_id)?;
                Ok::<_, JobsError>((row, steps))
            })
            .await?;
        let (source, steps) = source;
        let env_id = filter_text(input.env_id.as_deref()).unwrap_or_else(|| source.env_id.clone());
        let module_id =
            filter_text(input.module_id.as_deref()).or_else(|| source.module_id.clone());
        let Placement {
            product_line_id,
            module_id,
        } = self
            .check_placement(actor, &env_id, &source.application_id, module_id.as_deref())
            .await?;
        let same_env = env_id == source.env_id;
        let creator = actor.username().to_owned();
        let origin = audit::origin(actor);
        let copy_origin = origin.clone();
        let row = self
            .write(crate::domain::INSTANCES_WRITE, move |connection| {
                let now = now_utc();
                let id = common::ids::new_id();
                let steps: Vec<StepRow> = steps
                    .into_iter()
                    .map(|step| StepRow {
                        instance_id: id.clone(),
                        cluster_id: if same_env { step.cluster_id } else { None },
                        ..step
                    })
                    .collect();
                let row = InstanceRow {
                    id,
                    name,
                    remark: remark.unwrap_or_else(|| source.remark.clone()),
                    status: status::INIT.to_owned(),
                    env_id,
                    application_id: source.application_id.clone(),
                    product_line_id,
                    module_id,
                    job_template_id: source.job_template_id.clone(),
                    creator,
                    create_time: now,
                    mender: None,
                    update_time: now,
                };
                instances::insert_with_steps(connection, &row, &steps)?;
                let event = instance_event(&copy_origin, "instance.copy", &row)
                    .change(audit::created("copied_from", &source.id));
                audit::append(connection, event)?;
                let clusters = steps.into_iter().filter_map(|step| step.cluster_id);
                Ok::<_, JobsError>((row, clusters.collect::<Vec<_>>()))
            })
            .await?;
        let (row, clusters) = row;
        // The copy binds its clusters anew: take it back if one of them is being deleted.
        if let Err(fallen) = self.confirm_clusters_stand(actor, clusters).await {
            let copy = row.clone();
            self.write(crate::domain::INSTANCES_WRITE, move |connection| {
                instances::delete(connection, &copy.id)?;
                // The copy was visible (and recorded): its take-back is recorded too.
                let event = NewEvent::new(&origin, "instance.delete", "instance", &copy.id)
                    .app(Some(&copy.application_id))
                    .env(Some(&copy.env_id))
                    .change(audit::deleted("name", &copy.name));
                audit::append(connection, event)
            })
            .await?;
            return Err(fallen);
        }
        self.refresh_status(actor, &row.id).await?;
        let row = InstanceRow {
            status: self.instance_status(&row.id).await?,
            ..row
        };
        Ok(self.views(actor, vec![row]).await?.remove(0))
    }

    /// 5.9: deletes an instance that no joint line holds.
    pub async fn delete_instance(&self, actor: &Actor, id: &str) -> JobsResult<()> {
        require_operator(actor)?;
        let id = id.to_owned();
        let origin = audit::origin(actor);
        self.write(crate::domain::INSTANCES_WRITE, move |connection| {
            let instance = existing_instance(connection, &id)?;
            let lines = joint_lines::holding_instance(connection, &id)?;
            if !lines.is_empty() {
                let users = lines
                    .into_iter()
                    .map(|line| format!("joint line {line}"))
                    .collect();
                return Err(JobsError::InUse {
                    kind: RecordKind::Instance,
                    id,
                    users,
                });
            }
            if let Some(run) = runs::running_of_instance(connection, &id)? {
                return Err(JobsError::RunActive {
                    message: format!(
                        "job instance {id:?} cannot be deleted while execution {} runs",
                        run.id
                    ),
                    run_id: run.id,
                });
            }
            runs::delete_of_instance(connection, &id)?;
            // Its schedules go with it (they would fire at nothing).
            for schedule in schedules::of_target(connection, schedules::target::INSTANCE, &id)? {
                schedules::delete(connection, &schedule.id)?;
            }
            // Its work order goes with it (PostgreSQL refused the delete while one was saved).
            work_orders::delete_for_instance(connection, &id)?;
            instances::delete(connection, &id)?;
            let event = NewEvent::new(&origin, "instance.delete", "instance", &id)
                .app(Some(&instance.application_id))
                .env(Some(&instance.env_id))
                .change(audit::deleted("name", &instance.name));
            audit::append(connection, event)
        })
        .await
    }

    /// 5.10: an instance and its steps, with cluster names.
    pub async fn instance_details(
        &self,
        actor: &Actor,
        id: &str,
    ) -> JobsResult<(InstanceView, Vec<StepView>)> {
        require_reader(actor)?;
        let lookup = id.to_owned();
        let read = format!("details\n{lookup}");
        let load = self.load_instance_details(actor, lookup);
        // Steps show their clusters' names and methods' names; a cluster whose delete is under
        // way is not kept (the announcement may lapse without a write).
        let steady = |(_, steps): &(InstanceView, Vec<StepView>)| {
            !steps.iter().any(|step| {
                step.cluster
                    .as_ref()
                    .is_some_and(|cluster| cluster.deleting)
            })
        };
        self.reads
            .read_through_if(INSTANCE_DETAILS, &read, steady, load)
            .await
    }

    async fn load_instance_details(
        &self,
        actor: &Actor,
        lookup: String,
    ) -> JobsResult<(InstanceView, Vec<StepView>)> {
        let (row, steps, run_steps) = self
            .database
            .run(move |connection| {
                let row = existing_instance(connection, &lookup)?;
                let steps = instances::steps(connection, &lookup)?;
                let run_steps = match runs::latest_of_instance(connection, &lookup)? {
                    Some(run) => runs::steps(connection, &run.id)?,
                    None => Vec::new(),
                };
                Ok::<_, JobsError>((row, steps, run_steps))
            })
            .await?;
        let cluster_ids: Vec<String> = steps
            .iter()
            .filter_map(|step| step.cluster_id.clone())
            .collect();
        let clusters = self.resource.clusters(&actor.token, cluster_ids).await?;
        let view = self.views(actor, vec![row]).await?.remove(0);
        let catalog = self.artifact.catalog(&actor.token).await?;
        let steps = steps
            .into_iter()
            .map(|row| {
                let cluster = row
                    .cluster_id
                    .as_ref()
                    .and_then(|id| clusters.iter().find(|cluster| &cluster.id == id).cloned());
                let method = catalog.method(&row.component_id, &row.method_id);
                StepView {
                    cluster,
                    component_name: method
                        .map(|(component, _)| component.name.clone())
                        .unwrap_or_default(),
                    method_remark: method
                        .map(|(_, method)| method.remark.clone())
                        .unwrap_or_default(),
                    method_file_id: method
                        .map(|(_, method)| method.file_id.clone())
                        .unwrap_or_default(),
                    is_display_script: method.is_some_and(|(_, method)| method.is_display_script),
                    status: run_steps
                        .iter()
                        .find(|step| {
                            step.sequence == row.sequence && step.method_id == row.method_id
                        })
                        .map(|step| step.status.clone()),
                    row,
                }
            })
            .collect();
        Ok((view, steps))
    }

    /// 5.6.2.1: binds a cluster of the instance's environment and application to a step.
    /// Answers the instance's status after it.
    pub async fn save_step_cluster(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
        cluster_id: &str,
    ) -> JobsResult<String> {
        require_operator(actor)?;
        let cluster_id = checked_reference("cluster_id", cluster_id)?;
        let lookup = instance_id.to_owned();
        let instance = self
            .database
            .run(move |connection| existing_instance(connection, &lookup))
            .await?;
        let cluster = self.checked_cluster(actor, &instance, &cluster_id).await?;
        let method_id = method_id.to_owned();
        let sequence = i32::try_from(sequence).map_err(|_| JobsError::Invalid {
            field: "sequence",
            message: "is too large".to_owned(),
        })?;
        let mender = actor.username().to_owned();
        let origin = audit::origin(actor);
        let written = self
            .write(crate::domain::INSTANCES_WRITE, move |connection| {
                let steps = instances::steps(connection, &instance.id)?;
                let Some(step) = steps
                    .iter()
                    .find(|step| step.sequence == sequence && step.method_id == method_id)
                else {
                    return Err(JobsError::NotFound {
                        kind: RecordKind::Step,
                        id: format!("{method_id} at sequence {sequence}"),
                    });
                };
                let updated = StepRow {
                    cluster_id: Some(cluster.id.clone()),
                    ..step.clone()
                };
                instances::update_step(connection, &updated)?;
                crate::db::models::instances::touch(connection, &instance.id, &mender, now_utc())?;
                let event = audit::step_event(&origin, "step.bind_cluster", &instance, step)
                    .change(audit::Change::new(
                        "cluster_id",
                        step.cluster_id.as_deref(),
                        updated.cluster_id.as_deref(),
                    ));
                audit::append(connection, event)?;
                Ok((step.clone(), updated))
            })
            .await?;
        let (previous, written) = written;
        self.settle_step_cluster(actor, previous, written, "step.bind_cluster")
            .await?;
        self.refresh_status(actor, instance_id).await
    }

    /// Recomputes `init` / `ready` of an instance from its steps (a later status, such as
    /// `generate` or a run's outcome, stays). Answers the status.
    pub(crate) async fn refresh_status(
        &self,
        actor: &Actor,
        instance_id: &str,
    ) -> JobsResult<String> {
        let catalog = self.artifact.catalog(&actor.token).await?;
        let instance_id = instance_id.to_owned();
        self.write(crate::domain::INSTANCES_WRITE, move |connection| {
            let instance = existing_instance(connection, &instance_id)?;
            if instance.status != status::INIT && instance.status != status::READY {
                return Ok(instance.status);
            }
            let steps = instances::steps(connection, &instance.id)?;
            let needs_params = |step: &StepRow| {
                catalog
                    .method(&step.component_id, &step.method_id)
                    .is_some_and(|(_, method)| method.requires_params)
            };
            let next = derived_status(&steps, &needs_params).to_owned();
            instances::set_status(connection, &instance.id, &next)?;
            Ok(next)
        })
        .await
    }

    async fn instance_status(&self, instance_id: &str) -> JobsResult<String> {
        let lookup = instance_id.to_owned();
        self.database
            .run(move |connection| Ok(existing_instance(connection, &lookup)?.status))
            .await
    }

    /// The cluster `cluster_id`, which must be of the instance's environment and application.
    pub(crate) async fn checked_cluster(
        &self,
        actor: &Actor,
        instance: &InstanceRow,
        cluster_id: &str,
    ) -> JobsResult<ClusterInfo> {
        let cluster = self
            .resource
            .clusters(&actor.token, vec![cluster_id.to_owned()])
            .await?
            .into_iter()
            .find(|cluster| !cluster.deleting)
            .ok_or_else(|| JobsError::NotFound {
                kind: RecordKind::Cluster,
                id: cluster_id.to_owned(),
            })?;
        if cluster.env_id != instance.env_id || cluster.app_id != instance.application_id {
            return Err(JobsError::Mismatch {
                message: format!(
                    "cluster {:?} ({}) is not a cluster of the instance's environment and application",
                    cluster.name, cluster.id
                ),
            });
        }
        Ok(cluster)
    }

    /// 5.4 for an instance id: the clusters of its environment and application.
    pub async fn instance_cluster_choices(
        &self,
        actor: &Actor,
        instance_id: &str,
    ) -> JobsResult<Vec<ClusterInfo>> {
        require_reader(actor)?;
        let lookup = instance_id.to_owned();
        let instance = self
            .database
            .run(move |connection| existing_instance(connection, &lookup))
            .await?;
        self.resource
            .clusters_of(&actor.token, &instance.env_id, &instance.application_id)
            .await
    }

    /// Fails `InUse` naming the instances while a step of one is bound to `cluster_id`.
    pub async fn check_cluster_unused(&self, actor: &Actor, cluster_id: &str) -> JobsResult<()> {
        require_reader(actor)?;
        let lookup = cluster_id.to_owned();
        let users = self
            .database
            .run(move |connection| {
                Ok::<_, JobsError>(instances::names_bound_to_cluster(connection, &lookup)?)
            })
            .await?;
        if users.is_empty() {
            return Ok(());
        }
        Err(JobsError::InUse {
            kind: RecordKind::Cluster,
            id: cluster_id.to_owned(),
            users: users
                .into_iter()
                .map(|name| format!("job instance {name:?}"))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(cluster: Option<&str>) -> StepRow {
        StepRow {
            instance_id: "i".into(),
            sequence: 0,
            component_id: "custom".into(),
            method_id: "cu1".into(),
            cluster_id: cluster.map(str::to_owned),
            bindings: "{}".into(),
        }
    }

    #[test]
    fn ready_needs_required_parameters_saved() {
        let always = |_: &StepRow| true;
        assert_eq!(derived_status(&[step(Some("c"))], &always), status::INIT);
        let with_values = StepRow {
            bindings: "{\"config_value\":{}}".into(),
            ..step(Some("c"))
        };
        assert_eq!(derived_status(&[with_values], &always), status::READY);
    }

    #[test]
    fn ready_needs_a_cluster_on_every_step() {
        let never = |_: &StepRow| false;
        assert_eq!(derived_status(&[], &never), status::INIT);
        assert_eq!(
            derived_status(&[step(Some("c")), step(None)], &never),
            status::INIT
        );
        assert_eq!(
            derived_status(&[step(Some("c")), step(Some("d"))], &never),
            status::READY
        );
    }
}
