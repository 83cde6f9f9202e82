//! Step 10 (last): whitespace collapsed, so that line breaks, tabs, non-breaking and
//! ideographic spaces and the spaces earlier steps inserted all become single ASCII spaces,
//! and leading or trailing whitespace never changes a key.

use super::normalizer::{MappedChar, Normalizer};

/// Turns every run of Unicode whitespace (`char::is_whitespace`) into one ASCII space mapped to
/// the whole run, and drops whitespace at both ends.
pub(crate) struct Whitespace;

/// Whether `input` already has only single ASCII spaces, and none at either end.
fn is_collapsed(input: &[MappedChar]) -> bool {
    let edge_space = |m: Option<&MappedChar>| m.is_some_and(|m| m.ch.is_whitespace());
    if edge_space(input.first()) || edge_space(input.last()) {
        return false;
    }
    let mut previous_space = false;
    for m in input {
        let space = m.ch.is_whitespace();
        if space && (m.ch != ' ' || previous_space) {
            return false;
        }
        previous_space = space;
    }
    true
}

impl Normalizer for Whitespace {
    fn normalize(&self, input: &[MappedChar], out: &mut Vec<MappedChar>) -> bool {
        if is_collapsed(input) {
            return false;
        }
        out.reserve(input.len());
        // The pending run of whitespace: emitted only once a non-space follows it.
        let mut run: Option<MappedChar> = None;
        for &m in input {
            if m.ch.is_whitespace() {
                run = Some(match run {
                    None => m.with_char(' '),
                    Some(r) => MappedChar { end: m.end, ..r },
                });
                continue;
            }
            if let Some(r) = run.take() {
                if !out.is_empty() {
                    out.push(r);
                }
            }
            out.push(m);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Whitespace;

    test_normalizer!(Whitespace,
        runs_collapse_and_ends_are_trimmed: "  a \t\n b  " => "a b", "a b";
        non_breaking_and_ideographic_spaces_collapse: "a\u{A0}b\u{3000}c" => "a b c", "a b c";
        line_separator_collapses: "a\u{2028}\u{2029}b" => "a b", "a b";
        only_whitespace_becomes_empty: " \t\r\n " => "", "";
        collapsed_text_is_unchanged: "a b c" => "a b c", "a b c";
    );

    #[test]
    fn collapsed_space_maps_to_the_whole_run() {
        let out = crate::text::normalizer::testing::apply(&Whitespace, " a \t b ");
        let ranges: Vec<_> = out.iter().map(|m| (m.ch, m.start..m.end)).collect();
        assert_eq!(ranges, [('a', 1..2), (' ', 2..5), ('b', 5..6)]);
    }
}
