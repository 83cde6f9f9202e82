//! The verified caller of one call, and the scope checks a handler makes once it knows which
//! collection or memory the call reads or writes.
//!
//! A refusal names what was needed and what the key is, e.g. "Import on collection `news`
//! needs role editor with scope over it; key `desk-7` is a reader".

use crate::app::writes::Author;
use crate::app::AppError;
use crate::store::{KeyRecord, Role};

/// The collections and memories a key may read or write; an empty list means every one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// The collections; empty = every collection.
    pub collections: Vec<String>,
    /// The memories; empty = every memory.
    pub memories: Vec<String>,
}

impl Scope {
    /// Whether the scope is the whole server.
    pub fn is_whole(&self) -> bool {
        self.collections.is_empty() && self.memories.is_empty()
    }
}

/// Whether `name` is in `scope` (empty = everything).
fn within(scope: &[String], name: &str) -> bool {
    scope.is_empty() || scope.iter().any(|s| s == name)
}

/// Who makes a call: the key's name, role and scope. On an open server (no key exists),
/// [`Caller::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The key's name; empty on an open server.
    pub key: String,
    /// What the key may do.
    pub role: Role,
    /// Where.
    pub scope: Scope,
}

/// A collection or a memory, for scope checks and their messages.
#[derive(Clone, Copy)]
enum Place {
    Collection,
    Memory,
}

impl Place {
    fn noun(self) -> &'static str {
        match self {
            Place::Collection => "collection",
            Place::Memory => "memory",
        }
    }
}

impl Caller {
    /// The caller of every call on a server without keys: may do everything, and is recorded
    /// with an empty name.
    pub fn open() -> Caller {
        Caller {
            key: String::new(),
            role: Role::Admin,
            scope: Scope::default(),
        }
    }

    /// The caller a key record stands for.
    pub fn of(record: &KeyRecord) -> Caller {
        Caller {
            key: record.name.clone(),
            role: record.role,
            scope: Scope {
                collections: record.collections.clone(),
                memories: record.memories.clone(),
            },
        }
    }

    /// Who the write path records for this caller's writes.
    pub fn author(&self) -> Author {
        Author(self.key.clone())
    }

    /// Whether the caller may read collection `name`.
    pub fn sees_collection(&self, name: &str) -> bool {
        within(&self.scope.collections, name)
    }

    /// Whether the caller may read memory `name`.
    pub fn sees_memory(&self, name: &str) -> bool {
        within(&self.scope.memories, name)
    }

    /// Refuses `action` on collection `name` unless the caller has role `needed` and the
    /// collection in scope.
    pub fn check_collection(&self, action: &str, needed: Role, name: &str) -> Result<(), AppError> {
        self.check(action, needed, Place::Collection, name)
    }

    /// Refuses `action` on memory `name` unless the caller has role `needed` and the memory
    /// in scope.
    pub fn check_memory(&self, action: &str, needed: Role, name: &str) -> Result<(), AppError> {
        self.check(action, needed, Place::Memory, name)
    }

    /// The collections a read may see: those it names, each of which must be in scope, or,
    /// when it names none, the caller's scope (empty = every one).
    pub fn readable_collections(
        &self,
        action: &str,
        named: &mut Vec<String>,
    ) -> Result<(), AppError> {
        self.readable(action, Place::Collection, named)
    }

    /// The memories a read may see, as [`Caller::readable_collections`].
    pub fn readable_memories(&self, action: &str, named: &mut Vec<String>) -> Result<(), AppError> {
        self.readable(action, Place::Memory, named)
    }

    /// Refuses `action` (a call of the access service) unless the caller is an admin whose
    /// scope is the whole server: a scoped admin could otherwise make itself an unscoped key.
    pub fn check_whole_admin(&self, action: &str) -> Result<(), AppError> {
        if self.role.includes(Role::Admin) && self.scope.is_whole() {
            return Ok(());
        }
        Err(AppError::PermissionDenied {
            message: format!(
                "{action} needs role admin over the whole server; {}",
                self.described()
            ),
        })
    }

    fn readable(
        &self,
        action: &str,
        place: Place,
        named: &mut Vec<String>,
    ) -> Result<(), AppError> {
        let scope = self.scope_of(place);
        if named.is_empty() {
            named.clone_from(scope);
            return Ok(());
        }
        for name in named.iter() {
            self.check(action, Role::Reader, place, name)?;
        }
        Ok(())
    }

    fn check(&self, action: &str, needed: Role, place: Place, name: &str) -> Result<(), AppError> {
        if self.role.includes(needed) && within(self.scope_of(place), name) {
            return Ok(());
        }
        Err(AppError::PermissionDenied {
            message: format!(
                "{action} on {} `{name}` needs role {needed} with scope over it; {}",
                place.noun(),
                self.described()
            ),
        })
    }

    fn scope_of(&self, place: Place) -> &Vec<String> {
        match place {
            Place::Collection => &self.scope.collections,
            Place::Memory => &self.scope.memories,
        }
    }

    /// "key `desk-7` is a reader of collections `news` only".
    pub(super) fn described(&self) -> String {
        let article = match self.role {
            Role::Admin | Role::Editor => "an",
            Role::Reader => "a",
        };
        let mut described = format!("key `{}` is {article} {}", self.key, self.role);
        let list = |names: &[String]| {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut limits = Vec::new();
        if !self.scope.collections.is_empty() {
            limits.push(format!("collections {}", list(&self.scope.collections)));
        }
        if !self.scope.memories.is_empty() {
            limits.push(format!("memories {}", list(&self.scope.memories)));
        }
        if !limits.is_empty() {
            described.push_str(&format!(" of {} only", limits.join(" and ")));
        }
        described
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desk(role: Role, collections: &[&str]) -> Caller {
        Caller {
            key: "desk-7".into(),
            role,
            scope: Scope {
                collections: collections.iter().map(|c| c.to_string()).collect(),
                memories: Vec::new(),
            },
        }
    }

    fn message(result: Result<(), AppError>) -> String {
        match result {
            Err(AppError::PermissionDenied { message }) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_refusal_names_the_role_needed_and_what_the_key_is() {
        let reader = desk(Role::Reader, &[]);
        assert_eq!(
            message(reader.check_collection("Import", Role::Editor, "news")),
            "Import on collection `news` needs role editor with scope over it; \
             key `desk-7` is a reader"
        );
        let editor = desk(Role::Editor, &["sport"]);
        assert_eq!(
            message(editor.check_collection("UpsertConcept", Role::Editor, "news")),
            "UpsertConcept on collection `news` needs role editor with scope over it; \
             key `desk-7` is an editor of collections `sport` only"
        );
        assert!(editor
            .check_collection("UpsertConcept", Role::Editor, "sport")
            .is_ok());
        assert!(editor.check_memory("AddUnits", Role::Editor, "any").is_ok());
    }

    #[test]
    fn a_read_naming_nothing_sees_the_scope_and_naming_outside_it_is_refused() {
        let reader = desk(Role::Reader, &["news"]);
        let mut named = Vec::new();
        reader.readable_collections("Lookup", &mut named).unwrap();
        assert_eq!(named, ["news"]);
        let mut outside = vec!["news".to_owned(), "sco-glossary".to_owned()];
        let refused = message(reader.readable_collections("Lookup", &mut outside));
        assert!(refused.contains("`sco-glossary`"), "{refused}");
        let mut all = Vec::new();
        Caller::open()
            .readable_memories("Search", &mut all)
            .unwrap();
        assert!(all.is_empty());
    }

    #[test]
    fn only_a_whole_server_admin_manages_keys() {
        assert!(Caller::open().check_whole_admin("CreateKey").is_ok());
        assert!(desk(Role::Admin, &["news"])
            .check_whole_admin("CreateKey")
            .is_err());
        assert!(desk(Role::Editor, &[])
            .check_whole_admin("CreateKey")
            .is_err());
    }
}
