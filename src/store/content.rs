//! Content ids: the ids the server gives entries that come without one, derived from what the
//! entry says, so that the same entry stored twice is stored once. Knows nothing of sled.

use crate::model::TranslationUnit;
use crate::text;

/// FNV-1a's 128-bit offset basis and prime.
const FNV_BASIS: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
const FNV_PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

/// A stable id from an entry's content: `prefix` and 32 hex digits of a hash over its
/// `(language, normalized text)` pairs, taken in sorted order so that the order of segments
/// or terms does not matter. Re-importing a file finds the same ids, two files' id-less
/// entries do not collide by position, and the same sentence pair added twice is one unit.
///
/// The hash is FNV-1a with 128 bits. An accidental collision would silently replace another
/// entry, so 64 bits (a collision among 10⁶ entries with odds of 3·10⁻⁸, growing with the
/// square of the count) is too few; at 128 bits the odds stay below 10⁻²⁰ at 10⁹ entries.
/// FNV needs no dependency and, unlike std's hashers, is fixed forever, which stored ids
/// require. It is not a cryptographic hash; a client able to craft a collision gains nothing
/// it does not have already, since naming a unit's id replaces it too.
pub fn content_id(prefix: &str, texts: impl Iterator<Item = (String, String)>) -> String {
    let mut pairs: Vec<(String, String)> = texts.collect();
    pairs.sort();
    let bytes = pairs
        .iter()
        .flat_map(|(lang, text)| lang.bytes().chain([0]).chain(text.bytes()).chain([0]));
    format!("{prefix}{:032x}", fnv1a_128(bytes))
}

/// FNV-1a with 128 bits.
fn fnv1a_128(bytes: impl Iterator<Item = u8>) -> u128 {
    bytes.fold(FNV_BASIS, |hash, byte| {
        (hash ^ u128::from(byte)).wrapping_mul(FNV_PRIME)
    })
}

/// The content id of a translation unit (`h` and 32 hex digits): its segments' languages and
/// texts after the text pipeline's normalization, so that units differing only in width,
/// case, quotes or Chinese script are one unit. Inline tags, origin and metadata do not count.
///
/// The texts go through [`text::content_key`], which leaves out the steps added for matching
/// since ids were first stored, so that the ids of stored units never change.
pub fn unit_content_id(unit: &TranslationUnit) -> String {
    content_id(
        "h",
        unit.segments
            .iter()
            .map(|s| (s.lang.to_string(), text::content_key(&s.text))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> std::vec::IntoIter<(String, String)> {
        let owned: Vec<(String, String)> = items
            .iter()
            .map(|(l, t)| ((*l).to_owned(), (*t).to_owned()))
            .collect();
        owned.into_iter()
    }

    #[test]
    fn content_ids_ignore_order_and_tell_languages_and_texts_apart() {
        let id = content_id("h", pairs(&[("en", "peace"), ("ru", "мир")]));
        assert_eq!(
            id,
            content_id("h", pairs(&[("ru", "мир"), ("en", "peace")]))
        );
        assert_eq!(id.len(), 33);
        for other in [
            content_id("h", pairs(&[("en", "peace"), ("ru", "мира")])),
            content_id("h", pairs(&[("en", "peace"), ("uk", "мир")])),
            // The separators keep a language from running into its text.
            content_id("h", pairs(&[("en", "peace"), ("r", "uмир")])),
            content_id("g", pairs(&[("en", "peace"), ("ru", "мир")])),
        ] {
            assert_ne!(id, other);
        }
    }

    /// Ids stored before lookalike letters were folded and spaces between Chinese characters
    /// dropped for matching: re-importing the same unit must find the same id.
    #[test]
    fn unit_content_ids_do_not_change_with_the_matching_steps() {
        use crate::model::{Lang, Segment};

        let segment = |lang: Lang, text: &str| Segment {
            lang,
            text: text.to_owned(),
            tags: Vec::new(),
        };
        let unit = TranslationUnit {
            id: String::new(),
            // ШОС with a Latin O and C, SCO with a Cyrillic С; a line break inside 上海合作组织.
            segments: vec![
                segment(Lang::ru(), "ШOC и S\u{421}O"),
                segment(Lang::zh(), "上海合作\n组织"),
            ],
            origin: String::new(),
            created_ms: 0,
            metadata: Vec::new(),
        };
        assert_ne!(text::normalize_key("ШOC"), text::content_key("ШOC"));
        assert_eq!(unit_content_id(&unit), "h3ccf8ace6fe94a2fecf015d2bfab1042");
    }

    #[test]
    fn the_hash_is_fnv_1a_128() {
        // Published test vectors: ids stored today must be computed the same way forever.
        assert_eq!(fnv1a_128("".bytes()), FNV_BASIS);
        assert_eq!(
            fnv1a_128("a".bytes()),
            0xd228_cb69_6f1a_8caf_7891_2b70_4e4a_8964
        );
        assert_eq!(
            content_id("", std::iter::empty()),
            format!("{FNV_BASIS:032x}")
        );
    }
}
