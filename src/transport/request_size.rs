//! Request sizes bounded per RPC while the body is read: a Lookup of a few KiB, a Recognize
//! of its 1 MiB text, an import chunk of 4 MiB (`rpc.rs` holds the table).
//!
//! Every gRPC message on the wire opens with a five-byte prefix, a compression flag and the
//! message's length. [`RequestSizeLayer`] wraps each request body and reads those prefixes
//! as the bytes arrive: the first message announced above its RPC's bound ends the body with
//! `RESOURCE_EXHAUSTED` naming the RPC and the bound, before the message itself is read, so
//! no more than one frame of it is ever held. tonic's decoder hands that status to the client
//! as it is. A compressed message's decompressed size is bounded by the service's own
//! `max_decoding_message_size` (see `rpc::largest_request`).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Request;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tonic::body::Body;
use tonic::Status;
use tower::{Layer, Service};

use crate::rpc::{self, Rpc};

/// The length prefix of a gRPC message: one flag byte, then the length (big-endian `u32`).
const PREFIX_BYTES: usize = 5;

/// A tower layer that bounds each request message by its RPC (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestSizeLayer;

impl<S> Layer<S> for RequestSizeLayer {
    type Service = RequestSize<S>;

    fn layer(&self, inner: S) -> RequestSize<S> {
        RequestSize { inner }
    }
}

/// The service [`RequestSizeLayer`] makes.
#[derive(Clone, Debug)]
pub struct RequestSize<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for RequestSize<S>
where
    S: Service<Request<Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> S::Future {
        let rpc = rpc::of(request.uri().path());
        self.inner
            .call(request.map(|body| Body::new(Bounded::new(body, rpc))))
    }
}

/// A request body whose messages are measured by their prefixes as they pass.
struct Bounded {
    inner: Body,
    rpc: &'static Rpc,
    frames: Frames,
}

impl Bounded {
    fn new(inner: Body, rpc: &'static Rpc) -> Bounded {
        Bounded {
            inner,
            rpc,
            frames: Frames::default(),
        }
    }
}

impl HttpBody for Bounded {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            other => return other,
        };
        if let Some(data) = frame.data_ref() {
            let limit = self.rpc.max_request_bytes;
            if let Some(length) = self.frames.first_above(data, limit) {
                return Poll::Ready(Some(Err(too_large(self.rpc, length))));
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn too_large(rpc: &Rpc, length: u64) -> Status {
    Status::resource_exhausted(format!(
        "a request message of {} is {length} bytes, more than its limit of {} bytes",
        rpc.name(),
        rpc.max_request_bytes
    ))
}

/// Where the byte stream stands among gRPC messages: inside a message, or reading a prefix.
#[derive(Debug, Default)]
struct Frames {
    /// Bytes of the current message still to come.
    remaining: u64,
    /// The prefix read so far, when between messages.
    prefix: [u8; PREFIX_BYTES],
    /// How many bytes of `prefix` are read.
    prefix_len: usize,
}

impl Frames {
    /// Reads `data`; answers the length of the first message it announces above `limit`.
    fn first_above(&mut self, mut data: &[u8], limit: usize) -> Option<u64> {
        while !data.is_empty() {
            if self.remaining > 0 {
                let skipped = data
                    .len()
                    .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
                self.remaining -= skipped as u64;
                data = &data[skipped..];
                continue;
            }
            let taken = data.len().min(PREFIX_BYTES - self.prefix_len);
            self.prefix[self.prefix_len..self.prefix_len + taken].copy_from_slice(&data[..taken]);
            self.prefix_len += taken;
            data = &data[taken..];
            if self.prefix_len == PREFIX_BYTES {
                self.prefix_len = 0;
                let [_, a, b, c, d] = self.prefix;
                let length = u64::from(u32::from_be_bytes([a, b, c, d]));
                if length > limit as u64 {
                    return Some(length);
                }
                self.remaining = length;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(length: u32) -> Vec<u8> {
        let mut bytes = vec![0];
        bytes.extend(length.to_be_bytes());
        bytes.resize(PREFIX_BYTES + length as usize, b'x');
        bytes
    }

    #[test]
    fn messages_within_the_limit_pass_in_any_cut() {
        let stream: Vec<u8> = [message(10), message(0), message(100)].concat();
        for cut in 1..stream.len() {
            let mut frames = Frames::default();
            for piece in stream.chunks(cut) {
                assert_eq!(frames.first_above(piece, 100), None, "cut {cut}");
            }
        }
    }

    #[test]
    fn a_message_above_the_limit_is_caught_by_its_prefix_even_split() {
        let stream: Vec<u8> = [message(10), message(101)].concat();
        for cut in 1..=PREFIX_BYTES + 12 {
            let mut frames = Frames::default();
            let found = stream
                .chunks(cut)
                .find_map(|piece| frames.first_above(piece, 100));
            assert_eq!(found, Some(101), "cut {cut}");
        }
    }
}
