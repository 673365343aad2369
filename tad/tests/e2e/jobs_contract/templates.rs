//! Job templates: creation and refusals, the lists, and their methods (4.1–4.5, 5.3).

use crate::support;
use crate::support::Api;
use crate::support::refusals;
use serde_json::{Value, json};

use super::{State, keys, sorted};

/// Templates: create, the rollback template, refusals, 4.1 and 5.3 lists.
pub(super) async fn create(admin: &Api, state: &mut State) {
    let template = admin
        .post_ok(
            "/api/app/jobtemplate/create",
            &json!({"name": "apache2", "remark": "sss", "application_id": 5093}),
        )
        .await;
    assert_eq!(
        support::pick(&template, &["type", "status", "deploy_type"]),
        json!(["public", "available", "install"])
    );
    let template_id = template["id"].as_str().expect("id").to_owned();
    let rollback = admin.post_ok("/api/app/jobtemplate/create", &json!({"name": "apache2-rollback", "deploy_type": "rollback", "application_id": "5093", "jobt_rollback_id": template_id})).await;
    let rollback_id = rollback["id"].as_str().expect("id").to_owned();
    assert_eq!(rollback["jobt_rollback_name"], "apache2");
    admin
        .assert_refusals(
            "/api/app/jobtemplate/create",
            &refusals![
                {"name": "x", "application_id": "ghost"} => "application_not_found", "ghost";
                {"name": "x", "application_id": "5093", "deploy_type": "sideways"} => "invalid_field", "deploy_type";
                {"name": "", "application_id": "5093"} => "missing_field", "name";
                {"name": "x", "application_id": "5093", "jobt_rollback_id": "nope"} => "template_not_found", "nope";
            ],
        )
        .await;
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
    let select = admin.get_ok("/api/app/jobtemplate/ordinary/select").await;
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
    state.template_id = template_id;
    state.rollback_id = rollback_id;
}

/// 4.2 / 4.3: the template gets its methods; existing instances follow.
pub(super) async fn methods(admin: &Api, state: &State) {
    let template_id = state.template_id.clone();
    let rollback_id = state.rollback_id.clone();
    let graded = format!("/api/app/jobtemplate/{template_id}/graded");
    assert_eq!(
        admin.post_ok(&graded, &json!({"method": [{"component_id": "custom", "method_id": "cu1", "sequence": 0}, {"component_id": "custom", "method_id": "cu1", "sequence": 1}]})).await,
        json!({"id": template_id, "is_rollback": false})
    );
    admin
        .assert_refusals(
            &graded,
            &refusals![
                {"method": [{"component_id": "nope", "method_id": "cu1", "sequence": 0}]} => "component_not_found", "nope";
                {"method": [{"component_id": "custom", "method_id": "zz9", "sequence": 0}]} => "method_not_found", "zz9";
                {"method": [{"component_id": "custom", "method_id": "cu1", "sequence": 0}, {"component_id": "custom", "method_id": "cu1", "sequence": 0}]} => "invalid_field", "sequence";
            ],
        )
        .await;
    let graded_content = admin
        .get_ok(&format!(
            "/api/app/jobtemplate/{template_id}/graded_content"
        ))
        .await;
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
        support::pick(&graded_content[1], &["id", "sequence"]),
        json!(["cu1", 1])
    );
    assert_eq!(
        support::pick(&graded_content[0], &["component_name", "name", "path"]),
        json!(["custom", "custom-script", ""]),
        "path is a string, empty for a method without a package"
    );
    assert_eq!(
        admin
            .post_ok(
                &format!("/api/app/jobtemplate/{}/graded", rollback_id),
                &json!({"method": []})
            )
            .await["is_rollback"],
        true
    );
}
