//! `tolmach serve --config FILE` (or `TOLMACH_CONFIG`): the server's settings in a TOML file
//! whose keys are the long flags of `serve` (`data-dir = "/var/lib/tolmach"`, or `data_dir`),
//! and the parsing of the whole command line with it.
//!
//! The keys are read from clap's own `Command` for `serve`, and each setting becomes the flag
//! it names, parsed by clap together with the command line: so every flag of `ServeArgs` (one
//! added later too) works in the file with its own parser, range and `requires`, and the
//! precedence is flag > environment variable > file > built-in default (a setting whose flag
//! was given, or whose variable is set, is left out). A first pass that stops at no error
//! finds the file and what the command line and the environment set. The settings are not
//! made clap defaults: a default does not count as present for `requires`, so `tls-cert` in
//! the file without `tls-key` would turn TLS off without a word, and `--cluster-replicas` on
//! the command line would be refused with `cluster` set in the file.
//!
//! Booleans are TOML booleans, repeatable flags take TOML arrays, numbers may be integers or
//! strings; a relative path is relative to the file's directory. Every error names the file,
//! and the line and column where TOML gives them.

use std::any::TypeId;
use std::ffi::OsString;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use clap::error::{ContextKind, ContextValue};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, Parser};
use toml::de::{DeTable, DeValue};

/// The subcommand that takes a settings file, and the id of its argument naming the file.
const SUBCOMMAND: &str = "serve";
const FILE_ARG: &str = "config";

/// Why the command line was refused.
#[derive(Debug)]
pub enum Refused {
    /// The command line itself: clap's error, shown (and exited with) as clap does.
    CommandLine(clap::Error),
    /// The settings file, alone or with the command line.
    Settings(SettingsError),
}

/// What is wrong with a settings file.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read the settings file {}: {source}", file.display())]
    Unreadable {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{at}: not valid TOML: {message}")]
    Syntax { at: Place, message: String },
    #[error("{at}: `{key}` is not a setting of `serve`; {hint}")]
    UnknownKey {
        at: Place,
        key: String,
        hint: String,
    },
    #[error("{at}: `{key}` takes {expected}, not a TOML {found}")]
    WrongType {
        at: Place,
        key: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{at}: `{key}` is set a second time (first at line {first_line})")]
    SetTwice {
        at: Place,
        key: String,
        first_line: usize,
    },
    /// The flag's own parser refused the value: its message.
    #[error("{at}: `{key}`: {message}")]
    Refused {
        at: Place,
        key: String,
        message: String,
    },
    /// The settings are refused together with the rest of the command line (a flag that
    /// requires another, say): clap's message.
    #[error("{}: {message}", file.display())]
    Together { file: PathBuf, message: String },
}

/// A place in a settings file: `file:line:column`, or the file alone where TOML gives no
/// position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    /// Line and column, from 1; the column counts characters.
    pub position: Option<(usize, usize)>,
}

impl Place {
    /// Where byte `offset` of `text`, the content of `file`, is.
    fn new(file: &Path, text: &str, offset: Option<usize>) -> Place {
        let position = offset.map(|offset| {
            let before = text.get(..offset).unwrap_or(text);
            let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
            let line = before.matches('\n').count() + 1;
            (line, before[line_start..].chars().count() + 1)
        });
        Place {
            file: file.to_owned(),
            position,
        }
    }

    fn line(&self) -> usize {
        self.position.map_or(0, |(line, _)| line)
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "{}:{line}:{column}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// Parses the command line (`argv`, the program's name first) into `C`, with the settings of
/// `serve --config FILE` under the flags and environment variables given.
pub fn parse<C: Parser>(argv: Vec<OsString>) -> Result<C, Refused> {
    let mut matches = settled_matches(C::command(), argv)?;
    C::from_arg_matches_mut(&mut matches)
        .map_err(|error| Refused::CommandLine(error.format(&mut C::command())))
}

/// The matches of `argv` against `command`, with the flags of the settings file if `serve`
/// names one.
fn settled_matches(command: Command, argv: Vec<OsString>) -> Result<ArgMatches, Refused> {
    let lenient = command
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(&argv)
        .map_err(Refused::CommandLine)?;
    let given = lenient.subcommand_matches(SUBCOMMAND);
    let file = given.and_then(|given| given.try_get_one::<PathBuf>(FILE_ARG).ok().flatten());
    let mut built = command.clone();
    built.build();
    let (Some(given), Some(file), Some(serve)) = (given, file, built.find_subcommand(SUBCOMMAND))
    else {
        return command
            .try_get_matches_from(argv)
            .map_err(Refused::CommandLine);
    };
    let settings = Settings::read(file, serve, given).map_err(Refused::Settings)?;
    let with_settings = argv.iter().chain(&settings.flags);
    command
        .clone()
        .try_get_matches_from(with_settings)
        .map_err(|error| settings.blame(&error, || command.try_get_matches_from(argv).err()))
}

/// The settings of a file, as the flags they stand for.
struct Settings {
    file: PathBuf,
    /// `--data-dir=/etc/tolmach/data` and the like, appended to the command line.
    flags: Vec<OsString>,
    /// The settings appended: which argument, from which key and place, with which values.
    applied: Vec<Applied>,
}

/// One setting appended to the command line.
struct Applied {
    /// The argument as clap names it in its errors (`--listen <LISTEN>`).
    shown: String,
    key: String,
    at: Place,
    values: Vec<OsString>,
}

impl Settings {
    /// Reads `file` against the arguments of `serve`; `given` are the matches of the command
    /// line, which tell the settings it overrides.
    fn read(file: &Path, serve: &Command, given: &ArgMatches) -> Result<Settings, SettingsError> {
        let text = std::fs::read_to_string(file).map_err(|source| SettingsError::Unreadable {
            file: file.to_owned(),
            source,
        })?;
        let place = |span: Range<usize>| Place::new(file, &text, Some(span.start));
        let table = DeTable::parse(&text)
            .map_err(|error| SettingsError::Syntax {
                at: Place::new(file, &text, error.span().map(|span| span.start)),
                message: error.message().to_owned(),
            })?
            .into_inner();
        let mut entries: Vec<_> = table.iter().collect();
        entries.sort_by_key(|(key, _)| key.span().start);
        let keys: Vec<&Arg> = serve.get_arguments().filter(|arg| settable(arg)).collect();
        let directory = file.parent().unwrap_or(Path::new(""));
        let mut settings = Settings {
            file: file.to_owned(),
            flags: Vec::new(),
            applied: Vec::new(),
        };
        let mut seen: Vec<(&clap::Id, usize)> = Vec::new();
        for (key, value) in entries {
            let key_at = place(key.span());
            let at = place(value.span());
            let key = key.get_ref().to_string();
            let long = key.replace('_', "-");
            let Some(arg) = keys
                .iter()
                .find(|arg| arg.get_long() == Some(long.as_str()))
            else {
                return Err(SettingsError::UnknownKey {
                    hint: hint(&long, &keys),
                    at: key_at,
                    key,
                });
            };
            if let Some((_, first_line)) = seen.iter().find(|(id, _)| *id == arg.get_id()) {
                return Err(SettingsError::SetTwice {
                    at: key_at,
                    key,
                    first_line: *first_line,
                });
            }
            seen.push((arg.get_id(), key_at.line()));
            let setting = Setting::of(arg, value.get_ref(), directory).map_err(|found| {
                SettingsError::WrongType {
                    expected: expected(arg),
                    found,
                    at: at.clone(),
                    key: key.clone(),
                }
            })?;
            let overridden = matches!(
                given.value_source(arg.get_id().as_str()),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            );
            if !overridden {
                settings.flags.extend(setting.flags(&long));
                settings.applied.push(Applied {
                    shown: arg.to_string(),
                    key,
                    at,
                    values: setting.values,
                });
            }
        }
        Ok(settings)
    }

    /// The error to report for `error`, clap's refusal of the command line with these
    /// settings: a setting whose value the flag's parser refused, located in the file; else
    /// the command line's own error if it fails `alone`; else the settings together with it.
    fn blame(&self, error: &clap::Error, alone: impl FnOnce() -> Option<clap::Error>) -> Refused {
        let text = |kind| match error.get(kind) {
            Some(ContextValue::String(text)) => Some(text.as_str()),
            _ => None,
        };
        let value = text(ContextKind::InvalidValue);
        let refused = text(ContextKind::InvalidArg).and_then(|arg| {
            self.applied.iter().find(|applied| {
                applied.shown == arg
                    && value.is_none_or(|value| {
                        (applied.values.iter()).any(|v| v.to_string_lossy() == value)
                    })
            })
        });
        if let Some(applied) = refused {
            return Refused::Settings(SettingsError::Refused {
                at: applied.at.clone(),
                key: applied.key.clone(),
                message: clap_message(error),
            });
        }
        match alone() {
            Some(own) => Refused::CommandLine(own),
            None => Refused::Settings(SettingsError::Together {
                file: self.file.clone(),
                message: clap_message(error),
            }),
        }
    }
}

/// A setting read: a flag switched on, or the values of an option.
struct Setting {
    switch: bool,
    values: Vec<OsString>,
}

impl Setting {
    /// The setting `value` gives `arg`, relative paths joined to `directory`; when the TOML
    /// type of the value (or of an item of its array) does not fit the argument, that type.
    fn of(arg: &Arg, value: &DeValue<'_>, directory: &Path) -> Result<Setting, &'static str> {
        let single = |value: &DeValue<'_>| {
            option_value(arg, value, directory).ok_or_else(|| value.type_str())
        };
        let values = match (arg.get_action(), value) {
            (ArgAction::SetTrue | ArgAction::SetFalse, DeValue::Boolean(on)) => {
                // A switch is given when its value is not the one it has without it.
                let switch = *on == matches!(arg.get_action(), ArgAction::SetTrue);
                return Ok(Setting {
                    switch,
                    values: Vec::new(),
                });
            }
            (ArgAction::SetTrue | ArgAction::SetFalse, value) => return Err(value.type_str()),
            (ArgAction::Append, DeValue::Array(items)) => items
                .iter()
                .map(|item| single(item.get_ref()))
                .collect::<Result<_, _>>()?,
            (_, value) => vec![single(value)?],
        };
        Ok(Setting {
            switch: false,
            values,
        })
    }

    /// The command-line arguments of this setting of `--long`.
    fn flags(&self, long: &str) -> Vec<OsString> {
        if self.switch {
            return vec![format!("--{long}").into()];
        }
        (self.values.iter())
            .map(|value| {
                let mut flag = OsString::from(format!("--{long}="));
                flag.push(value);
                flag
            })
            .collect()
    }
}

/// Whether `arg` may be set in the file: a long flag that switches or takes values, other
/// than the file's own.
fn settable(arg: &Arg) -> bool {
    arg.get_long().is_some()
        && arg.get_id() != FILE_ARG
        && matches!(
            arg.get_action(),
            ArgAction::Set | ArgAction::Append | ArgAction::SetTrue | ArgAction::SetFalse
        )
}

/// One value of an option as its flag would take it (a path relative to `directory`), or
/// `None` when TOML's type does not fit.
fn option_value(arg: &Arg, value: &DeValue<'_>, directory: &Path) -> Option<OsString> {
    let text = match value {
        DeValue::String(text) => text.to_string(),
        DeValue::Integer(integer) => i128::from_str_radix(integer.as_str(), integer.radix())
            .map_or_else(|_| integer.to_string(), |number| number.to_string()),
        DeValue::Float(float) => float.as_str().to_owned(),
        _ => return None,
    };
    let is_path = arg.get_value_parser().type_id() == TypeId::of::<PathBuf>();
    if is_path && !text.is_empty() && Path::new(&text).is_relative() {
        return Some(directory.join(text).into_os_string());
    }
    Some(text.into())
}

/// What `arg` takes, for an error.
fn expected(arg: &Arg) -> &'static str {
    match arg.get_action() {
        ArgAction::SetTrue | ArgAction::SetFalse => "true or false",
        ArgAction::Append => "a string or a number, or an array of them",
        _ => "a string or a number",
    }
}

/// The closest key to `unknown`, or else every key.
fn hint(unknown: &str, keys: &[&Arg]) -> String {
    let names = keys.iter().filter_map(|arg| arg.get_long());
    let closest = (names.clone())
        .map(|name| (strsim::jaro(unknown, name), name))
        .filter(|(similarity, _)| *similarity > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match closest {
        Some((_, name)) => format!("did you mean `{name}`?"),
        None => format!("the settings are {}", names.collect::<Vec<_>>().join(", ")),
    }
}

/// clap's message for `error` on one line, without its `error:` and its usage and help.
fn clap_message(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let first = rendered.split("\n\n").next().unwrap_or_default();
    let message = first.trim_start().trim_start_matches("error:");
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use clap::{Args, CommandFactory, Subcommand};

    use super::*;

    /// Writes `content` as `tolmach.toml` in a new directory.
    fn settings_file(content: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("tolmach.toml");
        std::fs::write(&file, content).expect("written");
        (dir, file)
    }

    fn argv(file: &Path, args: &[&str]) -> Vec<OsString> {
        let head = ["tolmach", "serve", "--config"].map(OsString::from);
        (head.into_iter().chain([file.as_os_str().to_owned()]))
            .chain(args.iter().map(OsString::from))
            .collect()
    }

    /// The matches of `tolmach serve --config FILE ARGS…` for the real `serve`.
    fn serve(file: &Path, args: &[&str]) -> Result<ArgMatches, Refused> {
        let matches = settled_matches(crate::Cli::command(), argv(file, args))?;
        Ok(matches
            .subcommand_matches(SUBCOMMAND)
            .expect("the serve command")
            .clone())
    }

    /// The message of the settings error `content` makes with `args`, its path shown as
    /// `FILE`.
    fn settings_error(content: &str, args: &[&str]) -> String {
        let (_dir, file) = settings_file(content);
        match serve(&file, args) {
            Err(Refused::Settings(error)) => {
                (error.to_string()).replace(&file.display().to_string(), "FILE")
            }
            Err(Refused::CommandLine(error)) => panic!("refused as a command line: {error}"),
            Ok(_) => panic!("{content:?} accepted"),
        }
    }

    #[test]
    fn every_flag_of_serve_is_a_key() {
        let mut command = crate::Cli::command();
        command.build();
        let serve = command.find_subcommand(SUBCOMMAND).expect("serve");
        let keys: Vec<&str> = serve
            .get_arguments()
            .filter(|arg| settable(arg))
            .filter_map(Arg::get_long)
            .collect();
        for key in [
            "listen",
            "data-dir",
            "glossary",
            "insecure",
            "cors-origin",
            "watch-retention",
            "tls-cert",
            "tls-key",
            "tls-client-ca",
            "max-connections",
            "call-deadline",
            "cluster",
            "cluster-stream",
            "cluster-replicas",
        ] {
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
        assert!(!keys.contains(&"config") && !keys.contains(&"help"));
    }

    #[test]
    fn settings_apply_in_either_spelling_and_relative_paths_start_at_the_file() {
        let (dir, file) = settings_file(
            "listen = \"127.0.0.1:7000\"\n\
             data_dir = \"data\"\n\
             glossary = \"/srv/glossary\"\n\
             insecure = true\n\
             cors-origin = [\"https://a.example\", \"https://b.example\"]\n\
             max_connections = \"100\"\n\
             call-deadline = 0x1e\n\
             tls-cert = \"tls/cert.pem\"\n\
             tls-key = \"tls/key.pem\"\n",
        );
        let matches = serve(&file, &[]).expect("accepted");
        let listen = matches.get_one::<SocketAddr>("listen").copied();
        assert_eq!(listen, Some(SocketAddr::from(([127, 0, 0, 1], 7000))));
        let path = |id: &str| matches.get_one::<PathBuf>(id).cloned();
        assert_eq!(path("data_dir"), Some(dir.path().join("data")));
        assert_eq!(path("glossary"), Some(PathBuf::from("/srv/glossary")));
        assert_eq!(path("tls_cert"), Some(dir.path().join("tls/cert.pem")));
        assert_eq!(path("tls_key"), Some(dir.path().join("tls/key.pem")));
        assert!(matches.get_flag("insecure"));
        let origins: Vec<&String> = matches.get_many("cors_origin").expect("set").collect();
        assert_eq!(origins, ["https://a.example", "https://b.example"]);
        assert_eq!(matches.get_one::<usize>("max_connections"), Some(&100));
        assert_eq!(matches.get_one::<u64>("call_deadline"), Some(&30));
    }

    #[test]
    fn a_flag_wins_over_the_file_and_the_file_over_the_default() {
        let (_dir, file) = settings_file(
            "listen = \"127.0.0.1:7000\"\n\
             cors-origin = [\"https://file.example\"]\n\
             insecure = false\n",
        );
        let matches = serve(
            &file,
            &[
                "--listen",
                "127.0.0.1:8000",
                "--cors-origin",
                "https://flag.example",
            ],
        )
        .expect("accepted");
        let listen = matches.get_one::<SocketAddr>("listen").copied();
        assert_eq!(listen, Some(SocketAddr::from(([127, 0, 0, 1], 8000))));
        // A repeatable flag replaces the file's list; it does not add to it.
        let origins: Vec<&String> = matches.get_many("cors_origin").expect("set").collect();
        assert_eq!(origins, ["https://flag.example"]);
        assert!(!matches.get_flag("insecure"));
        assert_eq!(
            matches.get_one::<u8>("cluster_replicas"),
            Some(&3),
            "default"
        );
    }

    #[test]
    fn a_flag_may_require_a_setting_of_the_file() {
        let (_dir, file) = settings_file("cluster = \"nats://127.0.0.1:4222\"\n");
        let matches = serve(&file, &["--cluster-replicas", "1"]).expect("accepted");
        let cluster = matches.get_one::<String>("cluster").map(String::as_str);
        assert_eq!(cluster, Some("nats://127.0.0.1:4222"));
        assert_eq!(matches.get_one::<u8>("cluster_replicas"), Some(&1));
    }

    /// A command of its own, so that the variable set here reaches no other test.
    #[derive(Parser)]
    struct EnvCli {
        #[command(subcommand)]
        command: EnvCommand,
    }

    #[derive(Subcommand)]
    enum EnvCommand {
        Serve(EnvArgs),
    }

    #[derive(Args)]
    struct EnvArgs {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, env = "TOLMACH_SETTINGS_TEST_NAME", default_value = "built-in")]
        name: String,
        #[arg(long, default_value = "built-in")]
        other: String,
    }

    #[test]
    fn an_environment_variable_wins_over_the_file() {
        let (_dir, file) = settings_file("name = \"file\"\nother = \"file\"\n");
        std::env::set_var("TOLMACH_SETTINGS_TEST_NAME", "environment");
        let parsed = parse::<EnvCli>(argv(&file, &[]));
        std::env::remove_var("TOLMACH_SETTINGS_TEST_NAME");
        let EnvCommand::Serve(args) = parsed.expect("accepted").command;
        assert_eq!(args.name, "environment");
        assert_eq!(args.other, "file");
        assert!(args.config.is_some());
    }

    #[test]
    fn without_a_file_the_command_line_parses_as_before() {
        let argv = ["tolmach", "serve", "--listen", "127.0.0.1:9000"].map(OsString::from);
        let matches = settled_matches(crate::Cli::command(), argv.into()).expect("accepted");
        let serve = matches.subcommand_matches(SUBCOMMAND).expect("serve");
        let listen = serve.get_one::<SocketAddr>("listen").copied();
        assert_eq!(listen, Some(SocketAddr::from(([127, 0, 0, 1], 9000))));
    }

    #[test]
    fn an_unreadable_file_is_named() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let missing = dir.path().join("missing.toml");
        let Err(Refused::Settings(error)) = serve(&missing, &[]) else {
            panic!("a missing file accepted");
        };
        assert!(matches!(error, SettingsError::Unreadable { .. }));
        let message = error.to_string();
        assert!(
            message.contains(&missing.display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn a_syntax_error_is_located() {
        let message = settings_error("listen = \"127.0.0.1:1\"\ndata-dir = \n", &[]);
        assert!(
            message.starts_with("FILE:2:12: not valid TOML: "),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_key_is_located_with_the_closest_one_or_all() {
        let message = settings_error("\n  data-dirs = \"x\"\n", &[]);
        let expected =
            "FILE:2:3: `data-dirs` is not a setting of `serve`; did you mean `data-dir`?";
        assert_eq!(message, expected);
        let message = settings_error("zzz = 1\n", &[]);
        assert!(
            message.contains("; the settings are listen, data-dir, "),
            "{message}"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_located() {
        for (content, expected) in [
            (
                "insecure = \"yes\"\n",
                "FILE:1:12: `insecure` takes true or false, not a TOML string",
            ),
            (
                "listen = [\"127.0.0.1:1\"]\n",
                "FILE:1:10: `listen` takes a string or a number, not a TOML array",
            ),
            (
                "cors_origin = [\"https://a\", true]\n",
                "FILE:1:15: `cors_origin` takes a string or a number, or an array of them, \
                 not a TOML boolean",
            ),
        ] {
            assert_eq!(settings_error(content, &[]), expected);
        }
    }

    #[test]
    fn a_value_the_flag_refuses_gets_the_flags_message_at_its_place() {
        let message = settings_error("\nlisten = \"x\"\n", &[]);
        let expected = "FILE:2:10: `listen`: invalid value 'x' for '--listen <LISTEN>': \
                        invalid socket address syntax";
        assert_eq!(message, expected);
        let message = settings_error("cluster = \"nats://h\"\ncluster-replicas = 9\n", &[]);
        let expected = "FILE:2:20: `cluster-replicas`: invalid value '9' for \
                        '--cluster-replicas <CLUSTER_REPLICAS>': 9 is not in 1..=5";
        assert_eq!(message, expected);
    }

    #[test]
    fn a_key_set_twice_is_refused() {
        let message = settings_error("data-dir = \"a\"\ndata_dir = \"b\"\n", &[]);
        let expected = "FILE:2:1: `data_dir` is set a second time (first at line 1)";
        assert_eq!(message, expected);
    }

    #[test]
    fn settings_refused_together_name_the_file() {
        let message = settings_error("tls-cert = \"cert.pem\"\n", &[]);
        let expected = "FILE: the following required arguments were not provided: --tls-key <FILE>";
        assert_eq!(message, expected);
    }

    #[test]
    fn the_command_lines_own_error_stays_clap_s() {
        let (_dir, file) = settings_file("listen = \"127.0.0.1:7000\"\n");
        for args in [&["--listen", "x"][..], &["--lisen", "127.0.0.1:1"]] {
            let refused = serve(&file, args).err();
            assert!(matches!(refused, Some(Refused::CommandLine(_))), "{args:?}");
        }
    }
}
