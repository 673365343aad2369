//! Builds of an app per platform and version, and their extra downloads: rows and queries.
//! Lists run newest build time first.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use super::details;
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

common::row_queries! { builds, BuildRow;
    /// The build of an app's platform and version, if any.
    pub fn find(app: &str, platform: &str, version: &str) -> first
        where app.eq(app), platform.eq(platform), version.eq(version);
    /// How many builds a platform of an app has.
    pub fn count(app: &str, platform: &str) -> count where app.eq(app), platform.eq(platform);
    /// Builds of a platform, newest first (by build time, then the last published first), from
    /// `offset`, at most `limit`.
    pub fn newest(app: &str, platform: &str, offset: i64, limit: i64) -> slice(offset, limit)
        where app.eq(app), platform.eq(platform)
        order build_time.desc(), update_time.desc(), version.desc();
    /// Every build of an app (any platform).
    pub fn of_app(app: &str) -> all where app.eq(app);
    /// The keys among `hosted_keys` that a build downloads.
    pub fn referenced_hosted_keys(hosted_keys: &[String]) -> keys(hosted_key)
        where hosted_key.eq_any(hosted_keys);
    /// Deletes the build of an app's platform and version; answers how many went (0 or 1).
    fn delete_build(app: &str, platform: &str, version: &str) -> delete
        where app.eq(app), platform.eq(platform), version.eq(version);
    /// Deletes every build of an app; answers how many went.
    fn delete_builds_of_app(app: &str) -> delete where app.eq(app);
}

common::row_queries! { build_extends, ExtendRow;
    /// The extra download `key` of a build, if any.
    pub fn find_extend(app: &str, platform: &str, version: &str, key: &str) -> first
        where app.eq(app), platform.eq(platform), version.eq(version), extend_key.eq(key);
    /// Extra downloads of the given versions of a platform, oldest first.
    fn extends_of_versions(app: &str, platform: &str, versions: &[String]) -> all
        where app.eq(app), platform.eq(platform), version.eq_any(versions)
        order create_time.asc(), extend_key.asc();
    /// Deletes the extra downloads of a build.
    fn delete_extends(app: &str, platform: &str, version: &str) -> delete
        where app.eq(app), platform.eq(platform), version.eq(version);
    /// Deletes the extra downloads of every build of an app.
    fn delete_extends_of_app(app: &str) -> delete where app.eq(app);
}

/// Inserts the build or rewrites every column but `create_time`.
pub fn upsert(connection: &mut DbConnection, row: &BuildRow) -> QueryResult<()> {
    use builds::dsl;
    let key = (&row.app, &row.platform, &row.version);
    let exists = find(connection, key.0, key.1, key.2)?.is_some();
    let changes = (
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
    );
    common::upsert_into!(connection, exists, builds::table, row, key, changes)
}

/// Deletes a build, its extra downloads and its details; answers how many builds went (0 or 1).
pub fn delete_one(
    connection: &mut DbConnection,
    app: &str,
    platform: &str,
    version: &str,
) -> QueryResult<usize> {
    delete_extends(connection, app, platform, version)?;
    details::delete_details(connection, app, platform, version)?;
    delete_build(connection, app, platform, version)
}

/// Deletes every build, extra download and build detail of an app.
pub fn delete_of_app(connection: &mut DbConnection, app: &str) -> QueryResult<usize> {
    delete_extends_of_app(connection, app)?;
    details::delete_details_of_app(connection, app)?;
    delete_builds_of_app(connection, app)
}

/// The stored files among `keys` that a build still uses: its hosted file or its icon.
pub fn referenced_files(
    connection: &mut DbConnection,
    keys: &[String],
) -> QueryResult<Vec<String>> {
    let mut found = referenced_hosted_keys(connection, keys)?;
    found.extend(details::referenced_icon_keys(connection, keys)?);
    Ok(found)
}

/// The apps and platforms with a build older than `cutoff`, each pair once, in name order.
pub fn platforms_with_builds_before(
    connection: &mut DbConnection,
    cutoff: NaiveDateTime,
) -> QueryResult<Vec<(String, String)>> {
    use builds::dsl;
    builds::table
        .filter(dsl::build_time.lt(cutoff))
        .select((dsl::app, dsl::platform))
        .distinct()
        .order((dsl::app.asc(), dsl::platform.asc()))
        .load(connection)
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
    let changes = (
        dsl::extend_name.eq(&row.extend_name),
        dsl::software_url.eq(&row.software_url),
        dsl::plist.eq(&row.plist),
    );
    common::upsert_into!(connection, exists, build_extends::table, row, key, changes)
}

/// Extra downloads of the given versions of a platform, oldest first.
pub fn extends_of(
    connection: &mut DbConnection,
    app: &str,
    platform: &str,
    versions: &[String],
) -> QueryResult<Vec<ExtendRow>> {
    if versions.is_empty() {
        return Ok(Vec::new());
    }
    extends_of_versions(connection, app, platform, versions)
}

#[diesel::declare_sql_function]
extern "SQL" {
    /// SQL `lower(text)` (SQLite and PostgreSQL).
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A `LIKE` pattern, lowercase, that finds `text` anywhere (`%`, `_` and `\` taken literally).
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Builds of a platform whose version or description holds `pattern` (a [`contains_pattern`]).
fn matching<'a>(
    app: &'a str,
    platform: &'a str,
    pattern: &'a str,
) -> builds::BoxedQuery<'a, common::db::MultiBackend> {
    use builds::dsl;
    dsl::builds
        .filter(dsl::app.eq(app))
        .filter(dsl::platform.eq(platform))
        .filter(
            lower(dsl::version)
                .like(pattern)
                .escape('\\')
                .or(lower(dsl::description).like(pattern).escape('\\')),
        )
        .into_boxed::<common::db::MultiBackend>()
}

/// How many builds of a platform hold `pattern` in their version or description.
pub fn count_matching(
    connection: &mut DbConnection,
    app: &str,
    platform: &str,
    pattern: &str,
) -> QueryResult<i64> {
    matching(app, platform, pattern)
        .count()
        .get_result(connection)
}

/// One page of the builds of a platform holding `pattern`, newest first (as [`newest`]).
pub fn newest_matching(
    connection: &mut DbConnection,
    app: &str,
    platform: &str,
    pattern: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<BuildRow>> {
    use builds::dsl;
    matching(app, platform, pattern)
        .order((
            dsl::build_time.desc(),
            dsl::update_time.desc(),
            dsl::version.desc(),
        ))
        .offset(offset)
        .limit(limit)
        .select(BuildRow::as_select())
        .load(connection)
}
