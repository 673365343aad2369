//! The download page `GET /app/{app}` as server-rendered HTML: mobile-friendly, no external
//! assets (its style and script are files of this server, none inline, so the page runs under a
//! CSP without inline script), the newest builds for the visitor's platform with install buttons
//! (ios through `itms-services`), history below, and for desktop visitors a QR code (SVG made
//! here) of the page. Every value is escaped, and a link that is not http(s), itms-services or a
//! path of this server is not rendered as a link.

use std::fmt::Write;

use proto::appinhouse::v1 as pb;
use qrcode::{QrCode, render::svg};

use super::appinhouse::{itms_link, render_time};

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

fn install_link(build: &pb::Build) -> String {
    if build.platform == "ios" {
        itms_link(&build.down)
    } else {
        build.down.clone()
    }
}

fn extend_link(build: &pb::Build, down: &str) -> String {
    if build.platform == "ios" {
        itms_link(down)
    } else {
        down.to_owned()
    }
}

fn latest_card(out: &mut String, build: &pb::Build, time_offset: Option<i32>) {
    let _ = write!(
        out,
        "<section class=\"card build\" data-platform=\"{platform}\"><div class=\"version\">{platform} {version}</div>\
         <div class=\"meta\">{time}</div><p>{description}</p>\
         <a class=\"install\" href=\"{link}\">{label}</a>",
        platform = escape(&build.platform),
        version = escape(&build.version),
        time = escape(&render_time(
            build.time_ms,
            build.given_offset_minutes,
            time_offset
        )),
        description = escape(&build.description),
        link = escape(safe_href(&install_link(build))),
        label = if build.platform == "ios" {
            "Install"
        } else {
            "Download"
        },
    );
    for extend in &build.extends {
        let _ = write!(
            out,
            "<a class=\"install extend\" href=\"{}\">{}</a>",
            escape(safe_href(&extend_link(build, &extend.down))),
            escape(&extend.name)
        );
    }
    out.push_str("</section>");
}

/// Links to the newer and older pages of history, when there is more than one.
fn page_links(out: &mut String, content: &pb::PageContent, time_offset: Option<i32>) {
    if content.pages <= 1 {
        return;
    }
    let link = |page: i64| match time_offset {
        Some(offset) => format!("?page={page}&time_offset={offset}"),
        None => format!("?page={page}"),
    };
    out.push_str("<nav class=\"pages\">");
    if content.page > 1 {
        let _ = write!(
            out,
            "<a rel=\"prev\" href=\"{}\">Newer</a> ",
            escape(&link(content.page - 1))
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
            escape(&link(content.page + 1))
        );
    }
    out.push_str("</nav>");
}

/// The whole page. `page_url` is what the QR code encodes.
pub fn render(content: &pb::PageContent, page_url: &str, time_offset: Option<i32>) -> String {
    let title = if content.alias.is_empty() {
        content.app.clone()
    } else {
        format!("{} ({})", content.alias, content.app)
    };
    let mut out = String::with_capacity(8 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/static/app-page.css\">\
         <script src=\"/static/app-page.js\"></script></head><body><main><h1 id=\"app\">{title}</h1><p class=\"desc\">{description}</p>",
        title = escape(&title),
        description = escape(&content.description),
    );
    if content.latest.is_empty() {
        out.push_str("<p class=\"empty\">No build yet for this device.</p>");
    }
    for build in &content.latest {
        latest_card(&mut out, build, time_offset);
    }
    if content.detected_platform == "pc"
        && let Some(qr) = qr_data_url(page_url)
    {
        let _ = write!(
            out,
            "<section class=\"card qr\"><p>Scan with your phone to install</p>\
             <img id=\"qr\" alt=\"QR code of {url}\" src=\"{qr}\"><p class=\"meta\">{url}</p></section>",
            url = escape(page_url),
        );
    }
    if !content.history.is_empty() {
        out.push_str(
            "<h2>History</h2><table><thead><tr><th>Platform</th><th>Version</th><th>Time</th><th></th></tr></thead><tbody>",
        );
        for build in &content.history {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a></td></tr>",
                escape(&build.platform),
                escape(&build.version),
                escape(&render_time(
                    build.time_ms,
                    build.given_offset_minutes,
                    time_offset
                )),
                escape(safe_href(&install_link(build))),
                if build.platform == "ios" {
                    "Install"
                } else {
                    "Download"
                },
            );
        }
        out.push_str("</tbody></table>");
    }
    page_links(&mut out, content, time_offset);
    out.push_str("</main></body></html>");
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
        };
        let html = render(&content, "http://h/app/rog2", None);
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
        let html = render(&content, "http://h/app/x", None);
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
        let middle = render(&content(2, 3), "http://h/app/rog2", Some(480));
        assert!(middle.contains("<a rel=\"prev\" href=\"?page=1&amp;time_offset=480\">Newer</a>"));
        assert!(middle.contains("<span>Page 2 of 3</span>"));
        assert!(middle.contains("<a rel=\"next\" href=\"?page=3&amp;time_offset=480\">Older</a>"));
        let last = render(&content(3, 3), "http://h/app/rog2", None);
        assert!(last.contains("href=\"?page=2\">Newer") && !last.contains("Older"));
        let single = render(&content(1, 1), "http://h/app/rog2", None);
        assert!(!single.contains("class=\"pages\""));
    }
}
