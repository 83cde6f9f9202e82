//! `tolmach.v1.Exchange`: whole termbases and memories in and out as files, streamed both
//! ways so that neither side ever holds a whole file.
//!
//! [`import`] reads an upload entry by entry on a blocking thread, checks and spools what is
//! sound through the store, and commits it all at once through the application's
//! [imports](crate::app::import); [`export`] walks the store and streams a writer's output in
//! chunks.

mod export;
mod import;
mod upload;

use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::proto::{self, exchange_server::Exchange};
use crate::app::import::Imports;
use crate::store::Store;

/// The Exchange service: imports go through the application's write path, exports read the
/// store.
#[derive(Clone)]
pub struct ExchangeService {
    store: Store,
    imports: Imports,
}

impl ExchangeService {
    /// A service importing through `imports` and exporting from `store`.
    pub fn new(store: Store, imports: Imports) -> ExchangeService {
        ExchangeService { store, imports }
    }
}

#[tonic::async_trait]
impl Exchange for ExchangeService {
    type ImportStream = ReceiverStream<Result<proto::ImportEvent, Status>>;
    type ExportStream = ReceiverStream<Result<proto::ExportChunk, Status>>;

    async fn import(
        &self,
        request: Request<Streaming<proto::ImportRequest>>,
    ) -> Result<Response<Self::ImportStream>, Status> {
        let events = import::start(self.imports.clone(), request.into_inner()).await?;
        Ok(Response::new(ReceiverStream::new(events)))
    }

    async fn export(
        &self,
        request: Request<proto::ExportRequest>,
    ) -> Result<Response<Self::ExportStream>, Status> {
        let chunks = export::start(self, request.into_inner())?;
        Ok(Response::new(ReceiverStream::new(chunks)))
    }
}
