//! The automaton Recognize scans text with: every distinct normalized key of a
//! [`TermIndex`](super::TermIndex), matched overlapping in one pass, each match leading
//! straight to the terms of its key, and its place in the term index file.
//!
//! It is daachorse's bytewise double-array Aho-Corasick rather than the `aho-corasick`
//! crate's, because it can be saved: building an automaton over 10⁶ keys takes seconds,
//! reading one back a fraction of that. Bytewise, not charwise: on the benchmark's articles
//! the bytewise scan ran at 84–105 MB/s in Chinese, Russian and English alike, the charwise
//! one at 190 MB/s in Chinese but 80 in Russian and 39 in English, and the charwise mapper
//! brings nothing to a scan that already ends on the UTF-8 of the keys.
//!
//! Each key's value is its position among the distinct keys, and the terms of every key are
//! kept here in one array, a key's after another's: a match names its terms without hashing
//! its text, looking it up in a key table and comparing the keys found there, which took
//! most of the time Recognize spent on the automaton's matches.
//!
//! daachorse's `deserialize` checks only that the automaton keeps its reads in bounds: a
//! damaged one could still send a scan round a loop of failure links forever, or report a
//! match longer than the text before it, or a key that is not there. So an automaton read
//! back is also checked here, on its serialized states, to be one every scan ends on with
//! every match inside the text and every value a key ([`check`]); anything else refuses the
//! file, which is then rebuilt from the store.

use std::ops::Range;

use daachorse::{DoubleArrayAhoCorasick, DoubleArrayAhoCorasickBuilder, MatchKind};

use super::persisted::invalid;
use crate::index::flat::{FlatError, FlatReader, FlatWriter};
use crate::index::key_table::TermId;

/// The automaton over a term index's distinct normalized keys, with the terms of each.
pub(in crate::index) struct KeyAutomaton {
    /// Each distinct key, its value the key's position in key order.
    automaton: DoubleArrayAhoCorasick<u32>,
    /// Where each key's terms start in `terms`, and at the end where the last key's end.
    key_starts: Vec<u32>,
    /// The terms of every key, one key's after another's, each key's in id order.
    terms: Vec<TermId>,
}

/// A persisted automaton as read from a body, before it is decoded and checked.
pub(in crate::index) struct AutomatonSection<'b> {
    bytes: &'b [u8],
    key_starts: Vec<u32>,
    terms: Vec<TermId>,
}

impl KeyAutomaton {
    /// The automaton over the normalized keys of `terms` (a key may have several terms; empty
    /// keys are left out), or `None` if there are none or they are past daachorse's limits
    /// (2²⁴ keys, 2³² states): then Recognize still finds stem matches, and the log says why
    /// surface ones are gone.
    pub fn build<'k>(terms: impl Iterator<Item = (&'k str, TermId)>) -> Option<KeyAutomaton> {
        let mut entries: Vec<(&str, TermId)> = terms.filter(|(key, _)| !key.is_empty()).collect();
        // In key order the trie is built along shared prefixes, and each key's terms come
        // together, in id order.
        entries.sort_unstable();
        let mut keys: Vec<(&str, u32)> = Vec::new();
        let mut key_starts = Vec::new();
        for (at, &(key, _)) in entries.iter().enumerate() {
            if keys.last().is_none_or(|&(last, _)| last != key) {
                keys.push((key, keys.len() as u32));
                key_starts.push(at as u32);
            }
        }
        if keys.is_empty() {
            return None;
        }
        key_starts.push(entries.len() as u32);
        // Overlapping search needs standard semantics; leftmost-longest selection happens
        // after stem matches are merged in, in `index::recognize`.
        let automaton = DoubleArrayAhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build_with_values(keys)
            .inspect_err(|e| tracing::error!("term automaton not built: {e}"))
            .ok()?;
        Some(KeyAutomaton {
            automaton,
            key_starts,
            terms: entries.into_iter().map(|(_, term)| term).collect(),
        })
    }

    /// The byte range of every key in `text`, overlapping ones included, by end, each with
    /// the key's value, which [`terms_of`](Self::terms_of) turns into its terms: most matches
    /// in running text are parts of words, turned down before their terms are read.
    pub fn matches<'t>(&'t self, text: &'t str) -> impl Iterator<Item = (Range<usize>, u32)> + 't {
        self.automaton
            .find_overlapping_iter(text)
            .map(|found| (found.start()..found.end(), found.value()))
    }

    /// The terms of the key with value `key` (none for a value that is no key, which a
    /// checked automaton never gives).
    pub fn terms_of(&self, key: u32) -> &[TermId] {
        let key = key as usize;
        match (self.key_starts.get(key), self.key_starts.get(key + 1)) {
            (Some(&start), Some(&end)) => self
                .terms
                .get(start as usize..end as usize)
                .unwrap_or_default(),
            _ => &[],
        }
    }

    /// Appends an automaton, or its absence, to a persisted body.
    pub fn write(automaton: Option<&KeyAutomaton>, out: &mut FlatWriter) {
        let bytes = automaton
            .map(|a| a.automaton.serialize())
            .unwrap_or_default();
        out.bytes(&bytes);
        out.u32s(automaton.map_or(&[], |a| &a.key_starts));
        out.u32s(automaton.map_or(&[], |a| &a.terms));
    }

    /// Takes what [`write`](Self::write) appended, to be decoded by [`decode`](Self::decode)
    /// (on another thread, while the rest of the body is read).
    pub fn section<'b>(body: &mut FlatReader<'b>) -> Result<AutomatonSection<'b>, FlatError> {
        Ok(AutomatonSection {
            bytes: body.bytes("automaton")?,
            key_starts: body.u32s("automaton key starts")?,
            terms: body.u32s("automaton terms")?,
        })
    }

    /// The automaton of a section, once daachorse and [`check`] accept it and its key starts
    /// fit its terms; see [`fits`](Self::fits) for the terms themselves.
    pub fn decode(section: AutomatonSection<'_>) -> Result<Option<KeyAutomaton>, FlatError> {
        let AutomatonSection {
            bytes,
            key_starts,
            terms,
        } = section;
        if bytes.is_empty() {
            return if key_starts.is_empty() && terms.is_empty() {
                Ok(None)
            } else {
                Err(invalid("automaton", "terms without an automaton"))
            };
        }
        let (automaton, rest) = DoubleArrayAhoCorasick::<u32>::deserialize(bytes)
            .map_err(|e| invalid("automaton", e.to_string()))?;
        if !rest.is_empty() {
            return Err(invalid("automaton", "bytes after the automaton"));
        }
        let starts_fit = key_starts.first() == Some(&0)
            && key_starts.is_sorted()
            && key_starts
                .last()
                .is_some_and(|&end| end as usize == terms.len());
        if !starts_fit {
            return Err(invalid(
                "automaton",
                "key starts out of order or not ending with the terms",
            ));
        }
        check(bytes, key_starts.len() - 1).map_err(|reason| invalid("automaton", reason))?;
        Ok(Some(KeyAutomaton {
            automaton,
            key_starts,
            terms,
        }))
    }

    /// Whether every term a match may name is one of an index of `term_count` terms.
    pub fn fits(&self, term_count: usize) -> Result<(), FlatError> {
        if self.terms.iter().any(|&term| term as usize >= term_count) {
            return Err(invalid("automaton", "a term past the last term"));
        }
        Ok(())
    }
}

/// Bytes of a serialized state: base, failure link, and output position (24 bits) with the
/// byte labelling the state (8 bits), each a little-endian u32.
const STATE_BYTES: usize = 12;

/// Bytes of a serialized output: the key's value, its length, and the position + 1 of the next
/// output at the same state (0 for none).
const OUTPUT_BYTES: usize = 12;

/// A state's depth while [`depths`] has not reached it.
const UNKNOWN: u32 = u32::MAX;
/// A state no scan can enter.
const UNREACHABLE: u32 = u32::MAX - 1;

/// The state a scan starts in.
const ROOT: usize = 0;

/// Whether a serialized automaton, already accepted by daachorse's `deserialize` (every
/// index in bounds, every output's next output before it), is one every scan ends on with
/// every match inside the text and every value one of `keys` keys.
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
fn check(serialized: &[u8], keys: usize) -> Result<(), &'static str> {
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
        if word(outputs, i * OUTPUT_BYTES) as usize >= keys {
            return Err("a value that is no key");
        }
        let length = word(outputs, i * OUTPUT_BYTES + 4);
        let next = word(outputs, i * OUTPUT_BYTES + 8) as usize;
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

    /// The automaton of `keys`, each the key of the term at its position.
    fn automaton(keys: &[&str]) -> KeyAutomaton {
        KeyAutomaton::build(
            keys.iter()
                .enumerate()
                .map(|(id, &key)| (key, id as TermId)),
        )
        .unwrap()
    }

    fn serialized(keys: &[&str]) -> Vec<u8> {
        automaton(keys).automaton.serialize()
    }

    /// The automaton of `keys` written to a body and decoded from it.
    fn read_back(
        automaton: &KeyAutomaton,
        terms: usize,
    ) -> Result<Option<KeyAutomaton>, FlatError> {
        let mut out = FlatWriter::default();
        KeyAutomaton::write(Some(automaton), &mut out);
        let mut body = FlatReader::new(&out.bytes);
        let read = KeyAutomaton::decode(KeyAutomaton::section(&mut body)?)?;
        read.as_ref().map_or(Ok(()), |read| read.fits(terms))?;
        Ok(read)
    }

    /// `bytes` decoded as an automaton of one key per term, as many as `keys`.
    fn decode(bytes: &[u8], keys: usize) -> Result<Option<KeyAutomaton>, FlatError> {
        let section = AutomatonSection {
            bytes,
            key_starts: (0..=keys as u32).collect(),
            terms: (0..keys as u32).collect(),
        };
        KeyAutomaton::decode(section)
    }

    #[test]
    fn finds_every_key_overlapping_with_its_terms() {
        let keys = [
            "一带一路",
            "一带",
            "带一路",
            "road",
            "belt and road",
            "road",
        ];
        let text = "一带一路 belt and road";
        let automaton = automaton(&keys);
        let mut found: Vec<(&str, Vec<TermId>)> = automaton
            .matches(text)
            .map(|(range, key)| (&text[range], automaton.terms_of(key).to_vec()))
            .collect();
        found.sort_unstable();
        assert_eq!(
            found,
            [
                ("belt and road", vec![4]),
                ("road", vec![3, 5]),
                ("一带", vec![1]),
                ("一带一路", vec![0]),
                ("带一路", vec![2]),
            ]
        );
        assert!(KeyAutomaton::build([("", 0), ("", 1)].into_iter()).is_none());
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
        let written = automaton(&keys);
        let read = read_back(&written, keys.len()).unwrap().unwrap();
        let text = "ab中国аннаданbad国中中a";
        let sorted = |automaton: &KeyAutomaton| {
            let mut found: Vec<(Range<usize>, Vec<TermId>)> = automaton
                .matches(text)
                .map(|(range, key)| (range, automaton.terms_of(key).to_vec()))
                .collect();
            found.sort_by_key(|(r, _)| (r.start, r.end));
            found
        };
        assert_eq!(sorted(&read), sorted(&written));
        assert!(!sorted(&read).is_empty());
        // Terms past the index it is read for, or key starts that do not fit, are refused.
        assert!(read_back(&written, keys.len() - 1).is_err());
        let mut shifted = automaton(&keys);
        shifted.key_starts[1] += shifted.terms.len() as u32;
        assert!(read_back(&shifted, keys.len()).is_err());
        let mut out = FlatWriter::default();
        KeyAutomaton::write(None, &mut out);
        let section = KeyAutomaton::section(&mut FlatReader::new(&out.bytes)).unwrap();
        assert!(KeyAutomaton::decode(section).unwrap().is_none());
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
        let keys = ["abcd", "bcd", "cd", "中国"];
        let bytes = serialized(&keys);
        assert!(decode(&bytes, keys.len()).is_ok());
        let (abc, ab) = (state_of(&bytes, "abc"), state_of(&bytes, "ab"));
        let fail_of = |s: usize| 4 + s * STATE_BYTES + 4;
        // A failure link back down the trie: a scan of "abx" would go round forever.
        let looping = with_word(&bytes, fail_of(ab), abc as u32);
        assert!(DoubleArrayAhoCorasick::<u32>::deserialize(&looping).is_ok());
        assert!(decode(&looping, keys.len()).is_err());
        // An output longer than the text read to reach it.
        let abcd = state_of(&bytes, "abcd");
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let output = (word(4 + abcd * STATE_BYTES + 8) >> 8) as usize;
        let states = word(0) as usize;
        let outputs_at = 4 + states * STATE_BYTES + 4 + 4 + 4;
        let abcd_output = outputs_at + (output - 1) * OUTPUT_BYTES;
        let long = with_word(&bytes, abcd_output + 4, 5);
        assert!(DoubleArrayAhoCorasick::<u32>::deserialize(&long).is_ok());
        assert!(decode(&long, keys.len()).is_err());
        // A value that is none of the keys.
        let no_key = with_word(&bytes, abcd_output, keys.len() as u32);
        assert!(DoubleArrayAhoCorasick::<u32>::deserialize(&no_key).is_ok());
        assert!(decode(&no_key, keys.len()).is_err());
        // Cut, lengthened, or out of bounds: daachorse's own checks.
        assert!(decode(&bytes[..bytes.len() - 1], keys.len()).is_err());
        assert!(decode(&[bytes.as_slice(), &[0]].concat(), keys.len()).is_err());
        assert!(decode(&with_word(&bytes, fail_of(ab), u32::MAX), keys.len()).is_err());
    }

    /// Every damaged byte of the states and outputs is refused or leaves an automaton whose
    /// scans end, inside the text. (The prefilter after them is left out: daachorse checks
    /// it whole, and its table only lets the scan skip text.)
    #[test]
    fn a_damaged_automaton_never_hangs_or_panics() {
        let keys = ["abcd", "bcd", "cd", "中国", "国"];
        let bytes = DoubleArrayAhoCorasickBuilder::new()
            .use_prefilter(false)
            .build_with_values(keys.iter().zip(0u32..))
            .unwrap()
            .serialize();
        let text = "xabcdabcd中国国bcd";
        let mut refused = 0;
        for at in 0..bytes.len() {
            for value in [0u8, 1, 0x80, 0xff, bytes[at] ^ 1] {
                let mut damaged = bytes.clone();
                damaged[at] = value;
                match decode(&damaged, keys.len()) {
                    Ok(Some(read)) => {
                        for (range, _) in read.matches(text) {
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
