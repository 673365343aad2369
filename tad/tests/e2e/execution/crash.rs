//! A run survives a `kill -9` of its service and resumes where it stopped.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_survives_a_crash_of_its_service_and_resumes_where_it_stopped() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let crashable = CrashablePlatform::new("tad-crash");
    let root = crashable.root.clone();
    let (process, admin, deployment) = crashable.serve_configured(&sshd).await;
    let two = deployment.two_steps.clone();
    let sleeper = "20.7771";
    // The sleep is not the step's last command (an orphan of a last command is waited for, not
    // killed: see the tests below).
    bind_two_steps_scripts(
        &admin,
        &deployment,
        &[&format!("sleep {sleeper}"), "ok after the sleep"],
    )
    .await;
    let (hook_url, posts) = webhook_receiver().await;
    admin
        .post_ok("/api/admin/webhooks", &json!({"url": hook_url}))
        .await;

    let run = start_run(&admin, &two).await;
    // The script has started once it recorded its arguments (and then sleeps).
    let deadline = Instant::now() + Duration::from_secs(30);
    let runs_file = root.join("two-step2/script-runs");
    while !std::fs::read_to_string(&runs_file).is_ok_and(|runs| runs.contains("sleep")) {
        assert!(Instant::now() < deadline, "step 1 never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let tree = admin.get_ok(&format!("/api/executions/{run}")).await;
    assert_eq!(
        two_step_statuses(&tree),
        (json!("success"), json!("running"))
    );
    let first_start = tree["start_time"].clone();
    assert!(first_start.is_string(), "{tree}");

    // kill -9 in the middle of step 1, then start again on the same data.
    let (restarted, admin, tree) = crashable.crash_and_restart(process, &admin, &run).await;
    assert_eq!(
        two_step_statuses(&tree),
        (json!("success"), json!("interrupted")),
        "{tree}"
    );
    assert_eq!(tree["steps"][1]["hosts"][0]["status"], "interrupted");
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{two}/details"))
        .await;
    assert_eq!(assert_success(&body)["status"], "interrupted");
    // The interrupted run is posted to the webhooks like any finished run.
    wait_for_post(&posts, "the interrupted run", |body| {
        body["execution_id"] == run.as_str() && body["status"] == "interrupted"
    })
    .await;
    // The killed service's script (and its `sleep`) live on as orphans on the host, in their
    // own process group.
    assert!(
        processes_matching(&format!("sleep {sleeper}")) > 0,
        "the orphan lives on"
    );

    // 6.1 resumes the interrupted step (with today's binding) and never re-runs step 0; before
    // the step starts again, the orphan of the earlier attempt is killed and reaped.
    bind_two_steps_script(&admin, &deployment, "ok resumed").await;
    let answer = execute(&admin, &two, "executionall", json!({})).await;
    assert_resumed(&answer, &run);
    assert_eq!(
        admin.get_ok(&format!("/api/executions/{run}")).await["start_time"],
        first_start,
        "a resumed run keeps its first start time"
    );
    assert_step0_ran_once(&deployment, &run);
    assert_eq!(
        read(&root.join("two-step2/script-runs")),
        format!("sleep {sleeper}\nok resumed\n")
    );
    assert_eq!(
        processes_matching(&format!("sleep {sleeper}")),
        0,
        "the orphan of the attempt before the crash was killed by the resume"
    );
    let logs = all_logs(&admin, &run).await;
    assert!(
        logs.iter().any(|(_, text)| text
            .contains("was still running here: killed its process group before starting again")),
        "the resume says it killed the orphan: {logs:?}"
    );
    assert_eq!(
        admin.get_ok(&format!("/api/executions/{run}")).await["status"],
        "success"
    );

    // SIGTERM during a long step: the service releases the run (its processes killed) and
    // exits; the run is `interrupted` at once, not after a lease, and 6.1 can take it again.
    bind_two_steps_script(&admin, &deployment, &format!("sleep {sleeper}")).await;
    std::fs::remove_file(root.join("two-step2/script-runs")).expect("reset runs");
    let drained = start_run(&admin, &two).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(root.join("two-step2/script-runs"))
        .is_ok_and(|runs| runs.contains("sleep"))
        || processes_matching(&format!("sleep {sleeper}")) == 0
    {
        assert!(Instant::now() < deadline, "step 1 never started again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = restarted.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status}");
    assert_eq!(
        processes_matching(&format!("sleep {sleeper}")),
        0,
        "no process left"
    );
    let (restarted, url) = crashable.serve();
    let admin = admin.with_base(&url);
    let tree = admin.get_ok(&format!("/api/executions/{drained}")).await;
    assert_eq!(tree["status"], "interrupted", "{tree}");
    assert!(support::has_text(&tree["message"], "shut down"), "{tree}");

    restarted.terminate();
    crashable.clean_up();
}

/// Starts `tad serve` with `TAD_TEST_CRASH_AT=point` (the service aborts there, as a `kill -9`
/// would end it), runs 6.1 on `instance` and waits for the abort; answers the run's id.
async fn run_until_crash_point(
    crashable: &CrashablePlatform,
    deployment_of: impl AsyncFnOnce(&Api) -> (Deployment, String),
    point: &str,
) -> (Api, Deployment, String) {
    let (mut process, url) = crashable.serve_crashing_at(point);
    let admin = Api::new(&url).login("admin", ADMIN_PASSWORD).await;
    let (deployment, instance) = deployment_of(&admin).await;
    let run = start_run(&admin, &instance).await;
    wait_for_crash(&mut process, point).await;
    (admin, deployment, run)
}

/// Waits (up to a minute) for `process` to abort at its crash point `point`.
async fn wait_for_crash(process: &mut TadProcess, point: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while process.child.try_wait().expect("try_wait").is_none() {
        assert!(
            Instant::now() < deadline,
            "the service never reached {point}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_whose_every_host_succeeded_before_its_service_died_ends_success() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let crashable = CrashablePlatform::new("tad-crash-end");
    let root = crashable.root.clone();
    // The service dies after the one step's hosts all succeeded, before the run's end is written.
    let (admin, deployment, run) = run_until_crash_point(
        &crashable,
        async |admin: &Api| {
            let deployment = configure(admin, &sshd, &root).await;
            let instance = deployment.instance.clone();
            (deployment, instance)
        },
        "before-run-end",
    )
    .await;
    let (restarted, url) = crashable.serve();
    let admin = admin.with_base(&url);
    // The sweeper finishes it `success`; it never marks it `interrupted`, and nothing runs again.
    let tree = wait_for_status(&admin, &run, "success", Duration::from_secs(15)).await;
    assert_eq!(tree["steps"][0]["status"], "success", "{tree}");
    let (_, body) = admin
        .get(&format!(
            "/api/app/jobinstance/{}/details",
            deployment.instance
        ))
        .await;
    assert_eq!(assert_success(&body)["status"], "success");
    assert_step0_ran_once(&deployment, &run);
    restarted.terminate();
    crashable.clean_up();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_step_whose_every_host_succeeded_before_its_service_died_is_not_run_again() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let crashable = CrashablePlatform::new("tad-crash-step");
    let root = crashable.root.clone();
    // The service dies after step 0's hosts all succeeded, before the step's end is written.
    let (admin, deployment, run) = run_until_crash_point(
        &crashable,
        async |admin: &Api| {
            let deployment = configure(admin, &sshd, &root).await;
            bind_two_steps_script(admin, &deployment, "ok second").await;
            let instance = deployment.two_steps.clone();
            (deployment, instance)
        },
        "step-hosts-succeeded",
    )
    .await;
    let (restarted, url) = crashable.serve();
    let admin = admin.with_base(&url);
    let tree = wait_for_status(&admin, &run, "interrupted", Duration::from_secs(15)).await;
    assert_eq!(
        two_step_statuses(&tree),
        (json!("success"), json!("pending")),
        "the step whose hosts all succeeded counts as succeeded: {tree}"
    );
    let answer = execute(&admin, &deployment.two_steps, "executionall", json!({})).await;
    assert_resumed(&answer, &run);
    assert_step0_ran_once(&deployment, &run);
    assert_eq!(read(&root.join("two-step2/script-runs")), "ok second\n");
    restarted.terminate();
    crashable.clean_up();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_step_that_ended_on_its_host_after_its_service_died_is_not_run_again() {
    step_ended_on_its_host_is_not_run_again("tad-crash-orphan-done", "2.4441", &[], true).await;
}

/// The step's last command still runs as an orphan when the run is resumed: the resume neither
/// kills it nor starts the step again, but waits for it to end and counts its exit status (a
/// kill could land after its script's last line and before its status was kept, and the step
/// would run twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_last_command_still_running_after_its_service_died_is_waited_for() {
    step_ended_on_its_host_is_not_run_again("tad-crash-orphan-wait", "14.4443", &[], false).await;
}

/// As above, but the first resumes die too: one right after it read that the earlier attempt
/// completed the step (before recording it), one after it made the task's next attempt (before
/// reaping the earlier ones). The last resume still finds the first attempt's mark.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_step_that_ended_on_its_host_is_not_run_again_after_resumes_that_died_too() {
    let dying_resumes = ["after-reap", "before-reap"];
    step_ended_on_its_host_is_not_run_again("tad-crash-resumes", "2.4442", &dying_resumes, true)
        .await;
}

/// A step's script ends on its host (code 0) after its service was killed with `-9`; each of
/// `dying_resumes` is a crash point a 6.1 resume then reaches (the service aborts there) before
/// the last resume, which must count the step as done there and not run the script again. The
/// script sleeps `sleeper` seconds (a number no other test sleeps: it is found by `pgrep`).
/// Unless `orphan_ends_first`, the resume comes while the orphan still sleeps and waits for it.
async fn step_ended_on_its_host_is_not_run_again(
    prefix: &str,
    sleeper: &str,
    dying_resumes: &[&str],
    orphan_ends_first: bool,
) {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let crashable = CrashablePlatform::new(prefix);
    let root = crashable.root.clone();
    let (process, admin, deployment) = crashable.serve_configured(&sshd).await;
    let two = deployment.two_steps.clone();
    bind_two_steps_script(&admin, &deployment, &format!("sleep {sleeper}")).await;
    let run = start_run(&admin, &two).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let runs_file = root.join("two-step2/script-runs");
    while processes_matching(&format!("sleep {sleeper}")) == 0 {
        assert!(Instant::now() < deadline, "step 1 never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // kill -9 while the script sleeps; the orphan ends on its own (code 0) before the resume.
    let (restarted, admin, tree) = crashable.crash_and_restart(process, &admin, &run).await;
    assert_eq!(tree["steps"][1]["status"], "interrupted", "{tree}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while orphan_ends_first && processes_matching(&format!("sleep {sleeper}")) > 0 {
        assert!(Instant::now() < deadline, "the orphan never ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !orphan_ends_first {
        assert!(
            processes_matching(&format!("sleep {sleeper}")) > 0,
            "the orphan still runs when the run is resumed"
        );
    }

    let (mut restarted, mut admin) = (restarted, admin);
    for point in dying_resumes {
        restarted.terminate();
        let (mut dying, url) = crashable.serve_crashing_at(point);
        let resumed = start_run(&admin.with_base(&url), &two).await;
        assert_eq!(resumed, run, "6.1 resumes the interrupted run");
        wait_for_crash(&mut dying, point).await;
        let url;
        (restarted, url) = crashable.serve();
        admin = admin.with_base(&url);
        wait_for_status(&admin, &run, "interrupted", Duration::from_secs(15)).await;
    }

    // 6.1 resumes: the step counts as done on that host (its final command left code 0), the
    // script does not run a second time, and the params.json the orphan left is removed.
    let answer = execute(&admin, &two, "executionall", json!({})).await;
    assert_resumed(&answer, &run);
    assert_eq!(read(&runs_file), format!("sleep {sleeper}\n"), "ran once");
    let logs = all_logs(&admin, &run).await;
    assert!(
        logs.iter().any(|(ip, text)| ip == "127.0.0.2"
            && text.contains("completed this step here with code 0 after its service stopped")),
        "the resume says the earlier attempt completed: {logs:?}"
    );
    assert_eq!(
        logs.iter().any(|(_, text)| text
            .contains("still runs its last command here after its service stopped: waiting")),
        !orphan_ends_first,
        "the resume says it waited for the orphan exactly when it still ran: {logs:?}"
    );
    assert_eq!(processes_matching(&format!("sleep {sleeper}")), 0);
    assert!(
        !step_dir(&deployment, "ssh", "127.0.0.2", &run, 1)
            .join("params.json")
            .exists(),
        "no params.json left on the host"
    );
    // No exit status mark of the run is left on any host (read by the resume, or removed once
    // the outcome was recorded).
    let tree = admin.get_ok(&format!("/api/executions/{run}")).await;
    let tasks: Vec<String> = tree["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .flat_map(|step| step["hosts"].as_array().expect("hosts").clone())
        .map(|host| host["id"].as_str().expect("id").to_owned())
        .collect();
    for user in [PASSWORD_USER, KEY_USER] {
        let uid = std::process::Command::new("id")
            .args(["-u", user])
            .output()
            .expect("id -u");
        let dir = format!("/tmp/tad-{}", String::from_utf8_lossy(&uid.stdout).trim());
        let marks: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                    .filter(|name| {
                        name.ends_with(".pid.exit") && tasks.iter().any(|task| name.contains(task))
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert!(marks.is_empty(), "marks left in {dir}: {marks:?}");
    }
    restarted.terminate();
    crashable.clean_up();
}
