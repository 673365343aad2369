//! `row_queries!`: the diesel queries of one table, each stated once in a line of a table, so
//! the services' models do not write the same `filter / order / select / load` chain again.

/// Defines, in the calling module, queries on one table of the caller's schema, run on a
/// [`DbConnection`](crate::db::DbConnection) (either backend). The caller has
/// `diesel::prelude::*` and the table's schema module in scope (`use crate::db::schema::runs;`).
///
/// ```text
/// common::row_queries! { runs, RunRow;
///     find, insert, insert_all as insert_runs;
///     /// The newest run of an instance.
///     pub fn latest_of_instance(instance_id: &str) -> first
///         where instance_id.eq(instance_id) order create_time.desc(), id.desc();
/// }
/// ```
///
/// A line of standard queries names some of: `find` (the row of a primary key, if any),
/// `find_many` (the rows of `ids` found), `insert`, `insert_all` (one statement a row: batch
/// inserts are not portable across the multi-backend connection), `update` (rewrites the row
/// `row.id` from its `AsChangeset`), `upsert` (`insert`, or `update` when the row exists),
/// `touch` (who changed the row `id` last, and when) and
/// `delete` (the row of a primary key; answers how many went), each renamed with `as` if need be.
///
/// A stated query is `fn name(parameters) -> kind` and then, each optional, in this order:
/// - `from function(arguments)` the query the others start from, when not the whole table;
/// - `where column.op(value)...,` the filters every call applies (`column` of this table);
/// - `when Some(bound) = option => column.op(bound)...,` the filters applied when an option is
///   given (the query is then boxed);
/// - `set column.eq(value),` the columns an update writes;
/// - `order column.asc(), column.desc()` the order of the rows.
///
/// The kinds and what they answer: `first` (`Option<Row>`, the first row in order), `all`
/// (`Vec<Row>`), `at_most(limit)` (the first `limit` rows in order), `slice(offset, limit)` (the
/// rows of one page in order), `count` (`i64`), `newest_page(offset, limit)` (the count of the
/// filters and the rows of one page, newest first: `create_time`, then `id`, descending),
/// `delete` (how many rows went), `keys(column)` (`Vec<String>`, the text `column` of the rows in
/// order), `update` (nothing), `update_count` (how many rows changed), `update_one` (whether one row
/// changed), `replace(rows)` (deletes the filtered rows, then inserts `rows`).
#[macro_export]
macro_rules! row_queries {
    ($table:ident, $row:ty; $($items:tt)*) => {
        $crate::row_queries!(@items $table, $row; $($items)*);
    };

    (@items $table:ident, $row:ty;) => {};
    (@items $table:ident, $row:ty;
        $(#[$attr:meta])*
        $vis:vis fn $name:ident($($param:ident: $param_type:ty),* $(,)?)
            -> $kind:ident $(($($kind_arg:ident),*))?
            $(from $source:ident($($source_arg:expr),*))?
            $(where $($column:ident $(.$op:ident $op_args:tt)+),+)?
            $(when $(Some($bound:ident) = $optional:expr
                => $when_column:ident $(.$when_op:ident $when_args:tt)+),+)?
            $(set $($set_column:ident $(.$set_op:ident $set_args:tt)+),+)?
            $(order $($order_column:ident.$direction:ident()),+)?;
        $($rest:tt)*
    ) => {
        $(#[$attr])*
        $vis fn $name(
            connection: &mut $crate::db::DbConnection,
            $($param: $param_type),*
        ) -> diesel::QueryResult<$crate::row_queries!(@answer $kind, $row)> {
            let filtered = || {
                $crate::row_queries!(@filtered $table;
                    [$($source($($source_arg),*))?]
                    [$($($column $(.$op $op_args)+),+)?]
                    [$($(Some($bound) = $optional => $when_column $(.$when_op $when_args)+),+)?])
            };
            $crate::row_queries!(@run $kind $(($($kind_arg),*))?,
                connection, filtered, $table, $row,
                set [$($($set_column $(.$set_op $set_args)+),+)?],
                order [$($($order_column $direction),+)?])
        }
        $crate::row_queries!(@items $table, $row; $($rest)*);
    };
    (@items $table:ident, $row:ty; $($query:ident $(as $name:ident)?),+; $($rest:tt)*) => {
        $($crate::row_queries!(@standard $query [$($name)?] $table, $row);)+
        $crate::row_queries!(@items $table, $row; $($rest)*);
    };

    (@answer first, $row:ty) => { Option<$row> };
    (@answer all, $row:ty) => { Vec<$row> };
    (@answer at_most, $row:ty) => { Vec<$row> };
    (@answer slice, $row:ty) => { Vec<$row> };
    (@answer count, $row:ty) => { i64 };
    (@answer keys, $row:ty) => { Vec<String> };
    (@answer newest_page, $row:ty) => { (i64, Vec<$row>) };
    (@answer delete, $row:ty) => { usize };
    (@answer update, $row:ty) => { () };
    (@answer update_count, $row:ty) => { usize };
    (@answer update_one, $row:ty) => { bool };
    (@answer replace, $row:ty) => { () };

    (@source $table:ident, []) => { $table::table };
    (@source $table:ident, [$($source:tt)+]) => { $($source)+ };

    (@filtered $table:ident; [$($source:tt)*]
        [$($column:ident $(.$op:ident $op_args:tt)+),*] []
    ) => {{
        let source = $crate::row_queries!(@source $table, [$($source)*]);
        source $(.filter($table::$column $(.$op $op_args)+))*
    }};
    (@filtered $table:ident; [$($source:tt)*] [$($column:ident $(.$op:ident $op_args:tt)+),*]
        [$(Some($bound:ident) = $optional:expr
            => $when_column:ident $(.$when_op:ident $when_args:tt)+),+]
    ) => {{
        let source = $crate::row_queries!(@source $table, [$($source)*]);
        let mut query = source
            $(.filter($table::$column $(.$op $op_args)+))*
            .into_boxed::<$crate::db::MultiBackend>();
        $(
            if let Some($bound) = $optional {
                query = query.filter($table::$when_column $(.$when_op $when_args)+);
            }
        )+
        query
    }};

    (@order $query:expr, $table:ident, []) => { $query };
    (@order $query:expr, $table:ident, [$column:ident $direction:ident]) => {
        $query.order($table::$column.$direction())
    };
    (@order $query:expr, $table:ident, [$($column:ident $direction:ident),+]) => {
        $query.order(($($table::$column.$direction()),+))
    };

    (@set $table:ident, [@changeset $changes:ident]) => { $changes };
    (@set $table:ident, [$column:ident $(.$op:ident $args:tt)+]) => {
        $table::$column $(.$op $args)+
    };
    (@set $table:ident, [$($column:ident $(.$op:ident $args:tt)+),+]) => {
        ($($table::$column $(.$op $args)+),+)
    };

    (@run first, $connection:ident, $filtered:ident, $table:ident, $row:ty,
        set [], order [$($order:tt)*]) => {{
        let query = $crate::row_queries!(@order $filtered(), $table, [$($order)*]);
        query.select(<$row>::as_select()).first($connection).optional()
    }};
    (@run all, $connection:ident, $filtered:ident, $table:ident, $row:ty,
        set [], order [$($order:tt)*]) => {{
        let query = $crate::row_queries!(@order $filtered(), $table, [$($order)*]);
        query.select(<$row>::as_select()).load($connection)
    }};
    (@run at_most($limit:ident), $connection:ident, $filtered:ident, $table:ident, $row:ty,
        set [], order [$($order:tt)*]) => {{
        let query = $crate::row_queries!(@order $filtered(), $table, [$($order)*]);
        query.limit($limit).select(<$row>::as_select()).load($connection)
    }};
    (@run slice($offset:ident, $limit:ident), $connection:ident, $filtered:ident, $table:ident,
        $row:ty, set [], order [$($order:tt)*]) => {{
        let query = $crate::row_queries!(@order $filtered(), $table, [$($order)*]);
        query
            .offset($offset)
            .limit($limit)
            .select(<$row>::as_select())
            .load($connection)
    }};
    (@run keys($column:ident), $connection:ident, $filtered:ident, $table:ident, $row:ty,
        set [], order [$($order:tt)*]) => {{
        let query = $crate::row_queries!(@order $filtered(), $table, [$($order)*]);
        query.select($table::$column).load($connection)
    }};
    (@run count, $connection:ident, $filtered:ident, $table:ident, $row:ty,
        set [], order []) => {
        $filtered().count().get_result($connection)
    };
    (@run newest_page($offset:ident, $limit:ident), $connection:ident, $filtered:ident,
        $table:ident, $row:ty, set [], order []) => {{
        let count = $filtered().count().get_result::<i64>($connection)?;
        let query = $filtered().order(($table::create_time.desc(), $table::id.desc()));
        let rows = query
            .offset($offset)
            .limit($limit)
            .select(<$row>::as_select())
            .load($connection)?;
        Ok((count, rows))
    }};
    (@run delete, $connection:ident, $filtered:ident, $table:ident, $row:ty,
        set [], order []) => {
        diesel::delete($filtered()).execute($connection)
    };
    (@run update, $connection:ident, $filtered:ident, $table:ident, $row:ty,
        set [$($set:tt)+], order []) => {
        diesel::update($filtered())
            .set($crate::row_queries!(@set $table, [$($set)+]))
            .execute($connection)
            .map(|_| ())
    };
    (@run update_count, $connection:ident, $filtered:ident, $table:ident, $row:ty,
        set [$($set:tt)+], order []) => {
        diesel::update($filtered())
            .set($crate::row_queries!(@set $table, [$($set)+]))
            .execute($connection)
    };
    (@run update_one, $connection:ident, $filtered:ident, $table:ident, $row:ty,
        set [$($set:tt)+], order []) => {
        diesel::update($filtered())
            .set($crate::row_queries!(@set $table, [$($set)+]))
            .execute($connection)
            .map(|updated| updated == 1)
    };
    (@run replace($rows:ident), $connection:ident, $filtered:ident, $table:ident, $row:ty,
        set [], order []) => {{
        diesel::delete($filtered()).execute($connection)?;
        for row in $rows {
            diesel::insert_into($table::table)
                .values(row)
                .execute($connection)?;
        }
        Ok(())
    }};

    (@standard $query:ident [] $table:ident, $row:ty) => {
        $crate::row_queries!(@standard $query [$query] $table, $row);
    };
    (@standard find [$name:ident] $table:ident, $row:ty) => {
        /// The row of this primary key, if any.
        pub fn $name(
            connection: &mut $crate::db::DbConnection,
            id: &str,
        ) -> diesel::QueryResult<Option<$row>> {
            $table::table
                .find(id)
                .select(<$row>::as_select())
                .first(connection)
                .optional()
        }
    };
    (@standard find_many [$name:ident] $table:ident, $row:ty) => {
        /// The rows of `ids` found.
        pub fn $name(
            connection: &mut $crate::db::DbConnection,
            ids: &[String],
        ) -> diesel::QueryResult<Vec<$row>> {
            $table::table
                .filter($table::id.eq_any(ids))
                .select(<$row>::as_select())
                .load(connection)
        }
    };
    (@standard insert [$name:ident] $table:ident, $row:ty) => {
        /// Inserts the row.
        pub fn $name(
            connection: &mut $crate::db::DbConnection,
            row: &$row,
        ) -> diesel::QueryResult<()> {
            diesel::insert_into($table::table)
                .values(row)
                .execute(connection)
                .map(|_| ())
        }
    };
    (@standard insert_all [$name:ident] $table:ident, $row:ty) => {
        /// Inserts the rows, one statement a row (batch inserts are not portable across the
        /// multi-backend connection).
        pub fn $name(
            connection: &mut $crate::db::DbConnection,
            rows: &[$row],
        ) -> diesel::QueryResult<()> {
            for row in rows {
                diesel::insert_into($table::table)
                    .values(row)
                    .execute(connection)?;
            }
            Ok(())
        }
    };
    (@standard update [$name:ident] $table:ident, $row:ty) => {
        /// Rewrites the row with this row's id.
        pub fn $name(
            connection: &mut $crate::db::DbConnection,
            row: &$row,
        ) -> diesel::QueryResult<()> {
            let filtered = || $table::table.filter($table::id.eq(&row.id));
            $crate::row_queries!(@run update, connection, filtered, $table, $row,
                set [@changeset row], order [])
        }
    };
    (@standard upsert [$name:ident] $table:ident, $row:ty) => {
        /// Inserts the row, or rewrites the row with its id when there is one (also when a
        /// concurrent transaction inserted it meanwhile).
        pub fn $name(
            connection: &mut $crate::db::DbConnection,
            row: &$row,
        ) -> diesel::QueryResult<()> {
            let exists = $table::table
                .find(&row.id)
                .count()
                .get_result::<i64>(connection)?
                > 0;
            $crate::upsert_into!(connection, exists, $table::table, row, &row.id, row)
        }
    };
    (@standard touch [$name:ident] $table:ident, $row:ty) => {
        /// Records who changed the row last, and when.
        pub fn $name(
            connection: &mut $crate::db::DbConnection,
            id: &str,
            mender: &str,
            now: chrono::NaiveDateTime,
        ) -> diesel::QueryResult<()> {
            diesel::update($table::table.find(id))
                .set(($table::mender.eq(mender), $table::update_time.eq(now)))
                .execute(connection)
                .map(|_| ())
        }
    };
    (@standard delete [$name:ident] $table:ident, $row:ty) => {
        /// Deletes the row of this primary key; answers how many rows went (0 or 1).
        pub fn $name(
            connection: &mut $crate::db::DbConnection,
            id: &str,
        ) -> diesel::QueryResult<usize> {
            diesel::delete($table::table.find(id)).execute(connection)
        }
    };
}
