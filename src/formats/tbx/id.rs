//! Concept ids as XML names: TBX types an entry's `id` as `xs:ID`, and ids from other sources
//! (IATE's numbers, ids with spaces) are not.

/// Makes an id a valid XML name (an `xs:ID`): characters other than ASCII letters, digits,
/// `-`, `.` and `_` (and a leading digit, `-` or `.`) become `_xHHHH_`; an `_` that would start
/// such a sequence is escaped too, so that [`decode_id`] restores the id exactly. The empty id
/// is written as a lone `_`, so the id `_` itself must be escaped to stay distinct from it.
pub(super) fn encode_id(id: &str) -> String {
    match id {
        "" => return "_".to_owned(),
        "_" => return "_x005F_".to_owned(),
        _ => {}
    }
    let mut out = String::with_capacity(id.len());
    let mut chars = id.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        let plain = c.is_ascii_alphabetic()
            || (c == '_' && chars.peek() != Some(&'x'))
            || (!first && (c.is_ascii_digit() || c == '-' || c == '.'));
        if plain {
            out.push(c);
        } else if u32::from(c) <= 0xFFFF {
            out.push_str(&format!("_x{:04X}_", u32::from(c)));
        } else {
            out.push_str(&format!("_x{:08X}_", u32::from(c)));
        }
        first = false;
    }
    out
}

/// Undoes [`encode_id`]: `_xHHHH_` and `_xHHHHHHHH_` become the character they name.
pub(super) fn decode_id(id: &str) -> String {
    if id == "_" {
        return String::new();
    }
    if !id.contains("_x") {
        return id.to_owned();
    }
    let mut out = String::with_capacity(id.len());
    let mut rest = id;
    while let Some(at) = rest.find("_x") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let decoded = [8usize, 4].iter().find_map(|&n| {
            let hex = tail.get(..n)?;
            if tail.as_bytes().get(n) != Some(&b'_') || !hex.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return None;
            }
            let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
            Some((c, n + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = &tail[used..];
            }
            None => {
                out.push_str("_x");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}
