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

    common::row_queries! { clusters, ClusterRow;
        find, find_many, insert, update, delete;
        /// A cluster of this name in this environment and application, other than `except_id`.
        pub fn find_same_name(env_id: &str, app_id: &str, name: &str, except_id: &str) -> first
            where env_id.eq(env_id), app_id.eq(app_id), name.eq(name), id.ne(except_id);
        /// One page of clusters (newest first), filtered by application and a name fragment,
        /// and the total count of the filter.
        pub fn page(
            app_id: Option<&str>, name_fragment: Option<&str>, offset: i64, limit: i64,
        ) -> newest_page(offset, limit)
            when Some(app_id) = app_id => app_id.eq(app_id),
                Some(fragment) = name_fragment
                    => name.like(contains_pattern(fragment)).escape('\\');
        /// Clusters filtered by environment and/or application, oldest first.
        pub fn list(env_id: Option<&str>, app_id: Option<&str>) -> all
            when Some(env_id) = env_id => env_id.eq(env_id),
                Some(app_id) = app_id => app_id.eq(app_id)
            order create_time.asc(), id.asc();
    }
}

/// Queries on hosts.
pub mod host_queries {
    use super::*;
    use crate::db::schema::hosts::dsl;

    common::row_queries! { hosts, HostRow;
        find, find_many, insert, update, delete;
        /// The host with this IP in this environment, other than `except_id`.
        pub fn find_by_env_ip(env_id: &str, host_ip: &str, except_id: &str) -> first
            where env_id.eq(env_id), host_ip.eq(host_ip), id.ne(except_id);
        /// Hosts with this IP and SSH user, oldest first.
        pub fn find_by_ip_user(host_ip: &str, ssh_user: &str) -> all
            where host_ip.eq(host_ip), ssh_user.eq(ssh_user) order create_time.asc(), id.asc();
        /// Pins the host key a host answers with.
        pub fn pin_fingerprint(id: &str, fingerprint: &str) -> update
            where id.eq(id) set host_key_fingerprint.eq(fingerprint);
        /// One page of hosts (newest first), filtered by a host-name fragment and product line.
        pub fn page(
            host_name_fragment: Option<&str>, product_line_id: Option<&str>, offset: i64,
            limit: i64,
        ) -> newest_page(offset, limit)
            when Some(fragment) = host_name_fragment
                    => host_name.like(contains_pattern(fragment)).escape('\\'),
                Some(product_line_id) = product_line_id => product_line_id.eq(product_line_id);
        /// Every host, oldest first.
        pub fn list() -> all order create_time.asc(), id.asc();
        /// How many hosts reference an environment.
        pub fn count_in_env(env_id: &str) -> count where env_id.eq(env_id);
        /// How many hosts reference a product line.
        pub fn count_in_product_line(product_line_id: &str) -> count
            where product_line_id.eq(product_line_id);
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
}

/// Queries on cluster–host bindings.
pub mod binding_queries {
    use super::*;
    use crate::db::schema::cluster_hosts::{self, dsl};

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

    common::row_queries! { cluster_hosts, HostRow;
        /// Unbinds a host from a cluster; answers how many bindings went (0 or 1).
        pub fn unbind(cluster_id: &str, host_id: &str) -> delete
            where cluster_id.eq(cluster_id), host_id.eq(host_id);
        /// Unbinds every host of a cluster; answers how many bindings went.
        pub fn unbind_cluster(cluster_id: &str) -> delete where cluster_id.eq(cluster_id);
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
