//! Numbers outside their ranges and links that are not http(s), with their read-backs.

use super::*;

/// Numbers outside their ranges, and links that are not http(s): (request, field, read-back).
pub(super) fn refused_values(fixture: &Fixture) -> Vec<(Request, &'static str, String)> {
    let a = &fixture.instance;
    let joint = &fixture.joint_line;
    let structure = format!("/api/app/jointline/get_structure/{joint}");
    let node = |sequence: Value, parent: Value, top: Value| {
        json_request(
            "/api/app/jointline/save",
            json!({"id": joint, "joint": [{"jobi_id": a, "sequence": sequence, "parent": parent, "top": top, "left": 1}]}),
        )
    };
    let steps = format!("/api/app/jobinstance/{a}/cu1/0");
    let builds = "/api/v2/rog2/list/android?page=1".to_owned();
    let desc = |software_url: &str| {
        form(
            "/api/v2/rog2/desc/android",
            &[
                ("version", "6.6.6"),
                ("time", "2016-05-10T02:11:50+0800"),
                ("url", "https://ci.example/1"),
                ("software_url", software_url),
            ],
        )
    };
    vec![
        (
            node(json!(-5), json!([""]), json!(1)),
            "sequence",
            structure.clone(),
        ),
        (
            node(json!(1_i64 << 40), json!([""]), json!(1)),
            "sequence",
            structure.clone(),
        ),
        (
            node(json!(1), json!(["-1"]), json!(1)),
            "parent",
            structure.clone(),
        ),
        (
            node(json!(1), json!([""]), json!(1e12)),
            "top",
            structure.clone(),
        ),
        (
            json_request(
                &format!("{steps}/relation/alldata"),
                json!({"rolling": {"batch_size": 5_000_000, "pause_seconds": 1}}),
            ),
            "rolling.batch_size",
            format!("/api/app/jobinstance/{a}/details"),
        ),
        (
            json_request(
                "/api/resource/hosts/aos_create",
                json!({"host_IP": "10.8.0.1", "host_name": "port", "ssh_user": "u", "ssh_port": 70000,
                    "productLine_id": "750", "env_id": "envM"}),
            ),
            "ssh_port",
            "/api/admin/hosts".to_owned(),
        ),
        (
            desc("javascript:alert(document.cookie)"),
            "software_url",
            builds.clone(),
        ),
        (
            desc("data:text/html,<b>x</b>"),
            "software_url",
            builds.clone(),
        ),
        (desc("/relative/app.apk"), "software_url", builds.clone()),
        (
            form(
                "/api/v2/rog2/desc/android",
                &[
                    ("version", "6.6.7"),
                    ("time", "2016-05-10T02:11:50+0800"),
                    ("url", "javascript:alert(1)"),
                    ("software_url", "https://files.example/a.apk"),
                ],
            ),
            "url",
            builds.clone(),
        ),
        (
            form(
                "/api/v2/rog2/extenddesc/android",
                &[
                    ("version", "1.0.0"),
                    ("software_url", "javascript:alert(2)"),
                    ("extend_name", "evil"),
                    ("extend_key", "evil"),
                ],
            ),
            "software_url",
            builds,
        ),
    ]
}
