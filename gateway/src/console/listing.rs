//! What the console's list pages share: their query (every value capped, the refusal naming the
//! field), the options of a filter, a page of a long list with its links to the pages before and
//! after, and a status word in the page's language (a run's or an instance's).

use std::collections::{BTreeMap, HashMap};

use proto::ErrorReason;
use serde::Serialize;

use crate::error::ApiError;

/// Longest value of a filter or id in a console page's query.
pub const MAX_QUERY_CHARS: usize = 128;
/// Most values a console page's query may carry.
const MAX_QUERY_VALUES: usize = 16;

/// A console page's query: each named value, checked against [`MAX_QUERY_CHARS`].
#[derive(Debug, Default, Clone)]
pub struct PageQuery(HashMap<String, String>);

impl PageQuery {
    /// Checks every value (the refusal names the field); unknown names are ignored.
    pub fn new(values: HashMap<String, String>) -> Result<PageQuery, ApiError> {
        if values.len() > MAX_QUERY_VALUES {
            return Err(ApiError::new(
                ErrorReason::InvalidField,
                format!("the query has more than {MAX_QUERY_VALUES} fields"),
            ));
        }
        for (name, value) in &values {
            if value.chars().count() > MAX_QUERY_CHARS || value.chars().any(char::is_control) {
                return Err(ApiError::new(
                    ErrorReason::InvalidField,
                    format!(
                        "query field {:?} must be at most {MAX_QUERY_CHARS} characters without control characters",
                        crate::error::excerpt(name)
                    ),
                ));
            }
        }
        Ok(PageQuery(values))
    }

    /// The value of `name`, trimmed (empty when absent).
    pub fn text(&self, name: &str) -> String {
        self.0
            .get(name)
            .map(|value| value.trim().to_owned())
            .unwrap_or_default()
    }

    /// The page number asked for (1 when absent), refused when not a positive number.
    pub fn page(&self) -> Result<usize, ApiError> {
        let text = self.text("page");
        if text.is_empty() {
            return Ok(1);
        }
        text.parse::<usize>()
            .ok()
            .filter(|page| (1..=1_000_000).contains(page))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorReason::InvalidField,
                    format!("query field page must be a positive number, not {text:?}"),
                )
            })
    }
}

/// An option of a filter's `<select>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

impl Choice {
    /// Options from `(id, name)` pairs, the one with id `chosen` selected.
    pub fn list(pairs: impl IntoIterator<Item = (String, String)>, chosen: &str) -> Vec<Choice> {
        pairs
            .into_iter()
            .map(|(id, name)| Choice {
                selected: id == chosen,
                id,
                name,
            })
            .collect()
    }
}

/// Where a page of a list is: its number, how many there are, and the links around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paging {
    pub page: usize,
    pub pages: usize,
    pub count: usize,
    pub previous_url: Option<String>,
    pub next_url: Option<String>,
}

impl Paging {
    /// Page `page` of `count` items, `size` a page; the links keep `kept` (the filters).
    pub fn new(
        path: &str,
        kept: &[(&str, &str)],
        page: usize,
        size: usize,
        count: usize,
    ) -> Paging {
        let pages = count.div_ceil(size.max(1)).max(1);
        let link = |to: usize| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (name, value) in kept.iter().filter(|(_, value)| !value.is_empty()) {
                query.append_pair(name, value);
            }
            query.append_pair("page", &to.to_string());
            format!("{path}?{}", query.finish())
        };
        Paging {
            page,
            pages,
            count,
            previous_url: (page > 1).then(|| link((page - 1).min(pages))),
            next_url: (page < pages).then(|| link(page + 1)),
        }
    }

    /// The items of this page out of the whole list.
    pub fn slice<T>(&self, items: Vec<T>, size: usize) -> Vec<T> {
        items
            .into_iter()
            .skip((self.page - 1).saturating_mul(size))
            .take(size)
            .collect()
    }
}

/// A status word in the page's language: a run's (`status_*`) or an instance's
/// (`instance_status_*`), else the word itself.
pub fn status_text(messages: &BTreeMap<&'static str, &'static str>, status: &str) -> String {
    messages
        .get(format!("status_{status}").as_str())
        .or_else(|| messages.get(format!("instance_status_{status}").as_str()))
        .map(|text| (*text).to_owned())
        .unwrap_or_else(|| status.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<PageQuery, ApiError> {
        PageQuery::new(
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn every_query_value_is_capped_and_the_refusal_names_it() {
        let long = "x".repeat(MAX_QUERY_CHARS + 1);
        let error = query(&[("application", &long)]).expect_err("too long");
        assert!(error.info.contains("\"application\""), "{}", error.info);
        assert!(query(&[("status", "a\u{0}b")]).is_err());
        let fine = query(&[("status", " failed ")]).expect("fine");
        assert_eq!(fine.text("status"), "failed");
        assert_eq!(fine.page().expect("page"), 1);
        let error = query(&[("page", "0")])
            .expect("query")
            .page()
            .expect_err("page 0");
        assert!(error.info.contains("page"), "{}", error.info);
    }

    #[test]
    fn paging_links_keep_the_filters() {
        let paging = Paging::new(
            "/console/instances",
            &[("status", "failed"), ("application", "")],
            2,
            25,
            60,
        );
        assert_eq!(paging.pages, 3);
        assert_eq!(
            paging.previous_url.as_deref(),
            Some("/console/instances?status=failed&page=1")
        );
        assert_eq!(
            paging.next_url.as_deref(),
            Some("/console/instances?status=failed&page=3")
        );
        assert_eq!(
            paging.slice((0..60).collect(), 25),
            (25..50).collect::<Vec<_>>()
        );
        let single = Paging::new("/x", &[], 1, 10, 0);
        assert_eq!(
            (single.pages, single.previous_url, single.next_url),
            (1, None, None)
        );
    }
}
