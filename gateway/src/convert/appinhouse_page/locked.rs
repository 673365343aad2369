//! The pages a download page answers instead of builds: the password form of a protected app
//! (posted with a CSRF token that must equal the visitor's `tad_csrf` cookie) and a bare message
//! (an unknown app, a failure).

use std::fmt::Write;

use super::escape;

/// The password form of the protected app `app`; `problem` says why the last try failed.
pub fn render_locked(app: &str, csrf_token: &str, problem: Option<&str>) -> String {
    let mut out = String::with_capacity(2048);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{app}</title><link rel=\"stylesheet\" href=\"/static/app-page.css\"></head>\
         <body><main><h1 id=\"app\">{app}</h1><section class=\"card locked\">\
         <p>This app is protected. Enter its page password, or open a link you were sent.</p>",
        app = escape(app),
    );
    if let Some(problem) = problem {
        let _ = write!(
            out,
            "<p class=\"problem\" role=\"alert\">{}</p>",
            escape(problem)
        );
    }
    let _ = write!(
        out,
        "<form method=\"post\" action=\"/app/{app}/unlock\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>Password <input type=\"password\" name=\"password\" maxlength=\"128\" \
         autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">Open</button></form></section></main></body></html>",
        app = escape(app),
        csrf = escape(csrf_token),
    );
    out
}

/// A page that only says `message`.
pub fn render_message(message: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title>\
         <link rel=\"stylesheet\" href=\"/static/app-page.css\"></head>\
         <body><main><h1>{0}</h1></main></body></html>",
        escape(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_form_escapes_and_posts_its_token() {
        let html = render_locked("a\"b", "t<o>ken", Some("<wrong>"));
        assert!(html.contains("action=\"/app/a&quot;b/unlock\""), "{html}");
        assert!(
            html.contains("name=\"csrf\" value=\"t&lt;o&gt;ken\""),
            "{html}"
        );
        assert!(html.contains("&lt;wrong&gt;"), "{html}");
        assert!(!html.contains("<script"), "no script: {html}");
    }
}
