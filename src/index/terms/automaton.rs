//! The automaton Recognize scans text with: every distinct normalized key of a
//! [`TermIndex`](super::TermIndex), matched overlapping in one pass, and its place in the term
//! index file.
//!
//! It is daachorse's bytewise double-array Aho-Corasick rather than the `aho-corasick`
//! crate's, because it can be saved: building an automaton over 10⁶ keys takes seconds,
//! reading one back a fraction of that. Bytewise, not charwise: on the benchmark's articles
//! the bytewise scan ran at 84–105 MB/s in Chinese, Russian and English alike, the charwise
//! one at 190 MB/s in Chinese but 80 in Russian and 39 in English, and the charwise mapper
//! brings nothing to a scan that already ends on the UTF-8 of the keys.
//!
//! daachorse's `deserialize` checks only that the automaton keeps its reads in bounds: a
//! damaged one could still send a scan round a loop of failure links forever, or report a
//! match longer than the text before it. So an automaton read back is also checked here, on
//! its serialized states, to be one every scan ends on with every match inside the text
//! ([`check`]); anything else refuses the file, which is then rebuilt from the store.

use std::ops::Range;

use daachorse::{DoubleArrayAhoCorasick, DoubleArrayAhoCorasickBuilder, Empty, MatchKind};

use crate::index::flat::{FlatError, FlatReader, FlatWriter};

/// The automaton over a term index's distinct normalized keys. The matches carry no value:
/// a match's terms are looked up by its text.
pub(in crate::index) struct KeyAutomaton(DoubleArrayAhoCorasick<Empty>);

impl KeyAutomaton {
    /// The automaton over `keys` (repeats allowed, no empty key), or `None` if there are
    /// none or they are past daachorse's limits (2²⁴ keys, 2³² states): then Recognize still
    /// finds stem matches, and the log says why surface ones are gone.
    pub fn build(mut keys: Vec<&str>) -> Option<KeyAutomaton> {
        // daachorse refuses repeated and empty patterns.
        keys.retain(|key| !key.is_empty());
        // In key order the trie is built along shared prefixes.
        keys.sort_unstable();
        keys.dedup();
        if keys.is_empty() {
            return None;
        }
        // Overlapping search needs standard semantics; leftmost-longest selection happens
        // after stem matches are merged in, in `index::recognize`.
        DoubleArrayAhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(keys)
            .map(KeyAutomaton)
            .inspect_err(|e| tracing::error!("term automaton not built: {e}"))
            .ok()
    }

    /// The byte ranges of every key in `text`, overlapping ones included, by end.
    pub fn matches<'t>(&'t self, text: &'t str) -> impl Iterator<Item = Range<usize>> + 't {
        self.0
            .find_overlapping_iter(text)
            .map(|found| found.start()..found.end())
    }

    /// Appends an automaton, or its absence, to a persisted body.
    pub fn write(automaton: Option<&KeyAutomaton>, out: &mut FlatWriter) {
        let bytes = automaton.map(|a| a.0.serialize()).unwrap_or_default();
        out.bytes(&bytes);
    }

    /// Takes the bytes [`write`](Self::write) appended, to be decoded by
    /// [`decode`](Self::decode) (on another thread, while the rest of the body is read).
    pub fn section<'b>(body: &mut FlatReader<'b>) -> Result<&'b [u8], FlatError> {
        body.bytes("automaton")
    }

    /// The automaton of a section, once daachorse and [`check`] accept it.
    pub fn decode(section: &[u8]) -> Result<Option<KeyAutomaton>, FlatError> {
        if section.is_empty() {
            return Ok(None);
        }
        let invalid = |reason: &str| FlatError::Invalid {
            what: "automaton",
            reason: reason.to_owned(),
        };
        let (automaton, rest) = DoubleArrayAhoCorasick::<Empty>::deserialize(section)
            .map_err(|e| invalid(&e.to_string()))?;
        if !rest.is_empty() {
            return Err(invalid("bytes after the automaton"));
        }
        check(section).map_err(invalid)?;
        Ok(Some(KeyAutomaton(automaton)))
    }
}

/// Bytes of a serialized state: base, failure link, and output position (24 bits) with the
/// byte labelling the state (8 bits), each a little-endian u32.
const STATE_BYTES: usize = 12;

/// Bytes of a serialized output of an automaton without values: pattern length, and the
/// position + 1 of the next output at the same state (0 for none).
const OUTPUT_BYTES: usize = 8;

/// A state's depth while [`depths`] has not reached it.
const UNKNOWN: u32 = u32::MAX;
/// A state no scan can enter.
const UNREACHABLE: u32 = u32::MAX - 1;

/// The state a scan starts in.
const ROOT: usize = 0;

/// Whether a serialized automaton, already accepted by daachorse's `deserialize` (every
/// index in bounds, every output's next output before it), is one every scan ends on with
/// every match inside the text.
///
/// A scan enters a state only from its parent (the state whose base is the state's index
/// XOR its label), or by a failure link. Every state a scan can enter has a depth, its
/// parent's + 1, which is at most the bytes read when the scan is in it. The check: every
/// enterable state's failure link leads to an enterable state of smaller depth, so that a
/// chain of them ends (at the root, which never follows one); and the longest of a state's
/// outputs is no longer than its depth, so that a match never starts before the text.
/// daachorse keeps bases unique; two states with one base are refused.
///
/// This reads daachorse's serialized layout (version 5.1: the states, then the leftmost
/// matching's states and failure links, empty here, then the outputs), which is why the
/// dependency is pinned; a layout this does not recognize is refused, never misread as an
/// automaton that works.
fn check(serialized: &[u8]) -> Result<(), &'static str> {
    let mut rest = serialized;
    let states = u32_array(&mut rest, STATE_BYTES).ok_or("states cut short")?;
    let leftmost_states = u32_array(&mut rest, STATE_BYTES).ok_or("states cut short")?;
    let leftmost_fails = u32_array(&mut rest, 4).ok_or("failure links cut short")?;
    let outputs = u32_array(&mut rest, OUTPUT_BYTES).ok_or("outputs cut short")?;
    if !leftmost_states.is_empty() || !leftmost_fails.is_empty() {
        return Err("not a standard-matching automaton");
    }
    let word = |array: &[u8], at: usize| {
        u32::from_le_bytes([array[at], array[at + 1], array[at + 2], array[at + 3]])
    };
    let count = states.len() / STATE_BYTES;
    let base = |s: usize| word(states, s * STATE_BYTES);
    let fail = |s: usize| word(states, s * STATE_BYTES + 4) as usize;
    let output = |s: usize| (word(states, s * STATE_BYTES + 8) >> 8) as usize;
    let label = |s: usize| word(states, s * STATE_BYTES + 8) & 0xff;
    // The longest pattern among each output and those chained after it (which come before
    // it), so that a state's outputs are measured at once.
    let output_count = outputs.len() / OUTPUT_BYTES;
    let mut longest = Vec::with_capacity(output_count);
    for i in 0..output_count {
        let length = word(outputs, i * OUTPUT_BYTES);
        let next = word(outputs, i * OUTPUT_BYTES + 4) as usize;
        let chained = next.checked_sub(1).and_then(|n| longest.get(n)).copied();
        longest.push(length.max(chained.unwrap_or(0)));
    }
    let depths = depths(count, base, label)?;
    for s in (0..count).filter(|&s| s != ROOT && depths[s] != UNREACHABLE) {
        let fail_depth = depths.get(fail(s)).copied().unwrap_or(UNREACHABLE);
        if fail_depth == UNREACHABLE || fail_depth >= depths[s] {
            return Err("a failure link that does not lead closer to the root");
        }
    }
    for s in (0..count).filter(|&s| depths[s] != UNREACHABLE) {
        let outputs_at = output(s)
            .checked_sub(1)
            .map_or(Some(0), |o| longest.get(o).copied());
        if outputs_at.is_none_or(|length| length > depths[s]) {
            return Err("a match longer than the text read");
        }
    }
    Ok(())
}

/// The depth of each of `count` states, given each one's base (0 for none) and label, or
/// [`UNREACHABLE`] for a state no scan enters; `Err` if two states share a base.
fn depths(
    count: usize,
    base: impl Fn(usize) -> u32,
    label: impl Fn(usize) -> u32,
) -> Result<Vec<u32>, &'static str> {
    // The state owning each base, + 1 (0 for none).
    let mut owner = vec![0u32; count];
    for s in 0..count {
        let b = base(s) as usize;
        if b != 0 {
            let slot = owner.get_mut(b).ok_or("a base past the states")?;
            if *slot != 0 {
                return Err("two states with one base");
            }
            *slot = s as u32 + 1;
        }
    }
    let parent = |s: usize| {
        owner
            .get(s ^ label(s) as usize)
            .and_then(|&p| (p as usize).checked_sub(1))
    };
    let mut depths = vec![UNKNOWN; count];
    if let Some(root) = depths.get_mut(ROOT) {
        *root = 0;
    }
    let mut path = Vec::new();
    for start in 0..count {
        // Up the parents to a state of known depth, then down again giving each its own. A
        // path longer than the states is a loop that never reaches the root.
        let mut s = start;
        let mut known = loop {
            if depths[s] != UNKNOWN {
                break depths[s];
            }
            if path.len() >= count {
                break UNREACHABLE;
            }
            path.push(s);
            match parent(s) {
                Some(p) => s = p,
                None => break UNREACHABLE,
            }
        };
        while let Some(s) = path.pop() {
            if known != UNREACHABLE {
                known += 1;
            }
            depths[s] = known;
        }
    }
    Ok(depths)
}

/// The bytes of a serialized array of `width`-byte elements (its u32 length first), taken
/// from the front of `rest`.
fn u32_array<'b>(rest: &mut &'b [u8], width: usize) -> Option<&'b [u8]> {
    let (length, after) = rest.split_first_chunk::<4>()?;
    let bytes = (u32::from_le_bytes(*length) as usize).checked_mul(width)?;
    let array = after.get(..bytes)?;
    *rest = &after[bytes..];
    Some(array)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn automaton(keys: &[&str]) -> KeyAutomaton {
        KeyAutomaton::build(keys.to_vec()).unwrap()
    }

    fn serialized(keys: &[&str]) -> Vec<u8> {
        automaton(keys).0.serialize()
    }

    #[test]
    fn finds_every_key_overlapping() {
        let keys = [
            "一带一路",
            "一带",
            "带一路",
            "road",
            "belt and road",
            "road",
        ];
        let found: Vec<Range<usize>> = automaton(&keys).matches("一带一路 belt and road").collect();
        let text = "一带一路 belt and road";
        let mut texts: Vec<&str> = found.iter().map(|r| &text[r.clone()]).collect();
        texts.sort_unstable();
        assert_eq!(
            texts,
            ["belt and road", "road", "一带", "一带一路", "带一路"]
        );
        assert!(KeyAutomaton::build(vec!["", ""]).is_none());
    }

    #[test]
    fn an_automaton_read_back_finds_what_it_found() {
        let mut keys: Vec<String> = Vec::new();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let letters = ["a", "b", "ан", "д", "中", "国"];
            let len = 1 + seed % 6;
            keys.push(
                (0..len)
                    .map(|i| letters[((seed >> (8 * i)) % 6) as usize])
                    .collect(),
            );
        }
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let bytes = serialized(&keys);
        let read = KeyAutomaton::decode(&bytes).unwrap().unwrap();
        let text = "ab中国аннаданbad国中中a";
        let mut written: Vec<Range<usize>> = automaton(&keys).matches(text).collect();
        let mut got: Vec<Range<usize>> = read.matches(text).collect();
        written.sort_by_key(|r| (r.start, r.end));
        got.sort_by_key(|r| (r.start, r.end));
        assert_eq!(got, written);
        assert!(!got.is_empty());
        assert!(KeyAutomaton::decode(&[]).unwrap().is_none());
    }

    /// Overwrites the u32 at `at` in a serialized automaton.
    fn with_word(bytes: &[u8], at: usize, value: u32) -> Vec<u8> {
        let mut bytes = bytes.to_vec();
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
        bytes
    }

    /// The state a scan is in after reading `key`'s bytes from the root, by the serialized
    /// bases and labels.
    fn state_of(bytes: &[u8], key: &str) -> usize {
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let mut s = ROOT;
        for &c in key.as_bytes() {
            let child = (word(4 + s * STATE_BYTES) ^ u32::from(c)) as usize;
            assert_eq!(word(4 + child * STATE_BYTES + 8) & 0xff, u32::from(c));
            s = child;
        }
        s
    }

    #[test]
    fn damage_that_daachorse_lets_through_is_refused() {
        let bytes = serialized(&["abcd", "bcd", "cd", "中国"]);
        assert!(KeyAutomaton::decode(&bytes).is_ok());
        let (abc, ab) = (state_of(&bytes, "abc"), state_of(&bytes, "ab"));
        let fail_of = |s: usize| 4 + s * STATE_BYTES + 4;
        // A failure link back down the trie: a scan of "abx" would go round forever.
        let looping = with_word(&bytes, fail_of(ab), abc as u32);
        assert!(DoubleArrayAhoCorasick::<Empty>::deserialize(&looping).is_ok());
        assert!(KeyAutomaton::decode(&looping).is_err());
        // An output longer than the text read to reach it.
        let abcd = state_of(&bytes, "abcd");
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let output = (word(4 + abcd * STATE_BYTES + 8) >> 8) as usize;
        let states = word(0) as usize;
        let outputs_at = 4 + states * STATE_BYTES + 4 + 4 + 4;
        let long = with_word(&bytes, outputs_at + (output - 1) * OUTPUT_BYTES, 5);
        assert!(DoubleArrayAhoCorasick::<Empty>::deserialize(&long).is_ok());
        assert!(KeyAutomaton::decode(&long).is_err());
        // Cut, lengthened, or out of bounds: daachorse's own checks.
        assert!(KeyAutomaton::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(KeyAutomaton::decode(&[bytes.as_slice(), &[0]].concat()).is_err());
        assert!(KeyAutomaton::decode(&with_word(&bytes, fail_of(ab), u32::MAX)).is_err());
    }

    /// Every damaged byte of the states and outputs is refused or leaves an automaton whose
    /// scans end, inside the text. (The prefilter after them is left out: daachorse checks
    /// it whole, and its table only lets the scan skip text.)
    #[test]
    fn a_damaged_automaton_never_hangs_or_panics() {
        let keys = ["abcd", "bcd", "cd", "中国", "国"];
        let bytes = DoubleArrayAhoCorasickBuilder::new()
            .use_prefilter(false)
            .build::<_, _, Empty>(keys)
            .unwrap()
            .serialize();
        let text = "xabcdabcd中国国bcd";
        let mut refused = 0;
        for at in 0..bytes.len() {
            for value in [0u8, 1, 0x80, 0xff, bytes[at] ^ 1] {
                let mut damaged = bytes.clone();
                damaged[at] = value;
                match KeyAutomaton::decode(&damaged) {
                    Ok(Some(read)) => {
                        for range in read.matches(text) {
                            assert!(range.start <= range.end && range.end <= text.len());
                        }
                    }
                    _ => refused += 1,
                }
            }
        }
        assert!(refused > 0);
    }
}
