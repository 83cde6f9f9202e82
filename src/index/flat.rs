//! Flat little-endian arrays, written one after another into a byte buffer and read back in
//! the same order: the body of the persisted term index (`term_file.rs`).
//!
//! Every array is its length (u64) followed by its elements, so a reader never trusts a
//! length further than the bytes left: a truncated or corrupt body is a [`FlatError`], never a
//! panic or a huge allocation. Decoding is a sequential pass at memory speed, unlike a varint
//! encoding, which the index's tens of millions of integers would make slow.

/// Why a body could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum FlatError {
    /// The body ends before an array it announces.
    #[error("{what}: needs {needed} bytes, {left} left")]
    Truncated {
        /// The array being read.
        what: &'static str,
        /// Bytes it needs.
        needed: u64,
        /// Bytes the body has left.
        left: usize,
    },
    /// A value is out of the range the index allows.
    #[error("{what}: {reason}")]
    Invalid {
        /// The array or value being read.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Appends arrays to a buffer.
#[derive(Default)]
pub(super) struct FlatWriter {
    pub bytes: Vec<u8>,
}

impl FlatWriter {
    /// One integer.
    pub fn u64(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    /// An array of u32.
    pub fn u32s(&mut self, values: &[u32]) {
        self.u64(values.len() as u64);
        self.bytes.reserve(values.len() * 4);
        for value in values {
            self.bytes.extend_from_slice(&value.to_le_bytes());
        }
    }

    /// An array of u64.
    pub fn u64s(&mut self, values: &[u64]) {
        self.u64(values.len() as u64);
        self.bytes.reserve(values.len() * 8);
        for value in values {
            self.bytes.extend_from_slice(&value.to_le_bytes());
        }
    }

    /// Bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.u64(bytes.len() as u64);
        self.bytes.extend_from_slice(bytes);
    }
}

/// Reads arrays back from a body in the order they were written.
pub(super) struct FlatReader<'b> {
    rest: &'b [u8],
}

impl<'b> FlatReader<'b> {
    /// A reader at the start of `body`.
    pub fn new(body: &'b [u8]) -> FlatReader<'b> {
        FlatReader { rest: body }
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn take(&mut self, what: &'static str, count: u64, width: u64) -> Result<&'b [u8], FlatError> {
        let needed = count.saturating_mul(width);
        if needed > self.rest.len() as u64 {
            return Err(FlatError::Truncated {
                what,
                needed,
                left: self.rest.len(),
            });
        }
        let (taken, rest) = self.rest.split_at(needed as usize);
        self.rest = rest;
        Ok(taken)
    }

    /// One integer.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, FlatError> {
        let bytes = self.take(what, 1, 8)?;
        Ok(u64::from_le_bytes(bytes.try_into().unwrap_or_default()))
    }

    /// An array of u32.
    pub fn u32s(&mut self, what: &'static str) -> Result<Vec<u32>, FlatError> {
        let count = self.u64(what)?;
        let bytes = self.take(what, count, 4)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// An array of u64.
    pub fn u64s(&mut self, what: &'static str) -> Result<Vec<u64>, FlatError> {
        let count = self.u64(what)?;
        let bytes = self.take(what, count, 8)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect())
    }

    /// Bytes, borrowed from the body.
    pub fn bytes(&mut self, what: &'static str) -> Result<&'b [u8], FlatError> {
        let count = self.u64(what)?;
        self.take(what, count, 1)
    }

    /// UTF-8 text, borrowed from the body.
    pub fn str(&mut self, what: &'static str) -> Result<&'b str, FlatError> {
        std::str::from_utf8(self.bytes(what)?).map_err(|e| FlatError::Invalid {
            what,
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_read_back_in_order() {
        let mut out = FlatWriter::default();
        out.u64(7);
        out.u32s(&[1, 2, u32::MAX]);
        out.u64s(&[u64::MAX]);
        out.bytes("术语".as_bytes());
        let mut reader = FlatReader::new(&out.bytes);
        assert_eq!(reader.u64("n").unwrap(), 7);
        assert_eq!(reader.u32s("a").unwrap(), [1, 2, u32::MAX]);
        assert_eq!(reader.u64s("b").unwrap(), [u64::MAX]);
        assert_eq!(reader.str("s").unwrap(), "术语");
        assert!(reader.is_empty());
    }

    #[test]
    fn a_cut_or_lying_body_is_an_error() {
        let mut out = FlatWriter::default();
        out.u32s(&[1, 2, 3]);
        let cut = &out.bytes[..out.bytes.len() - 1];
        assert!(matches!(
            FlatReader::new(cut).u32s("a"),
            Err(FlatError::Truncated { .. })
        ));
        // A length no body could hold.
        let lying = u64::MAX.to_le_bytes();
        assert!(FlatReader::new(&lying).u64s("b").is_err());
        assert!(FlatReader::new(&[0xff; 9][..1]).u64("n").is_err());
    }
}
