//! `tolmach.v1.Exchange`: whole termbases and memories in and out as files, streamed both
//! ways so that neither side ever holds a whole file.
//!
//! [`import`] reads an upload entry by entry on a blocking thread, spools what is sound through
//! the store and commits it all at once (see [`crate::store`]'s imports); [`export`] walks
//! the store and streams a writer's output in chunks.

mod claims;
mod export;
mod import;
mod upload;

use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use self::claims::Claims;
use super::proto::{self, exchange_server::Exchange};
use super::{MemoryService, TermbaseService};
use crate::store::Store;

/// The Exchange service: imports go through the store and are published to the indexes of
/// the Termbase and Memory services.
#[derive(Clone)]
pub struct ExchangeService {
    store: Store,
    termbase: TermbaseService,
    memory: MemoryService,
    /// Concept ids the imports in progress will write.
    claims: Claims,
}

impl ExchangeService {
    /// A service writing to `store` and publishing to the other services' indexes.
    pub fn new(store: Store, termbase: TermbaseService, memory: MemoryService) -> ExchangeService {
        ExchangeService {
            store,
            termbase,
            memory,
            claims: Claims::default(),
        }
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
        let events = import::start(self.clone(), request.into_inner()).await?;
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
