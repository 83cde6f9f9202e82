//! Every sled key is built and parsed here, and only here.
//!
//! Integers are big-endian so that byte order is numeric order (sled iterates in byte order).

/// Key of the schema version in the `meta` tree.
pub const SCHEMA_VERSION: &[u8] = b"schema_version";

/// Key in the `meta` tree present once the shipped glossary was loaded.
pub const SEEDED: &[u8] = b"glossary_seeded";

/// Key of a concept in the `concepts` tree: its id. Ids are ASCII without NUL (checked at the
/// service edge), so id order is key order.
pub fn concept(id: &str) -> Vec<u8> {
    id.as_bytes().to_vec()
}

/// Key of a past revision in the `history` tree: id, NUL, revision (u64 big-endian), so that
/// one concept's revisions sit together in order.
pub fn history(id: &str, revision: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(id.len() + 9);
    key.extend_from_slice(id.as_bytes());
    key.push(0);
    key.extend_from_slice(&revision.to_be_bytes());
    key
}

/// The prefix of every `history` key of one concept.
pub fn history_prefix(id: &str) -> Vec<u8> {
    let mut key = id.as_bytes().to_vec();
    key.push(0);
    key
}

/// Key of a collection in the `collections` tree: its name.
pub fn collection(name: &str) -> Vec<u8> {
    name.as_bytes().to_vec()
}

/// Encodes the schema version value.
pub fn encode_version(version: u32) -> [u8; 4] {
    version.to_be_bytes()
}

/// Decodes the schema version value; `None` when it is not four bytes.
pub fn decode_version(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keys_sort_by_revision_numerically() {
        assert!(history("a", 255) < history("a", 256));
        assert!(history("a", 9) < history("a", 10));
        assert!(history("a", u64::MAX) < history("a-b", 0));
        assert!(history("a", 3).starts_with(&history_prefix("a")));
    }
}
