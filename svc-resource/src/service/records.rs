//! The records the rules answer with and the filters they take, as the gRPC adapter sees them:
//! it talks to the rules only and never reaches into `db`.

pub use crate::db::models::{
    catalog::{ApplicationRow, ClusterTypeRow, EnvRow, ModuleRow, ProductLineRow},
    resources::HostRow,
    users::UserRow,
};
