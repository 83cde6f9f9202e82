//! One import, as gRPC sees it: the header checked into an [`import::Plan`], the import
//! admitted, the upload's chunks turned into a reader, and the application's events and
//! errors turned into proto events and statuses. Reading, checking, spooling and committing
//! the file are the application's ([`crate::app::import`]).

use tokio::sync::mpsc;
use tonic::Status;

use super::upload::{idle_break, Upload};
use crate::app::import::{self, ImportJob, Imports, JobStart, Plan, Severity, Target};
use crate::app::AppError;
use crate::auth::{Caller, Role};
use crate::formats::Format;
use crate::model::violation::MAX_TERM_BYTES;
use crate::model::{OnConflict, Violations};
use crate::service::convert::timestamp;
use crate::service::proto::{self, entry_problem, import_event::Event, import_job};
use crate::store::JobState;

/// Events buffered towards a slow client.
const EVENT_CHANNEL: usize = 16;

/// The header, checked.
fn plan(header: proto::ImportHeader) -> Result<Plan, Status> {
    let mut violations = Violations::default();
    violations.max_len("header.file_name", &header.file_name, MAX_TERM_BYTES);
    let target = match header.target {
        Some(proto::import_header::Target::Collection(name)) => {
            violations.identifier("header.collection", &name);
            Some(Target::Collection(name))
        }
        Some(proto::import_header::Target::Memory(name)) => {
            violations.identifier("header.memory", &name);
            Some(Target::Memory(name))
        }
        None => {
            violations.add("header.target", "set either collection or memory");
            None
        }
    };
    let format = match proto::FileFormat::try_from(header.format) {
        Ok(proto::FileFormat::Unspecified) => None,
        Ok(proto::FileFormat::Tbx | proto::FileFormat::Tbx2008) => Some(Format::Tbx),
        Ok(proto::FileFormat::Tmx) => Some(Format::Tmx),
        Ok(proto::FileFormat::Csv) => Some(Format::Csv),
        Ok(proto::FileFormat::Tsv) => Some(Format::Tsv),
        Err(_) => {
            violations.add(
                "header.format",
                format!("{} is not a format", header.format),
            );
            None
        }
    };
    let strict = match proto::ImportMode::try_from(header.mode) {
        Ok(proto::ImportMode::BestEffort) => false,
        Ok(_) => true,
        Err(_) => {
            violations.add("header.mode", format!("{} is not a mode", header.mode));
            true
        }
    };
    let on_conflict = match proto::OnConflict::try_from(header.on_conflict) {
        Ok(proto::OnConflict::Replace) => OnConflict::Replace,
        Ok(proto::OnConflict::Skip) => OnConflict::Skip,
        Ok(_) => OnConflict::Merge,
        Err(_) => {
            violations.add(
                "header.on_conflict",
                format!("{} is not a conflict rule", header.on_conflict),
            );
            OnConflict::Merge
        }
    };
    if let (Some(format), Some(target)) = (format, &target) {
        import::check_target(format, target, &mut violations);
    }
    import::check_job_id(&header.job_id, header.dry_run, &mut violations);
    let target = violations.into_checked(target)?;
    Ok(Plan {
        format,
        file_name: header.file_name,
        target,
        strict,
        on_conflict,
        dry_run: header.dry_run,
        skip_empty_terms: header.skip_empty_terms,
        expected_bytes: header.expected_bytes,
        job_id: (!header.job_id.is_empty()).then_some(header.job_id),
    })
}

/// Refuses `method` (an import, or asking for one's outcome) by `caller` on a collection or
/// memory outside its scope: both need an editor of the target.
fn check_scope(caller: &Caller, method: &str, target: &Target) -> Result<(), Status> {
    Ok(match target {
        Target::Collection(name) => caller.check_collection(method, Role::Editor, name),
        Target::Memory(name) => caller.check_memory(method, Role::Editor, name),
    }?)
}

/// Checks the header and starts the import in the name of `caller`; the events follow on
/// the returned channel.
pub(super) async fn start(
    caller: &Caller,
    imports: &Imports,
    mut inbound: tonic::Streaming<proto::ImportRequest>,
) -> Result<mpsc::Receiver<Result<proto::ImportEvent, Status>>, Status> {
    let idle = imports.upload_idle();
    let first = tokio::time::timeout(idle, inbound.message())
        .await
        .map_err(|_| AppError::Upload(idle_break(idle)))?;
    let header = match first? {
        Some(proto::ImportRequest {
            message: Some(proto::import_request::Message::Header(header)),
        }) => header,
        Some(_) => {
            return Err(Status::invalid_argument(
                "invalid request: header: the first message must be the header",
            ))
        }
        None => {
            return Err(Status::invalid_argument(
                "invalid request: header: the stream ended before the header",
            ))
        }
    };
    let plan = plan(header)?;
    check_scope(caller, "Import", &plan.target)?;
    let imports = imports.by(caller.author());
    let (sender, receiver) = mpsc::channel(EVENT_CHANNEL);
    let job = match &plan.job_id {
        None => None,
        Some(job_id) => match imports.jobs().begin(job_id, &plan.target)? {
            JobStart::Run(job) => Some(job),
            JobStart::Replay(report) => {
                // The channel is new and empty: the one event fits.
                let replay = event_to_proto(import::ImportEvent::Report(report));
                let _ = sender.try_send(Ok(replay));
                return Ok(receiver);
            }
        },
    };
    // Held until the import ends: each reads, checks, spools and analyzes a whole file.
    let admitted = imports.admit()?;
    let (mut upload, state) = Upload::start(inbound, idle);
    let events = Box::new(move |event: Result<import::ImportEvent, _>| {
        let event = event.map(event_to_proto).map_err(Status::from);
        sender.blocking_send(event).is_ok()
    });
    // The client hears at once that its import is admitted; the import takes a thread
    // only once the upload has its first bytes, so a client slow to send them holds none.
    tokio::spawn(async move {
        upload.first_bytes().await;
        imports.start(admitted, plan, job, upload, state, events);
    });
    Ok(receiver)
}

/// Job `job_id`, as `GetImportJob` answers it.
pub(super) fn job(
    caller: &Caller,
    imports: &Imports,
    job_id: &str,
) -> Result<proto::ImportJob, Status> {
    let mut violations = Violations::default();
    if job_id.is_empty() {
        violations.add("job_id", "must not be empty");
    }
    import::check_job_id(job_id, false, &mut violations);
    violations.into_result(())?;
    let ImportJob {
        job_id,
        state,
        target,
        report,
        error,
        started_ms,
        ended_ms,
    } = imports.jobs().get(job_id)?;
    check_scope(caller, "GetImportJob", &target)?;
    Ok(proto::ImportJob {
        job_id,
        state: match state {
            JobState::Running => import_job::State::Running,
            JobState::Committed => import_job::State::Committed,
            JobState::Failed => import_job::State::Failed,
        } as i32,
        target: Some(match target {
            Target::Collection(name) => import_job::Target::Collection(name),
            Target::Memory(name) => import_job::Target::Memory(name),
        }),
        report: report.map(report_to_proto),
        error,
        start_time: timestamp(started_ms),
        end_time: (ended_ms != 0).then(|| timestamp(ended_ms)).flatten(),
    })
}

fn event_to_proto(event: import::ImportEvent) -> proto::ImportEvent {
    let event = match event {
        import::ImportEvent::Progress(progress) => Event::Progress(proto::ImportProgress {
            bytes_read: progress.bytes_read,
            expected_bytes: progress.expected_bytes,
            entries_read: progress.entries_read,
            accepted: progress.accepted,
            rejected: progress.rejected,
            problems: problems_to_proto(progress.problems),
            problems_unlisted: progress.problems_unlisted,
        }),
        import::ImportEvent::Report(report) => Event::Report(report_to_proto(report)),
    };
    proto::ImportEvent { event: Some(event) }
}

fn report_to_proto(report: import::Report) -> proto::ImportReport {
    proto::ImportReport {
        import_id: report.import_id,
        dry_run: report.dry_run,
        committed: report.committed,
        format: report
            .format
            .map_or(proto::FileFormat::Unspecified, format_to_proto) as i32,
        bytes_read: report.bytes_read,
        entries_read: report.entries_read,
        accepted: report.accepted,
        rejected: report.rejected,
        warnings: report.warnings,
        added: report.added,
        updated: report.updated,
        unchanged: report.unchanged,
        skipped: report.skipped,
        problems: problems_to_proto(report.problems),
        problems_unlisted: report.problems_unlisted,
        job_id: report.job_id,
        replayed: report.replayed,
    }
}

fn problems_to_proto(problems: Vec<import::Problem>) -> Vec<proto::EntryProblem> {
    problems
        .into_iter()
        .map(|p| proto::EntryProblem {
            severity: match p.severity {
                Severity::Warning => entry_problem::Severity::Warning,
                Severity::Rejected => entry_problem::Severity::Rejected,
                Severity::Fatal => entry_problem::Severity::Fatal,
            } as i32,
            line: p.line,
            column: p.column,
            entry_id: p.entry_id,
            reason: p.reason,
        })
        .collect()
}

fn format_to_proto(format: Format) -> proto::FileFormat {
    match format {
        Format::Tbx => proto::FileFormat::Tbx,
        Format::Tmx => proto::FileFormat::Tmx,
        Format::Csv => proto::FileFormat::Csv,
        Format::Tsv => proto::FileFormat::Tsv,
    }
}
