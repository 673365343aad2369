//! The download page `GET /app/{app}` as server-rendered HTML: mobile-friendly, no external
//! assets, the newest builds for the visitor's platform with install buttons (ios through
//! `itms-services`), history below, and for desktop visitors a QR code (SVG made here) of the page.

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

const STYLE: &str = "body{font-family:-apple-system,system-ui,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f5f7;color:#222}\
main{max-width:640px;margin:0 auto;padding:16px}\
h1{font-size:1.6em;margin:.3em 0}.desc{color:#555}\
.card{background:#fff;border-radius:10px;padding:14px;margin:12px 0;box-shadow:0 1px 3px rgba(0,0,0,.1)}\
.version{font-size:1.3em;font-weight:600}.meta{color:#777;font-size:.9em}\
a.install{display:inline-block;margin:10px 8px 0 0;padding:10px 18px;border-radius:8px;background:#1a73e8;color:#fff;text-decoration:none;font-weight:600}\
a.extend{background:#5f6368}table{width:100%;border-collapse:collapse;background:#fff}\
td,th{padding:8px;border-bottom:1px solid #eee;text-align:left;font-size:.9em}\
.qr{text-align:center}.qr img{width:200px;height:200px}.empty{color:#777}";

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
        link = escape(&install_link(build)),
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
            escape(&extend_link(build, &extend.down)),
            escape(&extend.name)
        );
    }
    out.push_str("</section>");
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
         <title>{title}</title><style>{STYLE}</style>\
         <script>if(navigator.maxTouchPoints>1&&/Macintosh/.test(navigator.userAgent)&&document.cookie.indexOf('touch=1')<0){{document.cookie='touch=1; path=/';location.reload();}}</script>\
         </head><body><main><h1 id=\"app\">{title}</h1><p class=\"desc\">{description}</p>",
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
                escape(&install_link(build)),
                if build.platform == "ios" {
                    "Install"
                } else {
                    "Download"
                },
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</main></body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_text_and_links_ios_through_itms_services() {
        let content = pb::PageContent {
            app: "rog2".to_owned(),
            description: "<b>beta</b>".to_owned(),
            alias: String::new(),
            detected_platform: "pc".to_owned(),
            latest: vec![pb::Build {
                platform: "ios".to_owned(),
                version: "1.0.0".to_owned(),
                down: "https://h/api/v2/rog2/plist/1.0.0.plist".to_owned(),
                ..pb::Build::default()
            }],
            history: vec![],
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
}
