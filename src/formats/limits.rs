//! The bounds every reader holds a file to while it reads, so that no input, however large
//! or deep, makes the server hold more than a few MiB for one entry or recurse without end.
//!
//! Owns the limits only: the decoding layer under every reader counts the bytes of a run as
//! they arrive, the XML layer checks nesting, attributes and whole entries, the CSV reader its
//! header and the rows of one concept. A limit exceeded is a
//! [`FormatError::Malformed`](super::FormatError::Malformed) at its line and column: the
//! reader stops there, since the rest of an oversized construct cannot be told apart from
//! what follows it without reading it whole.

/// Most bytes (as decoded UTF-8) of one run of an XML file, counted as it arrives: the text
/// between two tags, one tag with its attributes, a comment, a CDATA section, a DOCTYPE; and
/// of one row of a glossary file. A term is at most 1 KiB and a segment 64 KiB, so nothing
/// the store keeps comes near it.
pub const MAX_RUN_BYTES: u64 = 1024 * 1024;

/// Most bytes of one entry: a TBX concept entry, a TMX `<tu>`, the rows of one glossary
/// concept. As large as the largest request a client may send, so that a file holds nothing
/// the API would refuse for its size alone.
pub const MAX_ENTRY_BYTES: u64 = 8 * 1024 * 1024;

/// Deepest nesting of XML elements. TBX nests about ten deep and TMX inline markup a few
/// more; the bound keeps every stack of open elements small.
pub const MAX_DEPTH: usize = 64;

/// Most attributes of one XML element. Checking that no name repeats compares each with the
/// ones before it, so the count has to be bounded for a tag to be read in linear time.
pub const MAX_ATTRIBUTES: usize = 256;

/// Most columns of a glossary file's header: a column per language and per field of each
/// language, for every language a newsroom works in, fits many times over.
pub const MAX_COLUMNS: usize = 512;

/// A size for messages: `1 MiB`, `8 MiB`, or bytes when not a whole number of KiB.
pub(crate) fn size(bytes: u64) -> String {
    match bytes {
        b if b % (1024 * 1024) == 0 => format!("{} MiB", b / (1024 * 1024)),
        b if b % 1024 == 0 => format!("{} KiB", b / 1024),
        b => format!("{b} bytes"),
    }
}
