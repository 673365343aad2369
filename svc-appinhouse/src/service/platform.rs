//! Platforms: the three a build is published for, and the one a visitor's user agent names
//! (SPEC §6: the text inside the first parentheses, lowercased; `android` → android;
//! `iphone`/`ipad`/`ipod` → ios; `macintosh` with a touch-capable hint (iPadOS desktop mode) → ios;
//! anything else → pc).

use super::{AppinhouseError, AppinhouseResult};

/// A platform builds are published for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Ios,
    Android,
    Windows,
}

impl Platform {
    /// Every platform, in the order `last` answers them.
    pub const ALL: [Platform; 3] = [Platform::Android, Platform::Ios, Platform::Windows];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Ios => "ios",
            Platform::Android => "android",
            Platform::Windows => "windows",
        }
    }

    /// The platform named in a URL (1001 otherwise).
    pub fn parse(text: &str) -> AppinhouseResult<Platform> {
        match text {
            "ios" => Ok(Platform::Ios),
            "android" => Ok(Platform::Android),
            "windows" => Ok(Platform::Windows),
            other => Err(AppinhouseError::Invalid {
                field: "platform",
                message: format!(
                    "{:?} must be ios, android or windows",
                    common::limits::excerpt(other)
                ),
            }),
        }
    }

    /// File extensions of builds this platform installs.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Platform::Ios => &["ipa"],
            Platform::Android => &["apk"],
            Platform::Windows => &["exe", "msi"],
        }
    }
}

/// What a user agent says about the visitor's device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    Ios,
    Android,
    Pc,
}

impl Detected {
    pub fn as_str(self) -> &'static str {
        match self {
            Detected::Ios => "ios",
            Detected::Android => "android",
            Detected::Pc => "pc",
        }
    }

    /// The platform whose builds this visitor installs: a desktop visitor gets the windows ones.
    pub fn platform(self) -> Platform {
        match self {
            Detected::Ios => Platform::Ios,
            Detected::Android => Platform::Android,
            Detected::Pc => Platform::Windows,
        }
    }
}

/// The visitor's platform from its user agent; `touch_hint` says the browser reported a touch
/// screen (an iPad in desktop mode sends a Macintosh user agent).
pub fn detect(user_agent: &str, touch_hint: bool) -> Detected {
    let inside = user_agent
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inside, _)| inside.to_lowercase())
        .unwrap_or_default();
    let apple_mobile = ["iphone", "ipad", "ipod"]
        .iter()
        .any(|device| inside.contains(device));
    if inside.contains("android") {
        Detected::Android
    } else if apple_mobile || (inside.contains("macintosh") && touch_hint) {
        Detected::Ios
    } else {
        Detected::Pc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_table() {
        let cases = [
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                false,
                Detected::Ios,
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
                false,
                Detected::Ios,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
                true,
                Detected::Ios,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
                false,
                Detected::Pc,
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
                false,
                Detected::Android,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
                false,
                Detected::Pc,
            ),
            ("", false, Detected::Pc),
            ("curl/8.5.0", true, Detected::Pc),
        ];
        for (agent, touch, expected) in cases {
            assert_eq!(detect(agent, touch), expected, "{agent:?} touch={touch}");
        }
    }
}
