//! The services' gRPC doorway: a layer that verifies the caller's token once per call (signature,
//! expiry, and the session of a user token) and leaves the outcome in the request's extensions,
//! where the adapters' methods read it with [`CallerExt`].

use std::task::{Context, Poll};

use proto::ErrorReason;
use tonic::{
    Status,
    codegen::{BoxFuture, Service, http},
    server::NamedService,
};

use crate::auth::{AUTHORIZATION, Actor, AuthError, Claims, JwtKeys};

/// The outcome of verifying a call's `authorization` metadata, put into its extensions by
/// [`Authenticated`]. Methods that need no caller (login) never read it.
#[derive(Debug, Clone)]
pub struct Authentication(pub Result<Actor, AuthError>);

/// A gRPC service whose every call is authenticated first ([`Authentication`]).
#[derive(Debug, Clone)]
pub struct Authenticated<S> {
    inner: S,
    jwt: JwtKeys,
}

impl<S> Authenticated<S> {
    /// `inner`, its callers verified with `jwt`.
    pub fn new(inner: S, jwt: JwtKeys) -> Authenticated<S> {
        Authenticated { inner, jwt }
    }
}

impl<S, B> Service<http::Request<B>> for Authenticated<S>
where
    S: Service<http::Request<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let header = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let jwt = self.jwt.clone();
        // The service that was polled ready serves this call; a fresh clone waits for the next.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        Box::pin(async move {
            let outcome = jwt.authenticate(header.as_deref()).await;
            request.extensions_mut().insert(Authentication(outcome));
            inner.call(request).await
        })
    }
}

impl<S: NamedService> NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}

/// A refused token answers `unauthorized`; an unanswerable session check `service_unavailable`.
pub fn auth_status(error: &AuthError) -> Status {
    let reason = if error.is_unavailable() {
        ErrorReason::ServiceUnavailable
    } else {
        ErrorReason::Unauthorized
    };
    reason.status(error.to_string())
}

/// The verified caller of a gRPC call that passed [`Authenticated`].
pub trait CallerExt {
    /// The outcome of the check: the caller, or why its token was refused.
    fn authentication(&self) -> Result<&Actor, &AuthError>;

    /// The verified caller, with its token (forwarded when asking another service).
    fn actor(&self) -> Result<Actor, Status> {
        self.authentication().cloned().map_err(auth_status)
    }

    /// What the verified caller's token says.
    fn claims(&self) -> Result<Claims, Status> {
        self.actor().map(|actor| actor.claims)
    }
}

/// Answered for a call that did not pass [`Authenticated`] (a wiring fault): no caller.
static NOT_CHECKED: AuthError = AuthError::Missing;

impl<T> CallerExt for tonic::Request<T> {
    fn authentication(&self) -> Result<&Actor, &AuthError> {
        match self.extensions().get::<Authentication>() {
            Some(Authentication(outcome)) => outcome.as_ref(),
            None => Err(&NOT_CHECKED),
        }
    }
}

/// What an adapter's method needs to know of the call before its message: the verified caller
/// ([`Actor`], or only its [`Claims`]), the raw outcome of the check ([`Authentication`]),
/// nothing ([`Public`]), or an adapter's own check. [`grpc_api!`] takes it from the request and
/// binds it to the RPC's first parameter; that parameter's type chooses which.
pub trait FromCall<A>: Sized {
    /// Taken from `request`, answered by `adapter`, or the status that refuses the call.
    fn from_call<T>(adapter: &A, request: &tonic::Request<T>) -> Result<Self, Status>;
}

impl<A> FromCall<A> for Actor {
    fn from_call<T>(_: &A, request: &tonic::Request<T>) -> Result<Actor, Status> {
        request.actor()
    }
}

impl<A> FromCall<A> for Claims {
    fn from_call<T>(_: &A, request: &tonic::Request<T>) -> Result<Claims, Status> {
        request.claims()
    }
}

impl<A> FromCall<A> for Authentication {
    fn from_call<T>(_: &A, request: &tonic::Request<T>) -> Result<Authentication, Status> {
        Ok(Authentication(
            request.authentication().cloned().map_err(Clone::clone),
        ))
    }
}

/// A method that serves any caller, verified or not (login).
#[derive(Debug, Clone, Copy)]
pub struct Public;

impl<A> FromCall<A> for Public {
    fn from_call<T>(_: &A, _: &tonic::Request<T>) -> Result<Public, Status> {
        Ok(Public)
    }
}

/// Implements a tonic service trait for an adapter, one entry per RPC written like a method:
/// what it needs of the call ([`FromCall`], taken before the message is read), the message, the
/// reply, and a body that evaluates to the reply (`?` answers a failure as its status). The
/// macro unwraps the request and wraps the reply.
///
/// ```text
/// grpc_api! {
///     impl JobsApi for JobsGrpc {
///         type WatchExecutionStream = EventStream;
///     }
///     delete_template(&self, actor: Actor, body: pb::IdRequest) -> pb::DeleteResponse {
///         self.service.delete_template(&actor, &body.id).await?;
///         pb::DeleteResponse { id: body.id }
///     }
/// }
/// ```
#[macro_export]
macro_rules! grpc_api {
    (
        impl $api:ident for $grpc:ident { $(type $assoc:ident = $assoc_type:ty;)* }
        $(
            $method:ident(&$self:ident, $caller:tt: $caller_type:ty, $body:tt: $request:ty $(,)?)
                -> $response:ty $reply:block
        )*
    ) => {
        impl $api for $grpc {
            $(type $assoc = $assoc_type;)*
            $(
                fn $method<'life0, 'async_trait>(
                    &'life0 $self,
                    request: ::tonic::Request<$request>,
                ) -> ::std::pin::Pin<
                    Box<
                        dyn ::std::future::Future<
                                Output = Result<::tonic::Response<$response>, ::tonic::Status>,
                            > + Send
                            + 'async_trait,
                    >,
                >
                where
                    'life0: 'async_trait,
                    Self: 'async_trait,
                {
                    // The call runs as serving the HTTP request it came for (its id and client
                    // address, for the audit trail: `RequestOrigin::current`).
                    let origin = $crate::telemetry::RequestOrigin::of_call(request.metadata());
                    Box::pin(origin.scope(async move {
                        let $caller: $caller_type =
                            $crate::doorway::FromCall::from_call($self, &request)?;
                        let $body: $request = request.into_inner();
                        let reply: $response = $reply;
                        Ok(::tonic::Response::new(reply))
                    }))
                }
            )*
        }
    };
}

/// Every record of `records` as the message `M` (the rows of a list reply).
pub fn converted<R, M: From<R>>(records: impl IntoIterator<Item = R>) -> Vec<M> {
    records.into_iter().map(M::from).collect()
}

/// `From<Record> for Message` impls, one entry per record: the fields named alone move across
/// under the same name; the fields after `;` are computed from the record, bound as the name
/// given after `as` (they are read before any field moves). `[times]` after the message adds
/// its `create_time_ms` and `update_time_ms`, the record's `create_time` and `update_time` in
/// unix milliseconds.
///
/// ```text
/// proto_from! {
///     UserRow as row => pb::User {
///         id, username;
///         create_time_ms: to_unix_ms(row.create_time),
///     }
///     EnvRow as row => pb::Env [times] { id, name, remark, creator, mender }
/// }
/// ```
#[macro_export]
macro_rules! proto_from {
    () => {};
    (@ms times $time:expr) => {
        $crate::time::to_unix_ms($time)
    };
    (
        $record:ty as $row:ident => $message:path $([$times:ident])? {
            $($moved:ident),* $(,)? $(; $($field:ident: $value:expr),* $(,)?)?
        }
        $($rest:tt)*
    ) => {
        impl From<$record> for $message {
            fn from($row: $record) -> $message {
                $message {
                    $($($field: $value,)*)?
                    $(
                        create_time_ms: $crate::proto_from!(@ms $times $row.create_time),
                        update_time_ms: $crate::proto_from!(@ms $times $row.update_time),
                    )?
                    $($moved: $row.$moved,)*
                }
            }
        }
        $crate::proto_from! { $($rest)* }
    };
}

/// The wire form of a service's failures: `impl proto::error::ServiceError` from the table of
/// its reasons (`pattern => code`), the variant that carries another service's answer on
/// unchanged (`upstream`), the failures that refused before starting (`refused_unstarted`), and
/// the `tonic::Status` it answers as.
#[macro_export]
macro_rules! service_error {
    (
        impl ServiceError for $error:ident as $service:literal {
            type Code = $code:ty;
            $(upstream: $upstream:ident,)?
            $(refused_unstarted: $refused:pat,)?
            reasons {
                $($arm:pat => $reason:expr,)*
            }
        }
    ) => {
        impl ::proto::error::ServiceError for $error {
            type Code = $code;
            const SERVICE: &'static str = $service;

            fn reason(&self) -> $code {
                match self {
                    $($arm => $reason,)*
                }
            }

            $(
                fn into_upstream(self) -> Result<::tonic::Status, $error> {
                    match self {
                        $error::$upstream(status) => Ok(status),
                        other => Err(other),
                    }
                }
            )?

            $(
                fn refused_unstarted(&self) -> bool {
                    matches!(self, $refused)
                }
            )?
        }

        ::proto::status_from!($error);
    };
}

#[cfg(test)]
mod tests {
    use std::{convert::Infallible, time::Duration};

    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(b"0123456789abcdef0123456789abcdef")
    }

    /// Answers the username the layer verified, or the reason it refused.
    #[derive(Clone)]
    struct Echo;

    impl Service<http::Request<()>> for Echo {
        type Response = Result<String, String>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Self::Response, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: http::Request<()>) -> Self::Future {
            let request = tonic::Request::from_http(request);
            let answer = match request.actor() {
                Ok(actor) => Ok(actor.username().to_owned()),
                Err(status) => Err(status.message().to_owned()),
            };
            std::future::ready(Ok(answer))
        }
    }

    async fn call(header: Option<&str>) -> Result<String, String> {
        let mut request = http::Request::new(());
        if let Some(header) = header {
            request.headers_mut().insert(
                AUTHORIZATION,
                http::HeaderValue::from_str(header).expect("header"),
            );
        }
        let Ok(answer) = Authenticated::new(Echo, keys()).call(request).await;
        answer
    }

    #[tokio::test]
    async fn the_layer_leaves_the_verified_caller_or_the_refusal() {
        let issued = keys()
            .issue("alice", &["viewer".to_owned()], Duration::from_secs(60))
            .expect("issue");
        assert_eq!(
            call(Some(&format!("Bearer {}", issued.token))).await,
            Ok("alice".to_owned())
        );
        assert_eq!(
            call(None).await,
            Err("authorization token is missing".to_owned())
        );
        assert_eq!(
            call(Some("Bearer nope")).await,
            Err("authorization token is invalid".to_owned())
        );
    }

    #[test]
    fn a_call_that_skipped_the_layer_has_no_caller() {
        let status = tonic::Request::new(()).actor().expect_err("no caller");
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }
}
