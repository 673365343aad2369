//! The step bindings of an instance (contract 5.6.x and their read-backs 5.8.x): cluster,
//! method parameters checked against the method's schema, reviewed scripts on the cluster's
//! hosts, app-config templates with their values, artifacts, everything at once (5.6.1) and the
//! 5.8.1 read-back at both URLs; refusals name the field, host or id at fault.

use serde_json::{Value, json};

use super::{Recorder, artifact::Uploaded};

/// The ids a step is bound to.
pub struct Steps<'a> {
    /// `c-main` (env1, app1) with host 127.0.0.1.
    pub cluster: &'a str,
    /// `c-prod` (env2): outside the instances' environment.
    pub prod: &'a str,
    pub uploaded: &'a Uploaded,
}

impl Steps<'_> {
    fn script(&self, recorder: &Recorder, parameter: &str) -> Value {
        json!({"id": self.uploaded.script_file, "dest": recorder.data_path("run").display().to_string(),
               "host_IP": ["127.0.0.1"], "parameter": parameter, "execute_type": "shell"})
    }

    /// Binds the one step of `instance` (template `deploy`) to the cluster and the script.
    pub async fn ready(&self, recorder: &mut Recorder, instance: &str, parameter: &str) {
        let body = json!({"cluster": {"cluster_id": self.cluster},
                          "scripts": {"scripts_data": [self.script(recorder, parameter)]}});
        recorder
            .post(
                "admin",
                &format!("/api/app/jobinstance/{instance}/cu1/0/relation/alldata"),
                body,
            )
            .await;
    }

    pub async fn play(&self, recorder: &mut Recorder, a: &str, b: &str, shop: &str) {
        self.cluster_bindings(recorder, a).await;
        self.parameters(recorder, a, shop).await;
        self.scripts(recorder, a).await;
        self.app_configs(recorder, a).await;
        self.artifacts(recorder, a).await;
        for path in [
            format!("/api/app/jobinstance/{a}/cu1/0/alldata/read"),
            format!("/api/jobinstance/{a}/cu1/0/%E5%87%BA"),
            "/api/app/jobinstance/ghost/cu1/0/alldata/read".to_owned(),
        ] {
            let body = json!({"env_id": "", "app_id": "", "file_id": "", "jurisdiction": [""]});
            recorder.post("viewer", &path, body).await;
        }
        self.everything(recorder, b).await;
        recorder
            .get("viewer", &format!("/api/app/jobinstance/{a}/details"))
            .await;
    }

    async fn cluster_bindings(&self, recorder: &mut Recorder, a: &str) {
        let (cluster, prod) = (self.cluster, self.prod);
        for (role, path) in [
            (
                "admin",
                format!("/api/app/jobinstance/{a}/cu1/0/{prod}/relation/cluster?format=json"),
            ),
            (
                "admin",
                format!("/api/app/jobinstance/{a}/cu1/7/{cluster}/relation/cluster"),
            ),
            (
                "admin",
                format!("/api/app/jobinstance/{a}/cu1/x/{cluster}/relation/cluster"),
            ),
            (
                "admin",
                format!("/api/app/jobinstance/{a}/cu1/0/ghost/relation/cluster"),
            ),
            (
                "admin",
                format!("/api/app/jobinstance/ghost/cu1/0/{cluster}/relation/cluster"),
            ),
            (
                "viewer",
                format!("/api/app/jobinstance/{a}/cu1/0/{cluster}/relation/cluster"),
            ),
            (
                "admin",
                format!("/api/app/jobinstance/{a}/cu1/0/{cluster}/relation/cluster?format=json"),
            ),
        ] {
            recorder.post(role, &path, json!({})).await;
        }
        for path in [
            format!("/api/resource/clusters/aos_deletes/{cluster}"),
            format!("/api/admin/clusters/{cluster}"),
        ] {
            recorder.delete("admin", &path).await;
        }
        recorder
            .get(
                "admin",
                &format!("/api/app/jobinstance/{a}/cu1/-1/artifact/json"),
            )
            .await;
    }

    /// 5.8.2.5 / 5.6.2.4 / 5.8.2.6 on the custom script (no parameters) and the shop method.
    async fn parameters(&self, recorder: &mut Recorder, a: &str, shop: &str) {
        recorder
            .get_each(
                "viewer",
                &[
                    "/api/app/jobinstance/cu1/config/desc",
                    "/api/app/jobinstance/zz9/config/desc",
                ],
            )
            .await;
        let schema = recorder
            .get("viewer", "/api/app/jobinstance/shop1/config/desc")
            .await;
        let node = |key: &str| -> String {
            schema
                .data()
                .as_array()
                .and_then(|nodes| nodes.iter().find(|node| node["key"] == key))
                .and_then(|node| node["id"].as_str())
                .unwrap_or_else(|| panic!("no node {key} in {}", schema.body))
                .to_owned()
        };
        let (greeting, ports) = (node("greeting"), node("ports"));
        let port = schema
            .data()
            .as_array()
            .and_then(|nodes| nodes.iter().find(|node| node["key"] == "ports"))
            .and_then(|node| node["children"][0]["id"].as_str())
            .expect("port node")
            .to_owned();
        let update = format!("/api/app/jobinstance/{a}/cu1/0/config/update");
        for (role, path, body) in [
            (
                "admin",
                update.clone(),
                json!({"config_value": {"apa101": [{"apa10101": "8087"}]}}),
            ),
            ("admin", update.clone(), json!({"config_value": {}})),
            ("viewer", update.clone(), json!({"config_value": {}})),
            (
                "admin",
                format!("/api/app/jobinstance/{a}/cu1/7/config/update"),
                json!({"config_value": {}}),
            ),
        ] {
            recorder.post(role, &path, body).await;
        }
        let shop_update = format!("/api/app/jobinstance/{shop}/shop1/0/config/update");
        for values in [
            json!({}),
            json!({ports.clone(): [{port.clone(): "http"}]}),
            json!({greeting.clone(): "hello", ports.clone(): [{port.clone(): "8087"}]}),
        ] {
            recorder
                .post("admin", &shop_update, json!({"config_value": values}))
                .await;
        }
        recorder
            .get_each(
                "viewer",
                &[
                    format!("/api/app/jobinstance/{a}/cu1/0/config/value"),
                    format!("/api/app/jobinstance/{shop}/shop1/0/config/value"),
                    format!("/api/app/jobinstance/{shop}/details"),
                    "/api/app/jobinstance/ghost/cu1/0/config/value".to_owned(),
                ],
            )
            .await;
    }

    /// 5.6.2.5 / 5.8.2.7.
    async fn scripts(&self, recorder: &mut Recorder, a: &str) {
        let path = format!("/api/app/jobinstance/{a}/cu1/0/relation/script");
        let good = self.script(recorder, "ok first");
        let mut bad_host = good.clone();
        bad_host["host_IP"] = json!(["10.5.91.99"]);
        let mut bad_type = good.clone();
        bad_type["execute_type"] = json!("perl");
        let mut ghost = good.clone();
        ghost["id"] = json!("ghost-file");
        for (role, entry) in [
            ("admin", bad_host),
            ("admin", bad_type),
            ("admin", ghost),
            ("viewer", good.clone()),
            ("admin", good),
        ] {
            let body = json!({"script_id": "", "scripts_data": [entry]});
            recorder.post(role, &path, body).await;
        }
        recorder
            .get(
                "viewer",
                &format!("/api/app/jobinstance/{a}/cu1/0/script/json"),
            )
            .await;
    }

    /// 5.6.2.3 / 5.8.2.3 / 5.8.2.4: the template's node ids key the values.
    async fn app_configs(&self, recorder: &mut Recorder, a: &str) {
        let j2 = &self.uploaded.j2_file;
        let desc = format!("/api/app/jobinstance/{a}/cu1/0/actemplate/config/desc");
        let value = format!("/api/app/jobinstance/{a}/cu1/0/actemplate/{j2}/config/value");
        let path = format!("/api/app/jobinstance/{a}/cu1/0/relation/actemplate");
        recorder.get("viewer", &desc).await;
        recorder.get("viewer", &value).await;
        let dest = recorder.data_path("conf").display().to_string();
        let group = |configs: Value, ip: &str| json!({"dest": dest, "host_IP": [ip], "configs": configs, "targetname": "shop.conf"});
        for body in [
            json!({"file_id": j2, "groups": [group(json!({}), "127.0.0.1")]}),
            json!({"file_id": "ghost-j2", "groups": []}),
            json!({"file_id": j2, "groups": []}),
        ] {
            recorder.post("admin", &path, body).await;
        }
        let schema = recorder.get("viewer", &desc).await;
        let port = schema.text_at("/data/0/id");
        for (role, configs, ip) in [
            ("admin", json!({port.clone(): "eighty"}), "127.0.0.1"),
            ("admin", json!({port.clone(): "8080"}), "10.5.91.99"),
            ("viewer", json!({port.clone(): "8080"}), "127.0.0.1"),
            ("admin", json!({port.clone(): "8080"}), "127.0.0.1"),
        ] {
            let body = json!({"file_id": j2, "groups": [group(configs, ip)]});
            recorder.post(role, &path, body).await;
        }
        recorder.get("viewer", &value).await;
        recorder
            .get(
                "viewer",
                &format!("/api/app/jobinstance/{a}/cu1/0/actemplate/ghost/config/value"),
            )
            .await;
    }

    /// 5.6.2.2 / 5.8.2.2.
    async fn artifacts(&self, recorder: &mut Recorder, a: &str) {
        let path = format!("/api/app/jobinstance/{a}/cu1/0/relation/artifact");
        let dest = recorder.data_path("artifacts").display().to_string();
        let (package, script, j2) = (
            &self.uploaded.package_file,
            &self.uploaded.script_file,
            &self.uploaded.j2_file,
        );
        for (role, entry) in [
            (
                "admin",
                json!({"file_id": "ghost-file", "dest": "/opt", "host_IP": []}),
            ),
            (
                "admin",
                json!({"file_id": package, "dest": "", "host_IP": []}),
            ),
            (
                "admin",
                json!({"file_id": script, "dest": "/opt", "host_IP": []}),
            ),
            (
                "admin",
                json!({"file_id": package, "dest": "/opt", "host_IP": ["10.5.91.99"]}),
            ),
            (
                "viewer",
                json!({"file_id": package, "dest": dest, "host_IP": ["127.0.0.1"]}),
            ),
            (
                "admin",
                json!({"file_id": j2, "dest": dest, "host_IP": ["127.0.0.1"]}),
            ),
            (
                "admin",
                json!({"file_id": package, "dest": dest, "host_IP": ["127.0.0.1"]}),
            ),
        ] {
            let body = json!({"artifacts": [entry]});
            recorder.post(role, &path, body).await;
        }
        recorder
            .get_each(
                "viewer",
                &[
                    format!("/api/app/jobinstance/{a}/cu1/0/artifact/json"),
                    "/api/app/jobinstance/ghost/cu1/0/artifact/json".to_owned(),
                ],
            )
            .await;
    }

    /// 5.6.1 on `b`: a refused request changes nothing, then everything at once.
    async fn everything(&self, recorder: &mut Recorder, b: &str) {
        let path = format!("/api/app/jobinstance/{b}/cu1/0/relation/alldata");
        let mut bad_script = self.script(recorder, "ok second");
        bad_script["execute_type"] = json!("perl");
        let bad = json!({"cluster": {"cluster_id": self.cluster}, "scripts": {"scripts_data": [bad_script]}});
        recorder.post("admin", &path, bad).await;
        recorder
            .get("viewer", &format!("/api/app/jobinstance/{b}/details"))
            .await;
        let all = json!({
            "cluster": {"cluster_id": self.cluster},
            "config": {"config_value": {}},
            "scripts": {"scripts_data": [self.script(recorder, "ok second")]},
            "rolling": {"batch_size": 1, "pause_seconds": 0}
        });
        recorder.post("viewer", &path, all.clone()).await;
        recorder.post("admin", &path, all).await;
        recorder
            .post("admin", &path, json!({"cluster": {"cluster_id": "ghost"}}))
            .await;
        recorder
            .post(
                "viewer",
                &format!("/api/app/jobinstance/{b}/cu1/0/alldata/read"),
                json!({}),
            )
            .await;
        recorder
            .get("viewer", &format!("/api/app/jobinstance/{b}/details"))
            .await;
    }
}
