//! Step 8: whitespace between two Chinese characters removed, so that a term broken across a
//! line (上海合作 at the end of one line, 组织 at the start of the next) or spaced out in a
//! heading or a PDF is still one term. Chinese is written without spaces, so such whitespace
//! never separates words the way it does in Russian or English.

use super::normalizer::{MappedChar, Normalizer};
use super::script::is_han;

/// Drops every run of whitespace whose neighbours on both sides are Han characters.
///
/// Whitespace next to anything else stays for the last step to collapse: `上海 SCO` and
/// `SCO 上海` keep their space. The dropped characters belong to no output character, so a
/// match across the break covers the break in the original text, and one ending at the
/// break does not.
pub(crate) struct HanSpace;

/// The whitespace runs of `input` with Han characters on both sides, as index ranges.
fn runs_between_han(input: &[MappedChar]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < input.len() {
            let start = at;
            if !input[start].ch.is_whitespace() {
                at += 1;
                continue;
            }
            let end = input[start..]
                .iter()
                .position(|m| !m.ch.is_whitespace())
                .map_or(input.len(), |n| start + n);
            at = end;
            let han_before = start > 0 && is_han(input[start - 1].ch);
            if han_before && input.get(end).is_some_and(|m| is_han(m.ch)) {
                return Some(start..end);
            }
        }
        None
    })
}

impl Normalizer for HanSpace {
    fn normalize(&self, input: &[MappedChar], out: &mut Vec<MappedChar>) -> bool {
        let mut runs = runs_between_han(input).peekable();
        if runs.peek().is_none() {
            return false;
        }
        out.reserve(input.len());
        let mut copied = 0;
        for run in runs {
            out.extend_from_slice(&input[copied..run.start]);
            copied = run.end;
        }
        out.extend_from_slice(&input[copied..]);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::HanSpace;

    test_normalizer!(HanSpace,
        line_break_inside_a_term_disappears: "上海合作\n组织" => "上海合作组织", "上海合作组织";
        spaced_out_heading_is_joined: "中 吉 乌\u{3000}铁路" => "中吉乌铁路", "中吉乌铁路";
        carriage_return_and_spaces_disappear: "交通物流 \r\n 通道" => "交通物流通道", "交通物流通道";
        space_next_to_latin_stays: "上海 SCO 峰会" => "上海 SCO 峰会", "上海 sco 峰会";
        space_next_to_punctuation_stays: "共建 “一带一路”" => "共建 “一带一路”", "共建 \"一带一路\"";
        traditional_run_is_converted_whole: "上海合作\n組織" => "上海合作組織", "上海合作组织";
        text_without_han_is_unchanged: "a \n b" => "a \n b", "a b";
    );

    #[test]
    fn the_break_belongs_to_no_character() {
        let out = crate::text::normalizer::testing::apply(&HanSpace, "作\n组");
        let ranges: Vec<_> = out.iter().map(|m| (m.ch, m.start..m.end)).collect();
        assert_eq!(ranges, [('作', 0..3), ('组', 4..7)]);
    }
}
