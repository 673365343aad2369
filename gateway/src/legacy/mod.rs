//! Handlers of the legacy API, one module per contract area: decode the request, call the
//! service over gRPC, encode the answer. No rules live here.

pub mod admin;
pub mod appinhouse;
pub mod artifact;
pub mod auth;
pub mod catalog;
pub mod executions;
pub mod jobs;
pub mod ops;
pub mod resource;

use actix_web::HttpResponse;

use crate::{
    envelope::{Envelope, Page},
    error::ApiError,
};

/// What a TAD handler answers: the success envelope, or a failure envelope.
pub(crate) type Answer = Result<HttpResponse, ApiError>;

/// The success envelope around `data`.
pub(crate) fn ok<T: serde::Serialize>(data: T) -> Answer {
    Ok(HttpResponse::Ok().json(Envelope::ok(data)))
}

/// The success envelope around the list of `items`, each made by `to_item`.
pub(crate) fn ok_each<T, U: serde::Serialize>(
    items: Vec<T>,
    to_item: impl FnMut(T) -> U,
) -> Answer {
    ok(items.into_iter().map(to_item).collect::<Vec<_>>())
}

/// A page of `count` results (page `page`, no envelope), each item made by `to_item`.
pub(crate) fn page_of<T, U: serde::Serialize>(
    count: i64,
    page: u32,
    items: Vec<T>,
    to_item: impl FnMut(T) -> U,
) -> Answer {
    let results: Vec<U> = items.into_iter().map(to_item).collect();
    Ok(HttpResponse::Ok().json(Page::new(count, page, results)))
}
