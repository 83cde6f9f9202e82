//! The bytes of an uploaded file, as a blocking [`Read`] for the format readers.
//!
//! The gRPC stream is async and the readers are synchronous iterators, so a task forwards
//! each chunk into a small bounded channel (back-pressure: a slow parse slows the upload, and
//! memory stays bounded) and the reader thread pulls from it.

use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tonic::Streaming;

use crate::service::proto::{self, import_request::Message};

/// Chunks buffered between the network and the reader.
const CHANNEL_CHUNKS: usize = 8;

/// Why an upload ended before the client half-closed the stream normally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Broken {
    /// The client broke the protocol (a second header, an empty message).
    Protocol(String),
    /// The stream failed: the client went away or the connection broke.
    Interrupted(String),
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Broken>> {
        self.broken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

enum Piece {
    Chunk(Vec<u8>),
    Broken(Broken),
}

/// The file's bytes, read on a blocking thread.
pub struct Upload {
    pieces: mpsc::Receiver<Piece>,
    chunk: Vec<u8>,
    at: usize,
    state: Arc<UploadState>,
}

impl Upload {
    /// Starts forwarding the chunks that follow the header on `inbound`.
    pub fn start(mut inbound: Streaming<proto::ImportRequest>) -> (Upload, Arc<UploadState>) {
        let (sender, pieces) = mpsc::channel(CHANNEL_CHUNKS);
        tokio::spawn(async move {
            loop {
                let piece = match inbound.message().await {
                    Ok(None) => return,
                    Ok(Some(proto::ImportRequest {
                        message: Some(Message::Chunk(bytes)),
                    })) => Piece::Chunk(bytes),
                    Ok(Some(_)) => Piece::Broken(Broken::Protocol(
                        "only the first message may be a header; the others must be chunks"
                            .to_owned(),
                    )),
                    Err(status) => Piece::Broken(Broken::Interrupted(format!(
                        "the upload broke off: {}",
                        status.message()
                    ))),
                };
                let last = matches!(piece, Piece::Broken(_));
                if sender.send(piece).await.is_err() || last {
                    return;
                }
            }
        });
        let state = Arc::new(UploadState::default());
        let upload = Upload {
            pieces,
            chunk: Vec::new(),
            at: 0,
            state: state.clone(),
        };
        (upload, state)
    }

    /// Reads up to `want` bytes (fewer only at the end of the file), for format detection.
    pub fn peek(&mut self, want: usize) -> std::io::Result<Vec<u8>> {
        let mut first = Vec::with_capacity(want);
        (&mut *self).take(want as u64).read_to_end(&mut first)?;
        Ok(first)
    }
}

impl Read for Upload {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.pieces.blocking_recv() {
                None => {
                    self.state.ended.store(true, Ordering::Relaxed);
                    return Ok(0);
                }
                Some(Piece::Chunk(bytes)) => {
                    self.chunk = bytes;
                    self.at = 0;
                }
                Some(Piece::Broken(broken)) => {
                    let message = match &broken {
                        Broken::Protocol(m) | Broken::Interrupted(m) => m.clone(),
                    };
                    *self.state.lock() = Some(broken);
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        message,
                    ));
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        self.state.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
