//! Job instances: creation and refusals, lists and details (5.2, 5.5, 1.3 / 7.1, 5.10), and copies (5.7).

use crate::support;
use crate::support::fixtures::{application, module, post_all};
use crate::support::refusals;
use crate::support::{Api, assert_failure};
use serde_json::{Value, json};

use super::{INSTANCE_KEYS, State, instance, keys, sorted};

/// Instances: 5.2 creates four, refusals, 5.5 / 1.3 / 7.1 lists, and 5.10 / 7.2 details.
pub(super) async fn create(admin: &Api, state: &mut State) {
    let template_id = state.template_id.clone();
    let a = instance(admin, "instance-a", &template_id).await;
    let b = instance(admin, "instance-b", &template_id).await;
    let c = instance(admin, "instance-c", &template_id).await;
    let d = instance(admin, "instance-d", &template_id).await;
    admin
        .assert_refusals(
            "/api/app/jobinstance/create",
            &refusals![
                {"name": "x", "env_id": "ghost-env", "application_id": "5093", "job_template_id": template_id} => "env_not_found", "ghost-env";
                {"name": "x", "env_id": "envM", "application_id": "ghost-app", "job_template_id": template_id} => "application_not_found", "ghost-app";
                {"name": "x", "env_id": "envM", "application_id": "5093", "job_template_id": "ghost-tpl"} => "template_not_found", "ghost-tpl";
                {"env_id": "envM", "application_id": "5093", "job_template_id": template_id} => "missing_field", "name";
            ],
        )
        .await;
    let (_, page) = admin
        .get("/api/app/jobinstance/aos_json?name=instance-a&application_id=5093")
        .await;
    assert_eq!(page["count"], 1);
    let listed = &page["results"][0];
    assert_eq!(keys(listed), sorted(INSTANCE_KEYS));
    assert_eq!(listed["status"], "init");
    assert_eq!(listed["product_line_id"], "750");
    assert_eq!(listed["product_line_name"], "服务整合平台");
    assert_eq!(listed["application_name"], "消息总线(TUMS)");
    assert_eq!(listed["env_name"], "内测环境M");
    assert_eq!(listed["job_template_name"], "apache2");
    assert_eq!(listed["deploy_type"], "install");
    assert_eq!(
        (listed["module_id"].clone(), listed["module_name"].clone()),
        (json!("1460"), json!("TUMS")),
        "5.2 sends no module: the application's only module is the instance's"
    );
    assert_eq!(admin.get_ok("/api/app/jobinstance/jobi_list_one?product_line_id=750&application_id=5093&name=&unfiltered=true").await.as_array().map(Vec::len), Some(4));
    assert_eq!(
        admin
            .get_ok("/api/app/jobinstance/jobi_list_one")
            .await
            .as_array()
            .map(Vec::len),
        Some(4),
        "7.1 lists every instance"
    );

    // 5.10 / 7.2 on one URL
    let details = admin
        .get_ok(&format!("/api/app/jobinstance/{a}/details"))
        .await;
    let mut expected = sorted(INSTANCE_KEYS);
    expected.extend(
        [
            "methods",
            "current_flow_node",
            "process_status",
            "online_date",
            "halt_time",
            "excel_data",
            "regain_time",
            "work_number",
            "doc_id",
        ]
        .map(str::to_owned),
    );
    expected.sort();
    assert_eq!(keys(&details), expected);
    assert_eq!(details["doc_id"], Value::Null, "no work order yet");
    let (_, body) = admin.get("/api/app/jobinstance/ghost/details").await;
    assert!(assert_failure(&body, "instance_not_found").contains("ghost"));
    state.a = a;
    state.b = b;
    state.c = c;
    state.d = d;
}

/// 5.7: copying an instance to another environment or module.
pub(super) async fn copy(admin: &Api, state: &mut State) {
    let a = state.a.clone();
    post_all(
        admin,
        &[
            application("5094", "other", "750"),
            module("2000", "OTHER", "5094"),
        ],
    )
    .await;
    admin
        .assert_refusals(
            &format!("/api/app/jobinstance/{a}/copy"),
            &refusals![
                {"id": a, "name": "x", "module_id": "ghost-module"} => "module_not_found", "ghost-module";
                {"id": a, "name": "x", "module_id": "2000"} => "invalid_field", "another application";
            ],
        )
        .await;
    let copy = admin.post_ok(&format!("/api/app/jobinstance/{a}/copy"), &json!({"id": a, "name": "ppp_backup", "env_id": "envP", "module_id": "1460", "remark": "ssss"})).await;
    assert_eq!(copy["new_name"], "ppp_backup");
    let copy_id = copy["new_id"].as_str().expect("id").to_owned();
    let copied = admin
        .get_ok(&format!("/api/app/jobinstance/{copy_id}/details"))
        .await;
    assert_eq!(
        support::pick(&copied, &["env_id", "module_name", "remark"]),
        json!(["envP", "TUMS", "ssss"])
    );
    state.copy_id = copy_id;
}
