//! Number adaptation: rewriting a stored translation for a query that differs from the stored
//! source only in its numbers.

use std::collections::HashMap;

use super::analyze::{is_numeral, number_value, units, Mode};
use crate::text::normalize_key;

/// A number of a segment: as written after normalization, and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Number {
    /// The normalized text of the number (`2024`, `二〇二四`).
    pub raw: String,
    /// Its value, Chinese numerals as Arabic digits.
    pub value: String,
}

/// The numbers of normalized text, in order.
pub(super) fn numbers(mode: Mode, normalized: &str) -> Vec<Number> {
    units(mode, normalized)
        .into_iter()
        .filter(|u| u.number)
        .map(|u| {
            let raw = normalized.get(u.range).unwrap_or_default().to_owned();
            let value = number_value(&raw);
            Number { raw, value }
        })
        .collect()
}

/// How many numbers differ between two equally long number sequences.
pub(super) fn differing(query: &[Number], stored: &[Number]) -> usize {
    query
        .iter()
        .zip(stored)
        .filter(|(q, s)| q.value != s.value)
        .count()
        + query.len().abs_diff(stored.len())
}

/// The stored target with the query's numbers in place of the stored source's, when that can
/// be done for every number that differs; `None` when it cannot.
///
/// Numbers are matched between source and target by value, in one pass over the target, so
/// that `2024 → 2025` and `2025 → 2026` in one segment do not chain. The answer is `None`
/// when a stored value that changes is nowhere in the target as a number of that value (the
/// target spells it out, «в июле» for 7月, or writes it another way: `3,5` for `3.5`, `1 000`
/// for `1000`, `1万` for `10,000`), or when the query maps it to two different values (or keeps
/// it at one position and changes it at another). An adapted target that kept a stale number
/// would be a wrong translation offered as a right one; without one the translator adapts the
/// target by hand, told by `numbers_only` that only numbers differ.
pub(super) fn adapt(target: &str, query: &[Number], stored: &[Number]) -> Option<String> {
    let mut map: HashMap<&str, Option<&Number>> = HashMap::new();
    for (q, s) in query.iter().zip(stored) {
        let wanted = (q.value != s.value).then_some(q);
        map.entry(s.value.as_str())
            .and_modify(|existing| {
                if existing.map(|n| &n.value) != wanted.map(|n| &n.value) {
                    *existing = None;
                }
            })
            .or_insert(wanted);
    }
    // Every stored value that changes must map to one value and be found in the target.
    let mut unfound: Vec<&str> = Vec::new();
    for (q, s) in query.iter().zip(stored) {
        if q.value != s.value {
            map.get(s.value.as_str())?.as_ref()?;
            unfound.push(s.value.as_str());
        }
    }
    let mut out = String::with_capacity(target.len() + 8);
    let mut copied = 0;
    for unit in units(Mode::Chars, target).into_iter().filter(|u| u.number) {
        let Some(written) = target.get(unit.range.clone()) else {
            continue;
        };
        let value = number_value(&normalize_key(written));
        let Some(Some(replacement)) = map.get(value.as_str()) else {
            continue;
        };
        unfound.retain(|v| *v != value);
        let han = written.chars().any(is_numeral);
        let text = if han && replacement.raw.chars().any(is_numeral) {
            &replacement.raw
        } else {
            &replacement.value
        };
        out.push_str(target.get(copied..unit.range.start).unwrap_or_default());
        out.push_str(text);
        copied = unit.range.end;
    }
    if !unfound.is_empty() {
        return None;
    }
    out.push_str(target.get(copied..).unwrap_or_default());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The adapted target of `stored_target` for a query that differs from `stored_source`
    /// only in numbers.
    fn adapted(
        mode: Mode,
        query: &str,
        stored_source: &str,
        stored_target: &str,
    ) -> Option<String> {
        let query = numbers(mode, &normalize_key(query));
        let stored = numbers(mode, &normalize_key(stored_source));
        adapt(stored_target, &query, &stored)
    }

    #[test]
    fn every_changed_number_is_replaced_in_the_target() {
        for (mode, query, source, target, want) in [
            (
                Mode::Words,
                "Sales rose 5 % in 2025",
                "Sales rose 3 % in 2024",
                "В 2024 году продажи выросли на 3 %",
                "В 2025 году продажи выросли на 5 %",
            ),
            (
                Mode::Chars,
                "2025年7月在阿斯塔纳举行峰会",
                "2024年7月在阿斯塔纳举行峰会",
                "Саммит прошёл в Астане в июле 2024 года",
                "Саммит прошёл в Астане в июле 2025 года",
            ),
            // A stored value written in Chinese numerals in the target takes the query's
            // digits unless the query wrote numerals too.
            (
                Mode::Words,
                "The 2025 summit",
                "The 2024 summit",
                "二〇二四年峰会",
                "2025年峰会",
            ),
            (
                Mode::Chars,
                "二〇二五年峰会",
                "二〇二四年峰会",
                "二〇二四年峰会",
                "二〇二五年峰会",
            ),
            // One pass: 2024 → 2025 and 2025 → 2026 do not chain.
            (
                Mode::Words,
                "from 2025 to 2026",
                "from 2024 to 2025",
                "с 2024 по 2025 год",
                "с 2025 по 2026 год",
            ),
        ] {
            assert_eq!(
                adapted(mode, query, source, target).as_deref(),
                Some(want),
                "{query}"
            );
        }
    }

    #[test]
    fn no_adapted_target_when_a_changed_number_is_not_in_the_target_as_written() {
        for (mode, query, source, target) in [
            // The month is a word in the target.
            (
                Mode::Chars,
                "2024年8月在阿斯塔纳举行峰会",
                "2024年7月在阿斯塔纳举行峰会",
                "Саммит прошёл в Астане в июле 2024 года",
            ),
            // Decimal comma.
            (
                Mode::Words,
                "It weighs 4.5 kg",
                "It weighs 3.5 kg",
                "Он весит 3,5 кг",
            ),
            // Russian thousands separator: two numbers, neither of them 1000.
            (Mode::Words, "2000 tonnes", "1000 tonnes", "1 000 тонн"),
            // Chinese myriads.
            (Mode::Words, "20,000 people", "10,000 people", "1万人"),
            // One stored 7 becomes 8, the other stays: which 7 of the target is which?
            (
                Mode::Words,
                "8 days from 7 July",
                "7 days from 7 July",
                "7 дней с 7 июля",
            ),
            // Found for one changed number, not for the other.
            (
                Mode::Words,
                "5 delegations on 8 July",
                "4 delegations on 7 July",
                "4 делегации в июле",
            ),
        ] {
            assert_eq!(
                adapted(mode, query, source, target),
                None,
                "{query} → {target}"
            );
        }
    }
}
