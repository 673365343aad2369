//! Handlers of the legacy API, one module per contract area: decode the request, call the
//! service over gRPC, encode the answer. No rules live here.

pub mod admin;
pub mod appinhouse;
pub mod appinhouse_files;
pub mod appinhouse_pages;
pub mod approvals;
pub mod artifact;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod executions;
pub mod jobs;
pub mod ops;
pub mod plans;
pub mod resource;
pub mod schedules;
pub mod tokens;

use actix_web::{HttpResponse, web};

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

/// The `{id}` segment of a URL.
pub(crate) type IdPath = web::Path<String>;

/// The jobs service's id message of the `{id}` segment.
pub(crate) fn job_id(id: IdPath) -> proto::jobs::v1::IdRequest {
    proto::jobs::v1::IdRequest {
        id: id.into_inner(),
    }
}

/// Declares a paginated list route (answered without envelope) and its query type: the query's
/// filters and its `page` / `page_size` (parsed by [`crate::body::page_params`]) make the
/// service's request, and every row of the answer is made an item by `$item(row, times)`. One
/// invocation states the service method and its request, the rows of the answer and their item,
/// and the query with the filters it copies (`request field: query field`, with the serde
/// attributes of the query field).
macro_rules! paged_list {
    (
        $(#[$doc:meta])*
        $handler:ident: $service:ident.$method:ident($($request:ident)::+) => $rows:ident as $item:path,
        $query:ident { $($field:ident: $(#[$serde:meta])* $filter:ident),+ }
    ) => {
        #[doc = concat!("Query of [`", stringify!($handler), "`].")]
        #[derive(Debug, serde::Deserialize)]
        pub struct $query {
            $($(#[$serde])* $filter: Option<String>,)+
            page: Option<String>,
            page_size: Option<String>,
        }

        $(#[$doc])*
        pub async fn $handler(
            call: $crate::clients::Call,
            query: ::actix_web::web::Query<$query>,
        ) -> $crate::legacy::Answer {
            let query = query.into_inner();
            let (page, page_size) =
                $crate::body::page_params(query.page.as_deref(), query.page_size.as_deref())?;
            let request = $($request)::+ {
                $($field: query.$filter,)+
                page,
                page_size,
            };
            let answer = $crate::clients::reply(call.$service().$method(request)).await?;
            $crate::legacy::page_of(answer.count, answer.page, answer.$rows, |row| {
                $item(row, &call.times)
            })
        }
    };
}
pub(crate) use paged_list;
