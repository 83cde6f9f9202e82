//! Step 5: quotation marks and dashes unified, so that a term quoted «так», “so” or 「这样」, or
//! written with an en dash instead of a hyphen, still matches.

use super::normalizer::{rewrite_chars, MappedChar, Normalizer};

/// Maps every double quote to `"`, every single quote to `'` and every dash to `-`.
pub(crate) struct Punctuation;

/// The unified form of `c`, or `None` when `c` is not a quote or dash to unify.
fn unified(c: char) -> Option<char> {
    match c {
        '«' | '»' | '“' | '”' | '„' | '‟' | '「' | '」' | '『' | '』' | '＂' | '‹' | '›' => {
            Some('"')
        }
        '‘' | '’' | '‚' | '‛' => Some('\''),
        '—' | '–' | '‐' | '‑' | '‒' | '―' | '−' | '﹘' | '﹣' => Some('-'),
        _ => None,
    }
}

impl Normalizer for Punctuation {
    fn normalize(&self, input: &[MappedChar], out: &mut Vec<MappedChar>) -> bool {
        rewrite_chars(input, out, |c| unified(c).map(Some))
    }
}

#[cfg(test)]
mod tests {
    use super::Punctuation;

    test_normalizer!(Punctuation,
        guillemets_become_double_quotes: "«Шанхайский дух»" => "\"Шанхайский дух\"", "\"шанхайский дух\"";
        curly_quotes_in_chinese_become_double_quotes: "共建“一带一路”倡议" => "共建\"一带一路\"倡议", "共建\"一带一路\"倡议";
        corner_brackets_become_double_quotes: "「一带一路」『倡议』" => "\"一带一路\"\"倡议\"", "\"一带一路\"\"倡议\"";
        single_quotes_become_apostrophes: "‘Road’s’" => "'Road's'", "'road's'";
        em_dash_becomes_hyphen: "Китай—Россия" => "Китай-Россия", "китай-россия";
        other_dashes_become_hyphens: "a–b‐c‑d‒e―f−g" => "a-b-c-d-e-f-g", "a-b-c-d-e-f-g";
        small_form_dashes_become_hyphens: "a﹘b﹣c" => "a-b-c", "a-b-c";
        plain_ascii_is_unchanged: "\"a\" - 'b'" => "\"a\" - 'b'", "\"a\" - 'b'";
    );
}
