//! Step 9: traditional Chinese characters converted to simplified ones (一帶一路 → 一带一路),
//! so that a query in either script finds a term stored in the other. Only the key changes:
//! stored terms keep their own script.

use std::sync::OnceLock;

use zhconv::{
    get_builtin_converter, get_builtin_tables, tables::expand_table, Variant, ZhConverter,
};

use super::fast_path::is_plain_ideograph;
use super::normalizer::{MappedChar, Normalizer};
use super::script::is_han;

/// Converts each maximal run of Han characters with OpenCC's traditional → simplified tables
/// (through zhconv), longest match first: phrases decide characters whose simplified form
/// depends on the word, as 瞭 stays alone but 瞭解 becomes 了解.
///
/// When a run converts to as many characters as it had, output character `i` maps to input
/// character `i`. Otherwise the run is converted one character at a time, so that each output
/// character still maps to exactly the character it came from, at the price of losing the
/// phrase table for that run.
pub(crate) struct HantToHans;

/// How many times a run is converted at most. OpenCC's tables are not closed under themselves:
/// 薴 becomes 苧, which the same table turns into 苎. Keys must not change when normalized
/// twice, so a run is converted until it stops changing.
const MAX_PASSES: usize = 3;

/// Converts `from` into `to` (cleared first) until a fixed point; `scratch` is working space.
fn convert(converter: &ZhConverter, from: &str, to: &mut String, scratch: &mut String) {
    to.clear();
    converter.convert_to(from, to);
    // Text already simplified, nearly all of it: converting again would give it back once more.
    if to == from {
        return;
    }
    for _ in 1..MAX_PASSES {
        scratch.clear();
        converter.convert_to(to, scratch);
        if scratch == to {
            break;
        }
        std::mem::swap(to, scratch);
    }
}

impl Normalizer for HantToHans {
    fn normalize(&self, input: &[MappedChar], out: &mut Vec<MappedChar>) -> bool {
        if !input.iter().any(|m| is_han(m.ch)) {
            return false;
        }
        convert_han_runs(&mut RunConverter::new(), input, out)
    }
}

/// The common ideographs (U+3400 to U+9FFF) that some key of the builtin table starts with,
/// one bit each. The converter rewrites only the keys it finds, each found where it starts,
/// so the characters of a run before the first of these stay as they are, and a run without
/// any (most runs of simplified text) converts to itself: such text need not be copied and
/// scanned at all.
struct KeyStarts(Vec<u64>);

/// The first common ideograph [`KeyStarts`] holds a bit for.
const FIRST_PLAIN_IDEOGRAPH: u32 = 0x3400;

impl KeyStarts {
    /// The starts of the builtin traditional → simplified table's keys, read once.
    fn builtin() -> &'static KeyStarts {
        static STARTS: OnceLock<KeyStarts> = OnceLock::new();
        STARTS.get_or_init(|| {
            let mut bits = vec![0u64; 0x6C00 / 64];
            let tables = get_builtin_tables(Variant::ZhHans).iter();
            let firsts = tables
                .flat_map(|&table| expand_table(table).filter_map(|(from, _)| from.chars().next()));
            for c in firsts.filter(|&c| is_plain_ideograph(c)) {
                let at = (u32::from(c) - FIRST_PLAIN_IDEOGRAPH) as usize;
                bits[at / 64] |= 1 << (at % 64);
            }
            KeyStarts(bits)
        })
    }

    /// Whether a key may start with `c`: every character outside the common ideographs may.
    fn may_start(&self, c: char) -> bool {
        if !is_plain_ideograph(c) {
            return true;
        }
        let at = (u32::from(c) - FIRST_PLAIN_IDEOGRAPH) as usize;
        self.0[at / 64] >> (at % 64) & 1 == 1
    }
}

/// Converts single runs of Han characters exactly as the step does, keeping its buffers
/// between runs. The step uses it, and so does the memory index's shortcut for text that
/// needs no other step.
pub(crate) struct RunConverter<'a> {
    converter: &'a ZhConverter,
    /// What the converter's keys start with, when known: the characters before the first of
    /// them are not given to the converter.
    key_starts: Option<&'static KeyStarts>,
    run: String,
    converted: String,
    scratch: String,
}

impl RunConverter<'static> {
    /// A converter with the builtin traditional → simplified tables.
    pub(crate) fn new() -> RunConverter<'static> {
        RunConverter {
            key_starts: Some(KeyStarts::builtin()),
            ..RunConverter::with(get_builtin_converter(Variant::ZhHans))
        }
    }
}

impl<'a> RunConverter<'a> {
    /// A converter with any tables, so that tests can give it tables that change a run's
    /// length. Every character is given to the converter.
    fn with(converter: &'a ZhConverter) -> RunConverter<'a> {
        RunConverter {
            converter,
            key_starts: None,
            run: String::new(),
            converted: String::new(),
            scratch: String::new(),
        }
    }

    /// Converts one maximal run of Han characters, calling `emit(i, c)` for each output
    /// character `c` with the index `i` of the input character it comes from; answers whether
    /// the run changed (when it did not, nothing is emitted).
    pub(crate) fn convert(
        &mut self,
        chars: impl Iterator<Item = char> + Clone,
        mut emit: impl FnMut(usize, char),
    ) -> bool {
        // No key starts before `kept`: those characters stay, and the converter, which finds
        // each key where it starts, finds the same ones in the rest alone.
        let kept = match self.key_starts {
            Some(starts) => match chars.clone().position(|c| starts.may_start(c)) {
                Some(first) => first,
                None => return false,
            },
            None => 0,
        };
        let rest = chars.clone().skip(kept);
        self.run.clear();
        self.run.extend(rest.clone());
        convert(
            self.converter,
            &self.run,
            &mut self.converted,
            &mut self.scratch,
        );
        if self.converted == self.run {
            return false;
        }
        chars.take(kept).enumerate().for_each(|(i, c)| emit(i, c));
        if self.converted.chars().count() == self.run.chars().count() {
            self.converted
                .chars()
                .enumerate()
                .for_each(|(i, c)| emit(kept + i, c));
        } else {
            for (i, ch) in rest.enumerate() {
                self.run.clear();
                self.run.push(ch);
                convert(
                    self.converter,
                    &self.run,
                    &mut self.converted,
                    &mut self.scratch,
                );
                self.converted.chars().for_each(|c| emit(kept + i, c));
            }
        }
        true
    }
}

/// The step with any run converter.
fn convert_han_runs(
    runs: &mut RunConverter<'_>,
    input: &[MappedChar],
    out: &mut Vec<MappedChar>,
) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < input.len() {
        let len = input[i..].iter().take_while(|m| is_han(m.ch)).count();
        if len == 0 {
            if changed {
                out.push(input[i]);
            }
            i += 1;
            continue;
        }
        let chars = &input[i..i + len];
        i += len;
        let mut converted = Vec::new();
        if !runs.convert(chars.iter().map(|m| m.ch), |at, ch| {
            converted.push(chars[at].with_char(ch));
        }) {
            if changed {
                out.extend_from_slice(chars);
            }
            continue;
        }
        if !changed {
            out.reserve(input.len());
            out.extend_from_slice(&input[..i - len]);
            changed = true;
        }
        out.extend(converted);
    }
    changed
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use zhconv::{get_builtin_converter, Variant, ZhConverter};

    use super::{convert_han_runs, HantToHans, RunConverter};
    use crate::text::normalizer::{identity, testing::text_of};

    /// What a run converter emits for `run`, and whether it answered that the run changed.
    fn emitted(runs: &mut RunConverter<'_>, run: &str) -> (bool, Vec<(usize, char)>) {
        let mut out = Vec::new();
        let changed = runs.convert(run.chars(), |i, c| out.push((i, c)));
        (changed, out)
    }

    /// Characters for runs: simplified ones, traditional ones, phrase keys' characters (瞭解,
    /// 乾坤), a character the table takes twice (薴) and rarer Han characters.
    const RUN_CHARS: &str = "上海合作组织一带一路的是了在和中国組織帶書乾坤瞭解薴苧發展經濟𠀀〇々";

    proptest! {
        #[test]
        fn skipping_to_the_first_key_start_changes_nothing(
            picks in proptest::collection::vec(0..RUN_CHARS.chars().count(), 0..24)
        ) {
            let chars: Vec<char> = RUN_CHARS.chars().collect();
            let run: String = picks.iter().map(|&i| chars[i]).collect();
            let every_char = RunConverter::with(get_builtin_converter(Variant::ZhHans));
            prop_assert_eq!(
                emitted(&mut RunConverter::new(), &run),
                emitted(&mut { every_char }, &run)
            );
        }
    }

    #[test]
    fn no_key_starts_with_a_character_left_out() {
        let converter = get_builtin_converter(Variant::ZhHans);
        let starts = super::KeyStarts::builtin();
        assert!("組織帶書乾瞭一".chars().all(|c| starts.may_start(c)));
        assert!(!"的是了在组织带".chars().any(|c| starts.may_start(c)));
        let unchanged: Vec<char> = ('\u{3400}'..='\u{9FFF}')
            .filter(|&c| !starts.may_start(c))
            .collect();
        assert!(unchanged.len() > 20_000);
        for c in unchanged {
            for run in [format!("{c}"), format!("{c}{c}"), format!("{c}一")] {
                assert_eq!(converter.convert(&run), run);
            }
        }
    }

    test_normalizer!(HantToHans,
        belt_and_road_becomes_simplified: "一帶一路" => "一带一路", "一带一路";
        sco_becomes_simplified: "上海合作組織" => "上海合作组织", "上海合作组织";
        simplified_text_is_unchanged: "共建一带一路倡议" => "共建一带一路倡议", "共建一带一路倡议";
        only_han_runs_are_converted: "Taiwan 臺灣 Тайвань" => "Taiwan 台湾 Тайвань", "taiwan 台湾 тайвань";
        phrase_table_applies: "瞭解" => "了解", "了解";
        character_without_its_phrase_stays: "瞭" => "瞭", "瞭";
        conversion_reaches_a_fixed_point: "薴" => "苎", "苎";
    );

    #[test]
    fn converted_chars_keep_their_own_origins() {
        let out = crate::text::normalizer::testing::apply(&HantToHans, "a組織");
        let ranges: Vec<_> = out.iter().map(|m| (m.ch, m.start..m.end)).collect();
        assert_eq!(ranges, [('a', 0..1), ('组', 1..4), ('织', 4..7)]);
    }

    #[test]
    fn run_that_changes_length_is_converted_char_by_char() {
        // A phrase rule that shortens its run would leave no exact origin for each output
        // character, so the run falls back to the character rules.
        let converter = ZhConverter::from_pairs([("組織", "组"), ("組", "组"), ("織", "织")]);
        let input = identity("a組織b");
        let mut out = Vec::new();
        assert!(convert_han_runs(
            &mut RunConverter::with(&converter),
            &input,
            &mut out
        ));
        assert_eq!(text_of(&out), "a组织b");
        let ranges: Vec<_> = out.iter().map(|m| (m.ch, m.start..m.end)).collect();
        assert_eq!(
            ranges,
            [('a', 0..1), ('组', 1..4), ('织', 4..7), ('b', 7..8)]
        );
    }

    #[test]
    fn char_that_expands_maps_every_output_char_to_itself() {
        let converter = ZhConverter::from_pairs([("乙", "丙丁")]);
        let input = identity("甲乙");
        let mut out = Vec::new();
        assert!(convert_han_runs(
            &mut RunConverter::with(&converter),
            &input,
            &mut out
        ));
        let ranges: Vec<_> = out.iter().map(|m| (m.ch, m.start..m.end)).collect();
        assert_eq!(ranges, [('甲', 0..3), ('丙', 3..6), ('丁', 3..6)]);
    }
}
