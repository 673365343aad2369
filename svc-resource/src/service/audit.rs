//! The audit events of the resource writes (issue 20): what each audited record is called in the
//! trail (its kind, id, name and main fields, its application and environment), and the events
//! of a save (every field of a create, the changed ones of an update) and of a delete (its name).
//! The writes append them in their own transaction with [`append`].

use common::{
    audit::{self, Change, NewEvent, Origin},
    db::DbConnection,
};

use crate::db::models::{
    catalog::{ApplicationRow, ClusterTypeRow, EnvRow, ModuleRow, ProductLineRow},
    resources::{ClusterRow, HostRow},
};

/// The longest value an event keeps of a field (longer ones are cut, marked with `…`).
pub const MAX_VALUE_CHARS: usize = 200;

/// `value`, cut to [`MAX_VALUE_CHARS`].
pub fn capped(value: &str) -> String {
    match value.char_indices().nth(MAX_VALUE_CHARS) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

/// A field's change, its values capped.
pub fn change(field: &str, before: Option<&str>, after: Option<&str>) -> Change {
    let before = before.map(capped);
    let after = after.map(capped);
    Change::new(field, before.as_deref(), after.as_deref())
}

/// A record whose saves and deletes are audited.
pub(crate) trait Audited {
    /// The `object_kind` of its events.
    const KIND: &'static str;
    /// The `object_id` of its events.
    fn audit_id(&self) -> &str;
    /// What a delete records of it.
    fn audit_name(&self) -> &str;
    /// Its main fields (never a secret).
    fn audit_fields(&self) -> Vec<(&'static str, String)>;
    /// The application it belongs to.
    fn audit_app(&self) -> Option<&str> {
        None
    }
    /// The environment it belongs to.
    fn audit_env(&self) -> Option<&str> {
        None
    }
}

/// The event of `action` on `row`, with its application and environment.
fn event_of<Row: Audited>(origin: &Origin, action: &str, row: &Row) -> NewEvent {
    NewEvent::new(origin, action, Row::KIND, row.audit_id())
        .app(row.audit_app())
        .env(row.audit_env())
}

/// The event of saving `after` (`before`: the row it replaced; `None`: created): every main field
/// of a create, the fields that changed of an update.
pub(crate) fn saved<Row: Audited>(
    origin: &Origin,
    action: &str,
    before: Option<&Row>,
    after: &Row,
) -> NewEvent {
    let mut event = event_of(origin, action, after);
    let old: Vec<(&'static str, String)> = before.map(Audited::audit_fields).unwrap_or_default();
    for (field, value) in after.audit_fields() {
        let previous = old.iter().find(|(name, _)| *name == field);
        match previous {
            Some((_, previous)) if *previous == value => {}
            Some((_, previous)) => {
                event = event.change(change(field, Some(previous), Some(&value)))
            }
            None => event = event.change(change(field, None, Some(&value))),
        }
    }
    event
}

/// The event of deleting `row`: its name.
pub(crate) fn deleted<Row: Audited>(origin: &Origin, action: &str, row: &Row) -> NewEvent {
    event_of(origin, action, row).change(change("name", Some(row.audit_name()), None))
}

/// Appends `event` now, in the caller's transaction.
pub(crate) fn append(connection: &mut DbConnection, event: NewEvent) -> diesel::QueryResult<()> {
    audit::append(connection, event, audit::now_ms()).map(|_| ())
}

/// A row's text column, if one is named.
macro_rules! column {
    ($row:ident) => {
        None
    };
    ($row:ident $column:ident) => {
        Some(&$row.$column)
    };
}

/// Implements [`Audited`] for a row: its kind, the columns of its id and name, its main fields
/// (columns shown with `to_string`), and the columns of its application and environment.
macro_rules! audited {
    ($row:ty, $kind:literal, $id:ident, $name:ident, [$($field:ident),*], app: $($app:ident)?, env: $($env:ident)?) => {
        impl Audited for $row {
            const KIND: &'static str = $kind;
            fn audit_id(&self) -> &str {
                &self.$id
            }
            fn audit_name(&self) -> &str {
                &self.$name
            }
            fn audit_fields(&self) -> Vec<(&'static str, String)> {
                vec![$((stringify!($field), self.$field.to_string())),*]
            }
            fn audit_app(&self) -> Option<&str> {
                column!(self $($app)?)
            }
            fn audit_env(&self) -> Option<&str> {
                column!(self $($env)?)
            }
        }
    };
}

audited!(ProductLineRow, "product_line", id, name, [name], app:, env:);
audited!(ApplicationRow, "application", id, name, [name, product_line_id], app: id, env:);
audited!(ModuleRow, "module", id, name, [name, application_id], app: application_id, env:);
audited!(EnvRow, "env", id, name, [name, remark], app:, env: id);
audited!(ClusterTypeRow, "cluster_type", type_key, type_value, [type_value], app:, env:);
audited!(
    ClusterRow,
    "cluster",
    id,
    name,
    [name, remark, cluster_type, env_id, app_id, source],
    app: app_id,
    env: env_id
);

impl Audited for HostRow {
    const KIND: &'static str = "host";
    fn audit_id(&self) -> &str {
        &self.id
    }
    fn audit_name(&self) -> &str {
        &self.host_name
    }
    /// The sealed secrets are left out: a save records them with `Change::secret`.
    fn audit_fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("host_ip", self.host_ip.clone()),
            ("host_name", self.host_name.clone()),
            ("remark", self.remark.clone()),
            ("ssh_port", self.ssh_port.to_string()),
            ("ssh_user", self.ssh_user.clone()),
            ("product_line_id", self.product_line_id.clone()),
            ("env_id", self.env_id.clone()),
            ("source", self.source.clone()),
            (
                "host_key",
                self.host_key_fingerprint.clone().unwrap_or_default(),
            ),
        ]
    }
    fn audit_env(&self) -> Option<&str> {
        Some(&self.env_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_capped_on_a_char_boundary() {
        assert_eq!(capped("short"), "short");
        let long = "é".repeat(MAX_VALUE_CHARS + 5);
        let cut = capped(&long);
        assert_eq!(cut.chars().count(), MAX_VALUE_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
