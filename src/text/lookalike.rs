//! Step 7: letters of another script that look like the letters around them folded into the
//! word's own script, so that ШОС typed with a Latin `O` and `C`, or SCO with a Cyrillic `С`,
//! meets the term. Keyboards switched half-way through a word and text pasted from PDFs make
//! such words; a reader cannot see the difference, a string comparison can.

use super::normalizer::{MappedChar, Normalizer};
use super::script::{is_cyrillic, is_han, is_latin};

/// Folds the letters of a word that mixes Latin, Cyrillic and Greek into one of them.
///
/// The word's script is the one its unambiguous letters (those with no lookalike in the other
/// scripts, such as `ш`, `g` or `λ`) belong to; when they belong to none or to several, the
/// script with the most letters, and on a tie the word is left as it is. Only letters with a
/// lookalike in that script change. Words in one script, whatever their letters, are never
/// touched: `sex` stays Latin and `сех` Cyrillic.
///
/// A word is a run of letters (`char::is_alphabetic`) other than Chinese characters; digits,
/// marks, hyphens, spaces and Chinese characters end it (`上海SCO` holds the word `SCO`). Runs after case folding, so the table holds lower-case letters only, paired by how
/// their capitals look (`н` with `h`, since `Н` is `H`), as words are most often typed in
/// capitals when they mix scripts (acronyms).
pub(crate) struct Lookalike;

/// One letter shape: its Latin, Cyrillic and Greek lower-case forms, where the script has it.
struct Shape {
    latin: Option<char>,
    cyrillic: Option<char>,
    greek: Option<char>,
}

/// `c`, or `None` for `-`.
const fn letter(c: char) -> Option<char> {
    if c == '-' {
        None
    } else {
        Some(c)
    }
}

const fn shape(latin: char, cyrillic: char, greek: char) -> Shape {
    Shape {
        latin: letter(latin),
        cyrillic: letter(cyrillic),
        greek: letter(greek),
    }
}

/// Letters whose capitals (or, for `ϲ` and `ϳ`, the letters themselves) look alike in the
/// three scripts; `-` where a script has no such letter.
const SHAPES: &[Shape] = &[
    shape('a', 'а', 'α'),
    shape('b', 'в', 'β'),
    shape('c', 'с', 'ϲ'),
    shape('e', 'е', 'ε'),
    shape('h', 'н', 'η'),
    shape('i', 'і', 'ι'),
    shape('j', 'ј', 'ϳ'),
    shape('k', 'к', 'κ'),
    shape('m', 'м', 'μ'),
    shape('n', '-', 'ν'),
    shape('o', 'о', 'ο'),
    shape('p', 'р', 'ρ'),
    shape('s', 'ѕ', '-'),
    shape('t', 'т', 'τ'),
    shape('x', 'х', 'χ'),
    shape('y', 'у', 'υ'),
    shape('z', '-', 'ζ'),
];

/// The three scripts whose letters are folded into one another.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Script {
    Latin = 0,
    Cyrillic = 1,
    Greek = 2,
}

impl Script {
    const ALL: [Script; 3] = [Script::Latin, Script::Cyrillic, Script::Greek];

    fn of(c: char) -> Option<Script> {
        if is_latin(c) {
            Some(Script::Latin)
        } else if is_cyrillic(c) {
            Some(Script::Cyrillic)
        } else if matches!(c, '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}') {
            Some(Script::Greek)
        } else {
            None
        }
    }

    fn letter(self, shape: &Shape) -> Option<char> {
        match self {
            Script::Latin => shape.latin,
            Script::Cyrillic => shape.cyrillic,
            Script::Greek => shape.greek,
        }
    }
}

/// The shape `c` has, if it has a lookalike in another script.
fn shape_of(c: char) -> Option<&'static Shape> {
    SHAPES.iter().find(|shape| {
        Script::ALL
            .iter()
            .any(|script| script.letter(shape) == Some(c))
    })
}

/// The script a word mixing scripts is folded into, or `None` to leave it as it is.
fn target_script(word: &[MappedChar]) -> Option<Script> {
    let mut letters = [0usize; 3];
    for script in word.iter().filter_map(|m| Script::of(m.ch)) {
        letters[script as usize] += 1;
    }
    if letters.iter().filter(|&&n| n > 0).count() < 2 {
        return None;
    }
    // Only a word that mixes scripts searches the table, letter by letter.
    let mut unambiguous = [false; 3];
    for m in word {
        if let Some(script) = Script::of(m.ch) {
            unambiguous[script as usize] |= shape_of(m.ch).is_none();
        }
    }
    let mut by_letters = Script::ALL.iter().filter(|s| unambiguous[**s as usize]);
    if let (Some(&only), None) = (by_letters.next(), by_letters.next()) {
        return Some(only);
    }
    let most = letters.iter().copied().max().unwrap_or(0);
    let mut leaders = Script::ALL.iter().filter(|s| letters[**s as usize] == most);
    match (leaders.next(), leaders.next()) {
        (Some(&leader), None) => Some(leader),
        _ => None,
    }
}

/// Whether `c` continues a word.
fn in_word(c: char) -> bool {
    c.is_alphabetic() && !is_han(c)
}

/// Positions in `input` and the letters to put there.
fn foldings(input: &[MappedChar]) -> Vec<(usize, char)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < input.len() {
        if !in_word(input[start].ch) {
            start += 1;
            continue;
        }
        let end = input[start..]
            .iter()
            .position(|m| !in_word(m.ch))
            .map_or(input.len(), |n| start + n);
        if let Some(target) = target_script(&input[start..end]) {
            for (i, m) in input.iter().enumerate().take(end).skip(start) {
                if Script::of(m.ch) == Some(target) {
                    continue;
                }
                if let Some(folded) = shape_of(m.ch).and_then(|shape| target.letter(shape)) {
                    out.push((i, folded));
                }
            }
        }
        start = end;
    }
    out
}

impl Normalizer for Lookalike {
    fn normalize(&self, input: &[MappedChar], out: &mut Vec<MappedChar>) -> bool {
        // Most text has no letter of the second or third script at all: answer it in one pass.
        let mut scripts = input.iter().filter_map(|m| Script::of(m.ch));
        let Some(first) = scripts.next() else {
            return false;
        };
        if scripts.all(|s| s == first) {
            return false;
        }
        let foldings = foldings(input);
        if foldings.is_empty() {
            return false;
        }
        out.extend_from_slice(input);
        for (i, c) in foldings {
            out[i] = input[i].with_char(c);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::{Lookalike, Script, SHAPES};

    test_normalizer!(Lookalike,
        latin_o_and_c_in_a_cyrillic_acronym: "шoc" => "шос", "шос";
        capitals_are_left_to_case_folding_before: "ШOC" => "ШOC", "шос";
        cyrillic_es_in_a_latin_acronym: "sсo" => "sco", "sco";
        greek_omicron_in_a_latin_acronym: "scο summit" => "sco summit", "sco summit";
        latin_k_in_a_cyrillic_word: "Kитая" => "Kитая", "китая";
        one_script_words_are_untouched: "sex сех ΝΑΤΟ" => "sex сех ΝΑΤΟ", "sex сех νατο";
        each_word_is_folded_on_its_own: "sсo и шoc" => "sco и шос", "sco и шос";
        a_tie_without_unambiguous_letters_is_left_alone: "μm" => "μm", "μm";
        letters_without_a_lookalike_stay: "шanghai" => "шanghai", "шanghai";
        han_characters_end_a_word: "上海sсo2" => "上海sco2", "上海sco2";
        han_between_scripts_keeps_them_apart: "м一一pa" => "м一一pa", "м一一pa";
    );

    #[test]
    fn every_letter_of_the_table_is_of_its_column_script_and_appears_once() {
        let mut seen = Vec::new();
        for shape in SHAPES {
            for script in Script::ALL {
                if let Some(c) = script.letter(shape) {
                    assert_eq!(Script::of(c), Some(script), "{c}");
                    assert!(c.is_lowercase(), "{c}");
                    assert!(!seen.contains(&c), "{c} twice");
                    seen.push(c);
                }
            }
        }
    }

    #[test]
    fn a_folded_letter_keeps_its_origin() {
        let out = crate::text::normalizer::testing::apply(&Lookalike, "шoc");
        let ranges: Vec<_> = out.iter().map(|m| (m.ch, m.start..m.end)).collect();
        assert_eq!(ranges, [('ш', 0..2), ('о', 2..3), ('с', 3..4)]);
    }
}
