//! Builds of an app per platform and version, and their extra downloads: rows and queries.
//! Lists run newest build time first.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::{build_extends, builds};

/// One published version of an app on one platform.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = builds)]
pub struct BuildRow {
    pub app: String,
    pub platform: String,
    pub version: String,
    pub build_time: NaiveDateTime,
    pub given_offset_minutes: i32,
    pub description: String,
    pub url: String,
    pub software_url: String,
    pub bundle_identifier: String,
    pub title: String,
    pub full_size_image: String,
    pub display_image: String,
    /// The OTA plist (ios), empty otherwise.
    pub plist: String,
    /// Object key of a hosted file this build downloads, empty when it points elsewhere.
    pub hosted_key: String,
    pub create_time: NaiveDateTime,
    pub update_time: NaiveDateTime,
}

/// A named extra download of a build.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = build_extends)]
pub struct ExtendRow {
    pub app: String,
    pub platform: String,
    pub version: String,
    pub extend_key: String,
    pub extend_name: String,
    pub software_url: String,
    pub plist: String,
    pub create_time: NaiveDateTime,
}

pub fn find(
    connection: &mut DbConnection,
    app: &str,
    platform: &str,
    version: &str,
) -> QueryResult<Option<BuildRow>> {
    builds::table
        .find((app, platform, version))
        .select(BuildRow::as_select())
        .first(connection)
        .optional()
}

/// Inserts the build or rewrites every column but `create_time`.
pub fn upsert(connection: &mut DbConnection, row: &BuildRow) -> QueryResult<()> {
    use builds::dsl;
    let exists = find(connection, &row.app, &row.platform, &row.version)?.is_some();
    common::db::upsert(
        connection,
        exists,
        |connection| {
            diesel::insert_into(builds::table)
                .values(row)
                .execute(connection)
        },
        |connection| {
            diesel::update(builds::table.find((&row.app, &row.platform, &row.version)))
                .set((
                    dsl::build_time.eq(row.build_time),
                    dsl::given_offset_minutes.eq(row.given_offset_minutes),
                    dsl::description.eq(&row.description),
                    dsl::url.eq(&row.url),
                    dsl::software_url.eq(&row.software_url),
                    dsl::bundle_identifier.eq(&row.bundle_identifier),
                    dsl::title.eq(&row.title),
                    dsl::full_size_image.eq(&row.full_size_image),
                    dsl::display_image.eq(&row.display_image),
                    dsl::plist.eq(&row.plist),
                    dsl::hosted_key.eq(&row.hosted_key),
                    dsl::update_time.eq(row.update_time),
                ))
                .execute(connection)
        },
    )
}

pub fn count(connection: &mut DbConnection, app: &str, platform: &str) -> QueryResult<i64> {
    use builds::dsl;
    dsl::builds
        .filter(dsl::app.eq(app).and(dsl::platform.eq(platform)))
        .count()
        .get_result(connection)
}

/// Builds of a platform, newest first (by build time, then the last published first), from
/// `offset`, at most `limit`.
pub fn newest(
    connection: &mut DbConnection,
    app: &str,
    platform: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<BuildRow>> {
    use builds::dsl;
    dsl::builds
        .filter(dsl::app.eq(app).and(dsl::platform.eq(platform)))
        .select(BuildRow::as_select())
        .order((
            dsl::build_time.desc(),
            dsl::update_time.desc(),
            dsl::version.desc(),
        ))
        .offset(offset)
        .limit(limit)
        .load(connection)
}

/// Every build of an app (any platform).
pub fn of_app(connection: &mut DbConnection, app: &str) -> QueryResult<Vec<BuildRow>> {
    use builds::dsl;
    dsl::builds
        .filter(dsl::app.eq(app))
        .select(BuildRow::as_select())
        .load(connection)
}

pub fn delete_one(
    connection: &mut DbConnection,
    app: &str,
    platform: &str,
    version: &str,
) -> QueryResult<usize> {
    use build_extends::dsl as extend;
    diesel::delete(
        extend::build_extends.filter(
            extend::app
                .eq(app)
                .and(extend::platform.eq(platform))
                .and(extend::version.eq(version)),
        ),
    )
    .execute(connection)?;
    diesel::delete(builds::table.find((app, platform, version))).execute(connection)
}

/// Deletes every build and extra download of an app.
pub fn delete_of_app(connection: &mut DbConnection, app: &str) -> QueryResult<usize> {
    use build_extends::dsl as extend;
    use builds::dsl;
    diesel::delete(extend::build_extends.filter(extend::app.eq(app))).execute(connection)?;
    diesel::delete(dsl::builds.filter(dsl::app.eq(app))).execute(connection)
}

/// Inserts or rewrites an extra download.
pub fn upsert_extend(connection: &mut DbConnection, row: &ExtendRow) -> QueryResult<()> {
    use build_extends::dsl;
    let key = (&row.app, &row.platform, &row.version, &row.extend_key);
    let exists = build_extends::table
        .find(key)
        .select(dsl::extend_key)
        .first::<String>(connection)
        .optional()?
        .is_some();
    common::db::upsert(
        connection,
        exists,
        |connection| {
            diesel::insert_into(build_extends::table)
                .values(row)
                .execute(connection)
        },
        |connection| {
            diesel::update(build_extends::table.find(key))
                .set((
                    dsl::extend_name.eq(&row.extend_name),
                    dsl::software_url.eq(&row.software_url),
                    dsl::plist.eq(&row.plist),
                ))
                .execute(connection)
        },
    )
}

pub fn find_extend(
    connection: &mut DbConnection,
    app: &str,
    platform: &str,
    version: &str,
    key: &str,
) -> QueryResult<Option<ExtendRow>> {
    build_extends::table
        .find((app, platform, version, key))
        .select(ExtendRow::as_select())
        .first(connection)
        .optional()
}

/// Extra downloads of the given versions of a platform, oldest first.
pub fn extends_of(
    connection: &mut DbConnection,
    app: &str,
    platform: &str,
    versions: &[String],
) -> QueryResult<Vec<ExtendRow>> {
    use build_extends::dsl;
    if versions.is_empty() {
        return Ok(Vec::new());
    }
    dsl::build_extends
        .filter(
            dsl::app
                .eq(app)
                .and(dsl::platform.eq(platform))
                .and(dsl::version.eq_any(versions)),
        )
        .select(ExtendRow::as_select())
        .order((dsl::create_time.asc(), dsl::extend_key.asc()))
        .load(connection)
}

/// The keys among `hosted_keys` that a build downloads.
pub fn referenced_hosted_keys(
    connection: &mut DbConnection,
    hosted_keys: &[String],
) -> QueryResult<Vec<String>> {
    builds::table
        .filter(builds::hosted_key.eq_any(hosted_keys))
        .select(builds::hosted_key)
        .load(connection)
}
