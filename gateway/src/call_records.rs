//! What the service calls of one request answered about their reads: each call's
//! `tad-read-under` record (or none), noted by the transport ([`crate::failover`]) while a kept
//! route's request runs, joined for [`crate::answer_cache`].

use std::{cell::RefCell, future::Future};

use common::read_cache::provenance::{READ_UNDER_METADATA, ReadUnder};

#[derive(Default)]
struct CallsSeen {
    records: Vec<Option<ReadUnder>>,
}

tokio::task_local! {
    static CALLS: RefCell<CallsSeen>;
}

/// Notes one service call's answer (its headers; `None` when it failed in transport). Outside
/// [`recording_calls`] it does nothing.
pub fn note_answer(headers: Option<&http::HeaderMap>) {
    let record = headers
        .and_then(|headers| headers.get(READ_UNDER_METADATA))
        .and_then(|value| value.to_str().ok())
        .and_then(ReadUnder::parse);
    let _ = CALLS.try_with(|calls| calls.borrow_mut().records.push(record));
}

/// Runs `work`; answers what all its service calls were read under together (`None` when it
/// made none, or one did not say).
pub async fn recording_calls<F: Future>(work: F) -> (F::Output, Option<ReadUnder>) {
    CALLS
        .scope(RefCell::new(CallsSeen::default()), async move {
            let output = work.await;
            let records = CALLS.with(|calls| std::mem::take(&mut calls.borrow_mut().records));
            (output, ReadUnder::join(&records))
        })
        .await
}
