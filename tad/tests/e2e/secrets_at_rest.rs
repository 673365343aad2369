//! Secret parameter values at rest (SPEC §8): a `db_password` parameter (5.6.2.4) and a
//! `db_password` app-config value (5.6.2.3) are bound and a deployment runs on the TAD host; the
//! target receives both values, the read-back routes answer them as before (and no gateway keeps
//! those answers), and neither appears in clear anywhere the platform stores bytes (the SQLite
//! files of the data directory, or a dump of the PostgreSQL schemas). On PostgreSQL + Redis when `TEST_DATABASE_URL` /
//! `TEST_REDIS_URL` are set.

use crate::support;
use crate::support::fixtures::{
    app_catalog, bind_app_config, cluster_with_host, template_with_methods, upload_component,
    upload_config,
};

use serde_json::json;
use support::{EmbeddedPlatform, assert_success, schema_node_id as node};

const ADMIN_PASSWORD: &str = "sealing-admin-password";
/// The secret parameter value and the secret app-config value.
const DB_PASSWORD: &str = "param-Secret-7d41c2e9";
const CONFIG_PASSWORD: &str = "config-Secret-b83f0a55";
/// A plain value stored in the jobs database, to show the scan reads it.
const INSTANCE_NAME: &str = "sealing-instance-3c9e";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn secret_values_are_sealed_in_the_jobs_database_and_reach_the_target() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let out = tempfile::tempdir().expect("out dir");
    app_catalog(&admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;
    let cluster = cluster_with_host(&admin, &json!({"name": "shop-c", "env_id": "env1", "app_id": "app1"}), &json!({"host_IP": "127.0.0.2", "host_name": "h1", "ssh_user": "nobody",
                "ssh_port": "22", "ssh_passwd": "unused-ssh-password", "productLine_id": "pl1", "env_id": "env1"})).await;

    // The method copies its params.json where the test can read what the target received.
    let manifest = "component: {id: db, name: db, remark: db}\nmethod: {id: db1, name: install, remark: install db}\nentrypoint: run.sh\nparams:\n  - key: user\n    require: true\n  - key: db_password\n    require: true\n";
    let run_sh = format!(
        "cp params.json '{}/received-params.json'\n",
        out.path().display()
    );
    upload_component(&admin, manifest, run_sh.into_bytes()).await;

    // The app config, with a secret key of its own.
    let j2 = b"user={{ user }}\npassword={{ db_password }}\n".to_vec();
    let yml = b"- key: user\n- key: db_password\n".to_vec();
    let j2_id = upload_config(&admin, "app1", "db_config", "db.conf", &j2, &yml).await;

    let template = template_with_methods(&admin, "db-install", "app1", &[("db", "db1")]).await;
    let instance = admin.post_id("/api/app/jobinstance/create",
            &json!({"name": INSTANCE_NAME, "env_id": "env1", "application_id": "app1", "job_template_id": template})).await;
    let step = format!("/api/app/jobinstance/{instance}/db1/0");
    admin
        .post_ok(&format!("{step}/{cluster}/relation/cluster"), &json!({}))
        .await;

    // 5.6.2.4: the parameter values.
    let params_schema = admin.get_ok("/api/app/jobinstance/db1/config/desc").await;
    let params = json!({node(&params_schema, "user"): "shop", node(&params_schema, "db_password"): DB_PASSWORD});
    admin
        .post_ok(
            &format!("{step}/config/update"),
            &json!({"config_value": params}),
        )
        .await;
    // 5.6.2.3: the app-config values.
    let config_schema = bind_app_config(&admin, &step, &j2_id).await;
    let configs = json!({node(&config_schema, "user"): "shop", node(&config_schema, "db_password"): CONFIG_PASSWORD});
    admin.post_ok(&format!("{step}/relation/actemplate"),
            &json!({"file_id": j2_id, "groups": [{"dest": out.path().display().to_string(), "host_IP": [], "configs": configs, "targetname": "db.conf"}]})).await;

    // The read-back routes answer the values as they were saved (as they always did).
    let answered = admin.get_ok(&format!("{step}/config/value")).await;
    assert_eq!(answered[node(&params_schema, "db_password")], DB_PASSWORD);
    assert_eq!(
        admin
            .get_ok(&format!("{step}/actemplate/{j2_id}/config/value"))
            .await,
        json!([configs])
    );

    // Answers that hold a secret value are never kept by the gateway (read again: still none).
    admin.get_ok(&format!("{step}/config/value")).await;
    admin
        .get_ok(&format!("{step}/actemplate/{j2_id}/config/value"))
        .await;
    for route in [
        "/api/app/jobinstance/{id}/{cpm_id}/{sequence}/config/value",
        "/api/app/jobinstance/{id}/{cpm_id}/{sequence}/actemplate/{file_id}/config/value",
    ] {
        let kept = crate::read_caches::kept_answers(platform.url(), route, "kept").await;
        assert_eq!(kept, 0, "{route}: an answer with a secret was kept");
    }

    // 6.1 on the TAD host: the target gets the values.
    let execute_all = format!("/api/app/jobinstance/{instance}/executionall");
    let (_, body) = admin
        .post(&execute_all, &json!({"use_tad_host": true}))
        .await;
    let data = assert_success(&body);
    assert_eq!(data["status"], "success", "{body}");
    let run = data["execution_id"].as_str().expect("run").to_owned();
    let received: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("received-params.json")).expect("params copy"),
    )
    .expect("params json");
    assert_eq!(
        received,
        json!({"user": "shop", "db_password": DB_PASSWORD})
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("db.conf")).expect("rendered"),
        format!("user=shop\npassword={CONFIG_PASSWORD}\n")
    );
    // The run tree (read from the sealed snapshot) still answers the step.
    let (_, body) = admin.get(&format!("/api/executions/{run}")).await;
    assert!(body.to_string().contains("db1"), "{body}");

    // Every byte stored: the data directory (SQLite files and their WAL) or the PostgreSQL
    // schemas. The jobs database is in it (its instance name is), the secrets are not.
    let stored = platform.stored_bytes();
    assert!(contains(&stored, INSTANCE_NAME), "the jobs rows were read");
    for secret in [DB_PASSWORD, CONFIG_PASSWORD] {
        assert!(!contains(&stored, secret), "{secret} is stored in clear");
    }
    platform.stop().await;
}
