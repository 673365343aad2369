//! The audit trail of svc-jobs' writes and run actions (issue 20): the shorthands every write
//! uses to append its event inside the transaction of its change (`common::audit`).

use common::{auth::Actor, db::DbConnection};
use serde_json::Value;

pub use common::audit::{Change, NewEvent, Origin};

use super::JobsResult;
use super::bindings::StepBindings;
use crate::db::models::instances::{InstanceRow, StepRow};

/// The longest value a change records (longer ones are cut, ending with `…`).
pub const MAX_VALUE_CHARS: usize = 200;

/// The origin of a write made for `actor` in the current request.
pub fn origin(actor: &Actor) -> Origin {
    Origin::of(&actor.claims)
}

/// Appends `event`, now, in the caller's transaction.
pub fn append(connection: &mut DbConnection, event: NewEvent) -> JobsResult<()> {
    common::audit::append(connection, event, common::audit::now_ms())?;
    Ok(())
}

/// `text` cut to [`MAX_VALUE_CHARS`].
pub fn capped(text: &str) -> String {
    match text.char_indices().nth(MAX_VALUE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// A created field: its value (capped), no before.
pub fn created(field: &str, after: &str) -> Change {
    Change::new(field, None, Some(&capped(after)))
}

/// A deleted record's field: its value (capped), no after.
pub fn deleted(field: &str, before: &str) -> Change {
    Change::new(field, Some(&capped(before)), None)
}

/// The change of a field, only when it changed (`None`: absent).
pub fn changed(field: &str, before: Option<&str>, after: Option<&str>) -> Option<Change> {
    (before != after).then(|| {
        Change::new(
            field,
            before.map(capped).as_deref(),
            after.map(capped).as_deref(),
        )
    })
}

/// A list as compact JSON.
pub fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

/// The object id of a step: `{instance_id}/{method_id}/{sequence}`, as its routes name it.
pub fn step_object_id(
    instance_id: &str,
    method_id: &str,
    sequence: impl std::fmt::Display,
) -> String {
    format!("{instance_id}/{method_id}/{sequence}")
}

/// The event of a write of `step` of `instance` (object `{instance}/{method}/{sequence}`).
pub fn step_event(
    origin: &Origin,
    action: &str,
    instance: &InstanceRow,
    step: &StepRow,
) -> NewEvent {
    let object_id = step_object_id(&instance.id, &step.method_id, step.sequence);
    NewEvent::new(origin, action, "step", &object_id)
        .app(Some(&instance.application_id))
        .env(Some(&instance.env_id))
}

/// The values that changed between two values documents (parameters keyed by node id), each
/// as `{prefix}.{node id}` masked: which value is secret is told by svc-artifact's schemas
/// (keys), not by the node ids the bindings hold, and every values document is sealed at rest,
/// so no value is written to the trail, only whether it was set.
pub fn value_changes(prefix: &str, before: Option<&Value>, after: Option<&Value>) -> Vec<Change> {
    let entries = |values: Option<&Value>| match values {
        Some(Value::Object(map)) => map.clone(),
        _ => serde_json::Map::new(),
    };
    let (before, after) = (entries(before), entries(after));
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| before.get(*name) != after.get(*name))
        .map(|name| {
            Change::secret(
                &format!("{prefix}.{name}"),
                before.contains_key(name),
                after.contains_key(name),
            )
        })
        .collect()
}

/// What changed between a step's bindings `before` and `after` (values opened): the artifacts,
/// scripts and app-config template as lists, parameter and app-config values masked
/// ([`value_changes`]), the rolling batches.
pub fn binding_changes(before: &StepBindings, after: &StepBindings) -> Vec<Change> {
    let artifacts = |bindings: &StepBindings| {
        let items: Vec<String> = bindings
            .artifacts
            .iter()
            .map(|artifact| format!("{} {}", artifact.file_id, artifact.dest))
            .collect();
        json_list(&items)
    };
    let scripts = |bindings: &StepBindings| {
        let items: Vec<String> = bindings
            .scripts
            .iter()
            .map(|script| format!("{} {} {}", script.id, script.execute_type, script.dest))
            .collect();
        json_list(&items)
    };
    let config_file = |bindings: &StepBindings| {
        bindings
            .actemplates
            .as_ref()
            .map(|binding| binding.file_id.clone())
    };
    let config_values = |bindings: &StepBindings| {
        bindings.actemplates.as_ref().map(|binding| {
            let groups: Vec<&Value> = binding.groups.iter().map(|group| &group.configs).collect();
            let dests: Vec<&str> = binding
                .groups
                .iter()
                .map(|group| group.dest.as_str())
                .collect();
            (
                groups.into_iter().cloned().collect::<Vec<Value>>(),
                json_list(&dests),
            )
        })
    };
    let number = |value: Option<u64>| value.map(|value| value.to_string());
    let mut changes = Vec::new();
    changes.extend(changed(
        "artifacts",
        Some(&artifacts(before)),
        Some(&artifacts(after)),
    ));
    changes.extend(changed(
        "scripts",
        Some(&scripts(before)),
        Some(&scripts(after)),
    ));
    changes.extend(changed(
        "configs.file_id",
        config_file(before).as_deref(),
        config_file(after).as_deref(),
    ));
    let (values_before, values_after) = (config_values(before), config_values(after));
    changes.extend(changed(
        "configs.dests",
        values_before.as_ref().map(|(_, dests)| dests.as_str()),
        values_after.as_ref().map(|(_, dests)| dests.as_str()),
    ));
    if values_before.as_ref().map(|(values, _)| values)
        != values_after.as_ref().map(|(values, _)| values)
    {
        changes.push(Change::secret(
            "configs.values",
            values_before.is_some(),
            values_after.is_some(),
        ));
    }
    changes.extend(value_changes(
        "params",
        before.config_value.as_ref(),
        after.config_value.as_ref(),
    ));
    changes.extend(changed(
        "batch_size",
        number(before.batch_size.map(u64::from)).as_deref(),
        number(after.batch_size.map(u64::from)).as_deref(),
    ));
    changes.extend(changed(
        "batch_pause_secs",
        number(before.batch_pause_secs).as_deref(),
        number(after.batch_pause_secs).as_deref(),
    ));
    let rollout = |bindings: &StepBindings| {
        bindings
            .rollout
            .as_ref()
            .and_then(|rollout| serde_json::to_string(rollout).ok())
    };
    changes.extend(changed(
        "rollout",
        rollout(before).as_deref(),
        rollout(after).as_deref(),
    ));
    changes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_are_capped_and_changes_masked() {
        assert_eq!(capped("short"), "short");
        let long = "é".repeat(MAX_VALUE_CHARS + 5);
        assert_eq!(capped(&long).chars().count(), MAX_VALUE_CHARS + 1);
        assert!(changed("name", Some("a"), Some("a")).is_none());
        let changes = value_changes(
            "params",
            Some(&json!({"n1": "old-Secret", "n2": 1, "n3": "gone"})),
            Some(&json!({"n1": "new-Secret", "n2": 1, "n4": "added"})),
        );
        let fields: Vec<&str> = changes.iter().map(|change| change.field.as_str()).collect();
        assert_eq!(fields, vec!["params.n1", "params.n3", "params.n4"]);
        let text = serde_json::to_string(&changes).expect("json");
        assert!(
            !text.contains("Secret") && !text.contains("added"),
            "{text}"
        );
    }
}
