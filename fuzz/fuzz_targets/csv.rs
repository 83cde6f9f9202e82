//! The glossary reader over arbitrary bytes, as CSV and as TSV: it never panics, positions
//! are real, nothing comes after a fatal error, and every concept has a term in each of its
//! sections and each language once.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use tolmach::formats::{CsvOptions, CsvReader};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the delimiter (detected, comma, tab) and whether `#` starts a
    // comment, so that one corpus exercises every option.
    let Some((&options, data)) = data.split_first() else {
        return;
    };
    let delimiter = match options % 3 {
        0 => None,
        1 => Some(b','),
        _ => Some(b'\t'),
    };
    let comment = (options & 4 != 0).then_some(b'#');
    let options = CsvOptions {
        delimiter,
        columns: None,
        comment,
    };
    let mut fatal = false;
    for item in CsvReader::with_options(data, options) {
        assert!(!fatal, "an item after a fatal error");
        match item {
            Ok(entry) => {
                assert!(entry.line >= 1 && entry.column >= 1);
                let langs: HashSet<_> = entry.concept.langs.iter().map(|s| &s.lang).collect();
                assert_eq!(langs.len(), entry.concept.langs.len(), "a language twice");
                assert!(entry.concept.langs.iter().all(|s| !s.terms.is_empty()));
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
