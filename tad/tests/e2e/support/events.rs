//! A run's output as the e2e tests read it: its server-sent events (the whole stream, the first
//! frames of a live stream, the parse of `id:`/`event:`/`data:` frames) and its host task logs.

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use super::Api;

/// One SSE frame: (id, event, data).
pub type Frame = (u64, String, Value);

/// A GET of a run's event stream, resuming after `last_event_id` when given.
fn events_request(api: &Api, run: &str, last_event_id: Option<u64>) -> reqwest::RequestBuilder {
    let mut request = api
        .http
        .get(format!("{}/api/executions/{run}/events", api.base))
        .bearer_auth(api.token.as_deref().expect("token"));
    if let Some(last) = last_event_id {
        request = request.header("Last-Event-ID", last.to_string());
    }
    request
}

/// Reads a run's SSE stream until the server ends it (two minutes at most), answering its
/// frames; asserts a 200 `text/event-stream` answer.
pub async fn read_events(api: &Api, run: &str, last_event_id: Option<u64>) -> Vec<Frame> {
    let response = events_request(api, run, last_event_id)
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .expect("events");
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("type")
        .to_owned();
    let text = response.text().await.expect("stream");
    assert_eq!(status, 200, "events of {run}: {text}");
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    parse_events(&text)
}

/// Reads the first `count` events of a run's live stream, then hangs up.
pub async fn read_first_events(api: &Api, run: &str, count: usize) -> Vec<Frame> {
    let response = events_request(api, run, None).send().await.expect("events");
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    while parse_events(&text).len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("an event within 20 s")
            .expect("stream open")
            .expect("chunk");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    parse_events(&text).into_iter().take(count).collect()
}

/// Every log byte of a run's host task, read through the log route from offset 0 until `done`.
pub async fn read_task_log(api: &Api, run: &str, task: &str) -> String {
    let mut offset = 0;
    let mut text = String::new();
    loop {
        let chunk = api
            .get_ok(&format!(
                "/api/executions/{run}/log?host_task={task}&offset={offset}"
            ))
            .await;
        text.push_str(chunk["text"].as_str().expect("text"));
        let next = chunk["next_offset"].as_u64().expect("next offset");
        if chunk["done"] == true {
            return text;
        }
        assert!(next >= offset);
        offset = next;
    }
}

/// The complete frames of an SSE text (a frame lacking its id, event or JSON data is skipped).
pub fn parse_events(text: &str) -> Vec<Frame> {
    text.split("\n\n")
        .filter_map(|frame| {
            let mut id = None;
            let mut event = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(value) = line.strip_prefix("id: ") {
                    id = value.parse::<u64>().ok();
                } else if let Some(value) = line.strip_prefix("event: ") {
                    event = Some(value.to_owned());
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data = serde_json::from_str::<Value>(value).ok();
                }
            }
            Some((id?, event?, data?))
        })
        .collect()
}
