//! The artifact routes through the gateway against the embedded services (real SQLite, real
//! local object store, no mocks): package sync of generated tar.gz and zip archives (contract 9
//! keys, identical downloads, exact `Range` slices), malicious archives and md5 mismatches
//! refused with nothing stored, uploads for an application that does not exist refused with
//! nothing stored, the script review flow with three users (5.11), app-config uploads and the
//! artifact filter (5.11.1), and method packages (4.4).

use crate::support;
use crate::support::fixtures::{application, post_all, product_line};
use crate::support::fixtures::{post_component, post_script, sync_package};

use std::io::Write;

use serde_json::json;
use support::{
    Api, EmbeddedPlatform, assert_failure, assert_success, md5_hex, object_keys, post_multipart,
    tar_gz,
};

const ADMIN_PASSWORD: &str = "admin-password-1";

/// The embedded platform with applications `5093` and `4` (uploads name an existing one).
async fn start() -> (EmbeddedPlatform, Api) {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(
        ADMIN_PASSWORD,
        &[("TAD_ARTIFACT_MAX_UNPACKED_BYTES", "1048576")],
    )
    .await;
    post_all(
        &admin,
        &[
            product_line("750", "服务整合平台"),
            application("5093", "消息总线(TUMS)", "750"),
            application("4", "票务", "750"),
        ],
    )
    .await;
    (platform, admin)
}

async fn download(api: &Api, url: &str, range: Option<&str>) -> reqwest::Response {
    let mut request = api.http.get(url).header(
        "authorization",
        format!("Bearer {}", api.token.as_deref().expect("token")),
    );
    if let Some(range) = range {
        request = request.header("range", range);
    }
    request.send().await.expect("GET download")
}

const SCHEMA: &str = "- key: ports\n  type: list-map\n  require: true\n  children:\n    - key: port\n      rule: '^[0-9]+$'\n";

fn package_files() -> Vec<(&'static str, Vec<u8>)> {
    let jar: Vec<u8> = (0..200_000_u32).map(|i| (i * 7 % 253) as u8).collect();
    vec![
        ("bin/app.jar", jar),
        (
            "conf/httpd.conf.j2",
            b"{% for p in ports %}Listen {{ p.port }}\n{% endfor %}".to_vec(),
        ),
        ("conf/httpd.conf.yml", SCHEMA.as_bytes().to_vec()),
        ("README.txt", b"hello".to_vec()),
    ]
}

fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, content) in files {
        writer
            .start_file(*path, zip::write::SimpleFileOptions::default())
            .expect("start");
        writer.write_all(content).expect("write");
    }
    writer.finish().expect("zip").into_inner()
}

/// A tar.gz whose single entry has a raw `name` and `kind` the tar builder would refuse.
fn raw_tar_gz(name: &str, kind: tar::EntryType, link: Option<&str>, content: &[u8]) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    {
        let gnu = header.as_gnu_mut().expect("gnu header");
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
    }
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(kind);
    if let Some(link) = link {
        header.set_link_name(link).expect("link name");
    }
    header.set_cksum();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::best(),
    ));
    builder.append(&header, content).expect("append");
    builder.into_inner().expect("tar").finish().expect("gzip")
}

fn sync_path(name: &str, version: &str, md5: &str) -> String {
    format!(
        "/api/artifact/version/aos?app_id=5093&version={version}&username=aos&name={name}&md5={md5}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_sync_of_tar_gz_and_zip_stores_files_templates_and_downloads() {
    let (platform, admin) = start().await;
    let files = package_files();
    for (archive_name, archive) in [
        ("workflow.tar.gz", tar_gz(&files)),
        ("workflow.zip", zip_of(&files)),
    ] {
        let md5 = md5_hex(&archive);
        let (status, body) = post_multipart(
            &admin,
            &sync_path("workflow", "0.0.0.1", &md5),
            &[(archive_name, archive.clone())],
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let data = assert_success(&body);
        assert_eq!(
            object_keys(&data),
            vec!["file_id", "file_name", "file_path", "md5", "version_id"],
            "{data}"
        );
        assert_eq!(data["file_name"], archive_name);
        assert_eq!(data["md5"], md5);
        let url = data["file_path"].as_str().expect("file_path");
        assert!(url.starts_with(platform.url()), "{url}");

        let response = download(&admin, url, None).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            response.headers()["content-length"]
                .to_str()
                .expect("length"),
            archive.len().to_string()
        );
        assert_eq!(
            response.headers()["x-checksum-md5"].to_str().expect("md5"),
            md5
        );
        let bytes = response.bytes().await.expect("bytes");
        assert_eq!(bytes.as_ref(), archive.as_slice(), "identical bytes");

        let response = download(&admin, url, Some("bytes=100-1099")).await;
        assert_eq!(response.status().as_u16(), 206);
        assert_eq!(
            response.headers()["content-range"].to_str().expect("range"),
            format!("bytes 100-1099/{}", archive.len())
        );
        let bytes = response.bytes().await.expect("bytes");
        assert_eq!(bytes.as_ref(), &archive[100..1100], "the exact slice");

        let response = download(&admin, url, Some(&format!("bytes={}-", archive.len()))).await;
        assert_eq!(response.status().as_u16(), 416);
    }

    // Both syncs made one package and one app-config template, each with two versions.
    let mut names: Vec<String> = admin
        .get_ok(
            "/api/artifact/filter/name/aos/?format=json&product_line_id=&application_id=5093&type=",
        )
        .await
        .as_array()
        .expect("list")
        .iter()
        .map(|item| item["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["httpd.conf", "workflow"]);
    let configure = admin
        .get_ok("/api/artifact/filter/name/aos?application_id=5093&type=configure")
        .await;
    assert_eq!(configure.as_array().map(Vec::len), Some(1));
    assert_eq!(configure[0]["name"], "httpd.conf");
    let (_, body) = admin
        .get("/api/artifact/filter/name/aos?application_id=5093&type=docker")
        .await;
    assert_failure(&body, "invalid_field");
    // Objects: per archive, the archive, two package files, the j2 and the yml.
    assert_eq!(
        platform.stored_files().len(),
        10,
        "{:?}",
        platform.stored_files()
    );
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malicious_archives_and_wrong_md5s_are_refused_with_nothing_stored() {
    let (platform, admin) = start().await;
    let bomb = {
        let zeros = vec![0_u8; 4 << 20];
        tar_gz(&[("bomb/zeros.bin", zeros)])
    };
    assert!(bomb.len() < 32 * 1024, "a small archive: {}", bomb.len());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "dotdot.tar.gz",
            raw_tar_gz("../escape.sh", tar::EntryType::Regular, None, b"x"),
            "'..'",
        ),
        (
            "absolute.tar.gz",
            raw_tar_gz("/etc/cron.d/evil", tar::EntryType::Regular, None, b"x"),
            "absolute path",
        ),
        (
            "symlink.tar.gz",
            raw_tar_gz(
                "link",
                tar::EntryType::Symlink,
                Some("../../etc/passwd"),
                b"",
            ),
            "symbolic link",
        ),
        (
            "hardlink.tar.gz",
            raw_tar_gz("hard", tar::EntryType::Link, Some("/etc/shadow"), b""),
            "hard link",
        ),
        (
            "device.tar.gz",
            raw_tar_gz("dev/sda", tar::EntryType::Block, None, b""),
            "device",
        ),
        ("bomb.tar.gz", bomb, "expands past the limit"),
    ];
    for (name, archive, expected) in cases {
        let md5 = md5_hex(&archive);
        let (status, body) = post_multipart(
            &admin,
            &sync_path("evil", "1", &md5),
            &[(name, archive)],
            &[],
        )
        .await;
        assert_eq!(status, 200, "{name}: {body}");
        let info = assert_failure(&body, "archive_rejected");
        assert!(
            info.contains(expected) && info.contains(name),
            "{name}: {info}"
        );
    }
    let archive = tar_gz(&package_files());
    let (_, body) = post_multipart(
        &admin,
        &sync_path("workflow", "1", "0123456789abcdef0123456789abcdef"),
        &[("workflow.tar.gz", archive.clone())],
        &[],
    )
    .await;
    let info = assert_failure(&body, "md5_mismatch");
    assert!(info.contains("workflow.tar.gz"), "{info}");
    let (_, body) = post_multipart(
        &admin,
        "/api/artifact/version/aos?app_id=5093&version=1&name=workflow",
        &[("workflow.tar.gz", archive)],
        &[],
    )
    .await;
    assert_eq!(assert_failure(&body, "missing_field"), "md5 is required");

    platform.assert_nothing_stored();
    assert_eq!(
        admin.get_ok("/api/artifact/filter/name/aos").await,
        json!([])
    );
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_for_an_unknown_application_are_refused_with_nothing_stored() {
    let (platform, admin) = start().await;
    let archive = tar_gz(&package_files());
    let md5 = md5_hex(&archive);
    let query = "app_id=nope&version=1.0.3&name=workflow";
    let (status, body) = sync_package(&admin, query, "workflow.tar.gz", &archive).await;
    assert_eq!(status, 200, "{body}");
    let info = assert_failure(&body, "application_not_found");
    assert_eq!(body["level"], "warning", "{body}");
    assert!(info.contains("nope"), "{info}");

    // The multipart uploads send app_id after the files.
    let script = b"#!/bin/bash\necho hi\n".to_vec();
    let (status, body) = post_script(&admin, "nope", "deploy", "deploy.sh", &script).await;
    assert_eq!(status, 200, "{body}");
    let info = assert_failure(&body, "application_not_found");
    assert_eq!(body["level"], "warning", "{body}");
    assert!(info.contains("nope"), "{info}");

    let j2 = b"Listen {{ port }}\n".to_vec();
    let yml = b"- key: port\n".to_vec();
    let (status, body) = post_multipart(
        &admin,
        "/api/artifact/configure/aos_upload",
        &[("char.j2", j2.clone()), ("char.yml", yml.clone())],
        &[
            ("app_id", "nope".into()),
            ("name", "apache_config".into()),
            (
                "file_md5",
                json!({"char.j2": md5_hex(&j2), "char.yml": md5_hex(&yml)}).to_string(),
            ),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let info = assert_failure(&body, "application_not_found");
    assert_eq!(body["level"], "warning", "{body}");
    assert!(info.contains("nope"), "{info}");

    platform.assert_nothing_stored();
    assert_eq!(
        admin
            .get_ok("/api/artifact/filter/name/aos?application_id=nope&type=")
            .await,
        json!([])
    );
    assert_eq!(
        admin.get_ok("/api/artifact/filter/name/aos").await,
        json!([])
    );
    assert_eq!(
        admin
            .get_ok("/api/script/index/aos_list?application_id=nope")
            .await,
        json!([])
    );

    // The same package sync for an application that exists is stored.
    let (_, body) = post_multipart(
        &admin,
        &sync_path("workflow", "1.0.3", &md5),
        &[("workflow.tar.gz", archive)],
        &[],
    )
    .await;
    assert_success(&body);
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_are_reviewed_by_a_reviewer_who_did_not_upload_them() {
    let (platform, admin) = start().await;
    let uploader = admin
        .login_new_user("ursula", "password-123", &["operator"])
        .await;
    let reviewer = admin
        .login_new_user("rita", "password-123", &["reviewer"])
        .await;
    let viewer = admin
        .login_new_user("victor", "password-123", &["viewer"])
        .await;

    let script = b"#coding:utf-8\r\nimport os\r\n".to_vec();
    let binary = vec![0_u8, 159, 146, 150];
    let file_md5 = json!({"nexus.py": md5_hex(&script), "blob.bin": md5_hex(&binary)}).to_string();
    let (_, body) = post_multipart(
        &viewer,
        "/api/artifact/script/aos_upload",
        &[("nexus.py", script.clone())],
        &[
            ("app_id", "4".into()),
            ("name", "poiulk".into()),
            ("file_md5", file_md5.clone()),
        ],
    )
    .await;
    assert_failure(&body, "forbidden");
    let (_, body) = post_multipart(
        &uploader,
        "/api/artifact/script/aos_upload",
        &[("nexus.py", script.clone())],
        &[
            ("app_id", "4".into()),
            ("name", "poiulk".into()),
            (
                "file_md5",
                json!({"nexus.py": "ffffffffffffffffffffffffffffffff"}).to_string(),
            ),
        ],
    )
    .await;
    assert_failure(&body, "md5_mismatch");
    assert!(platform.stored_files().is_empty());

    let (status, body) = post_multipart(
        &uploader,
        "/api/artifact/script/aos_upload",
        &[("nexus.py", script.clone()), ("blob.bin", binary)],
        &[
            ("app_id", "4".into()),
            ("file_md5", file_md5),
            ("name", "poiulk".into()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let files = assert_success(&body);
    let files = files.as_array().expect("list");
    assert_eq!(files.len(), 2);
    assert_eq!(
        object_keys(&files[0]),
        vec!["file_id", "file_name", "file_path", "md5", "version_id"]
    );
    let script_id = files[0]["version_id"].as_str().expect("version").to_owned();
    let text_file = files
        .iter()
        .find(|file| file["file_name"] == "nexus.py")
        .expect("nexus.py");
    let binary_file = files
        .iter()
        .find(|file| file["file_name"] == "blob.bin")
        .expect("blob.bin");

    assert_eq!(
        viewer
            .get_ok("/api/script/index/aos_list?&application_id=4&name=")
            .await,
        json!([{"id": script_id, "name": "poiulk"}])
    );
    assert_eq!(
        viewer
            .get_ok("/api/script/index/aos_list?application_id=5")
            .await,
        json!([])
    );

    for (api, expected) in [
        (&uploader, false),
        (&reviewer, true),
        (&viewer, false),
        (&admin, true),
    ] {
        assert_eq!(
            api.get_ok("/api/script/index/urole_script").await,
            json!(expected)
        );
    }
    let examine = format!("/api/script/index/examine/{script_id}");
    let (_, body) = viewer.post(&examine, &json!({"status": "able"})).await;
    assert_failure(&body, "forbidden");
    let (_, body) = uploader
        .post(&examine, &json!({"method_id": script_id, "status": "able"}))
        .await;
    assert_failure(&body, "forbidden");
    let (_, body) = reviewer
        .post(&examine, &json!({"method_id": "other", "status": "able"}))
        .await;
    assert_failure(&body, "invalid_field");
    let (_, body) = reviewer
        .post(
            &examine,
            &json!({"method_id": script_id, "status": "maybe"}),
        )
        .await;
    assert_failure(&body, "invalid_field");
    assert_eq!(
        reviewer
            .post_ok(&examine, &json!({"method_id": script_id, "status": "able"}))
            .await,
        json!({"name": "poiulk", "id": script_id})
    );
    let (_, body) = reviewer
        .post("/api/script/index/examine/nope", &json!({"status": "able"}))
        .await;
    assert_failure(&body, "script_not_found");

    // An admin who uploads a script cannot approve it either.
    let admin_md5 = json!({"x.sh": md5_hex(b"echo x")}).to_string();
    let (_, body) = post_multipart(
        &admin,
        "/api/artifact/script/aos_upload",
        &[("x.sh", b"echo x".to_vec())],
        &[
            ("app_id", "4".into()),
            ("name", "mine".into()),
            ("file_md5", admin_md5),
        ],
    )
    .await;
    let own_id = assert_success(&body)[0]["version_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, body) = admin
        .post(
            &format!("/api/script/index/examine/{own_id}"),
            &json!({"status": "able"}),
        )
        .await;
    assert_failure(&body, "self_review");

    assert_eq!(
        viewer
            .get_ok(&format!(
                "/api/script/index/detail_data/filedata/{}",
                text_file["file_id"].as_str().expect("id")
            ))
            .await,
        json!({"file_data": "#coding:utf-8\r\nimport os\r\n"})
    );
    let (_, body) = viewer
        .get(&format!(
            "/api/script/index/detail_data/filedata/{}",
            binary_file["file_id"].as_str().expect("id")
        ))
        .await;
    assert_failure(&body, "binary_file");
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configure_uploads_and_method_packages_answer_the_contract_shapes() {
    let (platform, admin) = start().await;
    let j2 = b"Listen {{ port }}\n".to_vec();
    let yml = b"- key: port\n".to_vec();
    let file_md5 = json!({"char.j2": md5_hex(&j2), "char.yml": md5_hex(&yml)}).to_string();
    let (_, body) = post_multipart(
        &admin,
        "/api/artifact/configure/aos_upload",
        &[("char.j2", j2.clone()), ("char.yml", yml)],
        &[
            ("app_id", "4".into()),
            ("file_md5", file_md5),
            ("name", "apache_config".into()),
            ("version", "1".into()),
        ],
    )
    .await;
    let data = assert_success(&body);
    let first = &data.as_array().expect("list")[0];
    assert_eq!(
        object_keys(first),
        vec![
            "artifact_version_id",
            "download_path",
            "filename",
            "id",
            "md5"
        ]
    );
    assert_eq!(first["filename"], "char.j2");
    let response = download(&admin, first["download_path"].as_str().expect("path"), None).await;
    assert_eq!(
        response.bytes().await.expect("bytes").as_ref(),
        j2.as_slice()
    );
    assert_eq!(
        admin
            .get_ok("/api/artifact/filter/name/aos?application_id=4&type=configure")
            .await[0]["name"],
        "apache_config"
    );

    assert_eq!(
        admin.get_ok("/api/component/select").await,
        json!([{"method": [{"path": "", "remark": "执行绑定的脚本", "config": null, "id": "cu1", "name": "custom-script"}],
                "remark": "自定义脚本组件", "id": "custom", "name": "custom"}])
    );
    let manifest = "component: {id: apa, name: apache, remark: apache组件}\nmethod: {id: apa1, name: port, remark: apache监听端口方法}\nentrypoint: run.sh\nparams:\n  - key: ports\n    type: list-map\n    remark: 待添加端口信息\n    require: true\n    policy: 不变\n    children:\n      - key: port\n        remark: 端口号\n";
    let package = tar_gz(&[
        ("method.yml", manifest.as_bytes().to_vec()),
        ("run.sh", b"echo\n".to_vec()),
    ]);
    let (_, body) = post_component(&admin, package.clone()).await;
    let uploaded = assert_success(&body);
    let components = admin.get_ok("/api/component/select").await;
    let apache = components
        .as_array()
        .expect("list")
        .iter()
        .find(|component| component["id"] == "apa")
        .expect("apa listed");
    assert_eq!(apache["name"], "apache");
    let method = &apache["method"][0];
    assert_eq!(method["id"], "apa1");
    assert_eq!(method["path"], uploaded["file_path"]);
    let config = &method["config"][0];
    assert_eq!(config["key"], "ports");
    assert_eq!(config["type"], "list-map");
    assert_eq!(config["has_subitem"], true);
    assert_eq!(config["policy"], "不变");
    assert_eq!(config["children"][0]["parentId"], config["id"]);
    assert_eq!(config["id"].as_str().map(str::len), Some(32));
    let response = download(&admin, method["path"].as_str().expect("path"), None).await;
    assert_eq!(
        response.bytes().await.expect("bytes").as_ref(),
        package.as_slice()
    );

    let viewer_less = tar_gz(&[("run.sh", b"echo\n".to_vec())]);
    let (_, body) = post_component(&admin, viewer_less).await;
    assert!(assert_failure(&body, "invalid_field").contains("method.yml"));
    platform.stop().await;
}
