//! Contract section 8 (clusters 8.1.1–8.1.10, hosts 8.2.2–8.2.7, the 5.4 / 5.8.2.1 read-back)
//! and the CMDB admin routes for clusters and hosts: successes, refusals naming the field,
//! unknown ids, a viewer refused. Leaves cluster `c-main` (env1, app1) with host 127.0.0.1 bound
//! for the jobs and executions areas.

use serde_json::{Value, json};

use super::Recorder;
use crate::support::fixtures::refused_hosts;

pub(crate) const SECRET: &str = "S3cret-ssh-passw0rd";

fn host(ip: &str, name: &str, env: &str) -> Value {
    json!({"id": 0, "host_IP": ip, "host_name": name, "remark": "r", "ssh_user": "deploy",
           "ssh_passwd": SECRET, "productLine_id": "pl1", "env_id": env})
}

pub async fn play(recorder: &mut Recorder) {
    recorder
        .get("admin", "/api/resource/clusters/cmdb_type?format=json")
        .await;
    let create = "/api/resource/clusters/aos_create";
    let main = recorder.post("admin", create, json!({"name": "c-main", "remark": "描述", "type": "TodeMPCluster", "env_id": "env1", "app_id": "app1"}))
        .await
        .text_at("/data/id");
    let other = recorder
        .post(
            "admin",
            create,
            json!({"name": "c-other", "env_id": "env2", "app_id": "app1"}),
        )
        .await
        .text_at("/data/id");
    for body in [
        json!({"name": "x", "type": "Nope", "env_id": "env1", "app_id": "app1"}),
        json!({"name": "x", "env_id": "ghost-env", "app_id": "app1"}),
        json!({"name": "x", "env_id": "env1", "app_id": "ghost-app"}),
        json!({"name": " ", "env_id": "env1", "app_id": "app1"}),
        json!({"name": "c-main", "env_id": "env1", "app_id": "app1"}),
        json!({"env_id": "env1", "app_id": "app1"}),
    ] {
        recorder.post("admin", create, body).await;
    }
    recorder
        .post(
            "viewer",
            create,
            json!({"name": "v", "env_id": "env1", "app_id": "app1"}),
        )
        .await;

    // Hosts: 127.0.0.1 (port 1: nothing listens, for 8.2.7), two more, and refusals.
    let hosts_create = "/api/resource/hosts/aos_create";
    let mut local = host("127.0.0.1", "local", "env1");
    local["ssh_port"] = json!("1");
    let h1 = recorder
        .post("admin", hosts_create, local)
        .await
        .text_at("/data/id");
    let h2 = recorder
        .post("admin", hosts_create, host("10.0.0.2", "web2", "env1"))
        .await
        .text_at("/data/id");
    let mut ported = host("10.0.0.3", "web3", "env2");
    ported["ssh_port"] = json!(2222);
    let h3 = recorder
        .post("admin", hosts_create, ported)
        .await
        .text_at("/data/id");
    let mut refusals = vec![
        host("10.0.0.999", "x", "env1"),
        host("10.0.0.2", "dup", "env1"),
    ];
    refusals.extend(refused_hosts(|ip, name| host(ip, name, "env1")));
    for body in refusals {
        recorder.post("admin", hosts_create, body).await;
    }
    recorder
        .post("operator", hosts_create, host("10.0.0.6", "op", "env1"))
        .await;

    bindings(recorder, &main, &other, [&h1, &h2, &h3]).await;
    listings(recorder, &main).await;
    edits(recorder, &main, &other, &h2, &h3).await;
    cmdb(recorder).await;
}

async fn bindings(recorder: &mut Recorder, main: &str, other: &str, hosts: [&str; 3]) {
    let [h1, h2, h3] = hosts;
    let candidates = format!("/api/resource/clusters/{main}/hosts/select/pl?format=json");
    let bound = format!("/api/resource/clusters/{main}/hosts?format=json");
    let bind = format!("/api/resource/clusters/{main}/aos_bind");
    let unbind = format!("/api/resource/clusters/{main}/unbind");
    recorder.get("admin", &candidates).await;
    for (role, path, body) in [
        ("admin", &bind, json!({"hosts": [h1, h2]})),
        ("admin", &bind, json!({"hosts": [h1]})),
        ("admin", &bind, json!({"hosts": ["no-such-host"]})),
        ("admin", &bind, json!({"hosts": [h3]})),
        ("viewer", &bind, json!({"hosts": [h2]})),
        ("admin", &bind, json!({})),
    ] {
        recorder.post(role, path, body).await;
    }
    recorder.get("admin", &bound).await;
    recorder.get("admin", &candidates).await;
    recorder
        .get("admin", "/api/resource/clusters/ghost/hosts")
        .await;
    recorder
        .get("admin", "/api/resource/clusters/ghost/hosts/select/pl")
        .await;
    recorder
        .delete(
            "admin",
            &format!("/api/resource/hosts/aos_deletes/{h2}?format=json"),
        )
        .await;
    recorder
        .post_each(
            &unbind,
            vec![
                ("viewer", json!({"hosts": [h2]})),
                ("admin", json!({"hosts": [h2]})),
                ("admin", json!({"hosts": [h2]})),
                ("admin", json!({"hosts": ["nope"]})),
            ],
        )
        .await;
    recorder
        .post(
            "admin",
            "/api/resource/clusters/ghost/unbind",
            json!({"hosts": [h2]}),
        )
        .await;
    recorder.get("admin", &bound).await;
    let other_bind = format!("/api/resource/clusters/{other}/aos_bind");
    recorder
        .post("admin", &other_bind, json!({"hosts": [h3]}))
        .await;
    // 8.2.7: no host by that ip and user; a host whose port refuses.
    recorder
        .get_each(
            "admin",
            &[
                "/api/resource/hosts/validate/10.9.9.9/root/ssh",
                "/api/resource/hosts/validate/127.0.0.1/deploy/ssh",
                "/api/resource/hosts/validate/not-an-ip/deploy/ssh",
            ],
        )
        .await;
    recorder
        .get(
            "viewer",
            "/api/resource/hosts/validate/127.0.0.1/deploy/ssh",
        )
        .await;
}

async fn listings(recorder: &mut Recorder, main: &str) {
    recorder
        .get_each(
            "admin",
            &[
                "/api/resource/hosts/aos_json?format=json&host_name=loc&productLine=pl1".to_owned(),
                "/api/resource/hosts/aos_json?productLine=pl1&page=2&page_size=1".to_owned(),
                "/api/resource/hosts/aos_json?productLine=pl1&page=9".to_owned(),
                "/api/resource/hosts/aos_json?page=x".to_owned(),
                "/api/resource/hosts/aos_json?productLine=pl1&page_size=500".to_owned(),
                "/api/resource/hosts/aos_json".to_owned(),
                "/api/resource/clusters/aos_json?format=json&app=app1&name=c-".to_owned(),
                "/api/resource/clusters/aos_json?app=app2".to_owned(),
                "/api/resource/clusters/aos_json?page=0".to_owned(),
                "/api/resource/clusters/aos_json".to_owned(),
                "/api/resource/clusters/list_4_select?format=json".to_owned(),
                format!("/api/resource/clusters/{main}/app1/select/envapp"),
                format!("/api/resource/clusters/{main}/app2/select/envapp"),
                "/api/resource/clusters/unknown-id/app1/select/envapp".to_owned(),
            ],
        )
        .await;
    recorder
        .get("viewer", "/api/resource/clusters/aos_json")
        .await;
}

async fn edits(recorder: &mut Recorder, main: &str, other: &str, h2: &str, h3: &str) {
    let mut edit = host("10.0.0.33", "web3-renamed", "env2");
    edit.as_object_mut().expect("object").remove("ssh_passwd");
    let host_update = format!("/api/resource/hosts/{h3}/update");
    recorder.post("admin", &host_update, edit.clone()).await;
    recorder.post("viewer", &host_update, edit.clone()).await;
    edit["host_IP"] = json!("bad-ip");
    recorder.post("admin", &host_update, edit.clone()).await;
    recorder
        .post(
            "admin",
            "/api/resource/hosts/ghost/update",
            host("10.0.0.44", "x", "env1"),
        )
        .await;
    let update = format!("/api/resource/clusters/{other}/update");
    recorder.post_each(&update, vec![
        (
            "admin",
            json!({"id": other, "name": "c-other-renamed", "remark": "r", "type": "ApacheCluster", "env_id": "env2", "app_id": "app1"}),
        ),
        (
            "admin",
            json!({"name": "c-main", "env_id": "env2", "app_id": "app1"}),
        ),
        (
            "admin",
            json!({"name": "x", "env_id": "ghost", "app_id": "app1"}),
        ),
        (
            "viewer",
            json!({"name": "v", "env_id": "env2", "app_id": "app1"}),
        ),
    ]).await;
    recorder
        .post(
            "admin",
            "/api/resource/clusters/ghost/update",
            json!({"name": "g", "env_id": "env1", "app_id": "app1"}),
        )
        .await;
    // Deletes: a host still bound, a cluster with hosts, the viewer, unknown ids.
    for (role, path) in [
        ("admin", format!("/api/resource/hosts/aos_deletes/{h3}")),
        ("viewer", format!("/api/resource/hosts/aos_deletes/{h2}")),
        (
            "admin",
            format!("/api/resource/hosts/aos_deletes/{h2}?format=json"),
        ),
        ("admin", "/api/resource/hosts/aos_deletes/ghost".to_owned()),
        (
            "viewer",
            format!("/api/resource/clusters/aos_deletes/{other}"),
        ),
        (
            "admin",
            format!("/api/resource/clusters/aos_deletes/{other}?format=json"),
        ),
        (
            "admin",
            format!("/api/resource/clusters/aos_deletes/{other}"),
        ),
        ("admin", format!("/api/resource/hosts/aos_deletes/{h3}")),
        ("admin", "/api/admin/envs/env1".to_owned()),
    ] {
        recorder.delete(role, &path).await;
    }
    let _ = main;
}

/// The CMDB's own routes: clusters and hosts it owns are read-only through the legacy routes.
async fn cmdb(recorder: &mut Recorder) {
    let cluster = json!({"id": "cmdb-c1", "name": "from-cmdb", "type": "TodeMPCluster", "env_id": "env1", "app_id": "app1"});
    recorder
        .post("admin", "/api/admin/clusters", cluster.clone())
        .await;
    recorder
        .post("operator", "/api/admin/clusters", cluster)
        .await;
    recorder
        .post(
            "admin",
            "/api/admin/clusters",
            json!({"id": "cmdb-c2", "env_id": "env1", "app_id": "app1"}),
        )
        .await;
    let mut cmdb_host = host("10.1.1.1", "cmdb-host", "env1");
    cmdb_host["id"] = json!("cmdb-h1");
    recorder
        .post("admin", "/api/admin/hosts", cmdb_host.clone())
        .await;
    recorder.post("viewer", "/api/admin/hosts", cmdb_host).await;
    recorder
        .post(
            "admin",
            "/api/resource/clusters/cmdb-c1/update",
            json!({"name": "renamed", "env_id": "env1", "app_id": "app1"}),
        )
        .await;
    recorder
        .post(
            "admin",
            "/api/resource/hosts/cmdb-h1/update",
            host("10.1.1.2", "x", "env1"),
        )
        .await;
    recorder
        .play_each(&[
            ("admin", "GET", "/api/admin/clusters"),
            ("admin", "GET", "/api/admin/hosts"),
            ("viewer", "GET", "/api/admin/hosts"),
            (
                "admin",
                "DELETE",
                "/api/resource/clusters/aos_deletes/cmdb-c1",
            ),
            ("admin", "DELETE", "/api/resource/hosts/aos_deletes/cmdb-h1"),
            ("operator", "DELETE", "/api/admin/hosts/cmdb-h1"),
            ("admin", "DELETE", "/api/admin/hosts/cmdb-h1"),
            ("admin", "DELETE", "/api/admin/hosts/cmdb-h1"),
            ("admin", "DELETE", "/api/admin/clusters/cmdb-c1"),
            ("admin", "DELETE", "/api/admin/clusters/ghost"),
        ])
        .await;
}
