//! What a step pushes: scripts (5.6.2.5), artifacts (5.6.2.2), and the whole step read (5.8.1) or saved (5.6.1) at once.

use crate::support;
use crate::support::fixtures::upload_script;
use crate::support::{Api, assert_failure, assert_success, md5_hex, refusals};
use serde_json::{Value, json};

use super::{State, keys, sorted};

/// 5.6.2.5 / 5.8.2.7: scripts, by script file id, on hosts of the step's cluster.
pub(super) async fn scripts(admin: &Api, state: &mut State) {
    let a = state.a.clone();
    let cluster_m = state.cluster_m.clone();
    let host_id = admin.post_id("/api/resource/hosts/aos_create", &json!({"host_IP": "10.5.91.37", "host_name": "tums1", "ssh_user": "deploy", "ssh_passwd": "pw-123456",
            "productLine_id": "750", "env_id": "envM"})).await;
    admin
        .post(
            &format!("/api/resource/clusters/{cluster_m}/aos_bind"),
            &json!({"hosts": [host_id]}),
        )
        .await;
    let script = b"#!/bin/sh\necho deployed\n".to_vec();
    let uploaded = upload_script(admin, "5093", "nexus", "nexus.sh", &script).await;
    let script_file_id = uploaded[0]["file_id"].as_str().expect("file id").to_owned();
    let script_version_id = uploaded[0]["version_id"]
        .as_str()
        .expect("version id")
        .to_owned();
    let scripts_path = format!("/api/app/jobinstance/{a}/cu1/0/relation/script");
    let script_entry = |host: &str, execute_type: &str, id: &str| json!({"script_id": "", "scripts_data": [{"id": id, "dest": "/opt/tums", "host_IP": [host], "parameter": "--now", "execute_type": execute_type}]});
    admin
        .assert_refusals(
            &scripts_path,
            &refusals![
                (script_entry("10.5.91.99", "shell", &script_file_id)) => "invalid_field", "10.5.91.99";
                (script_entry("10.5.91.37", "perl", &script_file_id)) => "invalid_field", "execute_type";
            ],
        )
        .await;
    let (_, body) = admin
        .post(
            &scripts_path,
            &script_entry("10.5.91.37", "shell", "ghost-file"),
        )
        .await;
    assert_refused_naming(&body, "ghost-file");
    assert_eq!(
        admin
            .post_ok(
                &scripts_path,
                &script_entry("10.5.91.37", "shell", &script_file_id)
            )
            .await,
        json!(true)
    );
    assert_eq!(
        admin
            .get_ok(&format!("/api/app/jobinstance/{a}/cu1/0/script/json"))
            .await,
        json!([{"execute_type": "shell", "dest": "/opt/tums", "script_file_name": "nexus.sh", "host_IP": ["10.5.91.37"],
                "script_name": "nexus", "script_file_id": script_file_id, "script_id": script_version_id, "parameter": "--now"}])
    );
    assert_eq!(
        admin
            .get_ok(&format!("/api/app/jobinstance/{a}/cu1/0/config/value"))
            .await,
        json!({"histor_data": false}),
        "saving scripts keeps the parameters"
    );
    state.script_file_id = script_file_id;
    state.script_version_id = script_version_id;
}

/// 5.6.2.2 / 5.8.2.2: files pushed to the step's hosts.
pub(super) async fn artifacts(admin: &Api, state: &State) {
    let a = state.a.clone();
    let j2 = state.j2.clone();
    let template_file_id = state.template_file_id.clone();
    let script_file_id = state.script_file_id.clone();
    let artifacts_path = format!("/api/app/jobinstance/{a}/cu1/1/relation/artifact");
    let (_, body) = admin
        .post(
            &artifacts_path,
            &json!({"artifacts": [{"file_id": "ghost-file", "dest": "/opt", "host_IP": []}]}),
        )
        .await;
    assert_refused_naming(&body, "ghost-file");
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
    assert_eq!(
        admin.post_ok(&artifacts_path, &json!({"artifacts": [{"file_id": template_file_id, "dest": "/opt/conf", "host_IP": ["10.5.91.37"]}]})).await,
        json!([true, {"id": a, "name": "instance-a"}])
    );
    let bound = admin
        .get_ok(&format!("/api/app/jobinstance/{a}/cu1/1/artifact/json"))
        .await;
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
        support::pick(&bound[0], &["artifact_name", "version"]),
        json!(["apache_config", "1"])
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
}

/// 5.8.1: every read-back of a step at once, at both URLs.
pub(super) async fn read_all(admin: &Api, state: &State) {
    let a = state.a.clone();
    let cluster_m = state.cluster_m.clone();
    let values = state.values.clone();
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
}

/// 5.6.1: everything of a step in one request, all or nothing.
pub(super) async fn save_all(admin: &Api, state: &State) {
    let c = state.c.clone();
    let cluster_m = state.cluster_m.clone();
    let script_file_id = state.script_file_id.clone();
    let template_file_id = state.template_file_id.clone();
    let values = state.values.clone();
    let all_path = |instance: &str, sequence: u32| {
        format!("/api/app/jobinstance/{instance}/cu1/{sequence}/relation/alldata")
    };
    let bad = json!({"cluster": {"cluster_id": cluster_m}, "scripts": {"scripts_data": [{"id": script_file_id, "dest": "/x", "host_IP": [], "execute_type": "perl"}]}});
    let (_, body) = admin.post(&all_path(&c, 1), &bad).await;
    assert!(assert_failure(&body, "invalid_field").contains("execute_type"));
    assert_eq!(
        admin
            .get_ok(&format!("/api/app/jobinstance/{c}/details"))
            .await["methods"][1]["cluster_id"],
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
    assert_eq!(
        admin.post_ok(&all_path(&c, 0), &everything).await,
        json!(true)
    );
    let all = admin
        .post_ok(
            &format!("/api/app/jobinstance/{c}/cu1/0/alldata/read"),
            &json!({}),
        )
        .await;
    assert_eq!(all["artifact"][0]["file_id"], template_file_id.as_str());
    assert_eq!(all["actemplate_value"], json!([values]));
    assert_eq!(all["script"][0]["execute_type"], "python");
    assert_eq!(
        admin
            .get_ok(&format!("/api/app/jobinstance/{c}/details"))
            .await["status"],
        "init",
        "step 1 has no cluster yet"
    );
    assert_eq!(
        admin
            .post_ok(
                &all_path(&c, 1),
                &json!({"cluster": {"cluster_id": cluster_m}})
            )
            .await,
        json!(true)
    );
    assert_eq!(
        admin
            .get_ok(&format!("/api/app/jobinstance/{c}/details"))
            .await["status"],
        "ready"
    );
    assert_eq!(
        admin
            .post_ok(
                &format!("/api/app/jobinstance/{c}/cu1/0/alldata/read"),
                &json!({})
            )
            .await["script"][0]["execute_type"],
        "python",
        "absent parts stay as they are"
    );
}

/// Asserts `body` is a refusal whose `info` names `named`.
fn assert_refused_naming(body: &Value, named: &str) {
    let info = body["info"].as_str().unwrap_or_default();
    assert!(body["success"] == false && info.contains(named), "{body}");
}
