//! The notifier against a real data model with the agent's LocalAgent schema and a
//! fake ControllerLink that records every Msg handed to it. Time is tokio's paused
//! clock: waits of hours take no real time, and "nothing more is sent" is checked by
//! letting the clock run while every task is idle.

mod subscriptions_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use usp_datamodel::{Args, Change, DataModel};
use usp_proto::usp::{self, notify};
use usphub::subscriptions::{BootCause, BootInfo, MAX_PENDING, Notifier};

use subscriptions_support::*;

#[tokio::test(start_paused = true)]
async fn value_change_goes_only_to_the_recipient_with_its_subscription_id() {
    let mut h = harness().await;
    h.subscribe("vc-a", CTL_A, "ValueChange", "Device.Thing.", &[])
        .await;
    h.subscribe("vc-b", CTL_B, "ValueChange", "Device.Thing.2.Status", &[])
        .await;
    let _n = h.start().await;

    set(&h.dm, "Device.Thing.1.Status", "On").await;
    let (to, msg) = h.next().await;
    assert_eq!(to, "ctl-a");
    let n = notify_of(&msg);
    assert_eq!(n.subscription_id, "vc-a");
    assert!(!n.send_resp);
    assert_eq!(value_change(n), ("Device.Thing.1.Status", "On"));
    h.assert_quiet(5).await;

    set(&h.dm, "Device.Thing.2.Status", "Off").await;
    let mut got: Vec<(String, String)> = Vec::new();
    for _ in 0..2 {
        let (to, msg) = h.next().await;
        got.push((to, notify_of(&msg).subscription_id.clone()));
    }
    got.sort();
    assert_eq!(
        got,
        [
            ("ctl-a".to_owned(), "vc-a".to_owned()),
            ("ctl-b".to_owned(), "vc-b".to_owned())
        ]
    );
    h.assert_quiet(5).await;
}

#[tokio::test(start_paused = true)]
async fn object_creation_and_deletion_are_notified_for_wildcard_and_table_paths() {
    let mut h = harness().await;
    h.subscribe("oc", CTL_A, "ObjectCreation", "Device.Thing.", &[])
        .await;
    h.subscribe("od", CTL_B, "ObjectDeletion", "Device.Thing.*.", &[])
        .await;
    let _n = h.start().await;

    let row =
        h.dm.create_instance(
            "Device.Thing.",
            None,
            text(&[("Name", "heater"), ("Alias", "heater")]),
        )
        .await
        .unwrap();
    let (to, msg) = h.next().await;
    assert_eq!(to, "ctl-a");
    let n = notify_of(&msg);
    assert_eq!(n.subscription_id, "oc");
    match &n.notification {
        Some(notify::Notification::ObjCreation(oc)) => {
            assert_eq!(oc.obj_path, row);
            assert_eq!(
                oc.unique_keys.get("Alias").map(String::as_str),
                Some("heater")
            );
        }
        other => panic!("not an ObjectCreation: {other:?}"),
    }

    h.dm.delete_instance(&row).await.unwrap();
    let (to, msg) = h.next().await;
    assert_eq!(to, "ctl-b");
    let n = notify_of(&msg);
    assert_eq!(n.subscription_id, "od");
    assert_eq!(
        n.notification,
        Some(notify::Notification::ObjDeletion(notify::ObjectDeletion {
            obj_path: row
        }))
    );
    h.assert_quiet(5).await;
}

#[tokio::test(start_paused = true)]
async fn event_and_operation_complete_are_notified() {
    let mut h = harness().await;
    h.subscribe("ev", CTL_A, "Event", "Device.Thing.*.Alarm!", &[])
        .await;
    h.subscribe(
        "op",
        CTL_A,
        "OperationComplete",
        "Device.Thing.1.Reset()",
        &[],
    )
    .await;
    let _n = h.start().await;

    let mut args = Args::new();
    args.insert("Level".into(), "3".into());
    h.dm.emit_event("Device.Thing.2.", "Alarm!", args).unwrap();
    let (to, msg) = h.next().await;
    assert_eq!(to, "ctl-a");
    let n = notify_of(&msg);
    assert_eq!(n.subscription_id, "ev");
    let e = event(n);
    assert_eq!(
        (e.obj_path.as_str(), e.event_name.as_str()),
        ("Device.Thing.2.", "Alarm!")
    );
    assert_eq!(e.params.get("Level").map(String::as_str), Some("3"));

    // Reset() of Thing 2 is not referenced; of Thing 1 is.
    h.dm.emit_operation_complete("Device.Thing.2.", "Reset()", "k2", Ok(Args::new()));
    h.dm.emit_operation_complete("Device.Thing.1.", "Reset()", "k1", Ok(Args::new()));
    let (_, msg) = h.next().await;
    let n = notify_of(&msg);
    assert_eq!(n.subscription_id, "op");
    match &n.notification {
        Some(notify::Notification::OperComplete(oc)) => {
            assert_eq!(
                (
                    oc.obj_path.as_str(),
                    oc.command_name.as_str(),
                    oc.command_key.as_str()
                ),
                ("Device.Thing.1.", "Reset()", "k1")
            );
            assert!(matches!(
                oc.operation_resp,
                Some(notify::operation_complete::OperationResp::ReqOutputArgs(_))
            ));
        }
        other => panic!("not an OperationComplete: {other:?}"),
    }
    h.assert_quiet(5).await;
}

#[tokio::test(start_paused = true)]
async fn search_expression_reference_matches_only_matching_rows() {
    let mut h = harness().await;
    h.subscribe(
        "search",
        CTL_A,
        "ValueChange",
        r#"Device.Thing.[Name=="lamp"].Status"#,
        &[],
    )
    .await;
    let _n = h.start().await;

    set(&h.dm, "Device.Thing.2.Status", "On").await; // the fan: not matched
    set(&h.dm, "Device.Thing.1.Status", "On").await;
    let (_, msg) = h.next().await;
    assert_eq!(
        value_change(notify_of(&msg)),
        ("Device.Thing.1.Status", "On")
    );
    h.assert_quiet(5).await;
}

#[tokio::test(start_paused = true)]
async fn disabled_subscription_sends_nothing_until_enabled() {
    let mut h = harness().await;
    let sub = h
        .subscribe(
            "off",
            CTL_A,
            "ValueChange",
            "Device.Thing.",
            &[("Enable", "false")],
        )
        .await;
    let _n = h.start().await;

    set(&h.dm, "Device.Thing.1.Name", "desk lamp").await;
    h.assert_quiet(5).await;

    set(&h.dm, &format!("{sub}Enable"), "true").await;
    set(&h.dm, "Device.Thing.1.Name", "lamp").await;
    let (_, msg) = h.next().await;
    assert_eq!(
        value_change(notify_of(&msg)),
        ("Device.Thing.1.Name", "lamp")
    );
}

#[tokio::test(start_paused = true)]
async fn changing_the_reference_list_takes_effect() {
    let mut h = harness().await;
    let sub = h
        .subscribe("moving", CTL_A, "ValueChange", "Device.Thing.1.Status", &[])
        .await;
    let _n = h.start().await;

    set(
        &h.dm,
        &format!("{sub}ReferenceList"),
        "Device.Thing.2.Status, Device.Nowhere.",
    )
    .await;
    set(&h.dm, "Device.Thing.1.Status", "On").await;
    set(&h.dm, "Device.Thing.2.Status", "On").await;
    let (_, msg) = h.next().await;
    assert_eq!(
        value_change(notify_of(&msg)),
        ("Device.Thing.2.Status", "On")
    );
    h.assert_quiet(5).await;
}

#[tokio::test(start_paused = true)]
async fn subscription_added_after_start_is_used_and_gets_a_creation_date() {
    let mut h = harness().await;
    let _n = h.start().await;
    let mut changes = h.dm.changes();
    let sub = h
        .subscribe("late", CTL_A, "ValueChange", "Device.Thing.1.Name", &[])
        .await;

    // The notifier fills in the unknown CreationDate.
    let creation_path = format!("{sub}CreationDate");
    loop {
        match changes.recv().await.as_deref() {
            Ok(Change::ValueChange { path, .. }) if *path == creation_path => break,
            Ok(_) => {}
            Err(e) => panic!("change stream: {e}"),
        }
    }
    let stored = h.dm.stored_value(&creation_path).unwrap();
    assert_ne!(stored, "0001-01-01T00:00:00Z");

    set(&h.dm, "Device.Thing.1.Name", "bulb").await;
    let (_, msg) = h.next().await;
    assert_eq!(notify_of(&msg).subscription_id, "late");
}

#[tokio::test(start_paused = true)]
async fn notif_retry_backs_off_and_stops_on_the_matching_notify_resp() {
    let mut h = harness().await;
    h.subscribe(
        "retry",
        CTL_A,
        "ValueChange",
        "Device.Thing.1.Status",
        &[("NotifRetry", "true")],
    )
    .await;
    let notifier = h.start().await;

    set(&h.dm, "Device.Thing.1.Status", "On").await;
    let (_, first) = h.next().await;
    let t0 = Instant::now();
    assert!(notify_of(&first).send_resp);
    let id = msg_id(&first);

    // TP-469 1.54: a retransmission after 5-10 s, the next 10-20 s after that.
    let (to, second) = h.next().await;
    let t1 = Instant::now();
    assert_eq!(to, "ctl-a");
    assert_eq!(second, first, "a retransmission is the same message");
    let waited = t1 - t0;
    assert!(
        waited >= Duration::from_secs(5) && waited <= Duration::from_secs(10),
        "{waited:?}"
    );
    let (_, third) = h.next().await;
    let waited = Instant::now() - t1;
    assert_eq!(msg_id(&third), id);
    assert!(
        waited >= Duration::from_secs(10) && waited <= Duration::from_secs(20),
        "{waited:?}"
    );

    // Wrong sender or wrong subscription: still retrying.
    let resp = usp::NotifyResp {
        subscription_id: "retry".into(),
    };
    notifier.notify_resp("ctl-b", &id, &resp);
    notifier.notify_resp(
        "ctl-a",
        &id,
        &usp::NotifyResp {
            subscription_id: "other".into(),
        },
    );
    let (_, fourth) = h.next().await;
    assert_eq!(msg_id(&fourth), id);

    // As the dispatcher hands it over: the whole NotifyResp Msg.
    notifier.notify_resp_msg("ctl-a", &usp_proto::builder::response(id.clone(), resp));
    h.assert_quiet(10_000).await;
    notifier.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn notify_that_could_not_be_handed_over_is_retried_later() {
    let mut h = harness().await;
    h.subscribe(
        "retry",
        CTL_A,
        "ValueChange",
        "Device.Thing.1.Status",
        &[("NotifRetry", "true")],
    )
    .await;
    h.subscribe("plain", CTL_B, "ValueChange", "Device.Thing.1.Status", &[])
        .await;
    let _n = h.start().await;

    h.link.down.store(true, Ordering::SeqCst);
    set(&h.dm, "Device.Thing.1.Status", "On").await;
    h.assert_quiet(4).await;
    h.link.down.store(false, Ordering::SeqCst);
    // Only the NotifRetry subscription's Notify comes again, 5-10 s after the attempt.
    let (to, msg) = h.next().await;
    assert_eq!(to, "ctl-a");
    let n = notify_of(&msg);
    assert!(n.send_resp);
    assert_eq!(value_change(n), ("Device.Thing.1.Status", "On"));
    // The next retransmission is 10-20 s away; the plain Notify is never resent.
    h.assert_quiet(9).await;
}

#[tokio::test(start_paused = true)]
async fn notif_retry_gives_up_at_notif_expiration() {
    let mut h = harness().await;
    h.subscribe(
        "expiring",
        CTL_A,
        "ValueChange",
        "Device.Thing.1.Status",
        &[("NotifRetry", "true"), ("NotifExpiration", "30")],
    )
    .await;
    let _n = h.start().await;

    set(&h.dm, "Device.Thing.1.Status", "On").await;
    let (_, first) = h.next().await;
    let t0 = Instant::now();
    let mut retransmissions = 0;
    while let Ok(Some((_, msg))) =
        tokio::time::timeout(Duration::from_secs(10_000), h.sent.recv()).await
    {
        assert_eq!(msg_id(&msg), msg_id(&first));
        assert!(
            Instant::now() - t0 <= Duration::from_secs(30),
            "retransmitted after expiry"
        );
        retransmissions += 1;
    }
    // Waits of 5-10 and 10-20 s fit in 30 s; the third (20-40 s) may or may not.
    assert!(
        (2..=3).contains(&retransmissions),
        "{retransmissions} retransmissions"
    );
}

#[tokio::test(start_paused = true)]
async fn unanswered_notifications_are_bounded_and_the_oldest_abandoned() {
    let mut h = harness().await;
    h.subscribe(
        "flood",
        CTL_A,
        "ValueChange",
        "Device.Thing.1.Status",
        &[("NotifRetry", "true")],
    )
    .await;
    let _n = h.start().await;
    let t0 = Instant::now();
    let mut first_ids = Vec::new();
    for i in 0..=MAX_PENDING {
        set(&h.dm, "Device.Thing.1.Status", &format!("s{i}")).await;
        let (_, msg) = h.next().await;
        first_ids.push(msg_id(&msg));
    }
    // Every first retransmission falls 5-10 s after its send; none of the second ones
    // (at least 15 s) before 11 s.
    let mut resent = std::collections::HashSet::new();
    while let Ok(Some((_, msg))) =
        tokio::time::timeout_at(t0 + Duration::from_secs(11), h.sent.recv()).await
    {
        assert!(
            resent.insert(msg_id(&msg)),
            "retransmitted twice before 11 s"
        );
    }
    assert_eq!(resent.len(), MAX_PENDING);
    assert!(!resent.contains(&first_ids[0]), "the oldest is abandoned");
    assert!(resent.contains(&first_ids[MAX_PENDING]));
}

#[tokio::test(start_paused = true)]
async fn time_to_live_deletes_the_subscription() {
    let h = harness().await;
    let sub = h
        .subscribe(
            "ttl",
            CTL_A,
            "ValueChange",
            "Device.Thing.",
            &[("TimeToLive", "60")],
        )
        .await;
    let mut changes = h.dm.changes();
    let t0 = Instant::now();
    let _n = h.start().await;
    loop {
        match changes.recv().await.as_deref() {
            Ok(Change::ObjectDeletion { path }) if *path == sub => break,
            Ok(_) => {}
            Err(e) => panic!("change stream: {e}"),
        }
    }
    let lived = Instant::now() - t0;
    assert!(
        lived >= Duration::from_secs(58) && lived <= Duration::from_secs(61),
        "{lived:?}"
    );
    assert!(h.dm.instance_numbers(SUBS).unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn deleting_a_controller_deletes_its_subscriptions() {
    let h = harness().await;
    let of_a = h.subscribe("a", CTL_A, "ValueChange", "Device.", &[]).await;
    let of_b = h.subscribe("b", CTL_B, "ValueChange", "Device.", &[]).await;
    let _n = h.start().await;
    let mut changes = h.dm.changes();
    h.dm.delete_instance(CTL_B).await.unwrap();
    loop {
        match changes.recv().await.as_deref() {
            Ok(Change::ObjectDeletion { path }) if *path == of_b => break,
            Ok(_) => {}
            Err(e) => panic!("change stream: {e}"),
        }
    }
    let left: Vec<String> =
        h.dm.instance_numbers(SUBS)
            .unwrap()
            .into_iter()
            .map(|i| format!("{SUBS}{i}."))
            .collect();
    assert_eq!(left, [of_a]);
}

#[tokio::test(start_paused = true)]
async fn boot_event_carries_the_recipients_boot_parameters() {
    let mut h = harness().await;
    for (name, enable) in [
        ("Device.Thing.*.Name", "true"),
        ("Device.Thing.1.Status", "false"),
    ] {
        h.dm.create_instance(
            &format!("{CTL_A}BootParameter."),
            None,
            text(&[("Enable", enable), ("ParameterName", name)]),
        )
        .await
        .unwrap();
    }
    h.subscribe("boot-a", CTL_A, "Event", "Device.Boot!", &[])
        .await;
    h.subscribe("all-b", CTL_B, "Event", "Device.", &[]).await;
    h.subscribe("vc", CTL_B, "ValueChange", "Device.", &[])
        .await;
    let _n = h.start_with(BootInfo::new(true)).await;

    let mut by_controller = std::collections::BTreeMap::new();
    for _ in 0..2 {
        let (to, msg) = h.next().await;
        by_controller.insert(to, msg);
    }
    let a = notify_of(&by_controller["ctl-a"]);
    assert_eq!(a.subscription_id, "boot-a");
    let e = event(a);
    assert_eq!(
        (e.obj_path.as_str(), e.event_name.as_str()),
        ("Device.", "Boot!")
    );
    let arg = |k: &str| e.params.get(k).map(String::as_str);
    assert_eq!(arg("Cause"), Some(BootCause::LocalFactoryReset.as_str()));
    assert_eq!(arg("CommandKey"), Some(""));
    assert_eq!(arg("FirmwareUpdated"), Some("false"));
    let map: serde_json::Value = serde_json::from_str(arg("ParameterMap").unwrap_or("")).unwrap();
    assert_eq!(
        map,
        serde_json::json!({"Device.Thing.1.Name": "lamp", "Device.Thing.2.Name": "fan"})
    );

    let b = notify_of(&by_controller["ctl-b"]);
    assert_eq!(b.subscription_id, "all-b");
    assert_eq!(
        event(b).params.get("ParameterMap").map(String::as_str),
        Some("{}")
    );
    // Boot! also went onto the data model, but is not sent a second time.
    h.assert_quiet(5).await;
}

#[tokio::test(start_paused = true)]
async fn non_persistent_subscriptions_are_removed_at_start() {
    let h = harness().await;
    let kept = h
        .subscribe("kept", CTL_A, "ValueChange", "Device.", &[])
        .await;
    let gone = h
        .subscribe(
            "gone",
            CTL_A,
            "ValueChange",
            "Device.",
            &[("Persistent", "false")],
        )
        .await;
    let _n = h.start().await;
    let rows: Vec<String> =
        h.dm.instance_numbers(SUBS)
            .unwrap()
            .into_iter()
            .map(|i| format!("{SUBS}{i}."))
            .collect();
    assert_eq!(rows, [kept]);
    assert_ne!(rows, [gone]);
}

#[tokio::test(start_paused = true)]
async fn periodic_event_is_sent_every_interval_to_its_controller() {
    let mut h = harness().await;
    set(&h.dm, &format!("{CTL_A}PeriodicNotifInterval"), "60").await;
    h.subscribe("tick", CTL_A, "Event", "Device.Periodic!", &[])
        .await;
    let t0 = Instant::now();
    let _n = h.start().await;
    for k in 1..=2u64 {
        let (to, msg) = h.next().await;
        assert_eq!(to, "ctl-a");
        let n = notify_of(&msg);
        assert_eq!(n.subscription_id, "tick");
        assert_eq!(event(n).event_name, "Periodic!");
        assert_eq!(Instant::now() - t0, Duration::from_secs(60 * k));
    }
}

#[tokio::test(start_paused = true)]
async fn periodic_notif_time_sets_the_phase() {
    let mut h = harness().await;
    let reference =
        usp_datamodel::DateTime::from_unix(usp_datamodel::DateTime::now().unix_secs() + 30, 0);
    set(&h.dm, &format!("{CTL_A}PeriodicNotifInterval"), "600").await;
    set(
        &h.dm,
        &format!("{CTL_A}PeriodicNotifTime"),
        &reference.to_string(),
    )
    .await;
    h.subscribe("phase", CTL_A, "Event", "Device.Periodic!", &[])
        .await;
    let t0 = Instant::now();
    let _n = h.start().await;
    let (_, msg) = h.next().await;
    assert_eq!(notify_of(&msg).subscription_id, "phase");
    // 30 s ahead of the wall clock, give or take the second the test started in.
    let waited = Instant::now() - t0;
    assert!(
        waited >= Duration::from_secs(29) && waited <= Duration::from_secs(31),
        "{waited:?}"
    );
    let (_, _) = h.next().await;
    assert_eq!(Instant::now() - t0, waited + Duration::from_secs(600));
}

#[tokio::test(start_paused = true)]
async fn notifier_survives_falling_behind_the_change_stream() {
    let mut h = harness().await;
    let _n = h.start().await;
    // Far more changes than the stream holds, with the notifier given no chance to run.
    for _ in 0..usp_datamodel::change::CHANGE_CHANNEL_CAPACITY + 100 {
        h.dm.emit_event("Device.Thing.1.", "Alarm!", Args::new())
            .unwrap();
    }
    h.subscribe(
        "after-lag",
        CTL_A,
        "ValueChange",
        "Device.Thing.1.Name",
        &[],
    )
    .await;
    set(&h.dm, "Device.Thing.1.Name", "still here").await;
    let (_, msg) = h.next().await;
    assert_eq!(notify_of(&msg).subscription_id, "after-lag");
    assert_eq!(
        value_change(notify_of(&msg)),
        ("Device.Thing.1.Name", "still here")
    );
}

#[tokio::test]
async fn after_a_restart_only_persistent_subscriptions_remain_and_get_boot() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usphub.redb");
    {
        let dm = DataModel::with_store(schema(), usp_datamodel::Store::open(&db).unwrap()).unwrap();
        dm.create_instance(
            "Device.LocalAgent.Controller.",
            None,
            text(&[("EndpointID", "ctl-a")]),
        )
        .await
        .unwrap();
        for (id, persistent) in [("kept", "true"), ("gone", "false")] {
            let values = text(&[
                ("Enable", "true"),
                ("ID", id),
                ("Recipient", CTL_A),
                ("NotifType", "Event"),
                ("ReferenceList", "Device.Boot!"),
                ("Persistent", persistent),
            ]);
            dm.create_instance(SUBS, None, values).await.unwrap();
        }
    }

    // The restart: the same store, a new data model and notifier.
    let dm = DataModel::with_store(schema(), usp_datamodel::Store::open(&db).unwrap()).unwrap();
    assert_eq!(dm.instance_numbers(SUBS).unwrap().len(), 2);
    let (tx, mut sent) = mpsc::unbounded_channel();
    let notifier = Notifier::start(
        dm.clone(),
        "proto::agent",
        Arc::new(FakeLink::new(tx)),
        BootInfo::default(),
    )
    .await;
    assert_eq!(dm.instance_numbers(SUBS).unwrap(), [1]);
    assert_eq!(dm.stored_value(&format!("{SUBS}1.ID")).unwrap(), "kept");

    // Start returns once Boot! is handed over: exactly one, to the kept subscription.
    let (to, msg) = sent.try_recv().unwrap();
    assert_eq!(
        (to.as_str(), notify_of(&msg).subscription_id.as_str()),
        ("ctl-a", "kept")
    );
    assert_eq!(
        event(notify_of(&msg))
            .params
            .get("Cause")
            .map(String::as_str),
        Some("LocalReboot")
    );
    assert!(sent.try_recv().is_err());
    notifier.shutdown().await;
}
