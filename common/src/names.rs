//! The batch name lookup svc-resource answers for other services: the names shown beside ids in
//! answers (`env_name`, `product_line_name`, ...), asked for by kind and answered by id.

use std::collections::HashMap;

/// Ids to name, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameLookup {
    pub env_ids: Vec<String>,
    pub application_ids: Vec<String>,
    pub product_line_ids: Vec<String>,
    pub module_ids: Vec<String>,
}

/// id → name of every id found (unknown ids are left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub envs: HashMap<String, String>,
    pub applications: HashMap<String, String>,
    pub product_lines: HashMap<String, String>,
    pub modules: HashMap<String, String>,
    /// Product line id of each application found.
    pub application_product_lines: HashMap<String, String>,
}
