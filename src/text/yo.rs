//! Step 4: Russian `ё` written as `е`, the way most Russian text is printed, so that «Шёлковый
//! путь» and «Шелковый путь» share one key.

use super::normalizer::{rewrite_chars, MappedChar, Normalizer};

/// Replaces `ё` with `е` and `Ё` with `Е`.
///
/// Runs after case folding, which already turned `Ё` into `ё`; the capital is handled too so
/// that the step means the same on its own.
pub(crate) struct Yo;

impl Normalizer for Yo {
    fn normalize(&self, input: &[MappedChar], out: &mut Vec<MappedChar>) -> bool {
        rewrite_chars(input, out, |c| match c {
            'ё' => Some(Some('е')),
            'Ё' => Some(Some('Е')),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Yo;

    test_normalizer!(Yo,
        yo_becomes_ye: "Шёлковый путь" => "Шелковый путь", "шелковый путь";
        capital_yo_becomes_capital_ye: "ЁЖ" => "ЕЖ", "еж";
        text_without_yo_is_unchanged: "мир" => "мир", "мир";
    );
}
