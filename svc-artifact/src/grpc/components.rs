//! Components and the schemas of their methods: proto ⇄ rules.

use super::{Actor, ArtifactGrpc, MethodListing, Status, node_to_proto, pb};

fn method_to_proto(listing: MethodListing) -> pb::Method {
    let builtin = listing.method.builtin;
    let has_params = !listing.params.is_empty();
    let (file_id, version_id, entrypoint, timeout_s) = match listing.version {
        Some(version) => (
            version.file_id,
            version.id,
            version.entrypoint,
            u32::try_from(version.timeout_s).unwrap_or(0),
        ),
        None => Default::default(),
    };
    pb::Method {
        id: listing.method.id,
        name: listing.method.name,
        remark: listing.method.remark,
        file_id,
        version_id,
        entrypoint,
        timeout_s,
        is_display_script: builtin,
        params: listing.params.into_iter().map(node_to_proto).collect(),
        has_params,
    }
}

impl ArtifactGrpc {
    pub(super) async fn list_components(
        &self,
        actor: Actor,
        _: pb::ListComponentsRequest,
    ) -> Result<pb::ListComponentsResponse, Status> {
        let listings = self.service.list_components(&actor).await?;
        Ok(pb::ListComponentsResponse {
            components: listings
                .into_iter()
                .map(|listing| pb::Component {
                    id: listing.component.id,
                    name: listing.component.name,
                    remark: listing.component.remark,
                    methods: listing.methods.into_iter().map(method_to_proto).collect(),
                })
                .collect(),
        })
    }

    pub(super) async fn method_schema(
        &self,
        actor: Actor,
        body: pb::MethodRequest,
    ) -> Result<pb::ConfigSchema, Status> {
        let listing = self.service.method(&actor, &body.method_id).await?;
        Ok(pb::ConfigSchema {
            subject_id: listing.method.id.clone(),
            nodes: listing.params.into_iter().map(node_to_proto).collect(),
            target_name: String::new(),
        })
    }
}
