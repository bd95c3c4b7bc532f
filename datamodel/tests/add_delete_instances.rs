//! Add, Delete, GetInstances and GetSupportedDM with TR-369 message semantics, and
//! random input through every operation.

mod common;

use common::{add_req, req, set_req};
use usp_datamodel::{
    Access, Change, DeleteRequest, ErrorCode, ObjAccess, ParamType, SupportedDmOptions,
    ValueChangeMode,
};

#[tokio::test]
async fn add_creates_rows_with_cpe_aliases_unique_keys_and_creation_changes() {
    let dm = common::populated().await;
    let mut rx = dm.changes();
    let r = dm
        .add(add_req(
            false,
            &[(
                "Device.LocalAgent.Subscription.",
                vec![
                    req("ID", "sub-1"),
                    req("NotifType", "ValueChange"),
                    req("ReferenceList", "Device.IP.,Device.NAT."),
                ],
            )],
        ))
        .await
        .unwrap();
    let c = r[0].outcome.as_ref().unwrap();
    assert_eq!(c.instantiated_path, "Device.LocalAgent.Subscription.1.");
    assert_eq!(
        c.unique_keys,
        vec![
            ("Alias".to_string(), "cpe-1".to_string()),
            ("ID".to_string(), "sub-1".to_string())
        ]
    );
    match std::sync::Arc::unwrap_or_clone(rx.recv().await.unwrap()) {
        Change::ObjectCreation { path, unique_keys } => {
            assert_eq!(path, "Device.LocalAgent.Subscription.1.");
            assert_eq!(unique_keys, c.unique_keys);
        }
        other => panic!("unexpected {other:?}"),
    }
    // A second row without an ID gets a generated one; a duplicate ID fails with 7025.
    let r = dm
        .add(add_req(
            true,
            &[
                ("Device.LocalAgent.Subscription.", vec![]),
                ("Device.LocalAgent.Subscription.", vec![req("ID", "sub-1")]),
            ],
        ))
        .await
        .unwrap();
    let second = r[0].outcome.as_ref().unwrap();
    assert_eq!(
        second.instantiated_path,
        "Device.LocalAgent.Subscription.2."
    );
    assert!(
        second
            .unique_keys
            .iter()
            .any(|(k, v)| k == "ID" && v.starts_with("cpe-"))
    );
    assert_eq!(
        r[1].outcome.as_ref().unwrap_err().usp_code(),
        ErrorCode::ObjectExistsWithDuplicateKey
    );
    // Write-once parameters are writable at creation only.
    let e = dm
        .set(set_req(
            false,
            &[(
                "Device.LocalAgent.Subscription.1.",
                vec![req("ID", "other")],
            )],
        ))
        .await
        .unwrap_err();
    assert_eq!(
        e.param_errs[0].error.usp_code(),
        ErrorCode::ParameterNotWritable
    );
    // Numbers are never reused.
    dm.delete(DeleteRequest {
        allow_partial: false,
        obj_paths: vec!["Device.LocalAgent.Subscription.2.".into()],
    })
    .await
    .unwrap();
    let r = dm
        .add(add_req(
            false,
            &[("Device.LocalAgent.Subscription.", vec![])],
        ))
        .await
        .unwrap();
    assert_eq!(
        r[0].outcome.as_ref().unwrap().instantiated_path,
        "Device.LocalAgent.Subscription.4."
    );
}

#[tokio::test]
async fn add_errors_and_rollback_without_allow_partial() {
    let dm = common::populated().await;
    let cases = [
        ("Device.LocalAgent.", ErrorCode::ObjectNotATable),
        (
            "Device.LocalAgent.Controller.1.",
            ErrorCode::ObjectNotATable,
        ),
        ("Device.Nope.", ErrorCode::InvalidPath),
        ("Device.IP.Interface.7.Stats.", ErrorCode::InvalidPath),
    ];
    for (p, code) in cases {
        let r = dm.add(add_req(true, &[(p, vec![])])).await.unwrap();
        assert_eq!(r[0].outcome.as_ref().unwrap_err().usp_code(), code, "{p}");
    }
    let e = dm
        .add(add_req(
            false,
            &[
                ("Device.LocalAgent.Subscription.", vec![req("ID", "a")]),
                (
                    "Device.LocalAgent.Subscription.",
                    vec![req("NotifType", "Bogus")],
                ),
            ],
        ))
        .await
        .unwrap_err();
    assert_eq!(e.error.usp_code(), ErrorCode::InvalidArguments);
    assert_eq!(
        e.param_errs[0].param_path,
        "Device.LocalAgent.Subscription.2.NotifType"
    );
    assert_eq!(e.param_errs[0].error.usp_code(), ErrorCode::InvalidValue);
    assert!(
        dm.instance_numbers("Device.LocalAgent.Subscription.")
            .unwrap()
            .is_empty()
    );
    let r = dm
        .add(add_req(
            true,
            &[(
                "Device.LocalAgent.Subscription.",
                vec![req("TimeToLive", "-1")],
            )],
        ))
        .await
        .unwrap();
    assert_eq!(
        r[0].outcome.as_ref().unwrap_err().usp_code(),
        ErrorCode::InvalidType
    );
    for _ in 0..50 {
        dm.add(add_req(
            false,
            &[("Device.LocalAgent.Subscription.", vec![])],
        ))
        .await
        .unwrap();
    }
    let r = dm
        .add(add_req(
            true,
            &[("Device.LocalAgent.Subscription.", vec![])],
        ))
        .await
        .unwrap();
    assert!(r[0].outcome.is_err(), "max entries reached");
}

#[tokio::test]
async fn tables_without_controller_add_refuse_with_7019() {
    let dm = usp_datamodel::fixture::proxied_devices(1, 1).await.unwrap();
    let r = dm
        .add(add_req(true, &[("Device.ProxiedDevice.", vec![])]))
        .await
        .unwrap();
    assert_eq!(
        r[0].outcome.as_ref().unwrap_err().usp_code(),
        ErrorCode::ObjectNotCreatable
    );
    let e = dm
        .delete(DeleteRequest {
            allow_partial: false,
            obj_paths: vec!["Device.ProxiedDevice.1.".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(e.error.usp_code(), ErrorCode::DeleteFailure);
}

#[tokio::test]
async fn delete_removes_subtrees_and_tolerates_missing_instances() {
    let dm = common::populated().await;
    let mut rx = dm.changes();
    let r = dm
        .delete(DeleteRequest {
            allow_partial: false,
            obj_paths: vec![
                "Device.LocalAgent.Controller.[EndpointID==\"ctrl-a\"].".into(),
                "Device.IP.Interface.9.".into(),
            ],
        })
        .await
        .unwrap();
    assert_eq!(
        r[0].outcome.as_ref().unwrap().affected_paths,
        ["Device.LocalAgent.Controller.1."]
    );
    assert!(r[1].outcome.as_ref().unwrap().affected_paths.is_empty());
    let mut deleted = Vec::new();
    let mut counts = Vec::new();
    while let Ok(c) = rx.try_recv().map(std::sync::Arc::unwrap_or_clone) {
        match c {
            Change::ObjectDeletion { path } => deleted.push(path),
            Change::ValueChange { path, value } => counts.push((path, value)),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        counts,
        [(
            "Device.LocalAgent.ControllerNumberOfEntries".to_string(),
            "1".to_string()
        )]
    );
    assert_eq!(
        deleted,
        [
            "Device.LocalAgent.Controller.1.",
            "Device.LocalAgent.Controller.1.MTP.1."
        ]
    );
    let e = dm
        .delete(DeleteRequest {
            allow_partial: false,
            obj_paths: vec!["Device.IP.Interface.1.Stats.".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(e.error.usp_code(), ErrorCode::DeleteFailure);
    assert_eq!(
        dm.get(&["Device.LocalAgent.ControllerNumberOfEntries"], 0)
            .await[0]
            .as_ref()
            .unwrap()[0]
            .params[0]
            .1,
        "1"
    );
}

#[tokio::test]
async fn get_instances_lists_rows_with_unique_keys() {
    let dm = common::populated().await;
    let r = dm.get_instances(
        &["Device.LocalAgent.", "Device.LocalAgent.Controller."],
        true,
    );
    let first: Vec<&str> = r[0]
        .as_ref()
        .unwrap()
        .iter()
        .map(|i| i.path.as_str())
        .collect();
    assert_eq!(
        first,
        [
            "Device.LocalAgent.Controller.1.",
            "Device.LocalAgent.Controller.2."
        ]
    );
    let all = dm.get_instances(&["Device.LocalAgent.Controller."], false);
    let paths: Vec<&str> = all[0]
        .as_ref()
        .unwrap()
        .iter()
        .map(|i| i.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "Device.LocalAgent.Controller.1.",
            "Device.LocalAgent.Controller.1.MTP.1.",
            "Device.LocalAgent.Controller.2.",
            "Device.LocalAgent.Controller.2.MTP.1."
        ]
    );
    assert_eq!(
        r[1].as_ref().unwrap()[1].unique_keys,
        vec![("EndpointID".to_string(), "ctrl-b".to_string())]
    );
    assert!(dm.get_instances(&["Device.IP.Interface.1.Name"], false)[0].is_err());
}

#[tokio::test]
async fn supported_dm_reports_types_access_commands_events_and_keys() {
    let dm = common::populated().await;
    let r = dm.get_supported_dm(
        &["Device.LocalAgent.Subscription.{i}.", "Device."],
        SupportedDmOptions::default(),
    );
    let sub = &r[0].as_ref().unwrap()[0];
    assert_eq!(sub.path, "Device.LocalAgent.Subscription.{i}.");
    assert!(sub.is_multi_instance);
    assert_eq!(sub.access, ObjAccess::AddDelete);
    assert_eq!(
        sub.unique_key_sets,
        vec![vec!["Alias".to_string()], vec!["ID".to_string()]]
    );
    let id = sub.params.iter().find(|p| p.name == "ID").unwrap();
    assert_eq!(id.access, Access::WriteOnceReadOnly);
    let rl = sub
        .params
        .iter()
        .find(|p| p.name == "ReferenceList")
        .unwrap();
    assert!(rl.is_list);
    assert_eq!(rl.value_type, ParamType::String);
    let root = r[1].as_ref().unwrap();
    let reboot = root[0]
        .commands
        .iter()
        .find(|c| c.name == "Reboot()")
        .unwrap();
    assert!(!reboot.is_async);
    assert_eq!(reboot.input_args, ["Cause"]);
    assert_eq!(reboot.output_args, ["Status"]);
    assert_eq!(root[0].events[0].name, "Boot!");
    let up = root
        .iter()
        .find(|o| o.path == "Device.DeviceInfo.")
        .unwrap();
    assert_eq!(
        up.params
            .iter()
            .find(|p| p.name == "UpTime")
            .unwrap()
            .value_change,
        ValueChangeMode::WillIgnore
    );
    let first = dm.get_supported_dm(
        &["Device.LocalAgent."],
        SupportedDmOptions {
            first_level_only: true,
            ..Default::default()
        },
    );
    let paths: Vec<&str> = first[0]
        .as_ref()
        .unwrap()
        .iter()
        .map(|o| o.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "Device.LocalAgent.",
            "Device.LocalAgent.Subscription.{i}.",
            "Device.LocalAgent.Controller.{i}."
        ]
    );
    let objs = first[0].as_ref().unwrap();
    assert!(
        !objs[0].params.is_empty(),
        "the requested object has its members"
    );
    assert!(
        objs[1].params.is_empty() && objs[1].unique_key_sets.is_empty(),
        "children are listed bare"
    );
    assert!(objs[1].is_multi_instance);
    let concrete = dm.get_supported_dm(&["Device.IP.Interface.1."], SupportedDmOptions::default());
    assert_eq!(
        concrete[0].as_ref().unwrap()[0].path,
        "Device.IP.Interface.{i}."
    );
    assert!(dm.get_supported_dm(&["Device.Nope."], SupportedDmOptions::default())[0].is_err());
    let bare = dm.get_supported_dm(
        &["Device.IP.Interface.{i}."],
        SupportedDmOptions {
            return_params: false,
            return_unique_key_sets: false,
            ..Default::default()
        },
    );
    assert!(bare[0].as_ref().unwrap()[0].params.is_empty());
    assert!(bare[0].as_ref().unwrap()[0].unique_key_sets.is_empty());
}

#[tokio::test]
async fn random_paths_and_values_through_every_operation_never_panic() {
    let dm = common::populated().await;
    let alphabet: Vec<char> = "Device.IP.Interface.LocalAgent[]=!<>&\"+#*(){}0123 %.-_é"
        .chars()
        .collect();
    let mut seed: u64 = 42;
    let mut next = |len: usize| {
        let mut s = String::from("Device.");
        for _ in 0..len {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
        }
        s
    };
    for i in 0..400 {
        let p = next(i % 30);
        let v = next(i % 7);
        let _ = dm.get(&[p.as_str()], (i % 3) as u32).await;
        let _ = dm
            .set(set_req(
                i % 2 == 0,
                &[(p.as_str(), vec![req("MTU", &v), req(&v, "1")])],
            ))
            .await;
        let _ = dm
            .add(add_req(true, &[(p.as_str(), vec![req("Name", &v)])]))
            .await;
        let _ = dm.get_instances(&[p.as_str()], i % 2 == 0);
        let _ = dm.get_supported_dm(&[p.as_str()], SupportedDmOptions::default());
        let _ = dm.operate(&p, "k", &Default::default()).await;
        if i % 10 == 0 {
            let _ = dm
                .delete(DeleteRequest {
                    allow_partial: true,
                    obj_paths: vec![p.clone()],
                })
                .await;
        }
    }
    // The model still answers.
    assert!(dm.get(&["Device.LocalAgent.EndpointID"], 0).await[0].is_ok());
}

#[tokio::test]
async fn agent_supplied_values_take_part_in_composite_unique_keys() {
    let mut b = usp_datamodel::Schema::builder();
    b.object("Device.LocalAgent.", usp_datamodel::Obj::single());
    b.object(
        "Device.LocalAgent.Subscription.{i}.",
        usp_datamodel::Obj::table()
            .key(&["Alias"])
            .key(&["Recipient", "ID"])
            .add_delete(),
    )
    .param(usp_datamodel::ParamDef::alias())
    .param(usp_datamodel::ParamDef::new("Recipient", ParamType::String).reference())
    .param(usp_datamodel::ParamDef::new("ID", ParamType::String).writable());
    let dm = usp_datamodel::DataModel::new(b.build().unwrap());
    let add_as = |who: &'static str| {
        move |table: &str| {
            assert_eq!(table, "Device.LocalAgent.Subscription.{i}.");
            vec![("Recipient".to_string(), usp_datamodel::InitValue::from(who))]
        }
    };
    let one = |id: &str| {
        add_req(
            true,
            &[("Device.LocalAgent.Subscription.", vec![req("ID", id)])],
        )
    };
    let r = dm
        .add_with(one("same"), add_as("Device.LocalAgent.Controller.1."))
        .await
        .unwrap();
    let keys = &r[0].outcome.as_ref().unwrap().unique_keys;
    assert!(keys.contains(&(
        "Recipient".to_string(),
        "Device.LocalAgent.Controller.1.".to_string()
    )));
    // The same ID from another Controller is a different key ...
    let r = dm
        .add_with(one("same"), add_as("Device.LocalAgent.Controller.2."))
        .await
        .unwrap();
    assert!(r[0].outcome.is_ok());
    // ... from the same Controller it is a duplicate.
    let r = dm
        .add_with(one("same"), add_as("Device.LocalAgent.Controller.1."))
        .await
        .unwrap();
    assert_eq!(
        r[0].outcome.as_ref().unwrap_err().usp_code(),
        ErrorCode::ObjectExistsWithDuplicateKey
    );
    // Composite-key members are not given cpe- values.
    let r = dm.add(one("other")).await.unwrap();
    let keys = &r[0].outcome.as_ref().unwrap().unique_keys;
    assert!(
        keys.contains(&("Recipient".to_string(), String::new())),
        "{keys:?}"
    );
}
