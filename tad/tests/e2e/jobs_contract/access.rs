//! Deletes that refuse what is still in use, and a viewer who reads but does not configure.

use crate::support::{Api, assert_failure};
use serde_json::json;

use super::State;

/// Deletes refuse what is still used, naming the user.
pub(super) async fn deletes(admin: &Api, state: &State) {
    let a = state.a.clone();
    let template_id = state.template_id.clone();
    let copy_id = state.copy_id.clone();
    let rollback_id = state.rollback_id.clone();
    let line_id = state.line_id.clone();
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
    assert_eq!(
        admin
            .post_ok(&format!("/api/app/jobtemplate/{}", rollback_id), &json!({}))
            .await,
        json!(true),
        "4.5 by POST"
    );
}

/// A viewer reads but does not configure.
pub(super) async fn viewer(admin: &Api) {
    let viewer = admin
        .login_new_user("vic", "viewer-password", &["viewer"])
        .await;
    let line = json!({"name": "v", "productline_id": "750"});
    let (_, body) = viewer.post("/api/app/jointline/create", &line).await;
    assert_failure(&body, "forbidden");
    let (status, _) = viewer.get("/api/app/jobinstance/aos_json").await;
    assert_eq!(status, 200);
}
