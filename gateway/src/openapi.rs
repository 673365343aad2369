//! The OpenAPI 3.1 document of the gateway, built with utoipa's builder API from the route
//! table (`routes.rs`: one declaration per route gives each operation its path, method, tag,
//! summary, contract section, security, parameters, request body schema and answer), served at
//! `GET /api/openapi.json`, plus the vendored Swagger UI at `/api/docs`. Request bodies are the
//! schemas utoipa derives from the types the handlers decode (`#[derive(ToSchema)]`), so a
//! fuzzer's bodies get past the gateway's type checks to the services' rules.

pub mod contract;
mod shapes;

use std::{collections::BTreeMap, sync::Arc};

use actix_web::{
    HttpResponse,
    http::header::{CONTENT_ENCODING, ContentEncoding, LOCATION},
    web,
};
use proto::ErrorReason;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, RefOr, Required,
    Schema, Tag,
    path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathsBuilder},
    request_body::RequestBodyBuilder,
    schema::Type,
    security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme},
};

use self::shapes::{JSON, names, responses, type_ref, typed};
use crate::{
    error::ApiError,
    routing::{Access, Answer, Body, Method, Route, TypeSchema},
};

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/api/openapi.json";
/// Where the Swagger UI is served (its files under `/api/docs/{file}`).
pub const DOCS_PATH: &str = "/api/docs";

fn http_method(method: Method) -> HttpMethod {
    match method {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
        Method::Delete => HttpMethod::Delete,
    }
}

/// The `{name}` segments of a path (also `{version}` in `{version}.plist`).
pub(crate) fn path_parameters(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

fn operation_id(route: &Route) -> String {
    let method = match route.method {
        Method::Get => "get",
        Method::Post => "post",
        Method::Delete => "delete",
    };
    let path: String = route
        .path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{method}{path}")
}

/// The operation's description: its contract section and the roles the gateway requires.
fn description(route: &Route) -> Option<String> {
    let mut lines = Vec::new();
    if !route.section.is_empty() {
        lines.push(format!("Contract: {}.", route.section));
    }
    if let Access::Bearer(roles) = route.access
        && !roles.is_empty()
    {
        let names = crate::routing::admitted_role_names(roles);
        lines.push(format!(
            "Role: {} (checked by the gateway).",
            names.join(" or ")
        ));
    }
    (!lines.is_empty()).then(|| lines.join(" "))
}

fn operation(route: &Route) -> utoipa::openapi::path::Operation {
    let mut builder = OperationBuilder::new()
        .tag(route.tag)
        .summary(Some(route.summary))
        .description(description(route))
        .operation_id(Some(operation_id(route)));
    for name in path_parameters(route.path) {
        let schema = if name == "sequence" {
            typed(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(u32::MAX))
        } else {
            typed(Type::String)
        };
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(schema)),
        );
    }
    for name in route.query {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .schema(Some(typed(Type::String))),
        );
    }
    for (name, description, max_length) in route.headers {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(*description))
                .schema(Some(
                    typed(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(*max_length)),
                )),
        );
    }
    let body = match route.body {
        Body::None => None,
        Body::Json(schema) => Some((JSON, schema, Required::True)),
        Body::OptionalJson(schema) => Some((JSON, schema, Required::False)),
        Body::Multipart(schema) => Some(("multipart/form-data", schema, Required::True)),
        Body::Form(schema) => Some(("application/x-www-form-urlencoded", schema, Required::False)),
    };
    if let Some((media_type, schema, required)) = body {
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .content(
                    media_type,
                    ContentBuilder::new()
                        .schema(Some(type_ref(&schema)))
                        .build(),
                )
                .required(Some(required))
                .build(),
        ));
    }
    for (status, response) in responses(route.answer) {
        builder = builder.response(status, response);
    }
    let security = match route.access {
        Access::Bearer(_) => Some(names::BEARER),
        Access::SecretKey => Some(names::SECRET_KEY),
        Access::Public => None,
    };
    if let Some(scheme) = security {
        builder = builder.security(SecurityRequirement::new(scheme, Vec::<String>::new()));
    }
    builder.build()
}

/// The declared types of a route (body, `data` or page item).
pub(crate) fn types(route: &Route) -> impl Iterator<Item = TypeSchema> {
    let body = match route.body {
        Body::None => None,
        Body::Json(schema)
        | Body::OptionalJson(schema)
        | Body::Multipart(schema)
        | Body::Form(schema) => Some(schema),
    };
    let answer = match route.answer {
        Answer::Envelope(data) => data,
        Answer::Page(item) => item,
        _ => None,
    };
    body.into_iter().chain(answer)
}

/// The schemas of the shared shapes and of every declared type (and the types they refer to),
/// by name.
fn components(routes: &[Route]) -> BTreeMap<String, RefOr<Schema>> {
    let mut named: Vec<(String, RefOr<Schema>)> = shapes::schemas()
        .into_iter()
        .map(|(name, schema)| (name.to_owned(), schema))
        .collect();
    for schema in routes.iter().flat_map(types) {
        named.push(((schema.name)().into_owned(), (schema.schema)()));
        (schema.schemas)(&mut named);
    }
    named.into_iter().collect()
}

/// The document of every route in `routes` (the gateway's table, `crate::routes::ROUTES`).
pub fn document(routes: &[Route]) -> OpenApi {
    let mut items: BTreeMap<&str, PathItem> = BTreeMap::new();
    let mut tags: Vec<&str> = Vec::new();
    for route in routes {
        let method = http_method(route.method);
        items
            .entry(route.path)
            .and_modify(|item| {
                item.merge_operations(PathItem::new(method.clone(), operation(route)))
            })
            .or_insert_with(|| PathItem::new(method.clone(), operation(route)));
        if !tags.contains(&route.tag) {
            tags.push(route.tag);
        }
    }
    let paths = items
        .into_iter()
        .fold(PathsBuilder::new(), |paths, (path, item)| {
            paths.path(path, item)
        });
    let components = components(routes)
        .into_iter()
        .fold(ComponentsBuilder::new(), |components, (name, schema)| {
            components.schema(name, schema)
        })
        .security_scheme(
            names::BEARER,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The token of `POST /api/auth/login`"))
                    .build(),
            ),
        )
        .security_scheme(
            names::SECRET_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-SecretKey",
                "appinhouse writes (config `secret_key`)",
            ))),
        );
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("TAD")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The TAD gateway: the legacy JSON API and the appinhouse contract. TAD \
                     answers are the envelope `{info,data,success,level}` (a failure adds \
                     `code`, HTTP 200 for domain failures, 401 without a valid token) or a page \
                     `{count,page,results}`; appinhouse answers `{code,msg,...}`.",
                )),
        )
        .paths(paths)
        .components(Some(components.build()))
        .tags(Some(tags.into_iter().map(Tag::new)))
        .build()
}

/// The serialized document of `routes`, or why it cannot be serialized.
pub fn document_text(routes: &[Route]) -> Result<String, String> {
    serde_json::to_string(&document(routes)).map_err(|e| e.to_string())
}

/// `GET /api/openapi.json`: the answer for a document serialized by [`document_text`].
pub fn document_answer(text: &Result<String, String>) -> Result<HttpResponse, ApiError> {
    match text {
        Ok(text) => Ok(HttpResponse::Ok()
            .content_type("application/json")
            .body(text.clone())),
        Err(error) => Err(ApiError::new(
            ErrorReason::InternalError,
            format!("cannot render the OpenAPI document: {error}"),
        )),
    }
}

/// `GET /api/docs`: to the UI's page (its files are relative to `/api/docs/`).
pub async fn docs_page() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((LOCATION, "/api/docs/index.html"))
        .finish()
}

/// `GET /api/docs/{file}`: a file of the vendored Swagger UI, configured to load the document.
pub async fn docs_file(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let file = file.into_inner();
    let config =
        Arc::new(utoipa_swagger_ui::Config::new([DOCUMENT_PATH]).persist_authorization(true));
    match utoipa_swagger_ui::serve(&file, config) {
        Ok(Some(found)) => {
            let mut response = HttpResponse::Ok();
            if found.gzpipped {
                response.insert_header((CONTENT_ENCODING, ContentEncoding::Gzip));
            }
            Ok(response
                .content_type(found.content_type)
                .body(found.bytes.into_owned()))
        }
        Ok(None) => Err(ApiError::new(
            ErrorReason::RouteNotFound,
            format!("no Swagger UI file {:?}", crate::error::excerpt(&file)),
        )),
        Err(error) => Err(ApiError::new(
            ErrorReason::InternalError,
            format!(
                "cannot serve Swagger UI file {:?}: {error}",
                crate::error::excerpt(&file)
            ),
        )),
    }
}
