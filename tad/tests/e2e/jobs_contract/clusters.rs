//! Step clusters: 5.4 for an instance, binding steps to a cluster, and a bound cluster kept (8.1.9).

use crate::support;
use crate::support::{Api, assert_failure};
use serde_json::json;

use super::{State, keys, sorted};

/// 5.4 for a job instance: clusters of its environment and application.
pub(super) async fn for_instance(admin: &Api, state: &mut State) {
    let a = state.a.clone();
    admin
        .post(
            "/api/admin/cluster-types",
            &json!({"key": "ApacheCluster", "value": "ApacheCluster"}),
        )
        .await;
    let cluster_m = admin
        .post_id(
            "/api/resource/clusters/aos_create",
            &json!({"name": "tums-m", "env_id": "envM", "app_id": "5093"}),
        )
        .await;
    let cluster_p = admin
        .post_id(
            "/api/resource/clusters/aos_create",
            &json!({"name": "tums-p", "env_id": "envP", "app_id": "5093"}),
        )
        .await;
    assert_eq!(
        admin
            .get_ok(&format!("/api/resource/clusters/{a}/5093/select/envapp"))
            .await,
        json!([{"remark": "", "id": cluster_m, "name": "tums-m"}])
    );
    assert_eq!(
        admin
            .get_ok(&format!("/api/resource/clusters/{a}/9999/select/envapp"))
            .await,
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
    state.cluster_m = cluster_m;
}

/// Steps bound to a cluster make the instance ready; 8.1.9 refuses to delete a bound cluster.
pub(super) async fn bind_steps(admin: &Api, state: &State) {
    let a = state.a.clone();
    let cluster_m = state.cluster_m.clone();
    let methods = admin
        .get_ok(&format!("/api/app/jobinstance/{a}/details"))
        .await["methods"]
        .clone();
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
        support::pick(&methods[0], &["comp_name", "is_display_script"]),
        json!(["custom", true])
    );
    for sequence in [0, 1] {
        assert_eq!(admin.post_ok(&format!("/api/app/jobinstance/{a}/cu1/{sequence}/{cluster_m}/relation/cluster?format=json"), &json!({})).await, json!(true));
    }
    let details = admin
        .get_ok(&format!("/api/app/jobinstance/{a}/details"))
        .await;
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
    assert_eq!(
        admin
            .get_ok(&format!("/api/app/jobinstance/{a}/details"))
            .await["methods"][1]["cluster_name"],
        "tums-m",
        "the cluster is still there"
    );
}
