//! The audit trail of svc-jobs (issue 20): each write and run action, called once through the
//! jobs service (asking a real svc-resource and svc-artifact over gRPC on 127.0.0.1), appends
//! exactly one event naming the action, the record and the caller, and the chain verifies; a
//! write whose event cannot be appended leaves no change. Every case runs on SQLite, and on
//! PostgreSQL when `TEST_DATABASE_URL` is set.

mod approvals;
mod runs;
mod writes;

use std::{sync::Arc, time::Duration};

use common::{
    audit::{self, Event, Filter},
    auth::{Actor, Claims, JwtKeys},
    cache::InMemoryCache,
    config::ExecutionOptions,
    crypto::CredentialCipher,
    database_test_suite,
    db::{Database, DbConnection, DbError, testing::TestDatabase},
    storage::{ObjectStorage, StorageTarget},
};
use svc_jobs::{
    JobsService,
    artifact::ArtifactDirectory,
    db::MIGRATIONS,
    execution::{Engine, EngineSettings},
    resource::ResourceDirectory,
    sealed::Sealer,
};
use svc_resource::{
    ResourceService, ResourceSettings,
    service::{WriteChannel, clusters::ClusterFields, hosts::HostFields},
};

use approvals::*;
use runs::*;
use writes::*;

const JWT_SECRET: &[u8] = b"test-secret-test-secret-test-secret!";
const TEST_CREDENTIAL_KEY: &[u8] =
    b"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/// The product line, application, environment and cluster (with one host) svc-resource knows.
const PRODUCT_LINE: &str = "pl1";
const APP: &str = "app1";
const ENV: &str = "env1";
const CLUSTER: &str = "cluster1";
/// The built-in method of svc-artifact's catalog (runs only the step's scripts).
const COMPONENT: &str = "custom";
const METHOD: &str = "cu1";

/// A gRPC server of one case; stopped when dropped.
struct Server {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `routes` on 127.0.0.1.
async fn serve(routes: tonic::service::Routes) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_routes(routes)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .expect("gRPC server");
    });
    Server { url, task }
}

fn channel_to(url: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(url.to_owned())
        .expect("url")
        .connect_lazy()
}

/// No cluster is deleted here.
struct NoClusterDeletes;

#[async_trait::async_trait]
impl svc_resource::ClusterUsage for NoClusterDeletes {
    async fn check_unused(
        &self,
        _token: &str,
        cluster_id: &str,
    ) -> Result<(), svc_resource::service::ResourceError> {
        Err(svc_resource::service::ResourceError::Unavailable(format!(
            "no jobs service to ask about cluster {cluster_id:?}"
        )))
    }
}

fn admin_claims() -> Claims {
    Claims {
        sub: "admin".to_owned(),
        roles: vec!["admin".to_owned()],
        iat: 0,
        exp: i64::MAX,
        sid: None,
        api_token: None,
    }
}

/// svc-resource with [`PRODUCT_LINE`], [`APP`], [`ENV`] and [`CLUSTER`] holding one host, with
/// [`ENV`] protected when `protected`.
async fn start_resource_governed(database: Database, protected: bool) -> Server {
    let service = ResourceService::new(
        database,
        Arc::new(InMemoryCache::new()),
        JwtKeys::new(JWT_SECRET),
        CredentialCipher::from_hex_key(TEST_CREDENTIAL_KEY).expect("test key"),
        ResourceSettings {
            token_ttl: Duration::from_secs(600),
            login_attempts_per_minute: 10,
            ssh_timeout: Duration::from_secs(5),
        },
        Arc::new(NoClusterDeletes),
    );
    let admin = admin_claims();
    service
        .upsert_product_line(&admin, Some(PRODUCT_LINE), "product line")
        .await
        .expect("product line");
    service
        .upsert_application(&admin, Some(APP), "app one", PRODUCT_LINE)
        .await
        .expect("application");
    service
        .upsert_env(&admin, Some(ENV), "env one", "")
        .await
        .expect("env");
    let cluster = ClusterFields {
        name: "cluster one".into(),
        env_id: ENV.into(),
        app_id: APP.into(),
        ..ClusterFields::default()
    };
    service
        .create_cluster(&admin, Some(CLUSTER), cluster, WriteChannel::Admin)
        .await
        .expect("cluster");
    let host = HostFields {
        host_ip: "10.9.8.7".into(),
        host_name: "h1".into(),
        ssh_user: "deploy".into(),
        ssh_password: Some("host-Secret-1".into()),
        product_line_id: PRODUCT_LINE.into(),
        env_id: ENV.into(),
        ..HostFields::default()
    };
    let host = service
        .create_host(&admin, Some("host1"), host, WriteChannel::Admin)
        .await
        .expect("host");
    service
        .bind_hosts(&admin, CLUSTER, vec![host.row.id])
        .await
        .expect("bind");
    if protected {
        let fields = svc_resource::service::governance::GovernanceFields {
            protected: true,
            ..Default::default()
        };
        let input = svc_resource::service::governance::GovernanceInput::new(ENV, fields);
        service
            .set_env_governance(&admin, input)
            .await
            .expect("protect");
    }
    serve(tonic::service::Routes::new(svc_resource::grpc_service(
        service,
    )))
    .await
}

/// svc-artifact over its own database and a local store under `dir`.
async fn start_artifact(database: Database, resource_url: &str, dir: &std::path::Path) -> Server {
    let storage = ObjectStorage::open(&StorageTarget::Local {
        root: dir.join("objects"),
    })
    .expect("store");
    let service = svc_artifact::ArtifactService::new(
        database,
        storage,
        JwtKeys::new(JWT_SECRET),
        svc_artifact::ResourceDirectory::new(channel_to(resource_url)),
        svc_artifact::ArtifactSettings {
            spool_dir: dir.join("tmp"),
            max_upload_bytes: 1 << 20,
            max_unpacked_bytes: 1 << 20,
            max_entries: 100,
            max_unpack_ratio: 200,
        },
    );
    serve(tonic::service::Routes::new(svc_artifact::grpc_service(
        service,
    )))
    .await
}

/// The jobs service of one case, with the services it asks.
struct Fixture {
    service: JobsService,
    database: Database,
    _servers: (Server, Server),
    _databases: (TestDatabase, TestDatabase),
    _dir: tempfile::TempDir,
}

/// The jobs service over `database`, asking a running svc-resource and svc-artifact.
async fn fixture(database: Database) -> Fixture {
    fixture_governed(database, false).await
}

/// As [`fixture`], with [`ENV`] protected when `protected`.
async fn fixture_governed(database: Database, protected: bool) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let resource_database = TestDatabase::sqlite(&svc_resource::db::MIGRATIONS);
    let artifact_database = TestDatabase::sqlite(&svc_artifact::db::MIGRATIONS);
    let resource = start_resource_governed(resource_database.database.clone(), protected).await;
    let artifact = start_artifact(
        artifact_database.database.clone(),
        &resource.url,
        dir.path(),
    )
    .await;
    let resource_directory = ResourceDirectory::new(channel_to(&resource.url));
    let artifact_directory = ArtifactDirectory::new(channel_to(&artifact.url));
    let engine = Engine::new(
        database.clone(),
        resource_directory.clone(),
        artifact_directory.clone(),
        Arc::new(common::bus::InMemoryBus::new()),
        JwtKeys::new(JWT_SECRET),
        common::read_cache::ReadCache::new(
            "jobs",
            Arc::new(InMemoryCache::new()),
            Duration::from_secs(5),
        ),
        EngineSettings {
            options: ExecutionOptions {
                parallel_hosts: 4,
                parallel_uploads: 4,
                lease_secs: 30,
                host_timeout_secs: 60,
                work_dir: dir.path().join("work").display().to_string(),
                webhook_urls: Vec::new(),
                drain_secs: 1,
                approval_ttl_hours: 24,
                schedule_fire_missed: true,
            },
            ssh_timeout: Duration::from_secs(5),
            webhook_key: None,
            when_idle: None,
            sealer: Sealer::new(CredentialCipher::from_hex_key(TEST_CREDENTIAL_KEY).expect("key")),
        },
    )
    .expect("engine");
    Fixture {
        service: JobsService::new(
            database.clone(),
            resource_directory,
            artifact_directory,
            engine,
        ),
        database,
        _servers: (resource, artifact),
        _databases: (resource_database, artifact_database),
        _dir: dir,
    }
}

/// A caller with a real token (the other services verify it).
fn actor(username: &str, role: &str) -> Actor {
    let keys = JwtKeys::new(JWT_SECRET);
    let issued = keys
        .issue(username, &[role.to_owned()], Duration::from_secs(3600))
        .expect("token");
    Actor {
        claims: keys.verify(&issued.token).expect("verify"),
        token: issued.token,
    }
}

impl Fixture {
    /// Every event, oldest first.
    async fn events(&self) -> Vec<Event> {
        let (_, mut events) = self
            .database
            .run(|connection: &mut DbConnection| {
                Ok::<_, DbError>(audit::query(connection, &Filter::default(), 1000)?)
            })
            .await
            .expect("audit events");
        events.reverse();
        events
    }

    /// The one event appended since `before` events were there (fails on none or several),
    /// checked to be `action` on `kind` `id` by `actor`, with a chain that verifies.
    async fn one_new_event(
        &self,
        before: usize,
        action: &str,
        kind: &str,
        id: &str,
        actor: &str,
    ) -> Event {
        let events = self.events().await;
        let new: Vec<&Event> = events.iter().skip(before).collect();
        let actions: Vec<&str> = new.iter().map(|event| event.action.as_str()).collect();
        assert_eq!(actions, vec![action], "events after {before}: {new:#?}");
        let event = new[0].clone();
        assert_eq!(
            (
                event.object_kind.as_str(),
                event.object_id.as_str(),
                event.actor.as_str()
            ),
            (kind, id, actor),
            "{event:#?}"
        );
        assert_eq!(event.outcome(), "ok");
        self.verify(events.len()).await;
        event
    }

    /// Runs `write`, which must succeed, and answers what it answered and the one event it
    /// appended (checked as [`Fixture::one_new_event`] checks it).
    async fn recorded<T, E: std::fmt::Debug>(
        &self,
        write: impl std::future::Future<Output = Result<T, E>>,
        [action, kind, id, actor]: [&str; 4],
    ) -> (T, Event) {
        let before = self.count().await;
        let answer = write.await.expect(action);
        let event = self.one_new_event(before, action, kind, id, actor).await;
        (answer, event)
    }

    /// The chain verifies and holds `events` events.
    async fn verify(&self, events: usize) {
        let verified = self
            .database
            .run(|connection: &mut DbConnection| Ok::<_, DbError>(audit::verify(connection)?))
            .await
            .expect("verify");
        assert_eq!(
            verified.map(|verified| verified.events),
            Ok(i64::try_from(events).expect("count"))
        );
    }

    async fn count(&self) -> usize {
        self.events().await.len()
    }
}

/// The changes of `event` as `field: before -> after`.
fn changes_of(event: &Event) -> Vec<String> {
    let changes: Vec<serde_json::Value> = serde_json::from_str(&event.changes).expect("changes");
    changes
        .iter()
        .map(|change| {
            let text = |value: &serde_json::Value| value.as_str().unwrap_or("-").to_owned();
            format!(
                "{}: {} -> {}",
                change["field"].as_str().unwrap_or_default(),
                text(&change["before"]),
                text(&change["after"])
            )
        })
        .collect()
}

database_test_suite!(MIGRATIONS;
    configuration_writes_append_one_event_each,
    run_actions_append_one_event_each,
    protected_runs_wait_for_another_users_approval,
);

/// A write whose audit event cannot be appended (a trigger refuses it) answers an error and
/// leaves neither its change nor an event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_event_fails_leaves_no_change() {
    let test_database = TestDatabase::sqlite(&MIGRATIONS);
    let fixture = fixture(test_database.database.clone()).await;
    let admin = actor("admin", "admin");
    fixture
        .database
        .run(|connection: &mut DbConnection| {
            use diesel::RunQueryDsl;
            diesel::sql_query(
                "CREATE TRIGGER audit_broken BEFORE INSERT ON audit_events \
                 BEGIN SELECT RAISE(ABORT, 'audit broken'); END;",
            )
            .execute(connection)?;
            Ok::<_, DbError>(())
        })
        .await
        .expect("trigger");
    let refused = fixture
        .service
        .add_webhook(&admin, "https://hooks.example.com/tad")
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let webhooks = fixture.service.list_webhooks(&admin).await.expect("list");
    assert!(webhooks.is_empty(), "{webhooks:?}");
    let joint = fixture
        .service
        .create_joint_line(&admin, "line", "", PRODUCT_LINE)
        .await;
    assert!(joint.is_err(), "{joint:?}");
    let page = common::paging::PageRequest::new(1, 10);
    let (count, _) = fixture
        .service
        .query_joint_lines(&admin, None, None, page)
        .await
        .expect("query");
    assert_eq!(count, 0);
    assert!(fixture.events().await.is_empty());
}
