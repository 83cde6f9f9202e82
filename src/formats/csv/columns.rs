//! The columns of a glossary file: what a header name stands for (a language, a field of the
//! concept, a field of one language's term) and the names [`write_csv`](super::write_csv)
//! gives them.

use crate::model::Lang;

/// What a column holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Column {
    Lang(Lang),
    Id,
    Status,
    Note,
    Subject,
    PartOfSpeech,
    Definition,
    /// Where the concept comes from.
    Source,
    SourceLang,
    TargetLang,
    SourceText,
    TargetText,
    /// Ids of related concepts, one per line.
    CrossRefs,
    /// A field of the term (or section) of one language: `en:status`.
    LangField(Lang, LangField),
    /// Any other named column, kept as a note.
    Other(String),
    /// A column without a name.
    Ignored,
}

/// A field of one language's term or section, in a `<language>:<field>` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum LangField {
    Status,
    Type,
    PartOfSpeech,
    Note,
    Source,
    Context,
    /// The section's definition.
    Definition,
    /// The section's notes, one per line.
    LangNote,
}

/// The fields [`write_csv`](super::write_csv) writes after each language column, with their names.
pub(super) const LANG_FIELDS: [(LangField, &str); 8] = [
    (LangField::Status, "status"),
    (LangField::Type, "type"),
    (LangField::PartOfSpeech, "pos"),
    (LangField::Note, "note"),
    (LangField::Source, "source"),
    (LangField::Context, "context"),
    (LangField::Definition, "definition"),
    (LangField::LangNote, "lang-note"),
];

/// A `<language>:<field>` column name.
fn classify_lang_field(name: &str) -> Option<Column> {
    let (lang, field) = name.split_once(':')?;
    let lang = Lang::parse(lang.trim()).ok()?;
    let key: String = field
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    let field = match key.as_str() {
        "status" | "termstatus" => LangField::Status,
        "type" | "termtype" => LangField::Type,
        "pos" | "partofspeech" => LangField::PartOfSpeech,
        "note" | "termnote" => LangField::Note,
        "source" | "termsource" => LangField::Source,
        "context" | "example" => LangField::Context,
        "definition" => LangField::Definition,
        "langnote" | "languagenote" | "sectionnote" => LangField::LangNote,
        _ => return None,
    };
    Some(Column::LangField(lang, field))
}

pub(super) fn classify(name: &str) -> Column {
    let name = name.trim();
    if let Some(column) = classify_lang_field(name) {
        return column;
    }
    let key: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    match key.as_str() {
        "" => Column::Ignored,
        "id" | "stringid" | "conceptid" | "entryid" => Column::Id,
        "status" | "termstatus" | "administrativestatus" => Column::Status,
        "note" | "notes" | "comment" | "comments" => Column::Note,
        "subject" | "subjectfield" | "domain" => Column::Subject,
        "pos" | "partofspeech" => Column::PartOfSpeech,
        "definition" | "description" => Column::Definition,
        "sourcelang" | "sourcelanguage" | "srclang" => Column::SourceLang,
        "targetlang" | "targetlanguage" | "tgtlang" | "trglang" => Column::TargetLang,
        "sourcestring" | "sourceterm" | "sourcetext" => Column::SourceText,
        "targetstring" | "targetterm" | "targettext" => Column::TargetText,
        "source" | "reference" => Column::Source,
        "xref" | "crossref" | "crossreference" | "crossrefs" | "related" => Column::CrossRefs,
        // Short words that parse as language tags but are usual column names.
        "key" | "ref" | "url" | "tag" | "src" | "tgt" | "no" | "num" | "nr" | "idx" | "row" => {
            Column::Other(name.to_owned())
        }
        _ => match Lang::parse(name) {
            Ok(lang) => Column::Lang(lang),
            Err(_) => Column::Other(name.to_owned()),
        },
    }
}
