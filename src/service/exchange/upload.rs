//! The bytes of an uploaded file, as a blocking [`Read`] for the application's import.
//!
//! The gRPC stream is async and the readers are synchronous iterators, so a task forwards
//! each chunk into a small bounded channel (back-pressure: a slow parse slows the upload, and
//! memory stays bounded) and the reader thread pulls from it.
//!
//! A client that sends nothing for longer than the idle timeout breaks the upload off
//! ([`Broken::Idle`]): the reader sees an error, the import ends, and its admission and
//! thread are given back. Only the wait for the client counts, not a wait for a slow reader.
//! [`Upload::first_bytes`] lets the service wait for the first chunk without a thread.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tonic::Streaming;

use crate::app::import::{Broken, UploadState};
use crate::service::proto::{self, import_request::Message};

/// Chunks buffered between the network and the reader.
const CHANNEL_CHUNKS: usize = 8;

enum Piece {
    Chunk(Vec<u8>),
    Broken(Broken),
}

/// The file's bytes, read on a blocking thread.
pub struct Upload {
    pieces: mpsc::Receiver<Piece>,
    /// The first piece, when the service waited for it.
    first: Option<Option<Piece>>,
    chunk: Vec<u8>,
    at: usize,
    state: Arc<UploadState>,
}

impl Upload {
    /// Starts forwarding the chunks that follow the header on `inbound`, breaking the
    /// upload off when the client sends nothing for `idle`.
    pub fn start(
        mut inbound: Streaming<proto::ImportRequest>,
        idle: Duration,
    ) -> (Upload, Arc<UploadState>) {
        let (sender, pieces) = mpsc::channel(CHANNEL_CHUNKS);
        tokio::spawn(async move {
            loop {
                let Ok(message) = tokio::time::timeout(idle, inbound.message()).await else {
                    // Ignored if the reader is gone already: then nobody waits for bytes.
                    let _ = sender.send(Piece::Broken(idle_break(idle))).await;
                    return;
                };
                let piece = match message {
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
            first: None,
            chunk: Vec::new(),
            at: 0,
            state: state.clone(),
        };
        (upload, state)
    }

    /// Waits, on the runtime rather than a thread, until the upload has its first bytes,
    /// ended, or broke off; the reader then starts with that.
    pub async fn first_bytes(&mut self) {
        if self.first.is_none() {
            self.first = Some(self.pieces.recv().await);
        }
    }

    /// The next piece of the upload: the one [`Upload::first_bytes`] waited for, then the
    /// channel's; `None` at the end.
    fn next_piece(&mut self) -> Option<Piece> {
        match self.first.take() {
            Some(first) => first,
            None => self.pieces.blocking_recv(),
        }
    }
}

/// The break of an upload whose client sent nothing for `idle`.
pub fn idle_break(idle: Duration) -> Broken {
    Broken::Idle(format!(
        "the client sent nothing for {} ms, the server's idle limit for an upload",
        idle.as_millis()
    ))
}

impl Read for Upload {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.next_piece() {
                None => {
                    self.state.end();
                    return Ok(0);
                }
                Some(Piece::Chunk(bytes)) => {
                    self.chunk = bytes;
                    self.at = 0;
                }
                Some(Piece::Broken(broken)) => {
                    let message = match &broken {
                        Broken::Protocol(m) | Broken::Interrupted(m) | Broken::Idle(m) => m.clone(),
                    };
                    self.state.break_off(broken);
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
        self.state.read(n as u64);
        Ok(n)
    }
}
