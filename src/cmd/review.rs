//! `tolmach check` and `tolmach glossary-for`: a translation checked against the termbase
//! (two plain-text files, or the units of one TMX or XLIFF file), and the glossary of one
//! text for DeepL or an LLM prompt.
//!
//! `check` exits with status 1 when a finding of severity error exists ([`ErrorFindings`],
//! chosen in `main`), 0 otherwise; a failure to check at all is reported like any command's.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use tolmach::formats::{FormatError, TmxReader, XliffReader};
use tolmach::model::Lang;
use tolmach::service::proto::{self, review_client::ReviewClient};

use super::render::{check_report, print, print_json};
use super::termbase::read_input;
use super::{connection, ClientArgs};

/// The most pairs and text bytes sent in one CheckTranslation call: the server's bounds.
const BATCH_PAIRS: usize = 1000;
const BATCH_BYTES: usize = 1024 * 1024;

/// What `tolmach check` takes.
#[derive(Args)]
pub struct CheckArgs {
    /// SOURCE and TARGET plain-text files (`-` reads one of them from standard input), or
    /// one TMX or XLIFF file whose units are the pairs. Two texts with as many non-blank
    /// lines are checked line by line; otherwise as one pair.
    #[arg(required = true, num_args = 1..=2, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Language of the source. Required for plain text; for TMX, which language of each
    /// unit is the source (default: the header's srclang, else the unit's first); for
    /// XLIFF, instead of the file's.
    #[arg(long, alias = "from")]
    source_lang: Option<String>,
    /// Language of the target. Required for plain text; for TMX, default: the unit's first
    /// other language; for XLIFF, instead of the file's.
    #[arg(long, alias = "to")]
    target_lang: Option<String>,
    /// Only the terms of these collections, comma-separated; default: all.
    #[arg(long, value_delimiter = ',')]
    collections: Vec<String>,
    #[command(flatten)]
    client: ClientArgs,
}

/// What `tolmach glossary-for` takes.
#[derive(Args)]
pub struct GlossaryForArgs {
    /// The text file; `-` reads standard input.
    file: PathBuf,
    /// Language of the text.
    #[arg(long)]
    from: String,
    /// Language of the translation.
    #[arg(long)]
    to: String,
    /// What to print.
    #[arg(long, value_enum, default_value = "prompt")]
    format: GlossaryFormat,
    /// Only the terms of these collections, comma-separated; default: all.
    #[arg(long, value_delimiter = ',')]
    collections: Vec<String>,
    #[command(flatten)]
    client: ClientArgs,
}

/// The forms of a glossary `glossary-for` prints.
#[derive(Clone, Copy, ValueEnum)]
enum GlossaryFormat {
    /// DeepL glossary entries, tab-separated.
    DeeplTsv,
    /// DeepL glossary entries, comma-separated.
    DeeplCsv,
    /// A block for an LLM prompt.
    Prompt,
}

/// The check found errors: `main` exits with status 1 without a further message.
#[derive(Debug, thiserror::Error)]
#[error("the translation has {0} finding(s) of severity error")]
pub struct ErrorFindings(pub u32);

/// Checks the pairs of the files, prints the findings and a summary (or JSON); an
/// [`ErrorFindings`] error when a finding of severity error exists.
pub async fn check(args: CheckArgs) -> Result<()> {
    let CheckArgs {
        files,
        source_lang,
        target_lang,
        collections,
        client,
    } = args;
    let pairs = match files.as_slice() {
        [source, target] => text_pairs(source, target, source_lang, target_lang)?,
        [file] => file_pairs(file, source_lang.as_deref(), target_lang.as_deref())?,
        _ => bail!("give SOURCE and TARGET text files, or one TMX or XLIFF file"),
    };
    if pairs.is_empty() {
        bail!("no segment pairs to check");
    }
    let mut review = ReviewClient::new(connection(&client).await?);
    let mut response = proto::CheckTranslationResponse::default();
    for batch in batches(&pairs) {
        let answer = review
            .check_translation(proto::CheckTranslationRequest {
                pairs: batch.to_vec(),
                collections: collections.clone(),
            })
            .await?
            .into_inner();
        response.pairs.extend(answer.pairs);
        response.errors += answer.errors;
        response.warnings += answer.warnings;
        response.omitted_findings += answer.omitted_findings;
    }
    if client.json {
        print_json("tolmach.v1.CheckTranslationResponse", &response)?;
    } else {
        print(&check_report(&pairs, &response))?;
    }
    if response.errors > 0 {
        return Err(ErrorFindings(response.errors).into());
    }
    Ok(())
}

/// Prints the glossary of a text in the chosen form (or the whole answer as JSON); what the
/// DeepL glossary left out goes to standard error.
pub async fn glossary_for(args: GlossaryForArgs) -> Result<()> {
    let text = read_input(Some(args.file.as_path()))?;
    let mut review = ReviewClient::new(connection(&args.client).await?);
    let response = review
        .glossary_for(proto::GlossaryForRequest {
            text,
            source_lang: args.from,
            target_lang: args.to,
            collections: args.collections,
        })
        .await?
        .into_inner();
    if args.client.json {
        return print_json("tolmach.v1.GlossaryForResponse", &response);
    }
    let deepl = matches!(
        args.format,
        GlossaryFormat::DeeplTsv | GlossaryFormat::DeeplCsv
    );
    if deepl {
        for left in &response.omitted {
            eprintln!(
                "left out: {:?} → {:?}: {}",
                left.source, left.target, left.reason
            );
        }
    }
    print(match args.format {
        GlossaryFormat::DeeplTsv => &response.deepl_tsv,
        GlossaryFormat::DeeplCsv => &response.deepl_csv,
        GlossaryFormat::Prompt => &response.prompt,
    })
}

/// Consecutive runs of pairs within the server's bounds.
fn batches(pairs: &[proto::SegmentPair]) -> Vec<&[proto::SegmentPair]> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, pair) in pairs.iter().enumerate() {
        let size = pair.source_text.len() + pair.target_text.len();
        if i > start && (i - start == BATCH_PAIRS || bytes + size > BATCH_BYTES) {
            batches.push(&pairs[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    batches.push(&pairs[start..]);
    batches
}

/// The pairs of two plain texts: line by line when both have as many non-blank lines
/// (ids are the source's line numbers), else the whole texts as pair `1`.
fn text_pairs(
    source: &Path,
    target: &Path,
    source_lang: Option<String>,
    target_lang: Option<String>,
) -> Result<Vec<proto::SegmentPair>> {
    if source.as_os_str() == "-" && target.as_os_str() == "-" {
        bail!("only one of SOURCE and TARGET can be read from standard input");
    }
    let (Some(source_lang), Some(target_lang)) = (source_lang, target_lang) else {
        bail!("plain-text files need --source-lang and --target-lang");
    };
    let source_text = read_input(Some(source))?;
    let target_text = read_input(Some(target))?;
    let lines = |text: &str| -> Vec<(usize, String)> {
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| (i + 1, line.to_owned()))
            .collect()
    };
    let (source_lines, target_lines) = (lines(&source_text), lines(&target_text));
    let pair = |id: String, source_text: String, target_text: String| proto::SegmentPair {
        id,
        source_text,
        source_lang: source_lang.clone(),
        target_text,
        target_lang: target_lang.clone(),
    };
    if source_lines.len() == target_lines.len() && source_lines.len() > 1 {
        return Ok(source_lines
            .into_iter()
            .zip(target_lines)
            .map(|((line, s), (_, t))| pair(format!("line {line}"), s, t))
            .collect());
    }
    Ok(vec![pair("1".into(), source_text, target_text)])
}

/// The pairs of one TMX or XLIFF file, told apart by their root element.
fn file_pairs(
    file: &Path,
    source_lang: Option<&str>,
    target_lang: Option<&str>,
) -> Result<Vec<proto::SegmentPair>> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
    let parse = |tag: Option<&str>| -> Result<Option<Lang>> {
        tag.map(|t| Lang::parse(t).with_context(|| format!("{t:?} is not a language tag")))
            .transpose()
    };
    let (source_lang, target_lang) = (parse(source_lang)?, parse(target_lang)?);
    let name = file.display().to_string();
    if head.contains("<xliff") {
        xliff_pairs(&bytes, &name, source_lang, target_lang)
    } else if head.contains("<tmx") {
        tmx_pairs(&bytes, &name, source_lang, target_lang)
    } else {
        bail!("{name} is neither TMX nor XLIFF; give SOURCE and TARGET text files instead")
    }
}

/// The entries a reader of file `name` gives: a rejected one is reported on standard error
/// and skipped, a fatal error ends the command.
fn usable<T>(reader: impl Iterator<Item = Result<T, FormatError>>, name: &str) -> Result<Vec<T>> {
    let mut entries = Vec::new();
    for entry in reader {
        match entry {
            Ok(entry) => entries.push(entry),
            Err(error) if !error.is_fatal() => eprintln!("{name}: {error}"),
            Err(error) => return Err(error).with_context(|| format!("cannot read {name}")),
        }
    }
    Ok(entries)
}

fn tmx_pairs(
    bytes: &[u8],
    name: &str,
    source_lang: Option<Lang>,
    target_lang: Option<Lang>,
) -> Result<Vec<proto::SegmentPair>> {
    let mut pairs = Vec::new();
    for entry in usable(TmxReader::new(BufReader::new(bytes)), name)? {
        let unit = &entry.unit;
        let source = match &source_lang {
            Some(lang) => unit.segment(lang),
            None => unit.segments.first(),
        };
        let Some(source) = source else { continue };
        let target = match &target_lang {
            Some(lang) => unit.segment(lang),
            None => unit.segments.iter().find(|s| s.lang != source.lang),
        };
        let Some(target) = target else { continue };
        let id = if unit.id.is_empty() {
            format!("line {}", entry.line)
        } else {
            unit.id.clone()
        };
        pairs.push(proto::SegmentPair {
            id,
            source_text: source.text.clone(),
            source_lang: source.lang.to_string(),
            target_text: target.text.clone(),
            target_lang: target.lang.to_string(),
        });
    }
    Ok(pairs)
}

fn xliff_pairs(
    bytes: &[u8],
    name: &str,
    source_lang: Option<Lang>,
    target_lang: Option<Lang>,
) -> Result<Vec<proto::SegmentPair>> {
    let mut pairs = Vec::new();
    for segment in usable(XliffReader::new(BufReader::new(bytes)), name)? {
        let source = source_lang.clone().or(segment.source_lang);
        let target = target_lang.clone().or(segment.target_lang);
        let (Some(source), Some(target)) = (source, target) else {
            bail!(
                "{name} does not name its languages at line {}; give --source-lang and \
                 --target-lang",
                segment.line
            );
        };
        pairs.push(proto::SegmentPair {
            id: segment.id,
            source_text: segment.source,
            source_lang: source.to_string(),
            target_text: segment.target,
            target_lang: target.to_string(),
        });
    }
    Ok(pairs)
}
