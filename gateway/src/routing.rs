//! What one route declaration is, and the three things made from the table of them (`routes.rs`):
//! the actix registration, the access rule of every request, and (in `openapi.rs`) the OpenAPI
//! operation.
//!
//! Why a `const` table of [`Route`] structs with fn pointers, built with `const fn` builders
//! (`get(path, to!(handler)).doc(..).json::<Body>()`), rather than a declarative macro like
//! garage's admin endpoint macro: the table is plain data, so the registration, the access
//! middleware, the OpenAPI builder and the tests all read it with ordinary code (as lemmy keeps
//! its routes in one place), while a macro would have to generate each of those and parse every
//! optional clause. The fn pointers keep what data cannot hold: actix handlers all have
//! different types, so `to!` turns each into a `fn(actix_web::Route) -> actix_web::Route`, and
//! body and answer types are kept as their utoipa `ToSchema` functions ([`TypeSchema`]). The
//! compiler still checks every handler and type at its declaration, and a declaration only
//! names what differs from the defaults (`GET`/`POST`/`DELETE` with a bearer token, no body,
//! the envelope).

use std::borrow::Cow;

use actix_web::{HttpMessage, HttpRequest, Resource, web};
use common::auth::Role;
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{Ref, RefOr, Schema, schema::ArrayBuilder},
};

/// The HTTP method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    fn guard(self) -> actix_web::Route {
        match self {
            Method::Get => web::get(),
            Method::Post => web::post(),
            Method::Delete => web::delete(),
        }
    }

    /// The method as the `http` crate names it.
    pub fn http(self) -> actix_web::http::Method {
        match self {
            Method::Get => actix_web::http::Method::GET,
            Method::Post => actix_web::http::Method::POST,
            Method::Delete => actix_web::http::Method::DELETE,
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `Authorization: Bearer <JWT>`; the gateway itself also requires these roles (admins
    /// pass every role check). Empty: the owning service checks the roles.
    Bearer(&'static [Role]),
    /// No credentials (login, operations, docs, pages, appinhouse reads).
    Public,
    /// appinhouse writes: the `X-SecretKey` header, checked by the appinhouse service (the
    /// gateway forwards it); no bearer token.
    SecretKey,
}

impl Access {
    /// Whether the gateway asks for a bearer token.
    pub fn needs_token(self) -> bool {
        matches!(self, Access::Bearer(_))
    }
}

/// A Rust type's OpenAPI schema, by fn pointers to its utoipa `ToSchema` implementation.
#[derive(Debug, Clone, Copy)]
pub struct TypeSchema {
    /// The component name the operation refers to.
    pub name: fn() -> Cow<'static, str>,
    /// The schema itself.
    pub schema: fn() -> RefOr<Schema>,
    /// The schemas it refers to (recursively), as components.
    pub schemas: fn(&mut Vec<(String, RefOr<Schema>)>),
}

impl TypeSchema {
    pub const fn of<T: ToSchema>() -> TypeSchema {
        TypeSchema {
            name: <T as ToSchema>::name,
            schema: <T as PartialSchema>::schema,
            schemas: <T as ToSchema>::schemas,
        }
    }

    /// A JSON array of `T` (the component `{T}List`).
    pub const fn list_of<T: ToSchema>() -> TypeSchema {
        TypeSchema {
            name: list_name::<T>,
            schema: list_schema::<T>,
            schemas: list_schemas::<T>,
        }
    }
}

fn list_name<T: ToSchema>() -> Cow<'static, str> {
    Cow::Owned(format!("{}List", T::name()))
}

fn list_schema<T: ToSchema>() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(RefOr::Ref(Ref::from_schema_name(T::name())))
        .into()
}

fn list_schemas<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
}

/// The request body of a route, with its type.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    None,
    /// A JSON object (also taken as an urlencoded form, as the legacy server did).
    Json(TypeSchema),
    /// A JSON object or an empty body (6.1–6.3, rollback, joint-line runs).
    OptionalJson(TypeSchema),
    /// `multipart/form-data`: every file part is taken whatever its name, plus text fields.
    Multipart(TypeSchema),
    /// `application/x-www-form-urlencoded` (appinhouse).
    Form(TypeSchema),
}

/// The answer shape of a route.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// The TAD envelope `{info,data,success,level}` (a failure adds `code`), `data` of this
    /// type when known.
    Envelope(Option<TypeSchema>),
    /// The paginated `{count,page,results}` list (items of this type when known), or a
    /// failure envelope.
    Page(Option<TypeSchema>),
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
    /// A redirect from a download page's link (a short HTML page on failure).
    PageRedirect,
    /// `/healthz` and `/readyz`: `{status,...}`.
    Status,
    /// `/metrics`: Prometheus text.
    Metrics,
    /// The OpenAPI document itself.
    Document,
    /// A redirect to the Swagger UI page.
    Redirect,
    /// A Swagger UI or page file, or a failure envelope when unknown.
    StaticFile,
    /// A console page (HTML); without a valid session, `303` to the login page.
    ConsolePage,
    /// A console form or link: `303` to the next console page (`Location`, with the cookies it
    /// sets); a refused login answers the login form again with its problem.
    ConsoleRedirect,
}

/// Registers a handler on an actix route (made by `to!`).
pub type Handler = fn(actix_web::Route) -> actix_web::Route;

/// One method of one URL: everything the gateway knows about it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: Method,
    /// The actix pattern (also the OpenAPI path).
    pub path: &'static str,
    pub handler: Handler,
    /// The contract section (`5.5`, `SPEC §2`, ...); empty for operations and pages.
    pub section: &'static str,
    /// The OpenAPI tag.
    pub tag: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub body: Body,
    pub answer: Answer,
    /// Optional query parameters (strings).
    pub query: &'static [&'static str],
    /// Optional request headers the route reads: name, rule, longest value (`Idempotency-Key`).
    pub headers: &'static [(&'static str, &'static str, usize)],
    /// Extra setup of the actix resource of the path (e.g. the login's own body limit).
    pub setup: Option<fn(Resource) -> Resource>,
    /// A write: the audit action and object kind its services record (issue 20); the gateway
    /// records its refusals under them.
    pub audit: Option<Audited>,
    /// A read whose rendered answer the gateway may keep while what the services read it under
    /// stands ([`crate::answer_cache`]).
    pub kept: bool,
}

/// What the audit trail calls a write route's change: `action` (`cluster.create`) on an
/// `object_kind` (`cluster`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audited {
    pub action: &'static str,
    pub object_kind: &'static str,
}

/// `to!(module::handler)`: the [`Handler`] of an actix handler function.
macro_rules! to {
    ($handler:path) => {
        |route: ::actix_web::Route| route.to($handler)
    };
}
pub(crate) use to;

const fn route(method: Method, path: &'static str, handler: Handler) -> Route {
    Route {
        method,
        path,
        handler,
        section: "",
        tag: "",
        summary: "",
        access: Access::Bearer(&[]),
        body: Body::None,
        answer: Answer::Envelope(None),
        query: &[],
        headers: &[],
        setup: None,
        audit: None,
        kept: false,
    }
}

/// A `GET` route: bearer token, no body, the envelope.
pub const fn get(path: &'static str, handler: Handler) -> Route {
    route(Method::Get, path, handler)
}

/// A `POST` route: bearer token, no body, the envelope.
pub const fn post(path: &'static str, handler: Handler) -> Route {
    route(Method::Post, path, handler)
}

/// A `DELETE` route: bearer token, no body, the envelope.
pub const fn delete(path: &'static str, handler: Handler) -> Route {
    route(Method::Delete, path, handler)
}

/// `.json::<T>()` and its siblings: one builder per kind of request [`Body`] of type `T`, stated
/// as `builder => Body variant`.
macro_rules! body_builders {
    ($($builder:ident => $kind:ident),+ $(,)?) => {$(
        #[doc = concat!("A request body of type `T` (", stringify!($kind), ").")]
        pub const fn $builder<T: ToSchema>(mut self) -> Self {
            self.body = Body::$kind(TypeSchema::of::<T>());
            self
        }
    )+};
}

impl Route {
    /// Contract section, OpenAPI tag and summary.
    pub const fn doc(
        mut self,
        section: &'static str,
        tag: &'static str,
        summary: &'static str,
    ) -> Self {
        self.section = section;
        self.tag = tag;
        self.summary = summary;
        self
    }
    body_builders!(
        json => Json,
        optional_json => OptionalJson,
        multipart => Multipart,
        form => Form,
    );
    /// The envelope with `data` of this type.
    pub const fn data<T: ToSchema>(mut self) -> Self {
        self.answer = Answer::Envelope(Some(TypeSchema::of::<T>()));
        self
    }
    /// The envelope with `data` a list of this type.
    pub const fn data_list<T: ToSchema>(mut self) -> Self {
        self.answer = Answer::Envelope(Some(TypeSchema::list_of::<T>()));
        self
    }
    /// A page (items of unknown shape).
    pub const fn page(mut self) -> Self {
        self.answer = Answer::Page(None);
        self
    }
    /// A page of items of this type.
    pub const fn page_of<T: ToSchema>(mut self) -> Self {
        self.answer = Answer::Page(Some(TypeSchema::of::<T>()));
        self
    }
    pub const fn answer(mut self, answer: Answer) -> Self {
        self.answer = answer;
        self
    }
    pub const fn public(mut self) -> Self {
        self.access = Access::Public;
        self
    }
    /// A write recorded in the audit trail as `action` on an `object_kind`.
    pub const fn audits(mut self, action: &'static str, object_kind: &'static str) -> Self {
        self.audit = Some(Audited {
            action,
            object_kind,
        });
        self
    }
    /// The gateway may keep the rendered answer (a `GET` whose every service call answers what
    /// it was read under; others are never kept).
    pub const fn kept(mut self) -> Self {
        self.kept = true;
        self
    }
    /// The gateway itself refuses callers without these roles.
    pub const fn roles(mut self, roles: &'static [Role]) -> Self {
        self.access = Access::Bearer(roles);
        self
    }
    /// An appinhouse route: no token, answering `{code,msg,...}`.
    pub const fn appinhouse(mut self) -> Self {
        self.access = Access::Public;
        self.answer = Answer::Appinhouse;
        self
    }
    pub const fn secret_key(mut self) -> Self {
        self.access = Access::SecretKey;
        self
    }
    pub const fn query(mut self, query: &'static [&'static str]) -> Self {
        self.query = query;
        self
    }
    pub const fn headers(
        mut self,
        headers: &'static [(&'static str, &'static str, usize)],
    ) -> Self {
        self.headers = headers;
        self
    }
    pub const fn setup(mut self, setup: fn(Resource) -> Resource) -> Self {
        self.setup = Some(setup);
        self
    }
}

/// Registers every route of `routes`: one actix resource per path (in the order of its first
/// route, as actix takes the first matching resource), one actix route per method, and
/// `method_not_allowed` for any other method of a known path.
pub fn register(
    config: &mut web::ServiceConfig,
    routes: &'static [Route],
    method_not_allowed: fn(actix_web::Route) -> actix_web::Route,
) {
    let mut paths: Vec<&'static str> = Vec::new();
    for route in routes {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(path).default_service(method_not_allowed(web::route()));
        for route in routes.iter().filter(|route| route.path == path) {
            if let Some(setup) = route.setup {
                resource = setup(resource);
            }
            resource = resource.route((route.handler)(route.method.guard()));
        }
        config.service(resource);
    }
}

/// The pattern a request's path matches, once found (kept in the request's extensions).
#[derive(Clone)]
struct MatchedPattern(Option<String>);

/// The route pattern the request's path matches (`None` for no route), looked up once per
/// request: each lookup tries the paths of the route table one by one, and the middleware (access
/// rule, refusal trail, metrics) all need it.
pub fn matched_pattern(request: &HttpRequest) -> Option<String> {
    if let Some(found) = request.extensions().get::<MatchedPattern>() {
        return found.0.clone();
    }
    // The decoded path, as the router matches it (`match_pattern` of the request itself tries
    // the raw path, which misses a route with a percent-encoded literal before routing).
    let found = request
        .resource_map()
        .match_pattern(request.match_info().as_str());
    request
        .extensions_mut()
        .insert(MatchedPattern(found.clone()));
    found
}

/// The names of the roles a route admits, admin first (admins pass every role check).
pub fn admitted_role_names(roles: &[Role]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = roles.iter().map(|role| role.as_str()).collect();
    if !roles.contains(&Role::Admin) {
        names.insert(0, Role::Admin.as_str());
    }
    names
}

/// The audit declaration of the route `pattern` answers for `method` (none for a read).
pub fn audit_of(
    routes: &[Route],
    pattern: Option<&str>,
    method: &actix_web::http::Method,
) -> Option<Audited> {
    let pattern = pattern?;
    routes
        .iter()
        .find(|route| route.path == pattern && route.method.http() == method)
        .and_then(|route| route.audit)
}

/// Whether the route of `pattern` and `method` lets the gateway keep its answers.
pub fn keeps_answers(routes: &[Route], pattern: &str, method: &actix_web::http::Method) -> bool {
    routes
        .iter()
        .any(|route| route.kept && route.path == pattern && route.method.http() == method)
}

/// The access rule of a request. A declared route (matched pattern and method) has its own; a
/// known path with another method (answered 405) needs a token when the path's routes do,
/// without their roles; a path no route matches (404) needs a token unless it lies under the
/// literal prefix (the part before the first `{`) of a route that needs none, e.g. `/api/v2/`.
pub fn access_of(
    routes: &[Route],
    pattern: Option<&str>,
    method: &actix_web::http::Method,
    path: &str,
) -> Access {
    if let Some(pattern) = pattern {
        let mut same_path = routes
            .iter()
            .filter(|route| route.path == pattern)
            .peekable();
        if let Some(first) = same_path.peek().copied() {
            if let Some(route) = same_path.find(|route| route.method.http() == method) {
                return route.access;
            }
            return if first.access.needs_token() {
                Access::Bearer(&[])
            } else {
                first.access
            };
        }
    }
    let open = routes
        .iter()
        .filter(|route| !route.access.needs_token())
        .any(|route| match route.path.split_once('{') {
            Some((prefix, _)) => path.starts_with(prefix),
            None => path == route.path,
        });
    if open {
        Access::Public
    } else {
        Access::Bearer(&[])
    }
}
