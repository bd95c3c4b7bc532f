//! Get and Set with TR-369 message semantics: paths, max_depth, per-path errors,
//! per-object atomicity, allow_partial, required parameters and exact error codes.

mod common;

use common::{add_req, req, set_req};
use usp_datamodel::{Change, ErrorCode, ParamSetting};

#[tokio::test]
async fn get_param_path_returns_its_object_and_relative_name() {
    let dm = common::populated().await;
    let r = dm.get(&["Device.IP.Interface.1.Name"], 0).await;
    let objs = r[0].as_ref().unwrap();
    assert_eq!(objs.len(), 1);
    assert_eq!(objs[0].path, "Device.IP.Interface.1.");
    assert_eq!(
        objs[0].params,
        vec![("Name".to_string(), "eth0".to_string())]
    );
}

#[tokio::test]
async fn get_object_path_returns_every_object_below_limited_by_max_depth() {
    let dm = common::populated().await;
    let all = dm
        .get(&["Device.IP.Interface."], 0)
        .await
        .remove(0)
        .unwrap();
    let paths: Vec<&str> = all.iter().map(|o| o.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "Device.IP.Interface.1.",
            "Device.IP.Interface.1.Stats.",
            "Device.IP.Interface.2.",
            "Device.IP.Interface.2.Stats."
        ]
    );
    assert!(
        all[0]
            .params
            .contains(&("MTU".to_string(), "1500".to_string()))
    );
    let shallow = dm
        .get(&["Device.IP.Interface."], 1)
        .await
        .remove(0)
        .unwrap();
    assert_eq!(
        shallow.len(),
        2,
        "rows of the requested table are the first level"
    );
    let one = dm.get(&["Device.IP."], 1).await.remove(0).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(
        one[0].params,
        vec![("InterfaceNumberOfEntries".to_string(), "2".to_string())]
    );
    let two = dm.get(&["Device.IP."], 2).await.remove(0).unwrap();
    assert_eq!(two.len(), 3);
}

#[tokio::test]
async fn get_errors_are_per_path_and_searches_may_be_empty() {
    let dm = common::populated().await;
    let r = dm
        .get(
            &[
                "Device.IP.Interface.9.Name",
                "Device.IP.Interface.[Name==\"x\"].",
                "Device.Nope",
                "Device.IP.Interface.1.MTU",
            ],
            0,
        )
        .await;
    assert_eq!(
        r[0].as_ref().unwrap_err().usp_code(),
        ErrorCode::InvalidPath
    );
    assert!(r[1].as_ref().unwrap().is_empty());
    assert_eq!(
        r[2].as_ref().unwrap_err().usp_code(),
        ErrorCode::InvalidPath
    );
    assert_eq!(r[3].as_ref().unwrap()[0].params[0].1, "1500");
}

#[tokio::test]
async fn write_only_values_read_back_empty() {
    let dm = common::populated().await;
    let r = dm
        .add(add_req(
            false,
            &[(
                "Device.LocalAgent.Subscription.",
                vec![req("Secret", "hunter2")],
            )],
        ))
        .await
        .unwrap();
    let path = r[0].outcome.as_ref().unwrap().instantiated_path.clone();
    let got = dm
        .get(&[format!("{path}Secret")], 0)
        .await
        .remove(0)
        .unwrap();
    assert_eq!(got[0].params[0].1, "");
}

#[tokio::test]
async fn set_updates_all_matched_instances_and_publishes_value_changes() {
    let dm = common::populated().await;
    let mut rx = dm.changes();
    let r = dm
        .set(set_req(
            false,
            &[("Device.IP.Interface.*.", vec![req("MTU", "1280")])],
        ))
        .await
        .unwrap();
    let done = r[0].outcome.as_ref().unwrap();
    assert_eq!(done.len(), 2);
    assert_eq!(
        done[0].updated_params,
        vec![("MTU".to_string(), "1280".to_string())]
    );
    for i in 1..=2 {
        match std::sync::Arc::unwrap_or_clone(rx.recv().await.unwrap()) {
            Change::ValueChange { path, value } => {
                assert_eq!(path, format!("Device.IP.Interface.{i}.MTU"));
                assert_eq!(value, "1280");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // Setting the same value again changes nothing and publishes nothing.
    dm.set(set_req(
        false,
        &[("Device.IP.Interface.1.", vec![req("MTU", "1280")])],
    ))
    .await
    .unwrap();
    assert!(rx.try_recv().is_err());
}

#[tokio::test]
async fn set_failures_carry_the_exact_parameter_and_code() {
    let dm = common::populated().await;
    for (name, value, code) in [
        ("MTU", "huge", ErrorCode::InvalidType),
        ("MTU", "10", ErrorCode::InvalidValue),
        ("Name", "a-name-longer-than-16", ErrorCode::InvalidValue),
        ("MACAddress", "00:11:22:33:44", ErrorCode::InvalidValue),
        ("Updated", "2024-13-01T00:00:00Z", ErrorCode::InvalidType),
        ("Weight", "1.2.3", ErrorCode::InvalidType),
        ("Enable", "yes", ErrorCode::InvalidType),
        ("Nope", "1", ErrorCode::UnsupportedParameter),
        ("Alias", "mine", ErrorCode::ParameterNotWritable),
    ] {
        let r = dm
            .set(set_req(
                true,
                &[("Device.IP.Interface.1.", vec![req(name, value)])],
            ))
            .await
            .unwrap();
        let f = r[0].outcome.as_ref().expect_err(name);
        assert_eq!(f.error.usp_code(), ErrorCode::RequiredParameterFailed);
        let pe = &f.instance_failures[0].param_errs[0];
        assert_eq!(pe.param_path, format!("Device.IP.Interface.1.{name}"));
        assert_eq!(pe.error.usp_code(), code, "{name}={value}");
    }
    let dup = dm
        .set(set_req(
            true,
            &[(
                "Device.LocalAgent.Controller.2.",
                vec![req("EndpointID", "ctrl-a")],
            )],
        ))
        .await
        .unwrap();
    assert_eq!(
        dup[0].outcome.as_ref().unwrap_err().error.usp_code(),
        ErrorCode::ObjectExistsWithDuplicateKey
    );
    assert_eq!(
        dm.stored_value("Device.LocalAgent.Controller.2.EndpointID")
            .unwrap(),
        "ctrl-b"
    );
    let ro = dm
        .set(set_req(
            true,
            &[("Device.IP.Interface.1.Stats.", vec![req("BytesSent", "1")])],
        ))
        .await
        .unwrap();
    let pe = &ro[0].outcome.as_ref().unwrap_err().instance_failures[0].param_errs[0];
    assert_eq!(pe.error.usp_code(), ErrorCode::ParameterNotWritable);
    let counter = dm
        .set(set_req(
            true,
            &[("Device.IP.", vec![req("InterfaceNumberOfEntries", "5")])],
        ))
        .await
        .unwrap();
    assert!(counter[0].outcome.is_err());
}

#[tokio::test]
async fn set_is_atomic_per_object_and_reports_non_required_failures() {
    let dm = common::populated().await;
    let r = dm
        .set(set_req(
            true,
            &[
                (
                    "Device.IP.Interface.1.",
                    vec![req("MTU", "1000"), req("Enable", "nah")],
                ),
                (
                    "Device.IP.Interface.2.",
                    vec![req("MTU", "1001"), ParamSetting::optional("Enable", "nah")],
                ),
            ],
        ))
        .await
        .unwrap();
    assert!(r[0].outcome.is_err());
    assert_eq!(
        dm.stored_value("Device.IP.Interface.1.MTU").unwrap(),
        "1500",
        "failed object untouched"
    );
    let ok = r[1].outcome.as_ref().unwrap();
    assert_eq!(ok[0].param_errs.len(), 1);
    assert_eq!(ok[0].param_errs[0].name, "Enable");
    assert_eq!(
        dm.stored_value("Device.IP.Interface.2.MTU").unwrap(),
        "1001"
    );
}

#[tokio::test]
async fn set_without_allow_partial_fails_whole_request_and_applies_nothing() {
    let dm = common::populated().await;
    let e = dm
        .set(set_req(
            false,
            &[
                ("Device.IP.Interface.1.", vec![req("MTU", "1000")]),
                ("Device.IP.Interface.2.", vec![req("MTU", "5")]),
            ],
        ))
        .await
        .unwrap_err();
    assert_eq!(e.error.usp_code(), ErrorCode::InvalidArguments);
    assert_eq!(e.param_errs[0].param_path, "Device.IP.Interface.2.MTU");
    assert_eq!(e.param_errs[0].error.usp_code(), ErrorCode::InvalidValue);
    assert_eq!(
        dm.stored_value("Device.IP.Interface.1.MTU").unwrap(),
        "1500"
    );
    // A duplicate key discovered while applying also rolls back earlier objects.
    let e = dm
        .set(set_req(
            false,
            &[
                ("Device.IP.Interface.1.", vec![req("MTU", "1000")]),
                (
                    "Device.LocalAgent.Controller.2.",
                    vec![req("EndpointID", "ctrl-a")],
                ),
            ],
        ))
        .await
        .unwrap_err();
    assert_eq!(e.error.usp_code(), ErrorCode::ObjectExistsWithDuplicateKey);
    assert_eq!(
        dm.stored_value("Device.IP.Interface.1.MTU").unwrap(),
        "1500"
    );
    let e = dm
        .set(set_req(false, &[("Device.Nope.", vec![req("X", "1")])]))
        .await
        .unwrap_err();
    assert_eq!(e.error.usp_code(), ErrorCode::InvalidPath);
}
