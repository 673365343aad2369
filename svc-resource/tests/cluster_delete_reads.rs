//! Cluster reads racing cluster deletes: once a delete is announced, no read that begins later
//! shows that cluster as standing (present and not being deleted). The jobs service binds a step
//! only to a cluster that reads as standing, so a read that did would let a step stay bound to a
//! deleted cluster. SQLite, and PostgreSQL when `TEST_DATABASE_URL` is set.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use common::{
    auth::{Actor, Claims, JwtKeys},
    cache::InMemoryCache,
    crypto::CredentialCipher,
    database_test_suite,
    db::Database,
};
use svc_resource::{
    ClusterUsage, ResourceService, ResourceSettings,
    db::MIGRATIONS,
    service::{ResourceError, WriteChannel, clusters::ClusterFields},
};

const CLUSTERS: usize = 120;

/// The jobs side of a delete as this test plays it: nothing is bound, and every cluster jobs was
/// asked about is noted (the delete asks only while its announcement stands).
#[derive(Default)]
struct AnnouncedDeletes {
    announced: Mutex<HashSet<String>>,
}

#[async_trait::async_trait]
impl ClusterUsage for AnnouncedDeletes {
    async fn check_unused(&self, _token: &str, cluster_id: &str) -> Result<(), ResourceError> {
        self.announced
            .lock()
            .expect("lock")
            .insert(cluster_id.to_owned());
        Ok(())
    }
}

fn claims(username: &str, role: &str) -> Claims {
    Claims {
        sub: username.to_owned(),
        roles: vec![role.to_owned()],
        iat: 0,
        exp: i64::MAX,
        sid: None,
    }
}

async fn a_cluster_whose_delete_was_announced_never_reads_as_standing(database: Database) {
    let usage = Arc::new(AnnouncedDeletes::default());
    let service = ResourceService::new(
        database,
        Arc::new(InMemoryCache::new()),
        JwtKeys::new(b"test-secret-test-secret-test-secret!"),
        CredentialCipher::from_hex_key(
            b"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        )
        .expect("test key"),
        ResourceSettings {
            token_ttl: Duration::from_secs(600),
            login_attempts_per_minute: 3,
            ssh_timeout: Duration::from_secs(5),
        },
        usage.clone(),
    );
    let admin = claims("admin", "admin");
    service
        .upsert_product_line(&admin, Some("1"), "pl")
        .await
        .expect("pl");
    service
        .upsert_application(&admin, Some("a1"), "app", "1")
        .await
        .expect("app");
    service
        .upsert_env(&admin, Some("e1"), "prod", "")
        .await
        .expect("env");
    let operator = Actor {
        claims: claims("olga", "operator"),
        token: "token".to_owned(),
    };
    let mut ids = Vec::new();
    for index in 0..CLUSTERS {
        let fields = ClusterFields {
            name: format!("c-{index}"),
            env_id: "e1".into(),
            app_id: "a1".into(),
            ..ClusterFields::default()
        };
        let cluster = service
            .create_cluster(&operator.claims, None, fields, WriteChannel::Aos)
            .await
            .expect("cluster");
        ids.push(cluster.row.id);
    }

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (service, usage, done, ids) =
                (service.clone(), usage.clone(), done.clone(), ids.clone());
            tokio::spawn(async move {
                let (mut reads, mut standing_after_announcement) = (0, Vec::new());
                while !done.load(Ordering::SeqCst) {
                    let announced_before = usage.announced.lock().expect("lock").clone();
                    let views = service
                        .get_clusters(&claims("jobs", "viewer"), ids.clone())
                        .await
                        .expect("read");
                    standing_after_announcement.extend(
                        views
                            .into_iter()
                            .filter(|view| {
                                !view.deleting && announced_before.contains(&view.row.id)
                            })
                            .map(|view| view.row.id),
                    );
                    reads += 1;
                }
                (reads, standing_after_announcement)
            })
        })
        .collect();
    for id in &ids {
        service
            .delete_cluster(&operator, id, WriteChannel::Aos)
            .await
            .expect("an unbound cluster is deleted");
    }
    done.store(true, Ordering::SeqCst);
    for reader in readers {
        let (reads, standing) = reader.await.expect("reader");
        assert!(reads > 10, "the reader raced the deletes ({reads} reads)");
        assert!(
            standing.is_empty(),
            "read as standing after their delete was announced: {standing:?}"
        );
    }
}

database_test_suite!(MIGRATIONS;
    a_cluster_whose_delete_was_announced_never_reads_as_standing,
);
