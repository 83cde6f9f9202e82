//! The TBX v3 dialects a file may declare (TBX-Basic, TBX-Min, TBX-Core) and their rules:
//! data categories, the levels they belong to and their picklists, after the official
//! schematrons, and the order of the core structure.
//!
//! Files that declare no dialect (TBX 2008, TBX v3 without a `type`, vendor shapes) are read
//! leniently and never reach these checks.

use crate::formats::xml::{collapse_space, Tag};
use crate::formats::FormatError;

use super::builder::{EntryBuilder, Frame};

/// The namespace of TBX v3 (ISO 30042:2019).
const TBX_NAMESPACE: &str = "urn:iso:std:iso:30042:ed-2";

/// A TBX v3 dialect a file declares (`<tbx type="…">` in [`TBX_NAMESPACE`]).
///
/// A file that names a dialect promises its rules, and a file that breaks them was written by
/// a tool that got something wrong: it is refused (an entry [`FormatError::Rejected`], or the
/// file [`FormatError::Malformed`]) rather than read as if it were valid. Files that name no
/// dialect, and vendor shapes (MultiTerm, IATE, Microsoft, TBX 2008), are read leniently,
/// keeping what they have with warnings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dialect {
    /// The core structure only: it defines no data categories, so their types are not checked.
    Core,
    Basic,
    Min,
}

/// The levels of an entry, as bits, for where a data category may appear.
const CONCEPT: u8 = 1;
const LANGUAGE: u8 = 2;
const TERM: u8 = 4;

/// A data category of a dialect.
struct DataCategory {
    /// Its name: the `type` of a DCA element, the local name of a DCT element.
    name: &'static str,
    /// The DCA element that carries it.
    element: &'static str,
    /// Where it may appear ([`CONCEPT`], [`LANGUAGE`], [`TERM`]): directly at the level or
    /// in a group there.
    levels: u8,
    /// The values it may take; empty for free text.
    picklist: &'static [&'static str],
}

const STATUS_VALUES: &[&str] = &[
    "admittedTerm-admn-sts",
    "deprecatedTerm-admn-sts",
    "supersededTerm-admn-sts",
    "preferredTerm-admn-sts",
];
pub(super) const PART_OF_SPEECH_VALUES: &[&str] = &["adjective", "noun", "other", "verb", "adverb"];
/// `usageStatus` is not in the official schematrons, but the LTAC dialect samples (valid
/// TBX-Basic and TBX-Min files) use it in place of `administrativeStatus`.
const USAGE_STATUS_VALUES: &[&str] = &[
    "preferred",
    "admitted",
    "deprecated",
    "notRecommended",
    "obsolete",
];

/// The categories of TBX-Min (the official TBX-Min schematron), plus `usageStatus`.
const MIN_CATEGORIES: &[DataCategory] = &[
    DataCategory {
        name: "subjectField",
        element: "descrip",
        levels: CONCEPT,
        picklist: &[],
    },
    DataCategory {
        name: "customerSubset",
        element: "admin",
        levels: CONCEPT | TERM,
        picklist: &[],
    },
    DataCategory {
        name: "administrativeStatus",
        element: "termNote",
        levels: TERM,
        picklist: STATUS_VALUES,
    },
    DataCategory {
        name: "partOfSpeech",
        element: "termNote",
        levels: TERM,
        picklist: PART_OF_SPEECH_VALUES,
    },
    DataCategory {
        name: "usageStatus",
        element: "termNote",
        levels: TERM,
        picklist: USAGE_STATUS_VALUES,
    },
    DataCategory {
        name: "externalCrossReference",
        element: "xref",
        levels: CONCEPT | LANGUAGE | TERM,
        picklist: &[],
    },
];

/// The categories TBX-Basic adds to TBX-Min (the official TBX-Basic schematron). Its
/// `transactionType` also takes `creation`, which the LTAC TBX-Basic sample uses.
const BASIC_CATEGORIES: &[DataCategory] = &[
    DataCategory {
        name: "projectSubset",
        element: "admin",
        levels: CONCEPT | TERM,
        picklist: &[],
    },
    DataCategory {
        name: "source",
        element: "admin",
        levels: CONCEPT | LANGUAGE | TERM,
        picklist: &[],
    },
    DataCategory {
        name: "context",
        element: "descrip",
        levels: TERM,
        picklist: &[],
    },
    DataCategory {
        name: "definition",
        element: "descrip",
        levels: CONCEPT | LANGUAGE,
        picklist: &[],
    },
    DataCategory {
        name: "crossReference",
        element: "ref",
        levels: CONCEPT | TERM,
        picklist: &[],
    },
    DataCategory {
        name: "geographicalUsage",
        element: "termNote",
        levels: TERM,
        picklist: &[],
    },
    DataCategory {
        name: "grammaticalGender",
        element: "termNote",
        levels: TERM,
        picklist: &["masculine", "feminine", "neuter", "other"],
    },
    DataCategory {
        name: "termLocation",
        element: "termNote",
        levels: TERM,
        picklist: &[
            "checkBox",
            "comboBox",
            "comboBoxElement",
            "dialogBox",
            "groupBox",
            "informativeMessage",
            "interactiveMessage",
            "menuItem",
            "progressBar",
            "pushButton",
            "radioButton",
            "slider",
            "spinBox",
            "tab",
            "tableText",
            "textBox",
            "toolTip",
            "user-definedType",
        ],
    },
    DataCategory {
        name: "termType",
        element: "termNote",
        levels: TERM,
        picklist: &[
            "fullForm",
            "acronym",
            "abbreviation",
            "shortForm",
            "variant",
            "phrase",
        ],
    },
    DataCategory {
        name: "transactionType",
        element: "transac",
        levels: CONCEPT | LANGUAGE | TERM,
        picklist: &["origination", "modification", "creation"],
    },
    DataCategory {
        name: "responsibility",
        element: "transacNote",
        levels: CONCEPT | LANGUAGE | TERM,
        picklist: &[],
    },
    DataCategory {
        name: "xGraphic",
        element: "xref",
        levels: CONCEPT | LANGUAGE,
        picklist: &[],
    },
];

/// Elements of the TBX core structure that carry a data category in their `type`.
const DCA_ELEMENTS: &[&str] = &[
    "admin",
    "adminNote",
    "descrip",
    "descripNote",
    "ref",
    "termNote",
    "transac",
    "transacNote",
    "xref",
];

/// The groups of the core structure, each with the element it is built around.
const GROUPS: &[(&str, &str)] = &[
    ("adminGrp", "admin"),
    ("descripGrp", "descrip"),
    ("termNoteGrp", "termNote"),
    ("transacGrp", "transac"),
];

fn level_names(levels: u8) -> String {
    [(CONCEPT, "concept"), (LANGUAGE, "language"), (TERM, "term")]
        .iter()
        .filter(|(bit, _)| levels & bit != 0)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Dialect {
    /// The dialect the root element declares. A `<tbx>` root in another namespace than TBX
    /// v3's is not TBX v3 at all, whatever it declares: the file is refused.
    pub(super) fn declared(root: &Tag) -> Result<Option<Dialect>, FormatError> {
        if root.local() != "tbx" {
            return Ok(None);
        }
        let namespace = root.attr("xmlns");
        if let Some(ns) = namespace.filter(|ns| *ns != TBX_NAMESPACE) {
            return Err(FormatError::malformed(
                root.line,
                root.column,
                format!(
                    "<{}> is in the namespace {ns:?}; TBX v3 is in {TBX_NAMESPACE:?}",
                    root.name
                ),
            ));
        }
        if namespace.is_none() {
            return Ok(None);
        }
        Ok(match root.attr("type") {
            Some("TBX-Basic") => Some(Dialect::Basic),
            Some("TBX-Min") => Some(Dialect::Min),
            Some("TBX-Core") => Some(Dialect::Core),
            _ => None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Dialect::Core => "TBX-Core",
            Dialect::Basic => "TBX-Basic",
            Dialect::Min => "TBX-Min",
        }
    }

    /// The data category `name` of the dialect; `None` when the dialect does not have it.
    fn category(self, name: &str) -> Option<&'static DataCategory> {
        let basic: &[DataCategory] = match self {
            Dialect::Core => return None,
            Dialect::Min => &[],
            Dialect::Basic => BASIC_CATEGORIES,
        };
        MIN_CATEGORIES.iter().chain(basic).find(|c| c.name == name)
    }

    /// Checks an element outside any entry, in an element whose local name is `parent`:
    /// `<tbx>` holds `<tbxHeader>` and `<text>`. Anything else there (such as `<body>` and
    /// `<text>` swapped) leaves every entry out of place, so the file is refused.
    pub(super) fn check_outside(self, parent: &str, tag: &Tag) -> Result<(), FormatError> {
        if parent == "tbx" && !matches!(tag.local(), "tbxHeader" | "text") {
            return Err(FormatError::malformed(
                tag.line,
                tag.column,
                format!(
                    "<{}> directly in <tbx>: {} puts <tbxHeader> and then <text> there, and \
                     <body> inside <text>",
                    tag.name,
                    self.name()
                ),
            ));
        }
        Ok(())
    }

    /// Checks an element opening inside an entry, directly in `parent` (`None`: directly in
    /// the entry): that it is an element of the core structure, in a place the structure
    /// allows, and, for a data category, that the dialect has it at this level.
    pub(super) fn check_open(
        self,
        tag: &Tag,
        entry: &mut EntryBuilder,
        parent: Option<&mut Frame>,
    ) -> Option<FormatError> {
        let reason = self.open_reason(tag, entry, parent)?;
        Some(FormatError::rejected(tag.line, tag.column, reason))
    }

    fn open_reason(
        self,
        tag: &Tag,
        entry: &mut EntryBuilder,
        parent: Option<&mut Frame>,
    ) -> Option<String> {
        let name = &tag.name;
        let local = tag.local();
        let level = match (&entry.current_term, entry.current_section) {
            (Some(_), _) => TERM,
            (None, Some(_)) => LANGUAGE,
            (None, None) => CONCEPT,
        };
        let group = match parent {
            Some(Frame::TermSec) => {
                if let Some(t) = entry.current_term.as_mut() {
                    t.children += 1;
                    if local == "term" && t.text.is_some() {
                        return Some(format!("second <{name}> in one term section"));
                    }
                    if local == "term" && t.children > 1 {
                        return Some(format!("<{name}> must come first in its term section"));
                    }
                    // The core structure orders a term section: the term, its term notes,
                    // then descriptions, admin data, notes and references.
                    let term_note = matches!(local, "termNote" | "termNoteGrp")
                        || (name.contains(':')
                            && self
                                .category(local)
                                .is_some_and(|c| c.element == "termNote"));
                    if local != "term" {
                        match (&t.aux, term_note) {
                            (Some((before, line)), true) => {
                                return Some(format!(
                                    "<{name}> after <{before}> (line {line}): term notes come \
                                     right after the <term>, before descriptions, admin data \
                                     and notes"
                                ));
                            }
                            (None, false) => t.aux = Some((name.clone(), tag.line)),
                            _ => {}
                        }
                    }
                }
                None
            }
            Some(Frame::Group(g)) => Some(g),
            Some(Frame::Section) | None => None,
        };
        let dct = name.contains(':');
        if !dct {
            match local {
                "langSec" | "termSec" | "term" => return None,
                "note" => return None,
                "date" => {
                    return match group {
                        Some(g) if g.name == "transacGrp" => None,
                        _ => Some(format!("<{name}> outside a <transacGrp>")),
                    }
                }
                _ => {}
            }
            if let Some((group_name, _)) = GROUPS.iter().find(|(g, _)| *g == local) {
                return match group {
                    Some(outer) if *group_name != "transacGrp" => {
                        Some(format!("<{name}> inside <{}>", outer.name))
                    }
                    _ => None,
                };
            }
            if !DCA_ELEMENTS.contains(&local) {
                return Some(format!("<{name}> is not an element of TBX"));
            }
            if let Some(g) = group {
                let head = GROUPS.iter().find(|(n, _)| *n == g.name).map(|(_, h)| *h);
                if head == Some(local) {
                    g.heads += 1;
                    if g.heads > 1 {
                        return Some(format!("second <{name}> in one <{}>", g.name));
                    }
                }
            }
        }
        let element = if dct {
            self.category(local).map_or(local, |c| c.element)
        } else {
            local
        };
        if element == "termNote" && level != TERM {
            return Some(format!(
                "<{name}> in a {} section: a termNote belongs in a term section",
                if level == LANGUAGE {
                    "language"
                } else {
                    "concept"
                }
            ));
        }
        let category = if dct {
            local
        } else {
            match tag.attr("type").map(str::trim) {
                Some(t) if !t.is_empty() => t,
                _ if matches!(local, "adminNote" | "descripNote") => return None,
                _ => return Some(format!("<{name}> without a type")),
            }
        };
        if self == Dialect::Core {
            return None;
        }
        let Some(found) = self.category(category) else {
            return Some(format!(
                "<{name}>: data category {category:?} is not part of {}",
                self.name()
            ));
        };
        if !dct && found.element != local {
            return Some(format!(
                "<{name}>: data category {category:?} is a <{}>",
                found.element
            ));
        }
        if found.levels & level == 0 {
            return Some(format!(
                "<{name}>: data category {category:?} is not allowed at {} level, only at {}",
                level_names(level),
                level_names(found.levels)
            ));
        }
        None
    }

    /// Checks the value of a picklist data category.
    pub(super) fn check_value(self, tag: &Tag, text: &str) -> Result<(), FormatError> {
        let name = if tag.name.contains(':') {
            tag.local()
        } else {
            tag.attr("type").map_or("", str::trim)
        };
        let Some(found) = self.category(name) else {
            return Ok(());
        };
        let value = collapse_space(text);
        if found.picklist.is_empty() || found.picklist.contains(&value.as_str()) {
            return Ok(());
        }
        Err(FormatError::rejected(
            tag.line,
            tag.column,
            format!(
                "<{}>: {value:?} is not a value of {name} in {}; allowed: {}",
                tag.name,
                self.name(),
                found.picklist.join(", ")
            ),
        ))
    }
}
