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
};

use common::{database_test_suite, db::Database};
use support::{actor, create_cluster, resource_service, seed, with_token};
use svc_resource::{
    ClusterUsage,
    db::MIGRATIONS,
    service::{ResourceError, WriteChannel},
};

mod support;

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

async fn a_cluster_whose_delete_was_announced_never_reads_as_standing(database: Database) {
    let usage = Arc::new(AnnouncedDeletes::default());
    let service = resource_service(database, usage.clone());
    let admin = actor("admin", "admin");
    seed(
        &service,
        &admin,
        &[("1", "pl")],
        &[("a1", "app", "1")],
        &[("e1", "prod")],
    )
    .await;
    let operator = with_token(actor("olga", "operator"));
    let mut ids = Vec::new();
    for index in 0..CLUSTERS {
        let cluster = create_cluster(&service, &operator, format!("c-{index}"), "a1").await;
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
                        .get_clusters(&actor("jobs", "viewer"), ids.clone())
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
