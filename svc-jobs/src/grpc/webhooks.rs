//! Webhooks added by admins: proto ⇄ rules.

use super::{Actor, JobsGrpc, Status, WebhookView, pb, to_unix_ms};

fn webhook_to_proto(view: WebhookView) -> pb::Webhook {
    pb::Webhook {
        id: view.row.id,
        url: view.row.url,
        source: view.source.to_owned(),
        creator: view.row.creator,
        create_time_ms: if view.source == "config" {
            0
        } else {
            to_unix_ms(view.row.create_time)
        },
    }
}

impl JobsGrpc {
    pub(super) async fn list_webhooks(
        &self,
        actor: Actor,
        _: pb::ListWebhooksRequest,
    ) -> Result<pb::ListWebhooksResponse, Status> {
        let webhooks = self.service.list_webhooks(&actor).await?;
        Ok(pb::ListWebhooksResponse {
            webhooks: webhooks.into_iter().map(webhook_to_proto).collect(),
        })
    }

    pub(super) async fn add_webhook(
        &self,
        actor: Actor,
        body: pb::AddWebhookRequest,
    ) -> Result<pb::Webhook, Status> {
        let webhook = self.service.add_webhook(&actor, &body.url).await?;
        Ok(webhook_to_proto(webhook))
    }

    pub(super) async fn delete_webhook(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> Result<pb::DeleteResponse, Status> {
        self.service.delete_webhook(&actor, &body.id).await?;
        Ok(pb::DeleteResponse::default())
    }
}
