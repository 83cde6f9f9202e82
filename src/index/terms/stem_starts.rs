//! The terms that may start at a word of a text, by its stem, each with a fingerprint of its
//! whole stem sequence: Recognize's stem matching tries every term whose first stem is a
//! word's, and most of them differ in a later stem.
//!
//! At 10⁶ terms a common first word starts dozens to thousands of terms («международный»,
//! "state", a two-syllable word of the benchmark's). Confirming each by its stems read them
//! where the term keeps them, three reads from memory no cache holds per candidate: without
//! those reads the benchmark's English and Russian articles are recognized a fifth faster.
//! Here each candidate's stem count and fingerprint sit beside its id in one array: the text's
//! windows are fingerprinted from the hashes of its words' stems, and only a candidate whose
//! fingerprint agrees is compared stem by stem (a fingerprint may collide; the comparison
//! decides).
//!
//! A run also says whether the term's key is its stems joined by spaces, as an English term
//! without a plural is ("belt and road"): where the text is written as such a term's stems,
//! it is written as the term's key, which the automaton matches, and the candidate is left
//! without reading its key. Of the benchmark's English article's 661 agreeing candidates,
//! about 520 were such matches found twice.

use super::persisted::invalid;
use super::IndexedTerm;
use crate::index::flat::{FlatError, FlatReader, FlatWriter};
use crate::index::key_table::{KeyTable, TermId};

/// Terms by their first stem, with each one's [`StemRun`].
pub(in crate::index) struct StemStarts {
    /// Terms by first stem; its hasher also hashes the stems runs are made of.
    table: KeyTable,
    /// The run of each entry of `table`, in its order.
    runs: Vec<StemRun>,
}

/// A term's stem count and a fingerprint of its stems, packed in one word: whether its key
/// is its stems joined by spaces in the top bit, the count in the next seven (saturated: a
/// count of [`StemRun::MANY`] or more says nothing), the fingerprint of the stems' hashes in
/// the rest.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(in crate::index) struct StemRun(u64);

impl StemRun {
    /// The saturated count: runs of this many stems or more are always compared.
    const MANY: usize = 0x7F;
    const COUNT_SHIFT: u32 = 56;
    const FINGERPRINT: u64 = (1 << Self::COUNT_SHIFT) - 1;
    const KEY_IS_STEMS: u64 = 1 << 63;

    /// The run of stems whose hashes are `hashes`, of a term whose key is those stems
    /// joined by spaces when `key_is_stems` is set.
    fn of(hashes: impl Iterator<Item = u64>, key_is_stems: bool) -> StemRun {
        let (count, fingerprint) = hashes.fold((0usize, 0u64), |(count, fingerprint), hash| {
            (count + 1, extend(fingerprint, hash))
        });
        let run = StemRun::packed(count, fingerprint);
        if key_is_stems {
            StemRun(run.0 | Self::KEY_IS_STEMS)
        } else {
            run
        }
    }

    fn packed(count: usize, fingerprint: u64) -> StemRun {
        let count = count.min(Self::MANY) as u64;
        StemRun(count << Self::COUNT_SHIFT | fingerprint & Self::FINGERPRINT)
    }

    /// How many stems the run has, unless it has [`MANY`](Self::MANY) or more.
    pub fn count(self) -> Option<usize> {
        let count = (self.0 >> Self::COUNT_SHIFT) as usize & Self::MANY;
        (count < Self::MANY).then_some(count)
    }

    /// Whether the term's key is its stems joined by spaces.
    pub fn key_is_stems(self) -> bool {
        self.0 & Self::KEY_IS_STEMS != 0
    }

    /// The count and fingerprint alone, as a text's run is made.
    fn counted(self) -> StemRun {
        StemRun(self.0 & !Self::KEY_IS_STEMS)
    }
}

/// A fingerprint extended by one more stem's hash: order matters, so that "road belt" is not
/// "belt road".
fn extend(fingerprint: u64, hash: u64) -> u64 {
    (fingerprint ^ hash)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(29)
}

impl StemStarts {
    /// The table of every term of `terms` that has stems; `key_is_stems` says of a term id
    /// whether its key is its stems joined by spaces.
    pub fn build(terms: &[IndexedTerm], key_is_stems: impl Fn(TermId) -> bool) -> StemStarts {
        let table = KeyTable::build(
            terms
                .iter()
                .enumerate()
                .filter_map(|(id, term)| Some((&**term.stems.first()?, id as TermId))),
        );
        let runs = table
            .ids()
            .iter()
            .map(|&id| {
                let hashes = terms[id as usize].stems.iter().map(|stem| table.hash(stem));
                StemRun::of(hashes, key_is_stems(id))
            })
            .collect();
        StemStarts { table, runs }
    }

    /// The hash of a stem, from which the text's runs are fingerprinted
    /// ([`TextRuns`]): one per distinct word of a text.
    pub fn hash(&self, stem: &str) -> u64 {
        self.table.hash(stem)
    }

    /// The terms that may start at a word whose stem has `hash`, each with its run: every
    /// term with that first stem, and rarely one whose first stem only shares the hash.
    pub fn starting(&self, hash: u64) -> Starting<'_> {
        let entries = self.table.entries_of(hash);
        Starting {
            ids: &self.table.ids()[entries.clone()],
            runs: &self.runs[entries],
        }
    }

    /// Appends the table to a persisted index's body.
    pub fn write(&self, out: &mut FlatWriter) {
        self.table.write(out);
        out.u64s(&self.runs.iter().map(|run| run.0).collect::<Vec<_>>());
    }

    /// Reads a table [`write`](Self::write) appended, for an index of `terms` terms. The
    /// runs are trusted as the body's checksum vouches for them and the key hasher's probe
    /// for their hashes: a wrong one could only hide a stem match, never report a false one.
    pub fn read(body: &mut FlatReader<'_>, terms: usize) -> Result<StemStarts, FlatError> {
        let table = KeyTable::read(body, terms)?;
        let runs: Vec<StemRun> = body.u64s("stem runs")?.into_iter().map(StemRun).collect();
        if runs.len() != table.ids().len() {
            return Err(invalid("stem runs", "not one per entry"));
        }
        Ok(StemStarts { table, runs })
    }
}

/// The terms that may start at one word, with their runs (see [`StemStarts::starting`]).
#[derive(Clone, Copy)]
pub(in crate::index) struct Starting<'t> {
    ids: &'t [TermId],
    runs: &'t [StemRun],
}

impl<'t> Starting<'t> {
    /// Each term with its run.
    pub fn iter(self) -> impl Iterator<Item = (TermId, StemRun)> + 't {
        self.ids.iter().copied().zip(self.runs.iter().copied())
    }
}

/// The runs of a text's stems from one token on, worked out as far as the candidates there ask.
pub(in crate::index) struct TextRuns<'a> {
    /// The hash of the stem of each distinct word of the text ([`StemStarts::hash`]).
    hashes: &'a [u64],
    /// Each token's position among the distinct words ([`text::Words`](crate::text::Words)).
    of_token: &'a [u32],
    /// The token runs start at.
    start: usize,
    /// The fingerprints of the runs of 1, 2, … stems from `start` worked out so far.
    fingerprints: Vec<u64>,
}

impl<'a> TextRuns<'a> {
    /// The runs of a text whose tokens' words are at `of_token` in `hashes`.
    pub fn new(hashes: &'a [u64], of_token: &'a [u32]) -> TextRuns<'a> {
        TextRuns {
            hashes,
            of_token,
            start: 0,
            fingerprints: Vec::new(),
        }
    }

    /// Whether a term with `run` may start at token `start`: its stem count and fingerprint
    /// are the text's there (or it has too many stems to tell). The caller compares stems.
    pub fn may_start_at(&mut self, start: usize, run: StemRun) -> bool {
        if self.start != start {
            self.start = start;
            self.fingerprints.clear();
        }
        match run.count() {
            Some(count) => self.run(count) == Some(run.counted()),
            None => true,
        }
    }

    /// The run of `count` stems from the current start, if the text has that many stemmed
    /// tokens there.
    fn run(&mut self, count: usize) -> Option<StemRun> {
        while self.fingerprints.len() < count {
            let token = self.of_token.get(self.start + self.fingerprints.len())?;
            let hash = *self.hashes.get(*token as usize)?;
            let before = self.fingerprints.last().copied().unwrap_or(0);
            self.fingerprints.push(extend(before, hash));
        }
        let fingerprint = *self.fingerprints.get(count.checked_sub(1)?)?;
        Some(StemRun::packed(count, fingerprint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(stems: &[&str]) -> IndexedTerm {
        IndexedTerm {
            concept: 0,
            section: 0,
            term: 0,
            stems: stems.iter().map(|&stem| Box::from(stem)).collect(),
        }
    }

    /// The terms of `starts` whose runs agree with the text's (a sequence of stems) at each
    /// token, as Recognize asks for them.
    fn agreeing(starts: &StemStarts, text: &[&str]) -> Vec<(usize, TermId)> {
        let mut distinct: Vec<&str> = Vec::new();
        let word_of_token: Vec<u32> = text
            .iter()
            .map(|stem| match distinct.iter().position(|seen| seen == stem) {
                Some(at) => at as u32,
                None => {
                    distinct.push(stem);
                    distinct.len() as u32 - 1
                }
            })
            .collect();
        let hashes: Vec<u64> = distinct.iter().map(|stem| starts.hash(stem)).collect();
        let mut runs = TextRuns::new(&hashes, &word_of_token);
        let mut found = Vec::new();
        for (start, &word) in word_of_token.iter().enumerate() {
            for (id, run) in starts.starting(hashes[word as usize]).iter() {
                if runs.may_start_at(start, run) {
                    found.push((start, id));
                }
            }
        }
        found
    }

    #[test]
    fn a_run_agrees_where_the_text_has_its_stems_in_order() {
        let terms = [
            term(&["belt", "road"]),
            term(&["road", "belt"]),
            term(&["belt"]),
            term(&["belt", "road", "initi"]),
            term(&[]),
            term(&["silk", "road"]),
        ];
        // Whether a key is its stems changes nothing here.
        let starts = StemStarts::build(&terms, |id| id % 2 == 0);
        assert_eq!(
            agreeing(&starts, &["the", "belt", "road", "and", "road", "belt"]),
            [(1, 0), (1, 2), (4, 1), (5, 2)]
        );
        // The same stems in another order are another run.
        assert_eq!(agreeing(&starts, &["belt", "initi", "road"]), [(0, 2)]);
        // A run longer than what is left of the text never agrees.
        assert_eq!(agreeing(&starts, &["belt", "road"]), [(0, 0), (0, 2)]);
    }

    #[test]
    fn a_run_too_long_to_count_is_always_compared() {
        let long: Vec<String> = (0..300).map(|i| format!("w{i}")).collect();
        let long: Vec<&str> = long.iter().map(String::as_str).collect();
        let starts = StemStarts::build(&[term(&long), term(&["w0", "w1"])], |_| true);
        // The long term is a candidate at its first stem whatever follows.
        assert_eq!(agreeing(&starts, &["w0", "x"]), [(0, 0)]);
        assert_eq!(agreeing(&starts, &["w0", "w1"]), [(0, 0), (0, 1)]);
    }

    #[test]
    fn a_table_read_back_agrees_as_it_did_and_refuses_runs_that_do_not_fit() {
        let terms = [term(&["шанхайск", "дух"]), term(&["дух"]), term(&["road"])];
        let starts = StemStarts::build(&terms, |id| id == 2);
        let mut out = FlatWriter::default();
        starts.write(&mut out);
        let read = StemStarts::read(&mut FlatReader::new(&out.bytes), terms.len()).unwrap();
        let text = ["шанхайск", "дух", "road"];
        assert_eq!(agreeing(&read, &text), agreeing(&starts, &text));
        assert_eq!(agreeing(&read, &text), [(0, 0), (1, 1), (2, 2)]);
        let key_is_stems = |starts: &StemStarts| -> Vec<bool> {
            starts.runs.iter().map(|run| run.key_is_stems()).collect()
        };
        assert_eq!(key_is_stems(&read), key_is_stems(&starts));
        assert_eq!(key_is_stems(&read).iter().filter(|&&flag| flag).count(), 1);

        // The same table with one run too few.
        let mut short = FlatWriter::default();
        starts.table.write(&mut short);
        short.u64s(&starts.runs[1..].iter().map(|run| run.0).collect::<Vec<_>>());
        assert!(StemStarts::read(&mut FlatReader::new(&short.bytes), terms.len()).is_err());
    }
}
