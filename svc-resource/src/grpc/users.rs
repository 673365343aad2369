//! Users and their roles: proto ⇄ rules.

use super::{Claims, ResourceGrpc, Status, UserRow, deleted, pb, to_unix_ms};

fn user_to_proto(row: UserRow) -> pb::User {
    let roles = row.role_names();
    pb::User {
        id: row.id,
        username: row.username,
        roles,
        creator: row.creator,
        create_time_ms: to_unix_ms(row.create_time),
    }
}

impl ResourceGrpc {
    pub(super) async fn update_user(
        &self,
        actor: Claims,
        body: pb::UpdateUserRequest,
    ) -> Result<pb::User, Status> {
        let row = self
            .service
            .update_user(&actor, &body.id, body.password.as_deref(), &body.roles)
            .await?;
        Ok(user_to_proto(row))
    }

    pub(super) async fn create_user(
        &self,
        actor: Claims,
        body: pb::CreateUserRequest,
    ) -> Result<pb::User, Status> {
        let row = self
            .service
            .create_user(&actor, &body.username, &body.password, &body.roles)
            .await?;
        Ok(user_to_proto(row))
    }

    pub(super) async fn list_users(
        &self,
        actor: Claims,
        _: pb::ListUsersRequest,
    ) -> Result<pb::ListUsersResponse, Status> {
        let rows = self.service.list_users(&actor).await?;
        Ok(pb::ListUsersResponse {
            users: rows.into_iter().map(user_to_proto).collect(),
        })
    }

    pub(super) async fn delete_user(
        &self,
        actor: Claims,
        body: pb::DeleteRequest,
    ) -> Result<pb::DeleteResponse, Status> {
        let id = body.id;
        self.service.delete_user(&actor, &id).await?;
        Ok(deleted(id))
    }
}
