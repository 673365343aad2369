//! Webhooks added by admins: proto ⇄ rules.

use super::{CallerExt, JobsGrpc, Request, Response, Status, WebhookView, pb, to_unix_ms};

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
        request: Request<pb::ListWebhooksRequest>,
    ) -> Result<Response<pb::ListWebhooksResponse>, Status> {
        let actor = request.actor()?;
        let webhooks = self.service.list_webhooks(&actor).await?;
        Ok(Response::new(pb::ListWebhooksResponse {
            webhooks: webhooks.into_iter().map(webhook_to_proto).collect(),
        }))
    }

    pub(super) async fn add_webhook(
        &self,
        request: Request<pb::AddWebhookRequest>,
    ) -> Result<Response<pb::Webhook>, Status> {
        let actor = request.actor()?;
        let webhook = self
            .service
            .add_webhook(&actor, &request.into_inner().url)
            .await?;
        Ok(Response::new(webhook_to_proto(webhook)))
    }

    pub(super) async fn delete_webhook(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = request.actor()?;
        self.service
            .delete_webhook(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::DeleteResponse::default()))
    }
}
