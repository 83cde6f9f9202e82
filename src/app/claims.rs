//! Concept ids that imports in progress are about to write.
//!
//! Ids are unique across collections, so an import qualifies a file's id that another
//! collection holds, and UpsertConcept refuses one. Looking at the store alone misses the imports not yet committed: two
//! files with the same ids, imported at once into two collections, would both find the id
//! free and the second commit would take over the first one's concept. Each import therefore
//! claims the ids it will write until it ends, and an id claimed for another collection counts
//! as taken.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The claimed ids, shared by every import of a server: id → (collection, claims held).
#[derive(Clone, Debug, Default)]
pub struct Claims(Arc<Mutex<HashMap<String, (String, usize)>>>);

impl Claims {
    /// Claims `id` for `collection`; false when imports in progress hold it for another
    /// collection.
    pub fn claim(&self, id: &str, collection: &str) -> bool {
        let mut ids = self.lock();
        match ids.get_mut(id) {
            Some((owner, held)) if owner == collection => {
                *held += 1;
                true
            }
            Some(_) => false,
            None => {
                ids.insert(id.to_owned(), (collection.to_owned(), 1));
                true
            }
        }
    }

    /// The collection imports in progress claimed `id` for, if any.
    pub fn owner(&self, id: &str) -> Option<String> {
        self.lock().get(id).map(|(owner, _)| owner.clone())
    }

    /// Gives back one claim on each of `ids`.
    pub fn release<'a>(&self, ids: impl IntoIterator<Item = &'a String>) {
        let mut claimed = self.lock();
        for id in ids {
            if let Some((_, held)) = claimed.get_mut(id) {
                *held -= 1;
                if *held == 0 {
                    claimed.remove(id);
                }
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, (String, usize)>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_claimed_for_one_collection_until_every_claim_is_released() {
        let claims = Claims::default();
        let c1 = "c1".to_owned();
        assert!(claims.claim(&c1, "a"));
        assert!(claims.claim(&c1, "a"), "same collection");
        assert!(!claims.claim(&c1, "b"));
        claims.release([&c1]);
        assert!(!claims.claim(&c1, "b"), "one claim for `a` is left");
        claims.release([&c1]);
        assert!(claims.claim(&c1, "b"));
        assert_eq!(claims.owner(&c1).as_deref(), Some("b"));
    }
}
