//! Mounting and unmounting subtrees (proxied devices with capabilities and nodes),
//! in-process writes, run-time schema growth, and the `Send`-ness of every operation.

mod common;

use usp_datamodel::{
    Args, Change, DataModel, ErrorCode, Obj, ParamDef, ParamSetting, ParamType, SetObject,
    SetRequest, Subtree, Unmount, Value, fixture,
};

fn set_one(path: &str, name: &str, value: &str) -> SetRequest {
    SetRequest {
        allow_partial: true,
        objects: vec![SetObject {
            obj_path: path.to_owned(),
            params: vec![ParamSetting::required(name, value)],
        }],
    }
}

#[tokio::test]
async fn mount_and_unmount_announce_every_row_and_keep_counters() {
    let dm = DataModel::new(fixture::schema());
    let mut rx = dm.changes();
    let path = dm
        .mount("Device.ProxiedDevice.", Some(7), fixture::device(0, 3))
        .await
        .unwrap();
    assert_eq!(path, "Device.ProxiedDevice.7.");
    let mut created = Vec::new();
    let mut counts = Vec::new();
    while let Ok(c) = rx.try_recv().map(std::sync::Arc::unwrap_or_clone) {
        match c {
            Change::ObjectCreation { path, unique_keys } => created.push((path, unique_keys)),
            Change::ValueChange { path, value } => counts.push(format!("{path}={value}")),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        counts,
        [
            "Device.ProxiedDeviceNumberOfEntries=1",
            "Device.ProxiedDevice.7.IoTCapabilityNumberOfEntries=3"
        ],
        "NumberOfEntries changes are published"
    );
    let paths: Vec<&str> = created.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "Device.ProxiedDevice.7.",
            "Device.ProxiedDevice.7.IoTCapability.1.",
            "Device.ProxiedDevice.7.IoTCapability.2.",
            "Device.ProxiedDevice.7.IoTCapability.3."
        ]
    );
    assert_eq!(
        created[0].1,
        vec![("Alias".to_string(), "cpe-7".to_string())]
    );
    let n = dm
        .get(
            &[
                "Device.ProxiedDeviceNumberOfEntries",
                "Device.ProxiedDevice.7.IoTCapabilityNumberOfEntries",
            ],
            0,
        )
        .await;
    assert_eq!(n[0].as_ref().unwrap()[0].params[0].1, "1");
    assert_eq!(n[1].as_ref().unwrap()[0].params[0].1, "3");
    let v = dm
        .get(
            &["Device.ProxiedDevice.7.IoTCapability.1.LevelSensor.Unit"],
            0,
        )
        .await;
    assert_eq!(v[0].as_ref().unwrap()[0].params[0].1, "degC");
    // A capability of another class has no LevelSensor object.
    let other = dm
        .get(
            &["Device.ProxiedDevice.7.IoTCapability.3.LevelSensor.Value"],
            0,
        )
        .await;
    assert_eq!(
        other[0].as_ref().unwrap_err().usp_code(),
        ErrorCode::InvalidPath
    );
    // The next automatic number follows the highest used one.
    assert_eq!(
        dm.mount("Device.ProxiedDevice.", None, fixture::device(1, 0))
            .await
            .unwrap(),
        "Device.ProxiedDevice.8."
    );
    assert!(
        dm.mount("Device.ProxiedDevice.", Some(7), fixture::device(2, 0))
            .await
            .is_err()
    );
    while rx.try_recv().is_ok() {}
    dm.unmount("Device.ProxiedDevice.7.", Unmount::Purge)
        .await
        .unwrap();
    let mut deleted = Vec::new();
    while let Ok(c) = rx.try_recv().map(std::sync::Arc::unwrap_or_clone) {
        if let Change::ObjectDeletion { path } = c {
            deleted.push(path);
        }
    }
    assert_eq!(deleted.len(), 4);
    assert_eq!(deleted[0], "Device.ProxiedDevice.7.");
    assert_eq!(
        dm.mount("Device.ProxiedDevice.", None, fixture::device(3, 0))
            .await
            .unwrap(),
        "Device.ProxiedDevice.9.",
        "numbers are not reused"
    );
    assert!(
        dm.unmount("Device.ProxiedDevice.7.", Unmount::Purge)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_failing_mount_leaves_nothing_behind() {
    let dm = DataModel::new(fixture::schema());
    let mut rx = dm.changes();
    let bad = Subtree::new().param("Name", "ok").child(
        "IoTCapability",
        Subtree::new().child("LevelSensor", Subtree::new().param("Value", true)),
    );
    let e = dm
        .mount("Device.ProxiedDevice.", None, bad)
        .await
        .unwrap_err();
    assert_eq!(e.usp_code(), ErrorCode::InvalidType);
    let unknown = Subtree::new().child("NoSuchObject", Subtree::new());
    assert_eq!(
        dm.mount("Device.ProxiedDevice.", None, unknown)
            .await
            .unwrap_err()
            .usp_code(),
        ErrorCode::InvalidPath
    );
    assert!(
        dm.instance_numbers("Device.ProxiedDevice.")
            .unwrap()
            .is_empty()
    );
    assert!(rx.try_recv().is_err(), "no change published");
}

#[tokio::test]
async fn internal_writes_bypass_read_only_but_not_types() {
    let dm = fixture::proxied_devices(1, 1).await.unwrap();
    let p = "Device.ProxiedDevice.1.IoTCapability.1.LevelSensor.Value";
    assert!(dm.set_value(p, "23.75").await.unwrap());
    assert!(
        !dm.set_value(p, "23.75").await.unwrap(),
        "unchanged value reports no change"
    );
    assert_eq!(dm.stored_value(p).unwrap(), "23.75");
    assert_eq!(
        dm.set_value(p, "warm").await.unwrap_err().usp_code(),
        ErrorCode::InvalidType
    );
    assert_eq!(
        dm.set_value(p, Value::Boolean(true))
            .await
            .unwrap_err()
            .usp_code(),
        ErrorCode::InvalidType
    );
    let r = dm
        .set(set_one(
            "Device.ProxiedDevice.1.IoTCapability.1.LevelSensor.",
            "Value",
            "1",
        ))
        .await
        .unwrap();
    let f = r[0].outcome.as_ref().unwrap_err();
    assert_eq!(
        f.instance_failures[0].param_errs[0].error.usp_code(),
        ErrorCode::ParameterNotWritable
    );
    dm.create_object("Device.ProxiedDevice.1.IoTCapability.1.BinarySensor.")
        .await
        .unwrap();
    dm.set_value(
        "Device.ProxiedDevice.1.IoTCapability.1.BinarySensor.Value",
        true,
    )
    .await
    .unwrap();
    assert_eq!(
        dm.stored_value("Device.ProxiedDevice.1.IoTCapability.1.BinarySensor.Value")
            .unwrap(),
        "true"
    );
}

#[tokio::test]
async fn schema_grows_at_run_time_with_vendor_extensions() {
    let dm = fixture::proxied_devices(2, 1).await.unwrap();
    dm.extend_schema(|b| {
        b.extend_object("Device.ProxiedDevice.{i}.")
            .param(ParamDef::new("X_USPHUB_IEEEAddress", ParamType::String));
        b.object("Device.ProxiedDevice.{i}.X_USPHUB_Radio.", Obj::single())
            .param(ParamDef::new("Channel", ParamType::UnsignedInt));
    })
    .unwrap();
    let r = dm
        .get(&["Device.ProxiedDevice.*.X_USPHUB_Radio.Channel"], 0)
        .await;
    assert_eq!(
        r[0].as_ref().unwrap().len(),
        2,
        "existing rows gained the new object"
    );
    dm.set_value(
        "Device.ProxiedDevice.2.X_USPHUB_IEEEAddress",
        "00:11:22:33:44:55:66:77",
    )
    .await
    .unwrap();
    assert!(
        dm.extend_schema(|b| {
            b.object("Device.Missing.Parent.", Obj::single());
        })
        .is_err()
    );
}

/// The agent spawns these futures on a multi-threaded runtime: they must be `Send`,
/// i.e. no lock guard lives across an `.await`.
#[test]
fn operation_futures_are_send_and_the_model_is_shareable() {
    fn send<T: Send>(_: &T) {}
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<DataModel>();
    let dm = DataModel::new(common::schema());
    let paths = ["Device.".to_string()];
    send(&dm.get(&paths, 0));
    send(&dm.set(set_one("Device.IP.Interface.1.", "MTU", "1")));
    send(&dm.add(usp_datamodel::AddRequest {
        allow_partial: true,
        objects: vec![],
    }));
    send(&dm.delete(usp_datamodel::DeleteRequest {
        allow_partial: true,
        obj_paths: vec![],
    }));
    let args = Args::new();
    send(&dm.operate("Device.Reboot()", "k", &args));
    send(&dm.mount("Device.IP.Interface.", None, Subtree::new()));
    send(&dm.unmount("Device.IP.Interface.1.", Unmount::Purge));
    send(&dm.set_value("Device.DeviceInfo.Manufacturer", "x"));
    send(&dm.set_values("Device.DeviceInfo.", vec![]));
    send(&dm.create_object("Device.DeviceInfo."));
}

#[tokio::test]
async fn iot_supported_model_lists_capability_objects_and_instances_their_aliases() {
    let dm = fixture::proxied_devices(2, 2).await.unwrap();
    let r = dm.get_supported_dm(
        &["Device.ProxiedDevice.{i}.IoTCapability.{i}."],
        Default::default(),
    );
    let paths: Vec<&str> = r[0]
        .as_ref()
        .unwrap()
        .iter()
        .map(|o| o.path.as_str())
        .collect();
    assert_eq!(paths.len(), 9);
    assert!(paths.contains(&"Device.ProxiedDevice.{i}.IoTCapability.{i}.LevelSensor."));
    let bc = r[0]
        .as_ref()
        .unwrap()
        .iter()
        .find(|o| o.path.ends_with("BinaryControl."))
        .unwrap();
    assert!(!bc.is_multi_instance);
    assert!(bc.commands[0].is_async);
    let cap = &r[0].as_ref().unwrap()[0];
    assert_eq!(
        cap.unique_key_sets,
        vec![vec!["Alias".to_string()], vec!["Name".to_string()]]
    );
    let inst = dm.get_instances(&["Device.ProxiedDevice."], false);
    let list = inst[0].as_ref().unwrap();
    assert_eq!(list.len(), 6);
    assert_eq!(list[1].path, "Device.ProxiedDevice.1.IoTCapability.1.");
    assert_eq!(
        list[1].unique_keys,
        vec![
            ("Alias".to_string(), "cpe-1".to_string()),
            ("Name".to_string(), "LevelSensor-0".to_string())
        ]
    );
}

#[tokio::test]
async fn multi_endpoint_devices_mount_nodes_with_their_own_capabilities() {
    let dm = DataModel::new(fixture::schema());
    let cap = |class: &str| {
        Subtree::new()
            .param("Class", class)
            .child(class, Subtree::new().param("Type", "Switch"))
    };
    let device = Subtree::new()
        .param("ProxyProtocol", "Z-Wave")
        .row(
            "Node",
            2,
            Subtree::new()
                .param("Type", "PowerStrip")
                .child("IoTCapability", cap("BinaryControl")),
        )
        .row(
            "Node",
            5,
            Subtree::new()
                .param("Type", "PowerStrip")
                .child("IoTCapability", cap("BinaryControl")),
        );
    let path = dm
        .mount("Device.ProxiedDevice.", None, device)
        .await
        .unwrap();
    let inst = dm.get_instances(&[path.as_str()], false);
    let paths: Vec<&str> = inst[0]
        .as_ref()
        .unwrap()
        .iter()
        .map(|i| i.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "Device.ProxiedDevice.1.",
            "Device.ProxiedDevice.1.Node.2.",
            "Device.ProxiedDevice.1.Node.2.IoTCapability.1.",
            "Device.ProxiedDevice.1.Node.5.",
            "Device.ProxiedDevice.1.Node.5.IoTCapability.1."
        ]
    );
    let v = dm.resolve("Device.ProxiedDevice.1.Node.*.IoTCapability.[Class==\"BinaryControl\"].BinaryControl.Value").unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(
        dm.get_value("Device.ProxiedDevice.1.NodeNumberOfEntries")
            .await
            .unwrap(),
        "2"
    );
}
