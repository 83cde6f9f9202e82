//! AIP-158 page tokens, shared by every paged list.

/// Page tokens are the last id of the page, hex-encoded so clients treat them as opaque.
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
pub fn page_start(token: &str, violations: &mut super::validate::Violations) -> Option<String> {
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

/// Takes one page from `items` (already filtered, in id order) and the token of the next
/// page: empty when `items` ends within this page.
pub fn collect_page<T, E>(
    items: impl Iterator<Item = Result<T, E>>,
    size: usize,
    id: impl Fn(&T) -> &str,
) -> Result<(Vec<T>, String), E> {
    let mut page = Vec::with_capacity(size);
    for item in items {
        let item = item?;
        if page.len() == size {
            let next = page
                .last()
                .map_or(String::new(), |last| encode_page_token(id(last)));
            return Ok((page, next));
        }
        page.push(item);
    }
    Ok((page, String::new()))
}
