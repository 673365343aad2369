//! `params.json` is private while the step runs and removed however the step ends.

use super::*;
use crate::support::fixtures::post_component;

/// Uploads the method `method` of component `safe` running [`RUN_SH`], with parameters
/// `greeting` (required) and `db_password`, and `extra` lines in its manifest.
async fn upload_method(bench: &Bench, method: &str, extra: &str) {
    let manifest = format!(
        "component: {{id: safe, name: safe, remark: safe}}\nmethod: {{id: {method}, name: {method}, remark: {method}}}\nentrypoint: run.sh\n{extra}params:\n  - key: greeting\n    require: true\n  - key: db_password\n"
    );
    let package = tar_gz(&[
        ("method.yml", manifest.into_bytes()),
        ("run.sh", RUN_SH.as_bytes().to_vec()),
    ]);
    let (_, body) = post_component(&bench.admin, package).await;
    assert_success(&body);
}

/// Binds the parameter values of `method` on `instance`: `greeting` and the secret password.
async fn bind_greeting(bench: &Bench, instance: &str, method: &str, greeting: &str) {
    let (_, body) = bench
        .admin
        .get(&format!("/api/app/jobinstance/{method}/config/desc"))
        .await;
    let schema = assert_success(&body);
    let node = |key: &str| support::schema_node_id(&schema, key);
    let values = json!({node("greeting"): greeting, node("db_password"): DB_PASSWORD});
    bench
        .bind(
            instance,
            method,
            json!({"config": {"config_value": values}}),
        )
        .await;
}

/// Asserts that neither params.json nor a part file of its upload is left in the step's
/// package directory.
fn assert_params_removed(bench: &Bench, transport: &str, run: &str, case: &str) {
    let package = bench.step_dir(transport, "127.0.0.2", run).join("package");
    let left: Vec<String> = entries(&package)
        .into_iter()
        .filter(|name| name.contains("params.json"))
        .collect();
    assert!(
        left.is_empty(),
        "{transport}, {case}: secret files left in {}: {left:?}",
        package.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn params_json_is_private_while_the_step_runs_and_removed_however_the_step_ends() {
    let Some(bench) = Bench::start("tad-safety-params").await else {
        return;
    };
    upload_method(&bench, "safe1", "").await;
    upload_method(&bench, "safe2", "timeout_s: 2\n").await;
    let cluster = bench.cluster("params-c", &[0]).await;
    let instance = bench.instance("params", "safe", "safe1", &cluster).await;
    let timing_out = bench
        .instance("params-timeout", "safe", "safe2", &cluster)
        .await;
    bind_greeting(&bench, &timing_out, "safe2", "sleep").await;
    let modes = "params-mode=600 dir-mode=700 work-mode=700";
    for (transport, use_tad_host) in TRANSPORTS {
        // Success: the entrypoint saw 0600 in 0700; afterwards the file is gone.
        bind_greeting(&bench, &instance, "safe1", "hello").await;
        let data = bench.run(&instance, use_tad_host).await;
        let run = run_id(&data);
        let logs = bench.logs(&run).await;
        assert_eq!(data["result"], true, "{transport}: {data} {logs:?}");
        assert!(
            logs[0].1.contains(modes) && logs[0].1.contains("entry-done"),
            "{transport}: {logs:?}"
        );
        assert_params_removed(&bench, transport, &run, "success");

        // Failure of the entrypoint.
        bind_greeting(&bench, &instance, "safe1", "fail").await;
        let data = bench.run(&instance, use_tad_host).await;
        let run = run_id(&data);
        let logs = bench.logs(&run).await;
        assert_eq!(data["result"], false, "{transport}: {data}");
        assert!(logs[0].1.contains(modes), "{transport}: {logs:?}");
        assert_eq!(
            bench.tree(&run).await["steps"][0]["hosts"][0]["exit_code"],
            3,
            "{transport}"
        );
        assert_params_removed(&bench, transport, &run, "failure");

        // Timeout of the entrypoint.
        let data = bench.run(&timing_out, use_tad_host).await;
        let run = run_id(&data);
        assert_eq!(data["result"], false, "{transport}: {data}");
        assert!(
            support::has_text(&data["msg"], "timed out"),
            "{transport}: {data}"
        );
        assert_params_removed(&bench, transport, &run, "timeout");

        // Stop (6.3) while the entrypoint runs: the file is 0600 in 0700 seen from outside,
        // then gone.
        bind_greeting(&bench, &instance, "safe1", "sleep").await;
        let path = format!("/api/app/jobinstance/{instance}/executionall?wait=false");
        let body = json!({"use_tad_host": use_tad_host});
        let (_, answer) = bench.admin.post(&path, &body).await;
        let run = run_id(&assert_success(&answer));
        let step = bench.step_dir(transport, "127.0.0.2", &run);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !step.join("sleeping").exists() {
            assert!(
                Instant::now() < deadline,
                "{transport}: the entrypoint never slept"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(mode_of(&step.join("package/params.json")), 0o600);
        assert_eq!(mode_of(&step.join("package")), 0o700);
        assert_eq!(mode_of(&step), 0o700);
        let (_, answer) = bench
            .admin
            .post(
                &format!("/api/app/jobinstance/{instance}/stop_execution"),
                &json!({}),
            )
            .await;
        let data = assert_success(&answer);
        assert_eq!(data["status"], "stopped", "{transport}: {answer}");
        assert_params_removed(&bench, transport, &run, "stop");
    }
    bench.stop().await;
}
