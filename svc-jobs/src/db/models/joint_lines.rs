//! Joint lines (DAGs over instances) and their nodes: rows and queries.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use super::contains_pattern;
use crate::db::schema::{joint_line_nodes, joint_lines};

/// A joint line.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = joint_lines)]
pub struct JointLineRow {
    pub id: String,
    pub name: String,
    pub remark: String,
    pub product_line_id: String,
    pub creator: String,
    pub create_time: NaiveDateTime,
    pub mender: Option<String>,
    pub update_time: NaiveDateTime,
}

/// One node of a joint line: an instance at a sequence number, its parents, and where the
/// canvas drew it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = joint_line_nodes)]
pub struct JointNodeRow {
    pub joint_line_id: String,
    pub sequence: i64,
    pub instance_id: String,
    /// JSON array of parent sequence numbers.
    pub parents: String,
    pub canvas_top: f64,
    pub canvas_left: f64,
}

common::row_queries! { joint_lines, JointLineRow;
    find, insert, touch;
    /// One page of joint lines (newest first) by name fragment and product line.
    pub fn page(
        name_fragment: Option<&str>, product_line_id: Option<&str>, offset: i64, limit: i64,
    ) -> newest_page(offset, limit)
        when Some(fragment) = name_fragment => name.like(contains_pattern(fragment)).escape('\\'),
            Some(product_line_id) = product_line_id => product_line_id.eq(product_line_id);
}

common::row_queries! { joint_line_nodes, JointNodeRow;
    /// The nodes of a joint line in order.
    pub fn nodes(joint_line_id: &str) -> all
        where joint_line_id.eq(joint_line_id) order sequence.asc();
    /// Replaces every node of a joint line.
    pub fn replace_nodes(joint_line_id: &str, nodes: &[JointNodeRow]) -> replace(nodes)
        where joint_line_id.eq(joint_line_id);
}

/// Joint lines that hold an instance, by id (the same order on every backend).
pub fn holding_instance(
    connection: &mut DbConnection,
    instance_id: &str,
) -> QueryResult<Vec<String>> {
    joint_line_nodes::table
        .filter(joint_line_nodes::instance_id.eq(instance_id))
        .select(joint_line_nodes::joint_line_id)
        .distinct()
        .order(joint_line_nodes::joint_line_id.asc())
        .load(connection)
}
