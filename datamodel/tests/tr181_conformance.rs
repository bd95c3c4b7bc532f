//! Conformance of the declared schema with the official TR-181 XML (Device:2.19, USP
//! flavour): every object, parameter, command and event the schema declares exists
//! there with the same name, type, list-ness, access and multi-instance shape, or
//! carries the project's vendor prefix.

#[path = "support/tr181_xml.rs"]
mod tr181_xml;

use std::sync::OnceLock;

use tr181_xml::{XmlModel, check, tr181_dir};
use usp_datamodel::{Access, CommandDef, EventDef, Obj, ParamDef, ParamType, Schema, fixture};

fn xml() -> &'static XmlModel {
    static MODEL: OnceLock<XmlModel> = OnceLock::new();
    MODEL
        .get_or_init(|| XmlModel::load(&tr181_dir(), "tr-181-2-usp.xml").expect("TR-181 XML loads"))
}

#[test]
fn the_xml_model_expands_imports_components_and_refinements() {
    let x = xml();
    let pd = &x.objects["Device.ProxiedDevice.{i}."];
    assert!(pd.mount_point);
    assert_eq!(pd.params["Alias"].ty.as_deref(), Some("string"));
    assert_eq!(pd.params["Alias"].access, "writeOnceReadOnly");
    assert_eq!(pd.params["Online"].ty.as_deref(), Some("boolean"));
    let sub = &x.objects["Device.LocalAgent.Subscription.{i}."];
    assert_eq!(sub.access, "readWrite");
    assert!(sub.params["ReferenceList"].list);
    assert!(x.objects["Device."].events.contains_key("Boot!"));
    assert!(
        x.objects["Device.DeviceInfo."]
            .params
            .contains_key("UpTime")
    );
    let (cap, _) = x
        .find("Device.ProxiedDevice.{i}.Node.{i}.IoTCapability.{i}.LevelSensor.")
        .unwrap();
    assert_eq!(cap.params["Value"].ty.as_deref(), Some("decimal"));
}

#[test]
fn the_iot_schema_conforms_to_tr181() {
    let errs = check(&fixture::schema(), xml());
    assert!(errs.is_empty(), "TR-181 mismatches:\n{}", errs.join("\n"));
}

#[test]
fn the_checker_reports_names_types_access_shapes_and_members_that_differ() {
    let mut b = Schema::builder();
    b.object("Device.DeviceInfo.", Obj::single())
        .param(ParamDef::new("UpTime", ParamType::String))
        .param(ParamDef::new("Manufacturer", ParamType::String).writable())
        .param(ParamDef::new("Invented", ParamType::String))
        .param(ParamDef::new("X_USPHUB_Radio", ParamType::String))
        .param(ParamDef::new("X_OTHER_Thing", ParamType::String));
    b.object("Device.ProxiedDevice.{i}.", Obj::table().add_delete())
        .param(ParamDef::new("Alias", ParamType::String).access(Access::ReadWrite));
    b.object("Device.Gadget.", Obj::single());
    b.object("Device.X_USPHUB_Radio.", Obj::single())
        .param(ParamDef::new("Channel", ParamType::UnsignedInt));
    b.extend_object("Device.")
        .command(CommandDef::new("Reboot()").asynchronous())
        .command(CommandDef::new("Explode()"))
        .event(EventDef::new("Boot!").arg(usp_datamodel::ArgDef::new("Mood", ParamType::String)));
    let errs = check(&b.build().unwrap(), xml());
    let has = |needle: &str| errs.iter().any(|e| e.contains(needle));
    assert!(has("UpTime: type string"), "{errs:#?}");
    assert!(has("Manufacturer: access readWrite"), "{errs:#?}");
    assert!(has("Invented is not in TR-181"), "{errs:#?}");
    assert!(has("X_OTHER_Thing is not in TR-181"), "{errs:#?}");
    assert!(
        !has("X_USPHUB_"),
        "vendor extensions are accepted: {errs:#?}"
    );
    assert!(has("allows Add/Delete"), "{errs:#?}");
    assert!(has("Alias: access readWrite"), "{errs:#?}");
    assert!(has("object Device.Gadget. is not in TR-181"), "{errs:#?}");
    assert!(has("Reboot(): async differs"), "{errs:#?}");
    assert!(has("Explode() is not in TR-181"), "{errs:#?}");
    assert!(has("argument Mood"), "{errs:#?}");
}
