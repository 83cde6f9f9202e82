//! One export, as gRPC sees it: the request checked into an [`ExportPlan`], and the
//! application's chunks and errors turned into `ExportChunk`s and statuses. Walking the store
//! and writing the format are the application's ([`crate::app::export`]).

use tokio::sync::mpsc;
use tonic::Status;

use crate::app::export::{Chunk, ConceptFormat, ExportPlan, Exports};
use crate::auth::{Caller, Role};
use crate::formats::TbxStyle;
use crate::model::Violations;
use crate::service::proto;

/// Chunks buffered towards a slow client.
const CHUNK_CHANNEL: usize = 8;

fn check(request: proto::ExportRequest) -> Result<ExportPlan, Status> {
    let mut violations = Violations::default();
    let langs = violations.langs("langs", &request.langs);
    violations.identifiers("collections", &request.collections);
    let format = proto::FileFormat::try_from(request.format);
    let concepts = |format| ExportPlan::Concepts {
        format,
        collections: request.collections.clone(),
        langs: langs.clone(),
        subject_fields: request.subject_fields.clone(),
    };
    let plan = match format {
        Ok(proto::FileFormat::Tmx) => {
            violations.identifier("memory", &request.memory);
            if !request.collections.is_empty() || !request.subject_fields.is_empty() {
                violations.add(
                    "collections",
                    "TMX exports a memory; collections and subject fields are for concepts",
                );
            }
            if !request.srclang.is_empty() && request.srclang != "*all*" {
                violations.lang("srclang", &request.srclang);
            }
            Some(ExportPlan::Units {
                memory: request.memory.clone(),
                langs: langs.clone(),
                srclang: match request.srclang.as_str() {
                    "" => "*all*".to_owned(),
                    given => given.to_owned(),
                },
            })
        }
        Ok(
            format @ (proto::FileFormat::Tbx
            | proto::FileFormat::Tbx2008
            | proto::FileFormat::Csv
            | proto::FileFormat::Tsv),
        ) => {
            if !request.memory.is_empty() {
                violations.add(
                    "memory",
                    "only TMX exports a memory; TBX, CSV and TSV export collections",
                );
            }
            Some(concepts(match format {
                proto::FileFormat::Tbx => ConceptFormat::Tbx(TbxStyle::V3Basic),
                proto::FileFormat::Tbx2008 => ConceptFormat::Tbx(TbxStyle::V2Martif),
                proto::FileFormat::Csv => ConceptFormat::Csv,
                _ => ConceptFormat::Tsv,
            }))
        }
        Ok(proto::FileFormat::Unspecified) => {
            violations.add("format", "is required: TBX, TBX 2008, TMX, CSV or TSV");
            None
        }
        Err(_) => {
            violations.add("format", format!("{} is not a format", request.format));
            None
        }
    };
    Ok(violations.into_checked(plan)?)
}

/// Narrows `plan` to what `caller` may read: a memory in its scope; the collections it names,
/// each in scope, or, when it names none, the caller's collections.
fn check_scope(caller: &Caller, plan: &mut ExportPlan) -> Result<(), Status> {
    Ok(match plan {
        ExportPlan::Units { memory, .. } => caller.check_memory("Export", Role::Reader, memory),
        ExportPlan::Concepts { collections, .. } => {
            caller.readable_collections("Export", collections)
        }
    }?)
}

/// Checks the request and starts writing what `caller` may read; the chunks follow on the
/// returned channel.
pub(super) fn start(
    caller: &Caller,
    exports: &Exports,
    request: proto::ExportRequest,
) -> Result<mpsc::Receiver<Result<proto::ExportChunk, Status>>, Status> {
    let mut plan = check(request)?;
    check_scope(caller, &mut plan)?;
    let (sender, receiver) = mpsc::channel(CHUNK_CHANNEL);
    let chunks = Box::new(move |chunk: Result<Chunk, _>| {
        let chunk = chunk
            .map(|Chunk { data, entries }| proto::ExportChunk { data, entries })
            .map_err(Status::from);
        sender.blocking_send(chunk).is_ok()
    });
    exports.start(plan, chunks)?;
    Ok(receiver)
}
