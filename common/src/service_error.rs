//! The conversions every service's error enum has: a refused input (`LimitError`) is its
//! `Invalid { field, message }`, a failed query is its `Database(DbError::Query(_))`.

/// Implements `From<LimitError>` and `From<diesel::result::Error>` for a service error enum with
/// the variants `Invalid { field, message }` (`field` a `&'static str` or a `String`) and
/// `Database(DbError)`: `common::service_error_conversions!(JobsError);`.
#[macro_export]
macro_rules! service_error_conversions {
    ($error:ident) => {
        impl From<$crate::limits::LimitError> for $error {
            fn from(error: $crate::limits::LimitError) -> Self {
                $error::Invalid {
                    field: error.field.into(),
                    message: error.message,
                }
            }
        }

        impl From<::diesel::result::Error> for $error {
            fn from(error: ::diesel::result::Error) -> Self {
                $error::Database($crate::db::DbError::Query(error))
            }
        }
    };
}
