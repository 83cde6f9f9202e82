//! Every sled key is built and parsed here, and only here.
//!
//! Integers are big-endian so that byte order is numeric order (sled iterates in byte order).

/// Key of the schema version in the `meta` tree.
pub const SCHEMA_VERSION: &[u8] = b"schema_version";

/// Key in the `meta` tree present once the shipped glossary was loaded.
pub const SEEDED: &[u8] = b"glossary_seeded";

/// Key in the `meta` tree: in cluster mode, the sequence of the last entry of the replicated
/// log applied.
pub const REPLICATED: &[u8] = b"replicated_sequence";

/// Key of the store's random id in the `meta` tree: 16 bytes made at first open, naming this
/// database in the files derived from it.
pub const STORE_ID: &[u8] = b"store_id";

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

/// Key of a translation unit in the `units` tree: memory name, NUL, unit id, so that one
/// memory's units sit together in id order. Names and ids are checked to hold no NUL.
pub fn unit(memory: &str, id: &str) -> Vec<u8> {
    let mut key = unit_prefix(memory);
    key.extend_from_slice(id.as_bytes());
    key
}

/// The prefix of every `units` key of one memory.
pub fn unit_prefix(memory: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(memory.len() + 1);
    key.extend_from_slice(memory.as_bytes());
    key.push(0);
    key
}

/// Splits a `units` key into memory name and unit id.
pub fn parse_unit(key: &[u8]) -> Option<(&str, &str)> {
    let nul = key.iter().position(|&b| b == 0)?;
    let memory = std::str::from_utf8(&key[..nul]).ok()?;
    let id = std::str::from_utf8(&key[nul + 1..]).ok()?;
    Some((memory, id))
}

/// Prefix in the `meta` tree of the commit marker of an import.
const IMPORT_MARKER: &[u8] = b"import\0";

/// Key in the `meta` tree saying that import `id` committed and is being (or must be) applied.
pub fn import_marker(id: u64) -> Vec<u8> {
    let mut key = IMPORT_MARKER.to_vec();
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// The prefix of every import commit marker.
pub fn import_marker_prefix() -> &'static [u8] {
    IMPORT_MARKER
}

/// The import id of a commit marker key.
pub fn parse_import_marker(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(
        key.strip_prefix(IMPORT_MARKER)?.try_into().ok()?,
    ))
}

/// Prefix in the `meta` tree of how far a committed import has been applied.
const IMPORT_PROGRESS: &[u8] = b"import_applied\0";

/// Key in the `meta` tree of the spool offset up to which committed import `id` is applied,
/// so that recovery resumes there rather than applying entries a second time.
pub fn import_progress(id: u64) -> Vec<u8> {
    let mut key = IMPORT_PROGRESS.to_vec();
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// Prefix in the `meta` tree of the job a committed import records its outcome in.
const IMPORT_JOB: &[u8] = b"import_job\0";

/// Key in the `meta` tree of the job id of committed import `id`, present from its commit
/// marker until it is applied, so that recovery finishes the job's record too.
pub fn import_job(id: u64) -> Vec<u8> {
    let mut key = IMPORT_JOB.to_vec();
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// Key of an import job in the `jobs` tree: its id (checked to be printable ASCII).
pub fn job(job_id: &str) -> Vec<u8> {
    job_id.as_bytes().to_vec()
}

/// Encodes a spool offset.
pub fn encode_offset(offset: u64) -> [u8; 8] {
    offset.to_be_bytes()
}

/// Decodes a spool offset; `None` when it is not eight bytes.
pub fn decode_offset(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// Name of the spool file of import `id` in the imports directory: the id in 16 hex digits.
pub fn spool_file(id: u64) -> String {
    format!("{id:016x}.spool")
}

/// The import id of a spool file name; `None` for any other name.
pub fn parse_spool_file(name: &str) -> Option<u64> {
    let hex = name.strip_suffix(".spool")?;
    if hex.len() != 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// Key of a staged entry in the `staging` tree: import id, then sequence number, both
/// big-endian, so that an import's entries sit together in file order. Only builds before
/// spool files wrote them; kept to test that recovery still reads them.
#[cfg(test)]
pub fn staged(import: u64, seq: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&import.to_be_bytes());
    key[8..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The prefix of every staged entry of one import.
pub fn staged_prefix(import: u64) -> [u8; 8] {
    import.to_be_bytes()
}

/// The import id of a staged entry's key.
pub fn parse_staged(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.get(..8)?.try_into().ok()?))
}

/// Encodes the schema version value.
pub fn encode_version(version: u32) -> [u8; 4] {
    version.to_be_bytes()
}

/// Decodes the schema version value; `None` when it is not four bytes.
pub fn decode_version(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// Key of an API key in the `api_keys` tree: its public id (ASCII hex), so that a call's key
/// string finds its record in one read.
pub fn api_key(id: &str) -> Vec<u8> {
    id.as_bytes().to_vec()
}

/// Key of a record in the `audit` tree: its sequence number, big-endian, so that the log
/// iterates in write order.
pub fn audit(sequence: u64) -> [u8; 8] {
    sequence.to_be_bytes()
}

/// The sequence number of an `audit` key.
pub fn parse_audit(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.try_into().ok()?))
}

/// Key of a record in the `changes` tree: its store revision, big-endian, so that the log
/// iterates in revision order.
pub fn change(revision: u64) -> [u8; 8] {
    revision.to_be_bytes()
}

/// The revision of a `changes` key.
pub fn parse_change(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.try_into().ok()?))
}

/// Key in the `concept_changes` tree: concept id, NUL, store revision (big-endian), laid out
/// as `history` keys so that [`history_prefix`] finds one concept's entries in order.
pub fn concept_change(id: &str, revision: u64) -> Vec<u8> {
    history(id, revision)
}

/// The store revision of a `concept_changes` key.
pub fn parse_concept_change(key: &[u8]) -> Option<u64> {
    let nul = key.len().checked_sub(9)?;
    if key[nul] != 0 {
        return None;
    }
    Some(u64::from_be_bytes(key[nul + 1..].try_into().ok()?))
}

/// Key of a record in the `memory_changes` tree: its memory revision, big-endian, so that
/// the log iterates in revision order.
pub fn memory_change(revision: u64) -> [u8; 8] {
    revision.to_be_bytes()
}

/// The revision of a `memory_changes` key.
pub fn parse_memory_change(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.try_into().ok()?))
}

/// Prefix in the `meta` tree of the author of a committed import.
const IMPORT_AUTHOR: &[u8] = b"import_author\0";

/// Key in the `meta` tree of the name of the key that committed import `id`, present from
/// its commit marker until it is applied, so that recovery writes its change records in
/// that name.
pub fn import_author(id: u64) -> Vec<u8> {
    let mut key = IMPORT_AUTHOR.to_vec();
    key.extend_from_slice(&id.to_be_bytes());
    key
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

    #[test]
    fn change_keys_sort_by_revision_and_concept_changes_parse_back() {
        assert!(change(255) < change(256));
        assert_eq!(parse_change(&change(u64::MAX)), Some(u64::MAX));
        let key = concept_change("a", 256);
        assert_eq!(parse_concept_change(&key), Some(256));
        assert!(key.starts_with(&history_prefix("a")));
        assert_eq!(parse_concept_change(b"short"), None);
    }

    #[test]
    fn audit_keys_sort_by_sequence_numerically_and_round_trip() {
        assert!(audit(255) < audit(256));
        assert_eq!(parse_audit(&audit(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_audit(b"short"), None);
    }

    #[test]
    fn spool_file_names_round_trip_and_nothing_else_parses() {
        assert_eq!(spool_file(0x2a), "000000000000002a.spool");
        assert_eq!(parse_spool_file(&spool_file(u64::MAX)), Some(u64::MAX));
        for other in [
            "2a.spool",
            "000000000000002a.tmp",
            "00000000000000zz.spool",
            "x",
        ] {
            assert_eq!(parse_spool_file(other), None, "{other}");
        }
        assert!(!import_progress(1).starts_with(import_marker_prefix()));
        assert!(!import_job(1).starts_with(import_marker_prefix()));
        assert!(!import_author(1).starts_with(import_marker_prefix()));
    }

    #[test]
    fn unit_keys_round_trip_and_group_by_memory() {
        assert_eq!(parse_unit(&unit("news", "tu-1")), Some(("news", "tu-1")));
        assert!(unit("news", "zzz") < unit("news-2", ""));
        assert!(unit("news", "a").starts_with(&unit_prefix("news")));
    }
}
