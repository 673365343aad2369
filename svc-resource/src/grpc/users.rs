//! Users and their roles: proto ⇄ rules.

use super::{CallerExt, Request, ResourceGrpc, Response, Status, UserRow, deleted, pb, to_unix_ms};

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
        request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let actor = request.claims()?;
        let body = request.into_inner();
        let row = self
            .service
            .update_user(&actor, &body.id, body.password.as_deref(), &body.roles)
            .await?;
        Ok(Response::new(user_to_proto(row)))
    }

    pub(super) async fn create_user(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let actor = request.claims()?;
        let body = request.into_inner();
        let row = self
            .service
            .create_user(&actor, &body.username, &body.password, &body.roles)
            .await?;
        Ok(Response::new(user_to_proto(row)))
    }

    pub(super) async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let actor = request.claims()?;
        let rows = self.service.list_users(&actor).await?;
        Ok(Response::new(pb::ListUsersResponse {
            users: rows.into_iter().map(user_to_proto).collect(),
        }))
    }

    pub(super) async fn delete_user(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = request.claims()?;
        let id = request.into_inner().id;
        self.service.delete_user(&actor, &id).await?;
        Ok(deleted(id))
    }
}
