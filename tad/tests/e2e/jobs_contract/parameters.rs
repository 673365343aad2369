//! Step parameters: the method schema (5.8.2.5 / 5.6.2.4), app-config templates (5.6.2.3) and required parameters.

use crate::support;
use crate::support::fixtures::{template_with_methods, upload_component, upload_config};
use crate::support::{Api, assert_failure, assert_success, refusals};
use serde_json::json;

use super::{State, instance};

/// 5.8.2.5 / 5.6.2.4 / 5.8.2.6: parameters, checked against the method's schema.
pub(super) async fn config(admin: &Api, state: &State) {
    let a = state.a.clone();
    assert_eq!(
        admin.get_ok("/api/app/jobinstance/cu1/config/desc").await,
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
    assert_eq!(
        admin.post_ok(&params, &json!({"config_value": {}})).await,
        json!(true)
    );
    assert_eq!(
        admin
            .get_ok(&format!("/api/app/jobinstance/{a}/cu1/0/config/value"))
            .await,
        json!({"histor_data": false})
    );
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{a}/cu1/7/config/update"),
            &json!({"config_value": {}}),
        )
        .await;
    assert_failure(&body, "step_not_found");
}

/// 5.6.2.3 / 5.8.2.3 / 5.8.2.4: an app-config template and its groups.
pub(super) async fn app_config(admin: &Api, state: &mut State) {
    let a = state.a.clone();
    let j2 = b"{% for p in ports %}Listen {{ p.port }}\n{% endfor %}".to_vec();
    let yml = b"- key: ports\n  type: list-map\n  require: true\n  children:\n    - key: port\n      rule: '^[0-9]+$'\n".to_vec();
    let template_file_id =
        upload_config(admin, "5093", "apache_config", "httpd.conf", &j2, &yml).await;
    let desc_path = format!("/api/app/jobinstance/{a}/cu1/0/actemplate/config/desc");
    let value_path =
        format!("/api/app/jobinstance/{a}/cu1/0/actemplate/{template_file_id}/config/value");
    for (path, why) in [
        (&desc_path, "no template bound yet"),
        (&value_path, "no values saved yet"),
    ] {
        assert_eq!(admin.get_ok(path).await, json!([]), "{why}: {path}");
    }
    // The schema's node ids key the values, as the legacy UI does.
    let configs_path = format!("/api/app/jobinstance/{a}/cu1/0/relation/actemplate");
    let (_, body) = admin
        .post(&configs_path, &json!({"file_id": template_file_id, "groups": [{"dest": "/etc/httpd", "host_IP": ["10.5.91.37"], "configs": {}, "targetname": "httpd.conf"}]}))
        .await;
    assert!(
        assert_failure(&body, "invalid_values").contains("ports"),
        "a required value is missing: {body}"
    );
    assert_eq!(
        admin.get_ok(&desc_path).await,
        json!([]),
        "refused saves change nothing"
    );
    let schema_answer = {
        let (_, body) = admin
            .post(&configs_path, &json!({"file_id": "ghost-j2", "groups": []}))
            .await;
        assert_eq!(body["success"], false, "{body}");
        assert!(support::has_text(&body["info"], "ghost-j2"), "{body}");
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
    assert_eq!(admin.post_ok(&configs_path, &json!({"file_id": template_file_id, "groups": [{"dest": "/etc/httpd", "host_IP": ["10.5.91.37"], "configs": values}]})).await, json!(true));
    assert_eq!(
        admin
            .get_ok(&format!(
                "/api/app/jobinstance/{a}/cu1/0/actemplate/{template_file_id}/config/value"
            ))
            .await,
        json!([values])
    );
    state.j2 = j2;
    state.template_file_id = template_file_id;
    state.values = values;
}

/// A method with required parameters: an instance is ready only once they are saved.
pub(super) async fn required(admin: &Api, state: &State) {
    let cluster_m = state.cluster_m.clone();
    let manifest = "component: {id: apa, name: apache, remark: apache组件}\nmethod: {id: apa1, name: port, remark: apache监听端口方法}\nentrypoint: run.sh\nparams:\n  - key: ports\n    type: list-map\n    remark: 待添加端口信息\n    require: true\n    children:\n      - key: port\n        rule: '^[0-9]+$'\n";
    upload_component(admin, manifest, b"echo port\n".to_vec()).await;
    let port_template =
        template_with_methods(admin, "apache-port", "5093", &[("apa", "apa1")]).await;
    let graded = admin
        .get_ok(&format!(
            "/api/app/jobtemplate/{port_template}/graded_content"
        ))
        .await;
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
    let e = instance(admin, "instance-e", &port_template).await;
    admin
        .post_ok(
            &format!("/api/app/jobinstance/{e}/apa1/0/{cluster_m}/relation/cluster"),
            &json!({}),
        )
        .await;
    assert_eq!(
        admin
            .get_ok(&format!("/api/app/jobinstance/{e}/details"))
            .await["status"],
        "init",
        "required parameters are not saved yet"
    );
    let port_schema = admin.get_ok("/api/app/jobinstance/apa1/config/desc").await;
    assert_eq!(
        support::pick(&port_schema[0], &["key", "require"]),
        json!(["ports", true])
    );
    let (ports_node, port_node) = (
        port_schema[0]["id"].as_str().expect("id").to_owned(),
        port_schema[0]["children"][0]["id"]
            .as_str()
            .expect("id")
            .to_owned(),
    );
    let params_e = format!("/api/app/jobinstance/{e}/apa1/0/config/update");
    admin
        .assert_refusals(
            &params_e,
            &refusals![
                {"config_value": {}} => "invalid_values", "ports";
                {"config_value": {ports_node.clone(): [{port_node.clone(): "http"}]}} => "invalid_values", "port";
            ],
        )
        .await;
    assert_eq!(
        admin
            .post_ok(
                &params_e,
                &json!({"config_value": {ports_node.clone(): [{port_node.clone(): "8087"}]}})
            )
            .await,
        json!(true)
    );
    assert_eq!(
        admin
            .get_ok(&format!("/api/app/jobinstance/{e}/apa1/0/config/value"))
            .await,
        json!({"histor_data": false, ports_node: [{port_node: "8087"}]})
    );
    let details_e = admin
        .get_ok(&format!("/api/app/jobinstance/{e}/details"))
        .await;
    assert_eq!(details_e["status"], "ready");
    assert_eq!(
        (
            details_e["methods"][0]["comp_name"].clone(),
            details_e["methods"][0]["cpm_name"].clone()
        ),
        (json!("apache"), json!("apache监听端口方法"))
    );
}
