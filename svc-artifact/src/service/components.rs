//! Components and their method packages (4.4): a tar.gz with `method.yml` at its root naming
//! the component, the method, the entrypoint, an optional timeout and the params schema. A new
//! package for an existing method id is a new version; the newest is used. The built-in
//! component `custom` with method `cu1` has no package and only runs the step's scripts.

use common::{
    audit::{self, Change, NewEvent, Origin},
    limits,
    read_cache::ARTIFACT_CATALOG,
    time::now_utc,
};
use serde::Deserialize;

use super::{
    Actor, ArtifactError, ArtifactResult, ArtifactService, RecordKind, UploadOutcome, file_row,
    ingest::Ingested,
    require_reader,
    schema::{self, SchemaNode},
};
use crate::db::models::{
    components::{self, ComponentRow, MethodRow, MethodVersionRow},
    files,
};

/// Id of the built-in method that only runs scripts.
pub const BUILTIN_METHOD: &str = "cu1";
/// Id of the built-in component.
pub const BUILTIN_COMPONENT: &str = "custom";
/// Default timeout of a method run.
const DEFAULT_TIMEOUT_S: u32 = 600;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Named {
    id: String,
    name: String,
    #[serde(default)]
    remark: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    component: Named,
    method: Named,
    entrypoint: String,
    timeout_s: Option<u32>,
    #[serde(default)]
    params: serde_yaml::Value,
}

/// A method with its newest package version (none for the built-in).
#[derive(Debug, Clone)]
pub struct MethodListing {
    pub method: MethodRow,
    pub version: Option<MethodVersionRow>,
    pub params: Vec<SchemaNode>,
}

/// A component with its methods.
#[derive(Debug, Clone)]
pub struct ComponentListing {
    pub component: ComponentRow,
    pub methods: Vec<MethodListing>,
}

fn check_id(field: &str, id: &str) -> ArtifactResult<()> {
    common::ids::validate_external_id(id).map_err(|message| ArtifactError::invalid(field, message))
}

impl ArtifactService {
    pub(super) async fn component_stored(
        &self,
        actor: &Actor,
        ingested: &Ingested,
    ) -> ArtifactResult<UploadOutcome> {
        let [package] = ingested.files.as_slice() else {
            return Err(ArtifactError::invalid(
                "file",
                format!(
                    "must be exactly one method package, not {} files",
                    ingested.files.len()
                ),
            ));
        };
        if let Some(declared) = ingested.field("md5")
            && declared.to_ascii_lowercase() != package.digest.md5
        {
            return Err(ArtifactError::Md5Mismatch {
                file: package.name.clone(),
                declared,
                actual: package.digest.md5.clone(),
            });
        }
        let (_scratch, unpacked) = self.unpacked(package).await?;
        let manifest_file = unpacked
            .iter()
            .find(|file| file.relative_path == "method.yml" || file.relative_path == "method.yaml")
            .ok_or_else(|| {
                ArtifactError::invalid(
                    "method package",
                    format!("{:?} has no method.yml at its root", package.name),
                )
            })?;
        let text = tokio::fs::read_to_string(&manifest_file.local_path)
            .await
            .map_err(|_| ArtifactError::invalid("method.yml", "is not UTF-8 text"))?;
        let manifest: Manifest = serde_yaml::from_str(&text).map_err(|error| {
            ArtifactError::invalid("method.yml", format!("is not valid: {error}"))
        })?;
        check_id("method.yml component.id", &manifest.component.id)?;
        check_id("method.yml method.id", &manifest.method.id)?;
        limits::check(
            "method.yml component.name",
            manifest.component.name.trim(),
            limits::NAME,
        )?;
        limits::check(
            "method.yml method.name",
            manifest.method.name.trim(),
            limits::NAME,
        )?;
        limits::check(
            "method.yml component.remark",
            &manifest.component.remark,
            limits::REMARK,
        )?;
        limits::check(
            "method.yml method.remark",
            &manifest.method.remark,
            limits::REMARK,
        )?;
        limits::check(
            "method.yml entrypoint",
            manifest.entrypoint.trim(),
            limits::PATH,
        )?;
        if manifest.method.id == BUILTIN_METHOD || manifest.component.id == BUILTIN_COMPONENT {
            return Err(ArtifactError::invalid(
                "method.yml",
                format!(
                    "cannot replace the built-in component {BUILTIN_COMPONENT}/{BUILTIN_METHOD}"
                ),
            ));
        }
        let entrypoint = manifest
            .entrypoint
            .trim()
            .trim_start_matches("./")
            .to_owned();
        if !unpacked.iter().any(|file| file.relative_path == entrypoint) {
            return Err(ArtifactError::invalid(
                "method.yml entrypoint",
                format!("{entrypoint:?} is not a file of the package"),
            ));
        }
        let timeout_s = manifest.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S);
        if timeout_s == 0 {
            return Err(ArtifactError::invalid(
                "method.yml timeout_s",
                "must be positive",
            ));
        }
        limits::range(
            "method.yml timeout_s",
            timeout_s,
            1,
            limits::MAX_TIMEOUT_SECS,
        )?;
        let params =
            schema::parse_schema_value("method.yml params", &manifest.method.id, &manifest.params)
                .map_err(|message| ArtifactError::InvalidSchema { message })?;
        let params_json =
            serde_json::to_string(&params).map_err(|error| ArtifactError::Io(error.to_string()))?;

        let now = now_utc();
        let creator = actor.username().to_owned();
        let version_id = common::ids::new_id();
        let row = file_row(
            &package.id,
            &package.name,
            &package.name,
            &package.object_key,
            &package.digest,
            &version_id,
            "method",
            &creator,
            now,
        );
        let component = ComponentRow {
            id: manifest.component.id,
            name: manifest.component.name,
            remark: manifest.component.remark,
        };
        let method = MethodRow {
            id: manifest.method.id,
            component_id: component.id.clone(),
            name: manifest.method.name,
            remark: manifest.method.remark,
            builtin: false,
        };
        let version = MethodVersionRow {
            id: version_id.clone(),
            method_id: method.id.clone(),
            file_id: package.id.clone(),
            entrypoint,
            timeout_s: i32::try_from(timeout_s).unwrap_or(i32::MAX),
            params_json,
            creator,
            create_time: now,
        };
        let write_row = row.clone();
        let event = NewEvent::new(
            &Origin::of(&actor.claims),
            "component.upload",
            "component",
            &component.id,
        )
        .change(Change::new("name", None, Some(&component.name)))
        .change(Change::new("method", None, Some(&method.id)))
        .change(Change::new("method_version", None, Some(&version.id)));
        let written = self
            .database
            .transaction(move |connection| {
                if let Some(existing) = components::find_method(connection, &method.id)?
                    && existing.component_id != method.component_id
                {
                    return Err(ArtifactError::invalid(
                        "method.yml method.id",
                        format!(
                            "{:?} already belongs to component {:?}, not {:?}",
                            method.id, existing.component_id, method.component_id
                        ),
                    ));
                }
                components::upsert_component(connection, &component)?;
                components::upsert_method(connection, &method)?;
                components::insert_version(connection, &version)?;
                files::insert_all(connection, &[write_row])?;
                audit::append(connection, event, audit::now_ms())?;
                Ok(())
            })
            .await;
        self.reads.written(&[ARTIFACT_CATALOG], written).await?;
        Ok(UploadOutcome {
            files: vec![row],
            version_id,
            ..UploadOutcome::default()
        })
    }

    /// Every component with its methods and each method's newest package (4.4).
    pub async fn list_components(&self, actor: &Actor) -> ArtifactResult<Vec<ComponentListing>> {
        require_reader(actor)?;
        let load = self.database.run(move |connection| {
            let all_components = components::list_components(connection)?;
            let all_methods = components::list_methods(connection)?;
            let mut listings = Vec::with_capacity(all_components.len());
            for component in all_components {
                let mut methods = Vec::new();
                for method in all_methods
                    .iter()
                    .filter(|method| method.component_id == component.id)
                {
                    let version = components::newest_version(connection, &method.id)?;
                    if version.is_none() && !method.builtin {
                        continue;
                    }
                    let params = match &version {
                        Some(version) => {
                            serde_json::from_str(&version.params_json).map_err(|error| {
                                ArtifactError::Io(format!(
                                    "stored params of method {:?} are unreadable: {error}",
                                    method.id
                                ))
                            })?
                        }
                        None => Vec::new(),
                    };
                    methods.push(MethodListing {
                        method: method.clone(),
                        version,
                        params,
                    });
                }
                listings.push(ComponentListing { component, methods });
            }
            Ok(listings)
        });
        self.reads
            .read_through(&[ARTIFACT_CATALOG], "components", load)
            .await
    }

    /// One method with its newest package and params (5.8.2.5).
    pub async fn method(&self, actor: &Actor, method_id: &str) -> ArtifactResult<MethodListing> {
        require_reader(actor)?;
        let owned = method_id.to_owned();
        let read = format!("method\n{owned}");
        let load = self.database.run(move |connection| {
            let method = components::find_method(connection, &owned)?
                .ok_or_else(|| ArtifactError::not_found(RecordKind::Method, &owned))?;
            let version = components::newest_version(connection, &owned)?;
            let params = match &version {
                Some(version) => serde_json::from_str(&version.params_json).map_err(|error| {
                    ArtifactError::Io(format!(
                        "stored params of method {owned:?} are unreadable: {error}"
                    ))
                })?,
                None => Vec::new(),
            };
            Ok(MethodListing {
                method,
                version,
                params,
            })
        });
        self.reads
            .read_through(&[ARTIFACT_CATALOG], &read, load)
            .await
    }

    /// Checks `values` (keyed by node id) against a method's params; answers them by key.
    pub async fn validate_method_values(
        &self,
        actor: &Actor,
        method_id: &str,
        values: &serde_json::Value,
    ) -> ArtifactResult<serde_json::Value> {
        let listing = self.method(actor, method_id).await?;
        schema::validate_values(&listing.params, values)
            .map_err(|message| ArtifactError::InvalidValues { message })
    }
}
