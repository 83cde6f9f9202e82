//! Compiles `proto/` with a pure-Rust protobuf compiler, so that building needs no system
//! `protoc`, and keeps the descriptor set for server reflection and `--json` output.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["tolmach/v1/termbase.proto"];
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    let descriptors = protox::compile(protos, ["proto"])?;
    // `compile_fds` ignores `file_descriptor_set_path`: write the set ourselves.
    std::fs::write(
        out.join("tolmach_descriptor.bin"),
        protox::prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
