//! One build on a download page: its card (icon, label, version, time in the viewer's zone,
//! description, details, install count, the install button or the note that iOS needs HTTPS,
//! its permalink, extra downloads) and its row in the history table.

use std::fmt::Write;

use chrono::{TimeZone, Utc};
use proto::appinhouse::v1 as pb;

use super::{PageView, escape, safe_href};
use crate::convert::appinhouse::{itms_link, render_time};

/// `1234567` as `1.2 MB`.
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A `<time>` of a build: the server renders it in the build's (or the requested) offset with
/// that offset named; the page's script rewrites it in the viewer's zone unless an offset was
/// requested (`data-fixed`).
fn time_element(build: &pb::Build, view: &PageView<'_>) -> String {
    let minutes = view.time_offset.unwrap_or(build.given_offset_minutes);
    let zone = if minutes == 0 {
        "UTC".to_owned()
    } else {
        let sign = if minutes < 0 { '-' } else { '+' };
        format!(
            "UTC{sign}{:02}:{:02}",
            minutes.abs() / 60,
            minutes.abs() % 60
        )
    };
    let iso = Utc
        .timestamp_millis_opt(build.time_ms)
        .single()
        .map(|time| time.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    format!(
        "<time datetime=\"{iso}\"{fixed}>{text} <span class=\"zone\">{zone}</span></time>",
        iso = escape(&iso),
        fixed = if view.time_offset.is_some() {
            " data-fixed=\"1\""
        } else {
            ""
        },
        text = escape(&render_time(
            build.time_ms,
            build.given_offset_minutes,
            view.time_offset
        )),
        zone = escape(&zone),
    )
}

/// The path of a build's page on this server.
pub fn permalink(app: &str, build: &pb::Build) -> String {
    format!("/app/{app}/{}/{}", build.platform, build.version)
}

/// The install link of a build: iOS through `itms-services` (its plist fetch counts), other
/// platforms through this server's counted link. `None` when iOS cannot install from here.
fn install_href(build: &pb::Build, view: &PageView<'_>) -> Option<String> {
    if build.platform == "ios" {
        return view.https_installs.then(|| itms_link(&build.down));
    }
    Some(view.with_access(&format!("{}/install", permalink(view.app, build))))
}

fn install_label(build: &pb::Build) -> &'static str {
    if build.platform == "ios" {
        "Install"
    } else {
        "Download"
    }
}

/// The note shown instead of a dead iOS install link on an http-only server.
const HTTPS_NOTE: &str = "<p class=\"note https\">iOS installs need HTTPS: open this page at an \
    https:// address (the server's public URL, TAD_PUBLIC_URL, must be https).</p>";

fn detail_rows(out: &mut String, build: &pb::Build) {
    let mut rows: Vec<(&str, String)> = Vec::new();
    if build.size > 0 {
        rows.push(("Size", human_size(build.size)));
    }
    if !build.bundle_id.is_empty() {
        let name = if build.platform == "android" {
            "Package"
        } else {
            "Bundle ID"
        };
        rows.push((name, build.bundle_id.clone()));
    }
    if !build.version_code.is_empty() {
        rows.push(("Build", build.version_code.clone()));
    }
    if !build.min_os.is_empty() {
        rows.push(("Requires", build.min_os.clone()));
    }
    rows.push(("Installs", build.installs.to_string()));
    out.push_str("<dl class=\"details\">");
    for (name, value) in rows {
        let _ = write!(
            out,
            "<dt>{}</dt><dd data-detail=\"{}\">{}</dd>",
            escape(name),
            escape(&name.to_ascii_lowercase().replace(' ', "-")),
            escape(&value)
        );
    }
    if !build.url.is_empty() {
        let _ = write!(
            out,
            "<dt>CI</dt><dd data-detail=\"ci\"><a href=\"{}\" rel=\"noopener\">{}</a></dd>",
            escape(safe_href(&build.url)),
            escape(&build.url)
        );
    }
    out.push_str("</dl>");
}

/// The card of a build shown on top of a page (or alone on its permalink page).
pub fn build_card(out: &mut String, build: &pb::Build, view: &PageView<'_>) {
    let _ = write!(
        out,
        "<section class=\"card build\" data-platform=\"{platform}\" data-version=\"{version}\">",
        platform = escape(&build.platform),
        version = escape(&build.version),
    );
    if !build.icon_path.is_empty() {
        let _ = write!(
            out,
            "<img class=\"icon\" alt=\"\" src=\"{}\">",
            escape(safe_href(&build.icon_path))
        );
    }
    let title = if build.label.is_empty() {
        String::new()
    } else {
        format!("<div class=\"label\">{}</div>", escape(&build.label))
    };
    let _ = write!(
        out,
        "{title}<div class=\"version\">{platform} {version}</div><div class=\"meta\">{time}</div>\
         <p class=\"description\">{description}</p>",
        platform = escape(&build.platform),
        version = escape(&build.version),
        time = time_element(build, view),
        description = escape(&build.description),
    );
    detail_rows(out, build);
    match install_href(build, view) {
        Some(href) => {
            let _ = write!(
                out,
                "<a class=\"install\" href=\"{}\">{}</a>",
                escape(safe_href(&href)),
                install_label(build)
            );
        }
        None => out.push_str(HTTPS_NOTE),
    }
    for extend in &build.extends {
        let href = if build.platform == "ios" {
            view.https_installs.then(|| itms_link(&extend.down))
        } else {
            Some(extend.down.clone())
        };
        if let Some(href) = href {
            let _ = write!(
                out,
                "<a class=\"install extend\" href=\"{}\">{}</a>",
                escape(safe_href(&href)),
                escape(&extend.name)
            );
        }
    }
    let _ = write!(
        out,
        "<a class=\"permalink\" href=\"{}\">Permalink</a></section>",
        escape(&view.with_access(&permalink(view.app, build)))
    );
}

/// A build's row in the history table.
pub fn history_row(out: &mut String, build: &pb::Build, view: &PageView<'_>) {
    let install = match install_href(build, view) {
        Some(href) => format!(
            "<a class=\"install-row\" href=\"{}\">{}</a>",
            escape(safe_href(&href)),
            install_label(build)
        ),
        None => "<span class=\"note\">HTTPS needed</span>".to_owned(),
    };
    let _ = write!(
        out,
        "<tr data-platform=\"{platform}\" data-version=\"{version}\"><td>{platform}</td>\
         <td><a class=\"permalink\" href=\"{link}\">{version}</a></td><td>{time}</td>\
         <td class=\"installs\">{installs}</td><td>{install}</td></tr>",
        platform = escape(&build.platform),
        version = escape(&build.version),
        link = escape(&view.with_access(&permalink(view.app, build))),
        time = time_element(build, view),
        installs = build.installs,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(5 * 1024 * 1024 + 200 * 1024), "5.2 MB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3.0 GB");
    }
}
