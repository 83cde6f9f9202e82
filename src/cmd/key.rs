//! `tolmach key create|list|revoke`: API keys, on a running server with an admin key, or on
//! the data directory of a stopped server (`--data-dir`), which is how the first key is
//! made. A key's secret is printed once, when it is created.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use tolmach::app::now_ms;
use tolmach::auth::{Caller, KeyRing, NewKey, Role};
use tolmach::service::proto::{self, access_client::AccessClient};
use tolmach::service::{key_to_proto, role_to_proto, timestamp};
use tolmach::store::{Store, StoreError};

use super::render::{print, print_json};
use super::{connection, ClientArgs};

/// What `tolmach key` does.
#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create a key and print its secret (shown only this once).
    Create(CreateArgs),
    /// List the keys: name, role, scope, state; never a secret.
    List(Target),
    /// Revoke a key by name; calls with it are refused at once.
    Revoke(RevokeArgs),
}

/// Where the keys are: a running server, or a stopped server's data directory.
#[derive(Args)]
pub struct Target {
    /// Work on the data directory of a stopped server instead of asking a running one (how
    /// the first key is made).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    client: ClientArgs,
}

/// A role on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    /// Reads only.
    Reader,
    /// Reads, and writes within its scope.
    Editor,
    /// Everything, keys included.
    Admin,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Reader => Role::Reader,
            RoleArg::Editor => Role::Editor,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// What `tolmach key create` takes.
#[derive(Args)]
pub struct CreateArgs {
    /// A unique name for the key, shown in the audit log, e.g. `desk-7`.
    name: String,
    /// What the key may do.
    #[arg(long, value_enum)]
    role: RoleArg,
    /// Limit the key to this collection (repeat for more); none = every collection.
    #[arg(long = "collection")]
    collections: Vec<String>,
    /// Limit the key to this memory (repeat for more); none = every memory.
    #[arg(long = "memory")]
    memories: Vec<String>,
    /// Make the key stop working after this long: a number with d (days), h (hours) or m
    /// (minutes), e.g. `90d`.
    #[arg(long, value_parser = parse_duration_ms)]
    expires_in: Option<i64>,
    #[command(flatten)]
    target: Target,
}

/// What `tolmach key revoke` takes.
#[derive(Args)]
pub struct RevokeArgs {
    /// The key's name.
    name: String,
    #[command(flatten)]
    target: Target,
}

/// Runs one key command.
pub async fn run(command: KeyCommand) -> Result<()> {
    match command {
        KeyCommand::Create(args) => create(args).await,
        KeyCommand::List(target) => list(target).await,
        KeyCommand::Revoke(args) => revoke(args).await,
    }
}

async fn create(args: CreateArgs) -> Result<()> {
    let expires_ms = args.expires_in.map(|ms| now_ms().saturating_add(ms));
    let response = match &args.target.data_dir {
        Some(dir) => {
            let ring = open_ring(dir).await?;
            let new = NewKey {
                name: args.name.clone(),
                role: args.role.into(),
                collections: args.collections.clone(),
                memories: args.memories.clone(),
                expires_ms,
            };
            let (record, secret) = ring
                .create(&Caller::open(), new, now_ms())
                .await
                .map_err(tonic::Status::from)?;
            proto::CreateKeyResponse {
                key: Some(key_to_proto(&record)),
                secret,
            }
        }
        None => AccessClient::new(connection(&args.target.client).await?)
            .create_key(proto::CreateKeyRequest {
                name: args.name.clone(),
                role: role_to_proto(args.role.into()) as i32,
                collections: args.collections.clone(),
                memories: args.memories.clone(),
                expire_time: expires_ms.and_then(timestamp),
            })
            .await?
            .into_inner(),
    };
    if args.target.client.json {
        return print_json("tolmach.v1.CreateKeyResponse", &response);
    }
    eprintln!(
        "created {} key `{}`; its secret follows, shown only this once (the server keeps a \
         hash): send it as --api-key or TOLMACH_API_KEY",
        args.role_name(),
        args.name
    );
    print(&format!("{}\n", response.secret))
}

async fn list(target: Target) -> Result<()> {
    let keys = match &target.data_dir {
        Some(dir) => open_ring(dir)
            .await?
            .list()
            .iter()
            .map(key_to_proto)
            .collect(),
        None => {
            AccessClient::new(connection(&target.client).await?)
                .list_keys(proto::ListKeysRequest {})
                .await?
                .into_inner()
                .keys
        }
    };
    let response = proto::ListKeysResponse { keys };
    if target.client.json {
        return print_json("tolmach.v1.ListKeysResponse", &response);
    }
    print(&keys_table(&response.keys, now_ms()))
}

async fn revoke(args: RevokeArgs) -> Result<()> {
    let key = match &args.target.data_dir {
        Some(dir) => {
            let ring = open_ring(dir).await?;
            let record = ring
                .revoke(&Caller::open(), &args.name, now_ms())
                .await
                .map_err(tonic::Status::from)?;
            key_to_proto(&record)
        }
        None => AccessClient::new(connection(&args.target.client).await?)
            .revoke_key(proto::RevokeKeyRequest {
                name: args.name.clone(),
            })
            .await?
            .into_inner()
            .key
            .unwrap_or_default(),
    };
    if args.target.client.json {
        return print_json(
            "tolmach.v1.RevokeKeyResponse",
            &proto::RevokeKeyResponse { key: Some(key) },
        );
    }
    print(&format!("revoked key {}\n", args.name))
}

impl CreateArgs {
    fn role_name(&self) -> &'static str {
        Role::from(self.role).name()
    }
}

/// The key ring of the data directory `dir`, which no running server may hold.
async fn open_ring(dir: &Path) -> Result<Arc<KeyRing>> {
    let owned = dir.to_path_buf();
    let ring = tokio::task::spawn_blocking(move || {
        let store = Store::open(&owned)?;
        KeyRing::load(store)
    })
    .await?;
    match ring {
        Err(StoreError::Locked { path }) => bail!(
            "{} is held by a running server: create and revoke keys through it with an admin \
             key (--api-key or TOLMACH_API_KEY, without --data-dir), or stop it first",
            path.display()
        ),
        other => other.with_context(|| format!("cannot open the data directory {}", dir.display())),
    }
}

/// `90d`, `12h` or `30m` in milliseconds.
fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let unit_ms: i64 = match unit {
        "d" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        _ => return Err("end the duration with d, h or m, e.g. 90d".into()),
    };
    let count: i64 = number
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{number:?} is not a positive number"))?;
    count
        .checked_mul(unit_ms)
        .ok_or_else(|| "the duration is too long".into())
}

/// The keys as a table: name, role, state, scope.
fn keys_table(keys: &[proto::ApiKey], now_ms: i64) -> String {
    let millis = |t: &Option<prost_types::Timestamp>| t.as_ref().map(|t| t.seconds * 1000);
    let mut out = format!("{:<24} {:<7} {:<8} scope\n", "name", "role", "state");
    for key in keys {
        let role = match proto::Role::try_from(key.role) {
            Ok(proto::Role::Reader) => "reader",
            Ok(proto::Role::Editor) => "editor",
            Ok(proto::Role::Admin) => "admin",
            _ => "?",
        };
        let state = if key.revoke_time.is_some() {
            "revoked"
        } else if millis(&key.expire_time).is_some_and(|expiry| expiry <= now_ms) {
            "expired"
        } else {
            "active"
        };
        let mut scope = Vec::new();
        if !key.collections.is_empty() {
            scope.push(format!("collections {}", key.collections.join(", ")));
        }
        if !key.memories.is_empty() {
            scope.push(format!("memories {}", key.memories.join(", ")));
        }
        let scope = if scope.is_empty() {
            "everything".to_owned()
        } else {
            scope.join("; ")
        };
        out.push_str(&format!("{:<24} {role:<7} {state:<8} {scope}\n", key.name));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_days_hours_or_minutes() {
        assert_eq!(parse_duration_ms("90d"), Ok(90 * 86_400_000));
        assert_eq!(parse_duration_ms("12h"), Ok(12 * 3_600_000));
        assert_eq!(parse_duration_ms("30m"), Ok(30 * 60_000));
        for bad in ["", "d", "0d", "-1d", "12", "1y", "1.5h"] {
            assert!(parse_duration_ms(bad).is_err(), "{bad}");
        }
    }
}
