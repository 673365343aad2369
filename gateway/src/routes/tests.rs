//! Tests of the route table: its OpenAPI document against the declarations and the real actix
//! routes.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{App, dev::Service, http::header::LOCATION, test as actix_test, web};
use futures::FutureExt;

use super::*;
use crate::openapi::{
    DOCS_PATH, DOCUMENT_PATH, docs_file, docs_page, document, path_parameters, types,
};
use crate::routing::Method;

/// The POST routes that only read (5.8.1 at both of its URLs; the dry runs of 6.1 and 2.1, which
/// keep the plan they answer but change nothing a user made).
const READING_POSTS: [&str; 4] = [
    "/api/app/jobinstance/{id}/{cpm_id}/{sequence}/alldata/read",
    "/api/jobinstance/{id}/{cpm_id}/{sequence}/出",
    "/api/app/jobinstance/{id}/plan",
    "/api/app/jointline/{id}/plan",
];

#[test]
fn every_write_route_names_its_audit_action_and_no_read_does() {
    for route in ROUTES {
        let writes = route.method != Method::Get && !READING_POSTS.contains(&route.path);
        match route.audit {
            Some(audited) => {
                assert!(
                    writes,
                    "{} {:?} reads, yet declares an audit action",
                    route.path, route.method
                );
                let (kind, verb) = audited.action.split_once('.').unwrap_or_default();
                assert!(
                    !kind.is_empty() && !verb.is_empty() && !audited.object_kind.is_empty(),
                    "{}: the action is kind.verb",
                    route.path
                );
            }
            None => assert!(
                !writes,
                "{} {:?} writes: declare .audits(action, object_kind)",
                route.path, route.method
            ),
        }
    }
}

#[test]
fn every_route_is_declared_once_and_its_path_agrees_on_the_token() {
    let mut seen = BTreeSet::new();
    for route in ROUTES {
        assert!(
            seen.insert((route.path, route.method)),
            "{:?} {} is declared twice",
            route.method,
            route.path
        );
        assert!(
            !route.tag.is_empty() && !route.summary.is_empty(),
            "{}",
            route.path
        );
        let same_path = ROUTES.iter().filter(|other| other.path == route.path);
        for other in same_path {
            assert_eq!(
                other.access.needs_token(),
                route.access.needs_token(),
                "{}: the 405 of another method needs one token rule",
                route.path
            );
        }
    }
    assert!(ROUTES.len() > 100, "only {} routes", ROUTES.len());
}

/// A JSON body is the type the handler decodes: its fields, required-ness and caps.
#[test]
fn request_bodies_are_the_decoded_types() {
    let value = serde_json::to_value(document(ROUTES)).expect("serialize");
    let schemas = &value["components"]["schemas"];
    let login = &value["paths"]["/api/auth/login"]["post"]["requestBody"];
    assert_eq!(
        login["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/LoginBody"
    );
    assert_eq!(login["required"], true);
    let body = &schemas["LoginBody"];
    assert_eq!(
        body["required"],
        serde_json::json!(["username", "password"])
    );
    assert_eq!(
        body["properties"]["username"]["maxLength"],
        common::limits::NAME.max
    );
    assert_eq!(
        body["properties"]["password"]["maxLength"],
        common::limits::PASSWORD.max
    );
    let host = &schemas["HostBody"];
    assert!(host["properties"]["host_IP"].is_object(), "{host}");
    assert!(host["properties"]["productLine_id"].is_object(), "{host}");
    assert_eq!(
        host["properties"]["remark"]["maxLength"],
        common::limits::REMARK.max
    );
    assert!(
        schemas["LegacyId"]["oneOf"].is_array(),
        "{}",
        schemas["LegacyId"]
    );
    // loose JSON values are documented with the contract's shape
    assert!(schemas["ParamsBody"]["properties"]["config_value"]["$ref"].is_string());
    assert!(schemas["ParamValues"]["additionalProperties"].is_object());
    let form = &value["paths"]["/api/v2/{app}/create"]["post"]["requestBody"]["content"];
    assert_eq!(
        form["application/x-www-form-urlencoded"]["schema"]["$ref"],
        "#/components/schemas/AppForm"
    );
    // answers name their `data` or page items where the handler's type is known
    let answer = &value["paths"]["/api/auth/login"]["post"]["responses"]["200"]["content"]["application/json"]
        ["schema"]["oneOf"];
    assert_eq!(
        answer[0]["properties"]["data"]["$ref"],
        "#/components/schemas/LoginData"
    );
    assert_eq!(answer[1]["$ref"], "#/components/schemas/TadFailure");
    let hosts = &value["paths"]["/api/resource/hosts/aos_json"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"]["oneOf"][0];
    assert_eq!(
        hosts["properties"]["results"]["items"]["$ref"],
        "#/components/schemas/HostItem"
    );
    assert_eq!(schemas["UserRecordList"]["type"], "array");
    let roles = &value["paths"]["/api/admin/productlines"]["get"]["description"];
    assert!(
        roles.as_str().is_some_and(|text| text.contains("admin")),
        "{roles}"
    );
    // every referenced schema is a component
    let text = value.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap_or_default();
        assert!(
            schemas[name].is_object(),
            "{name} is referenced but not a component"
        );
    }
}

#[test]
fn the_document_has_every_operation_with_its_parameters_and_security() {
    let value = serde_json::to_value(document(ROUTES)).expect("serialize");
    assert_eq!(value["openapi"], "3.1.0");
    let paths = value["paths"].as_object().expect("paths");
    let mut operations = 0;
    let mut ids = BTreeSet::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            operations += 1;
            assert!(
                ids.insert(operation["operationId"].to_string()),
                "{method} {path}"
            );
            let declared: BTreeSet<&str> = operation["parameters"]
                .as_array()
                .map(|parameters| {
                    parameters
                        .iter()
                        .filter(|parameter| parameter["in"] == "path")
                        .filter_map(|parameter| parameter["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            let expected: BTreeSet<&str> = path_parameters(path).into_iter().collect();
            assert_eq!(declared, expected, "{method} {path}");
            assert!(
                operation["responses"]["default"].is_object(),
                "{method} {path}"
            );
        }
    }
    assert_eq!(operations, ROUTES.len());
    let login = &value["paths"]["/api/auth/login"]["post"];
    assert!(login.get("security").is_none());
    let users = &value["paths"]["/api/admin/users"]["get"];
    assert_eq!(users["security"], serde_json::json!([{"bearer": []}]));
    let create = &value["paths"]["/api/v2/{app}/create"]["post"];
    assert_eq!(create["security"], serde_json::json!([{"secretKey": []}]));
    assert_eq!(
        value["components"]["securitySchemes"]["secretKey"]["name"],
        "X-SecretKey"
    );
}

#[test]
fn path_parameters_include_partial_segments() {
    assert_eq!(
        path_parameters("/api/v2/{app}/plist/{version}.plist"),
        vec!["app", "version"]
    );
    assert!(path_parameters("/healthz").is_empty());
}

/// Every documented route reaches its own resource in the real actix table with its method.
#[actix_web::test]
async fn every_documented_route_is_served_by_the_route_table() {
    let app = actix_test::init_service(
        App::new()
            .wrap_fn(|request, service| {
                service.call(request).map(|response| {
                    response.map(|mut response| {
                        let pattern = response.request().match_pattern().unwrap_or_default();
                        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(
                            &percent_encoding::utf8_percent_encode(
                                &pattern,
                                percent_encoding::CONTROLS,
                            )
                            .to_string(),
                        ) {
                            response.headers_mut().insert(
                                actix_web::http::header::HeaderName::from_static("x-pattern"),
                                value,
                            );
                        }
                        response
                    })
                })
            })
            .configure(configure)
            .default_service(web::to(crate::legacy::ops::not_found)),
    )
    .await;
    for route in ROUTES {
        let mut uri = route.path.to_owned();
        for name in path_parameters(route.path) {
            uri = uri.replace(&format!("{{{name}}}"), "1");
        }
        let uri =
            percent_encoding::utf8_percent_encode(&uri, percent_encoding::CONTROLS).to_string();
        let request = match route.method {
            Method::Get => actix_test::TestRequest::get(),
            Method::Post => actix_test::TestRequest::post(),
            Method::Delete => actix_test::TestRequest::delete(),
        }
        .uri(&uri)
        .to_request();
        let response = actix_test::call_service(&app, request).await;
        let pattern = response
            .headers()
            .get("x-pattern")
            .and_then(|value| value.to_str().ok())
            .map(|value| {
                percent_encoding::percent_decode_str(value)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .unwrap_or_default();
        assert_eq!(pattern, route.path, "{:?} {uri}", route.method);
        assert_ne!(response.status().as_u16(), 405, "{:?} {uri}", route.method);
    }
}

#[actix_web::test]
async fn the_swagger_ui_is_vendored_and_loads_the_document() {
    let app = actix_test::init_service(
        App::new()
            .route(DOCS_PATH, web::get().to(docs_page))
            .route("/api/docs/{file}", web::get().to(docs_file))
            .route(DOCUMENT_PATH, web::get().to(document_json)),
    )
    .await;
    let get = |uri: &str| actix_test::TestRequest::get().uri(uri).to_request();
    let response = actix_test::call_service(&app, get(DOCS_PATH)).await;
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(
        response.headers().get(LOCATION).expect("location"),
        "/api/docs/index.html"
    );
    let page = actix_test::call_and_read_body(&app, get("/api/docs/index.html")).await;
    assert!(String::from_utf8_lossy(&page).contains("swagger-ui"));
    let initializer =
        actix_test::call_and_read_body(&app, get("/api/docs/swagger-initializer.js")).await;
    assert!(String::from_utf8_lossy(&initializer).contains(DOCUMENT_PATH));
    let missing = actix_test::call_service(&app, get("/api/docs/nope.js")).await;
    assert_eq!(missing.status().as_u16(), 404);
    let document: serde_json::Value =
        actix_test::call_and_read_body_json(&app, get(DOCUMENT_PATH)).await;
    assert_eq!(document["info"]["title"], "TAD");
}

/// Two declared types never share a component name (utoipa names a schema by its type's name).
#[test]
fn component_names_are_unique() {
    let mut named: BTreeMap<String, String> = BTreeMap::new();
    for schema in ROUTES.iter().flat_map(types) {
        let mut all = vec![((schema.name)().into_owned(), (schema.schema)())];
        (schema.schemas)(&mut all);
        for (name, schema) in all {
            let text = serde_json::to_string(&schema).expect("schema");
            let known = named.entry(name.clone()).or_insert_with(|| text.clone());
            assert_eq!(*known, text, "two schemas are named {name}");
        }
    }
    assert!(named.len() > 40, "{}", named.len());
}
