//! The OpenAPI 3.1 document of the gateway, built with utoipa's builder API from `ROUTES` (a
//! table that mirrors `routes.rs` line for line: method, path, summary, tag, access, request body
//! and answer shape), served at `GET /api/openapi.json`, plus the vendored Swagger UI at
//! `/api/docs`. A unit test fails when `routes.rs` and `ROUTES` disagree.

use std::{collections::BTreeMap, sync::Arc};

use actix_web::{
    HttpResponse,
    http::header::{CONTENT_ENCODING, ContentEncoding, LOCATION},
    web,
};
use proto::ErrorReason;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Required,
    ResponseBuilder, Schema, Tag,
    path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathsBuilder},
    request_body::RequestBodyBuilder,
    schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, SchemaType, Type},
    security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme},
};

use crate::error::ApiError;

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/api/openapi.json";
/// Where the Swagger UI is served (its files under `/api/docs/{file}`).
pub const DOCS_PATH: &str = "/api/docs";

/// The HTTP method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    fn http_method(self) -> HttpMethod {
        match self {
            Method::Get => HttpMethod::Get,
            Method::Post => HttpMethod::Post,
            Method::Delete => HttpMethod::Delete,
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `Authorization: Bearer <JWT>` (every TAD route but the public ones).
    Bearer,
    /// No credentials (login, operations, docs, appinhouse reads).
    Public,
    /// appinhouse writes: the `X-SecretKey` header.
    SecretKey,
}

/// The request body of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    /// A JSON object (the legacy bodies; validated by the services).
    Json,
    /// A JSON object or an empty body (6.1–6.3, rollback, joint-line runs).
    OptionalJson,
    /// `multipart/form-data`: every file part is taken whatever its name, plus text fields.
    Multipart,
    /// `application/x-www-form-urlencoded` (appinhouse).
    Form,
}

/// The answer shape of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The TAD envelope `{info,data,success,level}` (a failure adds `code`).
    Envelope,
    /// The paginated `{count,page,results}` list, or a failure envelope.
    Page,
    /// A file (this media type), or a failure envelope.
    File(&'static str),
    /// Server-Sent Events, or a failure envelope before the stream starts.
    Events,
    /// appinhouse `{code,msg,...}`.
    Appinhouse,
    /// An appinhouse file (this media type), or `{code,msg}`.
    AppinhouseFile(&'static str),
    /// The appinhouse download page (HTML, also on failure).
    Html,
    /// `/healthz` and `/readyz`: `{status,...}`.
    Status,
    /// `/metrics`: Prometheus text.
    Metrics,
    /// The OpenAPI document itself.
    Document,
    /// A redirect to the Swagger UI page.
    Redirect,
    /// A Swagger UI file, or a failure envelope when unknown.
    DocsFile,
}

/// One method of one URL, as documented.
#[derive(Debug, Clone, Copy)]
pub struct DocumentedRoute {
    pub method: Method,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub body: Body,
    pub answer: Answer,
    /// Optional query parameters (strings).
    pub query: &'static [&'static str],
}

const fn route(
    method: Method,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
) -> DocumentedRoute {
    DocumentedRoute {
        method,
        path,
        tag,
        summary,
        access: Access::Bearer,
        body: Body::None,
        answer: Answer::Envelope,
        query: &[],
    }
}

const fn get(path: &'static str, tag: &'static str, summary: &'static str) -> DocumentedRoute {
    route(Method::Get, path, tag, summary)
}

const fn post(path: &'static str, tag: &'static str, summary: &'static str) -> DocumentedRoute {
    route(Method::Post, path, tag, summary)
}

const fn delete(path: &'static str, tag: &'static str, summary: &'static str) -> DocumentedRoute {
    route(Method::Delete, path, tag, summary)
}

impl DocumentedRoute {
    const fn json(mut self) -> Self {
        self.body = Body::Json;
        self
    }
    const fn optional_json(mut self) -> Self {
        self.body = Body::OptionalJson;
        self
    }
    const fn multipart(mut self) -> Self {
        self.body = Body::Multipart;
        self
    }
    const fn form(mut self) -> Self {
        self.body = Body::Form;
        self
    }
    const fn page(mut self) -> Self {
        self.answer = Answer::Page;
        self
    }
    const fn answer(mut self, answer: Answer) -> Self {
        self.answer = answer;
        self
    }
    const fn public(mut self) -> Self {
        self.access = Access::Public;
        self
    }
    /// An appinhouse route: public, answering `{code,msg,...}`.
    const fn appinhouse(mut self) -> Self {
        self.access = Access::Public;
        self.answer = Answer::Appinhouse;
        self
    }
    const fn secret_key(mut self) -> Self {
        self.access = Access::SecretKey;
        self
    }
    const fn query(mut self, query: &'static [&'static str]) -> Self {
        self.query = query;
        self
    }
}

const PAGED: &[&str] = &["page", "page_size"];
const WAIT: &[&str] = &["wait"];
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Every route of `routes.rs`, in its order (sorted by path), plus the document and the UI.
/// Adding a route to `routes.rs` without a line here fails `the_document_lists_exactly_the_route_table`.
/// One line per route, like the route table (not reformatted).
#[rustfmt::skip]
pub const ROUTES: &[DocumentedRoute] = &[
    // SPEC §2 admin routes
    get("/api/admin/applications", "admin", "List applications"),
    post("/api/admin/applications", "admin", "Create or update an application").json(),
    delete("/api/admin/applications/{id}", "admin", "Delete an application"),
    get("/api/admin/clusters", "admin", "List clusters (CMDB view)"),
    post("/api/admin/clusters", "admin", "Create or update a CMDB-owned cluster").json(),
    delete("/api/admin/clusters/{id}", "admin", "Delete a cluster"),
    get("/api/admin/cluster-types", "admin", "List cluster types"),
    post("/api/admin/cluster-types", "admin", "Create or update a cluster type").json(),
    delete("/api/admin/cluster-types/{key}", "admin", "Delete a cluster type"),
    get("/api/admin/envs", "admin", "List environments"),
    post("/api/admin/envs", "admin", "Create or update an environment").json(),
    delete("/api/admin/envs/{id}", "admin", "Delete an environment"),
    get("/api/admin/hosts", "admin", "List hosts (CMDB view)"),
    post("/api/admin/hosts", "admin", "Create or update a CMDB-owned host").json(),
    delete("/api/admin/hosts/{id}", "admin", "Delete a host"),
    get("/api/admin/modules", "admin", "List modules"),
    post("/api/admin/modules", "admin", "Create or update a module").json(),
    delete("/api/admin/modules/{id}", "admin", "Delete a module"),
    get("/api/admin/productlines", "admin", "List product lines"),
    post("/api/admin/productlines", "admin", "Create or update a product line").json(),
    delete("/api/admin/productlines/{id}", "admin", "Delete a product line"),
    get("/api/admin/users", "admin", "List users"),
    post("/api/admin/users", "admin", "Create a user").json(),
    post("/api/admin/users/{id}", "admin", "Change a user's password or roles (ends their sessions)").json(),
    delete("/api/admin/users/{id}", "admin", "Delete a user (ends their sessions)"),
    get("/api/admin/webhooks", "admin", "List run webhooks (SPEC §5)"),
    post("/api/admin/webhooks", "admin", "Add a run webhook (SPEC §5)").json(),
    delete("/api/admin/webhooks/{id}", "admin", "Delete a run webhook"),
    get("/api/app/applications/{id}/select_by_pl", "catalog", "1.2 / 3.2 Applications of a product line"),
    get("/api/app/jobinstance/aos_json", "instances", "5.5 Query job instances").page().query(&["name", "application_id", "page", "page_size"]),
    post("/api/app/jobinstance/create", "instances", "5.2 Create a job instance").json(),
    get("/api/app/jobinstance/jobi_list_one", "instances", "1.3 / 7.1 Job instances of an application").query(&["product_line_id", "application_id", "name"]),
    post("/api/app/jobinstance/online/process/save", "instances", "7.3 Save a work order").json(),
    get("/api/app/jobinstance/{cpm_id}/config/desc", "steps", "5.8.2.5 Parameter schema of a method"),
    delete("/api/app/jobinstance/{id}", "instances", "5.9 Delete a job instance"),
    post("/api/app/jobinstance/{id}/copy", "instances", "5.7 Copy a job instance").json(),
    get("/api/app/jobinstance/{id}/details", "instances", "5.10 / 7.2 Job instance details"),
    post("/api/app/jobinstance/{id}/executionall", "executions", "6.1 Run every remaining step").optional_json().query(WAIT),
    get("/api/app/jobinstance/{id}/executions", "executions", "Runs of an instance, newest first (SPEC §5)").page().query(PAGED),
    get("/api/app/jobinstance/{id}/online/process/export", "instances", "Export the work order (xlsx)").answer(Answer::File(XLSX)),
    post("/api/app/jobinstance/{id}/rollback", "executions", "Roll back to the previous successful snapshot (SPEC §5)").optional_json().query(WAIT),
    post("/api/app/jobinstance/{id}/setp_execution", "executions", "6.2 Run the next step").optional_json().query(WAIT),
    post("/api/app/jobinstance/{id}/stop_execution", "executions", "6.3 Stop the running step").optional_json(),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/alldata/read", "steps", "5.8.1 Everything configured on a step"),
    get("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/artifact/json", "steps", "5.8.2.2 Artifacts of a step"),
    get("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/actemplate/config/desc", "steps", "5.8.2.3 App-config schema of a step"),
    get("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/actemplate/{file_id}/config/value", "steps", "5.8.2.4 App-config values of a step"),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/config/update", "steps", "5.6.2.4 Save the parameters of a step").json(),
    get("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/config/value", "steps", "5.8.2.6 Parameters of a step"),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/alldata", "steps", "5.6.1 Save everything of a step").json(),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/artifact", "steps", "5.6.2.2 Save the artifacts of a step").json(),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/actemplate", "steps", "5.6.2.3 Save the app-configs of a step").json(),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/script", "steps", "5.6.2.5 Save the scripts of a step").json(),
    get("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/script/json", "steps", "5.8.2.7 Scripts of a step"),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/{cluster_id}/relation/cluster", "steps", "5.6.2.1 Bind a cluster to a step"),
    get("/api/app/jobtemplate/aos_json", "templates", "4.1 Query job templates").page().query(&["name", "application_id", "page", "page_size"]),
    post("/api/app/jobtemplate/create", "templates", "Create a job template").json(),
    get("/api/app/jobtemplate/ordinary/select", "templates", "5.3 Templates to choose from"),
    delete("/api/app/jobtemplate/{id}", "templates", "4.5 Delete a job template"),
    post("/api/app/jobtemplate/{id}", "templates", "4.5 Delete a job template (the contract's POST)"),
    post("/api/app/jobtemplate/{id}/graded", "templates", "4.2 Replace the methods of a template").json(),
    get("/api/app/jobtemplate/{id}/graded_content", "templates", "4.3 Methods of a template"),
    get("/api/app/jointline/aos_json", "joint lines", "1.6 Query joint lines").page().query(&["name", "productline_id", "page", "page_size"]),
    post("/api/app/jointline/create", "joint lines", "1.7 Create a joint line").json(),
    get("/api/app/jointline/get_structure/{id}", "joint lines", "1.5 Structure of a joint line"),
    post("/api/app/jointline/save", "joint lines", "1.4 Save a joint line").json(),
    post("/api/app/jointline/{id}/execution", "executions", "2.1 Run a joint line").optional_json().query(WAIT),
    get("/api/app/productline/select", "catalog", "1.1 / 3.1 Product lines"),
    post("/api/artifact/configure/aos_upload", "artifacts", "5.11.1 Upload app-config files").multipart(),
    get("/api/artifact/configure/{id}/versions", "artifacts", "Versions of an app-config template, newest first, with the .j2 file id 5.6.2.3 binds (SPEC §3)"),
    get("/api/artifact/files/{id}/download", "artifacts", "Download a stored file (Range supported)").answer(Answer::File("application/octet-stream")),
    get("/api/artifact/filter/name/aos", "artifacts", "5.11.1 Artifacts by product line, application and type").query(&["product_line_id", "application_id", "type"]),
    post("/api/artifact/script/aos_upload", "artifacts", "5.11.1 Upload scripts").multipart(),
    post("/api/artifact/version/aos", "artifacts", "9 Package sync (upload a versioned package)").multipart().query(&["app_id", "name", "version", "file_md5"]),
    post("/api/auth/login", "auth", "Log in: a bearer token (SPEC §1)").json().public(),
    post("/api/auth/logout", "auth", "Log out: ends the presented token's session (SPEC §8)"),
    get("/api/component/select", "artifacts", "4.4 Components and methods"),
    post("/api/component/upload", "artifacts", "Upload a method package (SPEC §3)").multipart(),
    get(DOCS_PATH, "docs", "Swagger UI (redirects to its page)").public().answer(Answer::Redirect),
    get("/api/docs/{file}", "docs", "A Swagger UI file").public().answer(Answer::DocsFile),
    get("/api/executions/{id}", "executions", "Run tree with statuses (SPEC §5)"),
    get("/api/executions/{id}/events", "executions", "Run events as Server-Sent Events (SPEC §5)").answer(Answer::Events).query(&["last_event_id"]),
    get("/api/executions/{id}/log", "executions", "A log chunk of a host task (SPEC §5)").query(&["host_task", "offset"]),
    post("/api/executions/{id}/retry", "executions", "Retry the failed hosts of a run (SPEC §5)").query(WAIT),
    post("/api/jobinstance/{id}/{cpm_id}/{sequence}/出", "steps", "5.8.1 at the contract's literal URL"),
    get(DOCUMENT_PATH, "docs", "This OpenAPI document").public().answer(Answer::Document),
    delete("/api/resource/clusters/aos_deletes/{id}", "resources", "8.1.9 Delete a cluster"),
    post("/api/resource/clusters/aos_create", "resources", "8.1.4 Create a cluster").json(),
    get("/api/resource/clusters/aos_json", "resources", "8.1.3 Query clusters").page().query(&["app", "name", "page", "page_size"]),
    get("/api/resource/clusters/cmdb_type", "resources", "8.1.1 Cluster types"),
    get("/api/resource/clusters/list_4_select", "resources", "8.2.2 Clusters to choose from"),
    post("/api/resource/clusters/{id}/aos_bind", "resources", "8.1.7 Bind hosts to a cluster").json(),
    get("/api/resource/clusters/{id}/hosts", "resources", "8.1.6 Hosts of a cluster"),
    get("/api/resource/clusters/{id}/hosts/select/pl", "resources", "8.1.5 Hosts that may join a cluster"),
    post("/api/resource/clusters/{id}/unbind", "resources", "8.1.8 Unbind hosts from a cluster").json(),
    post("/api/resource/clusters/{id}/update", "resources", "8.1.10 Update a cluster").json(),
    get("/api/resource/clusters/{id}/{app_id}/select/envapp", "resources", "5.4 / 5.8.2.1 Clusters of an application"),
    get("/api/resource/envs/select", "catalog", "5.1 / 8.1.2 / 8.2.1 Environments"),
    delete("/api/resource/hosts/aos_deletes/{id}", "resources", "8.2.5 Delete a host"),
    post("/api/resource/hosts/aos_create", "resources", "8.2.3 Create a host").json(),
    get("/api/resource/hosts/aos_json", "resources", "8.2.4 Query hosts").page().query(&["host_name", "productLine", "page", "page_size"]),
    get("/api/resource/hosts/validate/{ssh_ip}/{ssh_user}/ssh", "resources", "8.2.7 Check the SSH login of a registered host"),
    post("/api/resource/hosts/{id}/update", "resources", "8.2.6 Update a host").json(),
    get("/api/script/index/aos_list", "scripts", "5.11.1 Scripts of an application").query(&["application_id", "name"]),
    get("/api/script/index/detail_data/filedata/{id}", "scripts", "5.11.4 Text of a script"),
    post("/api/script/index/examine/{id}", "scripts", "5.11.3 Review a script").json(),
    get("/api/script/index/urole_script", "scripts", "5.11.2 May the caller review scripts"),
    // appinhouse contract (SPEC §6)
    get("/api/v2/apps", "appinhouse", "List apps").appinhouse().query(&["page"]),
    post("/api/v2/move/{app}/{sort_operation}", "appinhouse", "Move an app in the list").appinhouse(),
    post("/api/v2/{app}/archive/{platform}", "appinhouse", "Upload a hosted build (ipa/apk/exe/msi)").appinhouse().secret_key().multipart(),
    post("/api/v2/{app}/create", "appinhouse", "Create an app").appinhouse().secret_key().form(),
    delete("/api/v2/{app}/delete", "appinhouse", "Delete an app").appinhouse().secret_key(),
    delete("/api/v2/{app}/delete/{platform}", "appinhouse", "Delete old builds, keeping `residue`").appinhouse().secret_key().form().query(&["residue"]),
    post("/api/v2/{app}/desc/{platform}", "appinhouse", "Record a build").appinhouse().secret_key().form(),
    post("/api/v2/{app}/extenddesc/{platform}", "appinhouse", "Record extra downloads of a build").appinhouse().secret_key().form(),
    get("/api/v2/{app}/last", "appinhouse", "Newest build per platform").appinhouse().query(&["time_offset"]),
    get("/api/v2/{app}/list/{platform}", "appinhouse", "Builds of a platform").appinhouse().query(&["page", "time_offset"]),
    get("/api/v2/{app}/mobile/last", "appinhouse", "Newest build for the caller's platform").appinhouse().query(&["time_offset"]),
    get("/api/v2/{app}/mobile/list", "appinhouse", "Builds for the caller's platform").appinhouse().query(&["page", "time_offset"]),
    get("/api/v2/{app}/plist/{version}.plist", "appinhouse", "OTA manifest of an ios build").appinhouse().answer(Answer::AppinhouseFile("application/x-plist")).query(&["extend"]),
    post("/api/v2/{app}/update", "appinhouse", "Update an app").appinhouse().secret_key().form(),
    get("/app/{app}", "appinhouse", "Download page of an app").appinhouse().answer(Answer::Html).query(&["time_offset", "touch"]),
    get("/download/{app}/{platform}/{version}/{file}", "appinhouse", "Download a hosted build (Range supported)").appinhouse().answer(Answer::AppinhouseFile("application/octet-stream")),
    get("/favicon.ico", "pages", "The favicon of the pages").public().answer(Answer::File("image/x-icon")),
    // operations
    get("/healthz", "operations", "The process answers").public().answer(Answer::Status),
    get("/metrics", "operations", "Prometheus metrics").public().answer(Answer::Metrics),
    get("/readyz", "operations", "Every service answers gRPC health").public().answer(Answer::Status),
    get("/static/{file}", "pages", "A style or script file of the pages").public().answer(Answer::DocsFile),
];

/// The names of the reusable schemas and security schemes.
mod names {
    pub const SUCCESS: &str = "TadSuccess";
    pub const FAILURE: &str = "TadFailure";
    pub const ANSWER: &str = "TadAnswer";
    pub const PAGE: &str = "TadPage";
    pub const PAGE_ANSWER: &str = "TadPageAnswer";
    pub const APPINHOUSE: &str = "AppinhouseAnswer";
    pub const STATUS: &str = "OperationsStatus";
    pub const JSON_BODY: &str = "JsonBody";
    pub const FORM_BODY: &str = "FormBody";
    pub const MULTIPART_BODY: &str = "MultipartBody";
    pub const BEARER: &str = "bearer";
    pub const SECRET_KEY: &str = "secretKey";
}

fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn typed(schema_type: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(schema_type)
}

fn any_value() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::AnyValue)
}

fn closed_object() -> ObjectBuilder {
    typed(Type::Object).additional_properties(Some(AdditionalProperties::FreeForm(false)))
}

fn one_of(names: &[&str]) -> RefOr<Schema> {
    names
        .iter()
        .fold(OneOfBuilder::new(), |builder, name| {
            builder.item(schema_ref(name))
        })
        .into()
}

/// The answer shapes of SPEC §1 and §6, and the request body shapes.
fn schemas() -> Vec<(&'static str, RefOr<Schema>)> {
    let success = closed_object()
        .description(Some("The TAD envelope of a success"))
        .property("info", typed(Type::String))
        .property("data", any_value())
        .property("success", typed(Type::Boolean).enum_values(Some([true])))
        .property("level", typed(Type::String).enum_values(Some(["info"])))
        .required("info")
        .required("data")
        .required("success")
        .required("level");
    let failure = closed_object()
        .description(Some(
            "The TAD envelope of a failure: `data` null, `code` a stable snake_case reason",
        ))
        .property("info", typed(Type::String))
        .property("data", typed(Type::Null))
        .property("success", typed(Type::Boolean).enum_values(Some([false])))
        .property(
            "level",
            typed(Type::String).enum_values(Some(["warning", "error"])),
        )
        .property("code", typed(Type::String))
        .required("info")
        .required("data")
        .required("success")
        .required("level")
        .required("code");
    let page = closed_object()
        .description(Some("A paginated list (no envelope)"))
        .property("count", typed(Type::Integer).minimum(Some(0)))
        .property("page", typed(Type::Integer).minimum(Some(0)))
        .property("results", ArrayBuilder::new().items(any_value()))
        .required("count")
        .required("page")
        .required("results");
    let appinhouse = typed(Type::Object)
        .description(Some(
            "An appinhouse answer: `code` 0 on success, else its contract's numeric code",
        ))
        .property("code", typed(Type::Integer))
        .property("msg", typed(Type::String))
        .required("code")
        .required("msg");
    let status = typed(Type::Object)
        .property("status", typed(Type::String))
        .property("services", typed(Type::Object))
        .required("status");
    let json_body = typed(Type::Object).description(Some(
        "The contract's JSON object for this route (validated by the owning service)",
    ));
    let form_body = typed(Type::Object)
        .description(Some("Form fields of the appinhouse contract"))
        .additional_properties(Some(typed(Type::String)));
    let multipart_body = typed(Type::Object)
        .description(Some(
            "File parts (any field name; `file` is the documented one) and text fields",
        ))
        .property(
            "file",
            typed(Type::String).format(Some(utoipa::openapi::SchemaFormat::Custom(
                "binary".to_owned(),
            ))),
        )
        .additional_properties(Some(typed(Type::String)));
    vec![
        (names::SUCCESS, success.into()),
        (names::FAILURE, failure.into()),
        (names::ANSWER, one_of(&[names::SUCCESS, names::FAILURE])),
        (names::PAGE, page.into()),
        (names::PAGE_ANSWER, one_of(&[names::PAGE, names::FAILURE])),
        (names::APPINHOUSE, appinhouse.into()),
        (names::STATUS, status.into()),
        (names::JSON_BODY, json_body.into()),
        (names::FORM_BODY, form_body.into()),
        (names::MULTIPART_BODY, multipart_body.into()),
    ]
}

fn json_content(schema: &str) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(schema_ref(schema)))
        .build()
}

fn binary_content() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(typed(Type::String).format(Some(
            utoipa::openapi::SchemaFormat::Custom("binary".to_owned()),
        ))))
        .build()
}

fn text_content() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(typed(Type::String)))
        .build()
}

const JSON: &str = "application/json";

/// The responses of one answer shape; `default` covers every other status (401, 404, 405, 413,
/// 5xx), so a response-schema check holds every answer to the envelope.
fn responses(answer: Answer) -> Vec<(&'static str, ResponseBuilder)> {
    let failure = || {
        ResponseBuilder::new()
            .description("A failure envelope (401 no or bad token, 413 too large, 5xx faults)")
            .content(JSON, json_content(names::FAILURE))
    };
    match answer {
        Answer::Envelope => vec![
            (
                "200",
                ResponseBuilder::new()
                    .description("The envelope (`success` false with a `code` on domain failures)")
                    .content(JSON, json_content(names::ANSWER)),
            ),
            ("default", failure()),
        ],
        Answer::Page => vec![
            (
                "200",
                ResponseBuilder::new()
                    .description("A page, or a failure envelope")
                    .content(JSON, json_content(names::PAGE_ANSWER)),
            ),
            ("default", failure()),
        ],
        Answer::File(media_type) => vec![
            (
                "200",
                ResponseBuilder::new()
                    .description("The file, or a failure envelope")
                    .content(media_type, binary_content())
                    .content(JSON, json_content(names::FAILURE)),
            ),
            (
                "206",
                ResponseBuilder::new()
                    .description("The requested range")
                    .content(media_type, binary_content()),
            ),
            ("default", failure()),
        ],
        Answer::Events => vec![
            (
                "200",
                ResponseBuilder::new()
                    .description("Server-Sent Events until the run ends, or a failure envelope")
                    .content("text/event-stream", text_content())
                    .content(JSON, json_content(names::FAILURE)),
            ),
            ("default", failure()),
        ],
        Answer::Appinhouse => vec![
            (
                "200",
                ResponseBuilder::new()
                    .description("`code` 0 on success, else the contract's code")
                    .content(JSON, json_content(names::APPINHOUSE)),
            ),
            (
                "default",
                ResponseBuilder::new()
                    .description("401 `{\"code\":1010}` for a bad X-SecretKey; 5xx faults")
                    .content(JSON, json_content(names::APPINHOUSE)),
            ),
        ],
        Answer::AppinhouseFile(media_type) => vec![
            (
                "200",
                ResponseBuilder::new()
                    .description("The file")
                    .content(media_type, binary_content()),
            ),
            (
                "206",
                ResponseBuilder::new()
                    .description("The requested range")
                    .content(media_type, binary_content()),
            ),
            (
                "416",
                ResponseBuilder::new().description("The range is outside the file"),
            ),
            (
                "default",
                ResponseBuilder::new()
                    .description("`{code,msg}`: not found, or a fault")
                    .content(JSON, json_content(names::APPINHOUSE)),
            ),
        ],
        Answer::Html => vec![
            (
                "200",
                ResponseBuilder::new()
                    .description("The page")
                    .content("text/html", text_content()),
            ),
            (
                "default",
                ResponseBuilder::new()
                    .description("A short HTML page naming the failure (404 unknown app)")
                    .content("text/html", text_content()),
            ),
        ],
        Answer::Status => vec![
            (
                "200",
                ResponseBuilder::new()
                    .description("Healthy / ready")
                    .content(JSON, json_content(names::STATUS)),
            ),
            (
                "503",
                ResponseBuilder::new()
                    .description("Not ready: the state of each service")
                    .content(JSON, json_content(names::STATUS)),
            ),
            ("default", failure()),
        ],
        Answer::Metrics => vec![
            (
                "200",
                ResponseBuilder::new()
                    .description("Prometheus text format")
                    .content("text/plain", text_content()),
            ),
            ("default", failure()),
        ],
        Answer::Document => vec![
            (
                "200",
                ResponseBuilder::new().description("OpenAPI 3.1").content(
                    JSON,
                    ContentBuilder::new()
                        .schema(Some(typed(Type::Object)))
                        .build(),
                ),
            ),
            ("default", failure()),
        ],
        Answer::Redirect => vec![
            (
                "302",
                ResponseBuilder::new().description("To `/api/docs/index.html`"),
            ),
            ("default", failure()),
        ],
        Answer::DocsFile => vec![
            (
                "200",
                ResponseBuilder::new()
                    .description("The file")
                    .content("*/*", binary_content()),
            ),
            ("default", failure()),
        ],
    }
}

/// The `{name}` segments of a path (also `{version}` in `{version}.plist`).
fn path_parameters(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

fn operation_id(route: &DocumentedRoute) -> String {
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

fn operation(route: &DocumentedRoute) -> utoipa::openapi::path::Operation {
    let mut builder = OperationBuilder::new()
        .tag(route.tag)
        .summary(Some(route.summary))
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
    let body = match route.body {
        Body::None => None,
        Body::Json => Some((JSON, names::JSON_BODY, Required::True)),
        Body::OptionalJson => Some((JSON, names::JSON_BODY, Required::False)),
        Body::Multipart => Some(("multipart/form-data", names::MULTIPART_BODY, Required::True)),
        Body::Form => Some((
            "application/x-www-form-urlencoded",
            names::FORM_BODY,
            Required::False,
        )),
    };
    if let Some((media_type, schema, required)) = body {
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .content(media_type, json_content(schema))
                .required(Some(required))
                .build(),
        ));
    }
    for (status, response) in responses(route.answer) {
        builder = builder.response(status, response);
    }
    let security = match route.access {
        Access::Bearer => Some(names::BEARER),
        Access::SecretKey => Some(names::SECRET_KEY),
        Access::Public => None,
    };
    if let Some(scheme) = security {
        builder = builder.security(SecurityRequirement::new(scheme, Vec::<String>::new()));
    }
    builder.build()
}

/// The document of every route in `ROUTES`.
pub fn document() -> OpenApi {
    let mut items: BTreeMap<&str, PathItem> = BTreeMap::new();
    let mut tags: Vec<&str> = Vec::new();
    for route in ROUTES {
        let method = route.method.http_method();
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
    let components = schemas()
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

/// The serialized document, built once.
static DOCUMENT_JSON: std::sync::LazyLock<Result<String, String>> =
    std::sync::LazyLock::new(|| serde_json::to_string(&document()).map_err(|e| e.to_string()));

/// `GET /api/openapi.json`.
pub async fn document_json() -> Result<HttpResponse, ApiError> {
    match &*DOCUMENT_JSON {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use actix_web::{App, dev::Service, test as actix_test};
    use futures::FutureExt;

    use super::*;

    /// (path, method) of every route registered by `routes.rs`, read from its source: each
    /// `.service(` is one `resource("path")` with one `.route(get()|post()|delete()...)` per method.
    fn route_table() -> BTreeSet<(String, Method)> {
        let source = include_str!("routes.rs");
        let (_, body) = source
            .split_once("pub fn configure")
            .expect("routes.rs has configure");
        let services: Vec<&str> = body.split(".service(").skip(1).collect();
        let mut routes = BTreeSet::new();
        for service in &services {
            let resource = service
                .trim_start()
                .strip_prefix("resource(")
                .unwrap_or_else(|| panic!("a service that is not resource(...): {service}"));
            let path = resource
                .split('"')
                .nth(1)
                .expect("resource(\"path\") has a path literal");
            let mut methods = 0;
            for (call, method) in [
                ("get()", Method::Get),
                ("post()", Method::Post),
                ("delete()", Method::Delete),
            ] {
                if resource.contains(call) {
                    routes.insert((path.to_owned(), method));
                    methods += resource.matches(call).count();
                }
            }
            assert_eq!(
                methods,
                resource.matches(".route(").count(),
                "{path}: a method this test does not know (add it to Method)"
            );
        }
        routes
    }

    fn documented() -> BTreeSet<(String, Method)> {
        ROUTES
            .iter()
            .map(|route| (route.path.to_owned(), route.method))
            .collect()
    }

    #[test]
    fn the_document_lists_exactly_the_route_table() {
        let table = route_table();
        assert!(table.len() > 100, "parsed only {} routes", table.len());
        assert_eq!(documented().len(), ROUTES.len(), "a route is listed twice");
        let documented = documented();
        let missing: Vec<_> = table.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&table).collect();
        assert!(
            missing.is_empty(),
            "routes without documentation: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "documented routes not in routes.rs: {extra:?}"
        );
    }

    #[test]
    fn routes_are_listed_in_the_order_of_the_route_table() {
        let source = include_str!("routes.rs");
        let mut last = 0;
        for route in ROUTES {
            let position = source
                .find(&format!("\"{}\"", route.path))
                .unwrap_or_else(|| panic!("{} is not in routes.rs", route.path));
            assert!(position >= last, "{} is out of order", route.path);
            last = position;
        }
    }

    #[test]
    fn the_document_has_every_operation_with_its_parameters_and_security() {
        let value = serde_json::to_value(document()).expect("serialize");
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
                .configure(crate::routes::configure)
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
        let response = actix_test::call_service(
            &app,
            actix_test::TestRequest::get().uri(DOCS_PATH).to_request(),
        )
        .await;
        assert_eq!(response.status().as_u16(), 302);
        assert_eq!(
            response.headers().get(LOCATION).expect("location"),
            "/api/docs/index.html"
        );
        let page = actix_test::call_and_read_body(
            &app,
            actix_test::TestRequest::get()
                .uri("/api/docs/index.html")
                .to_request(),
        )
        .await;
        assert!(String::from_utf8_lossy(&page).contains("swagger-ui"));
        let initializer = actix_test::call_and_read_body(
            &app,
            actix_test::TestRequest::get()
                .uri("/api/docs/swagger-initializer.js")
                .to_request(),
        )
        .await;
        assert!(String::from_utf8_lossy(&initializer).contains(DOCUMENT_PATH));
        let missing = actix_test::call_service(
            &app,
            actix_test::TestRequest::get()
                .uri("/api/docs/nope.js")
                .to_request(),
        )
        .await;
        assert_eq!(missing.status().as_u16(), 404);
        let document: serde_json::Value = actix_test::call_and_read_body_json(
            &app,
            actix_test::TestRequest::get()
                .uri(DOCUMENT_PATH)
                .to_request(),
        )
        .await;
        assert_eq!(document["info"]["title"], "TAD");
    }
}
