//! Stored files: one row per object in the object store, owned by a version (package, config,
//! script or method version).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::stored_files;

/// A stored file.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = stored_files)]
pub struct FileRow {
    pub id: String,
    pub name: String,
    /// Relative path inside its package (or the name).
    pub path: String,
    pub size: i64,
    pub md5: String,
    pub sha256: String,
    pub object_key: String,
    pub version_id: String,
    /// `archive`, `file`, `template`, `schema`, `script` or `method`.
    pub role: String,
    pub creator: String,
    pub create_time: NaiveDateTime,
}

common::row_queries! { stored_files, FileRow;
    find, insert_all;
    /// The files of a version, by path.
    pub fn of_version(version_id: &str) -> all where version_id.eq(version_id) order path.asc();
    /// How many files are stored.
    pub fn count() -> count;
    /// The keys among `object_keys` that a stored file refers to.
    pub fn referenced_keys(object_keys: &[String]) -> keys(object_key)
        where object_key.eq_any(object_keys);
}
