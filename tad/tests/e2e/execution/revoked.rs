//! Only what is reviewed now runs, a rollback too: a rollback runs an earlier run's snapshot,
//! which froze its scripts' review state of that day; a script whose review was revoked since
//! stops the rollback before any host, as it would stop a new deploy.

use super::*;

const REVOCABLE_SCRIPT: &[u8] = b"#!/bin/bash\necho ran >> ./revocable-runs\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rollback_runs_no_script_whose_review_was_revoked() {
    let Some((_sshd, root, _platform, admin, deployment)) =
        start_deployed("tad-revoked", &[]).await
    else {
        return;
    };
    // `configure` made reviewer rita.
    let reviewer = Api::new(&admin.base).login("rita", "password-123").await;
    let uploaded = upload_script(
        &admin,
        "app1",
        "revocable",
        "revocable.sh",
        REVOCABLE_SCRIPT,
    )
    .await;
    let version = uploaded[0]["version_id"].as_str().expect("version");
    let examine = format!("/api/script/index/examine/{version}");
    reviewer
        .post_ok(&examine, &json!({"method_id": version, "status": "able"}))
        .await;
    let deployment = Deployment {
        script_file_id: uploaded[0]["file_id"].as_str().expect("file").to_owned(),
        ..deployment
    };
    retry::bind_scripts(&admin, &deployment, &|_| String::new()).await;
    let runs_on = |ip: &str| {
        std::fs::read_to_string(
            root.join("shop-one")
                .join(ip)
                .join("scripts/revocable-runs"),
        )
        .map(|text| text.lines().count())
        .unwrap_or(0)
    };
    for _ in 0..2 {
        let answer = execute(&admin, &deployment.instance, "executionall", json!({})).await;
        assert_eq!(assert_success(&answer)["result"], true, "{answer}");
    }
    for (ip, _, _) in HOSTS {
        assert_eq!(runs_on(ip), 2, "{ip}");
    }

    // The review is revoked: rolling back to the first run (which ran the script, reviewed
    // then) runs nothing and says which script stopped it.
    reviewer
        .post_ok(
            &examine,
            &json!({"method_id": version, "status": "disable"}),
        )
        .await;
    let answer = execute(&admin, &deployment.instance, "rollback", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(data["result"], false, "{answer}");
    let message = data["msg"].to_string();
    assert!(
        message.contains("script revocable (revocable.sh) is disabled (not reviewed)"),
        "{answer}"
    );
    for (ip, _, _) in HOSTS {
        assert_eq!(runs_on(ip), 2, "nothing ran again on {ip}");
    }
}
