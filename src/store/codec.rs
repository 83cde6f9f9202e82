//! How records are encoded in the trees and spool files: postcard, which is compact and not
//! self-describing (see the rules on stored structs), with a decoding failure reported as
//! corruption of the record it came from.

use serde::{de::DeserializeOwned, Serialize};

use super::error::StoreError;

/// The encoding of `value`.
pub(super) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // postcard only fails on types serde cannot express (maps with non-string keys are fine);
    // our model has none, so a failure here is a programming error caught by tests.
    postcard::to_stdvec(value).expect("model types are always encodable")
}

/// Appends the encoding of `value` to `out`, reusing its allocation.
pub(super) fn encode_into<T: Serialize>(value: &T, out: &mut Vec<u8>) {
    let taken = std::mem::take(out);
    *out = postcard::to_extend(value, taken).expect("model types are always encodable");
}

/// Decodes the record stored in `tree` under `key`.
pub(super) fn decode<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}
