//! Clusters, hosts and their bindings: rows and queries. Host secrets are stored sealed (see
//! `common::crypto`); nothing here ever sees them in clear.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::{clusters, hosts};

/// Records created through the legacy (AOS) routes.
pub const SOURCE_AOS: &str = "aos";
/// Records owned by the CMDB (imports and admin routes); the AOS routes may not change them.
pub const SOURCE_CMDB: &str = "cmdb";

/// A cluster: hosts of one application in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = clusters)]
pub struct ClusterRow {
    pub id: String,
    pub name: String,
    pub remark: String,
    pub cluster_type: String,
    pub env_id: String,
    pub app_id: String,
    pub source: String,
    pub creator: String,
    pub create_time: NaiveDateTime,
    pub mender: String,
    pub update_time: NaiveDateTime,
}

/// A deployment target host of one product line in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = hosts, treat_none_as_null = true)]
pub struct HostRow {
    pub id: String,
    pub host_ip: String,
    pub host_name: String,
    pub remark: String,
    pub ssh_port: i32,
    pub ssh_user: String,
    pub ssh_password_sealed: Option<String>,
    pub ssh_private_key_sealed: Option<String>,
    pub host_key_fingerprint: Option<String>,
    pub product_line_id: String,
    pub env_id: String,
    pub source: String,
    pub creator: String,
    pub create_time: NaiveDateTime,
    pub mender: String,
    pub update_time: NaiveDateTime,
}

use common::db::contains_pattern;

/// Queries on clusters.
pub mod cluster_queries {
    use super::*;
    use crate::db::schema::clusters::dsl;

    pub fn find(connection: &mut DbConnection, id: &str) -> QueryResult<Option<ClusterRow>> {
        dsl::clusters
            .find(id)
            .select(ClusterRow::as_select())
            .first(connection)
            .optional()
    }

    pub fn find_many(
        connection: &mut DbConnection,
        ids: &[String],
    ) -> QueryResult<Vec<ClusterRow>> {
        dsl::clusters
            .filter(dsl::id.eq_any(ids))
            .select(ClusterRow::as_select())
            .load(connection)
    }

    /// A cluster of this name in this environment and application, other than `except_id`.
    pub fn find_same_name(
        connection: &mut DbConnection,
        env_id: &str,
        app_id: &str,
        name: &str,
        except_id: &str,
    ) -> QueryResult<Option<ClusterRow>> {
        dsl::clusters
            .filter(
                dsl::env_id
                    .eq(env_id)
                    .and(dsl::app_id.eq(app_id))
                    .and(dsl::name.eq(name))
                    .and(dsl::id.ne(except_id)),
            )
            .select(ClusterRow::as_select())
            .first(connection)
            .optional()
    }

    pub fn insert(connection: &mut DbConnection, row: &ClusterRow) -> QueryResult<()> {
        diesel::insert_into(dsl::clusters)
            .values(row)
            .execute(connection)
            .map(|_| ())
    }

    pub fn update(connection: &mut DbConnection, row: &ClusterRow) -> QueryResult<()> {
        diesel::update(dsl::clusters.find(&row.id))
            .set(row)
            .execute(connection)
            .map(|_| ())
    }

    pub fn delete(connection: &mut DbConnection, id: &str) -> QueryResult<usize> {
        diesel::delete(dsl::clusters.find(id)).execute(connection)
    }

    /// One page of clusters (newest first), filtered by application and a name fragment, and the
    /// total count of the filter.
    pub fn page(
        connection: &mut DbConnection,
        app_id: Option<&str>,
        name_fragment: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> QueryResult<(i64, Vec<ClusterRow>)> {
        let filtered = || {
            let mut query = dsl::clusters.into_boxed();
            if let Some(app_id) = app_id {
                query = query.filter(dsl::app_id.eq(app_id.to_owned()));
            }
            if let Some(fragment) = name_fragment {
                query = query.filter(dsl::name.like(contains_pattern(fragment)).escape('\\'));
            }
            query
        };
        common::newest_first_page!(connection, filtered, dsl, ClusterRow, offset, limit)
    }

    /// Clusters filtered by environment and/or application, oldest first.
    pub fn list(
        connection: &mut DbConnection,
        env_id: Option<&str>,
        app_id: Option<&str>,
    ) -> QueryResult<Vec<ClusterRow>> {
        let mut query = dsl::clusters.into_boxed();
        if let Some(env_id) = env_id {
            query = query.filter(dsl::env_id.eq(env_id.to_owned()));
        }
        if let Some(app_id) = app_id {
            query = query.filter(dsl::app_id.eq(app_id.to_owned()));
        }
        query
            .select(ClusterRow::as_select())
            .order((dsl::create_time.asc(), dsl::id.asc()))
            .load(connection)
    }
}

/// Queries on hosts.
pub mod host_queries {
    use super::*;
    use crate::db::schema::hosts::dsl;

    pub fn find(connection: &mut DbConnection, id: &str) -> QueryResult<Option<HostRow>> {
        dsl::hosts
            .find(id)
            .select(HostRow::as_select())
            .first(connection)
            .optional()
    }

    pub fn find_many(connection: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<HostRow>> {
        dsl::hosts
            .filter(dsl::id.eq_any(ids))
            .select(HostRow::as_select())
            .load(connection)
    }

    /// The host with this IP in this environment, other than `except_id`.
    pub fn find_by_env_ip(
        connection: &mut DbConnection,
        env_id: &str,
        host_ip: &str,
        except_id: &str,
    ) -> QueryResult<Option<HostRow>> {
        dsl::hosts
            .filter(
                dsl::env_id
                    .eq(env_id)
                    .and(dsl::host_ip.eq(host_ip))
                    .and(dsl::id.ne(except_id)),
            )
            .select(HostRow::as_select())
            .first(connection)
            .optional()
    }

    /// Hosts with this IP and SSH user, oldest first.
    pub fn find_by_ip_user(
        connection: &mut DbConnection,
        host_ip: &str,
        ssh_user: &str,
    ) -> QueryResult<Vec<HostRow>> {
        dsl::hosts
            .filter(dsl::host_ip.eq(host_ip).and(dsl::ssh_user.eq(ssh_user)))
            .select(HostRow::as_select())
            .order((dsl::create_time.asc(), dsl::id.asc()))
            .load(connection)
    }

    pub fn insert(connection: &mut DbConnection, row: &HostRow) -> QueryResult<()> {
        diesel::insert_into(dsl::hosts)
            .values(row)
            .execute(connection)
            .map(|_| ())
    }

    pub fn update(connection: &mut DbConnection, row: &HostRow) -> QueryResult<()> {
        diesel::update(dsl::hosts.find(&row.id))
            .set(row)
            .execute(connection)
            .map(|_| ())
    }

    pub fn pin_fingerprint(
        connection: &mut DbConnection,
        id: &str,
        fingerprint: &str,
    ) -> QueryResult<()> {
        diesel::update(dsl::hosts.find(id))
            .set(dsl::host_key_fingerprint.eq(fingerprint))
            .execute(connection)
            .map(|_| ())
    }

    /// Pins `fingerprint` unless a key is pinned already; answers the pinned one (None when the
    /// host does not exist).
    pub fn pin_first_fingerprint(
        connection: &mut DbConnection,
        id: &str,
        fingerprint: &str,
    ) -> QueryResult<Option<String>> {
        diesel::update(
            dsl::hosts
                .find(id)
                .filter(dsl::host_key_fingerprint.is_null()),
        )
        .set(dsl::host_key_fingerprint.eq(fingerprint))
        .execute(connection)?;
        dsl::hosts
            .find(id)
            .select(dsl::host_key_fingerprint)
            .first::<Option<String>>(connection)
            .optional()
            .map(Option::flatten)
    }

    pub fn delete(connection: &mut DbConnection, id: &str) -> QueryResult<usize> {
        diesel::delete(dsl::hosts.find(id)).execute(connection)
    }

    /// One page of hosts (newest first), filtered by a host-name fragment and product line.
    pub fn page(
        connection: &mut DbConnection,
        host_name_fragment: Option<&str>,
        product_line_id: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> QueryResult<(i64, Vec<HostRow>)> {
        let filtered = || {
            let mut query = dsl::hosts.into_boxed();
            if let Some(fragment) = host_name_fragment {
                query = query.filter(dsl::host_name.like(contains_pattern(fragment)).escape('\\'));
            }
            if let Some(product_line_id) = product_line_id {
                query = query.filter(dsl::product_line_id.eq(product_line_id.to_owned()));
            }
            query
        };
        common::newest_first_page!(connection, filtered, dsl, HostRow, offset, limit)
    }

    /// Every host, oldest first.
    pub fn list(connection: &mut DbConnection) -> QueryResult<Vec<HostRow>> {
        dsl::hosts
            .select(HostRow::as_select())
            .order((dsl::create_time.asc(), dsl::id.asc()))
            .load(connection)
    }

    /// Hosts of a product line and environment that are not bound to `cluster_id`.
    pub fn unbound_candidates(
        connection: &mut DbConnection,
        env_id: &str,
        product_line_id: &str,
        cluster_id: &str,
    ) -> QueryResult<Vec<HostRow>> {
        use crate::db::schema::cluster_hosts::dsl as bindings;
        let bound = bindings::cluster_hosts
            .filter(bindings::cluster_id.eq(cluster_id.to_owned()))
            .select(bindings::host_id);
        dsl::hosts
            .filter(
                dsl::env_id
                    .eq(env_id)
                    .and(dsl::product_line_id.eq(product_line_id))
                    .and(dsl::id.ne_all(bound)),
            )
            .select(HostRow::as_select())
            .order((dsl::create_time.asc(), dsl::id.asc()))
            .load(connection)
    }

    /// How many hosts reference an environment or a product line.
    pub fn count_in_env(connection: &mut DbConnection, env_id: &str) -> QueryResult<i64> {
        dsl::hosts
            .filter(dsl::env_id.eq(env_id))
            .count()
            .get_result(connection)
    }

    pub fn count_in_product_line(
        connection: &mut DbConnection,
        product_line_id: &str,
    ) -> QueryResult<i64> {
        dsl::hosts
            .filter(dsl::product_line_id.eq(product_line_id))
            .count()
            .get_result(connection)
    }
}

/// Queries on cluster–host bindings.
pub mod binding_queries {
    use super::*;
    use crate::db::schema::cluster_hosts::dsl;

    /// Binds when not bound yet (idempotent).
    pub fn bind(
        connection: &mut DbConnection,
        cluster_id: &str,
        host_id: &str,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        let exists = dsl::cluster_hosts
            .filter(dsl::cluster_id.eq(cluster_id).and(dsl::host_id.eq(host_id)))
            .count()
            .get_result::<i64>(connection)?;
        if exists == 0 {
            diesel::insert_into(dsl::cluster_hosts)
                .values((
                    dsl::cluster_id.eq(cluster_id),
                    dsl::host_id.eq(host_id),
                    dsl::create_time.eq(now),
                ))
                .execute(connection)?;
        }
        Ok(())
    }

    pub fn unbind(
        connection: &mut DbConnection,
        cluster_id: &str,
        host_id: &str,
    ) -> QueryResult<usize> {
        diesel::delete(
            dsl::cluster_hosts.filter(dsl::cluster_id.eq(cluster_id).and(dsl::host_id.eq(host_id))),
        )
        .execute(connection)
    }

    pub fn unbind_cluster(connection: &mut DbConnection, cluster_id: &str) -> QueryResult<usize> {
        diesel::delete(dsl::cluster_hosts.filter(dsl::cluster_id.eq(cluster_id)))
            .execute(connection)
    }

    /// Hosts bound to a cluster, in binding order.
    pub fn hosts_of_cluster(
        connection: &mut DbConnection,
        cluster_id: &str,
    ) -> QueryResult<Vec<HostRow>> {
        dsl::cluster_hosts
            .inner_join(hosts::table)
            .filter(dsl::cluster_id.eq(cluster_id))
            .order((dsl::create_time.asc(), dsl::host_id.asc()))
            .select(HostRow::as_select())
            .load(connection)
    }

    /// (host id, cluster) of every binding of these hosts.
    pub fn clusters_of_hosts(
        connection: &mut DbConnection,
        host_ids: &[String],
    ) -> QueryResult<Vec<(String, ClusterRow)>> {
        dsl::cluster_hosts
            .inner_join(clusters::table)
            .filter(dsl::host_id.eq_any(host_ids))
            .order((dsl::create_time.asc(), dsl::cluster_id.asc()))
            .select((dsl::host_id, ClusterRow::as_select()))
            .load(connection)
    }
}

/// Clusters that reference an environment or an application.
pub fn clusters_referencing(
    connection: &mut DbConnection,
    env_id: Option<&str>,
    app_id: Option<&str>,
) -> QueryResult<Vec<ClusterRow>> {
    cluster_queries::list(connection, env_id, app_id)
}
