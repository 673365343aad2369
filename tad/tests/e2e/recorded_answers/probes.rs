//! The same probes on every route of the table: without a token (401 on every guarded route, the
//! public ones answering as they do), with a token that is no JWT, and with a method the path
//! does not take (405); plus the coverage check of the recording against the OpenAPI document.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Payload, Recorder};

/// Every path of the route table with sample values (unknown ids) and the methods it takes.
const ROUTES: [(&[&str], &str); 118] = [
    (&["GET", "POST"], "/api/admin/applications"),
    (&["DELETE"], "/api/admin/applications/ghost"),
    (&["GET", "POST"], "/api/admin/clusters"),
    (&["DELETE"], "/api/admin/clusters/ghost"),
    (&["GET", "POST"], "/api/admin/cluster-types"),
    (&["DELETE"], "/api/admin/cluster-types/ghost"),
    (&["GET", "POST"], "/api/admin/envs"),
    (&["DELETE"], "/api/admin/envs/ghost"),
    (&["GET", "POST"], "/api/admin/hosts"),
    (&["DELETE"], "/api/admin/hosts/ghost"),
    (&["GET", "POST"], "/api/admin/modules"),
    (&["DELETE"], "/api/admin/modules/ghost"),
    (&["GET", "POST"], "/api/admin/productlines"),
    (&["DELETE"], "/api/admin/productlines/ghost"),
    (&["GET", "POST"], "/api/admin/users"),
    (&["DELETE", "POST"], "/api/admin/users/ghost"),
    (&["GET", "POST"], "/api/admin/webhooks"),
    (&["DELETE"], "/api/admin/webhooks/ghost"),
    (&["GET"], "/api/app/applications/ghost/select_by_pl"),
    (&["GET"], "/api/app/jobinstance/aos_json"),
    (&["POST"], "/api/app/jobinstance/create"),
    (&["GET"], "/api/app/jobinstance/jobi_list_one"),
    (&["POST"], "/api/app/jobinstance/online/process/save"),
    (&["GET"], "/api/app/jobinstance/cu1/config/desc"),
    (&["DELETE"], "/api/app/jobinstance/ghost"),
    (&["POST"], "/api/app/jobinstance/ghost/copy"),
    (&["GET"], "/api/app/jobinstance/ghost/details"),
    (&["POST"], "/api/app/jobinstance/ghost/executionall"),
    (&["GET"], "/api/app/jobinstance/ghost/executions"),
    (&["GET"], "/api/app/jobinstance/ghost/online/process/export"),
    (&["POST"], "/api/app/jobinstance/ghost/rollback"),
    (&["POST"], "/api/app/jobinstance/ghost/setp_execution"),
    (&["POST"], "/api/app/jobinstance/ghost/stop_execution"),
    (&["POST"], "/api/app/jobinstance/ghost/cu1/0/alldata/read"),
    (&["GET"], "/api/app/jobinstance/ghost/cu1/0/artifact/json"),
    (
        &["GET"],
        "/api/app/jobinstance/ghost/cu1/0/actemplate/config/desc",
    ),
    (
        &["GET"],
        "/api/app/jobinstance/ghost/cu1/0/actemplate/ghost/config/value",
    ),
    (&["POST"], "/api/app/jobinstance/ghost/cu1/0/config/update"),
    (&["GET"], "/api/app/jobinstance/ghost/cu1/0/config/value"),
    (
        &["POST"],
        "/api/app/jobinstance/ghost/cu1/0/relation/alldata",
    ),
    (
        &["POST"],
        "/api/app/jobinstance/ghost/cu1/0/relation/artifact",
    ),
    (
        &["POST"],
        "/api/app/jobinstance/ghost/cu1/0/relation/actemplate",
    ),
    (
        &["POST"],
        "/api/app/jobinstance/ghost/cu1/0/relation/script",
    ),
    (&["GET"], "/api/app/jobinstance/ghost/cu1/0/script/json"),
    (
        &["POST"],
        "/api/app/jobinstance/ghost/cu1/0/ghost/relation/cluster",
    ),
    (&["GET"], "/api/app/jobtemplate/aos_json"),
    (&["POST"], "/api/app/jobtemplate/create"),
    (&["GET"], "/api/app/jobtemplate/ordinary/select"),
    (&["DELETE", "POST"], "/api/app/jobtemplate/ghost"),
    (&["POST"], "/api/app/jobtemplate/ghost/graded"),
    (&["GET"], "/api/app/jobtemplate/ghost/graded_content"),
    (&["GET"], "/api/app/jointline/aos_json"),
    (&["POST"], "/api/app/jointline/create"),
    (&["GET"], "/api/app/jointline/get_structure/ghost"),
    (&["POST"], "/api/app/jointline/save"),
    (&["POST"], "/api/app/jointline/ghost/execution"),
    (&["GET"], "/api/app/productline/select"),
    (&["POST"], "/api/artifact/configure/aos_upload"),
    (&["GET"], "/api/artifact/configure/ghost/versions"),
    (&["GET"], "/api/artifact/files/ghost/download"),
    (&["GET"], "/api/artifact/filter/name/aos"),
    (&["POST"], "/api/artifact/script/aos_upload"),
    (&["POST"], "/api/artifact/version/aos"),
    (&["POST"], "/api/auth/login"),
    (&["POST"], "/api/auth/logout"),
    (&["GET"], "/api/auth/me"),
    (&["GET"], "/api/component/select"),
    (&["POST"], "/api/component/upload"),
    (&["GET"], "/api/docs"),
    (&["GET"], "/api/docs/ghost.js"),
    (&["GET"], "/api/executions/ghost"),
    (&["GET"], "/api/executions/ghost/events"),
    (&["GET"], "/api/executions/ghost/log"),
    (&["POST"], "/api/executions/ghost/retry"),
    (&["POST"], "/api/jobinstance/ghost/cu1/0/%E5%87%BA"),
    (&["GET"], "/api/openapi.json"),
    (&["DELETE"], "/api/resource/clusters/aos_deletes/ghost"),
    (&["POST"], "/api/resource/clusters/aos_create"),
    (&["GET"], "/api/resource/clusters/aos_json"),
    (&["GET"], "/api/resource/clusters/cmdb_type"),
    (&["GET"], "/api/resource/clusters/list_4_select"),
    (&["POST"], "/api/resource/clusters/ghost/aos_bind"),
    (&["GET"], "/api/resource/clusters/ghost/hosts"),
    (&["GET"], "/api/resource/clusters/ghost/hosts/select/pl"),
    (&["POST"], "/api/resource/clusters/ghost/unbind"),
    (&["POST"], "/api/resource/clusters/ghost/update"),
    (&["GET"], "/api/resource/clusters/ghost/ghost/select/envapp"),
    (&["GET"], "/api/resource/envs/select"),
    (&["DELETE"], "/api/resource/hosts/aos_deletes/ghost"),
    (&["POST"], "/api/resource/hosts/aos_create"),
    (&["GET"], "/api/resource/hosts/aos_json"),
    (&["GET"], "/api/resource/hosts/validate/10.9.9.9/root/ssh"),
    (&["POST"], "/api/resource/hosts/ghost/update"),
    (&["GET"], "/api/script/index/aos_list"),
    (&["GET"], "/api/script/index/detail_data/filedata/ghost"),
    (&["POST"], "/api/script/index/examine/ghost"),
    (&["GET"], "/api/script/index/urole_script"),
    (&["GET"], "/api/v2/apps"),
    (&["POST"], "/api/v2/move/ghostapp/top"),
    (&["POST"], "/api/v2/ghostapp/archive/android"),
    (&["POST"], "/api/v2/ghostapp/create"),
    (&["DELETE"], "/api/v2/ghostapp/delete"),
    (&["DELETE"], "/api/v2/ghostapp/delete/android"),
    (&["POST"], "/api/v2/ghostapp/desc/android"),
    (&["POST"], "/api/v2/ghostapp/extenddesc/android"),
    (&["GET"], "/api/v2/ghostapp/last"),
    (&["GET"], "/api/v2/ghostapp/list/android"),
    (&["GET"], "/api/v2/ghostapp/mobile/last"),
    (&["GET"], "/api/v2/ghostapp/mobile/list"),
    (&["GET"], "/api/v2/ghostapp/plist/1.0.0.plist"),
    (&["POST"], "/api/v2/ghostapp/update"),
    (&["GET"], "/app/ghostapp"),
    (&["GET"], "/download/ghostapp/android/1.0.0/ghost.js"),
    (&["GET"], "/favicon.ico"),
    (&["GET"], "/healthz"),
    (&["GET"], "/metrics"),
    (&["GET"], "/readyz"),
    (&["GET"], "/static/ghost.js"),
];

/// Answers that change with every run's timings (played and recorded elsewhere).
const NOT_PROBED_ANONYMOUSLY: [&str; 2] = ["/metrics", "/api/openapi.json"];

pub async fn play(recorder: &mut Recorder) {
    for (methods, path) in ROUTES {
        for method in methods {
            if !NOT_PROBED_ANONYMOUSLY.contains(&path) {
                recorder
                    .call("anonymous", method, path, Payload::None)
                    .await;
            }
        }
        recorder.call("admin", "PUT", path, Payload::None).await;
    }
    for (method, path) in [
        ("GET", "/api/app/productline/select"),
        ("POST", "/api/admin/users"),
        ("GET", "/api/v2/apps"),
    ] {
        recorder
            .call("bad-token", method, path, Payload::None)
            .await;
    }
    recorder.get("admin", "/no/such/route").await;
    recorder.get("anonymous", "/no/such/route").await;
    recorder
        .call("admin", "PATCH", "/api/admin/users", Payload::None)
        .await;
}

/// The (method, path template) pairs of the OpenAPI document that no recorded entry played with
/// an answer other than 401 or 405. An entry counts for the most specific template it matches.
pub fn uncovered_routes(document: &Value, entries: &[Value]) -> Vec<String> {
    let mut routes: Vec<(String, String)> = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in ["get", "post", "delete", "put", "patch"] {
            if item.get(method).is_some() {
                routes.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    let mut played = BTreeSet::new();
    for entry in entries {
        let status = entry["status"].as_u64().unwrap_or(0);
        if status == 401 || status == 405 {
            continue;
        }
        let method = entry["method"].as_str().unwrap_or("");
        let path = entry["path"].as_str().unwrap_or("");
        let best = routes
            .iter()
            .filter(|(route_method, _)| route_method == method)
            .filter_map(|(_, template)| {
                specificity(template, path).map(|score| (score, template.clone()))
            })
            .max();
        if let Some((_, template)) = best {
            played.insert((method.to_owned(), template));
        }
    }
    routes
        .into_iter()
        .filter(|route| !played.contains(route))
        .map(|(method, path)| format!("{method} {path}"))
        .collect()
}

/// How many literal segments of `template` a request path matches, or `None` when it does not.
fn specificity(template: &str, path: &str) -> Option<usize> {
    let path = path.split('?').next().unwrap_or("");
    let path = percent_decode(path);
    let path = path.trim_end_matches('/');
    let wanted: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let got: Vec<&str> = path.split('/').collect();
    if wanted.len() != got.len() {
        return None;
    }
    let mut literal = 0;
    for (pattern, segment) in wanted.iter().zip(&got) {
        match pattern.find('{') {
            None if pattern == segment => literal += 1,
            None => return None,
            Some(open) => {
                let close = pattern.find('}')?;
                let (prefix, suffix) = (&pattern[..open], &pattern[close + 1..]);
                if !(segment.starts_with(prefix)
                    && segment.ends_with(suffix)
                    && segment.len() > prefix.len() + suffix.len())
                {
                    return None;
                }
            }
        }
    }
    Some(literal)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = text.get(index + 1..index + 3);
        match (
            bytes[index],
            hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()),
        ) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::uncovered_routes;

    #[test]
    fn an_entry_covers_its_most_specific_template_only() {
        let document = json!({"paths": {
            "/api/app/jobtemplate/create": {"post": {}},
            "/api/app/jobtemplate/{id}": {"post": {}, "delete": {}},
            "/api/jobinstance/{id}/{cpm_id}/{sequence}/出": {"post": {}},
            "/api/v2/{app}/plist/{version}.plist": {"get": {}},
        }});
        let entry = |method: &str, path: &str, status: u16| json!({"method": method, "path": path, "status": status});
        let entries = [
            entry("POST", "/api/app/jobtemplate/create", 200),
            entry("DELETE", "/api/app/jobtemplate/<id1>?", 200),
            entry("POST", "/api/jobinstance/<id2>/cu1/0/%E5%87%BA", 200),
            entry("GET", "/api/v2/rog2/plist/1.0.plist", 401),
        ];
        assert_eq!(
            uncovered_routes(&document, &entries),
            vec![
                "POST /api/app/jobtemplate/{id}".to_owned(),
                "GET /api/v2/{app}/plist/{version}.plist".to_owned()
            ]
        );
    }
}
