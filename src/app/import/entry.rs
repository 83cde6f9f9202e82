//! One entry of a file made ready for the spool: its id given or derived from its content,
//! its target and origin filled in, then checked with the domain's checks, as the unary API
//! checks a concept or a unit. A concept's id that another collection owns is qualified
//! rather than taken over.

use super::plan::Plan;
use super::Imports;
use crate::app::{check, now_ms};
use crate::model::{Concept, TranslationUnit, Violations};
use crate::store::{content_id, unit_content_id};
use crate::text;

/// Why an entry was not accepted.
pub(super) struct Rejected {
    /// The entry's id.
    pub(super) entry_id: String,
    /// Every violation, as `field: reason`.
    pub(super) reason: String,
}

/// The concept of an entry, ready for the spool into the plan's collection. The id it
/// claims is added to `claimed_ids`, for the import to give back when it ends.
pub(super) fn concept(
    imports: &Imports,
    plan: &Plan,
    mut concept: Concept,
    generated_id: bool,
    claimed_ids: &mut Vec<String>,
) -> Result<Concept, Rejected> {
    let collection = plan.target.name().to_owned();
    if generated_id {
        concept.id = content_id(
            &format!("{collection}-"),
            concept
                .terms()
                .map(|(lang, t)| (lang.to_string(), text::content_key(&t.text))),
        );
    }
    concept.collection = collection;
    let id = concept.id.clone();
    let mut violations = Violations::default();
    let mut concept = check::concept(concept, "entry", &mut violations);
    if let Err(invalid) = violations.into_result(()) {
        return Err(Rejected {
            entry_id: id,
            reason: invalid.reasons(),
        });
    }
    // Ids are unique across collections: a file's id that another collection already uses,
    // or that an import in progress will write into another collection, is qualified by
    // this collection's name instead of taking that concept over. The claim comes first:
    // an import that commits meanwhile is then seen by its claim or in the store.
    let claims = imports.claims();
    let claimed = plan.dry_run || claims.claim(&concept.id, &concept.collection);
    let taken = imports
        .store()
        .concept_collection(&concept.id)
        .map_err(|e| Rejected {
            entry_id: id.clone(),
            reason: e.to_string(),
        })?;
    let ours = claimed && taken.is_none_or(|other| other == concept.collection);
    if !plan.dry_run && claimed {
        if ours {
            claimed_ids.push(concept.id.clone());
        } else {
            claims.release([&concept.id]);
        }
    }
    if !ours {
        concept.id = format!("{}.{}", concept.collection, concept.id);
    }
    Ok(concept)
}

/// The unit of an entry, ready for the spool: its id derived from its content when the file
/// gave none, its origin the file's name when it names none.
pub(super) fn unit(plan: &Plan, mut unit: TranslationUnit) -> Result<TranslationUnit, Rejected> {
    if unit.id.is_empty() {
        unit.id = unit_content_id(&unit);
    }
    if unit.origin.is_empty() {
        unit.origin = plan.file_name.clone();
    }
    if unit.created_ms == 0 {
        unit.created_ms = now_ms();
    }
    let mut violations = Violations::default();
    check::unit(&unit, "entry", &mut violations);
    match violations.into_result(()) {
        Err(invalid) => Err(Rejected {
            entry_id: unit.id,
            reason: invalid.reasons(),
        }),
        Ok(()) => Ok(unit),
    }
}
