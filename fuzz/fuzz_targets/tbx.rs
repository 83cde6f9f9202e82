//! The TBX reader over arbitrary bytes: it never panics, every entry and error points at a
//! real line and column, nothing comes after a fatal error, and every concept it hands out
//! holds what the readers promise (sections with terms, at most the limit of them).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tolmach::formats::TbxReader;
use tolmach::model::violation::MAX_ITEMS;

fuzz_target!(|data: &[u8]| {
    let mut fatal = false;
    for item in TbxReader::new(data) {
        assert!(!fatal, "an item after a fatal error");
        match item {
            Ok(entry) => {
                assert!(entry.line >= 1 && entry.column >= 1);
                assert!(entry.concept.langs.len() <= MAX_ITEMS);
                for warning in &entry.warnings {
                    assert!(warning.line >= 1 && warning.column >= 1);
                }
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
