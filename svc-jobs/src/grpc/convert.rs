//! Domain values that answer as proto messages without a rule of their own.

use proto::artifact::v1 as artifact_pb;

use crate::domain::ConfigNode;

/// A schema node as the answer of 5.8.2.3 carries it.
pub(super) fn config_node_to_proto(node: ConfigNode) -> artifact_pb::ConfigNode {
    artifact_pb::ConfigNode {
        id: node.id,
        key: node.key,
        r#type: node.node_type,
        remark: node.remark,
        default: node.default,
        require: node.require,
        rule: node.rule,
        policy: node.policy,
        parent_id: node.parent_id,
        children: node
            .children
            .into_iter()
            .map(config_node_to_proto)
            .collect(),
    }
}
