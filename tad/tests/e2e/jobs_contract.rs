//! Deployment configuration through the gateway (embedded services; PostgreSQL when
//! `TEST_DATABASE_URL` is set): templates (create, 4.1, 5.3, 4.5), instances (5.2, 5.5, 1.3 / 7.1,
//! 5.7, 5.9, 5.10), the 5.4 job-instance case, step clusters (5.6.2.1) and joint lines (1.4–1.7),
//! with every refusal naming the field or id at fault.

use crate::support;

use serde_json::{Value, json};
use support::{
    Api, EmbeddedPlatform, assert_failure, assert_success, md5_hex, post_multipart, tar_gz,
};

const ADMIN_PASSWORD: &str = "jobs-admin-password";

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    keys
}

fn sorted(list: &[&str]) -> Vec<String> {
    let mut list: Vec<String> = list.iter().map(|key| (*key).to_owned()).collect();
    list.sort();
    list
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
    for (path, body) in [
        (
            "/api/admin/productlines",
            json!({"id": "750", "name": "服务整合平台"}),
        ),
        (
            "/api/admin/applications",
            json!({"id": "5093", "name": "消息总线(TUMS)", "product_line_id": "750"}),
        ),
        (
            "/api/admin/modules",
            json!({"id": "1460", "name": "TUMS", "application_id": "5093"}),
        ),
        (
            "/api/admin/envs",
            json!({"id": "envM", "name": "内测环境M"}),
        ),
        ("/api/admin/envs", json!({"id": "envP", "name": "生产环境"})),
    ] {
        let (_, answer) = admin.post(path, &body).await;
        assert_success(&answer);
    }
}

async fn instance(admin: &Api, name: &str, template_id: &str) -> String {
    let (_, body) = admin
        .post(
            "/api/app/jobinstance/create",
            &json!({"name": name, "env_id": "envM", "application_id": "5093", "job_template_id": template_id, "remark": "r"}),
        )
        .await;
    let data = assert_success(&body);
    assert_eq!(keys(&data), vec!["id".to_owned()]);
    data["id"].as_str().expect("id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_instances_and_joint_lines_are_configured() {
    let platform = EmbeddedPlatform::start(ADMIN_PASSWORD, &[]).await;
    let admin = Api::new(platform.url())
        .login("admin", ADMIN_PASSWORD)
        .await;
    catalog(&admin).await;

    // Templates
    let (_, body) = admin
        .post(
            "/api/app/jobtemplate/create",
            &json!({"name": "apache2", "remark": "sss", "application_id": 5093}),
        )
        .await;
    let template = assert_success(&body);
    assert_eq!(
        (
            template["type"].clone(),
            template["status"].clone(),
            template["deploy_type"].clone()
        ),
        (json!("public"), json!("available"), json!("install"))
    );
    let template_id = template["id"].as_str().expect("id").to_owned();
    let (_, body) = admin
        .post("/api/app/jobtemplate/create", &json!({"name": "apache2-rollback", "deploy_type": "rollback", "application_id": "5093", "jobt_rollback_id": template_id}))
        .await;
    let rollback = assert_success(&body);
    assert_eq!(rollback["jobt_rollback_name"], "apache2");
    for (payload, code, named) in [
        (
            json!({"name": "x", "application_id": "ghost"}),
            "application_not_found",
            "ghost",
        ),
        (
            json!({"name": "x", "application_id": "5093", "deploy_type": "sideways"}),
            "invalid_field",
            "deploy_type",
        ),
        (
            json!({"name": "", "application_id": "5093"}),
            "missing_field",
            "name",
        ),
        (
            json!({"name": "x", "application_id": "5093", "jobt_rollback_id": "nope"}),
            "template_not_found",
            "nope",
        ),
    ] {
        let (_, body) = admin.post("/api/app/jobtemplate/create", &payload).await;
        assert!(assert_failure(&body, code).contains(named), "{body}");
    }
    let (status, page) = admin
        .get("/api/app/jobtemplate/aos_json?name=apache&application_id=5093")
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["count"], 2);
    assert_eq!(
        keys(&page["results"][0]),
        sorted(&[
            "status",
            "update_time",
            "name",
            "mender",
            "creator",
            "remark",
            "create_time",
            "jobt_rollback_name",
            "jobt_rollback_id",
            "type",
            "id",
            "deploy_type"
        ])
    );
    let (_, body) = admin.get("/api/app/jobtemplate/ordinary/select").await;
    let select = assert_success(&body);
    assert_eq!(
        keys(&select[0]),
        sorted(&[
            "id",
            "creator",
            "mender",
            "create_time",
            "update_time",
            "remark",
            "name",
            "type",
            "status",
            "deploy_type"
        ])
    );
    let selectable: Vec<&Value> = select
        .as_array()
        .expect("templates")
        .iter()
        .map(|template| &template["name"])
        .collect();
    assert_eq!(
        selectable,
        [&json!("apache2")],
        "5.3 leaves the rollback template out"
    );

    // Instances
    let a = instance(&admin, "instance-a", &template_id).await;
    let b = instance(&admin, "instance-b", &template_id).await;
    let c = instance(&admin, "instance-c", &template_id).await;
    let d = instance(&admin, "instance-d", &template_id).await;
    for (payload, code, named) in [
        (
            json!({"name": "x", "env_id": "ghost-env", "application_id": "5093", "job_template_id": template_id}),
            "env_not_found",
            "ghost-env",
        ),
        (
            json!({"name": "x", "env_id": "envM", "application_id": "ghost-app", "job_template_id": template_id}),
            "application_not_found",
            "ghost-app",
        ),
        (
            json!({"name": "x", "env_id": "envM", "application_id": "5093", "job_template_id": "ghost-tpl"}),
            "template_not_found",
            "ghost-tpl",
        ),
        (
            json!({"env_id": "envM", "application_id": "5093", "job_template_id": template_id}),
            "missing_field",
            "name",
        ),
    ] {
        let (_, body) = admin.post("/api/app/jobinstance/create", &payload).await;
        assert!(assert_failure(&body, code).contains(named), "{body}");
    }
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
    let (_, body) = admin.get("/api/app/jobinstance/jobi_list_one?product_line_id=750&application_id=5093&name=&unfiltered=true").await;
    assert_eq!(assert_success(&body).as_array().map(Vec::len), Some(4));
    let (_, body) = admin.get("/api/app/jobinstance/jobi_list_one").await;
    assert_eq!(
        assert_success(&body).as_array().map(Vec::len),
        Some(4),
        "7.1 lists every instance"
    );

    // 5.10 / 7.2 on one URL
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{a}/details"))
        .await;
    let details = assert_success(&body);
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

    // 5.4 for a job instance: clusters of its environment and application
    admin
        .post(
            "/api/admin/cluster-types",
            &json!({"key": "ApacheCluster", "value": "ApacheCluster"}),
        )
        .await;
    let (_, body) = admin
        .post(
            "/api/resource/clusters/aos_create",
            &json!({"name": "tums-m", "env_id": "envM", "app_id": "5093"}),
        )
        .await;
    let cluster_m = assert_success(&body)["id"].as_str().expect("id").to_owned();
    let (_, body) = admin
        .post(
            "/api/resource/clusters/aos_create",
            &json!({"name": "tums-p", "env_id": "envP", "app_id": "5093"}),
        )
        .await;
    let cluster_p = assert_success(&body)["id"].as_str().expect("id").to_owned();
    let (_, body) = admin
        .get(&format!("/api/resource/clusters/{a}/5093/select/envapp"))
        .await;
    assert_eq!(
        assert_success(&body),
        json!([{"remark": "", "id": cluster_m, "name": "tums-m"}])
    );
    let (_, body) = admin
        .get(&format!("/api/resource/clusters/{a}/9999/select/envapp"))
        .await;
    assert_eq!(
        assert_success(&body),
        json!([]),
        "another application than the instance's has none of its clusters"
    );
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{a}/cu1/0/{cluster_p}/relation/cluster?format=json"),
            &json!({}),
        )
        .await;
    assert!(assert_failure(&body, "cluster_outside_instance").contains("tums-p"));
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{a}/cu1/0/{cluster_m}/relation/cluster"),
            &json!({}),
        )
        .await;
    assert!(
        assert_failure(&body, "step_not_found").contains("cu1"),
        "a template without methods has no steps"
    );
    for path in [
        format!("/api/app/jobinstance/{a}/cu1/x/{cluster_m}/relation/cluster"),
        format!("/api/app/jobinstance/{a}/cu1/-1/artifact/json"),
    ] {
        let (status, body) = if path.ends_with("cluster") {
            admin.post(&path, &json!({})).await
        } else {
            admin.get(&path).await
        };
        assert_eq!(status, 200, "{path}");
        assert!(
            assert_failure(&body, "invalid_field").contains("sequence"),
            "{path}: {body}"
        );
    }

    // 4.2 / 4.3: the template gets its methods; existing instances follow
    let graded = format!("/api/app/jobtemplate/{template_id}/graded");
    let (_, body) = admin
        .post(&graded, &json!({"method": [{"component_id": "custom", "method_id": "cu1", "sequence": 0}, {"component_id": "custom", "method_id": "cu1", "sequence": 1}]}))
        .await;
    assert_eq!(
        assert_success(&body),
        json!({"id": template_id, "is_rollback": false})
    );
    let (_, body) = admin
        .post(
            &graded,
            &json!({"method": [{"component_id": "nope", "method_id": "cu1", "sequence": 0}]}),
        )
        .await;
    assert!(assert_failure(&body, "component_not_found").contains("nope"));
    let (_, body) = admin
        .post(
            &graded,
            &json!({"method": [{"component_id": "custom", "method_id": "zz9", "sequence": 0}]}),
        )
        .await;
    assert!(assert_failure(&body, "method_not_found").contains("zz9"));
    let (_, body) = admin.post(&graded, &json!({"method": [{"component_id": "custom", "method_id": "cu1", "sequence": 0}, {"component_id": "custom", "method_id": "cu1", "sequence": 0}]})).await;
    assert!(assert_failure(&body, "invalid_field").contains("sequence"));
    let (_, body) = admin
        .get(&format!(
            "/api/app/jobtemplate/{template_id}/graded_content"
        ))
        .await;
    let graded_content = assert_success(&body);
    assert_eq!(
        graded_content.as_array().map(Vec::len),
        Some(2),
        "refused replacements changed nothing"
    );
    assert_eq!(
        keys(&graded_content[0]),
        sorted(&[
            "remark",
            "component_id",
            "name",
            "sequence",
            "path",
            "id",
            "component_name"
        ])
    );
    assert_eq!(
        (
            graded_content[1]["id"].clone(),
            graded_content[1]["sequence"].clone()
        ),
        (json!("cu1"), json!(1))
    );
    assert_eq!(
        (
            graded_content[0]["component_name"].clone(),
            graded_content[0]["name"].clone(),
            graded_content[0]["path"].clone()
        ),
        (json!("custom"), json!("custom-script"), json!("")),
        "path is a string, empty for a method without a package"
    );
    let (_, body) = admin
        .post(
            &format!(
                "/api/app/jobtemplate/{}/graded",
                rollback["id"].as_str().expect("id")
            ),
            &json!({"method": []}),
        )
        .await;
    assert_eq!(assert_success(&body)["is_rollback"], true);

    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{a}/details"))
        .await;
    let methods = assert_success(&body)["methods"].clone();
    assert_eq!(methods.as_array().map(Vec::len), Some(2));
    assert_eq!(
        keys(&methods[0]),
        sorted(&[
            "comp_id",
            "cluster_name",
            "cpm_name",
            "sequence",
            "cpm_id",
            "cluster_remark",
            "comp_name",
            "status",
            "cluster_id",
            "path",
            "is_display_script"
        ])
    );
    assert_eq!(
        (
            methods[0]["comp_name"].clone(),
            methods[0]["is_display_script"].clone()
        ),
        (json!("custom"), json!(true))
    );
    for sequence in [0, 1] {
        let (_, body) = admin.post(&format!("/api/app/jobinstance/{a}/cu1/{sequence}/{cluster_m}/relation/cluster?format=json"), &json!({})).await;
        assert_eq!(assert_success(&body), json!(true));
    }
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{a}/details"))
        .await;
    let details = assert_success(&body);
    assert_eq!(details["status"], "ready", "every step has a cluster");
    assert_eq!(
        (
            details["methods"][1]["cluster_name"].clone(),
            details["methods"][1]["cluster_id"].clone()
        ),
        (json!("tums-m"), json!(cluster_m))
    );
    // 8.1.9 and the admin route refuse to delete a cluster a step is bound to, naming the instance.
    for path in [
        format!("/api/resource/clusters/aos_deletes/{cluster_m}"),
        format!("/api/admin/clusters/{cluster_m}"),
    ] {
        let (_, body) = admin.delete(&path).await;
        assert!(
            assert_failure(&body, "cluster_in_use").contains("instance-a"),
            "{path}: {body}"
        );
    }
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{a}/details"))
        .await;
    assert_eq!(
        assert_success(&body)["methods"][1]["cluster_name"],
        "tums-m",
        "the cluster is still there"
    );

    // 5.8.2.5 / 5.6.2.4 / 5.8.2.6: parameters, checked against the method's schema
    let (_, body) = admin.get("/api/app/jobinstance/cu1/config/desc").await;
    assert_eq!(
        assert_success(&body),
        json!([]),
        "the custom script takes no parameters"
    );
    let (_, body) = admin.get("/api/app/jobinstance/zz9/config/desc").await;
    assert!(assert_failure(&body, "method_not_found").contains("zz9"));
    let params = format!("/api/app/jobinstance/{a}/cu1/0/config/update");
    let (_, body) = admin
        .post(
            &params,
            &json!({"config_value": {"apa101": [{"apa10101": "8087"}]}}),
        )
        .await;
    assert!(
        assert_failure(&body, "invalid_values").contains("apa101"),
        "{body}"
    );
    let (_, body) = admin.post(&params, &json!({"config_value": {}})).await;
    assert_eq!(assert_success(&body), json!(true));
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{a}/cu1/0/config/value"))
        .await;
    assert_eq!(assert_success(&body), json!({"histor_data": false}));
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{a}/cu1/7/config/update"),
            &json!({"config_value": {}}),
        )
        .await;
    assert_failure(&body, "step_not_found");

    // 5.6.2.5 / 5.8.2.7: scripts, by script file id, on hosts of the step's cluster
    let (_, body) = admin
        .post("/api/resource/hosts/aos_create", &json!({"host_IP": "10.5.91.37", "host_name": "tums1", "ssh_user": "deploy", "ssh_passwd": "pw-123456",
            "productLine_id": "750", "env_id": "envM"}))
        .await;
    let host_id = assert_success(&body)["id"].as_str().expect("id").to_owned();
    admin
        .post(
            &format!("/api/resource/clusters/{cluster_m}/aos_bind"),
            &json!({"hosts": [host_id]}),
        )
        .await;
    let script = b"#!/bin/sh\necho deployed\n".to_vec();
    let (_, body) = post_multipart(
        &admin,
        "/api/artifact/script/aos_upload",
        &[("nexus.sh", script.clone())],
        &[
            ("app_id", "5093".into()),
            ("name", "nexus".into()),
            (
                "file_md5",
                json!({"nexus.sh": md5_hex(&script)}).to_string(),
            ),
        ],
    )
    .await;
    let uploaded = assert_success(&body);
    let script_file_id = uploaded[0]["file_id"].as_str().expect("file id").to_owned();
    let script_version_id = uploaded[0]["version_id"]
        .as_str()
        .expect("version id")
        .to_owned();
    let scripts_path = format!("/api/app/jobinstance/{a}/cu1/0/relation/script");
    let script_entry = |host: &str, execute_type: &str, id: &str| json!({"script_id": "", "scripts_data": [{"id": id, "dest": "/opt/tums", "host_IP": [host], "parameter": "--now", "execute_type": execute_type}]});
    let (_, body) = admin
        .post(
            &scripts_path,
            &script_entry("10.5.91.99", "shell", &script_file_id),
        )
        .await;
    assert!(
        assert_failure(&body, "invalid_field").contains("10.5.91.99"),
        "{body}"
    );
    let (_, body) = admin
        .post(
            &scripts_path,
            &script_entry("10.5.91.37", "perl", &script_file_id),
        )
        .await;
    assert!(assert_failure(&body, "invalid_field").contains("execute_type"));
    let (_, body) = admin
        .post(
            &scripts_path,
            &script_entry("10.5.91.37", "shell", "ghost-file"),
        )
        .await;
    assert!(
        body["success"] == false
            && body["info"]
                .as_str()
                .unwrap_or_default()
                .contains("ghost-file"),
        "{body}"
    );
    let (_, body) = admin
        .post(
            &scripts_path,
            &script_entry("10.5.91.37", "shell", &script_file_id),
        )
        .await;
    assert_eq!(assert_success(&body), json!(true));
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{a}/cu1/0/script/json"))
        .await;
    assert_eq!(
        assert_success(&body),
        json!([{"execute_type": "shell", "dest": "/opt/tums", "script_file_name": "nexus.sh", "host_IP": ["10.5.91.37"],
                "script_name": "nexus", "script_file_id": script_file_id, "script_id": script_version_id, "parameter": "--now"}])
    );
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{a}/cu1/0/config/value"))
        .await;
    assert_eq!(
        assert_success(&body),
        json!({"histor_data": false}),
        "saving scripts keeps the parameters"
    );

    // 5.6.2.3 / 5.8.2.3 / 5.8.2.4: an app-config template and its groups
    let j2 = b"{% for p in ports %}Listen {{ p.port }}\n{% endfor %}".to_vec();
    let yml = b"- key: ports\n  type: list-map\n  require: true\n  children:\n    - key: port\n      rule: '^[0-9]+$'\n".to_vec();
    let (_, body) = post_multipart(
        &admin,
        "/api/artifact/configure/aos_upload",
        &[
            ("httpd.conf.j2", j2.clone()),
            ("httpd.conf.yml", yml.clone()),
        ],
        &[
            ("app_id", "5093".into()),
            ("name", "apache_config".into()),
            ("version", "1".into()),
            (
                "file_md5",
                json!({"httpd.conf.j2": md5_hex(&j2), "httpd.conf.yml": md5_hex(&yml)}).to_string(),
            ),
        ],
    )
    .await;
    let template_file_id = assert_success(&body)[0]["id"]
        .as_str()
        .expect("j2 file id")
        .to_owned();
    let (_, body) = admin
        .get(&format!(
            "/api/app/jobinstance/{a}/cu1/0/actemplate/config/desc"
        ))
        .await;
    assert_eq!(assert_success(&body), json!([]), "no template bound yet");
    let (_, body) = admin
        .get(&format!(
            "/api/app/jobinstance/{a}/cu1/0/actemplate/{template_file_id}/config/value"
        ))
        .await;
    assert_eq!(assert_success(&body), json!([]));
    // The schema's node ids key the values, as the legacy UI does.
    let configs_path = format!("/api/app/jobinstance/{a}/cu1/0/relation/actemplate");
    let (_, body) = admin
        .post(&configs_path, &json!({"file_id": template_file_id, "groups": [{"dest": "/etc/httpd", "host_IP": ["10.5.91.37"], "configs": {}, "targetname": "httpd.conf"}]}))
        .await;
    assert!(
        assert_failure(&body, "invalid_values").contains("ports"),
        "a required value is missing: {body}"
    );
    let (_, body) = admin
        .get(&format!(
            "/api/app/jobinstance/{a}/cu1/0/actemplate/config/desc"
        ))
        .await;
    assert_eq!(
        assert_success(&body),
        json!([]),
        "refused saves change nothing"
    );
    let schema_answer = {
        let (_, body) = admin
            .post(&configs_path, &json!({"file_id": "ghost-j2", "groups": []}))
            .await;
        assert_eq!(body["success"], false, "{body}");
        assert!(
            body["info"]
                .as_str()
                .unwrap_or_default()
                .contains("ghost-j2"),
            "{body}"
        );
        // Bind with valid values: learn the node ids from the schema of the uploaded template.
        let (_, saved) = admin
            .post(
                &configs_path,
                &json!({"file_id": template_file_id, "groups": []}),
            )
            .await;
        assert_eq!(assert_success(&saved), json!(true));
        let (_, body) = admin
            .get(&format!(
                "/api/app/jobinstance/{a}/cu1/0/actemplate/config/desc"
            ))
            .await;
        assert_success(&body)
    };
    assert_eq!(schema_answer[0]["key"], "ports");
    assert_eq!(schema_answer[0]["type"], "list-map");
    assert_eq!(schema_answer[0]["children"][0]["key"], "port");
    let ports_id = schema_answer[0]["id"].as_str().expect("node id").to_owned();
    let port_id = schema_answer[0]["children"][0]["id"]
        .as_str()
        .expect("node id")
        .to_owned();
    let bad_values = json!({ports_id.clone(): [{port_id.clone(): "eighty"}]});
    let (_, body) = admin
        .post(&configs_path, &json!({"file_id": template_file_id, "groups": [{"dest": "/etc/httpd", "host_IP": ["10.5.91.37"], "configs": bad_values}]}))
        .await;
    assert!(
        assert_failure(&body, "invalid_values").contains("port"),
        "the rule is checked: {body}"
    );
    let values = json!({ports_id: [{port_id: "8087"}]});
    let (_, body) = admin
        .post(&configs_path, &json!({"file_id": template_file_id, "groups": [{"dest": "/etc/httpd", "host_IP": ["10.5.91.99"], "configs": values}]}))
        .await;
    assert!(assert_failure(&body, "invalid_field").contains("10.5.91.99"));
    let (_, body) = admin
        .post(&configs_path, &json!({"file_id": template_file_id, "groups": [{"dest": "/etc/httpd", "host_IP": ["10.5.91.37"], "configs": values}]}))
        .await;
    assert_eq!(assert_success(&body), json!(true));
    let (_, body) = admin
        .get(&format!(
            "/api/app/jobinstance/{a}/cu1/0/actemplate/{template_file_id}/config/value"
        ))
        .await;
    assert_eq!(assert_success(&body), json!([values]));

    // 5.6.2.2 / 5.8.2.2: files pushed to the step's hosts; the j2 uploaded above is a stored file
    let artifacts_path = format!("/api/app/jobinstance/{a}/cu1/1/relation/artifact");
    let (_, body) = admin
        .post(
            &artifacts_path,
            &json!({"artifacts": [{"file_id": "ghost-file", "dest": "/opt", "host_IP": []}]}),
        )
        .await;
    assert!(
        body["success"] == false
            && body["info"]
                .as_str()
                .unwrap_or_default()
                .contains("ghost-file"),
        "{body}"
    );
    let (_, body) = admin
        .post(
            &artifacts_path,
            &json!({"artifacts": [{"file_id": template_file_id, "dest": "", "host_IP": []}]}),
        )
        .await;
    assert!(assert_failure(&body, "missing_field").contains("dest"));
    let (_, body) = admin
        .post(
            &artifacts_path,
            &json!({"artifacts": [{"file_id": script_file_id, "dest": "/opt", "host_IP": []}]}),
        )
        .await;
    assert!(
        assert_failure(&body, "invalid_field").contains("not a file of an artifact version"),
        "a script's file is bound as a script, not an artifact: {body}"
    );
    let (_, body) = admin
        .post(&artifacts_path, &json!({"artifacts": [{"file_id": template_file_id, "dest": "/opt/conf", "host_IP": ["10.5.91.37"]}]}))
        .await;
    assert_eq!(
        assert_success(&body),
        json!([true, {"id": a, "name": "instance-a"}])
    );
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{a}/cu1/1/artifact/json"))
        .await;
    let bound = assert_success(&body);
    assert_eq!(
        keys(&bound[0]),
        sorted(&[
            "status",
            "artifact_name",
            "artifact_version_name",
            "download_path",
            "dest",
            "artifact_id",
            "host_IP",
            "filename",
            "version",
            "file_id",
            "artifact_version_id",
            "md5"
        ])
    );
    assert_eq!(
        (
            bound[0]["artifact_name"].clone(),
            bound[0]["version"].clone()
        ),
        (json!("apache_config"), json!("1"))
    );
    assert_eq!(
        (bound[0]["filename"].clone(), bound[0]["md5"].clone()),
        (json!("httpd.conf.j2"), json!(md5_hex(&j2)))
    );
    assert!(
        bound[0]["download_path"]
            .as_str()
            .expect("path")
            .ends_with(&format!("/api/artifact/files/{template_file_id}/download"))
    );

    // 5.8.1: every read-back of a step at once, at both URLs
    for path in [
        format!("/api/app/jobinstance/{a}/cu1/0/alldata/read"),
        format!("/api/jobinstance/{a}/cu1/0/%E5%87%BA"),
    ] {
        let (status, body) = admin
            .post(
                &path,
                &json!({"env_id": "", "app_id": "", "file_id": "", "jurisdiction": [""]}),
            )
            .await;
        assert_eq!(status, 200, "{path}");
        let all = assert_success(&body);
        assert_eq!(
            keys(&all),
            sorted(&[
                "clusters",
                "artifact",
                "actemplate_desc",
                "actemplate_value",
                "config_desc",
                "config_value",
                "script"
            ])
        );
        assert_eq!(
            all["clusters"],
            json!([{"remark": "", "id": cluster_m, "name": "tums-m"}])
        );
        assert_eq!(all["actemplate_value"], json!([values]));
        assert_eq!(all["actemplate_desc"][0]["key"], "ports");
        assert_eq!(all["config_desc"], json!([]));
        assert_eq!(all["config_value"], json!({"histor_data": false}));
        assert_eq!(all["script"][0]["script_name"], "nexus");
        assert_eq!(
            all["artifact"],
            json!([]),
            "artifacts were bound to step 1, not 0"
        );
    }

    // 5.6.1: everything of a step in one request, checked against the new cluster, all or nothing
    let all_path = |instance: &str, sequence: u32| {
        format!("/api/app/jobinstance/{instance}/cu1/{sequence}/relation/alldata")
    };
    let bad = json!({"cluster": {"cluster_id": cluster_m}, "scripts": {"scripts_data": [{"id": script_file_id, "dest": "/x", "host_IP": [], "execute_type": "perl"}]}});
    let (_, body) = admin.post(&all_path(&c, 1), &bad).await;
    assert!(assert_failure(&body, "invalid_field").contains("execute_type"));
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{c}/details"))
        .await;
    assert_eq!(
        assert_success(&body)["methods"][1]["cluster_id"],
        Value::Null,
        "nothing of a refused request landed"
    );
    let everything = json!({
        "cluster": {"cluster_id": cluster_m},
        "artifacts": [{"file_id": template_file_id, "dest": "/opt/conf", "host_IP": ["10.5.91.37"]}],
        "actemplates": {"file_id": template_file_id, "groups": [{"dest": "/etc/httpd", "host_IP": ["10.5.91.37"], "configs": values, "targetname": "httpd.conf"}]},
        "config": {"config_value": {}},
        "scripts": {"scripts_data": [{"id": script_file_id, "dest": "/opt/tums", "host_IP": ["10.5.91.37"], "parameter": "", "execute_type": "python"}]}
    });
    let (_, body) = admin.post(&all_path(&c, 0), &everything).await;
    assert_eq!(assert_success(&body), json!(true));
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{c}/cu1/0/alldata/read"),
            &json!({}),
        )
        .await;
    let all = assert_success(&body);
    assert_eq!(all["artifact"][0]["file_id"], template_file_id.as_str());
    assert_eq!(all["actemplate_value"], json!([values]));
    assert_eq!(all["script"][0]["execute_type"], "python");
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{c}/details"))
        .await;
    assert_eq!(
        assert_success(&body)["status"],
        "init",
        "step 1 has no cluster yet"
    );
    let (_, body) = admin
        .post(
            &all_path(&c, 1),
            &json!({"cluster": {"cluster_id": cluster_m}}),
        )
        .await;
    assert_eq!(assert_success(&body), json!(true));
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{c}/details"))
        .await;
    assert_eq!(assert_success(&body)["status"], "ready");
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{c}/cu1/0/alldata/read"),
            &json!({}),
        )
        .await;
    assert_eq!(
        assert_success(&body)["script"][0]["execute_type"],
        "python",
        "absent parts stay as they are"
    );

    // A method with required parameters: an instance is ready only once they are saved
    let manifest = "component: {id: apa, name: apache, remark: apache组件}\nmethod: {id: apa1, name: port, remark: apache监听端口方法}\nentrypoint: run.sh\nparams:\n  - key: ports\n    type: list-map\n    remark: 待添加端口信息\n    require: true\n    children:\n      - key: port\n        rule: '^[0-9]+$'\n";
    let package = tar_gz(&[
        ("method.yml", manifest.as_bytes().to_vec()),
        ("run.sh", b"echo port\n".to_vec()),
    ]);
    let (_, body) =
        post_multipart(&admin, "/api/component/upload", &[("file", package)], &[]).await;
    assert_success(&body);
    let (_, body) = admin
        .post(
            "/api/app/jobtemplate/create",
            &json!({"name": "apache-port", "application_id": "5093"}),
        )
        .await;
    let port_template = assert_success(&body)["id"].as_str().expect("id").to_owned();
    let (_, body) = admin
        .post(
            &format!("/api/app/jobtemplate/{port_template}/graded"),
            &json!({"method": [{"component_id": "apa", "method_id": "apa1", "sequence": 0}]}),
        )
        .await;
    assert_success(&body);
    let (_, body) = admin
        .get(&format!(
            "/api/app/jobtemplate/{port_template}/graded_content"
        ))
        .await;
    let graded = assert_success(&body);
    assert_eq!(
        (graded[0]["name"].clone(), graded[0]["remark"].clone()),
        (json!("port"), json!("apache监听端口方法"))
    );
    assert!(
        graded[0]["path"]
            .as_str()
            .expect("package path")
            .contains("/api/artifact/files/")
    );
    let e = instance(&admin, "instance-e", &port_template).await;
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{e}/apa1/0/{cluster_m}/relation/cluster"),
            &json!({}),
        )
        .await;
    assert_success(&body);
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{e}/details"))
        .await;
    assert_eq!(
        assert_success(&body)["status"],
        "init",
        "required parameters are not saved yet"
    );
    let (_, body) = admin.get("/api/app/jobinstance/apa1/config/desc").await;
    let port_schema = assert_success(&body);
    assert_eq!(
        (
            port_schema[0]["key"].clone(),
            port_schema[0]["require"].clone()
        ),
        (json!("ports"), json!(true))
    );
    let (ports_node, port_node) = (
        port_schema[0]["id"].as_str().expect("id").to_owned(),
        port_schema[0]["children"][0]["id"]
            .as_str()
            .expect("id")
            .to_owned(),
    );
    let params_e = format!("/api/app/jobinstance/{e}/apa1/0/config/update");
    let (_, body) = admin.post(&params_e, &json!({"config_value": {}})).await;
    assert!(
        assert_failure(&body, "invalid_values").contains("ports"),
        "{body}"
    );
    let (_, body) = admin
        .post(
            &params_e,
            &json!({"config_value": {ports_node.clone(): [{port_node.clone(): "http"}]}}),
        )
        .await;
    assert!(
        assert_failure(&body, "invalid_values").contains("port"),
        "{body}"
    );
    let (_, body) = admin
        .post(
            &params_e,
            &json!({"config_value": {ports_node.clone(): [{port_node.clone(): "8087"}]}}),
        )
        .await;
    assert_eq!(assert_success(&body), json!(true));
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{e}/apa1/0/config/value"))
        .await;
    assert_eq!(
        assert_success(&body),
        json!({"histor_data": false, ports_node: [{port_node: "8087"}]})
    );
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{e}/details"))
        .await;
    let details_e = assert_success(&body);
    assert_eq!(details_e["status"], "ready");
    assert_eq!(
        (
            details_e["methods"][0]["comp_name"].clone(),
            details_e["methods"][0]["cpm_name"].clone()
        ),
        (json!("apache"), json!("apache监听端口方法"))
    );

    // 5.7
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{a}/copy"),
            &json!({"id": a, "name": "x", "module_id": "ghost-module"}),
        )
        .await;
    assert!(assert_failure(&body, "module_not_found").contains("ghost-module"));
    for (path, payload) in [
        (
            "/api/admin/applications",
            json!({"id": "5094", "name": "other", "product_line_id": "750"}),
        ),
        (
            "/api/admin/modules",
            json!({"id": "2000", "name": "OTHER", "application_id": "5094"}),
        ),
    ] {
        let (_, answer) = admin.post(path, &payload).await;
        assert_success(&answer);
    }
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{a}/copy"),
            &json!({"id": a, "name": "x", "module_id": "2000"}),
        )
        .await;
    assert!(assert_failure(&body, "invalid_field").contains("another application"));
    let (_, body) = admin
        .post(&format!("/api/app/jobinstance/{a}/copy"), &json!({"id": a, "name": "ppp_backup", "env_id": "envP", "module_id": "1460", "remark": "ssss"}))
        .await;
    let copy = assert_success(&body);
    assert_eq!(copy["new_name"], "ppp_backup");
    let copy_id = copy["new_id"].as_str().expect("id").to_owned();
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{copy_id}/details"))
        .await;
    let copied = assert_success(&body);
    assert_eq!(
        (
            copied["env_id"].clone(),
            copied["module_name"].clone(),
            copied["remark"].clone()
        ),
        (json!("envP"), json!("TUMS"), json!("ssss"))
    );

    // Joint lines: 1.7, 1.6, 1.4, 1.5
    let (_, body) = admin
        .post(
            "/api/app/jointline/create",
            &json!({"name": "test20190121", "remark": "", "productline_id": "750"}),
        )
        .await;
    let line_id = assert_success(&body)
        .as_str()
        .expect("id as data")
        .to_owned();
    let (_, body) = admin
        .post(
            "/api/app/jointline/create",
            &json!({"name": "x", "productline_id": "999"}),
        )
        .await;
    assert!(assert_failure(&body, "product_line_not_found").contains("999"));
    let (_, page) = admin
        .get("/api/app/jointline/aos_json?&name=test&productline_id=750")
        .await;
    assert_eq!(page["count"], 1);
    assert_eq!(
        keys(&page["results"][0]),
        sorted(&[
            "update_time",
            "name",
            "creator",
            "mender",
            "remark",
            "create_time",
            "id"
        ])
    );

    let graph = json!({"id": line_id, "joint": [
        {"jobi_id": a, "sequence": 0, "parent": [], "top": 125, "left": 256.99998474121093},
        {"jobi_id": b, "sequence": 1, "parent": [0], "top": 155, "left": 558.0000152587891},
        {"jobi_id": c, "sequence": 2, "parent": ["0"], "top": 185, "left": 558},
        {"jobi_id": d, "sequence": 3, "parent": [1, "2"], "top": 215.5, "left": 900}
    ]});
    let (_, body) = admin.post("/api/app/jointline/save/", &graph).await;
    assert_eq!(assert_success(&body), json!({"id": line_id}));
    let (_, body) = admin
        .get(&format!("/api/app/jointline/get_structure/{line_id}/"))
        .await;
    let structure = assert_success(&body);
    assert_eq!(structure["id"], line_id.as_str());
    assert_eq!(structure["name"], "test20190121");
    assert_eq!(
        structure["joint"][0],
        json!({"status": "ready", "jobi_name": "instance-a", "parent": [""], "sequence": 0, "top": 125, "jobi_id": a, "left": 256.99998474121093})
    );
    assert_eq!(structure["joint"][1]["parent"], json!(["0"]));
    assert_eq!(
        structure["joint"][1]["status"], "init",
        "1.5 shows each node's status"
    );
    assert_eq!(structure["joint"][3]["parent"], json!(["1", "2"]));
    assert_eq!(structure["joint"][3]["top"], json!(215.5));

    for (joint, code, named) in [
        (
            json!([{"jobi_id": a, "sequence": 0, "parent": [1]}, {"jobi_id": b, "sequence": 1, "parent": [0]}]),
            "joint_line_cycle",
            "0, 1",
        ),
        (
            json!([{"jobi_id": a, "sequence": 0, "parent": [7]}]),
            "unknown_parent",
            "7",
        ),
        (
            json!([{"jobi_id": a, "sequence": 0}, {"jobi_id": b, "sequence": 0}]),
            "duplicate_sequence",
            "0",
        ),
        (
            json!([{"jobi_id": "ghost-instance", "sequence": 0}]),
            "instance_not_found",
            "ghost-instance",
        ),
    ] {
        let (_, body) = admin
            .post(
                "/api/app/jointline/save",
                &json!({"id": line_id, "joint": joint}),
            )
            .await;
        assert!(assert_failure(&body, code).contains(named), "{body}");
    }
    let (_, body) = admin
        .get(&format!("/api/app/jointline/get_structure/{line_id}"))
        .await;
    assert_eq!(
        assert_success(&body)["joint"].as_array().map(Vec::len),
        Some(4),
        "refused saves changed nothing"
    );
    let (_, body) = admin
        .post(
            "/api/app/jointline/save",
            &json!({"id": "ghost-line", "joint": []}),
        )
        .await;
    assert_failure(&body, "joint_line_not_found");

    // 7.3 / 7.2 / export
    let form = json!({"SERVICE_NAME": "消息总线(TUMS)", "CHANGE_MODE": "上线", "CONTACTS": "sss", "halt_time": "2019-1-09 12:48",
        "regain_time": "2019-1-09 12:48", "ONLINE_OPERATION_PROCESS": [{"OPERATION_CONTENT": "deploy tums", "SERVICE_IP": "10.5.91.37"}],
        "TYPES": [{"RESOURCE_ID": "81712", "HOST_NAME": "vm-vmw43980-app"}]});
    let (_, body) = admin
        .post(
            "/api/app/jobinstance/online/process/save",
            &json!({"job_instance_id": b, "doc_id": "", "excel_data": form, "app_id": "5093"}),
        )
        .await;
    let saved = assert_success(&body);
    assert_eq!(saved["process_status"], "未同步");
    assert_eq!(saved["current_flow_node"], Value::Null);
    let doc_id = saved["doc_id"].as_str().expect("doc id").to_owned();
    let mut changed = form.clone();
    changed["CONTACTS"] = json!("changed contact");
    let (_, body) = admin
        .post(
            "/api/app/jobinstance/online/process/save",
            &json!({"job_instance_id": b, "doc_id": doc_id, "excel_data": changed}),
        )
        .await;
    assert_eq!(
        assert_success(&body)["doc_id"],
        doc_id.as_str(),
        "updated by doc_id"
    );
    let (_, body) = admin
        .post(
            "/api/app/jobinstance/online/process/save",
            &json!({"job_instance_id": b, "doc_id": "other-doc", "excel_data": form}),
        )
        .await;
    assert!(assert_failure(&body, "work_order_not_found").contains("other-doc"));
    let (_, body) = admin
        .post(
            "/api/app/jobinstance/online/process/save",
            &json!({"job_instance_id": b, "excel_data": "not an object"}),
        )
        .await;
    assert!(assert_failure(&body, "invalid_field").contains("excel_data"));
    let (_, body) = admin
        .post(
            "/api/app/jobinstance/online/process/save",
            &json!({"job_instance_id": b, "excel_data": form, "app_id": "999"}),
        )
        .await;
    assert!(assert_failure(&body, "invalid_field").contains("app_id"));
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{b}/details"))
        .await;
    let details = assert_success(&body);
    assert_eq!(details["status"], "generate");
    assert_eq!(details["doc_id"], doc_id.as_str());
    assert_eq!(details["process_status"], "未同步");
    assert_eq!(details["halt_time"], "2019-1-09 12:48");
    assert_eq!(details["excel_data"]["CONTACTS"], "changed contact");
    let response = support::http_client()
        .get(format!(
            "{}/api/app/jobinstance/{b}/online/process/export",
            platform.url()
        ))
        .header(
            "authorization",
            format!("Bearer {}", admin.token.clone().expect("token")),
        )
        .send()
        .await
        .expect("export");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("type")
            .contains("spreadsheetml")
    );
    let xlsx = response.bytes().await.expect("bytes");
    let file = platform.data_dir.path().join("export.xlsx");
    std::fs::write(&file, &xlsx).expect("write xlsx");
    let strings = std::process::Command::new("python3")
        .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.read('xl/sharedStrings.xml').decode()); print(z.namelist())"])
        .arg(&file)
        .output()
        .expect("read the xlsx with python's zipfile");
    let text = String::from_utf8_lossy(&strings.stdout);
    for expected in [
        "changed contact",
        "消息总线(TUMS)",
        "deploy tums",
        "vm-vmw43980-app",
        "instance-b",
        "sheet3.xml",
    ] {
        assert!(
            text.contains(expected),
            "{expected} missing from the workbook: {text}"
        );
    }
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{c}/online/process/export"))
        .await;
    assert_failure(&body, "work_order_not_found");

    // Deletes refuse what is still used, naming the user
    let (_, body) = admin.delete(&format!("/api/app/jobinstance/{a}")).await;
    assert!(assert_failure(&body, "instance_in_use").contains(&line_id));
    let (_, body) = admin
        .delete(&format!("/api/app/jobtemplate/{template_id}"))
        .await;
    let info = assert_failure(&body, "template_in_use");
    assert!(
        info.contains("instance-a") && info.contains("apache2-rollback"),
        "{info}"
    );
    let (_, body) = admin
        .delete(&format!("/api/app/jobinstance/{copy_id}?"))
        .await;
    assert_eq!(
        body,
        json!({"info": "操作成功！", "data": null, "success": true, "level": "info"})
    );
    let (_, body) = admin
        .post(
            &format!(
                "/api/app/jobtemplate/{}",
                rollback["id"].as_str().expect("id")
            ),
            &json!({}),
        )
        .await;
    assert_eq!(assert_success(&body), json!(true), "4.5 by POST");

    // A viewer reads but does not configure
    admin
        .post(
            "/api/admin/users",
            &json!({"username": "vic", "password": "viewer-password", "roles": ["viewer"]}),
        )
        .await;
    let viewer = Api::new(platform.url())
        .login("vic", "viewer-password")
        .await;
    let (_, body) = viewer
        .post(
            "/api/app/jointline/create",
            &json!({"name": "v", "productline_id": "750"}),
        )
        .await;
    assert_failure(&body, "forbidden");
    let (status, _) = viewer.get("/api/app/jobinstance/aos_json").await;
    assert_eq!(status, 200);
    platform.stop().await;
}
