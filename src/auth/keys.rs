//! The key ring: every API key of the store, held in memory for the check each call makes,
//! and the only writer of keys. Creating or revoking a key writes the store (with its audit
//! record, in one transaction) and then swaps in a new table, so that a revoked key is
//! refused from the moment the revocation is acknowledged. In cluster mode the record goes
//! through the replicated log first ([`Command::PutKey`]) and every node's replica applies
//! it with [`KeyRing::apply`], so a key made through one node works on all.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use tokio::sync::Mutex;

use super::caller::Caller;
use super::secret;
use crate::app::commands::{Command, WriteLog};
use crate::app::AppError;
use crate::model::Violations;
use crate::store::{AuditEntry, KeyRecord, Role, Store, StoreError};

/// The caller `record` stands for, unless it is revoked or expired at `now_ms`.
fn usable(record: &KeyRecord, now_ms: i64) -> Result<Caller, AppError> {
    let refused = |reason: String| Err(AppError::Unauthenticated { reason });
    if record.revoked_ms.is_some() {
        return refused(format!("API key `{}` was revoked", record.name));
    }
    if record.expires_ms.is_some_and(|expiry| expiry <= now_ms) {
        return refused(format!("API key `{}` has expired", record.name));
    }
    Ok(Caller::of(record))
}

/// The keys as verified calls read them.
#[derive(Default)]
struct Table {
    /// Every record by public id, revoked ones included.
    by_id: HashMap<String, KeyRecord>,
}

/// What a new key may do, as asked.
#[derive(Clone, Debug)]
pub struct NewKey {
    /// Unique name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its collections; empty = every one.
    pub collections: Vec<String>,
    /// Its memories; empty = every one.
    pub memories: Vec<String>,
    /// When it stops working, in ms since the epoch; `None` = never.
    pub expires_ms: Option<i64>,
}

/// The keys of one server. Cheap to share behind an `Arc`.
pub struct KeyRing {
    store: Store,
    table: ArcSwap<Table>,
    /// One key write at a time, so that a name is checked and taken atomically.
    writing: Mutex<()>,
    /// In cluster mode, the replicated log key writes go through.
    log: OnceLock<Arc<dyn WriteLog>>,
}

impl KeyRing {
    /// The ring of the keys in `store`. Reads the store: call it on the blocking pool.
    pub fn load(store: Store) -> Result<Arc<KeyRing>, StoreError> {
        let table = Table::read(&store)?;
        Ok(Arc::new(KeyRing {
            store,
            table: ArcSwap::from_pointee(table),
            writing: Mutex::new(()),
            log: OnceLock::new(),
        }))
    }

    /// Whether the server is open: no key exists, revoked or not.
    pub fn is_open(&self) -> bool {
        self.table.load().by_id.is_empty()
    }

    /// The caller `key` (a key string) stands for at `now_ms`, or why it is refused.
    pub fn verify(&self, key: &str, now_ms: i64) -> Result<Caller, AppError> {
        let refused = |reason: String| Err(AppError::Unauthenticated { reason });
        let Some(id) = secret::public_id(key) else {
            return refused("the API key is not a Tolmach key (tk_<id>_<secret>)".into());
        };
        let table = self.table.load();
        // An unknown id answers sooner than a wrong secret: ids are not secret (ListKeys
        // shows them), only the secret is, and its hash is compared in constant time.
        let Some(record) = table
            .by_id
            .get(id)
            .filter(|r| secret::matches(key, &r.hash))
        else {
            return refused("the API key is unknown or wrong".into());
        };
        usable(record, now_ms)
    }

    /// The caller the key with public id `id` stands for at `now_ms`, or why it is refused:
    /// for a login session, which holds the id rather than the key string, so that a key
    /// revoked or expired since the login is refused from then on.
    pub fn verify_id(&self, id: &str, now_ms: i64) -> Result<Caller, AppError> {
        let table = self.table.load();
        let Some(record) = table.by_id.get(id) else {
            return Err(AppError::Unauthenticated {
                reason: "the API key of this session no longer exists".into(),
            });
        };
        usable(record, now_ms)
    }

    /// Every key, in name order.
    pub fn list(&self) -> Vec<KeyRecord> {
        let mut keys: Vec<KeyRecord> = self.table.load().by_id.values().cloned().collect();
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        keys
    }

    /// Creates a key for `by` and answers its record and its key string, which exists only
    /// in this answer.
    pub async fn create(
        &self,
        by: &Caller,
        new: NewKey,
        now_ms: i64,
    ) -> Result<(KeyRecord, String), AppError> {
        let mut violations = Violations::default();
        violations.identifier("name", &new.name);
        violations.identifiers("collections", &new.collections);
        violations.identifiers("memories", &new.memories);
        if new.expires_ms.is_some_and(|expiry| expiry <= now_ms) {
            violations.add("expire_time", "must be in the future");
        }
        violations.into_result(())?;
        let _writing = self.writing.lock().await;
        let table = self.table.load();
        if table.by_id.values().any(|r| r.name == new.name) {
            return Err(AppError::KeyNameTaken { name: new.name });
        }
        let (key, id) = loop {
            let (key, id) = secret::generate()?;
            if !table.by_id.contains_key(&id) {
                break (key, id);
            }
        };
        let record = KeyRecord {
            id,
            name: new.name,
            role: new.role,
            collections: new.collections,
            memories: new.memories,
            hash: secret::hash(&key),
            created_ms: now_ms,
            expires_ms: new.expires_ms,
            revoked_ms: None,
            created_by: by.key.clone(),
        };
        let summary = format!("create {} key {}", record.role, record.name);
        self.write(by, &record, "create_key", summary, now_ms)
            .await?;
        Ok((record, key))
    }

    /// Revokes the key named `name` for `by`; answers its record as stored. Revoking a
    /// revoked key changes nothing.
    pub async fn revoke(
        &self,
        by: &Caller,
        name: &str,
        now_ms: i64,
    ) -> Result<KeyRecord, AppError> {
        let _writing = self.writing.lock().await;
        let Some(mut record) = self
            .table
            .load()
            .by_id
            .values()
            .find(|r| r.name == name)
            .cloned()
        else {
            return Err(AppError::KeyNotFound {
                name: name.to_owned(),
            });
        };
        if record.revoked_ms.is_some() {
            return Ok(record);
        }
        record.revoked_ms = Some(now_ms);
        let summary = format!("revoke key {name}");
        self.write(by, &record, "revoke_key", summary, now_ms)
            .await?;
        Ok(record)
    }

    /// At most `limit` audit records after sequence number `after`, oldest first.
    pub fn audit(&self, after: u64, limit: usize) -> Result<Vec<(u64, AuditEntry)>, AppError> {
        Ok(self.store.audit_after(after, limit)?)
    }

    /// Stores `record` with its audit record, then publishes the new table. Call with the
    /// writing lock held.
    async fn write(
        &self,
        by: &Caller,
        record: &KeyRecord,
        change: &str,
        summary: String,
        now_ms: i64,
    ) -> Result<(), AppError> {
        let audit = AuditEntry {
            time_ms: now_ms,
            key: by.key.clone(),
            change: change.to_owned(),
            target: record.name.clone(),
            count: 1,
            summary,
        };
        match self.log.get() {
            Some(log) => {
                let command = Command::PutKey {
                    record: record.clone(),
                    audit,
                };
                log.submit(command).await?.done()
            }
            None => self.put(record.clone(), audit).await,
        }
    }

    /// Puts the replicated `log` in front of every key write (cluster mode); answers `false`
    /// if a log was installed already.
    pub fn install_log(&self, log: Arc<dyn WriteLog>) -> bool {
        self.log.set(log).is_ok()
    }

    /// Applies a key write taken from the replicated log (cluster mode; the replica is the
    /// only writer then). A name another key took first, through another node, is refused
    /// alike on every node.
    pub async fn apply(&self, record: KeyRecord, audit: AuditEntry) -> Result<(), AppError> {
        let taken = self
            .table
            .load()
            .by_id
            .values()
            .any(|other| other.name == record.name && other.id != record.id);
        if taken {
            return Err(AppError::KeyNameTaken { name: record.name });
        }
        self.put(record, audit).await
    }

    /// Stores `record` with `audit` (durable on return) and swaps in the new table.
    async fn put(&self, record: KeyRecord, audit: AuditEntry) -> Result<(), AppError> {
        self.store.put_api_key(&record, &audit).await?;
        let mut table = Table {
            by_id: self.table.load().by_id.clone(),
        };
        table.by_id.insert(record.id.clone(), record);
        self.table.store(Arc::new(table));
        Ok(())
    }
}

impl Table {
    fn read(store: &Store) -> Result<Table, StoreError> {
        Ok(Table {
            by_id: store
                .api_keys()?
                .into_iter()
                .map(|r| (r.id.clone(), r))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_key(name: &str, role: Role) -> NewKey {
        NewKey {
            name: name.into(),
            role,
            collections: vec!["news".into()],
            memories: Vec::new(),
            expires_ms: None,
        }
    }

    fn refusal(result: Result<Caller, AppError>) -> String {
        match result {
            Err(AppError::Unauthenticated { reason }) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_created_key_verifies_until_revoked_or_expired() {
        let ring = KeyRing::load(Store::temporary().unwrap()).unwrap();
        assert!(ring.is_open());
        let (record, key) = ring
            .create(&Caller::open(), new_key("desk-7", Role::Editor), 100)
            .await
            .unwrap();
        assert!(!ring.is_open());
        let caller = ring.verify(&key, 200).unwrap();
        assert_eq!((caller.key.as_str(), caller.role), ("desk-7", Role::Editor));
        assert_eq!(caller.scope.collections, ["news"]);

        let mut forged = key.clone();
        forged.pop();
        forged.push(if key.ends_with('0') { '1' } else { '0' });
        assert_eq!(
            refusal(ring.verify(&forged, 200)),
            "the API key is unknown or wrong"
        );
        assert!(refusal(ring.verify("secret", 200)).contains("not a Tolmach key"));

        ring.revoke(&Caller::open(), "desk-7", 300).await.unwrap();
        assert!(refusal(ring.verify(&key, 400)).contains("revoked"));
        assert!(!ring.is_open(), "a revoked key still closes the server");
        assert_eq!(ring.list()[0].id, record.id);

        let expiring = NewKey {
            expires_ms: Some(1_000),
            ..new_key("night", Role::Reader)
        };
        let (_, key) = ring.create(&Caller::open(), expiring, 500).await.unwrap();
        assert!(ring.verify(&key, 999).is_ok());
        assert!(refusal(ring.verify(&key, 1_000)).contains("expired"));
    }

    #[tokio::test]
    async fn names_are_never_reused_and_each_key_write_is_audited() {
        let store = Store::temporary().unwrap();
        let ring = KeyRing::load(store.clone()).unwrap();
        ring.create(&Caller::open(), new_key("desk-7", Role::Admin), 1)
            .await
            .unwrap();
        ring.revoke(&Caller::open(), "desk-7", 2).await.unwrap();
        let again = ring
            .create(&Caller::open(), new_key("desk-7", Role::Admin), 3)
            .await;
        assert!(matches!(again, Err(AppError::KeyNameTaken { .. })));
        let audit = ring.audit(0, 10).unwrap();
        let changes: Vec<&str> = audit.iter().map(|(_, e)| e.change.as_str()).collect();
        assert_eq!(changes, ["create_key", "revoke_key"]);
        // A ring loaded afresh (a restart) knows the revocation.
        let reloaded = KeyRing::load(store).unwrap();
        assert!(reloaded.list()[0].revoked_ms.is_some());
    }
}
