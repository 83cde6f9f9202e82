//! The listening socket as a stream of connections, bounded: at most a configured number
//! open at once, and accept errors that would repeat at once (no file descriptor left) met
//! with a pause instead of a busy loop.
//!
//! tonic's own `TcpIncoming` keeps every connection a client opens, and its accept loop
//! retries an `EMFILE` at once, which spins a core for as long as the descriptors stay
//! used up. Here each accepted connection holds a permit of one semaphore until hyper drops
//! it; a connection beyond the limit is closed at once (the client sees a reset, not a queue
//! that never moves), and an accept error other than a connection that died on the way backs
//! off from 10 ms up to 1 s. A connection that sends nothing for [`SILENCE_TIMEOUT`] after
//! it is accepted is closed.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tokio_stream::Stream;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// The first pause after an accept error, doubled on each error in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
/// The longest pause after accept errors in a row.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How long a new connection may stay silent: a client that connects and sends nothing (no
/// HTTP/2 preface, no TLS hello) is closed after this, so that silent sockets cannot fill
/// the connection limit. A connection that has spoken is kept while HTTP/2 keep-alive pings
/// are answered.
pub const SILENCE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections accepted (and over the limit closed) in one poll before the accept loop lets
/// other tasks run.
const ACCEPTS_PER_POLL: usize = 64;

/// The server's connections, at most `limit` open at once.
pub struct Incoming {
    listener: TcpListener,
    open: Arc<Semaphore>,
    limit: usize,
    backoff: Duration,
    pause: Option<Pin<Box<Sleep>>>,
}

impl Incoming {
    /// Connections of `listener`, at most `limit` at once.
    pub fn new(listener: TcpListener, limit: usize) -> Incoming {
        Incoming {
            listener,
            open: Arc::new(Semaphore::new(limit)),
            limit,
            backoff: FIRST_BACKOFF,
            pause: None,
        }
    }

    /// What to do after an accept error: go on at once when only that connection failed,
    /// else pause, longer each time in a row.
    fn after_error(&mut self, error: &io::Error) {
        if matches!(
            error.kind(),
            io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::Interrupted
                | io::ErrorKind::WouldBlock
        ) {
            return;
        }
        tracing::warn!(
            %error,
            pause_ms = self.backoff.as_millis() as u64,
            "cannot accept connections; pausing before the next try"
        );
        self.pause = Some(Box::pin(tokio::time::sleep(self.backoff)));
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }
}

impl Stream for Incoming {
    type Item = io::Result<Connection>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        for _ in 0..ACCEPTS_PER_POLL {
            if let Some(pause) = &mut this.pause {
                if pause.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.pause = None;
            }
            let stream = match this.listener.poll_accept(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok((stream, _))) => stream,
                Poll::Ready(Err(error)) => {
                    this.after_error(&error);
                    continue;
                }
            };
            this.backoff = FIRST_BACKOFF;
            let Ok(permit) = Arc::clone(&this.open).try_acquire_owned() else {
                tracing::debug!(
                    limit = this.limit,
                    "closed a connection over the limit of open connections"
                );
                continue;
            };
            // Small gRPC answers go out at once rather than wait for more to send.
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY");
            }
            return Poll::Ready(Some(Ok(Connection {
                stream,
                silence: Some(Box::pin(tokio::time::sleep(SILENCE_TIMEOUT))),
                _permit: permit,
            })));
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// One accepted connection; its place under the limit is given back when it is dropped.
pub struct Connection {
    stream: TcpStream,
    /// Until the first bytes arrive: when the client must have spoken.
    silence: Option<Pin<Box<Sleep>>>,
    _permit: OwnedSemaphorePermit,
}

impl Connected for Connection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        let Some(silence) = &mut this.silence else {
            return read;
        };
        if read.is_ready() {
            this.silence = None;
            return read;
        }
        match silence.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client sent nothing after connecting",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
