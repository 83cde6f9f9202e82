//! The access records: API keys (`api_keys`), the audit log of every write (`audit`) and
//! the author of each concept revision (`authors`, keyed like `history`).
//!
//! A key is stored as its record and the SHA-256 of its key string, never the string itself;
//! checking a key string against a record is the `auth` module's. The author of a concept
//! revision is written in the concept's own transaction (`Store::upsert_concept`); an audit
//! record is written by the write path once the write it describes committed, and made
//! durable by the same flush, or, for a key, in the key's own transaction.
//!
//! The records here are stored with postcard like the model's: never reorder or add fields,
//! append enum variants at the end.

use serde::{Deserialize, Serialize};
use sled::Transactional;

use super::codec::{decode, encode};
use super::{keys, put, Store, StoreError};

/// What an API key may do. Each role includes the ones before it in rank; the rank is
/// written out in `Role::rank` rather than taken from the declaration order, so that a
/// role appended later can rank where it belongs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Reads.
    Reader,
    /// Reads, and writes within its scope.
    Editor,
    /// Everything.
    Admin,
}

impl Role {
    /// Whether this role may do whatever `needed` may.
    pub fn includes(self, needed: Role) -> bool {
        self.rank() >= needed.rank()
    }

    fn rank(self) -> u8 {
        match self {
            Role::Reader => 0,
            Role::Editor => 1,
            Role::Admin => 2,
        }
    }

    /// The role's name as users write it: `reader`, `editor`, `admin`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An API key as stored: what it may do and the hash of its key string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The public id, the middle of the key string `tk_<id>_<secret>`.
    pub id: String,
    /// The unique name shown in the audit log.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The collections it may read or write; empty = every one.
    pub collections: Vec<String>,
    /// The memories it may read or write; empty = every one.
    pub memories: Vec<String>,
    /// SHA-256 of the whole key string.
    pub hash: [u8; 32],
    /// When it was created, in ms since the epoch.
    pub created_ms: i64,
    /// When it stops working; `None` = never.
    pub expires_ms: Option<i64>,
    /// When it was revoked; `None` = not revoked.
    pub revoked_ms: Option<i64>,
    /// The key that created it; empty when made on the data directory or an open server.
    pub created_by: String,
}

/// Who wrote one concept revision, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorship {
    /// The writing key's name; empty on an open server.
    pub key: String,
    /// When, in ms since the epoch.
    pub time_ms: i64,
}

/// One write as the audit log keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When it was acknowledged, in ms since the epoch.
    pub time_ms: i64,
    /// The writing key's name; empty on an open server or on the data directory.
    pub key: String,
    /// The kind of write, e.g. `upsert_concept`.
    pub change: String,
    /// What it wrote to: concept id, collection, memory or key name.
    pub target: String,
    /// How many units or ids it carried (1 for a single record, 0 when not counted).
    pub count: u64,
    /// The write in a sentence.
    pub summary: String,
}

impl Store {
    /// Every API key, revoked ones included, in id order.
    pub fn api_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        self.api_keys
            .iter()
            .map(|entry| {
                let (key, bytes) = entry?;
                decode("api_keys", &key, &bytes)
            })
            .collect()
    }

    /// Stores a key (new, or revoked) and its audit record in one transaction; returns once
    /// durable.
    pub async fn put_api_key(
        &self,
        record: &KeyRecord,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let sequence = self.next_audit_sequence()?;
        (&self.api_keys, &self.audit).transaction(|(api_keys, log)| {
            put(api_keys, &keys::api_key(&record.id), record)?;
            put(log, &keys::audit(sequence), audit)?;
            Ok(())
        })?;
        self.flush().await
    }

    /// Appends a record to the audit log; returns its sequence number. Durable once flushed.
    pub fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
        let sequence = self.next_audit_sequence()?;
        self.audit.insert(keys::audit(sequence), encode(entry))?;
        Ok(sequence)
    }

    /// At most `limit` audit records after sequence number `after`, oldest first.
    pub fn audit_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, AuditEntry)>, StoreError> {
        let start = keys::audit(after.saturating_add(1));
        self.audit
            .range(start..)
            .take(limit)
            .map(|entry| {
                let (key, bytes) = entry?;
                let sequence = keys::parse_audit(&key).ok_or_else(|| StoreError::Corrupt {
                    tree: "audit",
                    key: String::from_utf8_lossy(&key).into_owned(),
                    reason: "key is not a sequence number".into(),
                })?;
                Ok((sequence, decode("audit", &key, &bytes)?))
            })
            .collect()
    }

    /// Who wrote revision `revision` of concept `id`; `None` for a revision written without
    /// a record of it (the shipped glossary, an import, a database older than the record).
    pub fn authorship(&self, id: &str, revision: u64) -> Result<Option<Authorship>, StoreError> {
        let key = keys::history(id, revision);
        self.authors
            .get(&key)?
            .map(|bytes| decode("authors", &key, &bytes))
            .transpose()
    }

    /// A sequence number above every one given before, also across restarts (sled's id
    /// generator); 0 is never given, so that "after 0" is the whole log.
    fn next_audit_sequence(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()? + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(target: &str) -> AuditEntry {
        AuditEntry {
            time_ms: 1,
            key: "desk-7".into(),
            change: "add_units".into(),
            target: target.into(),
            count: 2,
            summary: format!("add 2 units to {target}"),
        }
    }

    #[test]
    fn roles_include_the_ones_below_them() {
        assert!(Role::Admin.includes(Role::Editor));
        assert!(Role::Editor.includes(Role::Reader));
        assert!(!Role::Reader.includes(Role::Editor));
        assert!(!Role::Editor.includes(Role::Admin));
    }

    #[test]
    fn the_audit_log_pages_in_write_order() {
        let store = Store::temporary().unwrap();
        let mut sequences = Vec::new();
        for target in ["a", "b", "c"] {
            sequences.push(store.append_audit(&entry(target)).unwrap());
        }
        assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
        let first = store.audit_after(0, 2).unwrap();
        assert_eq!(
            first
                .iter()
                .map(|(_, e)| e.target.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        let rest = store.audit_after(first[1].0, 10).unwrap();
        assert_eq!(rest, vec![(sequences[2], entry("c"))]);
    }
}
