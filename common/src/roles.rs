//! The role checks every service's rules make (SPEC §1): each refuses with [`Forbidden`], whose
//! message names the user and what it lacks; the services' errors convert from it.

use crate::auth::{Actor, Claims, INTERNAL_ROLE, Role};

/// A caller lacks the role a rule needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Forbidden(pub String);

impl AsRef<Claims> for Claims {
    fn as_ref(&self) -> &Claims {
        self
    }
}

impl AsRef<Claims> for Actor {
    fn as_ref(&self) -> &Claims {
        &self.claims
    }
}

/// Passes admins and holders of one of `roles`; refuses others with "user "name" `refusal`".
pub fn require(
    caller: &impl AsRef<Claims>,
    roles: &[Role],
    refusal: &str,
) -> Result<(), Forbidden> {
    let claims = caller.as_ref();
    if claims.may(roles) {
        Ok(())
    } else {
        Err(refused(claims, refusal))
    }
}

fn refused(claims: &Claims, refusal: &str) -> Forbidden {
    Forbidden(format!("user {:?} {refusal}", claims.username()))
}

/// Admin routes need the `admin` role.
pub fn require_admin(caller: &impl AsRef<Claims>) -> Result<(), Forbidden> {
    require(caller, &[], "lacks the admin role this needs")
}

/// Reads need any role at all.
pub fn require_reader(caller: &impl AsRef<Claims>) -> Result<(), Forbidden> {
    require(
        caller,
        &[
            Role::Operator,
            Role::Reviewer,
            Role::Viewer,
            Role::Auditor,
            Role::Approver,
        ],
        "has no role",
    )
}

/// Reads that only admins could make (users, webhooks, the CMDB lists): admins and auditors.
pub fn require_admin_reader(caller: &impl AsRef<Claims>) -> Result<(), Forbidden> {
    require(
        caller,
        &[Role::Auditor],
        "lacks the admin or auditor role this needs",
    )
}

/// Configuring deployments needs `operator` (or `admin`).
pub fn require_operator(caller: &impl AsRef<Claims>) -> Result<(), Forbidden> {
    require(
        caller,
        &[Role::Operator],
        "lacks the operator role this needs",
    )
}

/// Uploads need `operator` (or `admin`).
pub fn require_uploader(caller: &impl AsRef<Claims>) -> Result<(), Forbidden> {
    require(
        caller,
        &[Role::Operator],
        "needs the operator or admin role to upload",
    )
}

/// Script reviews need `reviewer` (or `admin`).
pub fn require_reviewer(caller: &impl AsRef<Claims>) -> Result<(), Forbidden> {
    require(
        caller,
        &[Role::Reviewer],
        "needs the reviewer or admin role to review scripts",
    )
}

/// Host credentials in clear are for other services only (tokens with the internal role; not
/// even admins).
pub fn require_internal(caller: &impl AsRef<Claims>) -> Result<(), Forbidden> {
    let claims = caller.as_ref();
    if claims.roles.iter().any(|role| role == INTERNAL_ROLE) {
        Ok(())
    } else {
        Err(refused(claims, "may not read host credentials"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(roles: &[&str]) -> Claims {
        Claims {
            sub: "bob".into(),
            roles: roles.iter().map(|role| (*role).to_owned()).collect(),
            iat: 0,
            exp: 0,
            sid: None,
            api_token: None,
        }
    }

    #[test]
    fn admins_pass_every_check_but_the_internal_one() {
        let admin = claims(&["admin"]);
        assert!(require_admin(&admin).is_ok());
        assert!(require_operator(&admin).is_ok());
        assert!(require_reviewer(&admin).is_ok());
        assert!(require_reader(&admin).is_ok());
        assert_eq!(
            require_internal(&admin),
            Err(Forbidden(
                "user \"bob\" may not read host credentials".into()
            ))
        );
        assert!(require_internal(&claims(&[INTERNAL_ROLE])).is_ok());
    }

    #[test]
    fn refusals_name_the_user_and_what_is_missing() {
        let viewer = claims(&["viewer"]);
        assert!(require_reader(&viewer).is_ok());
        assert_eq!(
            require_operator(&viewer),
            Err(Forbidden(
                "user \"bob\" lacks the operator role this needs".into()
            ))
        );
        assert_eq!(
            require_reader(&claims(&[])),
            Err(Forbidden("user \"bob\" has no role".into()))
        );
        assert_eq!(
            require_uploader(&viewer).map_err(|error| error.to_string()),
            Err("user \"bob\" needs the operator or admin role to upload".into())
        );
    }
}
