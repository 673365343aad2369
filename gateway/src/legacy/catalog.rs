//! Catalog reads of the contract: 1.1 / 3.1 product lines, 1.2 / 3.2 applications of a product
//! line, 5.1 / 8.1.2 environments.

use proto::resource::v1 as pb;

use super::{Answer, IdPath, ok_each};
use crate::{
    clients::{Call, reply},
    convert::catalog::{EnvItem, IdName},
};

/// 1.1 / 3.1 `GET /api/app/productline/select`.
pub async fn product_line_select(call: Call) -> Answer {
    let request = pb::ListProductLinesRequest {};
    let answer = reply(call.resource().list_product_lines(request)).await?;
    ok_each(answer.product_lines, IdName::from)
}

/// 1.2 / 3.2 `GET /api/app/applications/{id}/select_by_pl`.
pub async fn applications_of_product_line(call: Call, product_line_id: IdPath) -> Answer {
    let request = pb::ListApplicationsRequest {
        product_line_id: Some(product_line_id.into_inner()),
    };
    let answer = reply(call.resource().list_applications(request)).await?;
    ok_each(answer.applications, IdName::from)
}

/// 5.1 / 8.1.2 `GET /api/resource/envs/select`.
pub async fn env_select(call: Call) -> Answer {
    let answer = reply(call.resource().list_envs(pb::ListEnvsRequest {})).await?;
    ok_each(answer.envs, |env| EnvItem::from_proto(env, &call.times))
}
