//! Step 7: traditional Chinese characters converted to simplified ones (一帶一路 → 一带一路),
//! so that a query in either script finds a term stored in the other. Only the key changes:
//! stored terms keep their own script.

use zhconv::{get_builtin_converter, Variant, ZhConverter};

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
        convert_han_runs(get_builtin_converter(Variant::ZhHans), input, out)
    }
}

/// The step with any converter, so that tests can give it tables that change a run's length.
fn convert_han_runs(
    converter: &ZhConverter,
    input: &[MappedChar],
    out: &mut Vec<MappedChar>,
) -> bool {
    let (mut run, mut converted, mut scratch) = (String::new(), String::new(), String::new());
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
        run.clear();
        run.extend(chars.iter().map(|m| m.ch));
        convert(converter, &run, &mut converted, &mut scratch);
        if converted == run {
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
        if converted.chars().count() == len {
            out.extend(
                chars
                    .iter()
                    .zip(converted.chars())
                    .map(|(m, ch)| m.with_char(ch)),
            );
        } else {
            for m in chars {
                run.clear();
                run.push(m.ch);
                convert(converter, &run, &mut converted, &mut scratch);
                out.extend(converted.chars().map(|ch| m.with_char(ch)));
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use zhconv::ZhConverter;

    use super::{convert_han_runs, HantToHans};
    use crate::text::normalizer::{identity, testing::text_of};

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
        assert!(convert_han_runs(&converter, &input, &mut out));
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
        assert!(convert_han_runs(&converter, &input, &mut out));
        let ranges: Vec<_> = out.iter().map(|m| (m.ch, m.start..m.end)).collect();
        assert_eq!(ranges, [('甲', 0..3), ('丙', 3..6), ('丁', 3..6)]);
    }
}
