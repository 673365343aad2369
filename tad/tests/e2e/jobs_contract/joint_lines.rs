//! Joint lines: create, list, save the graph and read it back, with the refused graphs (1.4–1.7).

use crate::support::fixtures::create_joint_line;
use crate::support::{Api, assert_failure};
use serde_json::json;

use super::{State, keys, sorted};

/// Joint lines: 1.7, 1.6, 1.4, 1.5.
pub(super) async fn create_and_save(admin: &Api, state: &mut State) {
    let a = state.a.clone();
    let b = state.b.clone();
    let c = state.c.clone();
    let d = state.d.clone();
    let line_id = create_joint_line(admin, "test20190121", "750").await;
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
    assert_eq!(
        admin.post_ok("/api/app/jointline/save/", &graph).await,
        json!({"id": line_id})
    );
    let structure = admin
        .get_ok(&format!("/api/app/jointline/get_structure/{line_id}/"))
        .await;
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
    assert_eq!(
        admin
            .get_ok(&format!("/api/app/jointline/get_structure/{line_id}"))
            .await["joint"]
            .as_array()
            .map(Vec::len),
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
    state.line_id = line_id;
}
