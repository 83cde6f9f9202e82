//! Compiles `proto/` with a pure-Rust protobuf compiler, so that building needs no system
//! `protoc`, keeps the descriptor set for server reflection and `--json` output, and lists the
//! shipped glossary files so the binary carries them.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "tolmach/v1/termbase.proto",
        "tolmach/v1/memory.proto",
        "tolmach/v1/exchange.proto",
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
    Ok(())
}
