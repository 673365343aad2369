//! The legacy answer shapes: the `{info,data,success,level}` envelope (plus `code` on failures)
//! and the paginated `{count,page,results}` list. Only the gateway knows them.

use serde::Serialize;
use serde_json::Value;

/// `info` of every successful answer.
pub const SUCCESS_INFO: &str = "操作成功！";

/// The legacy envelope of a successful answer.
#[derive(Debug, Serialize)]
pub struct Envelope<T: Serialize> {
    pub info: &'static str,
    pub data: T,
    pub success: bool,
    pub level: &'static str,
}

impl<T: Serialize> Envelope<T> {
    pub fn ok(data: T) -> Envelope<T> {
        Envelope {
            info: SUCCESS_INFO,
            data,
            success: true,
            level: "info",
        }
    }
}

/// The envelope of a failure: `data` null, `info` a sentence, `level` warning or error, `code`.
#[derive(Debug, Serialize, PartialEq)]
pub struct FailureEnvelope {
    pub info: String,
    pub data: Value,
    pub success: bool,
    pub level: &'static str,
    pub code: &'static str,
}

impl FailureEnvelope {
    pub fn new(info: String, level: &'static str, code: &'static str) -> FailureEnvelope {
        FailureEnvelope {
            info,
            data: Value::Null,
            success: false,
            level,
            code,
        }
    }
}

/// A paginated list, answered without envelope as the contract shows.
#[derive(Debug, Serialize)]
pub struct Page<T: Serialize> {
    pub count: u64,
    pub page: u64,
    pub results: Vec<T>,
}

impl<T: Serialize> Page<T> {
    /// A page from a service's total count (never negative), page number and rows.
    pub fn new(count: i64, page: u32, results: Vec<T>) -> Page<T> {
        Page {
            count: u64::try_from(count).unwrap_or(0),
            page: u64::from(page),
            results,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn success_has_the_legacy_keys() {
        let value = serde_json::to_value(Envelope::ok(json!([{"id": "5000", "name": "OPENTKT"}])))
            .expect("serialize");
        assert_eq!(
            value,
            json!({"info": "操作成功！", "data": [{"id": "5000", "name": "OPENTKT"}], "success": true, "level": "info"})
        );
    }

    #[test]
    fn failure_has_null_data_and_a_code() {
        let value = serde_json::to_value(FailureEnvelope::new(
            "name is required".into(),
            "warning",
            "missing_field",
        ))
        .expect("serialize");
        assert_eq!(
            value,
            json!({"info": "name is required", "data": null, "success": false, "level": "warning", "code": "missing_field"})
        );
    }
}
