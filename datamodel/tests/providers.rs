//! Providers: live reads with the lock released, write-through Sets, synchronous and
//! asynchronous commands, events; provider calls over many instances run concurrently.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use usp_datamodel::{
    Args, Change, DataModel, DmError, ErrorCode, ErrorKind, FnProvider, OperateOutcome,
    ParamSetting, SetObject, SetRequest, Value, fixture,
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
async fn live_parameters_are_read_from_the_provider_with_the_lock_released() {
    let dm = DataModel::new(common::schema());
    let calls = Arc::new(AtomicU32::new(0));
    let (dm2, calls2) = (dm.clone(), calls.clone());
    let provider = FnProvider::new().on_get(move |req| {
        let (dm, calls) = (dm2.clone(), calls2.clone());
        Box::pin(async move {
            // Calling back into the data model would deadlock if the tree were locked.
            dm.set_value("Device.DeviceInfo.Manufacturer", "from-provider")
                .await?;
            let n = calls.fetch_add(1, Ordering::SeqCst) + 41;
            Ok(req.params.iter().map(|_| Value::UnsignedInt(n)).collect())
        })
    });
    dm.attach_provider("Device.DeviceInfo.", Arc::new(provider))
        .unwrap();
    let r = dm.get(&["Device.DeviceInfo.UpTime"], 0).await;
    assert_eq!(r[0].as_ref().unwrap()[0].params[0].1, "41");
    let r = dm.get(&["Device.DeviceInfo."], 0).await;
    let params = &r[0].as_ref().unwrap()[0].params;
    assert!(params.contains(&("UpTime".to_string(), "42".to_string())));
    assert!(params.contains(&("Manufacturer".to_string(), "from-provider".to_string())));
    assert_eq!(
        dm.stored_value("Device.DeviceInfo.UpTime").unwrap(),
        "0",
        "live values are not stored"
    );
    assert_eq!(
        dm.get_value("Device.DeviceInfo.UpTime").await.unwrap(),
        "43"
    );
    assert!(dm.get_value("Device.DeviceInfo.").await.is_err());
    assert!(dm.get_value("Device.IP.Interface.*.Name").await.is_err());
}

#[tokio::test]
async fn live_parameter_without_provider_is_an_error_on_its_own_path() {
    let dm = DataModel::new(common::schema());
    let r = dm
        .get(&["Device.DeviceInfo.UpTime", "Device.DeviceInfo."], 0)
        .await;
    assert_eq!(
        r[0].as_ref().unwrap_err().usp_code(),
        ErrorCode::ParameterActionFailed
    );
    let obj = r[1].as_ref().unwrap();
    assert!(
        obj[0].params.iter().all(|(n, _)| n != "UpTime"),
        "unreadable live values are left out"
    );
}

#[tokio::test]
async fn write_through_sets_go_to_the_device_before_being_stored() {
    let dm = fixture::proxied_devices(1, 4).await.unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let provider = FnProvider::new().on_set(move |req| {
        seen2.lock().unwrap().push(req.clone());
        Box::pin(async move {
            req.params
                .iter()
                .map(|(_, v)| match v {
                    Value::Boolean(true) => Ok(()),
                    _ => Err(DmError::new(ErrorKind::SetFailure, "", "device refused")),
                })
                .collect()
        })
    });
    dm.attach_provider("Device.ProxiedDevice.1.", Arc::new(provider))
        .unwrap();
    let path = "Device.ProxiedDevice.1.IoTCapability.4.BinaryControl.";
    let mut rx = dm.changes();
    let r = dm.set(set_one(path, "Value", "1")).await.unwrap();
    assert!(r[0].outcome.is_ok());
    assert_eq!(dm.stored_value(&format!("{path}Value")).unwrap(), "true");
    assert_eq!(
        std::sync::Arc::unwrap_or_clone(rx.recv().await.unwrap()),
        Change::ValueChange {
            path: format!("{path}Value"),
            value: "true".into()
        }
    );
    let r = dm.set(set_one(path, "Value", "false")).await.unwrap();
    let f = r[0].outcome.as_ref().unwrap_err();
    assert_eq!(
        f.instance_failures[0].param_errs[0].error.message,
        "device refused"
    );
    assert_eq!(dm.stored_value(&format!("{path}Value")).unwrap(), "true");
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(seen.lock().unwrap()[0].obj_path, path);
    // Name is stored, not forwarded.
    dm.set(set_one("Device.ProxiedDevice.1.", "Name", "Kitchen"))
        .await
        .unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2);
}

fn commands_provider() -> FnProvider {
    FnProvider::new().on_operate(|call| {
        Box::pin(async move {
            match call.command.as_str() {
                "Reboot()" => Ok(Args::from([(
                    "Status".to_string(),
                    format!("rebooting: {}", call.input["Cause"]),
                )])),
                "SelfTest()" => {
                    tokio::task::yield_now().await;
                    if call.input.get("Rounds").map(String::as_str) == Some("3") {
                        Err(DmError::new(
                            ErrorKind::CommandFailure,
                            call.obj_path,
                            "self test failed",
                        ))
                    } else {
                        Ok(Args::from([("Result".to_string(), "ok".to_string())]))
                    }
                }
                _ => Err(DmError::new(
                    ErrorKind::CommandFailure,
                    call.obj_path,
                    "unknown",
                )),
            }
        })
    })
}

#[tokio::test]
async fn sync_commands_return_outputs_and_check_arguments() {
    let dm = DataModel::new(common::schema());
    dm.attach_provider("Device.", Arc::new(commands_provider()))
        .unwrap();
    let input = Args::from([
        ("Cause".to_string(), "test".to_string()),
        ("Unknown".to_string(), "x".to_string()),
    ]);
    let r = dm.operate("Device.Reboot()", "k1", &input).await.unwrap();
    assert_eq!(r[0].executed_command, "Device.Reboot()");
    match &r[0].outcome {
        OperateOutcome::Sync(out) => assert_eq!(out["Status"], "rebooting: test"),
        other => panic!("{other:?}"),
    }
    let r = dm
        .operate("Device.Reboot()", "k2", &Args::new())
        .await
        .unwrap();
    match &r[0].outcome {
        OperateOutcome::Failed(e) => assert_eq!(e.usp_code(), ErrorCode::InvalidCommandArguments),
        other => panic!("{other:?}"),
    }
    let bad = Args::from([("Rounds".to_string(), "99".to_string())]);
    match &dm.operate("Device.SelfTest()", "k3", &bad).await.unwrap()[0].outcome {
        OperateOutcome::Failed(e) => assert_eq!(e.usp_code(), ErrorCode::InvalidCommandArguments),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        dm.operate("Device.DeviceInfo.", "k", &Args::new())
            .await
            .unwrap_err()
            .usp_code(),
        ErrorCode::InvalidPath
    );
    assert_eq!(
        dm.operate("Device.Nope()", "k", &Args::new())
            .await
            .unwrap_err()
            .usp_code(),
        ErrorCode::InvalidPath
    );
}

#[tokio::test]
async fn async_commands_complete_on_the_change_stream() {
    let dm = DataModel::new(common::schema());
    dm.attach_provider("Device.", Arc::new(commands_provider()))
        .unwrap();
    let mut rx = dm.changes();
    for (rounds, key) in [("2", "good"), ("3", "bad")] {
        let input = Args::from([("Rounds".to_string(), rounds.to_string())]);
        let mut r = dm.operate("Device.SelfTest()", key, &input).await.unwrap();
        let OperateOutcome::Async(pending) = r.remove(0).outcome else {
            panic!("not async")
        };
        assert_eq!(pending.command_key, key);
        pending.spawn_reporting(&dm).await.unwrap();
        match std::sync::Arc::unwrap_or_clone(rx.recv().await.unwrap()) {
            Change::OperationComplete {
                obj_path,
                command_name,
                command_key,
                result,
            } => {
                assert_eq!(
                    (
                        obj_path.as_str(),
                        command_name.as_str(),
                        command_key.as_str()
                    ),
                    ("Device.", "SelfTest()", key)
                );
                match rounds {
                    "2" => assert_eq!(result.unwrap()["Result"], "ok"),
                    _ => assert_eq!(result.unwrap_err().usp_code(), ErrorCode::CommandFailure),
                }
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn commands_without_implementation_fail_in_the_result() {
    let dm = DataModel::new(common::schema());
    let input = Args::from([("Cause".to_string(), "x".to_string())]);
    match &dm.operate("Device.Reboot()", "k", &input).await.unwrap()[0].outcome {
        OperateOutcome::Failed(e) => assert_eq!(e.usp_code(), ErrorCode::CommandFailure),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn events_are_published_only_when_declared() {
    let dm = DataModel::new(common::schema());
    let mut rx = dm.changes();
    let args = Args::from([("Cause".to_string(), "LocalReboot".to_string())]);
    dm.emit_event("Device.", "Boot!", args.clone()).unwrap();
    assert_eq!(
        std::sync::Arc::unwrap_or_clone(rx.recv().await.unwrap()),
        Change::Event {
            obj_path: "Device.".into(),
            event_name: "Boot!".into(),
            args
        }
    );
    assert_eq!(
        dm.emit_event("Device.", "Nope!", Args::new())
            .unwrap_err()
            .usp_code(),
        ErrorCode::InvalidPath
    );
    assert!(
        dm.emit_event("Device.IP.Interface.3.", "Boot!", Args::new())
            .is_err()
    );
}

#[tokio::test]
async fn operate_on_a_search_path_runs_every_matched_command() {
    let dm = fixture::proxied_devices(3, 4).await.unwrap();
    let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
    for d in 1..=3 {
        let calls = calls.clone();
        let p = FnProvider::new().on_operate(move |call| {
            calls
                .lock()
                .unwrap()
                .push(format!("{}{}", call.obj_path, call.command));
            Box::pin(async { Ok(Args::new()) })
        });
        dm.attach_provider(&format!("Device.ProxiedDevice.{d}."), Arc::new(p))
            .unwrap();
    }
    let r = dm
        .operate(
            r#"Device.ProxiedDevice.[Online==true].IoTCapability.[Class=="BinaryControl"].BinaryControl.Toggle()"#,
            "all-lights",
            &Args::new(),
        )
        .await
        .unwrap();
    let executed: Vec<&str> = r.iter().map(|x| x.executed_command.as_str()).collect();
    assert_eq!(
        executed,
        [
            "Device.ProxiedDevice.1.IoTCapability.4.BinaryControl.Toggle()",
            "Device.ProxiedDevice.2.IoTCapability.4.BinaryControl.Toggle()",
            "Device.ProxiedDevice.3.IoTCapability.4.BinaryControl.Toggle()"
        ]
    );
    for res in r {
        let OperateOutcome::Async(p) = res.outcome else {
            panic!("Toggle() is asynchronous")
        };
        p.run().await.unwrap();
    }
    assert_eq!(calls.lock().unwrap().len(), 3);
    let none = dm
        .operate(
            r#"Device.ProxiedDevice.[Name=="nobody"].IoTCapability.*.BinaryControl.Toggle()"#,
            "k",
            &Args::new(),
        )
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn write_through_sets_on_many_devices_run_concurrently() {
    let dm = fixture::proxied_devices(3, 4).await.unwrap();
    // Each device answers only once all three writes are in flight: a sequential
    // implementation would never finish.
    let barrier = Arc::new(tokio::sync::Barrier::new(3));
    for d in 1..=3 {
        let barrier = barrier.clone();
        let p = FnProvider::new().on_set(move |req| {
            let barrier = barrier.clone();
            Box::pin(async move {
                barrier.wait().await;
                req.params.iter().map(|_| Ok(())).collect()
            })
        });
        dm.attach_provider(&format!("Device.ProxiedDevice.{d}."), Arc::new(p))
            .unwrap();
    }
    let req = SetRequest {
        allow_partial: false,
        objects: vec![SetObject {
            obj_path: "Device.ProxiedDevice.*.IoTCapability.4.BinaryControl.".into(),
            params: vec![ParamSetting::required("Value", "true")],
        }],
    };
    let r = tokio::time::timeout(std::time::Duration::from_secs(10), dm.set(req))
        .await
        .expect("the three device writes overlap")
        .unwrap();
    assert_eq!(r[0].outcome.as_ref().unwrap().len(), 3);
}
