//! Work orders of an instance: save, update and the refusals (7.3), details (7.2) and the xlsx export.

use crate::support;
use serde_json::{Value, json};
use support::{Api, EmbeddedPlatform, assert_failure};

use super::State;

/// 7.3 / 7.2 / export: the work order of an instance.
pub(super) async fn save_and_export(platform: &EmbeddedPlatform, admin: &Api, state: &State) {
    let b = state.b.clone();
    let c = state.c.clone();
    let form = json!({"SERVICE_NAME": "消息总线(TUMS)", "CHANGE_MODE": "上线", "CONTACTS": "sss", "halt_time": "2019-1-09 12:48",
        "regain_time": "2019-1-09 12:48", "ONLINE_OPERATION_PROCESS": [{"OPERATION_CONTENT": "deploy tums", "SERVICE_IP": "10.5.91.37"}],
        "TYPES": [{"RESOURCE_ID": "81712", "HOST_NAME": "vm-vmw43980-app"}]});
    let saved = admin
        .post_ok(
            "/api/app/jobinstance/online/process/save",
            &json!({"job_instance_id": b, "doc_id": "", "excel_data": form, "app_id": "5093"}),
        )
        .await;
    assert_eq!(saved["process_status"], "未同步");
    assert_eq!(saved["current_flow_node"], Value::Null);
    let doc_id = saved["doc_id"].as_str().expect("doc id").to_owned();
    let mut changed = form.clone();
    changed["CONTACTS"] = json!("changed contact");
    assert_eq!(
        admin
            .post_ok(
                "/api/app/jobinstance/online/process/save",
                &json!({"job_instance_id": b, "doc_id": doc_id, "excel_data": changed})
            )
            .await["doc_id"],
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
    let details = admin
        .get_ok(&format!("/api/app/jobinstance/{b}/details"))
        .await;
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
}
