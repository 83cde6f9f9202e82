//! The bytes of an uploaded file, as a blocking [`Read`] for the application's import.
//!
//! The gRPC stream is async and the readers are synchronous iterators, so a task forwards
//! each chunk into a small bounded channel (back-pressure: a slow parse slows the upload, and
//! memory stays bounded) and the reader thread pulls from it.

use std::io::Read;
use std::sync::Arc;

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
}

impl Read for Upload {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.pieces.blocking_recv() {
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
                        Broken::Protocol(m) | Broken::Interrupted(m) => m.clone(),
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
