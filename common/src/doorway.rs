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
/// passes it as the method's first argument; the method's parameter type chooses which.
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

/// Implements a tonic service trait for an adapter whose RPCs are inherent async methods of the
/// same names, written in the adapter's per-area files: one line per RPC. Each method takes what
/// it needs of the call ([`FromCall`]) and the message, and answers its reply or a status:
/// `async fn list_templates(&self, actor: Actor, body: pb::ListTemplatesRequest) ->
/// Result<pb::ListTemplatesResponse, Status>`; the macro unwraps the request and wraps the reply.
///
/// ```text
/// grpc_api! {
///     impl JobsApi for JobsGrpc {
///         type WatchExecutionStream = EventStream;
///     }
///     list_templates(pb::ListTemplatesRequest) -> pb::ListTemplatesResponse;
/// }
/// ```
#[macro_export]
macro_rules! grpc_api {
    (
        impl $api:ident for $grpc:ident { $(type $assoc:ident = $assoc_type:ty;)* }
        $($method:ident($request:ty) -> $response:ty;)*
    ) => {
        impl $api for $grpc {
            $(type $assoc = $assoc_type;)*
            $(
                fn $method<'life0, 'async_trait>(
                    &'life0 self,
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
                    Box::pin(async move {
                        let caller = $crate::doorway::FromCall::from_call(self, &request)?;
                        $grpc::$method(self, caller, request.into_inner())
                            .await
                            .map(::tonic::Response::new)
                    })
                }
            )*
        }
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
