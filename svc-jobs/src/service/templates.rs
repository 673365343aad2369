//! Job templates (contract 4.1, 4.3, 4.5, 5.3 and the create route beyond the contract): an
//! ordered list of component methods for an application, with a deploy type and an optional
//! rollback template. A template used by an instance cannot be deleted.

use common::{limits, read_cache::ARTIFACT_CATALOG, time::now_utc};

use super::{
    Actor, JobsError, JobsResult, JobsService, RecordKind, checked_name,
    checked_optional_reference, checked_reference, checked_text, filter_text, require_operator,
    require_reader,
};
use crate::{
    artifact::Catalog,
    db::models::{
        instances::{self, StepRow},
        templates::{self, TemplateMethodRow, TemplateRow},
    },
    domain::TEMPLATES_SCOPE,
    domain::audit::{self, NewEvent},
};

/// A method of a template as the caller sends it (4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodChoice {
    pub sequence: u32,
    pub component_id: String,
    pub method_id: String,
}

/// A method of a template with its names (4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodView {
    pub row: TemplateMethodRow,
    pub component_name: String,
    pub method_name: String,
    pub method_remark: String,
    pub method_file_id: String,
    pub is_display_script: bool,
}

/// Names of a method from the catalog (empty when it is no longer known).
pub(crate) fn method_view(catalog: &Catalog, row: TemplateMethodRow) -> MethodView {
    let found = catalog.method(&row.component_id, &row.method_id);
    MethodView {
        component_name: found
            .map(|(component, _)| component.name.clone())
            .unwrap_or_default(),
        method_name: found
            .map(|(_, method)| method.name.clone())
            .unwrap_or_default(),
        method_remark: found
            .map(|(_, method)| method.remark.clone())
            .unwrap_or_default(),
        method_file_id: found
            .map(|(_, method)| method.file_id.clone())
            .unwrap_or_default(),
        is_display_script: found.is_some_and(|(_, method)| method.is_display_script),
        row,
    }
}

pub use crate::domain::DEPLOY_TYPE_ROLLBACK;

/// Deploy types of SPEC §4.
pub const DEPLOY_TYPES: [&str; 3] = ["install", "update", DEPLOY_TYPE_ROLLBACK];

/// What a caller sends to create a template.
#[derive(Debug, Clone, Default)]
pub struct TemplateInput {
    pub name: String,
    pub remark: String,
    pub template_type: String,
    pub deploy_type: String,
    pub application_id: String,
    pub rollback_template_id: Option<String>,
}

/// A template with the name of its rollback template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateView {
    pub row: TemplateRow,
    pub rollback_template_name: Option<String>,
}

fn views(
    connection: &mut common::db::DbConnection,
    rows: Vec<TemplateRow>,
) -> JobsResult<Vec<TemplateView>> {
    let rollback_ids: Vec<String> = rows
        .iter()
        .filter_map(|row| row.rollback_template_id.clone())
        .collect();
    let rollbacks = templates::find_many(connection, &rollback_ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let rollback_template_name = row
                .rollback_template_id
                .as_ref()
                .and_then(|id| rollbacks.iter().find(|candidate| &candidate.id == id))
                .map(|rollback| rollback.name.clone());
            TemplateView {
                row,
                rollback_template_name,
            }
        })
        .collect())
}

/// The methods of a template as the audit trail records them: `["0 custom/cu1", ...]`.
fn method_list(rows: &[TemplateMethodRow]) -> String {
    let methods: Vec<String> = rows
        .iter()
        .map(|row| format!("{} {}/{}", row.sequence, row.component_id, row.method_id))
        .collect();
    audit::json_list(&methods)
}

impl JobsService {
    /// Creates a template (no methods yet) for an existing application.
    pub async fn create_template(
        &self,
        actor: &Actor,
        input: TemplateInput,
    ) -> JobsResult<TemplateView> {
        require_operator(actor)?;
        let name = checked_name("name", &input.name)?;
        let application_id = checked_reference("application_id", &input.application_id)?;
        let remark = checked_text("remark", &input.remark, limits::REMARK)?;
        limits::check("type", input.template_type.trim(), limits::NAME)?;
        limits::check("deploy_type", input.deploy_type.trim(), limits::TOKEN)?;
        checked_optional_reference("jobt_rollback_id", input.rollback_template_id.as_deref())?;
        let deploy_type = match input.deploy_type.trim() {
            "" => "install".to_owned(),
            other if DEPLOY_TYPES.contains(&other) => other.to_owned(),
            other => {
                return Err(JobsError::Invalid {
                    field: "deploy_type",
                    message: format!("{other:?} must be one of install, update, rollback"),
                });
            }
        };
        let template_type = match input.template_type.trim() {
            "" => "public".to_owned(),
            other => other.to_owned(),
        };
        self.resource
            .require_named(&actor.token, RecordKind::Application, &application_id)
            .await?;
        let rollback_template_id = input
            .rollback_template_id
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty());
        let creator = actor.username().to_owned();
        let origin = audit::origin(actor);
        self.write(crate::domain::TEMPLATES_WRITE, move |connection| {
            if let Some(rollback_id) = &rollback_template_id
                && templates::find(connection, rollback_id)?.is_none()
            {
                return Err(JobsError::NotFound {
                    kind: RecordKind::Template,
                    id: rollback_id.clone(),
                });
            }
            let now = now_utc();
            let row = TemplateRow {
                id: common::ids::new_id(),
                name,
                remark,
                template_type,
                status: "available".to_owned(),
                deploy_type,
                application_id,
                rollback_template_id,
                creator,
                create_time: now,
                mender: None,
                update_time: now,
            };
            templates::insert(connection, &row)?;
            let event = NewEvent::new(&origin, "template.create", "template", &row.id)
                .app(Some(&row.application_id))
                .change(audit::created("name", &row.name))
                .change(audit::created("deploy_type", &row.deploy_type))
                .change(audit::created("application_id", &row.application_id));
            let mut event = event;
            let rollback = row.rollback_template_id.as_deref();
            event
                .changes
                .extend(rollback.map(|id| audit::created("rollback_template_id", id)));
            audit::append(connection, event)?;
            Ok(views(connection, vec![row])?.remove(0))
        })
        .await
    }

    /// 4.1: one page of templates by name fragment and application.
    pub async fn query_templates(
        &self,
        actor: &Actor,
        name: Option<&str>,
        application_id: Option<&str>,
        page: common::paging::PageRequest,
    ) -> JobsResult<(i64, Vec<TemplateView>)> {
        require_reader(actor)?;
        let (name, application_id) = (filter_text(name), filter_text(application_id));
        let read = format!("templates\n{name:?}\n{application_id:?}\n{page:?}");
        let load = self.database.run(move |connection| {
            let (count, rows) = templates::page(
                connection,
                name.as_deref(),
                application_id.as_deref(),
                page.offset(),
                page.limit(),
            )?;
            Ok((count, views(connection, rows)?))
        });
        self.reads
            .read_through(&[TEMPLATES_SCOPE], &read, load)
            .await
    }

    /// 5.3: the templates an instance is made from, for the select of 5.2. Rollback templates
    /// are left out: they run through rollback, chosen by a template's `jobt_rollback_id`.
    pub async fn list_templates(&self, actor: &Actor) -> JobsResult<Vec<TemplateView>> {
        require_reader(actor)?;
        let load = self.database.run(|connection| {
            let rows = templates::list(connection)?
                .into_iter()
                .filter(|row| row.deploy_type != DEPLOY_TYPE_ROLLBACK)
                .collect();
            views(connection, rows)
        });
        self.reads
            .read_through(&[TEMPLATES_SCOPE], "templates for instances", load)
            .await
    }

    /// 4.5: deletes a template no instance uses and no template rolls back with.
    pub async fn delete_template(&self, actor: &Actor, id: &str) -> JobsResult<()> {
        require_operator(actor)?;
        let id = id.to_owned();
        let origin = audit::origin(actor);
        self.write(crate::domain::TEMPLATES_WRITE, move |connection| {
            let Some(template) = templates::find(connection, &id)? else {
                return Err(JobsError::NotFound {
                    kind: RecordKind::Template,
                    id,
                });
            };
            let users: Vec<String> =
                instances::using_template(connection, &id)?
                    .into_iter()
                    .map(|instance| format!("job instance {} ({})", instance.name, instance.id))
                    .chain(templates::rolled_back_by(connection, &id)?.into_iter().map(
                        |template| format!("job template {} ({})", template.name, template.id),
                    ))
                    .collect();
            if !users.is_empty() {
                return Err(JobsError::InUse {
                    kind: RecordKind::Template,
                    id,
                    users,
                });
            }
            templates::delete(connection, &id)?;
            let event = NewEvent::new(&origin, "template.delete", "template", &id)
                .app(Some(&template.application_id))
                .change(audit::deleted("name", &template.name));
            audit::append(connection, event)
        })
        .await
    }

    /// 4.2: replaces the ordered methods of a template; every component and method must exist.
    /// Instances of the template follow: steps whose sequence keeps its method keep their
    /// bindings, others start empty, dropped ones go. Answers whether it is a rollback template.
    pub async fn replace_template_methods(
        &self,
        actor: &Actor,
        template_id: &str,
        choices: Vec<MethodChoice>,
    ) -> JobsResult<bool> {
        require_operator(actor)?;
        limits::items("method", choices.len(), limits::MAX_ITEMS)?;
        for choice in &choices {
            limits::check("component_id", &choice.component_id, limits::ID)?;
            limits::check("method_id", &choice.method_id, limits::ID)?;
            limits::range(
                "sequence",
                i64::from(choice.sequence),
                0,
                limits::MAX_SEQUENCE,
            )?;
        }
        let catalog = self.artifact.catalog(&actor.token).await?;
        let mut rows = Vec::with_capacity(choices.len());
        for choice in &choices {
            if catalog.component(&choice.component_id).is_none() {
                return Err(JobsError::NotFound {
                    kind: RecordKind::Component,
                    id: choice.component_id.clone(),
                });
            }
            if catalog
                .method(&choice.component_id, &choice.method_id)
                .is_none()
            {
                return Err(JobsError::NotFound {
                    kind: RecordKind::Method,
                    id: format!("{} of component {}", choice.method_id, choice.component_id),
                });
            }
            let sequence = i32::try_from(choice.sequence).map_err(|_| JobsError::Invalid {
                field: "sequence",
                message: "is too large".to_owned(),
            })?;
            if rows
                .iter()
                .any(|row: &TemplateMethodRow| row.sequence == sequence)
            {
                return Err(JobsError::Invalid {
                    field: "sequence",
                    message: format!("{sequence} appears twice"),
                });
            }
            rows.push(TemplateMethodRow {
                template_id: template_id.to_owned(),
                sequence,
                component_id: choice.component_id.clone(),
                method_id: choice.method_id.clone(),
            });
        }
        rows.sort_by_key(|row| row.sequence);
        let template_id = template_id.to_owned();
        let mender = actor.username().to_owned();
        let origin = audit::origin(actor);
        self.write(crate::domain::TEMPLATES_WRITE, move |connection| {
            let template =
                templates::find(connection, &template_id)?.ok_or_else(|| JobsError::NotFound {
                    kind: RecordKind::Template,
                    id: template_id.clone(),
                })?;
            // Touched first: the row lock makes concurrent saves of one template wait for
            // each other (PostgreSQL), so each replaces what the previous one committed.
            templates::touch(connection, &template_id, &mender, now_utc())?;
            let before = method_list(&templates::methods(connection, &template_id)?);
            templates::replace_methods(connection, &template_id, &rows)?;
            let mut event =
                NewEvent::new(&origin, "template.update_methods", "template", &template_id)
                    .app(Some(&template.application_id));
            let after = method_list(&rows);
            event
                .changes
                .extend(audit::changed("methods", Some(&before), Some(&after)));
            audit::append(connection, event)?;
            for instance in instances::using_template(connection, &template_id)? {
                let existing = instances::steps(connection, &instance.id)?;
                for step in &existing {
                    if !rows
                        .iter()
                        .any(|row| row.sequence == step.sequence && row.method_id == step.method_id)
                    {
                        instances::delete_step(connection, &instance.id, step.sequence)?;
                    }
                }
                for row in &rows {
                    if !existing.iter().any(|step| {
                        step.sequence == row.sequence && step.method_id == row.method_id
                    }) {
                        instances::insert_step(
                            connection,
                            &StepRow {
                                instance_id: instance.id.clone(),
                                sequence: row.sequence,
                                component_id: row.component_id.clone(),
                                method_id: row.method_id.clone(),
                                cluster_id: None,
                                bindings: "{}".to_owned(),
                            },
                        )?;
                    }
                }
                if instance.status == super::status::INIT || instance.status == super::status::READY
                {
                    let steps = instances::steps(connection, &instance.id)?;
                    let needs_params = |step: &StepRow| {
                        catalog
                            .method(&step.component_id, &step.method_id)
                            .is_some_and(|(_, method)| method.requires_params)
                    };
                    instances::set_status(
                        connection,
                        &instance.id,
                        super::instances::derived_status(&steps, &needs_params),
                    )?;
                }
            }
            Ok(template.deploy_type == DEPLOY_TYPE_ROLLBACK)
        })
        .await
    }

    /// 4.3: the methods of a template in order, with their names.
    pub async fn template_methods(
        &self,
        actor: &Actor,
        template_id: &str,
    ) -> JobsResult<Vec<MethodView>> {
        require_reader(actor)?;
        let lookup = template_id.to_owned();
        let read = format!("template methods\n{lookup}");
        let load = async {
            let rows = self
                .database
                .run(move |connection| {
                    if templates::find(connection, &lookup)?.is_none() {
                        return Err(JobsError::NotFound {
                            kind: RecordKind::Template,
                            id: lookup,
                        });
                    }
                    Ok(templates::methods(connection, &lookup)?)
                })
                .await?;
            let catalog = self.artifact.catalog(&actor.token).await?;
            Ok(rows
                .into_iter()
                .map(|row| method_view(&catalog, row))
                .collect())
        };
        // The methods' names and packages are the artifact catalog's.
        self.reads
            .read_through(&[TEMPLATES_SCOPE, ARTIFACT_CATALOG], &read, load)
            .await
    }
}
