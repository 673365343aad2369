//! Webhooks added by admins (`/api/admin/webhooks`), beside those of `TAD_WEBHOOK_URLS`.

use common::{ids::new_id, time::now_utc};

use super::{Actor, JobsError, JobsResult, JobsService, RecordKind};
use crate::db::models::webhooks::{self, WebhookRow};
use crate::domain::audit::{self, NewEvent};

/// A webhook and where it was configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookView {
    pub row: WebhookRow,
    /// `config` (`TAD_WEBHOOK_URLS`, read-only here) or `admin`.
    pub source: &'static str,
}

fn require_admin(actor: &Actor) -> JobsResult<()> {
    Ok(common::roles::require(
        actor,
        &[],
        "is not an admin; webhooks are configured by admins",
    )?)
}

/// The list is read by admins and auditors.
fn require_admin_reader(actor: &Actor) -> JobsResult<()> {
    Ok(common::roles::require_admin_reader(actor)?)
}

impl JobsService {
    /// Every webhook: the configured ones first.
    pub async fn list_webhooks(&self, actor: &Actor) -> JobsResult<Vec<WebhookView>> {
        require_admin_reader(actor)?;
        let rows = self
            .database
            .run(|connection| Ok::<_, JobsError>(webhooks::list(connection)?))
            .await?;
        let mut views: Vec<WebhookView> = self
            .engine
            .configured_webhooks()
            .iter()
            .map(|url| WebhookView {
                row: WebhookRow {
                    id: String::new(),
                    url: url.clone(),
                    creator: "config".to_owned(),
                    create_time: chrono::NaiveDateTime::default(),
                },
                source: "config",
            })
            .collect();
        views.extend(rows.into_iter().map(|row| WebhookView {
            row,
            source: "admin",
        }));
        Ok(views)
    }

    /// Adds a webhook URL (http or https); the same URL twice is refused.
    pub async fn add_webhook(&self, actor: &Actor, url: &str) -> JobsResult<WebhookView> {
        require_admin(actor)?;
        let url = url.trim().to_owned();
        if url.is_empty() {
            return Err(JobsError::Missing { field: "url" });
        }
        common::limits::http_url("url", &url)?;
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2048 {
            return Err(JobsError::Invalid {
                field: "url",
                message: format!("{url:?} is not an http:// or https:// URL"),
            });
        }
        let row = WebhookRow {
            id: new_id(),
            url,
            creator: actor.username().to_owned(),
            create_time: now_utc(),
        };
        let stored = row.clone();
        let origin = audit::origin(actor);
        self.database
            .transaction(move |connection| {
                // A concurrent add of the same URL counts as taken too (unique key).
                let taken = webhooks::find_by_url(connection, &stored.url)?.is_some()
                    || !common::db::insert_unless_taken(connection, |connection| {
                        webhooks::insert(connection, &stored)
                    })?;
                if taken {
                    return Err(JobsError::Invalid {
                        field: "url",
                        message: format!("{:?} is already a webhook", stored.url),
                    });
                }
                let event = NewEvent::new(&origin, "webhook.create", "webhook", &stored.id)
                    .change(audit::created("url", &stored.url));
                audit::append(connection, event)
            })
            .await?;
        Ok(WebhookView {
            row,
            source: "admin",
        })
    }

    pub async fn delete_webhook(&self, actor: &Actor, id: &str) -> JobsResult<()> {
        require_admin(actor)?;
        let id = id.to_owned();
        let origin = audit::origin(actor);
        self.database
            .transaction(move |connection| {
                let Some(webhook) = webhooks::find(connection, &id)? else {
                    return Err(JobsError::NotFound {
                        kind: RecordKind::Webhook,
                        id,
                    });
                };
                if webhooks::delete(connection, &id)? == 0 {
                    return Err(JobsError::NotFound {
                        kind: RecordKind::Webhook,
                        id,
                    });
                }
                let event = NewEvent::new(&origin, "webhook.delete", "webhook", &id)
                    .change(audit::deleted("url", &webhook.url));
                audit::append(connection, event)
            })
            .await
    }
}
