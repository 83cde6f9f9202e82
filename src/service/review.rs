//! `tolmach.v1.Review`: checks each request's languages and collections (a scoped key sees
//! only its collections), calls the application's [review](crate::app::review), converts
//! the findings and glossaries. The input bounds are the application's.

use prost::Message;
use tonic::{Request, Response, Status};

use super::convert::{span, MAX_REPLY_BYTES};
use super::proto::{self, review_server::Review as ReviewRpc};
use super::requests::{self, PairFields};
use crate::app::review::{Finding, FindingKind, Glossary, PairReport, Place, Review, Severity};
use crate::auth;
use crate::model::Violations;

/// The Review service over the application's review.
#[derive(Clone)]
pub struct ReviewService {
    review: Review,
}

impl ReviewService {
    /// The service answering from `review`.
    pub fn new(review: Review) -> ReviewService {
        ReviewService { review }
    }
}

#[tonic::async_trait]
impl ReviewRpc for ReviewService {
    async fn check_translation(
        &self,
        request: Request<proto::CheckTranslationRequest>,
    ) -> Result<Response<proto::CheckTranslationResponse>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.into_inner();
        let pairs = request
            .pairs
            .into_iter()
            .map(|pair| PairFields {
                id: pair.id,
                source_text: pair.source_text,
                source_lang: pair.source_lang,
                target_text: pair.target_text,
                target_lang: pair.target_lang,
            })
            .collect();
        let (pairs, collections) =
            requests::check_translation(&caller, pairs, request.collections)?;
        let reports = self.review.check(pairs, collections).await?;
        Ok(Response::new(check_reply(reports)))
    }

    async fn glossary_for(
        &self,
        request: Request<proto::GlossaryForRequest>,
    ) -> Result<Response<proto::GlossaryForResponse>, Status> {
        let caller = auth::caller(&request)?;
        let mut request = request.into_inner();
        let mut violations = Violations::default();
        let from = violations.lang("source_lang", &request.source_lang);
        let to = violations.lang("target_lang", &request.target_lang);
        violations.identifiers("collections", &request.collections);
        let (from, to) = violations.into_checked(from.zip(to))?;
        caller.readable_collections("GlossaryFor", &mut request.collections)?;
        let glossary = self
            .review
            .glossary(request.text, from, to, request.collections)
            .await?;
        Ok(Response::new(glossary_to_proto(glossary)))
    }
}

/// The reply: every pair, with as many findings as keep it under [`MAX_REPLY_BYTES`]; the
/// counts cover every finding, sent or not.
fn check_reply(reports: Vec<PairReport>) -> proto::CheckTranslationResponse {
    let mut reply = proto::CheckTranslationResponse::default();
    let mut bytes = 0;
    for report in reports {
        let mut pair = proto::PairFindings {
            id: report.id,
            findings: Vec::new(),
        };
        bytes += pair.encoded_len() + 8;
        for finding in &report.findings {
            match finding.severity {
                Severity::Error => reply.errors += 1,
                Severity::Warning => reply.warnings += 1,
            }
            let finding = finding_to_proto(finding);
            let size = finding.encoded_len() + 8;
            if bytes + size > MAX_REPLY_BYTES {
                reply.omitted_findings += 1;
                continue;
            }
            bytes += size;
            pair.findings.push(finding);
        }
        reply.pairs.push(pair);
    }
    reply
}

fn finding_to_proto(finding: &Finding) -> proto::Finding {
    proto::Finding {
        kind: match finding.kind {
            FindingKind::MissingTerm => proto::FindingKind::MissingTerm,
            FindingKind::DeprecatedUsed => proto::FindingKind::DeprecatedTermUsed,
            FindingKind::ForbiddenUsed => proto::FindingKind::ForbiddenTermUsed,
            FindingKind::NumberMismatch => proto::FindingKind::NumberMismatch,
        } as i32,
        severity: match finding.severity {
            Severity::Warning => proto::FindingSeverity::Warning,
            Severity::Error => proto::FindingSeverity::Error,
        } as i32,
        source: finding.source.as_ref().map(place_to_proto),
        target: finding.target.as_ref().map(place_to_proto),
        concept_id: finding.concept_id.clone(),
        used_term: finding.used_term.clone(),
        used_term_note: finding.used_term_note.clone(),
        expected: finding.expected.clone(),
        message: finding.message.clone(),
    }
}

fn place_to_proto(place: &Place) -> proto::TextPlace {
    proto::TextPlace {
        bytes: Some(span(&place.spans.bytes)),
        chars: Some(span(&place.spans.chars)),
        utf16: Some(span(&place.spans.utf16)),
        surface: place.surface.clone(),
    }
}

fn glossary_to_proto(glossary: Glossary) -> proto::GlossaryForResponse {
    proto::GlossaryForResponse {
        entries: glossary
            .entries
            .into_iter()
            .map(|e| proto::GlossaryEntry {
                concept_id: e.concept_id,
                source_forms: e.source_forms,
                target: e.target,
                note: e.note,
                case_sensitive: e.case_sensitive,
                avoid: e.avoid,
            })
            .collect(),
        deepl_tsv: glossary.deepl_tsv,
        deepl_csv: glossary.deepl_csv,
        omitted: glossary
            .left_out
            .into_iter()
            .map(|l| proto::OmittedEntry {
                source: l.source,
                target: l.target,
                reason: l.reason,
            })
            .collect(),
        prompt: glossary.prompt,
    }
}
