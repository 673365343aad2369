//! Request input repeated in a message is cut to a short excerpt: one helper for every service
//! (statuses built by [`crate::ErrorReason::status`] and [`crate::appinhouse::AppinhouseCode::status`])
//! and the gateway (answers and log lines), so a 1 MB id never travels back in an error (where it
//! would also overflow the gRPC trailers) nor fills a log.

use std::borrow::Cow;

/// Most characters of one request value (a field, a path segment, a name) that an answer or a log
/// line repeats; longer values are cut and end with `…`.
pub const EXCERPT_CHARS: usize = 64;
/// Most characters of a whole failure message (`info`, appinhouse `msg`).
pub const MAX_MESSAGE_CHARS: usize = 512;

/// `value` cut to [`EXCERPT_CHARS`] characters, with `…` when something was cut.
pub fn excerpt(value: &str) -> Cow<'_, str> {
    cut(value, EXCERPT_CHARS)
}

fn cut(value: &str, limit: usize) -> Cow<'_, str> {
    match value.char_indices().nth(limit) {
        None => Cow::Borrowed(value),
        Some((end, _)) => Cow::Owned(format!("{}…", &value[..end])),
    }
}

/// A failure message that may carry request input (a service's "not found" naming an id, a
/// decoder error quoting a value): every run of characters without whitespace longer than
/// [`EXCERPT_CHARS`] becomes an excerpt, and the whole message is cut at [`MAX_MESSAGE_CHARS`].
pub fn bound_message(message: &str) -> String {
    let mut bounded = String::with_capacity(message.len().min(MAX_MESSAGE_CHARS + 8));
    let mut word_start = None;
    for (index, character) in message.char_indices() {
        if character.is_whitespace() {
            if let Some(start) = word_start.take() {
                bounded.push_str(&excerpt(&message[start..index]));
            }
            bounded.push(character);
        } else if word_start.is_none() {
            word_start = Some(index);
        }
    }
    if let Some(start) = word_start {
        bounded.push_str(&excerpt(&message[start..]));
    }
    cut(&bounded, MAX_MESSAGE_CHARS).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_become_excerpts_and_short_messages_stay() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(1000);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        let message = "field name: invalid type: integer `5`, expected a string";
        assert_eq!(bound_message(message), message);
        let value = "A".repeat(1_000_000);
        let bounded = bound_message(&format!("product line \"{value}\" does not exist"));
        assert!(bounded.starts_with("product line \"AAAA"), "{bounded}");
        assert!(bounded.ends_with("… does not exist"), "{bounded}");
        assert!(bounded.chars().count() < 100, "{bounded}");
        let spaced = "word ".repeat(100_000);
        assert_eq!(
            bound_message(&spaced).chars().count(),
            MAX_MESSAGE_CHARS + 1
        );
    }
}
