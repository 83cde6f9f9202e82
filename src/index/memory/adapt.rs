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

/// The stored target with every number whose value is the value of a stored-source number
/// replaced by the query's number at the same placeholder position.
///
/// Numbers are matched between source and target by value, in one pass over the target, so
/// that `2024 → 2025` and `2025 → 2026` in one segment do not chain. A stored value that the
/// query maps to two different values (or keeps at one position and changes at another) is
/// ambiguous and left as it is.
pub(super) fn adapt(target: &str, query: &[Number], stored: &[Number]) -> String {
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
    out.push_str(target.get(copied..).unwrap_or_default());
    out
}
