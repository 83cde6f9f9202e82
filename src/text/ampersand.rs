//! Step 6: `&` spelled `and`, so that «Belt & Road» and «Belt and Road», «R&D» and «R and D»
//! share one key.

use super::normalizer::{rewrite_chars, MappedChar, Normalizer};

/// Replaces `&` with ` and `, every character of which maps back to the `&`.
///
/// The spaces keep `R&D` from becoming the word `randd`; the whitespace step then collapses
/// them with any spaces that were already around the `&`.
pub(crate) struct Ampersand;

impl Normalizer for Ampersand {
    fn normalize(&self, input: &[MappedChar], out: &mut Vec<MappedChar>) -> bool {
        rewrite_chars(input, out, |c| (c == '&').then(|| " and ".chars()))
    }
}

#[cfg(test)]
mod tests {
    use super::Ampersand;

    test_normalizer!(Ampersand,
        spaced_ampersand_becomes_and: "Belt & Road" => "Belt  and  Road", "belt and road";
        ampersand_inside_a_word_splits_it: "R&D" => "R and D", "r and d";
        full_width_ampersand_becomes_and_through_nfkc: "R＆D" => "R＆D", "r and d";
        trailing_ampersand_leaves_no_space: "a &" => "a  and ", "a and";
    );

    #[test]
    fn every_char_of_and_maps_back_to_the_ampersand() {
        let out = crate::text::normalizer::testing::apply(&Ampersand, "R&D");
        let ranges: Vec<_> = out.iter().map(|m| m.start..m.end).collect();
        assert_eq!(ranges, [0..1, 1..2, 1..2, 1..2, 1..2, 1..2, 2..3]);
    }
}
