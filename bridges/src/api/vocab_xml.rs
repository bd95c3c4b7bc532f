//! Checks the Rust vocabulary against the normative TR-181 IoT XML: every enumeration's
//! string set must equal the XML's, in both directions, and each IoTCapability sub-object's
//! `Type` must reference the data type our `CapabilityKind` uses for it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use roxmltree::{Document, Node};

use super::vocab::*;

fn iot_xml() -> String {
    // `../shared/tr181` beside the project, unless USPHUB_TR181_DIR names another place.
    let dir = std::env::var_os("USPHUB_TR181_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/tr181"));
    let path = dir.join("tr-181-2-iot.xml");
    match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => panic!("TR-181 IoT XML missing at {}: {e}", path.display()),
    }
}

fn enum_values(n: Node<'_, '_>) -> BTreeSet<String> {
    n.descendants()
        .filter(|d| d.has_tag_name("enumeration"))
        .filter_map(|d| d.attribute("value"))
        .map(str::to_owned)
        .collect()
}

fn data_type<'a, 'i>(doc: &'a Document<'i>, name: &str) -> Node<'a, 'i> {
    match doc
        .descendants()
        .find(|n| n.has_tag_name("dataType") && n.attribute("name") == Some(name))
    {
        Some(n) => n,
        None => panic!("dataType {name} not in the XML"),
    }
}

fn parameter<'a, 'i>(doc: &'a Document<'i>, object: Option<&str>, param: &str) -> Node<'a, 'i> {
    let found = doc.descendants().find(|n| {
        n.has_tag_name("parameter")
            && n.attribute("name") == Some(param)
            && object.is_none_or(|o| {
                n.parent()
                    .is_some_and(|p| p.has_tag_name("object") && p.attribute("name") == Some(o))
            })
    });
    match found {
        Some(n) => n,
        None => panic!("parameter {object:?} {param} not in the XML"),
    }
}

fn ours<'a>(values: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    values.into_iter().map(str::to_owned).collect()
}

fn check(name: &str, ours: BTreeSet<String>, xml: BTreeSet<String>) {
    let missing: Vec<_> = xml.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&xml).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{name}: missing in Rust {missing:?}, not in XML {extra:?}"
    );
}

#[test]
fn data_type_enumerations_match_the_xml_exactly() {
    let text = iot_xml();
    let doc = Document::parse(&text).unwrap();
    macro_rules! dt {
        ($t:ty) => {
            check(
                <$t>::TR181_NAME,
                // The project's vendor values (TR-106 `X_` form) are ours alone.
                ours(
                    <$t>::ALL
                        .iter()
                        .map(|v| v.as_str())
                        .filter(|v| !v.starts_with("X_")),
                ),
                enum_values(data_type(&doc, <$t>::TR181_NAME)),
            )
        };
    }
    dt!(IoTUnitType);
    dt!(IoTDeviceType);
    dt!(IoTLevelType);
    dt!(IoTEnumControlType);
    dt!(IoTEnumSensorType);
    dt!(IoTBlobSensorType);
}

#[test]
fn inline_enumerations_match_the_xml_exactly() {
    let text = iot_xml();
    let doc = Document::parse(&text).unwrap();
    let cases: [(&str, Option<&str>, &str, BTreeSet<String>); 5] = [
        (
            CapabilityClass::TR181_NAME,
            Some("IoTCapability.{i}."),
            "Class",
            ours(CapabilityClass::ALL.iter().map(|v| v.as_str())),
        ),
        (
            BinaryControlType::TR181_NAME,
            Some("IoTCapability.{i}.BinaryControl."),
            "Type",
            ours(BinaryControlType::ALL.iter().map(|v| v.as_str())),
        ),
        (
            BinarySensorType::TR181_NAME,
            Some("IoTCapability.{i}.BinarySensor."),
            "Type",
            ours(BinarySensorType::ALL.iter().map(|v| v.as_str())),
        ),
        (
            MultiLevelSensorType::TR181_NAME,
            Some("IoTCapability.{i}.MultiLevelSensor."),
            "Type",
            ours(MultiLevelSensorType::ALL.iter().map(|v| v.as_str())),
        ),
        (
            ProxyProtocol::TR181_NAME,
            None,
            "ProxyProtocol",
            ours(ProxyProtocol::STANDARD.iter().map(|v| v.as_str())),
        ),
    ];
    for (name, object, param, rust) in cases {
        check(name, rust, enum_values(parameter(&doc, object, param)));
    }
}

#[test]
fn sub_object_types_reference_the_data_types_we_use() {
    let text = iot_xml();
    let doc = Document::parse(&text).unwrap();
    for (object, data_type) in [
        ("IoTCapability.{i}.LevelControl.", IoTLevelType::TR181_NAME),
        ("IoTCapability.{i}.LevelSensor.", IoTLevelType::TR181_NAME),
        (
            "IoTCapability.{i}.EnumControl.",
            IoTEnumControlType::TR181_NAME,
        ),
        (
            "IoTCapability.{i}.EnumSensor.",
            IoTEnumSensorType::TR181_NAME,
        ),
        (
            "IoTCapability.{i}.BlobSensor.",
            IoTBlobSensorType::TR181_NAME,
        ),
    ] {
        let p = parameter(&doc, Some(object), "Type");
        let r = p
            .descendants()
            .find(|n| n.has_tag_name("dataType"))
            .and_then(|n| n.attribute("ref"));
        assert_eq!(r, Some(data_type), "{object}Type");
    }
    for object in [
        "IoTCapability.{i}.LevelControl.",
        "IoTCapability.{i}.LevelSensor.",
        "IoTCapability.{i}.MultiLevelSensor.",
    ] {
        let p = parameter(&doc, Some(object), "Unit");
        let r = p
            .descendants()
            .find(|n| n.has_tag_name("dataType"))
            .and_then(|n| n.attribute("ref"));
        assert_eq!(r, Some(IoTUnitType::TR181_NAME), "{object}Unit");
    }
}

#[test]
fn proxy_protocol_is_vendor_extensible_in_the_xml() {
    // Our Other(String)/Ble variants rely on the XML allowing vendor values.
    let text = iot_xml();
    let doc = Document::parse(&text).unwrap();
    let p = parameter(&doc, None, "ProxyProtocol");
    let desc = p
        .children()
        .find(|n| n.has_tag_name("description"))
        .and_then(|n| n.text())
        .unwrap_or_default();
    assert!(desc.contains("vendor specific"), "{desc}");
    assert!(PROXY_PROTOCOL_BLE.starts_with("X_"));
}
