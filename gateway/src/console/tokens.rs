//! The console's API tokens page (issue 20): the caller's tokens (an admin's: everyone's, with
//! the owner), a form to create one with some of the caller's roles (its secret is shown once, by
//! the page's script, from the route's answer: never rendered by the server), and a revoke button
//! with a confirmation. The script calls the JSON routes (`/api/auth/tokens`) like any client;
//! the form is not shown to a caller that is itself an API token (the service refuses it anyway).

use actix_web::{HttpRequest, HttpResponse, http::StatusCode};
use common::auth::Role;
use proto::resource::v1 as pb;
use serde::Serialize;

use super::{
    messages::Catalogue,
    signed_in_frame,
    view::{Frame, render},
};
use crate::{
    clients::{Call, reply},
    convert::tokens::TokenItem,
    error::ApiError,
    legacy::appinhouse_pages::html,
};

/// The page's messages: key, English, 简体中文.
pub const MESSAGES: Catalogue = &[
    ("nav_tokens", "API tokens", "API 令牌"),
    ("tokens_title", "API tokens", "API 令牌"),
    (
        "tokens_intro",
        "A token lets the AOS platform or a CI job call TAD as you, with the roles you give it: send it as Authorization: Bearer tad_...",
        "令牌让 AOS 平台或 CI 任务以你的身份、按你授予的角色调用 TAD：以 Authorization: Bearer tad_... 发送。",
    ),
    ("token_create", "Create a token", "创建令牌"),
    ("token_name", "Name", "名称"),
    ("token_expires_in_days", "Expires in (days)", "有效期（天）"),
    ("token_roles", "Roles", "角色"),
    ("token_owner", "Owner", "所有者"),
    ("token_created", "Created", "创建时间"),
    ("token_expires_at", "Expires", "过期时间"),
    ("token_last_used", "Last used", "最近使用"),
    ("token_never_used", "never", "从未"),
    ("token_expired", "expired", "已过期"),
    ("token_revoke", "Revoke", "吊销"),
    (
        "token_confirm_revoke",
        "Revoke this token? Every call with it is refused at once.",
        "确定吊销此令牌？使用它的调用将立即被拒绝。",
    ),
    ("token_revoked", "Token revoked", "令牌已吊销"),
    ("no_tokens", "No token yet.", "尚无令牌。"),
    (
        "token_shown_once",
        "Copy this token now: it is shown only this once and cannot be read again.",
        "请立即复制此令牌：它只显示这一次，之后无法再查看。",
    ),
    ("token_copy", "Copy", "复制"),
    ("token_copied", "Copied", "已复制"),
    (
        "token_by_token",
        "You are signed in with an API token: only a password session may create tokens.",
        "你正在使用 API 令牌访问：只有密码登录的会话才能创建令牌。",
    ),
];

/// A role the caller may give a token.
#[derive(Debug, Serialize)]
struct RoleOption {
    name: &'static str,
}

#[derive(Debug, Serialize)]
struct TokensPage {
    #[serde(flatten)]
    frame: Frame,
    tokens: Vec<TokenItem>,
    /// An admin sees everyone's tokens, with their owner.
    show_owner: bool,
    /// Roles of the create form: the caller's (an admin's: all). Empty: no form.
    roles: Vec<RoleOption>,
    /// The caller is an API token (no form, a note instead).
    by_token: bool,
}

/// The roles a user holding `held` may give a token (an admin holds every role).
fn grantable(held: &[String]) -> Vec<RoleOption> {
    let admin = held.iter().any(|role| role == Role::Admin.as_str());
    Role::ALL
        .into_iter()
        .filter(|role| admin || held.iter().any(|name| name == role.as_str()))
        .map(|role| RoleOption {
            name: role.as_str(),
        })
        .collect()
}

/// `GET /console/tokens`.
pub async fn tokens_page(request: HttpRequest, call: Call) -> Result<HttpResponse, ApiError> {
    let answer = reply(call.resource().list_api_tokens(pb::ListApiTokensRequest {})).await?;
    let claims = &call.caller.claims;
    let by_token = claims.api_token.is_some();
    let page = TokensPage {
        frame: signed_in_frame(&request, &call.caller, "tokens")?,
        tokens: answer
            .tokens
            .into_iter()
            .map(|token| TokenItem::from_proto(token, &call.times))
            .collect(),
        show_owner: claims.has_role(Role::Admin),
        roles: if by_token {
            Vec::new()
        } else {
            grantable(&claims.roles)
        },
        by_token,
    };
    Ok(html(StatusCode::OK, render("tokens.html", &page)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(options: Vec<RoleOption>) -> Vec<&'static str> {
        options.into_iter().map(|option| option.name).collect()
    }

    #[test]
    fn the_form_offers_the_callers_roles_only() {
        assert_eq!(names(grantable(&["viewer".into()])), ["viewer"]);
        assert_eq!(
            names(grantable(&["operator".into(), "viewer".into()])),
            ["operator", "viewer"]
        );
        assert_eq!(
            names(grantable(&["admin".into()])),
            [
                "admin", "operator", "reviewer", "viewer", "auditor", "approver"
            ]
        );
    }
}
