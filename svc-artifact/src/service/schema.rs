//! Config schemas (the `.yml` beside a `.j2`, and a method's `params`): parsing and validation
//! (node types, duplicate keys, rule regexes; failures name the node), node ids that stay stable
//! across versions (uuid v5 of the subject id and the key path, 32-hex), validation of values
//! keyed by node id, and rendering of a `.j2` with Jinja2 semantics, strict on undefined names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `type` of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeType {
    /// A scalar.
    #[serde(rename = "other")]
    Other,
    /// A list of maps whose keys are the children.
    #[serde(rename = "list-map")]
    ListMap,
}

impl NodeType {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeType::Other => "other",
            NodeType::ListMap => "list-map",
        }
    }
}

/// One node of a schema, with its server-assigned id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaNode {
    pub id: String,
    pub key: String,
    #[serde(rename = "type")]
    pub node_type: NodeType,
    pub remark: String,
    pub default: String,
    pub require: bool,
    pub rule: String,
    pub policy: String,
    pub parent_id: String,
    pub children: Vec<SchemaNode>,
}

/// Namespace of node ids (uuid v5 of "tad-config-schema" in the URL namespace).
fn node_namespace() -> uuid::Uuid {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, b"tad-config-schema")
}

/// The id of the node at `key_path` (keys joined by `.`) of `subject_id`: stable across versions.
pub fn node_id(subject_id: &str, key_path: &str) -> String {
    uuid::Uuid::new_v5(
        &node_namespace(),
        format!("{subject_id}\n{key_path}").as_bytes(),
    )
    .simple()
    .to_string()
}

fn schema_error(source: &str, message: String) -> String {
    format!("{source}: {message}")
}

fn scalar_text(value: &serde_yaml::Value) -> Option<String> {
    match value {
        serde_yaml::Value::Null => Some(String::new()),
        serde_yaml::Value::Bool(flag) => Some(flag.to_string()),
        serde_yaml::Value::Number(number) => Some(number.to_string()),
        serde_yaml::Value::String(text) => Some(text.clone()),
        _ => None,
    }
}

/// Parses a schema document (a YAML list of nodes) of `subject_id`; `source` names it in errors.
pub fn parse_schema(source: &str, subject_id: &str, text: &str) -> Result<Vec<SchemaNode>, String> {
    let document: serde_yaml::Value = serde_yaml::from_str(text)
        .map_err(|error| schema_error(source, format!("not valid YAML: {error}")))?;
    match document {
        serde_yaml::Value::Null => Ok(Vec::new()),
        serde_yaml::Value::Sequence(items) => parse_nodes(source, subject_id, &items, "", ""),
        _ => Err(schema_error(
            source,
            "must be a list of nodes {key, type, remark, default, require, rule, policy, children}"
                .to_owned(),
        )),
    }
}

/// Parses schema nodes already read from another document (a method's `params`).
pub fn parse_schema_value(
    source: &str,
    subject_id: &str,
    value: &serde_yaml::Value,
) -> Result<Vec<SchemaNode>, String> {
    match value {
        serde_yaml::Value::Null => Ok(Vec::new()),
        serde_yaml::Value::Sequence(items) => parse_nodes(source, subject_id, items, "", ""),
        _ => Err(schema_error(source, "must be a list of nodes".to_owned())),
    }
}

fn parse_nodes(
    source: &str,
    subject_id: &str,
    items: &[serde_yaml::Value],
    parent_path: &str,
    parent_id: &str,
) -> Result<Vec<SchemaNode>, String> {
    let mut nodes: Vec<SchemaNode> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let position = if parent_path.is_empty() {
            format!("node {index}")
        } else {
            format!("node {parent_path}[{index}]")
        };
        let serde_yaml::Value::Mapping(mapping) = item else {
            return Err(schema_error(
                source,
                format!("{position} must be a mapping"),
            ));
        };
        let field = |name: &str| mapping.get(serde_yaml::Value::String(name.to_owned()));
        let key = field("key")
            .and_then(scalar_text)
            .map(|key| key.trim().to_owned())
            .filter(|key| !key.is_empty())
            .ok_or_else(|| schema_error(source, format!("{position} needs a key")))?;
        if key.contains('.') {
            return Err(schema_error(
                source,
                format!("key {key:?} of {position} must not contain '.'"),
            ));
        }
        let path = if parent_path.is_empty() {
            key.clone()
        } else {
            format!("{parent_path}.{key}")
        };
        if nodes.iter().any(|node| node.key == key) {
            return Err(schema_error(
                source,
                format!("node {path} is defined twice"),
            ));
        }
        for name in mapping.keys().filter_map(serde_yaml::Value::as_str) {
            if !matches!(
                name,
                "key" | "type" | "remark" | "default" | "require" | "rule" | "policy" | "children"
            ) {
                return Err(schema_error(
                    source,
                    format!("node {path} has an unknown field {name:?}"),
                ));
            }
        }
        let node_type = match field("type").and_then(scalar_text).as_deref() {
            None | Some("") | Some("other") => NodeType::Other,
            Some("list-map") => NodeType::ListMap,
            Some(other) => {
                return Err(schema_error(
                    source,
                    format!("node {path} has unknown type {other:?}; use other or list-map"),
                ));
            }
        };
        let text_of = |name: &str| -> Result<String, String> {
            match field(name) {
                None => Ok(String::new()),
                Some(value) => scalar_text(value).ok_or_else(|| {
                    schema_error(source, format!("{name} of node {path} must be a scalar"))
                }),
            }
        };
        let require = match field("require") {
            None | Some(serde_yaml::Value::Null) => false,
            Some(serde_yaml::Value::Bool(flag)) => *flag,
            Some(_) => {
                return Err(schema_error(
                    source,
                    format!("require of node {path} must be true or false"),
                ));
            }
        };
        let rule = text_of("rule")?;
        if !rule.is_empty() {
            regex::Regex::new(&rule).map_err(|error| {
                schema_error(
                    source,
                    format!("rule of node {path} is not a valid regex: {error}"),
                )
            })?;
        }
        let id = node_id(subject_id, &path);
        let children = match (node_type, field("children")) {
            (NodeType::ListMap, Some(serde_yaml::Value::Sequence(children)))
                if !children.is_empty() =>
            {
                parse_nodes(source, subject_id, children, &path, &id)?
            }
            (NodeType::ListMap, _) => {
                return Err(schema_error(
                    source,
                    format!("node {path} is a list-map and needs a list of children"),
                ));
            }
            (NodeType::Other, None | Some(serde_yaml::Value::Null)) => Vec::new(),
            (NodeType::Other, Some(serde_yaml::Value::Sequence(children)))
                if children.is_empty() =>
            {
                Vec::new()
            }
            (NodeType::Other, Some(_)) => {
                return Err(schema_error(
                    source,
                    format!("node {path} is of type other and cannot have children"),
                ));
            }
        };
        nodes.push(SchemaNode {
            id,
            key,
            node_type,
            remark: text_of("remark")?,
            default: text_of("default")?,
            require,
            rule,
            policy: text_of("policy")?,
            parent_id: parent_id.to_owned(),
            children,
        });
    }
    Ok(nodes)
}

fn values_error(message: String) -> String {
    message
}

fn scalar_value(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Checks `values` (keyed by node id, as the contract shows) against `nodes` and answers the
/// same values keyed by key name, defaults filled in. Errors name the key path.
pub fn validate_values(nodes: &[SchemaNode], values: &Value) -> Result<Value, String> {
    let Value::Object(object) = values else {
        return Err(values_error(
            "values must be a JSON object keyed by node id".to_owned(),
        ));
    };
    validate_level(nodes, object, "")
}

fn validate_level(
    nodes: &[SchemaNode],
    object: &Map<String, Value>,
    parent_path: &str,
) -> Result<Value, String> {
    for id in object.keys() {
        if parent_path.is_empty() && id == "histor_data" {
            continue;
        }
        if !nodes.iter().any(|node| &node.id == id) {
            let place = if parent_path.is_empty() {
                "at the top level".to_owned()
            } else {
                format!("in {parent_path}")
            };
            return Err(values_error(format!("unknown node id {id:?} {place}")));
        }
    }
    let mut by_key = BTreeMap::new();
    for node in nodes {
        let path = if parent_path.is_empty() {
            node.key.clone()
        } else {
            format!("{parent_path}.{}", node.key)
        };
        let given = object.get(&node.id).filter(|value| !value.is_null());
        match node.node_type {
            NodeType::Other => {
                let text = match given {
                    Some(value) => scalar_value(value).ok_or_else(|| {
                        values_error(format!("{path} must be a single value, not {value}"))
                    })?,
                    None => node.default.clone(),
                };
                if node.require && text.is_empty() {
                    return Err(values_error(format!("{path} is required")));
                }
                if !node.rule.is_empty() && !text.is_empty() {
                    let rule = regex::Regex::new(&node.rule).map_err(|error| {
                        values_error(format!("rule of {path} is not a valid regex: {error}"))
                    })?;
                    if !rule.is_match(&text) {
                        return Err(values_error(format!(
                            "{path} value {text:?} does not match the rule {:?}",
                            node.rule
                        )));
                    }
                }
                by_key.insert(node.key.clone(), Value::String(text));
            }
            NodeType::ListMap => {
                let items = match given {
                    Some(Value::Array(items)) => items.as_slice(),
                    Some(other) => {
                        return Err(values_error(format!(
                            "{path} must be a list of maps, not {other}"
                        )));
                    }
                    None => &[],
                };
                if node.require && items.is_empty() {
                    return Err(values_error(format!("{path} needs at least one item")));
                }
                let mut rendered = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    let item_path = format!("{path}[{index}]");
                    let Value::Object(item) = item else {
                        return Err(values_error(format!("{item_path} must be a map")));
                    };
                    rendered.push(validate_level(&node.children, item, &item_path)?);
                }
                by_key.insert(node.key.clone(), Value::Array(rendered));
            }
        }
    }
    Ok(Value::Object(by_key.into_iter().collect()))
}

/// Renders `template` (Jinja2 syntax) with `values_by_key`; undefined names fail.
pub fn render(name: &str, template: &str, values_by_key: &Value) -> Result<String, String> {
    let mut environment = minijinja::Environment::new();
    environment.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    environment.set_keep_trailing_newline(true);
    environment
        .add_template(name, template)
        .map_err(|error| format!("template {name} is not valid: {}", describe(&error)))?;
    let compiled = environment
        .get_template(name)
        .map_err(|error| format!("template {name}: {}", describe(&error)))?;
    compiled
        .render(values_by_key)
        .map_err(|error| format!("cannot render {name}: {}", describe(&error)))
}

fn describe(error: &minijinja::Error) -> String {
    let mut text = error.to_string();
    if let Some(detail) = error.detail()
        && !text.contains(detail)
    {
        text = format!("{text} ({detail})");
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SCHEMA: &str = r#"
- key: ports
  type: list-map
  remark: 待添加端口信息
  require: true
  policy: 不变
  children:
    - key: port
      type: other
      remark: 端口号
      require: true
      rule: '^[0-9]+$'
      policy: 不变
- key: home
  remark: install dir
  default: /opt/app
"#;

    #[test]
    fn a_schema_parses_with_stable_ids() {
        let nodes = parse_schema("apache.yml", "subject-1", SCHEMA).expect("valid");
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].node_type, NodeType::ListMap);
        assert_eq!(nodes[0].children[0].key, "port");
        assert_eq!(nodes[0].children[0].parent_id, nodes[0].id);
        assert_eq!(nodes[0].id, node_id("subject-1", "ports"));
        assert_eq!(nodes[0].children[0].id, node_id("subject-1", "ports.port"));
        assert_eq!(nodes[0].id.len(), 32);
        assert_eq!(
            nodes[1].node_type,
            NodeType::Other,
            "type defaults to other"
        );
        assert_eq!(nodes[1].default, "/opt/app");
        let again = parse_schema("apache.yml", "subject-1", SCHEMA).expect("valid");
        assert_eq!(again, nodes, "same subject and paths, same ids");
        let other = parse_schema("apache.yml", "subject-2", SCHEMA).expect("valid");
        assert_ne!(other[0].id, nodes[0].id);
    }

    #[test]
    fn bad_schemas_name_the_node() {
        let cases = [
            (
                "- key: a\n  type: dict\n",
                "node a has unknown type \"dict\"",
            ),
            ("- key: a\n- key: a\n", "node a is defined twice"),
            (
                "- key: a\n  rule: '(['\n",
                "rule of node a is not a valid regex",
            ),
            (
                "- key: l\n  type: list-map\n  children:\n    - key: x\n    - key: x\n",
                "node l.x is defined twice",
            ),
            (
                "- key: a\n  type: list-map\n",
                "node a is a list-map and needs",
            ),
            ("- key: a\n  colour: red\n", "unknown field \"colour\""),
            ("key: a\n", "must be a list of nodes"),
            ("- key: a\n  key: b\n", "not valid YAML"),
        ];
        for (text, expected) in cases {
            let error = parse_schema("x.yml", "s", text).expect_err(text);
            assert!(error.contains(expected), "{text:?}: {error}");
            assert!(error.starts_with("x.yml: "), "{error}");
        }
    }

    #[test]
    fn values_are_checked_and_keyed_by_name() {
        let nodes = parse_schema("a.yml", "s", SCHEMA).expect("valid");
        let ports = &nodes[0];
        let port = &ports.children[0];
        let values = json!({ports.id.clone(): [{port.id.clone(): "8087"}], "histor_data": false});
        let by_key = validate_values(&nodes, &values).expect("valid");
        assert_eq!(
            by_key,
            json!({"ports": [{"port": "8087"}], "home": "/opt/app"})
        );

        let bad_rule = json!({ports.id.clone(): [{port.id.clone(): "80a"}]});
        let error = validate_values(&nodes, &bad_rule).expect_err("rule");
        assert!(error.contains("ports[0].port"), "{error}");
        let missing = json!({ports.id.clone(): []});
        assert!(
            validate_values(&nodes, &missing)
                .expect_err("required")
                .contains("ports")
        );
        let unknown = json!({"nope": "1"});
        assert!(
            validate_values(&nodes, &unknown)
                .expect_err("unknown")
                .contains("nope")
        );
        let shape = json!({ports.id.clone(): "8080"});
        assert!(
            validate_values(&nodes, &shape)
                .expect_err("shape")
                .contains("list of maps")
        );
        let item_missing = json!({ports.id.clone(): [{}]});
        assert!(
            validate_values(&nodes, &item_missing)
                .expect_err("required child")
                .contains("ports[0].port is required")
        );
    }

    #[test]
    fn templates_render_strictly() {
        let values = json!({"ports": [{"port": "80"}, {"port": "81"}], "home": "/opt"});
        let text = render(
            "httpd.conf.j2",
            "{% for p in ports %}Listen {{ p.port }}\n{% endfor %}ServerRoot {{ home }}\n",
            &values,
        )
        .expect("render");
        assert_eq!(text, "Listen 80\nListen 81\nServerRoot /opt\n");
        let error = render("x.j2", "{{ missing }}", &values).expect_err("undefined");
        assert!(error.contains("undefined"), "{error}");
    }
}
