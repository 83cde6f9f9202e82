//! `tolmach.v1.Access`: API keys created, listed and revoked, and the audit log paged, over
//! the [key ring](crate::auth::KeyRing). Every call needs an admin whose scope is the whole
//! server (the access layer has checked the role; the scope is checked here).

use std::sync::Arc;

use prost_types::Timestamp;
use tonic::{Request, Response, Status};

use super::convert::timestamp;
use super::proto::{self, access_server::Access as AccessRpc};
use crate::app::now_ms;
use crate::auth::{self, KeyRecord, KeyRing, NewKey, Role};
use crate::model::{Invalid, Violations};

const DEFAULT_AUDIT_PAGE: u32 = 100;
const MAX_AUDIT_PAGE: u32 = 1000;

/// The Access service over the server's key ring.
#[derive(Clone)]
pub struct AccessService {
    keys: Arc<KeyRing>,
}

impl AccessService {
    /// The service managing `keys`.
    pub fn new(keys: Arc<KeyRing>) -> AccessService {
        AccessService { keys }
    }
}

/// The proto form of a stored key: never its hash.
pub fn key_to_proto(record: &KeyRecord) -> proto::ApiKey {
    proto::ApiKey {
        name: record.name.clone(),
        id: record.id.clone(),
        role: role_to_proto(record.role) as i32,
        collections: record.collections.clone(),
        memories: record.memories.clone(),
        create_time: timestamp(record.created_ms),
        expire_time: record.expires_ms.and_then(timestamp),
        revoke_time: record.revoked_ms.and_then(timestamp),
        created_by: record.created_by.clone(),
    }
}

/// The proto form of a role.
pub fn role_to_proto(role: Role) -> proto::Role {
    match role {
        Role::Reader => proto::Role::Reader,
        Role::Editor => proto::Role::Editor,
        Role::Admin => proto::Role::Admin,
    }
}

/// A role as asked for; `None` (with the violation noted) for an unset or unknown one.
fn role_from_proto(role: i32, violations: &mut Violations) -> Option<Role> {
    match proto::Role::try_from(role) {
        Ok(proto::Role::Reader) => Some(Role::Reader),
        Ok(proto::Role::Editor) => Some(Role::Editor),
        Ok(proto::Role::Admin) => Some(Role::Admin),
        Ok(proto::Role::Unspecified) | Err(_) => {
            violations.add(
                "role",
                "is required: ROLE_READER, ROLE_EDITOR or ROLE_ADMIN",
            );
            None
        }
    }
}

/// Milliseconds since the epoch of a timestamp, saturating far outside any key's life.
fn millis(time: &Timestamp) -> i64 {
    time.seconds
        .saturating_mul(1000)
        .saturating_add(i64::from(time.nanos) / 1_000_000)
}

#[tonic::async_trait]
impl AccessRpc for AccessService {
    async fn create_key(
        &self,
        request: Request<proto::CreateKeyRequest>,
    ) -> Result<Response<proto::CreateKeyResponse>, Status> {
        let caller = auth::caller(&request)?;
        caller.check_whole_admin("CreateKey")?;
        let request = request.into_inner();
        let mut violations = Violations::default();
        let role = role_from_proto(request.role, &mut violations);
        let role = violations.into_checked(role)?;
        let new = NewKey {
            name: request.name,
            role,
            collections: request.collections,
            memories: request.memories,
            expires_ms: request.expire_time.as_ref().map(millis),
        };
        let (record, secret) = self.keys.create(&caller, new, now_ms()).await?;
        Ok(Response::new(proto::CreateKeyResponse {
            key: Some(key_to_proto(&record)),
            secret,
        }))
    }

    async fn list_keys(
        &self,
        request: Request<proto::ListKeysRequest>,
    ) -> Result<Response<proto::ListKeysResponse>, Status> {
        auth::caller(&request)?.check_whole_admin("ListKeys")?;
        let keys = self.keys.list().iter().map(key_to_proto).collect();
        Ok(Response::new(proto::ListKeysResponse { keys }))
    }

    async fn revoke_key(
        &self,
        request: Request<proto::RevokeKeyRequest>,
    ) -> Result<Response<proto::RevokeKeyResponse>, Status> {
        let caller = auth::caller(&request)?;
        caller.check_whole_admin("RevokeKey")?;
        let name = request.into_inner().name;
        if name.is_empty() {
            return Err(Invalid::field("name", "is required").into());
        }
        let record = self.keys.revoke(&caller, &name, now_ms()).await?;
        Ok(Response::new(proto::RevokeKeyResponse {
            key: Some(key_to_proto(&record)),
        }))
    }

    async fn list_audit(
        &self,
        request: Request<proto::ListAuditRequest>,
    ) -> Result<Response<proto::ListAuditResponse>, Status> {
        auth::caller(&request)?.check_whole_admin("ListAudit")?;
        let request = request.into_inner();
        let limit = match request.limit {
            0 => DEFAULT_AUDIT_PAGE,
            n => n.min(MAX_AUDIT_PAGE),
        } as usize;
        // One more than the page, to know whether another page follows.
        let mut records = self.keys.audit(request.after, limit + 1)?;
        let next_after = if records.len() > limit {
            records.truncate(limit);
            records.last().map_or(0, |(sequence, _)| *sequence)
        } else {
            0
        };
        let records = records
            .into_iter()
            .map(|(sequence, entry)| proto::AuditRecord {
                sequence,
                time: timestamp(entry.time_ms),
                key: entry.key,
                change: entry.change,
                target: entry.target,
                count: entry.count,
                summary: entry.summary,
            })
            .collect();
        Ok(Response::new(proto::ListAuditResponse {
            records,
            next_after,
        }))
    }
}
