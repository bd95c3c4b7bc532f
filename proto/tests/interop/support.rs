//! The two directions every case is checked in, and small constructors for fixtures.

use std::collections::{BTreeMap, HashMap};

use prost::Message;
use rusp_lib::usp as r;
use rusp_lib::usp_builder::MsgBuilder;
use usp_proto::usp;

/// One USP Msg written twice: with rusp-lib's builders and as a usp-proto value.
pub struct Case {
    /// The Msg body as rusp-lib's builders make it (the header comes from `MsgBuilder`).
    pub rusp: r::Body,
    /// The same Msg, header included, as usp-proto types.
    pub ours: usp::Msg,
}

impl Case {
    /// The msg_id both sides use.
    pub fn msg_id(&self) -> String {
        usp_proto::builder::msg_id(&self.ours).to_string()
    }

    /// The complete rusp-lib Msg: rusp-lib picks the header msg_type from the body itself.
    pub fn rusp_msg(&self) -> r::Msg {
        MsgBuilder::new()
            .with_msg_id(self.msg_id())
            .with_body(self.rusp.clone())
            .build()
            .expect("rusp-lib builds the fixture Msg")
    }
}

/// The two interop checks, for a Msg case or a Record case.
pub trait Interop {
    /// rusp-lib encodes; usp-proto must decode exactly the usp-proto value, field for field.
    fn assert_from_rusp(self);
    /// usp-proto encodes; rusp-lib must decode exactly what its own builders make, and its
    /// re-encoding must decode back to the original usp-proto value.
    fn assert_to_rusp_and_back(self);
}

impl Interop for Case {
    fn assert_from_rusp(self) {
        let bytes = self.rusp_msg().to_vec().expect("rusp-lib encodes the Msg");
        let decoded =
            usp::Msg::decode(bytes.as_slice()).expect("usp-proto decodes rusp-lib's bytes");
        assert_eq!(decoded, self.ours);
        usp_proto::decode::check_msg(&decoded).expect("header msg_type agrees with the body");
    }

    fn assert_to_rusp_and_back(self) {
        let bytes = self.ours.encode_to_vec();
        let theirs = r::Msg::from_bytes(&bytes).expect("rusp-lib decodes and accepts our bytes");
        let expected = self.rusp_msg();
        let header = theirs.header.as_ref().expect("rusp-lib sees a header");
        let expected_header = expected.header.as_ref().expect("fixture has a header");
        assert_eq!(header.msg_id, expected_header.msg_id, "msg_id");
        assert_eq!(header.msg_type, expected_header.msg_type, "msg_type");
        assert_eq!(theirs.body, expected.body, "body as rusp-lib sees it");

        let again = theirs.to_vec().expect("rusp-lib re-encodes the Msg");
        let back = usp::Msg::decode(again.as_slice()).expect("usp-proto decodes the re-encoding");
        assert_eq!(back, self.ours, "nothing lost or changed through rusp-lib");
    }
}

/// Owned strings.
pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Owned string pairs, the form rusp-lib's builders take for maps.
pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A usp-proto map field.
pub fn map(items: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs(items).into_iter().collect()
}

/// A rusp-lib map field.
pub fn hmap(items: &[(&str, &str)]) -> HashMap<String, String> {
    pairs(items).into_iter().collect()
}

/// Declares the two tests of each [`Interop`] case: `case() => from_rusp_name, to_rusp_name;`.
macro_rules! both_ways {
    ($($case:expr => $from:ident, $to:ident;)*) => {$(
        #[test]
        fn $from() {
            $crate::interop::support::Interop::assert_from_rusp($case);
        }

        #[test]
        fn $to() {
            $crate::interop::support::Interop::assert_to_rusp_and_back($case);
        }
    )*};
}
