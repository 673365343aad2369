//! svc-resource rules against real databases: every case runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, OnceLock},
};

use common::{
    auth::{Actor, Claims},
    database_test_suite,
    db::Database,
};
use support::{actor, create_cluster, resource_service, seed, with_token};
use svc_resource::{
    AdminBootstrap, ClusterUsage, ResourceService,
    db::MIGRATIONS,
    service::{
        PageRequest, RecordKind, ResourceError, WriteChannel, clusters::ClusterView,
        hosts::HostFields, lookups::NameLookup,
    },
};

mod support;

/// The jobs service's side of a cluster delete, as this suite plays it: the clusters some step is
/// bound to, and what the resource rules answered about the cluster while they asked.
#[derive(Default)]
struct StepBindings {
    bound: Mutex<HashSet<String>>,
    seen_while_asked: Mutex<Vec<bool>>,
    service: OnceLock<ResourceService>,
}

#[async_trait::async_trait]
impl ClusterUsage for StepBindings {
    async fn check_unused(&self, _token: &str, cluster_id: &str) -> Result<(), ResourceError> {
        if let Some(service) = self.service.get() {
            let views = service
                .get_clusters(&actor("jobs", "viewer"), vec![cluster_id.to_owned()])
                .await?;
            let deleting = views.iter().any(|view| view.deleting);
            self.seen_while_asked.lock().expect("lock").push(deleting);
        }
        if self.bound.lock().expect("lock").contains(cluster_id) {
            return Err(ResourceError::Upstream(tonic::Status::failed_precondition(
                format!("cluster {cluster_id:?} is still used by job instance \"i\""),
            )));
        }
        Ok(())
    }
}

fn service(database: Database) -> ResourceService {
    service_with(database, Arc::new(StepBindings::default()))
}

fn service_with(database: Database, bindings: Arc<StepBindings>) -> ResourceService {
    let service = resource_service(database, bindings.clone());
    let _ = bindings.service.set(service.clone());
    service
}

async fn product_lines_are_created_updated_and_listed(database: Database) {
    let service = service(database);
    let admin = actor("alice", "admin");
    let created = service
        .upsert_product_line(&admin, Some("5000"), " OPENSRVC,USASTRAN ")
        .await
        .expect("create");
    assert_eq!(created.id, "5000");
    assert_eq!(created.name, "OPENSRVC,USASTRAN");
    assert_eq!(created.creator, "alice");
    let generated = service
        .upsert_product_line(&admin, None, "OPENTKT")
        .await
        .expect("create with new id");
    assert_eq!(generated.id.len(), 32);

    let bob = actor("bob", "admin");
    let renamed = service
        .upsert_product_line(&bob, Some("5000"), "OPENSRVC")
        .await
        .expect("update");
    assert_eq!(renamed.creator, "alice", "creator kept");
    assert_eq!(renamed.mender, "bob");
    assert_eq!(renamed.create_time, created.create_time);

    let listed = service
        .list_product_lines(&actor("vic", "viewer"))
        .await
        .expect("list");
    let mut names: Vec<(&str, &str)> = listed
        .iter()
        .map(|row| (row.id.as_str(), row.name.as_str()))
        .collect();
    names.sort();
    let mut expected = vec![("5000", "OPENSRVC"), (generated.id.as_str(), "OPENTKT")];
    expected.sort();
    assert_eq!(names, expected);
}

async fn concurrent_upserts_of_one_new_id_all_succeed_on_one_row(database: Database) {
    let service = service(database);
    let admin = actor("alice", "admin");
    let names: Vec<String> = (0..12).map(|index| format!("line {index}")).collect();
    let product_lines = futures::future::join_all(
        names
            .iter()
            .map(|name| service.upsert_product_line(&admin, Some("7000"), name)),
    )
    .await;
    let envs = futures::future::join_all(
        names
            .iter()
            .map(|name| service.upsert_env(&admin, Some("prod"), name, "")),
    )
    .await;
    let cluster_types = futures::future::join_all(
        names
            .iter()
            .map(|name| service.upsert_cluster_type(&admin, "vm", name)),
    )
    .await;
    for (index, name) in names.iter().enumerate() {
        let product_line = product_lines[index].as_ref().expect("product line upsert");
        assert_eq!(
            (product_line.id.as_str(), product_line.name.as_str()),
            ("7000", name.as_str())
        );
        let env = envs[index].as_ref().expect("env upsert");
        assert_eq!(env.id, "prod");
        let cluster_type = cluster_types[index].as_ref().expect("cluster type upsert");
        assert_eq!(cluster_type.type_value, *name);
    }
    let reader = actor("vic", "viewer");
    let listed = service.list_product_lines(&reader).await.expect("list");
    assert_eq!(listed.len(), 1, "one row: {listed:?}");
    assert!(
        names.contains(&listed[0].name),
        "the name of one of the writes"
    );
    assert_eq!(service.list_envs(&reader).await.expect("envs").len(), 1);
    assert_eq!(
        service
            .list_cluster_types(&reader)
            .await
            .expect("cluster types")
            .len(),
        1
    );
}

async fn applications_belong_to_existing_product_lines(database: Database) {
    let service = service(database);
    let admin = actor("alice", "admin");
    let missing = service
        .upsert_application(&admin, None, "app", "nope")
        .await
        .expect_err("unknown product line");
    assert!(
        matches!(missing, ResourceError::NotFound { kind: RecordKind::ProductLine, ref id } if id == "nope"),
        "{missing}"
    );
    let missing_field = service
        .upsert_application(&admin, None, "app", "")
        .await
        .expect_err("empty product line");
    assert!(matches!(
        missing_field,
        ResourceError::Missing {
            field: "product_line_id"
        }
    ));

    seed(
        &service,
        &admin,
        &[("750", "服务整合平台"), ("751", "other")],
        &[("5093", "业务A", "750"), ("5094", "业务B", "751")],
        &[],
    )
    .await;

    let of_750 = service
        .list_applications(&admin, Some("750"))
        .await
        .expect("list");
    assert_eq!(of_750.len(), 1);
    assert_eq!(of_750[0].id, "5093");
    assert_eq!(of_750[0].name, "业务A");
    assert_eq!(
        service
            .list_applications(&admin, None)
            .await
            .expect("all")
            .len(),
        2
    );
    let unknown = service
        .list_applications(&admin, Some("999"))
        .await
        .expect_err("unknown product line");
    assert!(unknown.to_string().contains("999"));

    let in_use = service
        .delete_product_line(&admin, "750")
        .await
        .expect_err("still has applications");
    let text = in_use.to_string();
    assert!(text.contains("业务A (5093)"), "{text}");
    assert_eq!(
        service
            .list_product_lines(&admin)
            .await
            .expect("list")
            .len(),
        2,
        "nothing deleted"
    );

    service
        .upsert_module(&admin, Some("m1"), "web", "5093")
        .await
        .expect("module");
    assert!(
        service.delete_application(&admin, "5093").await.is_err(),
        "module still there"
    );
    service
        .delete_module(&admin, "m1")
        .await
        .expect("delete module");
    service
        .delete_application(&admin, "5093")
        .await
        .expect("delete application");
    service
        .delete_product_line(&admin, "750")
        .await
        .expect("delete product line");
    let gone = service
        .delete_product_line(&admin, "750")
        .await
        .expect_err("already gone");
    assert!(matches!(gone, ResourceError::NotFound { .. }));
}

async fn envs_and_cluster_types_round_trip(database: Database) {
    let service = service(database);
    let admin = actor("admin", "admin");
    let env = service
        .upsert_env(
            &admin,
            Some("b2fa4164776a11e79ae8005056b361cd"),
            "预投产环境",
            "",
        )
        .await
        .expect("env");
    assert_eq!(env.creator, "admin");
    service
        .upsert_env(&admin, None, "预投产环境L", "UAT")
        .await
        .expect("env");
    let envs = service
        .list_envs(&actor("v", "viewer"))
        .await
        .expect("list");
    assert_eq!(envs.len(), 2);
    let uat = envs
        .iter()
        .find(|env| env.name == "预投产环境L")
        .expect("second env listed");
    assert_eq!(uat.remark, "UAT");
    service.delete_env(&admin, &env.id).await.expect("delete");
    assert_eq!(service.list_envs(&admin).await.expect("list").len(), 1);

    service
        .upsert_cluster_type(&admin, "ApacheCluster", "ApacheCluster")
        .await
        .expect("type");
    service
        .upsert_cluster_type(&admin, "ApacheCluster", "Apache")
        .await
        .expect("type update");
    let types = service.list_cluster_types(&admin).await.expect("list");
    assert_eq!(types.len(), 1);
    assert_eq!(types[0].type_value, "Apache");
    assert!(
        service
            .delete_cluster_type(&admin, "CDSCluster")
            .await
            .is_err()
    );
}

async fn only_admins_write_the_catalog(database: Database) {
    let service = service(database);
    for role in ["operator", "viewer", "reviewer"] {
        let error = service
            .upsert_product_line(&actor("eve", role), None, "x")
            .await
            .expect_err(role);
        assert!(
            matches!(error, ResourceError::Forbidden(_)),
            "{role}: {error}"
        );
        assert!(matches!(
            service.list_users(&actor("eve", role)).await,
            Err(ResourceError::Forbidden(_))
        ));
    }
    assert!(
        service
            .list_product_lines(&actor("eve", "viewer"))
            .await
            .expect("viewer reads")
            .is_empty()
    );
    let roleless = actor("nobody", "none");
    assert!(matches!(
        service.list_envs(&roleless).await,
        Err(ResourceError::Forbidden(_))
    ));
}

async fn first_start_creates_one_admin_who_can_log_in(database: Database) {
    let service = service(database);
    let AdminBootstrap::Created {
        generated_password: Some(password),
    } = service.ensure_admin(None).await.expect("bootstrap")
    else {
        panic!("the first start creates admin with a generated password");
    };
    assert_eq!(password.len(), 20);
    assert_eq!(
        service.ensure_admin(None).await.expect("second start"),
        AdminBootstrap::Existing
    );

    let (token, roles) = service.login("admin", &password).await.expect("login");
    assert_eq!(roles, vec!["admin".to_owned()]);
    let claims = service.jwt().verify(&token.token).expect("token verifies");
    assert_eq!(claims.username(), "admin");

    let wrong = service
        .login("admin", "not-the-password")
        .await
        .expect_err("wrong password");
    assert!(matches!(wrong, ResourceError::InvalidCredentials));
    let unknown = service
        .login("ghost", "whatever-password")
        .await
        .expect_err("unknown user");
    assert!(matches!(unknown, ResourceError::InvalidCredentials));
    assert!(matches!(
        service.login("", "x").await,
        Err(ResourceError::Missing { field: "username" })
    ));
}

async fn a_configured_admin_password_is_used(database: Database) {
    let service = service(database);
    assert_eq!(
        service
            .ensure_admin(Some("configured-secret"))
            .await
            .expect("bootstrap"),
        AdminBootstrap::Created {
            generated_password: None
        }
    );
    service
        .login("admin", "configured-secret")
        .await
        .expect("login with configured password");
}

async fn failed_logins_are_limited(database: Database) {
    let service = service(database);
    service
        .ensure_admin(Some("right-password"))
        .await
        .expect("bootstrap");
    for _ in 0..3 {
        assert!(matches!(
            service.login("admin", "wrong-password").await,
            Err(ResourceError::InvalidCredentials)
        ));
    }
    let limited = service
        .login("admin", "right-password")
        .await
        .expect_err("limited");
    assert!(
        matches!(limited, ResourceError::TooManyLoginAttempts(_)),
        "{limited}"
    );
}

async fn users_are_created_with_roles_and_unique_names(database: Database) {
    let service = service(database);
    let admin = actor("admin", "admin");
    let user = service
        .create_user(&admin, "olga", "operator-pass", &["operator".into()])
        .await
        .expect("create");
    assert_eq!(user.role_names(), vec!["operator".to_owned()]);
    assert!(!user.password_hash.contains("operator-pass"));
    let taken = service
        .create_user(&admin, "olga", "another-pass", &["viewer".into()])
        .await
        .expect_err("taken");
    assert!(matches!(taken, ResourceError::UsernameTaken(ref name) if name == "olga"));
    let short = service
        .create_user(&admin, "pat", "short", &["viewer".into()])
        .await
        .expect_err("short password");
    assert!(matches!(
        short,
        ResourceError::Invalid {
            field: "password",
            ..
        }
    ));
    let (_, roles) = service.login("olga", "operator-pass").await.expect("login");
    assert_eq!(roles, vec!["operator".to_owned()]);

    let upserted = service
        .upsert_user(&admin, "olga", None, &["viewer".into()])
        .await
        .expect("upsert keeps password");
    assert_eq!(upserted.id, user.id);
    service
        .login("olga", "operator-pass")
        .await
        .expect("password kept");
    assert!(
        service
            .upsert_user(&admin, "newbie", None, &["viewer".into()])
            .await
            .is_err(),
        "new user needs a password"
    );

    let self_delete = service
        .delete_user(&actor("olga", "admin"), &user.id)
        .await
        .expect_err("self");
    assert!(matches!(self_delete, ResourceError::CannotDeleteSelf(_)));
    service.delete_user(&admin, &user.id).await.expect("delete");
    assert!(service.list_users(&admin).await.expect("list").is_empty());
}

async fn clusters_and_hosts_keep_their_rules(database: Database) {
    let service = service(database);
    let admin = actor("admin", "admin");
    let (caller, cluster) = web_cluster(&service).await;
    let operator = caller.claims.clone();
    assert_eq!(cluster.row.cluster_type, "其它");
    assert_eq!(
        (cluster.env_name.as_str(), cluster.app_name.as_str()),
        ("prod", "app")
    );
    let host = service
        .create_host(
            &operator,
            None,
            deploy_host("10.1.1.1", "web1".into()),
            WriteChannel::Aos,
        )
        .await
        .expect("host");
    let sealed = host.row.ssh_password_sealed.clone().expect("sealed");
    assert!(!sealed.contains("pa55word"), "stored sealed");
    // Concurrent creates of one IP: one host, the others refused as taken (not a fault). The pool
    // is warmed first, so the creates meet on open connections at once.
    let warm_up = (0..8).map(|_| service.list_envs(&operator));
    drop(futures::future::join_all(warm_up).await);
    let racing = (0..8).map(|index| {
        service.create_host(
            &operator,
            None,
            deploy_host("10.1.1.9", format!("race{index}")),
            WriteChannel::Aos,
        )
    });
    let outcomes = futures::future::join_all(racing).await;
    assert_eq!(
        outcomes.iter().filter(|outcome| outcome.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    for outcome in outcomes.into_iter().filter(Result::is_err) {
        let error = outcome.expect_err("refused");
        assert!(
            matches!(
                error,
                ResourceError::Conflict(svc_resource::service::ConflictKind::HostIpTaken, _)
            ),
            "{error:?}"
        );
    }
    service
        .bind_hosts(&operator, &cluster.row.id, vec![host.row.id.clone()])
        .await
        .expect("bind");
    service
        .bind_hosts(&operator, &cluster.row.id, vec![host.row.id.clone()])
        .await
        .expect("bind twice");

    let refused = service
        .host_connections(&admin, &cluster.row.id)
        .await
        .expect_err("admins do not get secrets");
    assert!(matches!(refused, ResourceError::Forbidden(_)));
    let internal = Claims {
        sub: "service:jobs".into(),
        roles: vec![common::auth::INTERNAL_ROLE.into()],
        iat: 0,
        exp: i64::MAX,
        sid: None,
        api_token: None,
    };
    let connections = service
        .host_connections(&internal, &cluster.row.id)
        .await
        .expect("internal caller");
    assert_eq!(connections.len(), 1);
    assert_eq!(
        connections[0].password.as_deref(),
        Some("pa55word-in-clear")
    );
    assert_eq!(connections[0].row.ssh_port, 22);

    let names = service
        .lookup_names(
            &operator,
            NameLookup {
                env_ids: vec!["e1".into(), "ghost".into()],
                application_ids: vec!["a4".into()],
                product_line_ids: vec!["4".into()],
                module_ids: vec![],
            },
        )
        .await
        .expect("names");
    assert_eq!(names.envs.get("e1").map(String::as_str), Some("prod"));
    assert!(!names.envs.contains_key("ghost"));
    assert_eq!(
        names.applications.get("a4").map(String::as_str),
        Some("app")
    );

    let in_use = service
        .delete_host(&operator, &host.row.id, WriteChannel::Aos)
        .await
        .expect_err("bound");
    assert!(in_use.to_string().contains("web"), "{in_use}");
    let (count, views) = service
        .query_hosts(&operator, Some("web"), None, PageRequest::new(1, 10))
        .await
        .expect("query");
    assert_eq!(count, 1);
    assert_eq!(
        views[0].clusters,
        vec![(cluster.row.id.clone(), "web".to_owned())]
    );
    assert_eq!(views[0].apps, vec!["app".to_owned()]);
    let listed = service
        .list_clusters(&operator, Some("e1"), Some("a4"))
        .await
        .expect("list by env and app");
    assert_eq!(listed.len(), 1);
    assert!(
        service
            .list_clusters(&operator, Some("e1"), Some("other"))
            .await
            .expect("list")
            .is_empty()
    );
    service
        .delete_cluster(&caller, &cluster.row.id, WriteChannel::Aos)
        .await
        .expect("delete cluster");
    service
        .delete_host(&operator, &host.row.id, WriteChannel::Aos)
        .await
        .expect("host free now");
}

/// Host `host_name` at `host_ip` in product line 4 and env e1, user deploy with a password.
fn deploy_host(host_ip: &str, host_name: String) -> HostFields {
    HostFields {
        host_ip: host_ip.into(),
        host_name,
        ssh_user: "deploy".into(),
        ssh_password: Some("pa55word-in-clear".into()),
        product_line_id: "4".into(),
        env_id: "e1".into(),
        ..HostFields::default()
    }
}

/// Product line 4, application a4, env e1 and their cluster "web", made by operator olga.
async fn web_cluster(service: &ResourceService) -> (Actor, ClusterView) {
    seed(
        service,
        &actor("admin", "admin"),
        &[("4", "pl")],
        &[("a4", "app", "4")],
        &[("e1", "prod")],
    )
    .await;
    let operator = with_token(actor("olga", "operator"));
    let cluster = create_cluster(service, &operator, "web".into(), "a4").await;
    (operator, cluster)
}

/// Deletes of one cluster at once each answer deleted or `cluster_not_found`, never a fault
/// (two announcements of one delete do not collide on the key).
async fn concurrent_deletes_of_one_cluster_never_fail(database: Database) {
    let service = service(database);
    let (operator, cluster) = web_cluster(&service).await;
    let deletes =
        (0..8).map(|_| service.delete_cluster(&operator, &cluster.row.id, WriteChannel::Aos));
    for answer in futures::future::join_all(deletes).await {
        match answer {
            Ok(_) | Err(ResourceError::NotFound { .. }) => {}
            Err(other) => panic!("a concurrent delete failed: {other:?}"),
        }
    }
}

/// A cluster delete announces itself before it asks jobs (a binding made meanwhile sees
/// `deleting` and is taken back), passes jobs' refusal on, and withdraws the announcement.
async fn a_cluster_delete_asks_jobs_while_announced(database: Database) {
    let bindings = Arc::new(StepBindings::default());
    let service = service_with(database, bindings.clone());
    let (operator, cluster) = web_cluster(&service).await;
    assert!(!cluster.deleting);
    let id = cluster.row.id.clone();
    bindings.bound.lock().expect("lock").insert(id.clone());
    let refused = service
        .delete_cluster(&operator, &id, WriteChannel::Aos)
        .await
        .expect_err("a bound cluster stays");
    match refused {
        ResourceError::Upstream(status) => {
            assert_eq!(status.code(), tonic::Code::FailedPrecondition);
            assert!(status.message().contains("job instance"), "{status:?}");
        }
        other => panic!("jobs' refusal should pass on unchanged, got {other:?}"),
    }
    let kept = service
        .get_clusters(&operator.claims, vec![id.clone()])
        .await
        .expect("read");
    assert_eq!(kept.len(), 1, "the refused delete removed nothing");
    assert!(
        !kept[0].deleting,
        "the refused delete withdrew its announcement"
    );
    bindings.bound.lock().expect("lock").clear();
    service
        .delete_cluster(&operator, &id, WriteChannel::Aos)
        .await
        .expect("an unbound cluster goes");
    assert_eq!(
        *bindings.seen_while_asked.lock().expect("lock"),
        vec![true, true],
        "jobs is asked only while the deletion is announced"
    );
    assert!(
        service
            .get_clusters(&operator.claims, vec![id])
            .await
            .expect("read")
            .is_empty()
    );
}

database_test_suite!(MIGRATIONS;
    concurrent_deletes_of_one_cluster_never_fail,
    a_cluster_delete_asks_jobs_while_announced,
    clusters_and_hosts_keep_their_rules,
    product_lines_are_created_updated_and_listed,
    concurrent_upserts_of_one_new_id_all_succeed_on_one_row,
    applications_belong_to_existing_product_lines,
    envs_and_cluster_types_round_trip,
    only_admins_write_the_catalog,
    first_start_creates_one_admin_who_can_log_in,
    a_configured_admin_password_is_used,
    failed_logins_are_limited,
    users_are_created_with_roles_and_unique_names,
);
