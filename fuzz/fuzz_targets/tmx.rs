//! The TMX reader over arbitrary bytes: it never panics, positions are real, nothing comes
//! after a fatal error, and every unit it hands out could be stored and written back as it
//! is: two languages or more, each once, at most the limit of segments, inline tags on
//! character boundaries of their text and in text order, nothing XML cannot carry.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use tolmach::formats::{check_tmx_unit, TmxReader};
use tolmach::model::violation::MAX_SEGMENTS;

fuzz_target!(|data: &[u8]| {
    let mut fatal = false;
    for item in TmxReader::new(data) {
        assert!(!fatal, "an item after a fatal error");
        match item {
            Ok(entry) => {
                assert!(entry.line >= 1 && entry.column >= 1);
                let unit = &entry.unit;
                assert!(unit.segments.len() >= 2 && unit.segments.len() <= MAX_SEGMENTS);
                let langs: HashSet<_> = unit.segments.iter().map(|s| &s.lang).collect();
                assert_eq!(langs.len(), unit.segments.len(), "a language twice");
                let problems = check_tmx_unit(unit);
                assert!(problems.is_empty(), "{problems:?}");
            }
            Err(error) => {
                if let Some((line, column)) = error.position() {
                    assert!(line >= 1 && column >= 1, "{error}");
                }
                fatal = error.is_fatal();
            }
        }
    }
});
