//! What a hosted build file says about itself (size, version code, minimum OS, label, icon key)
//! and how often a build was installed: one row per build, beside its `builds` row. A build
//! published by `desc` has a row once it is installed.

use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::build_details;

/// The details and install count of one build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = build_details)]
pub struct DetailsRow {
    pub app: String,
    pub platform: String,
    pub version: String,
    /// Bytes of the hosted file, 0 when not hosted.
    pub size_bytes: i64,
    pub version_code: String,
    pub min_os: String,
    pub label: String,
    /// Object key of the icon read from the file, empty when none.
    pub icon_key: String,
    pub installs: i64,
}

common::row_queries! { build_details, DetailsRow;
    /// The details of one build, if any.
    pub fn find_details(app: &str, platform: &str, version: &str) -> first
        where app.eq(app), platform.eq(platform), version.eq(version);
    /// Details of the given versions of a platform.
    fn details_of_versions(app: &str, platform: &str, versions: &[String]) -> all
        where app.eq(app), platform.eq(platform), version.eq_any(versions);
    /// Every row of an app, by platform and version.
    pub fn details_of_app(app: &str) -> all where app.eq(app) order platform.asc(), version.asc();
    /// The icon keys among `keys` that a build shows.
    pub fn referenced_icon_keys(keys: &[String]) -> keys(icon_key) where icon_key.eq_any(keys);
    /// Deletes the row of a build.
    pub fn delete_details(app: &str, platform: &str, version: &str) -> delete
        where app.eq(app), platform.eq(platform), version.eq(version);
    /// Deletes the rows of every build of an app.
    pub fn delete_details_of_app(app: &str) -> delete where app.eq(app);
    /// Adds `count` installs to an existing row; answers whether there was one.
    fn add_installs(app: &str, platform: &str, version: &str, count: i64) -> update_one
        where app.eq(app), platform.eq(platform), version.eq(version)
        set installs.eq(build_details::installs + count);
}

/// Details of the given versions of a platform.
pub fn details_of(
    connection: &mut DbConnection,
    app: &str,
    platform: &str,
    versions: &[String],
) -> QueryResult<Vec<DetailsRow>> {
    if versions.is_empty() {
        return Ok(Vec::new());
    }
    details_of_versions(connection, app, platform, versions)
}

/// Writes what a hosted file says of its build, keeping the install count.
pub fn save_details(connection: &mut DbConnection, row: &DetailsRow) -> QueryResult<()> {
    use build_details::dsl;
    let key = (&row.app, &row.platform, &row.version);
    let exists = find_details(connection, key.0, key.1, key.2)?.is_some();
    let changes = (
        dsl::size_bytes.eq(row.size_bytes),
        dsl::version_code.eq(&row.version_code),
        dsl::min_os.eq(&row.min_os),
        dsl::label.eq(&row.label),
        dsl::icon_key.eq(&row.icon_key),
    );
    common::upsert_into!(connection, exists, build_details::table, row, key, changes)
}

/// Counts one install of a build.
pub fn count_install(
    connection: &mut DbConnection,
    app: &str,
    platform: &str,
    version: &str,
) -> QueryResult<()> {
    count_installs(connection, app, platform, version, 1)
}

/// Counts `count` installs of a build. Two replicas counting the first install at once both try
/// the insert; the one that loses the race adds to the row the other wrote.
pub fn count_installs(
    connection: &mut DbConnection,
    app: &str,
    platform: &str,
    version: &str,
    count: i64,
) -> QueryResult<()> {
    if add_installs(connection, app, platform, version, count)? {
        return Ok(());
    }
    let first = DetailsRow {
        app: app.to_owned(),
        platform: platform.to_owned(),
        version: version.to_owned(),
        installs: count,
        ..DetailsRow::default()
    };
    match diesel::insert_into(build_details::table)
        .values(&first)
        .execute(connection)
    {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => add_installs(connection, app, platform, version, count).map(|_| ()),
        Err(error) => Err(error),
    }
}
