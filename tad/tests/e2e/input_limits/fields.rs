//! Every capped free-text field of every write route, with its cap and read-back.

use super::*;

/// Every capped field of every write route.
pub(super) fn fields(context: &Context, fixture: &Fixture) -> Vec<Field> {
    let n = || context.counter.clone();
    let a = fixture.instance.clone();
    let script_file = fixture.script_file.clone();
    let steps = format!("/api/app/jobinstance/{a}/cu1/0");
    let scripts_read = format!("{steps}/script/json");
    let mut list = vec![
        // svc-resource: catalog and users (admin routes)
        field("name", 128, false, "/api/admin/productlines", |v| {
            json_request("/api/admin/productlines", json!({"name": v}))
        }),
        field("name", 128, false, "/api/admin/applications", |v| {
            json_request(
                "/api/admin/applications",
                json!({"name": v, "product_line_id": "750"}),
            )
        }),
        field("name", 128, false, "/api/admin/modules", |v| {
            json_request(
                "/api/admin/modules",
                json!({"name": v, "application_id": "5093"}),
            )
        }),
        field("name", 128, false, "/api/admin/envs", |v| {
            json_request("/api/admin/envs", json!({"name": v}))
        }),
        field("remark", 4096, true, "/api/admin/envs", |v| {
            json_request("/api/admin/envs", json!({"name": "e", "remark": v}))
        }),
        field("key", 128, false, "/api/admin/cluster-types", |v| {
            json_request("/api/admin/cluster-types", json!({"key": v, "value": "v"}))
        }),
        field("value", 128, false, "/api/admin/cluster-types", |v| {
            json_request("/api/admin/cluster-types", json!({"key": "k", "value": v}))
        }),
        field("username", 128, false, "/api/admin/users", |v| {
            json_request(
                "/api/admin/users",
                json!({"username": v, "password": "password-1", "roles": ["viewer"]}),
            )
        }),
        field("password", 1024, false, "/api/admin/users", {
            let n = n();
            move |v| {
                let user = format!("pw-user-{}", n.fetch_add(1, Ordering::SeqCst));
                json_request(
                    "/api/admin/users",
                    json!({"username": user, "password": v, "roles": ["viewer"]}),
                )
            }
        })
        .hidden(),
        field("roles", 128, false, "/api/admin/users", {
            let n = n();
            move |v| {
                let user = format!("role-user-{}", n.fetch_add(1, Ordering::SeqCst));
                json_request(
                    "/api/admin/users",
                    json!({"username": user, "password": "password-1", "roles": [v]}),
                )
            }
        })
        .not_at_cap(),
        // svc-resource: clusters and hosts (contract 8)
        field("name", 128, false, "/api/admin/clusters", |v| {
            json_request(
                "/api/resource/clusters/aos_create",
                json!({"name": v, "env_id": "envM", "app_id": "5093"}),
            )
        }),
        field("remark", 4096, true, "/api/admin/clusters", {
            let n = n();
            move |v| {
                let name = format!("cl-{}", n.fetch_add(1, Ordering::SeqCst));
                json_request(
                    "/api/resource/clusters/aos_create",
                    json!({"name": name, "remark": v, "env_id": "envM", "app_id": "5093"}),
                )
            }
        }),
        field("type", 128, false, "/api/admin/clusters", |v| {
            json_request(
                "/api/resource/clusters/aos_create",
                json!({"name": "typed", "type": v, "env_id": "envM", "app_id": "5093"}),
            )
        })
        .not_at_cap(),
    ];
    let host = |field_name: &'static str, max: usize, multiline: bool| {
        let n = n();
        field(field_name, max, multiline, "/api/admin/hosts", move |v| {
            let count = n.fetch_add(1, Ordering::SeqCst);
            let mut body = json!({"host_IP": format!("10.9.{}.{}", count / 200, count % 200 + 1),
                "host_name": format!("h{count}"), "ssh_user": "deploy", "ssh_passwd": "pw",
                "productLine_id": "750", "env_id": "envM"});
            body[field_name] = json!(v);
            json_request("/api/resource/hosts/aos_create", body)
        })
    };
    list.extend([
        host("host_name", 128, false),
        host("remark", 4096, true),
        host("ssh_user", 64, false),
        host("ssh_passwd", 16 * 1024, true).hidden(),
        host("ssh_private_key", 16 * 1024, true)
            .prefixed("-----BEGIN ")
            .hidden(),
        host("host_IP", 64, false).not_at_cap(),
        host("ssh_port", 64, false).not_at_cap(),
    ]);
    // svc-jobs: templates, instances, joint lines
    let templates = "/api/app/jobtemplate/aos_json?page_size=100";
    let instances = "/api/app/jobinstance/aos_json?page_size=100";
    let joint_lines = "/api/app/jointline/aos_json?page_size=100";
    list.extend([
        field("name", 128, false, templates, |v| {
            json_request(
                "/api/app/jobtemplate/create",
                json!({"name": v, "application_id": "5093"}),
            )
        }),
        field("remark", 4096, true, templates, |v| {
            json_request(
                "/api/app/jobtemplate/create",
                json!({"name": "t", "remark": v, "application_id": "5093"}),
            )
        }),
        field("type", 128, false, templates, |v| {
            json_request(
                "/api/app/jobtemplate/create",
                json!({"name": "t", "type": v, "application_id": "5093"}),
            )
        }),
        field("deploy_type", 64, false, templates, |v| {
            json_request(
                "/api/app/jobtemplate/create",
                json!({"name": "t", "deploy_type": v, "application_id": "5093"}),
            )
        })
        .not_at_cap(),
        field("jobt_rollback_id", 64, false, templates, |v| {
            json_request(
                "/api/app/jobtemplate/create",
                json!({"name": "t", "jobt_rollback_id": v, "application_id": "5093"}),
            )
        })
        .not_at_cap(),
        field("name", 128, false, instances, {
            let template = fixture.template.clone();
            move |v| {
                json_request(
                    "/api/app/jobinstance/create",
                    json!({"name": v, "env_id": "envM", "application_id": "5093", "job_template_id": template.clone()}),
                )
            }
        }),
        field("remark", 4096, true, instances, {
            let template = fixture.template.clone();
            move |v| {
                json_request(
                    "/api/app/jobinstance/create",
                    json!({"name": "i", "remark": v, "env_id": "envM", "application_id": "5093", "job_template_id": template.clone()}),
                )
            }
        }),
        field("name", 128, false, instances, {
            let a = a.clone();
            move |v| {
                json_request(
                    &format!("/api/app/jobinstance/{a}/copy"),
                    json!({"name": v}),
                )
            }
        }),
        field("remark", 4096, true, instances, {
            let a = a.clone();
            move |v| {
                json_request(
                    &format!("/api/app/jobinstance/{a}/copy"),
                    json!({"name": "copy", "remark": v}),
                )
            }
        }),
        field("name", 128, false, joint_lines, |v| {
            json_request(
                "/api/app/jointline/create",
                json!({"name": v, "productline_id": "750"}),
            )
        }),
        field("remark", 4096, true, joint_lines, |v| {
            json_request(
                "/api/app/jointline/create",
                json!({"name": "j", "remark": v, "productline_id": "750"}),
            )
        }),
    ]);
    // svc-jobs: step bindings (5.6.2.x) and work orders (7.3)
    let script = |field_name: &'static str, max: usize, key: &'static str| {
        let (steps, script_file) = (steps.clone(), script_file.clone());
        field(field_name, max, false, &scripts_read, move |v| {
            let mut entry = json!({"id": script_file, "dest": "/opt/x", "host_IP": ["10.5.91.37"],
                "parameter": "--now", "execute_type": "shell"});
            entry[key] = if key == "host_IP" {
                json!([v])
            } else {
                json!(v)
            };
            json_request(
                &format!("{steps}/relation/script"),
                json!({"script_id": "", "scripts_data": [entry]}),
            )
        })
    };
    list.extend([
        script("scripts_data.dest", 1024, "dest"),
        script("parameter", 4096, "parameter"),
        script("execute_type", 64, "execute_type").not_at_cap(),
        script("host_IP", 64, "host_IP").not_at_cap(),
        field("artifacts.dest", 1024, false, &format!("{steps}/artifact/json"), {
            let steps = steps.clone();
            move |v| {
                json_request(
                    &format!("{steps}/relation/artifact"),
                    json!({"artifacts": [{"file_id": "ghost-file", "dest": v, "host_IP": []}]}),
                )
            }
        })
        .not_at_cap(),
        field("groups.dest", 1024, false, &format!("{steps}/config/value"), {
            let steps = steps.clone();
            move |v| {
                json_request(
                    &format!("{steps}/relation/actemplate"),
                    json!({"file_id": "ghost-j2", "groups": [{"dest": v, "host_IP": [], "configs": {}}]}),
                )
            }
        })
        .not_at_cap(),
        field("groups.targetname", 1024, false, &format!("{steps}/config/value"), {
            let steps = steps.clone();
            move |v| {
                json_request(
                    &format!("{steps}/relation/actemplate"),
                    json!({"file_id": "ghost-j2", "groups": [{"dest": "/etc", "targetname": v, "host_IP": [], "configs": {}}]}),
                )
            }
        })
        .not_at_cap(),
        field("config_value", 4096, true, &format!("{steps}/config/value"), {
            let steps = steps.clone();
            move |v| {
                json_request(
                    &format!("{steps}/config/update"),
                    json!({"config_value": {"k": v}}),
                )
            }
        })
        .not_at_cap(),
        field("excel_data", 4096, true, &format!("/api/app/jobinstance/{a}/details"), {
            let a = a.clone();
            move |v| {
                json_request(
                    "/api/app/jobinstance/online/process/save",
                    json!({"job_instance_id": a, "excel_data": {"工单": v}}),
                )
            }
        }),
        field("doc_id", 64, false, &format!("/api/app/jobinstance/{a}/details"), {
            let a = a.clone();
            move |v| {
                json_request(
                    "/api/app/jobinstance/online/process/save",
                    json!({"job_instance_id": a, "doc_id": v, "excel_data": {}}),
                )
            }
        })
        .not_at_cap(),
        field("url", 2048, false, "/api/admin/webhooks", |v| {
            json_request("/api/admin/webhooks", json!({"url": v}))
        })
        .prefixed("https://hooks.example/"),
    ]);
    // svc-artifact: script upload fields and review
    let scripts_list = "/api/script/index/aos_list?application_id=5093";
    list.extend([
        field("name", 128, false, scripts_list, |v| {
            Request::Script(vec![("app_id", "5093".into()), ("name", v.to_owned())])
        }),
        field("app_id", 64, false, scripts_list, |v| {
            Request::Script(vec![("app_id", v.to_owned()), ("name", "s".into())])
        })
        .not_at_cap(),
        field("status", 64, false, scripts_list, {
            let version = fixture.script_version.clone();
            move |v| {
                json_request(
                    &format!("/api/script/index/examine/{version}"),
                    json!({"status": v}),
                )
            }
        })
        .not_at_cap(),
    ]);
    // svc-appinhouse: app texts, builds and extra downloads (form fields, code 1001)
    let builds = "/api/v2/rog2/list/android?page=1";
    let desc = |field_name: &'static str, max: usize, multiline: bool| {
        field(field_name, max, multiline, builds, move |v| {
            let mut fields = vec![
                ("version", "1.0.0"),
                ("time", "2016-05-10T02:11:50+0800"),
                ("url", "https://ci.example/1"),
                ("software_url", "https://files.example/app.apk"),
            ];
            fields.retain(|(name, _)| *name != field_name);
            fields.push((field_name, v));
            form("/api/v2/rog2/desc/android", &fields)
        })
    };
    list.extend([
        field("description", 4096, true, "/app/rog2", |v| {
            form("/api/v2/rog2/update", &[("description", v), ("alias", "a")])
        }),
        field("alias", 128, false, "/app/rog2", |v| {
            form("/api/v2/rog2/update", &[("description", "d"), ("alias", v)])
        }),
        desc("url", 2048, false).prefixed("https://ci.example/"),
        desc("software_url", 2048, false).prefixed("https://files.example/"),
        desc("description", 4096, true),
        desc("plist_bundle_identifier", 128, false).hidden(),
        desc("plist_title", 128, false).hidden(),
        field("software_url", 2048, false, builds, |v| {
            form(
                "/api/v2/rog2/extenddesc/android",
                &[
                    ("version", "1.0.0"),
                    ("software_url", v),
                    ("extend_name", "e"),
                    ("extend_key", "k"),
                ],
            )
        })
        .prefixed("https://files.example/"),
        field("extend_name", 128, false, builds, |v| {
            form(
                "/api/v2/rog2/extenddesc/android",
                &[
                    ("version", "1.0.0"),
                    ("software_url", "https://files.example/x.apk"),
                    ("extend_name", v),
                    ("extend_key", "k2"),
                ],
            )
        }),
    ]);
    list
}
