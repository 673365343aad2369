//! The read cache of svc-resource across replicas: two services over one database and one shared
//! cache (Redis when `TEST_REDIS_URL` is set, else one in-memory cache). Replica B reads and keeps
//! each cached answer, replica A writes, and B reads the new answer at once — for every kind of
//! write that changes it (catalog upserts and deletes, an import, clusters and hosts created,
//! edited, bound, unbound, deleted, a pinned host key). A reader without a role is refused even
//! when the answer is kept, and a cluster page showing a deletion under way is not kept. Every
//! case runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.

mod support;

use std::sync::{
    Arc, Mutex, OnceLock,
    atomic::{AtomicBool, Ordering},
};

use common::{auth::Claims, database_test_suite, db::Database};
use support::{actor, cluster_fields, host_fields, resource_service_sharing, seed, with_token};
use svc_resource::{
    ClusterUsage, ResourceService,
    db::MIGRATIONS,
    service::{
        PageRequest, ResourceError, WriteChannel, catalog::ProductLineInput, import::CatalogImport,
        lookups::NameLookup,
    },
};

/// The jobs service's answer to a cluster delete: "in use" until `unused` is set, after replica
/// B read the cluster page while the deletion was announced.
#[derive(Default)]
struct InUse {
    reader: OnceLock<ResourceService>,
    seen_deleting: Mutex<Vec<bool>>,
    unused: AtomicBool,
}

#[async_trait::async_trait]
impl ClusterUsage for InUse {
    async fn check_unused(&self, _token: &str, cluster_id: &str) -> Result<(), ResourceError> {
        if let Some(reader) = self.reader.get() {
            let (_, views) = reader
                .query_clusters(&actor("v", "viewer"), None, None, PageRequest::new(1, 50))
                .await?;
            let deleting = views
                .iter()
                .any(|view| view.row.id == cluster_id && view.deleting);
            self.seen_deleting.lock().expect("lock").push(deleting);
        }
        if self.unused.load(Ordering::SeqCst) {
            return Ok(());
        }
        Err(ResourceError::Upstream(tonic::Status::failed_precondition(
            format!("cluster {cluster_id:?} is still used by job instance \"i\""),
        )))
    }
}

struct Replicas {
    a: ResourceService,
    b: ResourceService,
    usage: Arc<InUse>,
}

async fn replicas(database: Database) -> Replicas {
    let cache = common::cache::shared_for_test()
        .await
        .expect("TEST_REDIS_URL");
    let usage = Arc::new(InUse::default());
    let a = resource_service_sharing(database.clone(), usage.clone(), cache.clone());
    let b = resource_service_sharing(database, usage.clone(), cache);
    let _ = usage.reader.set(b.clone());
    Replicas { a, b, usage }
}

fn viewer() -> Claims {
    actor("vera", "viewer")
}

async fn product_line_names(service: &ResourceService) -> Vec<String> {
    let rows = service.list_product_lines(&viewer()).await.expect("1.1");
    rows.into_iter().map(|row| row.name).collect()
}

async fn application_names(service: &ResourceService) -> Vec<String> {
    let rows = service
        .list_applications(&viewer(), Some("pl1"))
        .await
        .expect("1.2");
    rows.into_iter().map(|row| row.name).collect()
}

async fn env_names(service: &ResourceService) -> Vec<String> {
    let rows = service.list_envs(&viewer()).await.expect("5.1");
    rows.into_iter().map(|row| row.name).collect()
}

async fn application_name(service: &ResourceService) -> Option<String> {
    let lookup = NameLookup {
        application_ids: vec!["a1".to_owned()],
        ..NameLookup::default()
    };
    let names = service
        .lookup_names(&viewer(), lookup)
        .await
        .expect("names");
    names.applications.get("a1").cloned()
}

/// (name, env name, app name, deleting) of every cluster of page 1 (8.1.3).
async fn clusters(service: &ResourceService) -> Vec<(String, String, String, bool)> {
    let (_, views) = service
        .query_clusters(&viewer(), None, None, PageRequest::new(1, 50))
        .await
        .expect("8.1.3");
    views
        .into_iter()
        .map(|view| (view.row.name, view.env_name, view.app_name, view.deleting))
        .collect()
}

/// (ip, name, pinned, cluster names) of every host of page 1 (8.2.4).
async fn hosts(service: &ResourceService) -> Vec<(String, String, bool, Vec<String>)> {
    let (_, views) = service
        .query_hosts(&viewer(), None, None, PageRequest::new(1, 50))
        .await
        .expect("8.2.4");
    views
        .into_iter()
        .map(|view| {
            let clusters = view.clusters.into_iter().map(|(_, name)| name).collect();
            let pinned = view.row.host_key_fingerprint.is_some();
            (view.row.host_ip, view.row.host_name, pinned, clusters)
        })
        .collect()
}

/// Reads `read` through B twice (the second from what B kept), then again after `write`
/// through A: the new answer, never the old.
macro_rules! seen_at_once {
    ($b:expr, $read:ident, $before:expr, $write:expr, $after:expr) => {{
        for _ in 0..2 {
            assert_eq!($read(&$b).await, $before, "B reads and keeps the answer");
        }
        $write;
        assert_eq!(
            $read(&$b).await,
            $after,
            "B reads the write through A at once"
        );
    }};
}

/// Renames every product line behind the services' back (straight in the database).
async fn rename_behind_the_back(database: &Database, name: &'static str) {
    use diesel::RunQueryDsl;
    database
        .run(move |connection| {
            diesel::sql_query(format!("UPDATE product_lines SET name = '{name}'"))
                .execute(connection)
                .map_err(common::db::DbError::Query)
        })
        .await
        .expect("update");
}

async fn catalog_writes_through_one_replica_are_read_at_once_through_the_other(database: Database) {
    let Replicas { a, b, .. } = replicas(database.clone()).await;
    let admin = actor("root", "admin");
    seed(&a, &admin, &[("pl1", "Line")], &[], &[("e1", "prod")]).await;

    // B answers from what it kept: a change no write announced is not seen (until the TTL).
    assert_eq!(product_line_names(&b).await, ["Line"]);
    rename_behind_the_back(&database, "Line (unannounced)").await;
    assert_eq!(product_line_names(&b).await, ["Line"], "a hit");
    rename_behind_the_back(&database, "Line").await;

    seen_at_once!(
        b,
        product_line_names,
        ["Line"],
        a.upsert_product_line(&admin, Some("pl2"), "Second")
            .await
            .expect("create"),
        ["Line", "Second"]
    );
    seen_at_once!(
        b,
        product_line_names,
        ["Line", "Second"],
        a.upsert_product_line(&admin, Some("pl2"), "Renamed")
            .await
            .expect("rename"),
        ["Line", "Renamed"]
    );
    seen_at_once!(
        b,
        product_line_names,
        ["Line", "Renamed"],
        a.delete_product_line(&admin, "pl2").await.expect("delete"),
        ["Line"]
    );

    seen_at_once!(
        b,
        application_names,
        Vec::<String>::new(),
        a.upsert_application(&admin, Some("a1"), "billing", "pl1")
            .await
            .expect("create"),
        ["billing"]
    );
    seen_at_once!(
        b,
        application_name,
        Some("billing".to_owned()),
        a.upsert_application(&admin, Some("a1"), "payments", "pl1")
            .await
            .expect("rename"),
        Some("payments".to_owned())
    );
    seen_at_once!(
        b,
        application_names,
        ["payments"],
        a.delete_application(&admin, "a1").await.expect("delete"),
        Vec::<String>::new()
    );
    seen_at_once!(
        b,
        application_name,
        None,
        a.upsert_application(&admin, Some("a1"), "back", "pl1")
            .await
            .expect("again"),
        Some("back".to_owned())
    );

    seen_at_once!(
        b,
        env_names,
        ["prod"],
        a.upsert_env(&admin, Some("e2"), "test", "")
            .await
            .expect("env"),
        ["prod", "test"]
    );
    seen_at_once!(
        b,
        env_names,
        ["prod", "test"],
        a.delete_env(&admin, "e2").await.expect("delete"),
        ["prod"]
    );

    let modules = |service: &ResourceService| {
        let service = service.clone();
        async move {
            let rows = service
                .list_modules(&viewer(), Some("a1"))
                .await
                .expect("modules");
            rows.into_iter().map(|row| row.name).collect::<Vec<_>>()
        }
    };
    for _ in 0..2 {
        assert!(modules(&b).await.is_empty());
    }
    a.upsert_module(&admin, Some("m1"), "api", "a1")
        .await
        .expect("module");
    assert_eq!(modules(&b).await, ["api"]);
    a.delete_module(&admin, "m1").await.expect("delete");
    assert!(modules(&b).await.is_empty());

    let types = |service: &ResourceService| {
        let service = service.clone();
        async move {
            let rows = service.list_cluster_types(&viewer()).await.expect("types");
            rows.into_iter()
                .map(|row| row.type_value)
                .collect::<Vec<_>>()
        }
    };
    for _ in 0..2 {
        assert!(types(&b).await.is_empty());
    }
    a.upsert_cluster_type(&admin, "web", "Web")
        .await
        .expect("type");
    assert_eq!(types(&b).await, ["Web"]);
    a.delete_cluster_type(&admin, "web").await.expect("delete");
    assert!(types(&b).await.is_empty());

    // `tad import` is a write too.
    let catalog = CatalogImport {
        product_lines: vec![ProductLineInput::new(Some("pl9"), "Imported").expect("input")],
        ..CatalogImport::default()
    };
    seen_at_once!(
        b,
        product_line_names,
        ["Line"],
        a.import_catalog(&admin, catalog).await.expect("import"),
        ["Line", "Imported"]
    );

    // A caller without a role is refused, though B keeps the answer.
    let nobody = Claims {
        roles: Vec::new(),
        ..viewer()
    };
    assert!(matches!(
        b.list_product_lines(&nobody).await,
        Err(ResourceError::Forbidden(_))
    ));
    assert!(matches!(
        b.query_clusters(&nobody, None, None, PageRequest::new(1, 50))
            .await,
        Err(ResourceError::Forbidden(_))
    ));
}

fn cluster(name: &str, env: &str, app: &str, deleting: bool) -> (String, String, String, bool) {
    (name.to_owned(), env.to_owned(), app.to_owned(), deleting)
}

fn host(
    ip: &str,
    name: &str,
    pinned: bool,
    clusters: &[&str],
) -> (String, String, bool, Vec<String>) {
    let clusters = clusters.iter().map(|name| (*name).to_owned()).collect();
    (ip.to_owned(), name.to_owned(), pinned, clusters)
}

async fn cluster_and_host_writes_through_one_replica_are_read_at_once_through_the_other(
    database: Database,
) {
    let Replicas { a, b, usage } = replicas(database).await;
    let admin = actor("root", "admin");
    let operator = with_token(actor("olga", "operator"));
    let internal = actor("jobs", "internal");
    seed(
        &a,
        &admin,
        &[("pl1", "Line")],
        &[("a1", "billing", "pl1")],
        &[("e1", "prod")],
    )
    .await;
    let claims = &operator.claims;

    let created = a
        .create_cluster(claims, None, cluster_fields("web"), WriteChannel::Aos)
        .await;
    let web = created.expect("create").row.id;
    seen_at_once!(
        b,
        clusters,
        [cluster("web", "prod", "billing", false)],
        a.update_cluster(claims, &web, cluster_fields("front"), WriteChannel::Aos)
            .await
            .expect("update"),
        [cluster("front", "prod", "billing", false)]
    );
    seen_at_once!(
        b,
        clusters,
        [cluster("front", "prod", "billing", false)],
        a.upsert_env(&admin, Some("e1"), "production", "")
            .await
            .expect("rename env"),
        [cluster("front", "production", "billing", false)]
    );

    let host_id = a
        .create_host(
            claims,
            None,
            host_fields("10.0.0.1", "h1"),
            WriteChannel::Aos,
        )
        .await
        .expect("host")
        .row
        .id;
    seen_at_once!(
        b,
        hosts,
        [host("10.0.0.1", "h1", false, &[])],
        a.update_host(
            claims,
            &host_id,
            host_fields("10.0.0.1", "renamed"),
            WriteChannel::Aos
        )
        .await
        .expect("update"),
        [host("10.0.0.1", "renamed", false, &[])]
    );
    seen_at_once!(
        b,
        hosts,
        [host("10.0.0.1", "renamed", false, &[])],
        a.bind_hosts(claims, &web, vec![host_id.clone()])
            .await
            .expect("bind"),
        [host("10.0.0.1", "renamed", false, &["front"])]
    );
    seen_at_once!(
        b,
        hosts,
        [host("10.0.0.1", "renamed", false, &["front"])],
        a.update_cluster(claims, &web, cluster_fields("edge"), WriteChannel::Aos)
            .await
            .expect("rename cluster"),
        [host("10.0.0.1", "renamed", false, &["edge"])]
    );
    seen_at_once!(
        b,
        hosts,
        [host("10.0.0.1", "renamed", false, &["edge"])],
        a.pin_host_key(&internal, &host_id, "SHA256:abc")
            .await
            .expect("pin"),
        [host("10.0.0.1", "renamed", true, &["edge"])]
    );
    seen_at_once!(
        b,
        hosts,
        [host("10.0.0.1", "renamed", true, &["edge"])],
        a.unbind_hosts(claims, &web, vec![host_id.clone()])
            .await
            .expect("unbind"),
        [host("10.0.0.1", "renamed", true, &[])]
    );
    seen_at_once!(
        b,
        hosts,
        [host("10.0.0.1", "renamed", true, &[])],
        a.delete_host(claims, &host_id, WriteChannel::Aos)
            .await
            .expect("delete"),
        Vec::<(String, String, bool, Vec<String>)>::new()
    );

    // A refused delete: while it was announced B saw the cluster being deleted, and did not keep
    // that page; once the announcement is withdrawn B reads the cluster standing.
    for _ in 0..2 {
        assert_eq!(
            clusters(&b).await,
            [cluster("edge", "production", "billing", false)]
        );
    }
    let refused = a.delete_cluster(&operator, &web, WriteChannel::Aos).await;
    assert!(
        matches!(refused, Err(ResourceError::Upstream(_))),
        "{refused:?}"
    );
    assert_eq!(*usage.seen_deleting.lock().expect("lock"), [true]);
    assert_eq!(
        clusters(&b).await,
        [cluster("edge", "production", "billing", false)]
    );
    // Deleted: gone at once.
    usage.unused.store(true, Ordering::SeqCst);
    a.delete_cluster(&operator, &web, WriteChannel::Aos)
        .await
        .expect("delete");
    assert!(clusters(&b).await.is_empty());
}

database_test_suite!(MIGRATIONS;
    catalog_writes_through_one_replica_are_read_at_once_through_the_other,
    cluster_and_host_writes_through_one_replica_are_read_at_once_through_the_other,
);
