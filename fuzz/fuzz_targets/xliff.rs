//! The XLIFF reader over arbitrary bytes: it never panics, positions are real, nothing comes
//! after a fatal error, and every segment it hands out has its position and a source.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tolmach::formats::XliffReader;

fuzz_target!(|data: &[u8]| {
    let mut fatal = false;
    for item in XliffReader::new(data) {
        assert!(!fatal, "an item after a fatal error");
        match item {
            Ok(segment) => {
                assert!(segment.line >= 1 && segment.column >= 1);
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
