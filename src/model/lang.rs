//! BCP 47 language tags, canonicalized so that `zh-CN`, `zh-Hans` and `zh` are one language.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A checked, canonical BCP 47 language tag.
///
/// Canonical means: subtags separated by `-`, the primary subtag lower-case, a script subtag
/// title-case, a region upper-case. Chinese is folded to the two written standards translators
/// actually choose between: `zh` (Simplified: `zh-Hans`, `zh-CN`, `zh-SG`) and `zh-Hant`
/// (`zh-TW`, `zh-HK`, `zh-MO`). Other tags keep their region (`en-GB`), and a request for `en`
/// accepts them (see [`Lang::accepts`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Lang(String);

/// Why a string is not a usable language tag.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LangError {
    /// The tag was empty or only whitespace.
    #[error("language tag is empty")]
    Empty,
    /// The tag does not have the shape of a BCP 47 tag.
    #[error("{tag:?} is not a BCP 47 language tag (expected e.g. \"zh\", \"ru\", \"en-GB\")")]
    Malformed {
        /// The tag as given.
        tag: String,
    },
}

impl Lang {
    /// Parses and canonicalizes a tag. Accepts `_` as a separator, as some CAT tools write it.
    pub fn parse(tag: &str) -> Result<Lang, LangError> {
        let tag = tag.trim();
        if tag.is_empty() {
            return Err(LangError::Empty);
        }
        let malformed = || LangError::Malformed {
            tag: tag.to_owned(),
        };
        let subtags: Vec<&str> = tag.split(['-', '_']).collect();
        let primary = subtags[0];
        if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(malformed());
        }
        let mut canonical = primary.to_ascii_lowercase();
        let mut script = None;
        let mut region = None;
        for (i, sub) in subtags.iter().enumerate().skip(1) {
            if sub.is_empty() || sub.len() > 8 || !sub.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(malformed());
            }
            let formatted = match sub.len() {
                4 if i == 1 && sub.bytes().all(|b| b.is_ascii_alphabetic()) => {
                    let s = title_case(sub);
                    script = Some(s.clone());
                    s
                }
                2 if sub.bytes().all(|b| b.is_ascii_alphabetic()) => {
                    let r = sub.to_ascii_uppercase();
                    region.get_or_insert(r.clone());
                    r
                }
                3 if sub.bytes().all(|b| b.is_ascii_digit()) => sub.to_string(),
                _ => sub.to_ascii_lowercase(),
            };
            canonical.push('-');
            canonical.push_str(&formatted);
        }
        if canonical.starts_with("zh") && (canonical.len() == 2 || canonical.as_bytes()[2] == b'-')
        {
            let traditional = match (script.as_deref(), region.as_deref()) {
                (Some("Hant"), _) => true,
                (Some(_), _) => false,
                (None, Some("TW" | "HK" | "MO")) => true,
                _ => false,
            };
            canonical = if traditional { "zh-Hant" } else { "zh" }.to_owned();
        }
        Ok(Lang(canonical))
    }

    /// The canonical tag, e.g. `"zh"`, `"zh-Hant"`, `"ru"`, `"en-GB"`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag: `"zh"` for both Chinese standards, `"en"` for `en-GB`.
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }

    /// Whether a stored section in `self` answers a request for `requested`: equal tags, or a
    /// bare request (`en`) for a regional tag (`en-GB`). The two Chinese standards stay apart.
    pub fn accepts(&self, requested: &Lang) -> bool {
        if self == requested {
            return true;
        }
        let bare = !requested.0.contains('-');
        bare && requested.primary() != "zh" && self.primary() == requested.primary()
    }

    /// Simplified Chinese, the matching language of all Han text.
    pub fn zh() -> Lang {
        Lang("zh".to_owned())
    }
    /// Russian.
    pub fn ru() -> Lang {
        Lang("ru".to_owned())
    }
    /// English.
    pub fn en() -> Lang {
        Lang("en".to_owned())
    }
}

fn title_case(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Lang {
    type Err = LangError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalizes_the_chinese_standards() {
        for (input, want) in [
            ("zh", "zh"),
            ("zh-CN", "zh"),
            ("zh_cn", "zh"),
            ("zh-Hans", "zh"),
            ("zh-hans-CN", "zh"),
            ("zh-TW", "zh-Hant"),
            ("zh-HK", "zh-Hant"),
            ("ZH-HANT", "zh-Hant"),
            ("ru-RU", "ru-RU"),
            ("EN-gb", "en-GB"),
            ("sr-latn-RS", "sr-Latn-RS"),
        ] {
            assert_eq!(Lang::parse(input).unwrap().as_str(), want, "{input}");
        }
    }

    #[test]
    fn rejects_malformed_tags() {
        assert_eq!(Lang::parse(" "), Err(LangError::Empty));
        for bad in [
            "e",
            "english",
            "12",
            "en--US",
            "en-",
            "中文",
            "en-US-toolongsubtag",
        ] {
            assert!(
                matches!(Lang::parse(bad), Err(LangError::Malformed { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn bare_request_accepts_regional_sections_but_chinese_standards_stay_apart() {
        let en = Lang::en();
        assert!(Lang::parse("en-GB").unwrap().accepts(&en));
        assert!(!en.accepts(&Lang::parse("en-GB").unwrap()));
        assert!(!Lang::parse("zh-Hant").unwrap().accepts(&Lang::zh()));
    }
}
