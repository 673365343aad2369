//! Batch name lookups for other services: the names shown beside ids in answers (`env_name`,
//! `product_line_name`, ...) resolved in one call per answer, kept in the read cache under the
//! catalog's generation (lookups of at most [`MAX_CACHED_IDS`] ids).

pub use common::names::{NameLookup, Names};
use common::{auth::Claims, read_cache::RESOURCE_CATALOG};

use super::{ResourceResult, ResourceService, require_reader};
use crate::db::models::catalog::{applications, envs, modules, product_lines};

/// Most ids a lookup kept in the read cache names (larger ones are read through).
pub const MAX_CACHED_IDS: usize = 256;

impl ResourceService {
    pub async fn lookup_names(&self, actor: &Claims, lookup: NameLookup) -> ResourceResult<Names> {
        require_reader(actor)?;
        let ids = lookup.env_ids.len()
            + lookup.application_ids.len()
            + lookup.product_line_ids.len()
            + lookup.module_ids.len();
        let read = format!("names\n{lookup:?}");
        let load = self.database.run(move |connection| {
            let mut names = Names::default();
            for id in lookup.env_ids {
                if let Some(row) = envs::find(connection, &id)? {
                    names.envs.insert(id, row.name);
                }
            }
            for id in lookup.application_ids {
                if let Some(row) = applications::find(connection, &id)? {
                    names
                        .application_product_lines
                        .insert(id.clone(), row.product_line_id);
                    names.applications.insert(id, row.name);
                }
            }
            for id in lookup.product_line_ids {
                if let Some(row) = product_lines::find(connection, &id)? {
                    names.product_lines.insert(id, row.name);
                }
            }
            for id in lookup.module_ids {
                if let Some(row) = modules::find(connection, &id)? {
                    names.modules.insert(id, row.name);
                }
            }
            Ok(names)
        });
        if ids > MAX_CACHED_IDS {
            return load.await;
        }
        self.reads
            .read_through(&[RESOURCE_CATALOG], &read, load)
            .await
    }
}
