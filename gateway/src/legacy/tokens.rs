//! API tokens (issue 20): `POST /api/auth/tokens` makes one for the caller and answers its secret
//! once, `GET /api/auth/tokens` lists the caller's (admins: everyone's), `DELETE
//! /api/auth/tokens/{id}` revokes one. svc-resource holds the rules (a token cannot make tokens,
//! roles within the creator's, limits); the console's tokens page calls these same routes.

use proto::{ErrorReason, resource::v1 as pb};

use crate::{
    body::LegacyJson,
    clients::{Call, reply},
    convert::{
        catalog::RecordId,
        tokens::{CreatedToken, TokenBody, TokenItem},
    },
    error::ApiError,
};

use super::{Answer, IdPath, ok, ok_each};

pub async fn create_token(call: Call, LegacyJson(body): LegacyJson<TokenBody>) -> Answer {
    let request = pb::CreateApiTokenRequest {
        name: body.name,
        expires_in_days: body.expires_in_days,
        roles: body.roles,
    };
    let created = reply(call.resource().create_api_token(request)).await?;
    let answer = CreatedToken::from_proto(created, &call.times).ok_or_else(|| {
        ApiError::new(
            ErrorReason::InternalError,
            "the resource service answered no token",
        )
    })?;
    ok(answer)
}

pub async fn list_tokens(call: Call) -> Answer {
    let answer = reply(call.resource().list_api_tokens(pb::ListApiTokensRequest {})).await?;
    ok_each(answer.tokens, |token| {
        TokenItem::from_proto(token, &call.times)
    })
}

pub async fn revoke_token(call: Call, id: IdPath) -> Answer {
    let request = pb::DeleteRequest {
        id: id.into_inner(),
    };
    let answer = reply(call.resource().revoke_api_token(request)).await?;
    ok(RecordId { id: answer.id })
}
