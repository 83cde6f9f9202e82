//! AIP-158 page tokens, shared by every paged list: the application layer pages by id
//! ([`crate::app::Page`]); the token is that id, hex-encoded so clients treat it as opaque.

use crate::app::Page;
use crate::model::Violations;

fn encode_page_token(last_id: &str) -> String {
    last_id.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The id a page token stands for; `None` for a token this server did not issue.
fn decode_page_token(token: &str) -> Option<String> {
    if token.is_empty() || !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    String::from_utf8(bytes?).ok()
}

/// Checks a request's page token and answers the id to resume after (`None` = first page).
pub fn page_start(token: &str, violations: &mut Violations) -> Option<String> {
    let after = decode_page_token(token);
    if after.is_none() && !token.is_empty() {
        violations.add("page_token", "is not a token this server issued");
    }
    after
}

/// The page size to use: `default` for 0, at most `max`.
pub fn page_size(requested: u32, default: u32, max: u32) -> usize {
    let size = match requested {
        0 => default,
        n => n.min(max),
    };
    size as usize
}

/// The token of the page after `page`: empty on the last page.
pub fn next_page_token<T>(page: &Page<T>) -> String {
    page.next_after
        .as_deref()
        .map_or(String::new(), encode_page_token)
}
