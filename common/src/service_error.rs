//! What every service's error enum shares: its first variants (`Missing`, `Invalid`, declared by
//! [`rules_error!`]) and its conversions: a refused input (`LimitError`) is its
//! `Invalid { field, message }`, a failed query is its `Database(DbError::Query(_))`, a refused
//! role (`Forbidden`) its `Forbidden(message)`.

/// Declares a service's error enum (its attributes derive `thiserror::Error`) that starts with the
/// variants every service's rules answer alike, `Missing { field }` ("{field} is required") and
/// `Invalid { field, message }` ("{field} {message}"), `field` of the type named after the enum,
/// then the service's own variants; and implements [`service_error_conversions!`] for it
/// (with `Forbidden(message)` for a refused role when `forbidden` is given):
/// `common::rules_error! { #[derive(Debug, thiserror::Error)] pub enum JobsError (field: &'static
/// str, forbidden) { ... } }` (the derive is the caller's: the attributes it reads are).
#[macro_export]
macro_rules! rules_error {
    (
        $(#[$meta:meta])*
        $vis:vis enum $error:ident (field: $field:ty $(, $forbidden:ident)?) {
            $($variants:tt)*
        }
    ) => {
        $(#[$meta])*
        $vis enum $error {
            #[error("{field} is required")]
            Missing { field: $field },
            #[error("{field} {message}")]
            Invalid { field: $field, message: String },
            $($variants)*
        }

        $crate::service_error_conversions!($error $(, $forbidden)?);
    };
}

/// Implements `From<LimitError>` and `From<diesel::result::Error>` for a service error enum with
/// the variants `Invalid { field, message }` (`field` a `&'static str` or a `String`) and
/// `Database(DbError)`: `common::service_error_conversions!(JobsError);`. With `, forbidden` also
/// `From<roles::Forbidden>`, for an enum with the variant `Forbidden(String)`.
#[macro_export]
macro_rules! service_error_conversions {
    ($error:ident, forbidden) => {
        $crate::service_error_conversions!($error);

        impl From<$crate::roles::Forbidden> for $error {
            fn from(error: $crate::roles::Forbidden) -> Self {
                $error::Forbidden(error.0)
            }
        }
    };
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
