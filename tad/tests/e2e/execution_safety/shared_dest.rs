//! Two hosts writing one destination both succeed, and a failed host never shows exit code 0.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hosts_writing_one_dest_both_succeed_and_a_failed_host_never_shows_exit_code_zero() {
    let Some(bench) = Bench::start("tad-safety-shared").await else {
        return;
    };
    let cluster = bench.cluster("shared-c", &[0, 1]).await;
    let instance = bench.instance("shared", "custom", "cu1", &cluster).await;
    // 4 MiB that do not compress.
    let payload = tar_gz(&[("shared.bin", noise(1, 4 * 1024 * 1024))]);
    let file_id = bench.artifact("shared", "shared.tar.gz", &payload).await;
    let expected = md5_hex(&payload);
    // Written over SSH (as tadexec) and locally (as root) in turns: not sticky, so that each
    // may replace the other's file.
    let dest = bench.root.join("shared");
    std::fs::create_dir(&dest).expect("dest");
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    bench
        .bind(
            &instance,
            "cu1",
            json!({"artifacts": [{"file_id": file_id, "dest": dest.display().to_string(), "host_IP": []}]}),
        )
        .await;
    for round in 0..10 {
        for (transport, use_tad_host) in TRANSPORTS {
            let data = bench.run(&instance, use_tad_host).await;
            let run = run_id(&data);
            if data["result"] != true {
                panic!(
                    "{transport}, round {round}: {data} {:?}",
                    bench.logs(&run).await
                );
            }
            let tree = bench.tree(&run).await;
            let hosts = tree["steps"][0]["hosts"].as_array().expect("hosts");
            assert_eq!(hosts.len(), 2, "{tree}");
            assert!(
                hosts
                    .iter()
                    .all(|host| host["status"] == "success" && host["exit_code"] == 0),
                "{tree}"
            );
            assert_eq!(
                md5_hex(&std::fs::read(dest.join("shared.tar.gz")).expect("pushed")),
                expected,
                "{transport}, round {round}"
            );
            assert_eq!(
                entries(&dest),
                ["shared.tar.gz"],
                "{transport}, round {round}: no temporary file left"
            );
        }
    }

    // The upload fails (its dest runs through a regular file) after the work directory was
    // prepared by a command that exited 0: the failed host shows no exit code, never 0.
    let blocker = bench.root.join("blocker");
    std::fs::write(&blocker, b"a file, not a directory\n").expect("blocker");
    bench
        .bind(
            &instance,
            "cu1",
            json!({"artifacts": [{"file_id": file_id, "dest": blocker.join("sub").display().to_string(), "host_IP": []}]}),
        )
        .await;
    for (transport, use_tad_host) in TRANSPORTS {
        let data = bench.run(&instance, use_tad_host).await;
        assert_eq!(data["result"], false, "{transport}: {data}");
        let tree = bench.tree(&run_id(&data)).await;
        let hosts = tree["steps"][0]["hosts"].as_array().expect("hosts");
        assert_eq!(hosts.len(), 2, "{tree}");
        for host in hosts {
            assert_eq!(host["status"], "failed", "{transport}: {host}");
            assert_ne!(host["exit_code"], 0, "{transport}: {host}");
        }
    }
    bench.stop().await;
}
