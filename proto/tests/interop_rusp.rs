//! Interoperability of `usp-proto` with an independent USP codec, `rusp-lib` 1.0.1
//! (quick-protobuf bindings, its own builders), for every USP 1.4 Msg and Record type.
//!
//! Each message type is one [`interop::support::Case`]: the same content written once with
//! rusp-lib's builders and once as a usp-proto struct literal that names every field. Two
//! tests per case:
//! - `*_from_rusp_decodes_with_every_field`: rusp-lib encodes, usp-proto decodes, and the
//!   result equals the literal field for field;
//! - `*_to_rusp_and_back_keeps_every_field`: usp-proto encodes, rusp-lib decodes to exactly
//!   what its own builders produce (msg_id, msg_type, oneof variant, every value), re-encodes,
//!   and usp-proto decodes the original struct again.
//!
//! Values are distinct per field (strings named after their field, distinct error codes,
//! every enum value somewhere), so a swapped or mistyped field number fails a test.

mod interop {
    #[macro_use]
    pub mod support;

    mod gsdm_resp;
    mod notify;
    mod records;
    mod requests;
    mod responses;
}
