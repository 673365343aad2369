//! Work orders (contract 7.2, 7.3 and the .xlsx export): a form stored per instance, created or
//! updated by `doc_id`; saving one moves the instance to `generate`. The export lays the form
//! fields, the operation rows and the resource rows out as three sheets.

use common::time::now_utc;
use rust_xlsxwriter::Workbook;
use serde_json::{Map, Value};

use super::{
    Actor, JobsError, JobsResult, JobsService, RecordKind, checked_reference, require_operator,
    require_reader, status,
};
use crate::db::models::{
    instances,
    work_orders::{self, WorkOrderRow},
};
use crate::domain::{
    audit::{self, NewEvent},
    existing_instance,
};

/// The operation rows of the form.
pub const OPERATION_ROWS: &str = "ONLINE_OPERATION_PROCESS";
/// The resource rows of the form.
pub const RESOURCE_ROWS: &str = "TYPES";

/// A cell's text: strings as they are, other values as JSON, null as empty.
fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn export_error(error: rust_xlsxwriter::XlsxError) -> JobsError {
    JobsError::Export(error.to_string())
}

/// The .xlsx of a form: sheet 1 the scalar fields, then one sheet per list of rows.
pub fn workbook_bytes(instance_name: &str, form: &Map<String, Value>) -> JobsResult<Vec<u8>> {
    let mut workbook = Workbook::new();
    let fields = workbook.add_worksheet();
    fields.set_name("工单").map_err(export_error)?;
    fields.write_string(0, 0, "字段").map_err(export_error)?;
    fields.write_string(0, 1, "值").map_err(export_error)?;
    fields
        .write_string(1, 0, "job_instance")
        .map_err(export_error)?;
    fields
        .write_string(1, 1, instance_name)
        .map_err(export_error)?;
    let scalars = form.iter().filter(|(_, value)| !value.is_array());
    for (row, (key, value)) in (2u32..).zip(scalars) {
        fields.write_string(row, 0, key).map_err(export_error)?;
        fields
            .write_string(row, 1, cell_text(value))
            .map_err(export_error)?;
    }
    for sheet_name in [OPERATION_ROWS, RESOURCE_ROWS] {
        let rows: Vec<&Map<String, Value>> = form
            .get(sheet_name)
            .and_then(Value::as_array)
            .map(|rows| rows.iter().filter_map(Value::as_object).collect())
            .unwrap_or_default();
        let mut columns: Vec<&String> = Vec::new();
        for record in &rows {
            for key in record.keys() {
                if !columns.contains(&key) {
                    columns.push(key);
                }
            }
        }
        let sheet = workbook.add_worksheet();
        sheet.set_name(sheet_name).map_err(export_error)?;
        for (column, key) in columns.iter().enumerate() {
            let column = u16::try_from(column)
                .map_err(|_| JobsError::Export("too many columns".to_owned()))?;
            sheet
                .write_string(0, column, key.as_str())
                .map_err(export_error)?;
            for (index, record) in rows.iter().enumerate() {
                let line = u32::try_from(index + 1)
                    .map_err(|_| JobsError::Export("too many rows".to_owned()))?;
                sheet
                    .write_string(
                        line,
                        column,
                        cell_text(record.get(*key).unwrap_or(&Value::Null)),
                    )
                    .map_err(export_error)?;
            }
        }
    }
    workbook.save_to_buffer().map_err(export_error)
}

impl JobsService {
    /// 7.3: creates (no `doc_id`) or updates (its `doc_id`) the work order of an instance.
    pub async fn save_work_order(
        &self,
        actor: &Actor,
        instance_id: &str,
        doc_id: Option<&str>,
        excel_data: Value,
        app_id: Option<&str>,
    ) -> JobsResult<WorkOrderRow> {
        require_operator(actor)?;
        let instance_id = checked_reference("job_instance_id", instance_id)?;
        common::limits::check_opt("doc_id", doc_id.map(str::trim), common::limits::ID)?;
        common::limits::check_opt("app_id", app_id.map(str::trim), common::limits::ID)?;
        super::binding_limits::document("excel_data", &excel_data)?;
        let Value::Object(form) = excel_data else {
            return Err(JobsError::Invalid {
                field: "excel_data",
                message: "must be a JSON object".to_owned(),
            });
        };
        let doc_id = doc_id
            .map(str::trim)
            .filter(|doc| !doc.is_empty())
            .map(str::to_owned);
        let app_id = app_id
            .map(str::trim)
            .filter(|app| !app.is_empty())
            .map(str::to_owned);
        let actor_name = actor.username().to_owned();
        let origin = audit::origin(actor);
        self.write(crate::domain::INSTANCES_WRITE, move |connection| {
            let instance = existing_instance(connection, &instance_id)?;
            if let Some(app_id) = &app_id
                && app_id != &instance.application_id
            {
                return Err(JobsError::Invalid {
                    field: "app_id",
                    message: format!(
                        "{app_id:?} is not the application of job instance {}",
                        instance.id
                    ),
                });
            }
            let existing = work_orders::find_for_instance(connection, &instance.id)?;
            let before_doc = existing.as_ref().map(|order| order.doc_id.clone());
            let now = now_utc();
            let excel_data = Value::Object(form).to_string();
            let row = match (existing, doc_id) {
                (Some(existing), Some(doc_id)) if existing.doc_id != doc_id => {
                    return Err(JobsError::NotFound {
                        kind: RecordKind::WorkOrder,
                        id: doc_id,
                    });
                }
                (Some(existing), _) => {
                    let row = WorkOrderRow {
                        excel_data,
                        mender: actor_name,
                        update_time: now,
                        ..existing
                    };
                    work_orders::update(connection, &row)?;
                    row
                }
                (None, Some(doc_id)) => {
                    return Err(JobsError::NotFound {
                        kind: RecordKind::WorkOrder,
                        id: doc_id,
                    });
                }
                (None, None) => {
                    let row = WorkOrderRow {
                        instance_id: instance.id.clone(),
                        doc_id: common::ids::new_id(),
                        excel_data,
                        process_status: status::NOT_SYNCED.to_owned(),
                        creator: actor_name.clone(),
                        create_time: now,
                        mender: actor_name,
                        update_time: now,
                    };
                    work_orders::insert(connection, &row)?;
                    row
                }
            };
            instances::set_status(connection, &instance.id, status::GENERATE)?;
            let mut event = NewEvent::new(&origin, "work_order.save", "instance", &instance.id)
                .app(Some(&instance.application_id))
                .env(Some(&instance.env_id));
            event.changes.extend(audit::changed(
                "doc_id",
                before_doc.as_deref(),
                Some(&row.doc_id),
            ));
            event.changes.extend(audit::changed(
                "status",
                Some(&instance.status),
                Some(status::GENERATE),
            ));
            audit::append(connection, event)?;
            Ok(row)
        })
        .await
    }

    /// The work order of an instance, if one was saved.
    pub async fn work_order(
        &self,
        actor: &Actor,
        instance_id: &str,
    ) -> JobsResult<Option<WorkOrderRow>> {
        require_reader(actor)?;
        let instance_id = instance_id.to_owned();
        let read = format!("work order\n{instance_id}");
        let load = self
            .database
            .run(move |connection| Ok(work_orders::find_for_instance(connection, &instance_id)?));
        // Work orders are written with their instance (saved, deleted with it).
        self.reads
            .read_through(crate::domain::INSTANCES_WRITE, &read, load)
            .await
    }

    /// `GET /api/app/jobinstance/{id}/online/process/export`: the work order as an .xlsx file.
    /// Answers the file name and bytes.
    pub async fn export_work_order(
        &self,
        actor: &Actor,
        instance_id: &str,
    ) -> JobsResult<(String, Vec<u8>)> {
        require_reader(actor)?;
        let read = format!("export\n{instance_id}");
        let small = |(_, bytes): &(String, Vec<u8>)| bytes.len() <= super::MAX_KEPT_EXPORT_BYTES;
        // Work orders are written with their instance (saved, deleted with it).
        self.exports
            .read_through_if(
                crate::domain::INSTANCES_WRITE,
                &read,
                small,
                self.load_export(instance_id.to_owned()),
            )
            .await
    }

    async fn load_export(&self, instance_id: String) -> JobsResult<(String, Vec<u8>)> {
        let (instance, order) =
            self.database
                .run(move |connection| {
                    let instance = existing_instance(connection, &instance_id)?;
                    let order = work_orders::find_for_instance(connection, &instance_id)?
                        .ok_or_else(|| JobsError::NotFound {
                            kind: RecordKind::WorkOrder,
                            id: format!("of job instance {instance_id}"),
                        })?;
                    Ok::<_, JobsError>((instance, order))
                })
                .await?;
        let form: Map<String, Value> = serde_json::from_str(&order.excel_data).unwrap_or_default();
        let bytes = tokio::task::spawn_blocking(move || workbook_bytes(&instance.name, &form))
            .await
            .map_err(|error| JobsError::Export(error.to_string()))??;
        Ok((format!("work-order-{}.xlsx", order.doc_id), bytes))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_form_becomes_a_workbook() {
        let form = json!({"SERVICE_NAME": "消息总线(TUMS)", "CONTACTS": "sss",
            "ONLINE_OPERATION_PROCESS": [{"OPERATION_CONTENT": "deploy", "SERVICE_IP": "10.5.91.37"}],
            "TYPES": [{"RESOURCE_ID": "81712", "STATUS": false}]});
        let bytes = workbook_bytes("ppp", form.as_object().expect("object")).expect("xlsx");
        assert!(bytes.starts_with(b"PK"), "an .xlsx is a zip file");
        assert!(bytes.len() > 1000);
    }
}
