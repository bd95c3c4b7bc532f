//! Link options for the `usphub` binary.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        // RELR packs the ~16,500 relative relocations of a position-independent Rust binary
        // into a few kilobytes instead of 400 KB of RELA that the loader reads on every
        // start (and keeps resident). Needs glibc 2.36 (Debian 12) at run time and lld or
        // binutils 2.38 at link time.
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
