//! Artifacts (contract 5.11, 9, 4.4 and SPEC §3): package sync of a .tar.gz holding an
//! app-config template, downloads (whole, by range, past the end), script uploads and their
//! review by another user, file text, app-config uploads and their versions, the artifact filter,
//! method packages and the component list; refusals (md5, roles, unknown ids, self review).

use serde_json::json;

use super::{Payload, Recorder};
use crate::support::{md5_hex, tar_gz};

/// Ids the jobs area binds to its steps.
pub struct Uploaded {
    /// The reviewed script's file and version.
    pub script_file: String,
    /// The app-config template's .j2 file.
    pub j2_file: String,
    /// The synced package's archive file.
    pub package_file: String,
}

/// Writes to stdout only: the order of two pipes read at once is not fixed.
pub const SCRIPT: &[u8] =
    b"#!/bin/sh\necho \"script args: $*\"\necho \"$*\" >> ./script-runs\nif [ \"$1\" = fail ]; then echo failing; exit 3; fi\n";
pub const J2: &[u8] = b"listen={{ port }}\nname=shop\n";
pub const YML: &[u8] = b"- key: port\n  rule: '^[0-9]+$'\n";

fn multipart(files: &[(&str, &[u8])], fields: &[(&'static str, String)]) -> Payload {
    Payload::Multipart {
        files: files
            .iter()
            .map(|(name, content)| ((*name).to_owned(), content.to_vec()))
            .collect(),
        fields: fields.to_vec(),
    }
}

pub async fn play(recorder: &mut Recorder) -> Uploaded {
    let package_file = package_sync(recorder).await;
    let script_file = scripts(recorder).await;
    let j2_file = configures(recorder).await;
    components(recorder).await;
    Uploaded {
        script_file,
        j2_file,
        package_file,
    }
}

async fn package_sync(recorder: &mut Recorder) -> String {
    let inner: [(&str, &[u8]); 4] = [
        ("bin/app.bin", b"fixed binary content \x00\x01\x02"),
        ("conf/httpd.conf.j2", b"Listen {{ port }}\n"),
        ("conf/httpd.conf.yml", b"- key: port\n"),
        ("README.txt", b"hello"),
    ];
    for (_, content) in inner {
        recorder.keep_md5(content);
    }
    let archive = tar_gz(
        &inner
            .iter()
            .map(|(name, content)| (*name, content.to_vec()))
            .collect::<Vec<_>>(),
    );
    let md5 = md5_hex(&archive);
    let sync = |version: &str, md5: &str| {
        format!(
            "/api/artifact/version/aos?app_id=app1&version={version}&username=aos&name=shop&md5={md5}"
        )
    };
    let answer = recorder
        .call(
            "admin",
            "POST",
            &sync("1.0.0", &md5),
            multipart(&[("shop.tar.gz", &archive)], &[]),
        )
        .await;
    let file = answer.text_at("/data/file_id");
    for (role, path) in [
        ("admin", sync("1.0.1", "ffffffffffffffffffffffffffffffff")),
        ("viewer", sync("1.0.2", &md5)),
        (
            "admin",
            format!("/api/artifact/version/aos?app_id=nope&version=1.0.3&name=shop&md5={md5}"),
        ),
        (
            "admin",
            format!("/api/artifact/version/aos?app_id=app1&md5={md5}"),
        ),
    ] {
        recorder
            .call(
                role,
                "POST",
                &path,
                multipart(&[("shop.tar.gz", &archive)], &[]),
            )
            .await;
    }
    recorder
        .call("admin", "POST", &sync("1.0.4", &md5), multipart(&[], &[]))
        .await;
    let download = format!("/api/artifact/files/{file}/download");
    recorder.get("viewer", &download).await;
    let end = format!("bytes={}-", archive.len());
    for range in ["bytes=10-19", end.as_str()] {
        recorder
            .call_with(
                "admin",
                "GET",
                &download,
                Payload::None,
                &[("range", range)],
            )
            .await;
    }
    recorder
        .get("admin", "/api/artifact/files/ghost/download")
        .await;
    file
}

/// Uploads and reviews the script; answers its file id.
async fn scripts(recorder: &mut Recorder) -> String {
    let md5s = json!({"deploy.sh": md5_hex(SCRIPT)}).to_string();
    let upload = "/api/artifact/script/aos_upload";
    let fields = |name: &str, md5s: &str| {
        vec![
            ("app_id", "app1".to_owned()),
            ("name", name.to_owned()),
            ("file_md5", md5s.to_owned()),
        ]
    };
    // A viewer, a wrong md5, no app and no md5s.
    let wrong = json!({"deploy.sh": "ffffffffffffffffffffffffffffffff"}).to_string();
    for (role, fields) in [
        ("viewer", fields("deploy", &md5s)),
        ("operator", fields("deploy", &wrong)),
        ("operator", vec![("name", "x".to_owned())]),
    ] {
        let script = multipart(&[("deploy.sh", SCRIPT)], &fields);
        recorder.call(role, "POST", upload, script).await;
    }
    let binary: &[u8] = &[0, 159, 146, 150];
    let both = json!({"deploy.sh": md5_hex(SCRIPT), "blob.bin": md5_hex(binary)}).to_string();
    let answer = recorder
        .call(
            "operator",
            "POST",
            upload,
            multipart(
                &[("deploy.sh", SCRIPT), ("blob.bin", binary)],
                &fields("deploy", &both),
            ),
        )
        .await;
    let script_file = answer.text_at("/data/0/file_id");
    let version = answer.text_at("/data/0/version_id");
    let binary_file = answer.text_at("/data/1/file_id");
    let own = b"echo mine\n";
    let own_md5 = json!({"mine.sh": md5_hex(own)}).to_string();
    let own_version = recorder
        .call(
            "admin",
            "POST",
            upload,
            multipart(&[("mine.sh", own)], &fields("mine", &own_md5)),
        )
        .await
        .text_at("/data/0/version_id");

    recorder
        .get_each(
            "viewer",
            &[
                "/api/script/index/aos_list?&application_id=app1&name=",
                "/api/script/index/aos_list?application_id=app2",
                "/api/script/index/aos_list?application_id=nope",
                "/api/script/index/aos_list",
            ],
        )
        .await;
    for role in ["admin", "operator", "viewer", "reviewer"] {
        recorder.get(role, "/api/script/index/urole_script").await;
    }
    let examine = format!("/api/script/index/examine/{version}");
    let able = json!({"method_id": version, "status": "able"});
    for (role, path, body) in [
        ("viewer", examine.clone(), able.clone()),
        ("operator", examine.clone(), able.clone()),
        (
            "reviewer",
            examine.clone(),
            json!({"method_id": "other", "status": "able"}),
        ),
        (
            "reviewer",
            examine.clone(),
            json!({"method_id": version, "status": "maybe"}),
        ),
        ("reviewer", examine.clone(), able.clone()),
        (
            "reviewer",
            "/api/script/index/examine/nope".to_owned(),
            json!({"status": "able"}),
        ),
        (
            "admin",
            format!("/api/script/index/examine/{own_version}"),
            json!({"status": "able"}),
        ),
    ] {
        recorder.post(role, &path, body).await;
    }
    for file in [script_file.as_str(), binary_file.as_str(), "ghost"] {
        recorder
            .get(
                "viewer",
                &format!("/api/script/index/detail_data/filedata/{file}"),
            )
            .await;
    }
    script_file
}

/// Uploads an app-config template (two versions); answers the first version's .j2 file id.
async fn configures(recorder: &mut Recorder) -> String {
    let upload = "/api/artifact/configure/aos_upload";
    let md5s = json!({"shop.conf.j2": md5_hex(J2), "shop.conf.yml": md5_hex(YML)}).to_string();
    let fields = |version: &str, md5s: &str| {
        vec![
            ("app_id", "app1".to_owned()),
            ("name", "shop_config".to_owned()),
            ("version", version.to_owned()),
            ("file_md5", md5s.to_owned()),
        ]
    };
    let files: [(&str, &[u8]); 2] = [("shop.conf.j2", J2), ("shop.conf.yml", YML)];
    let j2_file = recorder
        .call(
            "admin",
            "POST",
            upload,
            multipart(&files, &fields("1", &md5s)),
        )
        .await
        .text_at("/data/0/id");
    let v2: &[u8] = b"listen={{ port }}\nname=shop2\n";
    let md5s_v2 = json!({"shop.conf.j2": md5_hex(v2), "shop.conf.yml": md5_hex(YML)}).to_string();
    let second: [(&str, &[u8]); 2] = [("shop.conf.j2", v2), ("shop.conf.yml", YML)];
    // A second version, the first one again, a viewer, a .j2 without its .yml.
    for (role, files, fields) in [
        ("admin", &second[..], fields("2", &md5s_v2)),
        ("admin", &files[..], fields("1", &md5s)),
        ("viewer", &files[..], fields("3", &md5s)),
        ("admin", &files[..1], fields("4", &md5s)),
    ] {
        recorder
            .call(role, "POST", upload, multipart(files, &fields))
            .await;
    }
    let listed = recorder
        .get(
            "admin",
            "/api/artifact/filter/name/aos?application_id=app1&type=configure",
        )
        .await;
    let template = listed
        .data()
        .as_array()
        .and_then(|items| items.iter().find(|item| item["name"] == "shop_config"))
        .and_then(|item| item["id"].as_str())
        .expect("shop_config listed")
        .to_owned();
    recorder.get_each("viewer", &[
        "/api/artifact/filter/name/aos/?format=json&product_line_id=&application_id=app1&type="
            .to_owned(),
        "/api/artifact/filter/name/aos?application_id=app1&type=docker".to_owned(),
        "/api/artifact/filter/name/aos?application_id=nope&type=".to_owned(),
        "/api/artifact/filter/name/aos".to_owned(),
        format!("/api/artifact/configure/{template}/versions"),
        "/api/artifact/configure/0123456789abcdef0123456789abcdef/versions".to_owned(),
    ]).await;
    j2_file
}

/// Method packages: one with a required list parameter, one refused.
async fn components(recorder: &mut Recorder) {
    recorder.get("viewer", "/api/component/select").await;
    let manifest = "component: {id: shop, name: shop, remark: shop组件}\nmethod: {id: shop1, name: install, remark: install shop}\nentrypoint: run.sh\nparams:\n  - key: greeting\n    require: true\n  - key: ports\n    type: list-map\n    remark: 待添加端口信息\n    policy: 不变\n    children:\n      - key: port\n        rule: '^[0-9]+$'\n";
    let run_sh = "echo \"entry on $(tr -d '\\n' < params.json)\"\n";
    let package = tar_gz(&[
        ("method.yml", manifest.as_bytes().to_vec()),
        ("run.sh", run_sh.as_bytes().to_vec()),
    ]);
    let no_manifest = tar_gz(&[("run.sh", b"echo\n".to_vec())]);
    for (role, file) in [
        ("admin", &package[..]),
        ("viewer", &package[..]),
        ("admin", &no_manifest[..]),
        ("admin", b"not a tar"),
    ] {
        let upload = multipart(&[("file", file)], &[]);
        recorder
            .call(role, "POST", "/api/component/upload", upload)
            .await;
    }
    recorder.get("admin", "/api/component/select").await;
}
