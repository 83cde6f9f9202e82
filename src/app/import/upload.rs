//! What the import's reader thread and whoever feeds it the uploaded bytes share: how many
//! bytes were read, whether the upload reached its end, and why it broke off if it did. The
//! service's upload adapter (chunks of a gRPC stream → a blocking reader) records them; the
//! import reads them to check the announced size and to tell a broken upload from a broken
//! file.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Why an upload ended before the client half-closed the stream normally.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    /// The client broke the protocol (a second header, an empty message).
    #[error("invalid request: {0}; nothing was imported")]
    Protocol(String),
    /// The stream failed: the client went away or the connection broke.
    #[error("{0}; nothing was imported")]
    Interrupted(String),
    /// The client sent nothing for longer than the server waits
    /// ([`crate::app::Limits::upload_idle`]).
    #[error("{0}; nothing was imported")]
    Idle(String),
}

/// What the reader thread and the import share about the upload.
#[derive(Debug, Default)]
pub struct UploadState {
    bytes: AtomicU64,
    /// Set when the reader has seen the client half-close: every byte sent has been read.
    ended: AtomicBool,
    broken: Mutex<Option<Broken>>,
}

impl UploadState {
    /// Bytes handed to the reader so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Whether the reader reached the end of the upload. A reader that stops at a fatal error
    /// leaves the rest unread, and then the byte count says nothing about the upload's length.
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }

    /// Why the upload broke off, if it did.
    pub fn broken(&self) -> Option<Broken> {
        self.lock().clone()
    }

    /// Records `bytes` more handed to the reader.
    pub fn read(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Records that the reader reached the end of the upload.
    pub fn end(&self) {
        self.ended.store(true, Ordering::Relaxed);
    }

    /// Records why the upload broke off.
    pub fn break_off(&self, broken: Broken) {
        *self.lock() = Some(broken);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Broken>> {
        self.broken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
