//! The download pages as server-rendered HTML: `GET /app/{app}` (the newest builds for the
//! visitor's platform with install buttons, ios through `itms-services`, a search box, history
//! pages below) and `GET /app/{app}/{platform}/{version}` (one build, its permalink), each with a
//! QR code (SVG made here) of itself for desktop visitors. Mobile-friendly, no external assets
//! (style and script are files of this server, none inline, so the page runs under a CSP without
//! inline script). Every value is escaped, and a link that is not http(s), itms-services or a
//! path of this server is not rendered as a link.

mod cards;
mod locked;

use std::fmt::Write;

use proto::appinhouse::v1 as pb;
use qrcode::{QrCode, render::svg};

pub use cards::human_size;
pub use locked::{render_locked, render_message};

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// `url` when a browser may follow it from the page (`http`, `https`, `itms-services`, or a path
/// of this server), else `#`: a `javascript:` or `data:` URL never becomes a live link, whatever
/// the service stored. Browsers drop tabs and newlines inside a URL and leading spaces or
/// control characters before reading its scheme; so does this check.
pub fn safe_href(url: &str) -> &str {
    let normalized: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .take(32)
        .collect::<String>()
        .to_ascii_lowercase();
    let allowed = ["http://", "https://", "itms-services://"]
        .iter()
        .any(|scheme| normalized.starts_with(scheme))
        || (normalized.starts_with('/') && !normalized.starts_with("//"));
    if allowed { url } else { "#" }
}

/// A QR code of `url` as an SVG `data:` URL (for an `<img>`), `None` when the URL is too long.
pub fn qr_data_url(url: &str) -> Option<String> {
    let code = QrCode::new(url.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml;charset=utf-8,{}",
        percent_encoding::utf8_percent_encode(&image, percent_encoding::NON_ALPHANUMERIC)
    ))
}

/// What every part of a page needs: the app, the page's own URL (its QR code), the requested
/// time offset, whether iOS installs work here, and the grant links carry (a protected app).
pub struct PageView<'a> {
    pub app: &'a str,
    pub page_url: &'a str,
    pub time_offset: Option<i32>,
    pub https_installs: bool,
    pub access: &'a str,
}

impl<'a> PageView<'a> {
    /// The view of a page the service answered.
    pub fn of(content: &'a pb::PageContent, page_url: &'a str, time_offset: Option<i32>) -> Self {
        PageView {
            app: &content.app,
            page_url,
            time_offset,
            https_installs: content.https_installs,
            access: &content.access,
        }
    }

    /// `path` with the grant added (a protected app), as a path of this server.
    pub fn with_access(&self, path: &str) -> String {
        if self.access.is_empty() {
            return path.to_owned();
        }
        let separator = if path.contains('?') { '&' } else { '?' };
        format!("{path}{separator}access={}", encode(self.access))
    }
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn head(out: &mut String, title: &str, description: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/static/app-page.css\">\
         <script src=\"/static/app-page.js\"></script></head><body><main><h1 id=\"app\">{title}</h1><p class=\"desc\">{description}</p>",
        title = escape(title),
        description = escape(description),
    );
}

fn title_of(content: &pb::PageContent) -> String {
    if content.alias.is_empty() {
        content.app.clone()
    } else {
        format!("{} ({})", content.alias, content.app)
    }
}

/// The QR code of the page (for desktop visitors), with the grant when the page has one.
fn qr_section(out: &mut String, content: &pb::PageContent, view: &PageView<'_>) {
    if content.detected_platform != "pc" {
        return;
    }
    let url = view.with_access(view.page_url);
    if let Some(qr) = qr_data_url(&url) {
        let _ = write!(
            out,
            "<section class=\"card qr\"><p>Scan with your phone to install</p>\
             <img id=\"qr\" alt=\"QR code of {shown}\" src=\"{qr}\"><p class=\"meta\">{shown}</p></section>",
            shown = escape(view.page_url),
        );
    }
}

/// The query of a page link: its page, search, time offset and grant.
fn page_query(page: i64, content: &pb::PageContent, view: &PageView<'_>) -> String {
    let mut query = format!("?page={page}");
    if !content.query.is_empty() {
        query.push_str("&q=");
        query.push_str(&encode(&content.query));
    }
    if let Some(offset) = view.time_offset {
        let _ = write!(query, "&time_offset={offset}");
    }
    if !view.access.is_empty() {
        query.push_str("&access=");
        query.push_str(&encode(view.access));
    }
    query
}

/// Links to the newer and older pages of history, when there is more than one.
fn page_links(out: &mut String, content: &pb::PageContent, view: &PageView<'_>) {
    if content.pages <= 1 {
        return;
    }
    out.push_str("<nav class=\"pages\">");
    if content.page > 1 {
        let _ = write!(
            out,
            "<a rel=\"prev\" href=\"{}\">Newer</a> ",
            escape(&page_query(content.page - 1, content, view))
        );
    }
    let _ = write!(
        out,
        "<span>Page {} of {}</span>",
        content.page, content.pages
    );
    if content.page < content.pages {
        let _ = write!(
            out,
            " <a rel=\"next\" href=\"{}\">Older</a>",
            escape(&page_query(content.page + 1, content, view))
        );
    }
    out.push_str("</nav>");
}

/// The search box: a GET form that keeps the time offset and the grant.
fn search_form(out: &mut String, content: &pb::PageContent, view: &PageView<'_>) {
    let _ = write!(
        out,
        "<form class=\"search\" role=\"search\" method=\"get\" action=\"/app/{app}\">\
         <input type=\"search\" name=\"q\" maxlength=\"64\" placeholder=\"Search versions and notes\" value=\"{query}\">",
        app = escape(view.app),
        query = escape(&content.query),
    );
    if let Some(offset) = view.time_offset {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"time_offset\" value=\"{offset}\">"
        );
    }
    if !view.access.is_empty() {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"access\" value=\"{}\">",
            escape(view.access)
        );
    }
    out.push_str("<button type=\"submit\">Search</button></form>");
}

/// The page `/app/{app}`. `view.page_url` is what the QR code encodes.
pub fn render(content: &pb::PageContent, view: &PageView<'_>) -> String {
    let mut out = String::with_capacity(16 * 1024);
    head(&mut out, &title_of(content), &content.description);
    if content.latest.is_empty() {
        out.push_str("<p class=\"empty\">No build yet for this device.</p>");
    }
    for build in &content.latest {
        cards::build_card(&mut out, build, view);
    }
    qr_section(&mut out, content, view);
    out.push_str("<h2>History</h2>");
    search_form(&mut out, content, view);
    if content.history.is_empty() {
        if !content.query.is_empty() {
            out.push_str("<p class=\"empty\">No build matches the search.</p>");
        }
    } else {
        out.push_str(
            "<table class=\"history\"><thead><tr><th>Platform</th><th>Version</th><th>Time</th><th>Installs</th><th></th></tr></thead><tbody>",
        );
        for build in &content.history {
            cards::history_row(&mut out, build, view);
        }
        out.push_str("</tbody></table>");
    }
    page_links(&mut out, content, view);
    out.push_str("</main></body></html>");
    out
}

/// The page of one build, `/app/{app}/{platform}/{version}` (its permalink).
pub fn render_build(content: &pb::PageContent, view: &PageView<'_>) -> String {
    let mut out = String::with_capacity(8 * 1024);
    head(&mut out, &title_of(content), &content.description);
    for build in &content.latest {
        cards::build_card(&mut out, build, view);
    }
    qr_section(&mut out, content, view);
    let _ = write!(
        out,
        "<p><a class=\"all\" href=\"{}\">All builds</a></p></main></body></html>",
        escape(&view.with_access(&format!("/app/{}", view.app)))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A build of `platform` and `version` downloaded from `down`.
    fn build(platform: &str, version: &str, down: &str) -> pb::Build {
        pb::Build {
            platform: platform.to_owned(),
            version: version.to_owned(),
            down: down.to_owned(),
            ..pb::Build::default()
        }
    }

    #[test]
    fn the_page_escapes_text_and_links_ios_through_itms_services() {
        let content = pb::PageContent {
            app: "rog2".to_owned(),
            description: "<b>beta</b>".to_owned(),
            alias: String::new(),
            detected_platform: "pc".to_owned(),
            latest: vec![build(
                "ios",
                "1.0.0",
                "https://h/api/v2/rog2/plist/1.0.0.plist",
            )],
            history: vec![],
            page: 1,
            pages: 1,
            https_installs: true,
            ..pb::PageContent::default()
        };
        let html = render(&content, &PageView::of(&content, "http://h/app/rog2", None));
        assert!(html.contains("&lt;b&gt;beta&lt;/b&gt;"));
        assert!(html.contains(
            "href=\"itms-services://?action=download-manifest&amp;url=https%3A%2F%2Fh%2Fapi"
        ));
        assert!(html.contains("<img id=\"qr\""));
        assert!(
            !html.contains("http://h/app/rog2\" src=\"http"),
            "no external assets"
        );
    }

    #[test]
    fn only_web_and_install_links_are_live() {
        for url in [
            "https://h/a.apk",
            "HTTP://h/a.apk",
            "itms-services://?action=download-manifest&url=x",
            "/download/a/android/1/a.apk",
        ] {
            assert_eq!(safe_href(url), url);
        }
        for url in [
            "javascript:alert(document.cookie)",
            " JavaScript:alert(1)",
            "java\tscript:alert(1)",
            "\u{1}javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "//evil.example/a.apk",
            "a.apk",
        ] {
            assert_eq!(safe_href(url), "#", "{url:?}");
        }
        let content = pb::PageContent {
            app: "x".to_owned(),
            detected_platform: "android".to_owned(),
            latest: vec![build("android", "1", "javascript:alert(document.cookie)")],
            ..pb::PageContent::default()
        };
        let html = render(&content, &PageView::of(&content, "http://h/app/x", None));
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<script>"), "no inline script: {html}");
        assert!(!html.contains("<style>"), "no inline style: {html}");
    }

    #[test]
    fn history_pages_link_to_newer_and_older_ones() {
        let content = |page, pages| pb::PageContent {
            app: "rog2".to_owned(),
            detected_platform: "android".to_owned(),
            page,
            pages,
            ..pb::PageContent::default()
        };
        let middle = render(
            &content(2, 3),
            &PageView::of(&content(2, 3), "http://h/app/rog2", Some(480)),
        );
        assert!(middle.contains("<a rel=\"prev\" href=\"?page=1&amp;time_offset=480\">Newer</a>"));
        assert!(middle.contains("<span>Page 2 of 3</span>"));
        assert!(middle.contains("<a rel=\"next\" href=\"?page=3&amp;time_offset=480\">Older</a>"));
        let last = render(
            &content(3, 3),
            &PageView::of(&content(3, 3), "http://h/app/rog2", None),
        );
        assert!(last.contains("href=\"?page=2\">Newer") && !last.contains("Older"));
        let single = render(
            &content(1, 1),
            &PageView::of(&content(1, 1), "http://h/app/rog2", None),
        );
        assert!(!single.contains("class=\"pages\""));
    }
}
