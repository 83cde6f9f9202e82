//! Step 1: Unicode NFKC, so that full-width `ＳＣＯ１２`, ligatures, compatibility ideographs
//! and decomposed accents all reach the later steps in one canonical spelling.

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};
use unicode_segmentation::UnicodeSegmentation;

use super::normalizer::{MappedChar, Normalizer};

/// NFKC, applied per extended grapheme cluster.
///
/// NFKC is not a per-character mapping: combining marks are reordered and composed with their
/// base. Canonical composition never crosses a grapheme cluster boundary, so normalizing each
/// cluster on its own gives NFKC's result while telling which original bytes produced each
/// output character: all of the cluster's, when the cluster changes. Unchanged clusters keep
/// their per-character origins.
pub(crate) struct Nfkc;

/// Whether NFKC can treat the text before `c` and the text from `c` on separately: `c` is a
/// starter that never composes with what precedes it, and canonical reordering stops at
/// starters. Cutting the text there keeps the slow path (a string, cluster segmentation) to the
/// short stretches that need it. Clusters are never merged across such a cut; the few that
/// straddle one (CR LF, prepended marks) only get finer origins.
fn starts_independent_chunk(c: char) -> bool {
    c.is_ascii() || matches!(c, '\u{0410}'..='\u{044F}' | '\u{4E00}'..='\u{9FFF}')
}

impl Normalizer for Nfkc {
    fn normalize(&self, input: &[MappedChar], out: &mut Vec<MappedChar>) -> bool {
        let mut changed = false;
        let (mut text, mut normalized) = (String::new(), Vec::new());
        let mut i = 0;
        while i < input.len() {
            // The chunk starting at `i` runs up to the next independent character.
            let end = input[i + 1..]
                .iter()
                .position(|m| starts_independent_chunk(m.ch))
                .map_or(input.len(), |n| i + 1 + n);
            let chunk = &input[i..end];
            let at = i;
            i = end;
            let stable = match chunk {
                [single] if starts_independent_chunk(single.ch) => true,
                _ => is_nfkc_quick(chunk.iter().map(|m| m.ch)) == IsNormalized::Yes,
            };
            if !stable {
                text.clear();
                text.extend(chunk.iter().map(|m| m.ch));
                normalized.clear();
                if normalize_clusters(&text, chunk, &mut normalized) {
                    if !changed {
                        out.reserve(input.len());
                        out.extend_from_slice(&input[..at]);
                        changed = true;
                    }
                    out.extend_from_slice(&normalized);
                    continue;
                }
            }
            if changed {
                out.extend_from_slice(chunk);
            }
        }
        changed
    }
}

/// Appends the NFKC form of `text`, whose characters are `chars`, to `out` cluster by cluster;
/// returns whether anything changed.
fn normalize_clusters(text: &str, chars: &[MappedChar], out: &mut Vec<MappedChar>) -> bool {
    let mut changed = false;
    let mut rest = chars;
    for cluster in text.graphemes(true) {
        let (cluster_chars, tail) = rest.split_at(cluster.chars().count().min(rest.len()));
        rest = tail;
        let (Some(first), Some(last)) = (cluster_chars.first(), cluster_chars.last()) else {
            continue;
        };
        if is_nfkc_quick(cluster.chars()) != IsNormalized::Yes {
            let before = out.len();
            let origin = MappedChar {
                ch: first.ch,
                start: first.start,
                end: last.end,
            };
            out.extend(cluster.nfkc().map(|ch| origin.with_char(ch)));
            if !out[before..].iter().map(|m| m.ch).eq(cluster.chars()) {
                changed = true;
                continue;
            }
            // Only "maybe" and in fact normalized: keep the finer per-character origins.
            out.truncate(before);
        }
        out.extend_from_slice(cluster_chars);
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::Nfkc;

    test_normalizer!(Nfkc,
        full_width_latin_becomes_ascii: "ＳＣＯ" => "SCO", "sco";
        full_width_digits_become_ascii: "１２" => "12", "12";
        decomposed_short_i_composes: "и\u{306}" => "й", "й";
        decomposed_yo_composes: "е\u{308}" => "ё", "е";
        ligature_splits: "ﬁnance" => "finance", "finance";
        kangxi_radical_becomes_ideograph: "⼀带⼀路" => "一带一路", "一带一路";
        compatibility_ideograph_becomes_unified: "\u{F907}" => "\u{9F9C}", "龟";
        already_normalized_text_is_unchanged: "Шанхайский дух 上海" => "Шанхайский дух 上海", "шанхайский дух 上海";
    );

    #[test]
    fn composed_character_maps_to_its_whole_cluster() {
        let input = "xи\u{306}y";
        let out = crate::text::normalizer::testing::apply(&Nfkc, input);
        let ranges: Vec<_> = out.iter().map(|m| (m.ch, m.start..m.end)).collect();
        assert_eq!(ranges, [('x', 0..1), ('й', 1..5), ('y', 5..6)]);
    }

    #[test]
    fn expansion_maps_every_output_char_to_the_source() {
        let input = "1㎒";
        let out = crate::text::normalizer::testing::apply(&Nfkc, input);
        let ranges: Vec<_> = out.iter().map(|m| (m.ch, m.start..m.end)).collect();
        assert_eq!(ranges, [('1', 0..1), ('M', 1..4), ('H', 1..4), ('z', 1..4)]);
    }
}
