//! Compiles the USP 1.4 protos with protox (a pure-Rust protobuf compiler), so no
//! `protoc` binary is needed anywhere in the build.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["proto/usp-record-1-4.proto", "proto/usp-msg-1-4.proto"];
    for p in protos {
        println!("cargo:rerun-if-changed={p}");
    }
    let fds = protox::compile(protos, ["proto"])?;
    prost_build::Config::new()
        .btree_map(["."])
        .compile_fds(fds)?;
    Ok(())
}
