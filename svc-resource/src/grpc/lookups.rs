//! Names of records by id, for other services' answers: proto ⇄ rules.

use super::{Claims, NameLookup, ResourceGrpc, Status, pb};

impl ResourceGrpc {
    pub(super) async fn lookup_names(
        &self,
        actor: Claims,
        body: pb::LookupNamesRequest,
    ) -> Result<pb::LookupNamesResponse, Status> {
        let names = self
            .service
            .lookup_names(
                &actor,
                NameLookup {
                    env_ids: body.env_ids,
                    application_ids: body.application_ids,
                    product_line_ids: body.product_line_ids,
                    module_ids: body.module_ids,
                },
            )
            .await?;
        Ok(pb::LookupNamesResponse {
            envs: names.envs,
            applications: names.applications,
            product_lines: names.product_lines,
            modules: names.modules,
            application_product_lines: names.application_product_lines,
        })
    }
}
