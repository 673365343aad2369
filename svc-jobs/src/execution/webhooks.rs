//! Webhooks: when a run (or a joint run) finishes, every configured URL (`TAD_WEBHOOK_URLS` and
//! those added at `/api/admin/webhooks`) gets a JSON post signed with HMAC-SHA256
//! (`X-TAD-Signature: sha256=<hex>` over the body), retried with backoff, each attempt with a
//! timeout. Deliveries run in the background: a failing receiver is logged, never waited for.

use std::time::Duration;

use common::{
    db::Database,
    https::{self, HttpsClientError},
};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::db::models::webhooks;

/// Attempts per delivery (the first and four retries).
pub const ATTEMPTS: u32 = 5;
/// Time one attempt may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Signs and sends run notifications.
#[derive(Clone)]
pub struct Notifier {
    database: Database,
    configured: Vec<String>,
    key: Option<Vec<u8>>,
    client: reqwest::Client,
    /// Wait before retry n is `backoff * 2^(n-1)`.
    backoff: Duration,
}

/// `sha256=<hex>` of the HMAC-SHA256 of `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this branch cannot be reached.
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Notifier {
    /// Fails when the HTTPS client cannot be built (a startup error: no fallback client).
    pub fn new(
        database: Database,
        configured: Vec<String>,
        key: Option<Vec<u8>>,
    ) -> Result<Notifier, HttpsClientError> {
        let client = https::build(https::client_builder().timeout(ATTEMPT_TIMEOUT), "webhooks")?;
        Ok(Notifier {
            database,
            configured,
            key,
            client,
            backoff: Duration::from_secs(1),
        })
    }

    /// The configured URLs and the admin-added ones, without repeats.
    async fn urls(&self) -> Vec<String> {
        let mut urls = self.configured.clone();
        match self
            .database
            .run(|connection| webhooks::list(connection).map_err(common::db::DbError::Query))
            .await
        {
            Ok(rows) => {
                for row in rows {
                    if !urls.contains(&row.url) {
                        urls.push(row.url);
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot read the webhook list"),
        }
        urls
    }

    /// Posts `payload` (`event` names it) to every webhook, in the background.
    pub fn notify(&self, event: &'static str, payload: Value) {
        let notifier = self.clone();
        tokio::spawn(async move {
            let urls = notifier.urls().await;
            if urls.is_empty() {
                return;
            }
            let Some(key) = notifier.key.clone() else {
                tracing::error!(
                    event,
                    "webhooks are configured but no signing key is: set TAD_WEBHOOK_SECRET"
                );
                return;
            };
            let body = payload.to_string().into_bytes();
            let signature = signature(&key, &body);
            let delivery = common::ids::new_id();
            for url in urls {
                let notifier = notifier.clone();
                let body = body.clone();
                let signature = signature.clone();
                let delivery = delivery.clone();
                tokio::spawn(async move {
                    notifier
                        .deliver(&url, event, &delivery, &signature, body)
                        .await;
                });
            }
        });
    }

    async fn deliver(
        &self,
        url: &str,
        event: &str,
        delivery: &str,
        signature: &str,
        body: Vec<u8>,
    ) {
        for attempt in 1..=ATTEMPTS {
            let sent = self
                .client
                .post(url)
                .header("content-type", "application/json")
                .header("x-tad-event", event)
                .header("x-tad-delivery", delivery)
                .header("x-tad-signature", signature)
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => {
                    tracing::info!(%url, event, delivery, attempt, "webhook delivered");
                    return;
                }
                Ok(response) => {
                    tracing::warn!(%url, event, delivery, attempt, status = response.status().as_u16(), "webhook refused")
                }
                Err(error) => {
                    tracing::warn!(%url, event, delivery, attempt, %error, "webhook failed")
                }
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(self.backoff * 2_u32.pow(attempt - 1)).await;
            }
        }
        tracing::error!(%url, event, delivery, attempts = ATTEMPTS, "webhook given up");
    }
}

#[cfg(test)]
mod tests {
    use super::signature;

    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
