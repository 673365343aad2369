//! Deployment configuration through the gateway (embedded services; PostgreSQL when
//! `TEST_DATABASE_URL` is set): templates (create, 4.1, 5.3, 4.5), instances (5.2, 5.5, 1.3 / 7.1,
//! 5.7, 5.9, 5.10), the 5.4 job-instance case, step clusters (5.6.2.1) and joint lines (1.4–1.7),
//! with every refusal naming the field or id at fault. One test, run as a sequence of sections
//! (one file an area) that hand each other the ids they made in a [`State`].

mod access;
mod clusters;
mod instances;
mod joint_lines;
mod parameters;
mod steps;
mod templates;
mod work_orders;

use crate::support;
use crate::support::fixtures::{application, env, module, post_all, product_line};

use serde_json::{Value, json};
use support::{Api, EmbeddedPlatform};
pub(crate) use support::{object_keys as keys, sorted};

const ADMIN_PASSWORD: &str = "jobs-admin-password";

/// What the sections made so far, for the sections after them.
#[derive(Default)]
struct State {
    template_id: String,
    rollback_id: String,
    /// The instances instance-a … instance-d.
    a: String,
    b: String,
    c: String,
    d: String,
    /// The cluster of environment M (`tums-m`).
    cluster_m: String,
    script_file_id: String,
    script_version_id: String,
    /// The uploaded app-config template (`httpd.conf.j2`): its bytes and its file id.
    j2: Vec<u8>,
    template_file_id: String,
    /// The app-config values saved for instance-a's step 0.
    values: Value,
    copy_id: String,
    line_id: String,
}

const INSTANCE_KEYS: &[&str] = &[
    "status",
    "product_line_name",
    "update_time",
    "application_id",
    "name",
    "mender",
    "job_template_name",
    "creator",
    "remark",
    "product_line_id",
    "env_name",
    "create_time",
    "job_template_id",
    "module_name",
    "application_name",
    "module_id",
    "env_id",
    "id",
    "deploy_type",
];

async fn catalog(admin: &Api) {
    post_all(
        admin,
        &[
            product_line("750", "服务整合平台"),
            application("5093", "消息总线(TUMS)", "750"),
            module("1460", "TUMS", "5093"),
            env("envM", "内测环境M"),
            env("envP", "生产环境"),
        ],
    )
    .await;
}

async fn instance(admin: &Api, name: &str, template_id: &str) -> String {
    let data = admin.post_ok("/api/app/jobinstance/create",
            &json!({"name": name, "env_id": "envM", "application_id": "5093", "job_template_id": template_id, "remark": "r"})).await;
    assert_eq!(keys(&data), vec!["id".to_owned()]);
    data["id"].as_str().expect("id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_instances_and_joint_lines_are_configured() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    catalog(&admin).await;
    let mut state = State::default();

    templates::create(&admin, &mut state).await;
    instances::create(&admin, &mut state).await;
    clusters::for_instance(&admin, &mut state).await;
    templates::methods(&admin, &state).await;
    clusters::bind_steps(&admin, &state).await;
    parameters::config(&admin, &state).await;
    steps::scripts(&admin, &mut state).await;
    parameters::app_config(&admin, &mut state).await;
    steps::artifacts(&admin, &state).await;
    steps::read_all(&admin, &state).await;
    steps::save_all(&admin, &state).await;
    parameters::required(&admin, &state).await;
    instances::copy(&admin, &mut state).await;
    joint_lines::create_and_save(&admin, &mut state).await;
    work_orders::save_and_export(&platform, &admin, &state).await;
    access::deletes(&admin, &state).await;
    access::viewer(&admin).await;

    platform.stop().await;
}
