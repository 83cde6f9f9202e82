//! Compiles `proto/` with a pure-Rust protobuf compiler, so that building needs no system
//! `protoc`, keeps the descriptor set for server reflection and `--json` output, lists the
//! shipped glossary files so the binary carries them, and tells the tests which of their
//! inputs from outside the repository are present, so that a check without its input is
//! counted as ignored instead of passing without checking:
//!
//! - `tolmach_peerdata`: the peer data (files written by other projects) is at
//!   `$TOLMACH_PEERDATA`, else `../shared/peerdata`.
//! - `tolmach_seeds`: the two newsroom articles the project grew from are at
//!   `$TOLMACH_SEEDS`, else `../shared/seeds`.
//! - `tolmach_readback`: the read-back environment (a Python virtual environment with the
//!   translate-toolkit of `tests/readback/requirements.txt`, made by `.ci/run`) is at
//!   `<target dir>/readback-venv`; its path is passed to the tests as
//!   `TOLMACH_READBACK_VENV`.
//!
//! Cargo runs a build script again on every build while a path it watches is missing, which
//! would rebuild the crate each time, so an input is watched only once it exists: after
//! adding one where there was none, `touch build.rs` (`.ci/run` does so for the environment
//! it makes).

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "tolmach/v1/termbase.proto",
        "tolmach/v1/memory.proto",
        "tolmach/v1/exchange.proto",
        "tolmach/v1/access.proto",
        "tolmach/v1/review.proto",
    ];
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let descriptors = protox::compile(protos, ["proto"])?;
    // `compile_fds` ignores `file_descriptor_set_path`: write the set ourselves.
    std::fs::write(
        out.join("tolmach_descriptor.bin"),
        protox::prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure()
        .codec_path("crate::service::codec::StrictProstCodec")
        .compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed=proto");

    let glossary = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("glossary");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&glossary)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tbx"))
        .collect();
    files.sort();
    let mut listing = String::from("&[\n");
    for file in &files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("glossary.tbx");
        listing.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            file.display().to_string()
        ));
    }
    listing.push(']');
    std::fs::write(out.join("glossary_files.rs"), listing)?;
    println!("cargo:rerun-if-changed=glossary");

    detect_test_inputs(&out)?;
    Ok(())
}

/// Sets `cfg` when the directory named by the environment variable `var`, else `default`,
/// exists, and watches it.
fn shared_input(var: &str, default: &str, cfg: &str) {
    println!("cargo:rerun-if-env-changed={var}");
    let dir = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    if dir.is_dir() {
        println!("cargo:rustc-cfg={cfg}");
        println!("cargo:rerun-if-changed={}", dir.display());
    }
}

/// Sets the cfgs named in the header for the test inputs that are present, and watches them.
fn detect_test_inputs(out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo::rustc-check-cfg=cfg(tolmach_peerdata)");
    println!("cargo::rustc-check-cfg=cfg(tolmach_readback)");
    println!("cargo::rustc-check-cfg=cfg(tolmach_seeds)");
    shared_input("TOLMACH_PEERDATA", "../shared/peerdata", "tolmach_peerdata");
    shared_input("TOLMACH_SEEDS", "../shared/seeds", "tolmach_seeds");

    // OUT_DIR is `<target dir>/<profile>/build/<package>-<hash>/out`.
    let target_dir = out
        .ancestors()
        .nth(4)
        .ok_or("OUT_DIR is not inside a target directory")?;
    let venv = target_dir.join("readback-venv");
    println!("cargo:rustc-env=TOLMACH_READBACK_VENV={}", venv.display());
    let requirements = "tests/readback/requirements.txt";
    println!("cargo:rerun-if-changed={requirements}");
    // Written by `.ci/run` after a successful install, with the requirements it installed.
    let stamp = venv.join("tolmach-requirements.txt");
    if stamp.is_file() {
        println!("cargo:rerun-if-changed={}", stamp.display());
        if std::fs::read(&stamp)? == std::fs::read(requirements)? {
            println!("cargo:rustc-cfg=tolmach_readback");
        }
    }
    Ok(())
}
