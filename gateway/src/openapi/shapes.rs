//! The shapes every operation shares: the TAD envelope and page (SPEC §1), the appinhouse answer
//! (SPEC §6), the operations' status, and the responses of each kind of answer. A route whose
//! `data` (or page item) type is declared gets its own success schema around that type.

use utoipa::openapi::{
    ContentBuilder, Ref, RefOr, ResponseBuilder, Schema,
    schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, SchemaType, Type},
};

use crate::routing::{Answer, TypeSchema};

/// The names of the reusable schemas and security schemes.
pub(super) mod names {
    pub const SUCCESS: &str = "TadSuccess";
    pub const FAILURE: &str = "TadFailure";
    pub const ANSWER: &str = "TadAnswer";
    pub const PAGE: &str = "TadPage";
    pub const PAGE_ANSWER: &str = "TadPageAnswer";
    pub const APPINHOUSE: &str = "AppinhouseAnswer";
    pub const STATUS: &str = "OperationsStatus";
    pub const BEARER: &str = "bearer";
    pub const SECRET_KEY: &str = "secretKey";
}

pub(super) fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

pub(super) fn typed(schema_type: Type) -> ObjectBuilder {
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

/// The TAD envelope of a success around `data`.
fn success(data: RefOr<Schema>) -> ObjectBuilder {
    closed_object()
        .description(Some("The TAD envelope of a success"))
        .property("info", typed(Type::String))
        .property("data", data)
        .property("success", typed(Type::Boolean).enum_values(Some([true])))
        .property("level", typed(Type::String).enum_values(Some(["info"])))
        .required("info")
        .required("data")
        .required("success")
        .required("level")
}

/// A paginated list of `item`.
fn page(item: RefOr<Schema>) -> ObjectBuilder {
    closed_object()
        .description(Some("A paginated list (no envelope)"))
        .property("count", typed(Type::Integer).minimum(Some(0)))
        .property("page", typed(Type::Integer).minimum(Some(0)))
        .property("results", ArrayBuilder::new().items(item))
        .required("count")
        .required("page")
        .required("results")
}

/// `shape`, or the failure envelope.
fn or_failure(shape: ObjectBuilder) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(
            OneOfBuilder::new()
                .item(shape)
                .item(schema_ref(names::FAILURE)),
        ))
        .build()
}

/// The reference to a declared type (its schema is a component of the document).
pub(super) fn type_ref(schema: &TypeSchema) -> RefOr<Schema> {
    schema_ref(&(schema.name)())
}

/// The answer shapes of SPEC §1 and §6.
pub(super) fn schemas() -> Vec<(&'static str, RefOr<Schema>)> {
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
    vec![
        (names::SUCCESS, success(any_value().into()).into()),
        (names::FAILURE, failure.into()),
        (names::ANSWER, one_of(&[names::SUCCESS, names::FAILURE])),
        (names::PAGE, page(any_value().into()).into()),
        (names::PAGE_ANSWER, one_of(&[names::PAGE, names::FAILURE])),
        (names::APPINHOUSE, appinhouse.into()),
        (names::STATUS, status.into()),
    ]
}

pub(super) fn json_content(schema: &str) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(schema_ref(schema)))
        .build()
}

pub(super) fn binary_content() -> utoipa::openapi::Content {
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

pub(super) const JSON: &str = "application/json";

/// A response with its description and one content (more may be added).
fn described(
    description: &str,
    media_type: &str,
    content: utoipa::openapi::Content,
) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content(media_type, content)
}

/// A JSON answer (200: `shape` around the declared type, or the schema named `untyped` when
/// none is declared, either or a failure envelope) and the failure envelope of any other status.
fn json_answer(
    description: &str,
    declared: Option<TypeSchema>,
    untyped: &str,
    shape: fn(RefOr<Schema>) -> ObjectBuilder,
    failure: ResponseBuilder,
) -> Vec<(&'static str, ResponseBuilder)> {
    let content = match declared {
        None => json_content(untyped),
        Some(declared) => or_failure(shape(type_ref(&declared))),
    };
    vec![
        ("200", described(description, JSON, content)),
        ("default", failure),
    ]
}

/// The responses of one answer shape; `default` covers every other status (401, 404, 405, 413,
/// 5xx), so a response-schema check holds every answer to the envelope.
pub(super) fn responses(answer: Answer) -> Vec<(&'static str, ResponseBuilder)> {
    let failure = || {
        described(
            "A failure envelope (401 no or bad token, 413 too large, 5xx faults)",
            JSON,
            json_content(names::FAILURE),
        )
    };
    match answer {
        Answer::Envelope(data) => json_answer(
            "The envelope (`success` false with a `code` on domain failures)",
            data,
            names::ANSWER,
            success,
            failure(),
        ),
        Answer::Page(item) => json_answer(
            "A page, or a failure envelope",
            item,
            names::PAGE_ANSWER,
            page,
            failure(),
        ),
        Answer::File(media_type) => vec![
            (
                "200",
                described(
                    "The file, or a failure envelope",
                    media_type,
                    binary_content(),
                )
                .content(JSON, json_content(names::FAILURE)),
            ),
            (
                "206",
                described("The requested range", media_type, binary_content()),
            ),
            ("default", failure()),
        ],
        Answer::Events => vec![
            (
                "200",
                described(
                    "Server-Sent Events until the run ends, or a failure envelope",
                    "text/event-stream",
                    text_content(),
                )
                .content(JSON, json_content(names::FAILURE)),
            ),
            ("default", failure()),
        ],
        Answer::Appinhouse => vec![
            (
                "200",
                described(
                    "`code` 0 on success, else the contract's code",
                    JSON,
                    json_content(names::APPINHOUSE),
                ),
            ),
            (
                "default",
                described(
                    "401 `{\"code\":1010}` for a bad X-SecretKey; 5xx faults",
                    JSON,
                    json_content(names::APPINHOUSE),
                ),
            ),
        ],
        Answer::AppinhouseFile(media_type) => vec![
            ("200", described("The file", media_type, binary_content())),
            (
                "206",
                described("The requested range", media_type, binary_content()),
            ),
            (
                "416",
                ResponseBuilder::new().description("The range is outside the file"),
            ),
            (
                "default",
                described(
                    "`{code,msg}`: not found, or a fault",
                    JSON,
                    json_content(names::APPINHOUSE),
                ),
            ),
        ],
        Answer::Html => vec![
            ("200", described("The page", "text/html", text_content())),
            (
                "default",
                described(
                    "A short HTML page naming the failure (404 unknown app)",
                    "text/html",
                    text_content(),
                ),
            ),
        ],
        Answer::ConsolePage => vec![
            ("200", described("The page", "text/html", text_content())),
            (
                "303",
                ResponseBuilder::new()
                    .description("No valid session: to the login page (the `Location` header)"),
            ),
            ("default", failure()),
        ],
        Answer::ConsoleRedirect => vec![
            (
                "303",
                ResponseBuilder::new().description(
                    "To the next console page (the `Location` header), with the cookies it sets",
                ),
            ),
            (
                "default",
                described(
                    "The login form again with its problem (401 wrong password, 429 rate limit, 403 expired form), or a failure envelope",
                    "text/html",
                    text_content(),
                ),
            ),
        ],
        Answer::PageRedirect => vec![
            (
                "302",
                ResponseBuilder::new().description("To the file (the `Location` header)"),
            ),
            (
                "default",
                described(
                    "A short HTML page naming the failure (404 unknown build, 401 protected app)",
                    "text/html",
                    text_content(),
                ),
            ),
        ],
        Answer::Status => vec![
            (
                "200",
                described("Healthy / ready", JSON, json_content(names::STATUS)),
            ),
            (
                "503",
                described(
                    "Not ready: the state of each service",
                    JSON,
                    json_content(names::STATUS),
                ),
            ),
            ("default", failure()),
        ],
        Answer::Metrics => vec![
            (
                "200",
                described("Prometheus text format", "text/plain", text_content()),
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
        Answer::StaticFile => vec![
            ("200", described("The file", "*/*", binary_content())),
            ("default", failure()),
        ],
    }
}
