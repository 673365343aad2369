//! Pagination of the `aos_json` lists (SPEC §1): `page` from 1, `page_size` 1..=100, 0 meaning the
//! default (page 1, 10 rows); a larger `page_size` is cut to 100, as the legacy server's paginator
//! did; a page past the end is empty with the true count.

/// Largest page size.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 10;

/// A page request within the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub page_size: u32,
}

impl PageRequest {
    /// Page 0 is page 1; page size 0 is the default, over `MAX_PAGE_SIZE` is `MAX_PAGE_SIZE`.
    pub fn new(page: u32, page_size: u32) -> PageRequest {
        let page = page.max(1);
        let page_size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            size => size.min(MAX_PAGE_SIZE),
        };
        PageRequest { page, page_size }
    }

    /// Rows to skip.
    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.page_size)
    }

    /// Rows to take.
    pub fn limit(self) -> i64 {
        i64::from(self.page_size)
    }
}

/// One page of a filtered table, newest first (`create_time`, then `id`, descending), and the
/// total count of the filter: a `diesel::QueryResult<(i64, Vec<Row>)>`.
/// `newest_first_page!(connection, filtered, table, Row, offset, limit)`, where `filtered` builds
/// the boxed, filtered query afresh on each call and `table` is the table's module (or its `dsl`).
/// The caller has `diesel::prelude::*` in scope.
#[macro_export]
macro_rules! newest_first_page {
    ($connection:ident, $filtered:expr, $table:ident, $row:ty, $offset:expr, $limit:expr) => {{
        let filtered = $filtered;
        filtered()
            .count()
            .get_result::<i64>($connection)
            .and_then(|count| {
                filtered()
                    .select(<$row>::as_select())
                    .order(($table::create_time.desc(), $table::id.desc()))
                    .offset($offset)
                    .limit($limit)
                    .load($connection)
                    .map(|rows| (count, rows))
            })
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_limits() {
        assert_eq!(
            PageRequest::new(0, 0),
            PageRequest {
                page: 1,
                page_size: 10
            }
        );
        let page = PageRequest::new(3, 20);
        assert_eq!((page.offset(), page.limit()), (40, 20));
        assert_eq!(PageRequest::new(1, 101).page_size, 100);
        assert_eq!(PageRequest::new(2, 5000).offset(), 100);
    }
}
