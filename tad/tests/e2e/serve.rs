//! End to end with the built binary: `tad serve` on a free port and a temp data dir, a first
//! admin password printed once, the catalog written through admin routes and read back through
//! contract 1.1 / 1.2, data kept across restarts, `tad import` idempotent and atomic, and
//! configuration errors that name the key.

use crate::support;
use crate::support::fixtures::{application, post_all, product_line};

use serde_json::json;
use support::{Api, assert_success, run_tad, start_serve};

/// No environment variables beyond the data directory.
const NO_ENV: [(&str, &str); 0] = [];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_prints_url_and_password_and_keeps_data_across_restarts() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (process, url) = start_serve(data_dir.path(), NO_ENV);
    let [password, secret_key] = [
        (
            "created user admin with password: ",
            "first start prints the admin password",
        ),
        (
            "appinhouse X-SecretKey: ",
            "first start prints the generated appinhouse secret key",
        ),
    ]
    .map(|(prefix, printed)| {
        let secret = process
            .stdout_text()
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .map(str::to_owned)
            .expect(printed);
        assert!(
            !process.stderr_text().contains(&secret),
            "{printed}, not in the log"
        );
        secret
    });

    let admin = Api::new(&url).login("admin", &password).await;
    post_all(
        &admin,
        &[
            product_line("5000", "OPENSRVC,USASTRAN"),
            application("5093", "服务整合", "5000"),
        ],
    )
    .await;
    assert_eq!(
        admin.get_ok("/api/app/productline/select").await,
        json!([{"id": "5000", "name": "OPENSRVC,USASTRAN"}])
    );
    let (_, body) = admin.get("/api/app/applications/5000/select_by_pl").await;
    assert_eq!(
        assert_success(&body),
        json!([{"id": "5093", "name": "服务整合"}])
    );

    let status = process.terminate();
    assert!(
        status.success(),
        "SIGTERM stops tad serve cleanly: {status}"
    );
    assert!(
        data_dir.path().join("resource.db").exists(),
        "embedded SQLite file in the data dir"
    );
    assert!(
        data_dir.path().join("jwt.key").exists(),
        "generated key in the data dir"
    );

    let (process, url) = start_serve(data_dir.path(), NO_ENV);
    assert!(
        !process.stdout_text().contains("password:"),
        "no second password: {}",
        process.stdout_text()
    );
    assert!(
        !process.stdout_text().contains("X-SecretKey"),
        "the secret key is printed once"
    );
    let created = support::http_client()
        .post(format!("{url}/api/v2/rog2/create"))
        .header("X-SecretKey", &secret_key)
        .form(&[("description", "kept key")])
        .send()
        .await
        .expect("create app")
        .text()
        .await
        .expect("body");
    assert_eq!(
        created, r#"{"code":0,"msg":""}"#,
        "the generated key is kept"
    );
    let admin = Api::new(&url).login("admin", &password).await;
    assert_eq!(
        admin
            .get_ok("/api/app/applications/5000/select_by_pl")
            .await,
        json!([{"id": "5093", "name": "服务整合"}]),
        "data kept"
    );
    process.terminate();
}

const CATALOG: &str = r#"
users:
  - {username: admin, password: imported-admin-pw, roles: [admin]}
  - {username: olga, password: operator-password, roles: [operator]}
product_lines:
  - {id: 750, name: 服务整合平台}
  - {id: "5105", name: OPENTKT}
applications:
  - {id: 5093, name: 票务, product_line_id: 750}
modules:
  - {id: m1, name: web, application_id: "5093"}
envs:
  - {id: b2fa4164776a11e79ae8005056b361cd, name: 预投产环境, remark: UAT}
cluster_types:
  - {key: ApacheCluster, value: ApacheCluster}
clusters:
  - {id: c1, name: web, type: ApacheCluster, env_id: b2fa4164776a11e79ae8005056b361cd, app_id: 5093}
hosts:
  - {id: h1, host_IP: 10.0.0.5, host_name: web1, ssh_user: deploy, ssh_passwd: imported-ssh-secret, ssh_port: 2222,
     productLine_id: 750, env_id: b2fa4164776a11e79ae8005056b361cd}
bindings:
  - {cluster_id: c1, host_ids: [h1]}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_is_idempotent_and_atomic() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let file = data_dir.path().join("catalog.yaml");
    std::fs::write(&file, CATALOG).expect("write catalog");
    let file_arg = file.to_str().expect("utf-8 path");
    for _ in 0..2 {
        let (ok, stdout, stderr) = run_tad(&["import", file_arg], &[], data_dir.path());
        assert!(ok, "import failed: {stderr}");
        assert!(
            stdout.contains(
                "2 users, 2 product lines, 1 applications, 1 modules, 1 envs, 1 cluster types"
            ),
            "{stdout}"
        );
    }

    // Refused files, each with what its error names: nothing of them is kept.
    let refused: [(&str, &str, &[&str]); 3] = [
        (
            "broken.yaml",
            "product_lines:\n  - {id: p9, name: new one}\napplications:\n  - {id: a9, name: orphan, product_line_id: nowhere}\n",
            &["nowhere", "nothing changed"],
        ),
        (
            "missing.yaml",
            "envs:\n  - {id: e1, name: ok}\n  - {id: e2, name: \"\"}\n",
            &["envs[1].name is required"],
        ),
        (
            "bad_host.yaml",
            "hosts:\n  - {id: h9, host_IP: not-an-ip, host_name: x, ssh_user: u, ssh_passwd: p, productLine_id: 750, env_id: e}\n",
            &["hosts[0]", "host_IP"],
        ),
    ];
    for (name, yaml, named) in refused {
        let path = data_dir.path().join(name);
        std::fs::write(&path, yaml).expect("write");
        let (ok, _, stderr) = run_tad(
            &["import", path.to_str().expect("utf-8")],
            &[],
            data_dir.path(),
        );
        assert!(!ok, "{name}");
        assert!(
            named.iter().all(|needle| stderr.contains(needle)),
            "{name}: {stderr}"
        );
    }

    let (process, url) = start_serve(data_dir.path(), NO_ENV);
    assert!(
        !process.stdout_text().contains("password:"),
        "imported users exist: no generated admin"
    );
    let admin = Api::new(&url).login("admin", "imported-admin-pw").await;
    let mut lines = admin
        .get_ok("/api/app/productline/select")
        .await
        .as_array()
        .cloned()
        .expect("list");
    lines.sort_by_key(|line| line["id"].as_str().map(str::to_owned));
    assert_eq!(
        lines,
        vec![
            json!({"id": "5105", "name": "OPENTKT"}),
            json!({"id": "750", "name": "服务整合平台"})
        ],
        "p9 was not kept"
    );
    assert_eq!(
        admin.get_ok("/api/app/applications/750/select_by_pl").await,
        json!([{"id": "5093", "name": "票务"}])
    );
    let envs = admin.get_ok("/api/resource/envs/select").await;
    assert_eq!(
        envs.as_array().map(Vec::len),
        Some(1),
        "e1 of the refused file was not kept"
    );
    assert_eq!(envs[0]["remark"], "UAT");
    assert_eq!(envs[0]["creator"], "import");
    let bound = admin.get_ok("/api/resource/clusters/c1/hosts").await;
    assert_eq!(bound[0]["id"], "h1");
    assert_eq!(bound[0]["ssh_port"], "2222");
    let (_, body) = admin.delete("/api/resource/hosts/aos_deletes/h1").await;
    assert_eq!(
        body["code"], "cmdb_owned",
        "imported hosts belong to the CMDB"
    );
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(data_dir.path())
        .expect("data dir")
        .flatten()
    {
        let is_catalog = entry
            .path()
            .extension()
            .is_some_and(|extension| extension == "yaml");
        if !is_catalog {
            stored.extend(std::fs::read(entry.path()).unwrap_or_default());
        }
    }
    assert!(stored.len() > 4096, "the database files were read");
    assert!(
        !stored
            .windows(19)
            .any(|window| window == b"imported-ssh-secret"),
        "no SSH password in clear on disk"
    );
    let olga = Api::new(&url).login("olga", "operator-password").await;
    let (_, body) = olga.get("/api/admin/users").await;
    assert_eq!(body["code"], "forbidden");
    process.terminate();
}

#[test]
fn configuration_errors_name_the_key() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (ok, _, stderr) = run_tad(
        &["serve"],
        &[("TAD_TIMEZONE", "Mars/Olympus")],
        data_dir.path(),
    );
    assert!(!ok);
    assert!(
        stderr.contains("TAD_TIMEZONE") && stderr.contains("Mars/Olympus"),
        "{stderr}"
    );
    let (ok, _, stderr) = run_tad(&["gateway"], &[], data_dir.path());
    assert!(!ok, "a gateway without a JWT key refuses to start");
    assert!(stderr.contains("TAD_JWT_SECRET"), "{stderr}");
    let (ok, _, stderr) = run_tad(
        &["migrate"],
        &[(
            "TAD_RESOURCE_DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/none",
        )],
        data_dir.path(),
    );
    assert!(!ok);
    assert!(
        stderr.contains("127.0.0.1") && stderr.contains("cannot open"),
        "the real error is shown: {stderr}"
    );
}
