//! The dry run of 6.1 (issue 21) over a real sshd: the plan of a never-run instance shows every
//! host changed, the rendered config as all new, the parameters (the password masked) and the
//! host keys not pinned yet; the same inputs give the same plan id; 6.1 with it runs; after one
//! parameter value changed the plan shows exactly that change, and 6.1 with the old plan id is
//! refused naming it, while the new one runs. A malformed plan id, and one sent to 6.2, are
//! refused by field.

use super::*;

/// The hosts any artifact of `step` would be sent to (each host has its own binding here).
pub(super) fn changed_hosts(step: &Value) -> Vec<String> {
    step["artifacts"]
        .as_array()
        .expect("artifacts")
        .iter()
        .flat_map(|artifact| {
            artifact["changed_hosts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|host| host.as_str().map(str::to_owned))
        .collect()
}

/// Whether each app config of `step` changed.
fn configs_changed(step: &Value) -> Vec<bool> {
    step["configs"]
        .as_array()
        .expect("configs")
        .iter()
        .map(|config| config["changed"].as_bool().expect("changed"))
        .collect()
}

async fn plan(admin: &Api, instance: &str) -> Value {
    admin
        .post_ok(
            &format!("/api/app/jobinstance/{instance}/plan"),
            &json!({"use_tad_host": false}),
        )
        .await
}

/// Sets the instance's parameter `greeting` (and the password again).
async fn set_greeting(admin: &Api, instance: &str, greeting: &str) {
    let schema = admin.get_ok("/api/app/jobinstance/shop1/config/desc").await;
    let node = |key: &str| support::schema_node_id(&schema, key);
    admin
        .post_ok(
            &format!("/api/app/jobinstance/{instance}/shop1/0/relation/alldata"),
            &json!({"config": {"config_value": {node("greeting"): greeting, node("db_password"): DB_PASSWORD}}}),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_plan_shows_what_would_run_and_pins_the_run_to_it() {
    let Some((sshd, root, platform, admin, deployment)) = start_deployed("tad-plan", &[]).await
    else {
        return;
    };
    let instance = deployment.instance.clone();

    // Never run: everything is new.
    let first = plan(&admin, &instance).await;
    let plan_id = first["plan_id"].as_str().expect("plan id").to_owned();
    assert_eq!(plan_id.len(), 64, "{first}");
    assert_eq!(first["compared_with"], Value::Null);
    assert!(!first.to_string().contains(DB_PASSWORD), "{first}");
    let step = &first["steps"][0];
    let hosts: Vec<&str> = HOSTS.iter().map(|(ip, _, _)| *ip).collect();
    assert_eq!(step["hosts"], json!(hosts));
    assert_eq!(step["batches"], json!([hosts]));
    assert_eq!(changed_hosts(step), hosts);
    assert_eq!(step["artifacts"][0]["md5"], md5_hex(&deployment.artifact));
    assert_eq!(configs_changed(step), [true; 3]);
    assert!(
        step["configs"][0]["diff"]
            .as_str()
            .is_some_and(|diff| diff.contains("+listen=8080")),
        "{step}"
    );
    let params: Vec<(Value, Value)> = step["params"]
        .as_array()
        .expect("params")
        .iter()
        .map(|change| (change["key"].clone(), change["after"].clone()))
        .collect();
    assert_eq!(
        params,
        [
            (json!("db_password"), json!("******")),
            (json!("greeting"), json!("hello"))
        ]
    );
    assert_eq!(step["scripts"][0]["reviewed"], true);
    let kinds: Vec<&str> = first["blockers"]
        .as_array()
        .expect("blockers")
        .iter()
        .filter_map(|blocker| blocker["kind"].as_str())
        .collect();
    assert!(
        kinds.iter().all(|kind| *kind == "unknown_host_key") && kinds.len() == 3,
        "{first}"
    );

    // Deterministic; 6.1 with the plan id runs it.
    assert_eq!(plan(&admin, &instance).await["plan_id"], json!(plan_id));
    let run = execute(
        &admin,
        &instance,
        "executionall",
        json!({"use_tad_host": false, "plan_id": plan_id}),
    )
    .await;
    let run = execution_id(&run);
    wait_for_status(&admin, &run, "success", Duration::from_secs(60)).await;

    // Compared with that run: nothing differs, the keys are pinned now.
    let again = plan(&admin, &instance).await;
    assert_eq!(again["compared_with"], json!(run));
    let step = &again["steps"][0];
    assert!(changed_hosts(step).is_empty(), "{step}");
    assert_eq!(configs_changed(step), [false; 3]);
    assert_eq!(step["params"], json!([]));
    assert_eq!(again["blockers"], json!([]), "{again}");

    // One value changed: exactly that in the plan; the old plan id is refused naming it.
    set_greeting(&admin, &instance, "good morning").await;
    let changed = plan(&admin, &instance).await;
    let new_id = changed["plan_id"].as_str().expect("plan id").to_owned();
    assert_ne!(new_id, plan_id);
    let step = &changed["steps"][0];
    assert_eq!(
        step["params"],
        json!([{"key": "greeting", "before": "hello", "after": "good morning"}])
    );
    assert!(changed_hosts(step).is_empty(), "{step}");
    assert_eq!(configs_changed(step), [false; 3]);
    let stale = execute(
        &admin,
        &instance,
        "executionall",
        json!({"use_tad_host": false, "plan_id": plan_id}),
    )
    .await;
    let message = assert_failure(&stale, "plan_changed");
    assert!(message.contains("step 0 parameters changed"), "{message}");
    let (_, runs) = admin
        .get(&format!("/api/app/jobinstance/{instance}/executions"))
        .await;
    assert_eq!(runs["count"], 1, "nothing started: {runs}");
    let fresh = execute(
        &admin,
        &instance,
        "executionall",
        json!({"use_tad_host": false, "plan_id": new_id}),
    )
    .await;
    wait_for_status(
        &admin,
        &execution_id(&fresh),
        "success",
        Duration::from_secs(60),
    )
    .await;

    // Refused by field: a malformed id; a plan id on 6.2 and on rollback.
    let malformed = execute(
        &admin,
        &instance,
        "executionall",
        json!({"plan_id": "not-a-plan"}),
    )
    .await;
    assert!(assert_failure(&malformed, "invalid_field").contains("plan_id"));
    for route in ["setp_execution", "rollback"] {
        let refused = execute(&admin, &instance, route, json!({"plan_id": new_id})).await;
        assert!(
            assert_failure(&refused, "invalid_field").contains("plan_id"),
            "{route}: {refused}"
        );
    }

    drop(platform);
    drop(sshd);
    let _ = std::fs::remove_dir_all(&root);
}
