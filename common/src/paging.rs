//! Pagination of the `aos_json` lists (SPEC §1): `page` from 1, `page_size` 1..=100, 0 meaning the
//! default (page 1, 10 rows); a page past the end is empty with the true count.

/// Largest page size.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 10;

/// A page size over the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("page_size must be at most {MAX_PAGE_SIZE}")]
pub struct PageSizeTooLarge;

/// A checked page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub page_size: u32,
}

impl PageRequest {
    pub fn new(page: u32, page_size: u32) -> Result<PageRequest, PageSizeTooLarge> {
        let page = page.max(1);
        let page_size = if page_size == 0 {
            DEFAULT_PAGE_SIZE
        } else {
            page_size
        };
        if page_size > MAX_PAGE_SIZE {
            return Err(PageSizeTooLarge);
        }
        Ok(PageRequest { page, page_size })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_limits() {
        assert_eq!(
            PageRequest::new(0, 0),
            Ok(PageRequest {
                page: 1,
                page_size: 10
            })
        );
        let page = PageRequest::new(3, 20).expect("valid");
        assert_eq!((page.offset(), page.limit()), (40, 20));
        assert_eq!(PageRequest::new(1, 101), Err(PageSizeTooLarge));
    }
}
