//! Job templates (contract 4.1, 4.3, 4.5, 5.3 and the create route beyond the contract): an
//! ordered list of component methods for an application, with a deploy type and an optional
//! rollback template. A template used by an instance cannot be deleted.

use common::time::now_utc;

use super::{
    Actor, JobsError, JobsResult, JobsService, RecordKind, checked_name, checked_reference,
    filter_text, require_operator, require_reader,
};
use crate::{
    db::models::{instances, templates, templates::TemplateRow},
    resource::NameQuery,
};

/// Deploy types of SPEC §4.
pub const DEPLOY_TYPES: [&str; 3] = ["install", "update", "rollback"];

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
        let names = self
            .resource
            .names(
                &actor.token,
                NameQuery {
                    application_ids: vec![application_id.clone()],
                    ..NameQuery::default()
                },
            )
            .await?;
        if !names.applications.contains_key(&application_id) {
            return Err(JobsError::NotFound {
                kind: RecordKind::Application,
                id: application_id,
            });
        }
        let rollback_template_id = input
            .rollback_template_id
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty());
        let creator = actor.username().to_owned();
        let remark = input.remark.trim().to_owned();
        self.database
            .transaction(move |connection| {
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
        self.database
            .run(move |connection| {
                let (count, rows) = templates::page(
                    connection,
                    name.as_deref(),
                    application_id.as_deref(),
                    page.offset(),
                    page.limit(),
                )?;
                Ok((count, views(connection, rows)?))
            })
            .await
    }

    /// 5.3: every template, for selects.
    pub async fn list_templates(&self, actor: &Actor) -> JobsResult<Vec<TemplateView>> {
        require_reader(actor)?;
        self.database
            .run(|connection| {
                let rows = templates::list(connection)?;
                views(connection, rows)
            })
            .await
    }

    /// 4.5: deletes a template no instance uses and no template rolls back with.
    pub async fn delete_template(&self, actor: &Actor, id: &str) -> JobsResult<()> {
        require_operator(actor)?;
        let id = id.to_owned();
        self.database
            .transaction(move |connection| {
                if templates::find(connection, &id)?.is_none() {
                    return Err(JobsError::NotFound {
                        kind: RecordKind::Template,
                        id,
                    });
                }
                let users: Vec<String> = instances::using_template(connection, &id)?
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
                Ok(())
            })
            .await
    }
}
