//! `tolmach.v1.Exchange`: whole termbases and memories in and out as files, streamed both
//! ways so that neither side ever holds a whole file.
//!
//! [`import`] checks the header and hands the application's
//! [imports](crate::app::import) a reader over the upload ([`upload`]), streaming back their
//! events, and answers `GetImportJob` from the imports' jobs; [`export`] checks the request and streams back the chunks the application's
//! [exports](crate::app::export) write.

mod export;
mod import;
mod upload;

use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::proto::{self, exchange_server::Exchange};
use crate::app::export::Exports;
use crate::app::import::Imports;

/// The Exchange service: imports go through the application's write path, exports read the
/// store.
#[derive(Clone)]
pub struct ExchangeService {
    imports: Imports,
    exports: Exports,
}

impl ExchangeService {
    /// A service importing through `imports` and exporting through `exports`.
    pub fn new(imports: Imports, exports: Exports) -> ExchangeService {
        ExchangeService { imports, exports }
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
        let caller = crate::auth::caller(&request)?;
        let events = import::start(&caller, &self.imports, request.into_inner()).await?;
        Ok(Response::new(ReceiverStream::new(events)))
    }

    async fn export(
        &self,
        request: Request<proto::ExportRequest>,
    ) -> Result<Response<Self::ExportStream>, Status> {
        let caller = crate::auth::caller(&request)?;
        let chunks = export::start(&caller, &self.exports, request.into_inner())?;
        Ok(Response::new(ReceiverStream::new(chunks)))
    }

    async fn get_import_job(
        &self,
        request: Request<proto::GetImportJobRequest>,
    ) -> Result<Response<proto::ImportJob>, Status> {
        let caller = crate::auth::caller(&request)?;
        let job = import::job(&caller, &self.imports, &request.into_inner().job_id)?;
        Ok(Response::new(job))
    }
}
