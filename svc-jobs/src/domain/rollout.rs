//! A step's health-gated progressive rollout (beyond the contract): its hosts in growing
//! batches, a health check of every host before it counts as done, a limit of failed hosts past
//! which no further batch starts, and what happens then (stop, or roll back every host the run
//! touched to the previous successful snapshot). Parsed from the client's JSON with the field at
//! fault named; stored in the step's bindings and frozen into its plan.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use serde_json::{Map, Value};

/// The sequence a rollback step of `sequence` gets in its run: above every template sequence
/// (at most [`common::limits::MAX_SEQUENCE`]) and in reverse order, so the rollback of the
/// latest step runs first.
pub const ROLLBACK_SEQUENCE_BASE: i32 = 30_000;

/// The run step sequence that rolls back step `sequence`.
pub fn rollback_sequence(sequence: i32) -> i32 {
    ROLLBACK_SEQUENCE_BASE - sequence
}

/// The step a run step rolls back, when it is a rollback step.
pub fn rolled_back_step(sequence: i32) -> Option<i32> {
    let max = i32::try_from(common::limits::MAX_SEQUENCE).unwrap_or(i32::MAX);
    (ROLLBACK_SEQUENCE_BASE - max..=ROLLBACK_SEQUENCE_BASE)
        .contains(&sequence)
        .then(|| ROLLBACK_SEQUENCE_BASE - sequence)
}

/// How many hosts: a count, or a percentage of the step's hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    Hosts(u32),
    Percent(u32),
}

impl Amount {
    /// Parses `3` or `"10%"`; `minimum` is the smallest count (and percentage) allowed.
    fn parse(field: &str, value: &Value, minimum: u32) -> Result<Amount, RolloutError> {
        let invalid = |message: String| RolloutError::new(field, message);
        match value {
            Value::Number(number) => {
                let count = number
                    .as_u64()
                    .and_then(|count| u32::try_from(count).ok())
                    .filter(|count| (minimum..=MAX_HOSTS).contains(count))
                    .ok_or_else(|| {
                        invalid(format!(
                            "must be a whole number from {minimum} to {MAX_HOSTS}"
                        ))
                    })?;
                Ok(Amount::Hosts(count))
            }
            Value::String(text) => {
                let percent = text
                    .strip_suffix('%')
                    .and_then(|digits| digits.trim().parse::<u32>().ok())
                    .filter(|percent| (minimum..=100).contains(percent))
                    .ok_or_else(|| {
                        invalid(format!(
                            "must be a host count or a percentage from \"{minimum}%\" to \"100%\""
                        ))
                    })?;
                Ok(Amount::Percent(percent))
            }
            _ => Err(invalid(
                "must be a host count or a percentage such as \"10%\"".to_owned(),
            )),
        }
    }

    /// The number of hosts of `total`: a percentage rounds up when `up`, else down.
    fn of(self, total: usize, up: bool) -> usize {
        match self {
            Amount::Hosts(count) => usize::try_from(count).unwrap_or(usize::MAX),
            Amount::Percent(percent) => {
                let scaled = total.saturating_mul(usize::try_from(percent).unwrap_or(100));
                if up {
                    scaled.div_ceil(100)
                } else {
                    scaled / 100
                }
            }
        }
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Amount::Hosts(count) => serializer.serialize_u32(*count),
            Amount::Percent(percent) => serializer.serialize_str(&format!("{percent}%")),
        }
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Amount, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Amount::parse("amount", &value, 0).map_err(|error| D::Error::custom(error.message))
    }
}

/// The most hosts a count may name.
const MAX_HOSTS: u32 = 100_000;
/// The most batches a rollout may list.
const MAX_BATCHES: usize = 100;
/// The longest health check URL.
const MAX_URL: usize = 2048;

/// What a failed rollout does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// No further batch starts; the step fails.
    #[default]
    Stop,
    /// Every host the run touched gets the previous successful snapshot again; the run ends
    /// `rolled_back`.
    Rollback,
}

/// An HTTP health check of one host: `url` with `{host}` as its host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpCheck {
    pub url: String,
    pub expect_status: u16,
    pub timeout_seconds: u64,
    /// Further tries after a failed one (`interval_seconds` apart).
    pub retries: u32,
    pub interval_seconds: u64,
}

impl HttpCheck {
    /// The URL to ask for `host`.
    pub fn url_for(&self, host: &str) -> String {
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        self.url.replacen(HOST_PLACEHOLDER, &host, 1)
    }

    /// How the check reads in messages: `GET <url> expecting <status>`.
    pub fn describe(&self, host: &str) -> String {
        format!(
            "GET {} expecting {}",
            self.url_for(host),
            self.expect_status
        )
    }
}

/// The host part a health check URL must have.
const HOST_PLACEHOLDER: &str = "{host}";

/// A health check that runs a reviewed script on the host: it passes when the script exits 0.
/// Only a script of the script library runs (no free command line): the review that gates a
/// step's scripts gates its health check too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandCheck {
    pub script_id: String,
    /// Its arguments (split into argv words like a step script's parameter).
    #[serde(default)]
    pub parameter: String,
    pub timeout_seconds: u64,
    /// Further tries after a failed one (`interval_seconds` apart).
    pub retries: u32,
    pub interval_seconds: u64,
    /// The script as a run freezes it (name, file, whether it may run); none in the bindings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<CheckScript>,
}

/// The script of a [`CommandCheck`] as a run froze it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckScript {
    pub file_name: String,
    pub script_name: String,
    /// `shell` or `python`.
    pub execute_type: String,
    /// Whether it is reviewed (it may run).
    pub able: bool,
}

impl CommandCheck {
    /// How the check reads in messages: `script <name> (<file>) <parameter>`.
    pub fn describe(&self) -> String {
        let name = match &self.script {
            Some(script) => format!("{} ({})", script.script_name, script.file_name),
            None => self.script_id.clone(),
        };
        if self.parameter.is_empty() {
            format!("script {name}")
        } else {
            format!("script {name} {}", self.parameter)
        }
    }
}

/// How a host's health is checked after its deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthCheck {
    Http(HttpCheck),
    Command(CommandCheck),
}

/// A step's rollout, as stored and frozen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// The hosts done after each batch, growing (a count or a percentage of the step's hosts);
    /// empty when `batch_size` is given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batches: Vec<Amount>,
    /// Hosts per batch, when `batches` is not given (0: all hosts in one batch).
    #[serde(default)]
    pub batch_size: u32,
    #[serde(default)]
    pub pause_seconds: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthCheck>,
    pub max_failed_hosts: Amount,
    #[serde(default)]
    pub on_failure: OnFailure,
}

/// A rollout the client sent that cannot be used: the field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutError {
    pub field: String,
    pub message: String,
}

impl RolloutError {
    fn new(field: &str, message: impl Into<String>) -> RolloutError {
        RolloutError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// The object at `field`, refusing keys other than `known`.
fn object<'a>(
    field: &str,
    value: &'a Value,
    known: &[&str],
) -> Result<&'a Map<String, Value>, RolloutError> {
    let map = value
        .as_object()
        .ok_or_else(|| RolloutError::new(field, "must be an object"))?;
    if let Some(unknown) = map.keys().find(|key| !known.contains(&key.as_str())) {
        let shown: String = unknown.chars().take(64).collect();
        return Err(RolloutError::new(
            &format!("{field}.{shown}"),
            format!("is not a known field (known: {})", known.join(", ")),
        ));
    }
    Ok(map)
}

/// The whole number at `field` of `map` (absent: `default`), from `low` to `high`.
fn number(
    map: &Map<String, Value>,
    field: &str,
    key: &str,
    default: u64,
    (low, high): (u64, u64),
) -> Result<u64, RolloutError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => value
            .as_u64()
            .filter(|number| (low..=high).contains(number))
            .ok_or_else(|| {
                RolloutError::new(
                    &format!("{field}.{key}"),
                    format!("must be a whole number from {low} to {high}"),
                )
            }),
    }
}

impl Rollout {
    /// Parses the client's `rollout` object; every fault names its field (`rollout.…`).
    pub fn parse(value: &Value) -> Result<Rollout, RolloutError> {
        const FIELD: &str = "rollout";
        let map = object(
            FIELD,
            value,
            &[
                "batches",
                "batch_size",
                "pause_seconds",
                "health",
                "max_failed_hosts",
                "on_failure",
            ],
        )?;
        let batches = match map.get("batches") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                if items.is_empty() || items.len() > MAX_BATCHES {
                    return Err(RolloutError::new(
                        "rollout.batches",
                        format!("must list 1 to {MAX_BATCHES} batches"),
                    ));
                }
                let mut batches = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    let field = format!("rollout.batches[{index}]");
                    let amount = Amount::parse(&field, item, 1)?;
                    if let Some(before) = batches.last() {
                        let shrinks = match (before, &amount) {
                            (Amount::Hosts(a), Amount::Hosts(b))
                            | (Amount::Percent(a), Amount::Percent(b)) => b <= a,
                            _ => false,
                        };
                        if shrinks {
                            return Err(RolloutError::new(
                                &field,
                                "must be larger than the batch before it (batches count the hosts done so far)",
                            ));
                        }
                    }
                    batches.push(amount);
                }
                batches
            }
            Some(_) => {
                return Err(RolloutError::new(
                    "rollout.batches",
                    "must be a list such as [1, \"10%\", \"50%\", \"100%\"]",
                ));
            }
        };
        let batch_size = number(map, FIELD, "batch_size", 0, (1, u64::from(MAX_HOSTS)))?;
        if !batches.is_empty() && map.get("batch_size").is_some_and(|size| !size.is_null()) {
            return Err(RolloutError::new(
                "rollout.batch_size",
                "give either batches or batch_size, not both",
            ));
        }
        let pause_seconds = number(map, FIELD, "pause_seconds", 0, (0, 3600))?;
        let health = match map.get("health") {
            None | Some(Value::Null) => None,
            Some(health) => Some(parse_health(health)?),
        };
        let max_failed_hosts = match map.get("max_failed_hosts") {
            None | Some(Value::Null) => Amount::Hosts(0),
            Some(value) => Amount::parse("rollout.max_failed_hosts", value, 0)?,
        };
        let on_failure = match map.get("on_failure") {
            None | Some(Value::Null) => OnFailure::Stop,
            Some(Value::String(text)) if text == "stop" => OnFailure::Stop,
            Some(Value::String(text)) if text == "rollback" => OnFailure::Rollback,
            Some(_) => {
                return Err(RolloutError::new(
                    "rollout.on_failure",
                    "must be \"stop\" or \"rollback\"",
                ));
            }
        };
        Ok(Rollout {
            batches,
            batch_size: u32::try_from(batch_size).unwrap_or(MAX_HOSTS),
            pause_seconds,
            health,
            max_failed_hosts,
            on_failure,
        })
    }

    /// How many of `total` hosts are done after each batch: growing, the last one `total`.
    pub fn batch_ends(&self, total: usize) -> Vec<usize> {
        let mut ends = Vec::new();
        if self.batches.is_empty() {
            let size = match self.batch_size {
                0 => total.max(1),
                size => usize::try_from(size).unwrap_or(usize::MAX),
            };
            let mut end = 0;
            while end < total {
                end = end.saturating_add(size).min(total);
                ends.push(end);
            }
        } else {
            for amount in &self.batches {
                let end = amount.of(total, true).clamp(1, total.max(1)).min(total);
                if ends.last().is_none_or(|last| end > *last) {
                    ends.push(end);
                }
            }
            if ends.last().is_none_or(|last| *last < total) {
                ends.push(total);
            }
        }
        ends
    }

    /// How many of `total` hosts may fail before no further batch starts.
    pub fn max_failed(&self, total: usize) -> usize {
        self.max_failed_hosts.of(total, false)
    }

    /// How `max_failed_hosts` reads in messages.
    pub fn describe_limit(&self) -> String {
        match self.max_failed_hosts {
            Amount::Hosts(count) => count.to_string(),
            Amount::Percent(percent) => format!("{percent}%"),
        }
    }
}

fn parse_health(value: &Value) -> Result<HealthCheck, RolloutError> {
    const FIELD: &str = "rollout.health";
    let map = object(FIELD, value, &["http", "command"])?;
    match (map.get("http"), map.get("command")) {
        (Some(http), None) => parse_http(http),
        (None, Some(command)) => parse_command(command),
        (Some(_), Some(_)) => Err(RolloutError::new(
            FIELD,
            "must name one check: http or command, not both",
        )),
        (None, None) => Err(RolloutError::new(
            FIELD,
            "must name a check: http or command",
        )),
    }
}

fn parse_http(http: &Value) -> Result<HealthCheck, RolloutError> {
    const HTTP: &str = "rollout.health.http";
    let check = object(
        HTTP,
        http,
        &[
            "url",
            "expect_status",
            "timeout_seconds",
            "retries",
            "interval_seconds",
        ],
    )?;
    let url = check
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| RolloutError::new("rollout.health.http.url", "is required (a string)"))?;
    check_url(url)?;
    Ok(HealthCheck::Http(HttpCheck {
        url: url.to_owned(),
        expect_status: u16::try_from(number(check, HTTP, "expect_status", 200, (100, 599))?)
            .unwrap_or(200),
        timeout_seconds: number(check, HTTP, "timeout_seconds", 5, (1, 60))?,
        retries: u32::try_from(number(check, HTTP, "retries", 3, (0, 20))?).unwrap_or(3),
        interval_seconds: number(check, HTTP, "interval_seconds", 2, (1, 60))?,
    }))
}

/// The longest script id and parameter of a command check.
const MAX_SCRIPT_ID: usize = 64;
const MAX_PARAMETER: usize = 1024;

fn parse_command(command: &Value) -> Result<HealthCheck, RolloutError> {
    const COMMAND: &str = "rollout.health.command";
    let check = object(
        COMMAND,
        command,
        &[
            "script_id",
            "parameter",
            "timeout_seconds",
            "retries",
            "interval_seconds",
        ],
    )?;
    let script_id = check
        .get("script_id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            RolloutError::new(
                "rollout.health.command.script_id",
                "is required: the id of a reviewed script of the script library",
            )
        })?;
    if script_id.chars().count() > MAX_SCRIPT_ID {
        return Err(RolloutError::new(
            "rollout.health.command.script_id",
            format!("must be at most {MAX_SCRIPT_ID} characters"),
        ));
    }
    let parameter = match check.get("parameter") {
        None | Some(Value::Null) => "",
        Some(Value::String(text)) if text.chars().count() <= MAX_PARAMETER => text.as_str(),
        Some(_) => {
            return Err(RolloutError::new(
                "rollout.health.command.parameter",
                format!("must be a string of at most {MAX_PARAMETER} characters"),
            ));
        }
    };
    Ok(HealthCheck::Command(CommandCheck {
        script_id: script_id.to_owned(),
        parameter: parameter.to_owned(),
        timeout_seconds: number(check, COMMAND, "timeout_seconds", 10, (1, 600))?,
        retries: u32::try_from(number(check, COMMAND, "retries", 3, (0, 20))?).unwrap_or(3),
        interval_seconds: number(check, COMMAND, "interval_seconds", 2, (1, 60))?,
        script: None,
    }))
}

/// A health check URL goes to the host being checked and nowhere else: `http` or `https`,
/// `{host}` as its host (an optional port after it), no user info, no spaces or control
/// characters.
fn check_url(url: &str) -> Result<(), RolloutError> {
    const FIELD: &str = "rollout.health.http.url";
    let invalid = |message: &str| RolloutError::new(FIELD, message);
    if url.len() > MAX_URL {
        return Err(invalid("must be at most 2048 bytes"));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid("must not hold spaces or control characters"));
    }
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| invalid("must start with http:// or https://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let port = authority.strip_prefix(HOST_PLACEHOLDER).ok_or_else(|| {
        invalid("must have {host} as its host (e.g. http://{host}:8080/health): it checks each host of the step")
    })?;
    if !port.is_empty() {
        let digits = port
            .strip_prefix(':')
            .ok_or_else(|| invalid("may only have a :port after {host}"))?;
        if !digits.parse::<u16>().is_ok_and(|port| port > 0) {
            return Err(invalid("has a port that is not from 1 to 65535"));
        }
    }
    if rest[authority.len()..].contains(HOST_PLACEHOLDER) {
        return Err(invalid("may hold {host} only as its host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parsed(value: Value) -> Rollout {
        Rollout::parse(&value).expect("valid rollout")
    }

    fn fault(value: Value) -> (String, String) {
        let error = Rollout::parse(&value).expect_err("refused");
        (error.field, error.message)
    }

    #[test]
    fn batches_grow_to_every_host() {
        let rollout = parsed(json!({"batches": [1, "10%", "50%", "100%"]}));
        assert_eq!(rollout.batch_ends(6), vec![1, 3, 6]);
        assert_eq!(rollout.batch_ends(20), vec![1, 2, 10, 20]);
        assert_eq!(
            parsed(json!({"batches": [2, 4]})).batch_ends(6),
            vec![2, 4, 6]
        );
        assert_eq!(
            parsed(json!({"batch_size": 2})).batch_ends(5),
            vec![2, 4, 5]
        );
        assert_eq!(parsed(json!({})).batch_ends(3), vec![3]);
        assert_eq!(parsed(json!({"batches": [10]})).batch_ends(3), vec![3]);
    }

    #[test]
    fn the_failure_limit_is_a_count_or_a_share_rounded_down() {
        assert_eq!(parsed(json!({})).max_failed(10), 0);
        assert_eq!(parsed(json!({"max_failed_hosts": 2})).max_failed(10), 2);
        assert_eq!(parsed(json!({"max_failed_hosts": "25%"})).max_failed(6), 1);
    }

    #[test]
    fn what_is_stored_reads_back_the_same() {
        let rollout = parsed(json!({"batches": [1, "50%"], "pause_seconds": 3,
            "health": {"http": {"url": "http://{host}:8080/health"}},
            "max_failed_hosts": "10%", "on_failure": "rollback"}));
        let stored = serde_json::to_string(&rollout).expect("json");
        let read: Rollout = serde_json::from_str(&stored).expect("read");
        assert_eq!(read, rollout);
        let Some(HealthCheck::Http(check)) = rollout.health else {
            panic!("an http check")
        };
        assert_eq!(
            (check.expect_status, check.timeout_seconds, check.retries),
            (200, 5, 3)
        );
        assert_eq!(check.url_for("10.0.0.5"), "http://10.0.0.5:8080/health");
        assert_eq!(check.url_for("::1"), "http://[::1]:8080/health");
    }

    #[test]
    fn every_fault_names_its_field() {
        let cases = [
            (json!([]), "rollout"),
            (json!({"batch": 1}), "rollout.batch"),
            (json!({"batches": []}), "rollout.batches"),
            (json!({"batches": [0]}), "rollout.batches[0]"),
            (json!({"batches": [2, 1]}), "rollout.batches[1]"),
            (json!({"batches": ["50%", "101%"]}), "rollout.batches[1]"),
            (
                json!({"batches": [1], "batch_size": 2}),
                "rollout.batch_size",
            ),
            (json!({"pause_seconds": 3601}), "rollout.pause_seconds"),
            (json!({"max_failed_hosts": -1}), "rollout.max_failed_hosts"),
            (json!({"on_failure": "retry"}), "rollout.on_failure"),
            (json!({"health": {}}), "rollout.health"),
            (json!({"health": {"http": {}}}), "rollout.health.http.url"),
            (
                json!({"health": {"http": {"url": "http://{host}/", "retries": 99}}}),
                "rollout.health.http.retries",
            ),
            (
                json!({"health": {"http": {"url": "http://{host}/"}, "command": {"script_id": "s1"}}}),
                "rollout.health",
            ),
            (
                json!({"health": {"command": {"line": "curl localhost"}}}),
                "rollout.health.command.line",
            ),
            (
                json!({"health": {"command": {"parameter": "x"}}}),
                "rollout.health.command.script_id",
            ),
            (
                json!({"health": {"command": {"script_id": "s1", "parameter": 5}}}),
                "rollout.health.command.parameter",
            ),
            (
                json!({"health": {"command": {"script_id": "s1", "timeout_seconds": 0}}}),
                "rollout.health.command.timeout_seconds",
            ),
        ];
        for (value, field) in cases {
            assert_eq!(fault(value.clone()).0, field, "{value}");
        }
    }

    #[test]
    fn a_command_check_names_a_script_and_reads_back_the_same() {
        let rollout = parsed(json!({"health": {"command": {"script_id": " s1 ",
            "parameter": "--port 8080", "retries": 1}}}));
        let Some(HealthCheck::Command(check)) = &rollout.health else {
            panic!("a command check")
        };
        assert_eq!(check.script_id, "s1");
        assert_eq!(check.parameter, "--port 8080");
        assert_eq!(
            (check.timeout_seconds, check.retries, check.interval_seconds),
            (10, 1, 2)
        );
        assert_eq!(
            check.script, None,
            "the script is frozen by a run, not stored"
        );
        assert_eq!(check.describe(), "script s1 --port 8080");
        let stored = serde_json::to_value(&rollout).expect("json");
        assert_eq!(
            serde_json::from_value::<Rollout>(stored).expect("read back"),
            rollout
        );
    }

    #[test]
    fn a_health_url_reaches_only_the_checked_host() {
        for url in [
            "http://169.254.169.254/latest",
            "http://evil.example/{host}",
            "http://{host}@evil.example/",
            "http://{host}.evil.example/",
            "file:///etc/passwd",
            "http://{host}:0/",
            "http://{host}:8080/a b",
        ] {
            let value = json!({"health": {"http": {"url": url}}});
            assert_eq!(fault(value).0, "rollout.health.http.url", "{url}");
        }
        for url in [
            "http://{host}/",
            "https://{host}:8443/health?deep=1",
            "http://{host}",
        ] {
            parsed(json!({"health": {"http": {"url": url}}}));
        }
    }

    #[test]
    fn rollback_steps_follow_every_template_step_in_reverse() {
        assert_eq!(rollback_sequence(1), 29_999);
        assert!(rollback_sequence(2) < rollback_sequence(1));
        assert_eq!(rolled_back_step(rollback_sequence(7)), Some(7));
        assert_eq!(rolled_back_step(rollback_sequence(10_000)), Some(10_000));
        assert_eq!(rolled_back_step(10_000), None);
        assert_eq!(rolled_back_step(1), None);
    }
}
