//! The console's languages (zh-CN and English) and their message catalogues: the language of a
//! request is its `lang` cookie when valid, else the first supported language of
//! `Accept-Language`, else English. Both catalogues have the same keys (a test checks it), and a
//! template asks for a message by key (`t.key`).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, http::header::ACCEPT_LANGUAGE};

use super::CATALOGUES;

/// The cookie that keeps the language chosen with the switch.
pub const LANG_COOKIE: &str = "lang";
/// Longest `Accept-Language` value read.
const MAX_ACCEPT_LANGUAGE_BYTES: usize = 512;

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    English,
    Chinese,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Chinese, Lang::English];

    /// The language tag (`lang` attribute, cookie value, switch value).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::English => "en",
            Lang::Chinese => "zh-CN",
        }
    }

    /// The language's own name, shown in the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::English => "English",
            Lang::Chinese => "简体中文",
        }
    }

    /// A tag as sent by the switch or a browser (`zh`, `zh-CN`, `zh-Hans`, `en-US`, ...).
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("zh") {
            Some(Lang::Chinese)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::English)
        } else {
            None
        }
    }

    /// The first supported language of an `Accept-Language` value, by quality then order.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let header = header.get(..MAX_ACCEPT_LANGUAGE_BYTES).unwrap_or(header);
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let quality = parts
                .find_map(|part| part.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality > 0.0 && best.is_none_or(|(held, _)| quality > held) {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }

    /// The language of a request: the `lang` cookie, else `Accept-Language`, else English.
    pub fn of_request(request: &HttpRequest) -> Lang {
        super::session::cookie_value(request.headers(), LANG_COOKIE)
            .and_then(|tag| Lang::parse(&tag))
            .or_else(|| {
                request
                    .headers()
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|value| value.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or(Lang::English)
    }

    /// The messages of this language, by key.
    pub fn messages(self) -> BTreeMap<&'static str, &'static str> {
        CATALOGUES
            .iter()
            .flat_map(|catalogue| catalogue.iter())
            .map(|(key, english, chinese)| {
                let text = match self {
                    Lang::English => english,
                    Lang::Chinese => chinese,
                };
                (*key, *text)
            })
            .collect()
    }
}

/// A page's messages (the type is `messages::Catalogue`).
pub use super::messages::Catalogue;

/// The frame's, the login page's and the dashboard's messages (every catalogue is listed in
/// [`CATALOGUES`], kept by the console module, which knows every page).
pub const COMMON: Catalogue = &[
    ("title", "TAD console", "TAD 控制台"),
    ("login_title", "Sign in", "登录"),
    ("username", "User name", "用户名"),
    ("password", "Password", "密码"),
    ("sign_in", "Sign in", "登录"),
    ("logout", "Log out", "退出登录"),
    ("language", "Language", "语言"),
    ("switch", "Switch", "切换"),
    ("role", "Role", "角色"),
    ("nav_dashboard", "Dashboard", "仪表盘"),
    (
        "login_failed",
        "Wrong user name or password.",
        "用户名或密码错误。",
    ),
    (
        "login_throttled",
        "Too many failed sign-ins for this user; try again in a minute.",
        "该用户登录失败次数过多，请一分钟后再试。",
    ),
    (
        "login_expired_form",
        "The form expired; please sign in again.",
        "表单已过期，请重新登录。",
    ),
    (
        "login_generated_password",
        "First start: the password of user admin was generated and printed once on the console output of `tad serve` (the line \"created user admin with password: …\").",
        "首次启动：admin 用户的密码已自动生成，并在 `tad serve` 的控制台输出中打印过一次（“created user admin with password: …”这一行）。",
    ),
    (
        "login_configured_password",
        "First start: user admin has the password set in TAD_ADMIN_PASSWORD.",
        "首次启动：admin 用户的密码为 TAD_ADMIN_PASSWORD 中设置的密码。",
    ),
    ("dashboard_title", "Dashboard", "仪表盘"),
    ("in_progress", "Runs in progress", "进行中的执行"),
    (
        "no_runs_in_progress",
        "No run is in progress.",
        "当前没有进行中的执行。",
    ),
    (
        "latest_runs",
        "Latest run per application and environment",
        "各应用与环境的最近一次执行",
    ),
    ("no_runs", "No run yet.", "尚无执行记录。"),
    ("application", "Application", "应用"),
    ("environment", "Environment", "环境"),
    ("instance", "Instance", "实例"),
    ("status", "Status", "状态"),
    ("started_by", "Started by", "执行人"),
    ("started_at", "Started", "开始时间"),
    ("duration", "Duration", "耗时"),
    ("step", "Step", "步骤"),
    ("steps", "Steps", "步骤"),
    ("confirm", "Confirm", "确认"),
    ("cancel", "Cancel", "取消"),
    ("hosts", "Hosts", "主机"),
    ("done", "done", "已完成"),
    ("failed_count", "failed", "失败"),
    ("actions", "Actions", "操作"),
    ("resume", "Resume", "继续执行"),
    ("retry", "Retry failed hosts", "重试失败主机"),
    (
        "interrupted_note",
        "Interrupted: the service running it stopped. Resume runs the unfinished steps.",
        "已中断：执行它的服务已停止。继续执行将运行未完成的步骤。",
    ),
    ("refreshed", "Refreshed", "已刷新"),
    ("action_failed", "The action failed", "操作失败"),
    ("action_started", "Started", "已开始"),
    ("status_running", "running", "执行中"),
    ("status_success", "success", "成功"),
    ("status_failed", "failed", "失败"),
    ("status_stopped", "stopped", "已停止"),
    ("status_interrupted", "interrupted", "已中断"),
    ("status_rolled_back", "rolled back", "已回滚"),
    ("status_pending", "pending", "等待中"),
    ("status_other", "other", "其他"),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn both_catalogues_have_the_same_non_empty_keys() {
        let english = Lang::English.messages();
        let chinese = Lang::Chinese.messages();
        let listed: usize = CATALOGUES.iter().map(|catalogue| catalogue.len()).sum();
        assert_eq!(english.len(), listed, "a key is listed twice");
        let keys = |messages: &BTreeMap<&str, &str>| -> BTreeSet<String> {
            messages.keys().map(|key| (*key).to_owned()).collect()
        };
        assert_eq!(keys(&english), keys(&chinese));
        for (key, english_text, chinese_text) in CATALOGUES.iter().flat_map(|c| c.iter()) {
            assert!(
                !english_text.is_empty() && !chinese_text.is_empty(),
                "{key}"
            );
            assert_ne!(english_text, chinese_text, "{key} is not translated");
        }
    }

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        let cases = [
            ("zh-CN,zh;q=0.9,en;q=0.8", Some(Lang::Chinese)),
            ("en-US,en;q=0.9,zh-CN;q=0.8", Some(Lang::English)),
            ("fr-FR, zh-Hans;q=0.5, en;q=0.4", Some(Lang::Chinese)),
            ("fr, de;q=0.5", None),
            ("en;q=0, zh;q=0.1", Some(Lang::Chinese)),
            ("", None),
        ];
        for (header, expected) in cases {
            assert_eq!(Lang::from_accept_language(header), expected, "{header}");
        }
        assert_eq!(Lang::parse("zh_CN"), Some(Lang::Chinese));
        assert_eq!(Lang::parse("english"), None);
    }
}
