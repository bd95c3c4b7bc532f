//! USP 1.4 (TR-369) wire types for usphub.
//!
//! - [`usp_record`] and [`usp`]: the Record and Msg protobuf types, generated at build time
//!   from the project's own `.proto` files with prost + protox (no `protoc`).
//! - [`ErrorCode`]: every error code TR-369 defines.
//! - [`decode`]: defensive Record/Msg decoding with size limits and typed errors.
//! - [`builder`]: constructors for requests, responses, errors and Records.

#![allow(clippy::large_enum_variant)]

/// Generated USP Record types (package `usp_record`).
#[allow(
    missing_docs,
    clippy::doc_lazy_continuation,
    clippy::enum_variant_names
)]
pub mod usp_record {
    include!(concat!(env!("OUT_DIR"), "/usp_record.rs"));
}

/// Generated USP Msg types (package `usp`).
#[allow(
    missing_docs,
    clippy::doc_lazy_continuation,
    clippy::enum_variant_names
)]
pub mod usp {
    include!(concat!(env!("OUT_DIR"), "/usp.rs"));
}

pub mod builder;
pub mod decode;
mod error_code;

pub use decode::{DecodeError, DecodeLimits, DecodedRecord};
pub use error_code::ErrorCode;

/// The USP protocol versions this implementation speaks, oldest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["1.0", "1.1", "1.2", "1.3", "1.4"];

/// The version this implementation writes into the Records it sends.
pub const USP_VERSION: &str = "1.4";

/// The comma-separated list that GetSupportedProtocolResp carries.
pub fn supported_versions_csv() -> String {
    SUPPORTED_VERSIONS.join(",")
}
