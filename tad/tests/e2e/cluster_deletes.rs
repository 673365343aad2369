//! A cluster delete (8.1.9) racing a step binding (5.6.2.1, 5.6.1):
//! whatever the interleaving, no job step stays bound to a cluster that was deleted (the rule
//! lives in svc-resource and svc-jobs, not in the gateway). SQLite, or PostgreSQL when
//! `TEST_DATABASE_URL` is set.

use crate::support;

use serde_json::{Value, json};
use support::{Api, EmbeddedPlatform, assert_success};

const ADMIN_PASSWORD: &str = "cluster-race-admin";
const ROUNDS: usize = 30;

async fn catalog(admin: &Api) -> String {
    for (path, body) in [
        ("/api/admin/productlines", json!({"id": "pl", "name": "pl"})),
        (
            "/api/admin/applications",
            json!({"id": "app", "name": "app", "product_line_id": "pl"}),
        ),
        (
            "/api/admin/modules",
            json!({"id": "mod", "name": "mod", "application_id": "app"}),
        ),
        ("/api/admin/envs", json!({"id": "env", "name": "env"})),
    ] {
        assert_success(&admin.post(path, &body).await.1);
    }
    let template = admin
        .post_id(
            "/api/app/jobtemplate/create",
            &json!({"name": "race", "application_id": "app"}),
        )
        .await;
    let graded = format!("/api/app/jobtemplate/{template}/graded");
    let method = json!({"method": [{"component_id": "custom", "method_id": "cu1", "sequence": 0}]});
    assert_success(&admin.post(&graded, &method).await.1);
    template
}

async fn created_id(admin: &Api, path: &str, body: Value) -> String {
    let (_, answer) = admin.post(path, &body).await;
    assert_success(&answer)["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// The cluster each step of `instance` is bound to ("" for none).
async fn step_clusters(admin: &Api, instance: &str) -> Vec<String> {
    let details = admin
        .get_ok(&format!("/api/app/jobinstance/{instance}/details"))
        .await;
    let methods = details["methods"].as_array().expect("methods").clone();
    methods
        .iter()
        .map(|method| method["cluster_id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_step_stays_bound_to_a_deleted_cluster() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let template = catalog(&admin).await;
    let (mut deleted, mut bound) = (0, 0);
    for round in 0..ROUNDS {
        let instance = created_id(
            &admin,
            "/api/app/jobinstance/create",
            json!({"name": format!("race-{round}"), "env_id": "env", "application_id": "app", "job_template_id": template}),
        )
        .await;
        let cluster = created_id(
            &admin,
            "/api/resource/clusters/aos_create",
            json!({"name": format!("race-{round}"), "env_id": "env", "app_id": "app"}),
        )
        .await;
        let bind = async {
            if round % 2 == 0 {
                let path = format!(
                    "/api/app/jobinstance/{instance}/cu1/0/{cluster}/relation/cluster?format=json"
                );
                admin.post(&path, &json!({})).await
            } else {
                let path = format!("/api/app/jobinstance/{instance}/cu1/0/relation/alldata");
                admin
                    .post(&path, &json!({"cluster": {"cluster_id": cluster}}))
                    .await
            }
        };
        let delete_path = format!("/api/resource/clusters/aos_deletes/{cluster}");
        let delete = admin.delete(&delete_path);
        let ((_, bind_answer), (_, delete_answer)) = tokio::join!(bind, delete);
        let delete_ok = delete_answer["success"] == json!(true);
        let clusters = step_clusters(&admin, &instance).await;
        let still_bound = clusters.contains(&cluster);
        assert!(
            !(delete_ok && still_bound),
            "round {round}: cluster {cluster} was deleted but a step is bound to it\nbind: {bind_answer}\ndelete: {delete_answer}"
        );
        if delete_ok {
            deleted += 1;
        } else {
            // Both may lose (the delete saw the binding, the binding saw the delete announced);
            // a refused delete names the reason.
            support::assert_failure(&delete_answer, "cluster_in_use");
        }
        if still_bound {
            bound += 1;
        }
    }
    println!("{ROUNDS} rounds: {deleted} deletes went through, {bound} bindings stayed");
    assert!(
        deleted + bound >= ROUNDS / 2,
        "most rounds end one way or the other"
    );
    platform.stop().await;
}
