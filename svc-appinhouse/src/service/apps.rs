//! Apps: create (1009 when it exists), update, delete (with its builds, plists and hosted
//! files), ordering (top / end / up / down) and the paginated list.

use common::{
    audit::{Change, Origin},
    db::DbConnection,
    limits,
    time::now_utc,
};

use super::{
    AppinhouseError, AppinhouseResult, AppinhouseService, app_event, append_event, required,
    url_safe,
};
use crate::db::models::{
    apps::{self, AppRow},
    builds,
};

/// Longest app name in bytes.
pub const MAX_APP_NAME_BYTES: usize = 50;
/// Names that are words of the URL space (`/api/v2/apps`, `/api/v2/move/...`).
const RESERVED_NAMES: [&str; 2] = ["apps", "move"];

/// Checks a new app's name.
pub fn app_name(name: &str) -> AppinhouseResult<String> {
    let name = url_safe("app", name, MAX_APP_NAME_BYTES)?;
    if RESERVED_NAMES.contains(&name.as_str()) {
        return Err(AppinhouseError::Invalid {
            field: "app",
            message: format!("{name:?} is a reserved word"),
        });
    }
    Ok(name)
}

/// A move of an app in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOperation {
    Top,
    End,
    Up,
    Down,
}

impl SortOperation {
    pub fn parse(text: &str) -> AppinhouseResult<SortOperation> {
        match text {
            "top" => Ok(SortOperation::Top),
            "end" => Ok(SortOperation::End),
            "up" => Ok(SortOperation::Up),
            "down" => Ok(SortOperation::Down),
            other => Err(AppinhouseError::Invalid {
                field: "sort_operation",
                message: format!("{:?} must be top, end, up or down", limits::excerpt(other)),
            }),
        }
    }
}

/// The read-cache scope of the app list: `apps` is a reserved name no app may take, so no app's
/// writes bump it by chance; creating, deleting and moving an app do.
pub(crate) const LIST_SCOPE: &str = "apps";

/// The app `name`, or 1008.
pub(crate) fn existing_app(connection: &mut DbConnection, name: &str) -> AppinhouseResult<AppRow> {
    apps::find(connection, name)?.ok_or_else(|| AppinhouseError::AppNotFound(name.to_owned()))
}

impl AppinhouseService {
    /// Creates an app at the end of the list.
    pub async fn create_app(
        &self,
        name: &str,
        description: Option<&str>,
        alias: Option<&str>,
    ) -> AppinhouseResult<AppRow> {
        let name = app_name(name)?;
        let description = description
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .ok_or(AppinhouseError::Missing {
                field: "description",
            })?
            .to_owned();
        limits::check("description", &description, limits::REMARK)?;
        let alias = alias.unwrap_or_default().trim().to_owned();
        limits::check("alias", &alias, limits::NAME)?;
        let origin = Origin::key_holder();
        let created = self
            .database
            .transaction(move |connection| {
                if apps::find(connection, &name)?.is_some() {
                    return Err(AppinhouseError::AppExists(name));
                }
                let (_, last) = apps::position_bounds(connection)?;
                let now = now_utc();
                let row = AppRow {
                    name,
                    description,
                    alias,
                    position: last.unwrap_or(0) + 1,
                    create_time: now,
                    update_time: now,
                };
                // Taken by a concurrent create after the look above: the same answer.
                if !common::db::insert_unless_taken(connection, |connection| {
                    apps::insert(connection, &row)
                })? {
                    return Err(AppinhouseError::AppExists(row.name));
                }
                let event = app_event(&origin, "app.create", &row.name)
                    .change(Change::new("description", None, Some(&row.description)))
                    .change(Change::new("alias", None, Some(&row.alias)));
                append_event(connection, event)?;
                Ok(row)
            })
            .await;
        if created.is_ok() {
            self.reads.changed(LIST_SCOPE).await;
        }
        created
    }

    /// Rewrites an app's description and alias.
    pub async fn update_app(
        &self,
        name: &str,
        description: Option<&str>,
        alias: Option<&str>,
    ) -> AppinhouseResult<()> {
        let name = name.trim().to_owned();
        let mut fields = super::Fields::new();
        if let Some(description) = description {
            fields.insert("description".to_owned(), description.to_owned());
        }
        let description = required(&fields, "description")?;
        limits::check("description", &description, limits::REMARK)?;
        let alias = alias.unwrap_or_default().trim().to_owned();
        limits::check("alias", &alias, limits::NAME)?;
        let origin = Origin::key_holder();
        let changed = name.clone();
        self.database
            .transaction(move |connection| {
                let before = existing_app(connection, &name)?;
                apps::update_text(connection, &name, &description, &alias, now_utc())?;
                let mut event = app_event(&origin, "app.update", &name);
                for (field, old, new) in [
                    ("description", &before.description, &description),
                    ("alias", &before.alias, &alias),
                ] {
                    if old != new {
                        event = event.change(Change::new(field, Some(old), Some(new)));
                    }
                }
                append_event(connection, event)?;
                Ok::<_, AppinhouseError>(())
            })
            .await?;
        // The download pages show the description and alias.
        self.reads.changed(&changed).await;
        Ok(())
    }

    /// Deletes an app, its builds, plists and protection, then its hosted files (an app made
    /// again under the name starts open, with none of the old builds).
    pub async fn delete_app(&self, name: &str) -> AppinhouseResult<()> {
        let name = name.trim().to_owned();
        let key_prefix = name.clone();
        let origin = Origin::key_holder();
        self.database
            .transaction(move |connection| {
                existing_app(connection, &name)?;
                builds::delete_of_app(connection, &name)?;
                crate::db::models::access::delete_access(connection, &name)?;
                apps::delete(connection, &name)?;
                let event = app_event(&origin, "app.delete", &name).change(Change::new(
                    "name",
                    Some(&name),
                    None,
                ));
                append_event(connection, event)?;
                Ok::<_, AppinhouseError>(())
            })
            .await?;
        self.reads.changed(&key_prefix).await;
        self.reads.changed(LIST_SCOPE).await;
        let removed = self
            .store
            .delete_prefix(&key_prefix)
            .await
            .map_err(|error| AppinhouseError::DeleteFile(error.to_string()))?;
        tracing::info!(app = %key_prefix, files = removed, "app deleted");
        Ok(())
    }

    /// Moves an app in the list; up on the first and down on the last change nothing.
    pub async fn move_app(&self, name: &str, operation: &str) -> AppinhouseResult<()> {
        let operation_name = operation.trim().to_owned();
        let operation = SortOperation::parse(&operation_name)?;
        let name = name.trim().to_owned();
        // The move route carries no key: anyone with the list may reorder it.
        let event = app_event(&Origin::anonymous(), "app.move", &name).change(Change::new(
            "operation",
            None,
            Some(&operation_name),
        ));
        self.database
            .transaction(move |connection| {
                existing_app(connection, &name)?;
                let mut order = apps::ordered(connection)?;
                if order.windows(2).any(|pair| pair[0].1 >= pair[1].1) {
                    // Equal positions (possible in imported data): number them 1..n first.
                    for (index, (app, position)) in order.iter_mut().enumerate() {
                        *position = index as i64 + 1;
                        apps::set_position(connection, app, *position)?;
                    }
                }
                let Some(index) = order.iter().position(|(app, _)| *app == name) else {
                    return Err(AppinhouseError::AppNotFound(name));
                };
                let first = order[0].1;
                let last = order[order.len() - 1].1;
                match operation {
                    SortOperation::Top if index > 0 => {
                        apps::set_position(connection, &name, first - 1)?
                    }
                    SortOperation::End if index + 1 < order.len() => {
                        apps::set_position(connection, &name, last + 1)?
                    }
                    SortOperation::Up if index > 0 => {
                        swap(connection, &order[index], &order[index - 1])?
                    }
                    SortOperation::Down if index + 1 < order.len() => {
                        swap(connection, &order[index], &order[index + 1])?
                    }
                    _ => {}
                }
                append_event(connection, event)?;
                Ok(())
            })
            .await?;
        self.reads.changed(LIST_SCOPE).await;
        Ok(())
    }
}

fn swap(
    connection: &mut DbConnection,
    this: &(String, i64),
    other: &(String, i64),
) -> AppinhouseResult<()> {
    apps::set_position(connection, &this.0, other.1)?;
    apps::set_position(connection, &other.0, this.1)?;
    Ok(())
}
