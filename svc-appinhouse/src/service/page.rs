//! What the download pages show: `/app/{app}` (the newest build of each platform shown to the
//! visitor and one page of history, optionally searched) and `/app/{app}/{platform}/{version}`
//! (one build, its permalink).

use super::{
    AppinhouseResult, AppinhouseService,
    builds::version,
    platform::{Detected, Platform, detect},
    reads::{BuildView, Reader, Shows, missing_build, shown_platforms, wanted_page},
};
use crate::db::models::{apps::AppRow, builds};

/// Longest search text, in characters.
pub const MAX_QUERY_CHARS: usize = 64;

/// What a download page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageContent {
    pub app: AppRow,
    pub detected: Detected,
    pub latest: Vec<BuildView>,
    /// One page of the builds after the newest (or of the builds found), of each platform shown.
    pub history: Vec<BuildView>,
    /// The page of history shown (from 1) and how many there are (at least 1).
    pub page: i64,
    pub pages: i64,
    /// Whether iOS can install from here: the public URL is https.
    pub https_installs: bool,
    /// The search shown (trimmed, cut to [`MAX_QUERY_CHARS`]).
    pub query: String,
    /// The grant the page's links carry (a protected app).
    pub access: Option<String>,
}

/// What a visitor asks a page for.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub user_agent: String,
    pub touch_hint: bool,
    pub page: Option<String>,
    pub query: String,
    pub reader: Reader,
}

impl AppinhouseService {
    /// Everything the download page of `app` shows to this visitor: the newest build of its
    /// platform (of every platform for a desktop visitor) and one page of the builds after it,
    /// newest first; with a search, one page of the builds whose version or description holds
    /// it. `page` counts from 1; anything else shows the first page, and a page past the end
    /// shows the last one (the oldest builds are always reachable, unlike the API's `max_page`
    /// window).
    pub async fn page(&self, app: &str, request: PageRequest) -> AppinhouseResult<PageContent> {
        let detected = detect(&request.user_agent, request.touch_hint);
        let page_size = self.settings.page_size.max(1);
        let wanted = wanted_page(request.page.as_deref());
        let query: String = request.query.trim().chars().take(MAX_QUERY_CHARS).collect();
        let pattern = (!query.is_empty()).then(|| builds::contains_pattern(&query));
        let read = format!("page\n{detected:?}\n{wanted}\n{query}");
        let reader = request.reader;
        let load = self.read_app(
            app,
            reader.clone(),
            move |service, connection, app, row, links| {
                // Without a search, history starts after the newest build (shown on top).
                let skipped = i64::from(pattern.is_none());
                let mut totals = Vec::new();
                for platform in shown_platforms(detected) {
                    let platform = platform.as_str();
                    let total = match &pattern {
                        None => builds::count(connection, app, platform)?,
                        Some(pattern) => {
                            builds::count_matching(connection, app, platform, pattern)?
                        }
                    };
                    totals.push((platform, total));
                }
                let pages = totals
                    .iter()
                    .map(|(_, total)| ((total - skipped).max(0) + page_size - 1) / page_size)
                    .max()
                    .unwrap_or(0)
                    .max(1);
                let page = wanted.min(pages);
                let offset = skipped + (page - 1) * page_size;
                let mut latest = Vec::new();
                let mut history = Vec::new();
                for (platform, total) in totals {
                    let newest = builds::newest(connection, app, platform, 0, 1)?;
                    latest.extend(newest);
                    if total == 0 {
                        continue;
                    }
                    history.extend(match &pattern {
                        None => builds::newest(connection, app, platform, offset, page_size)?,
                        Some(pattern) => builds::newest_matching(
                            connection, app, platform, pattern, offset, page_size,
                        )?,
                    });
                }
                Ok(PageContent {
                    app: row,
                    detected,
                    latest: service.views(connection, &links, latest)?,
                    history: service.views(connection, &links, history)?,
                    page,
                    pages,
                    https_installs: links.base_url.starts_with("https://"),
                    query,
                    access: links.access,
                })
            },
        );
        self.cached(app, &reader, &read, Shows::BuildsAndInstalls, load)
            .await
    }

    /// The page of one build (its permalink): 1004 when the app has no such build.
    pub async fn build_page(
        &self,
        app: &str,
        platform: &str,
        version_text: &str,
        request: PageRequest,
    ) -> AppinhouseResult<PageContent> {
        let platform = Platform::parse(platform.trim())?;
        let version = version(version_text)?;
        let detected = detect(&request.user_agent, request.touch_hint);
        let read = format!("build page\n{platform:?}\n{version}\n{detected:?}");
        let reader = request.reader;
        let load = self.read_app(
            app,
            reader.clone(),
            move |service, connection, app, row, links| {
                let build = builds::find(connection, app, platform.as_str(), &version)?
                    .ok_or_else(|| missing_build(app, platform, &version))?;
                Ok(PageContent {
                    app: row,
                    detected,
                    latest: service.views(connection, &links, vec![build])?,
                    history: Vec::new(),
                    page: 1,
                    pages: 1,
                    https_installs: links.base_url.starts_with("https://"),
                    query: String::new(),
                    access: links.access,
                })
            },
        );
        self.cached(app, &reader, &read, Shows::BuildsAndInstalls, load)
            .await
    }
}
