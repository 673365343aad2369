//! Deployment configuration (contract 4.x, 5.x, 1.3–1.7, 7.x): job templates and their methods,
//! instances (create, list, details, copy, delete), joint lines (create, save, structure), work
//! orders (save, export); the step bindings are in `steps.rs`. Refusals name the field or id;
//! a viewer is refused. Leaves instances ready to run for the executions area.

use serde_json::{Value, json};

use super::{Payload, Recorder, artifact::Uploaded, steps};

/// What the executions area runs.
pub struct Configured {
    /// One step (the custom script on 127.0.0.1), ready.
    pub instance: String,
    /// The same, whose script fails.
    pub failing: String,
    /// A joint line of `instance`, then another ready instance.
    pub joint_line: String,
}

/// POSTs `body` to `path` as admin; answers the new record's `data.id`.
async fn id_of(recorder: &mut Recorder, path: &str, body: Value) -> String {
    recorder.post("admin", path, body).await.text_at("/data/id")
}

pub async fn play(recorder: &mut Recorder, uploaded: &Uploaded) -> Configured {
    let templates = templates(recorder).await;
    let cluster = recorder
        .get(
            "admin",
            "/api/resource/clusters/aos_json?app=app1&name=c-main",
        )
        .await
        .text_at("/results/0/id");
    let prod = id_of(
        recorder,
        "/api/resource/clusters/aos_create",
        json!({"name": "c-prod", "env_id": "env2", "app_id": "app1"}),
    )
    .await;
    let create = "/api/app/jobinstance/create";
    let instance = |name: &str, template: &str| json!({"name": name, "env_id": "env1", "application_id": "app1", "job_template_id": template, "remark": "r"});
    let mut ids = Vec::new();
    for (name, template) in [
        ("inst-a", &templates.deploy),
        ("inst-b", &templates.deploy),
        ("inst-c", &templates.deploy),
        ("inst-shop", &templates.shop),
    ] {
        ids.push(id_of(recorder, create, instance(name, template)).await);
    }
    let [a, b, c, shop]: [String; 4] = ids.try_into().expect("four instances");
    for body in [
        json!({"name": "x", "env_id": "ghost-env", "application_id": "app1", "job_template_id": templates.deploy}),
        json!({"name": "x", "env_id": "env1", "application_id": "ghost-app", "job_template_id": templates.deploy}),
        json!({"name": "x", "env_id": "env1", "application_id": "app1", "job_template_id": "ghost-tpl"}),
        json!({"env_id": "env1", "application_id": "app1", "job_template_id": templates.deploy}),
    ] {
        recorder.post("admin", create, body).await;
    }
    recorder
        .post("viewer", create, instance("v", &templates.deploy))
        .await;
    recorder.get_each("viewer", &[
        "/api/app/jobinstance/aos_json?name=inst-a&application_id=app1".to_owned(),
        "/api/app/jobinstance/aos_json?page=2&page_size=2".to_owned(),
        "/api/app/jobinstance/aos_json?page=x".to_owned(),
        "/api/app/jobinstance/jobi_list_one?product_line_id=pl1&application_id=app1&name=&unfiltered=true".to_owned(),
        "/api/app/jobinstance/jobi_list_one".to_owned(),
        format!("/api/app/jobinstance/{a}/details"),
        "/api/app/jobinstance/ghost/details".to_owned(),
        format!("/api/resource/clusters/{a}/app1/select/envapp"),
        format!("/api/resource/clusters/{a}/app2/select/envapp"),
    ]).await;

    let steps = steps::Steps {
        cluster: &cluster,
        prod: &prod,
        uploaded,
    };
    steps.play(recorder, &a, &b, &shop).await;
    let failing = id_of(
        recorder,
        create,
        instance("inst-failing", &templates.deploy),
    )
    .await;
    steps.ready(recorder, &failing, "fail now").await;

    copies(recorder, &a).await;
    let joint_line = joint_lines(recorder, [&a, &b, &c]).await;
    work_orders(recorder, &c).await;
    deletes(recorder, &templates, &a).await;
    Configured {
        instance: a,
        failing,
        joint_line,
    }
}

struct Templates {
    deploy: String,
    shop: String,
    rollback: String,
    spare: String,
}

async fn templates(recorder: &mut Recorder) -> Templates {
    let create = "/api/app/jobtemplate/create";
    let deploy = id_of(
        recorder,
        create,
        json!({"name": "deploy", "remark": "sss", "application_id": "app1"}),
    )
    .await;
    let rollback = id_of(
        recorder,
        create,
        json!({"name": "deploy-rollback", "deploy_type": "rollback", "application_id": "app1", "jobt_rollback_id": deploy})).await;
    let shop = id_of(
        recorder,
        create,
        json!({"name": "shop-tpl", "application_id": "app1"}),
    )
    .await;
    let spare = id_of(
        recorder,
        create,
        json!({"name": "spare", "application_id": 5000}),
    )
    .await;
    for body in [
        json!({"name": "x", "application_id": "ghost"}),
        json!({"name": "x", "application_id": "app1", "deploy_type": "sideways"}),
        json!({"name": "", "application_id": "app1"}),
        json!({"name": "x", "application_id": "app1", "jobt_rollback_id": "nope"}),
    ] {
        recorder.post("admin", create, body).await;
    }
    recorder
        .post(
            "viewer",
            create,
            json!({"name": "v", "application_id": "app1"}),
        )
        .await;

    let graded = |id: &str| format!("/api/app/jobtemplate/{id}/graded");
    let cu1 =
        |sequence: u32| json!({"component_id": "custom", "method_id": "cu1", "sequence": sequence});
    for (role, path, methods) in [
        ("admin", graded(&deploy), json!([cu1(0)])),
        (
            "admin",
            graded(&shop),
            json!([{"component_id": "shop", "method_id": "shop1", "sequence": 0}, cu1(1)]),
        ),
        ("admin", graded(&rollback), json!([cu1(0)])),
        (
            "admin",
            graded(&deploy),
            json!([{"component_id": "nope", "method_id": "cu1", "sequence": 0}]),
        ),
        (
            "admin",
            graded(&deploy),
            json!([{"component_id": "custom", "method_id": "zz9", "sequence": 0}]),
        ),
        ("admin", graded(&deploy), json!([cu1(0), cu1(0)])),
        ("admin", graded("ghost"), json!([cu1(0)])),
        ("viewer", graded(&deploy), json!([cu1(0)])),
    ] {
        recorder.post(role, &path, json!({"method": methods})).await;
    }
    recorder
        .post("admin", &graded(&spare), json!({"methods": "not a list"}))
        .await;
    recorder
        .get_each(
            "viewer",
            &[
                "/api/app/jobtemplate/aos_json?name=deploy&application_id=app1".to_owned(),
                "/api/app/jobtemplate/aos_json".to_owned(),
                "/api/app/jobtemplate/aos_json?page=2&page_size=1".to_owned(),
                "/api/app/jobtemplate/ordinary/select".to_owned(),
                format!("/api/app/jobtemplate/{deploy}/graded_content"),
                format!("/api/app/jobtemplate/{shop}/graded_content"),
                "/api/app/jobtemplate/ghost/graded_content".to_owned(),
            ],
        )
        .await;
    Templates {
        deploy,
        shop,
        rollback,
        spare,
    }
}

async fn copies(recorder: &mut Recorder, a: &str) {
    let copy = format!("/api/app/jobinstance/{a}/copy");
    recorder.post_each(&copy, vec![
        (
            "admin",
            json!({"id": a, "name": "x", "module_id": "ghost-module"}),
        ),
        (
            "admin",
            json!({"id": a, "name": "", "env_id": "env2", "module_id": "m1"}),
        ),
        (
            "viewer",
            json!({"id": a, "name": "v", "env_id": "env2", "module_id": "m1"}),
        ),
        (
            "admin",
            json!({"id": a, "name": "inst-a-copy", "env_id": "env2", "module_id": "m1", "remark": "copied"}),
        ),
    ]).await;
    recorder
        .post(
            "admin",
            "/api/app/jobinstance/ghost/copy",
            json!({"name": "x", "module_id": "m1"}),
        )
        .await;
}

/// Joint lines 1.7, 1.6, 1.4, 1.5 with their refusals; answers the line of `a` then `b`.
async fn joint_lines(recorder: &mut Recorder, [a, b, c]: [&str; 3]) -> String {
    let create = "/api/app/jointline/create";
    let mut lines = Vec::new();
    for (name, remark) in [("release", ""), ("drawn", "r")] {
        let body = json!({"name": name, "remark": remark, "productline_id": "pl1"});
        lines.push(recorder.post("admin", create, body).await.text_at("/data"));
    }
    let [line, drawn]: [String; 2] = lines.try_into().expect("two lines");
    recorder
        .post_each(
            create,
            vec![
                ("admin", json!({"name": "x", "productline_id": "999"})),
                ("admin", json!({"productline_id": "pl1"})),
                ("viewer", json!({"name": "v", "productline_id": "pl1"})),
            ],
        )
        .await;
    let save = "/api/app/jointline/save";
    let graph = json!({"id": drawn, "joint": [
        {"jobi_id": a, "sequence": 0, "parent": [], "top": 125, "left": 256.99998474121093},
        {"jobi_id": b, "sequence": 1, "parent": [0], "top": 155, "left": 558},
        {"jobi_id": c, "sequence": 2, "parent": ["0"], "top": 185.5, "left": 558},
    ]});
    recorder
        .post("admin", "/api/app/jointline/save/", graph)
        .await;
    let release = json!({"id": line, "joint": [
        {"jobi_id": a, "sequence": 0, "parent": [], "top": 10, "left": 10},
        {"jobi_id": b, "sequence": 1, "parent": [0], "top": 20, "left": 10},
    ]});
    recorder.post("admin", save, release).await;
    recorder.post_each(save, vec![
        (
            "admin",
            json!({"id": drawn, "joint": [{"jobi_id": a, "sequence": 0, "parent": [1]}, {"jobi_id": b, "sequence": 1, "parent": [0]}]}),
        ),
        (
            "admin",
            json!({"id": drawn, "joint": [{"jobi_id": a, "sequence": 0, "parent": [7]}]}),
        ),
        (
            "admin",
            json!({"id": drawn, "joint": [{"jobi_id": a, "sequence": 0}, {"jobi_id": b, "sequence": 0}]}),
        ),
        (
            "admin",
            json!({"id": drawn, "joint": [{"jobi_id": "ghost-instance", "sequence": 0}]}),
        ),
        ("admin", json!({"id": "ghost-line", "joint": []})),
        ("viewer", json!({"id": drawn, "joint": []})),
    ]).await;
    recorder
        .get_each(
            "viewer",
            &[
                "/api/app/jointline/aos_json?&name=re&productline_id=pl1".to_owned(),
                "/api/app/jointline/aos_json".to_owned(),
                format!("/api/app/jointline/get_structure/{drawn}/"),
                format!("/api/app/jointline/get_structure/{line}"),
                "/api/app/jointline/get_structure/ghost".to_owned(),
            ],
        )
        .await;
    line
}

/// 7.3 / 7.2 / export on instance `c`.
async fn work_orders(recorder: &mut Recorder, c: &str) {
    let form = json!({"SERVICE_NAME": "消息总线(TUMS)", "CHANGE_MODE": "上线", "CONTACTS": "sss", "halt_time": "2019-1-09 12:48",
        "regain_time": "2019-1-09 12:48", "ONLINE_OPERATION_PROCESS": [{"OPERATION_CONTENT": "deploy tums", "SERVICE_IP": "10.5.91.37"}],
        "TYPES": [{"RESOURCE_ID": "81712", "HOST_NAME": "vm-app"}]});
    let save = "/api/app/jobinstance/online/process/save";
    recorder
        .get(
            "admin",
            &format!("/api/app/jobinstance/{c}/online/process/export"),
        )
        .await;
    let doc = recorder
        .post(
            "admin",
            save,
            json!({"job_instance_id": c, "doc_id": "", "excel_data": form, "app_id": "app1"}),
        )
        .await
        .text_at("/data/doc_id");
    let mut changed = form.clone();
    changed["CONTACTS"] = json!("changed contact");
    recorder
        .post_each(
            save,
            vec![
                (
                    "admin",
                    json!({"job_instance_id": c, "doc_id": doc, "excel_data": changed}),
                ),
                (
                    "admin",
                    json!({"job_instance_id": c, "doc_id": "other-doc", "excel_data": form}),
                ),
                (
                    "admin",
                    json!({"job_instance_id": c, "excel_data": "not an object"}),
                ),
                (
                    "admin",
                    json!({"job_instance_id": c, "excel_data": form, "app_id": "999"}),
                ),
                (
                    "admin",
                    json!({"job_instance_id": "ghost", "excel_data": form}),
                ),
                ("viewer", json!({"job_instance_id": c, "excel_data": form})),
            ],
        )
        .await;
    recorder
        .get("viewer", &format!("/api/app/jobinstance/{c}/details"))
        .await;
    // The workbook is recorded by md5: it is built from the saved form only.
    recorder
        .get(
            "viewer",
            &format!("/api/app/jobinstance/{c}/online/process/export"),
        )
        .await;
    recorder
        .get("admin", "/api/app/jobinstance/ghost/online/process/export")
        .await;
}

/// Deletes refused while in use (naming the user), by POST (4.5), unknown ids, a viewer.
async fn deletes(recorder: &mut Recorder, templates: &Templates, a: &str) {
    let copy = recorder
        .get("admin", "/api/app/jobinstance/aos_json?name=inst-a-copy")
        .await
        .text_at("/results/0/id");
    for (role, method, path) in [
        ("admin", "DELETE", format!("/api/app/jobinstance/{a}")),
        (
            "admin",
            "DELETE",
            // Used by one instance only: several users are named in the database's order,
            // which differs between SQLite and PostgreSQL.
            format!("/api/app/jobtemplate/{}", templates.shop),
        ),
        ("viewer", "DELETE", format!("/api/app/jobinstance/{copy}")),
        ("admin", "DELETE", format!("/api/app/jobinstance/{copy}?")),
        ("admin", "DELETE", format!("/api/app/jobinstance/{copy}")),
        ("admin", "DELETE", "/api/app/jobinstance/ghost".to_owned()),
        (
            "viewer",
            "POST",
            format!("/api/app/jobtemplate/{}", templates.spare),
        ),
        (
            "admin",
            "POST",
            format!("/api/app/jobtemplate/{}", templates.spare),
        ),
        (
            "admin",
            "DELETE",
            format!("/api/app/jobtemplate/{}", templates.spare),
        ),
        ("admin", "DELETE", "/api/app/jobtemplate/ghost".to_owned()),
        (
            "admin",
            "GET",
            format!("/api/app/jobtemplate/{}/graded_content", templates.rollback),
        ),
    ] {
        let payload = if method == "POST" {
            Payload::json(json!({}))
        } else {
            Payload::None
        };
        recorder.call(role, method, &path, payload).await;
    }
}
