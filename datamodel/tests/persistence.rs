//! Persistence in redb: persistent tables and parameters survive a restart with their
//! instance numbers and counters, a killed writer loses nothing it acknowledged, the
//! file is private, and unmounted devices keep their configuration.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use usp_datamodel::{
    AddObject, AddRequest, DataModel, DeleteRequest, ParamSetting, SetObject, SetRequest, Store,
    Unmount, fixture,
};

fn add_sub(id: &str) -> AddRequest {
    AddRequest {
        allow_partial: false,
        objects: vec![AddObject {
            obj_path: "Device.LocalAgent.Subscription.".into(),
            params: vec![
                ParamSetting::required("ID", id),
                ParamSetting::required("Enable", "true"),
                ParamSetting::required("ReferenceList", "Device.IP.Interface.,Device.NAT."),
                ParamSetting::required("Secret", "s3cret"),
            ],
        }],
    }
}

#[tokio::test]
async fn persistent_rows_values_and_counters_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dm.redb");
    {
        let dm = DataModel::with_store(common::schema(), Store::open(&db).unwrap()).unwrap();
        for id in ["a", "b", "c"] {
            dm.add(add_sub(id)).await.unwrap();
        }
        dm.delete(DeleteRequest {
            allow_partial: false,
            obj_paths: vec!["Device.LocalAgent.Subscription.3.".into()],
        })
        .await
        .unwrap();
        dm.set(SetRequest {
            allow_partial: false,
            objects: vec![SetObject {
                obj_path: "Device.LocalAgent.Subscription.2.".into(),
                params: vec![
                    ParamSetting::required("Enable", "false"),
                    ParamSetting::required("TimeToLive", "60"),
                ],
            }],
        })
        .await
        .unwrap();
        // Non-persistent data is not kept.
        common::fill(&dm).await;
    }
    let dm = DataModel::with_store(common::schema(), Store::open(&db).unwrap()).unwrap();
    assert_eq!(
        dm.instance_numbers("Device.LocalAgent.Subscription.")
            .unwrap(),
        [1, 2]
    );
    assert_eq!(
        dm.stored_value("Device.LocalAgent.Subscription.1.ID")
            .unwrap(),
        "a"
    );
    assert_eq!(
        dm.stored_value("Device.LocalAgent.Subscription.1.Alias")
            .unwrap(),
        "cpe-1"
    );
    assert_eq!(
        dm.stored_value("Device.LocalAgent.Subscription.2.Enable")
            .unwrap(),
        "false"
    );
    assert_eq!(
        dm.stored_value("Device.LocalAgent.Subscription.2.TimeToLive")
            .unwrap(),
        "60"
    );
    assert_eq!(
        dm.stored_value("Device.LocalAgent.Subscription.1.ReferenceList")
            .unwrap(),
        "Device.IP.Interface.,Device.NAT."
    );
    assert_eq!(
        dm.stored_typed("Device.LocalAgent.Subscription.1.Secret")
            .unwrap()
            .to_string(),
        "s3cret"
    );
    assert!(
        dm.instance_numbers("Device.IP.Interface.")
            .unwrap()
            .is_empty()
    );
    let r = dm.add(add_sub("d")).await.unwrap();
    assert_eq!(
        r[0].outcome.as_ref().unwrap().instantiated_path,
        "Device.LocalAgent.Subscription.4.",
        "the counter survived, 3 is not reused"
    );
}

#[cfg(unix)]
#[test]
fn the_database_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dm.redb");
    let _store = Store::open(&db).unwrap();
    let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn schema_version_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dm.redb");
    {
        let store = Store::open(&db).unwrap();
        assert_eq!(store.schema_version().unwrap(), None);
        store.set_schema_version("usphub-1").unwrap();
    }
    assert_eq!(
        Store::open(&db)
            .unwrap()
            .schema_version()
            .unwrap()
            .as_deref(),
        Some("usphub-1")
    );
}

#[test]
fn key_value_area_round_trips_by_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("dm.redb")).unwrap();
    store.kv_put("registry", "00:11", b"one").unwrap();
    store.kv_put("registry", "00:22", b"two").unwrap();
    store.kv_put("other", "x", b"x").unwrap();
    assert_eq!(
        store.kv_get("registry", "00:11").unwrap().as_deref(),
        Some(&b"one"[..])
    );
    let all = store.kv_list("registry").unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1], ("00:22".to_string(), b"two".to_vec()));
    store.kv_delete("registry", "00:11").unwrap();
    assert_eq!(store.kv_get("registry", "00:11").unwrap(), None);
    let store = std::sync::Arc::new(store);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(
        store
            .clone()
            .kv_put_async("registry".into(), "00:33".into(), b"three".to_vec()),
    )
    .unwrap();
    assert_eq!(
        store.kv_get("registry", "00:33").unwrap().as_deref(),
        Some(&b"three"[..])
    );
    rt.block_on(
        store
            .clone()
            .kv_delete_async("registry".into(), "00:33".into()),
    )
    .unwrap();
    assert_eq!(store.kv_get("registry", "00:33").unwrap(), None);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("junk.redb");
    std::fs::write(&db, vec![0x5a; 4096]).unwrap();
    assert!(Store::open(&db).is_err());
}

#[tokio::test]
async fn unmounted_devices_keep_their_configuration_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dm.redb");
    {
        let dm = DataModel::with_store(fixture::schema(), Store::open(&db).unwrap()).unwrap();
        dm.mount("Device.ProxiedDevice.", Some(3), fixture::device(0, 1))
            .await
            .unwrap();
        dm.set(SetRequest {
            allow_partial: false,
            objects: vec![SetObject {
                obj_path: "Device.ProxiedDevice.3.".into(),
                params: vec![ParamSetting::required("Name", "Hall sensor")],
            }],
        })
        .await
        .unwrap();
        dm.unmount("Device.ProxiedDevice.3.", Unmount::Retain)
            .await
            .unwrap();
        dm.mount("Device.ProxiedDevice.", Some(3), fixture::device(0, 1))
            .await
            .unwrap();
        assert_eq!(
            dm.stored_value("Device.ProxiedDevice.3.Name").unwrap(),
            "Hall sensor"
        );
        dm.unmount("Device.ProxiedDevice.3.", Unmount::Retain)
            .await
            .unwrap();
    }
    {
        let dm = DataModel::with_store(fixture::schema(), Store::open(&db).unwrap()).unwrap();
        assert!(
            dm.instance_numbers("Device.ProxiedDevice.")
                .unwrap()
                .is_empty(),
            "mounted rows are not restored"
        );
        dm.mount("Device.ProxiedDevice.", Some(3), fixture::device(0, 1))
            .await
            .unwrap();
        assert_eq!(
            dm.stored_value("Device.ProxiedDevice.3.Name").unwrap(),
            "Hall sensor"
        );
        assert_eq!(
            dm.stored_value("Device.ProxiedDevice.3.Alias").unwrap(),
            "cpe-3"
        );
        assert_eq!(
            dm.mount("Device.ProxiedDevice.", None, fixture::device(1, 0))
                .await
                .unwrap(),
            "Device.ProxiedDevice.4.",
            "the table's counter persisted"
        );
        dm.unmount("Device.ProxiedDevice.3.", Unmount::Purge)
            .await
            .unwrap();
    }
    let dm = DataModel::with_store(fixture::schema(), Store::open(&db).unwrap()).unwrap();
    dm.mount("Device.ProxiedDevice.", Some(3), fixture::device(0, 1))
        .await
        .unwrap();
    assert_eq!(
        dm.stored_value("Device.ProxiedDevice.3.Name").unwrap(),
        "Device 0",
        "purged for good"
    );
}

#[tokio::test]
async fn values_that_no_longer_fit_the_schema_are_dropped_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dm.redb");
    {
        let dm = DataModel::with_store(common::schema(), Store::open(&db).unwrap()).unwrap();
        dm.add(add_sub("a")).await.unwrap();
    }
    // A later version without the Subscription table still starts.
    let mut b = usp_datamodel::Schema::builder();
    b.object("Device.LocalAgent.", usp_datamodel::Obj::single());
    let dm = DataModel::with_store(b.build().unwrap(), Store::open(&db).unwrap()).unwrap();
    assert!(dm.resolve("Device.LocalAgent.Subscription.").is_err());
}

const CHILD_ENV: &str = "USP_DATAMODEL_CRASH_WRITER_DB";

/// The writer side of the crash test: runs only when the parent test re-executes this
/// binary with the database path in the environment; prints one line per
/// acknowledged Add and never exits on its own.
#[tokio::test]
async fn crash_writer_child() {
    let Ok(db) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dm = DataModel::with_store(common::schema(), Store::open(&db).unwrap()).unwrap();
    for i in 0.. {
        dm.add(add_sub(&format!("id-{i}"))).await.unwrap();
        println!("ACK {i}");
        use std::io::Write;
        std::io::stdout().flush().unwrap();
        if i >= 45 {
            // Stay alive (table is almost full) until killed.
            std::future::pending::<()>().await;
        }
    }
}

#[test]
fn a_killed_writer_loses_nothing_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dm.redb");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_writer_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut acked = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("ACK ") {
            acked.push(n.parse::<u32>().unwrap());
            if acked.len() == 20 {
                // Kill without any clean shutdown while writes are in flight.
                child.kill().unwrap();
                break;
            }
        }
    }
    for line in lines.map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("ACK ") {
            acked.push(n.parse().unwrap());
        }
    }
    child.wait().unwrap();
    assert!(
        acked.len() >= 20,
        "the writer acknowledged {} adds",
        acked.len()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dm = DataModel::with_store(common::schema(), Store::open(&db).unwrap()).unwrap();
    let ids = rt.block_on(dm.get(&["Device.LocalAgent.Subscription.*.ID"], 0));
    let ids: Vec<String> = ids[0]
        .as_ref()
        .unwrap()
        .iter()
        .map(|o| o.params[0].1.clone())
        .collect();
    for n in acked {
        assert!(
            ids.contains(&format!("id-{n}")),
            "acknowledged id-{n} lost; found {ids:?}"
        );
    }
}

#[tokio::test]
async fn optional_objects_inside_persistent_rows_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dm.redb");
    {
        let dm = DataModel::with_store(common::schema(), Store::open(&db).unwrap()).unwrap();
        dm.add(add_sub("a")).await.unwrap();
        dm.create_object("Device.LocalAgent.Subscription.1.X_USPHUB_Extra.")
            .await
            .unwrap();
        dm.set_value(
            "Device.LocalAgent.Subscription.1.X_USPHUB_Extra.Note",
            "kept",
        )
        .await
        .unwrap();
    }
    let dm = DataModel::with_store(common::schema(), Store::open(&db).unwrap()).unwrap();
    assert_eq!(
        dm.stored_value("Device.LocalAgent.Subscription.1.X_USPHUB_Extra.Note")
            .unwrap(),
        "kept"
    );
    dm.delete(DeleteRequest {
        allow_partial: false,
        obj_paths: vec!["Device.LocalAgent.Subscription.1.".into()],
    })
    .await
    .unwrap();
    drop(dm);
    let dm = DataModel::with_store(common::schema(), Store::open(&db).unwrap()).unwrap();
    assert!(
        dm.resolve("Device.LocalAgent.Subscription.1.X_USPHUB_Extra.")
            .is_err()
    );
}

#[tokio::test]
async fn rows_created_in_process_persist_their_sub_objects_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dm.redb");
    {
        let dm = DataModel::with_store(common::schema(), Store::open(&db).unwrap()).unwrap();
        let sub = usp_datamodel::Subtree::new()
            .param_str("ID", "in-process")
            .child(
                "X_USPHUB_Extra",
                usp_datamodel::Subtree::new().param_str("Note", "from mount"),
            );
        dm.mount("Device.LocalAgent.Subscription.", None, sub)
            .await
            .unwrap();
    }
    let dm = DataModel::with_store(common::schema(), Store::open(&db).unwrap()).unwrap();
    assert_eq!(
        dm.stored_value("Device.LocalAgent.Subscription.1.ID")
            .unwrap(),
        "in-process"
    );
    assert_eq!(
        dm.stored_value("Device.LocalAgent.Subscription.1.X_USPHUB_Extra.Note")
            .unwrap(),
        "from mount"
    );
    assert_eq!(
        dm.stored_value("Device.LocalAgent.Subscription.1.Enable")
            .unwrap(),
        "false"
    );
}

/// Random Adds, Sets and Deletes on a persistent table, then a restart: the table
/// reads back exactly as it was, and the counter continues.
#[tokio::test]
async fn random_edits_of_a_persistent_table_read_back_identically_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dm.redb");
    let mut seed: u64 = 7;
    let mut rnd = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let before = {
        let dm = DataModel::with_store(common::schema(), Store::open(&db).unwrap()).unwrap();
        for step in 0..120 {
            let rows = dm
                .instance_numbers("Device.LocalAgent.Subscription.")
                .unwrap();
            match rnd(4) {
                0 | 1 if rows.len() < 40 => {
                    dm.add(add_sub(&format!("s{step}"))).await.unwrap();
                }
                2 if !rows.is_empty() => {
                    let row = rows[rnd(rows.len() as u64) as usize];
                    let params = vec![
                        ParamSetting::required(
                            "Enable",
                            if rnd(2) == 0 { "true" } else { "false" },
                        ),
                        ParamSetting::required("TimeToLive", &rnd(86_400).to_string()),
                        ParamSetting::required(
                            "ReferenceList",
                            &format!("Device.IP.Interface.{}.", rnd(9)),
                        ),
                    ];
                    dm.set(SetRequest {
                        allow_partial: false,
                        objects: vec![SetObject {
                            obj_path: format!("Device.LocalAgent.Subscription.{row}."),
                            params,
                        }],
                    })
                    .await
                    .unwrap();
                }
                _ if !rows.is_empty() => {
                    let row = rows[rnd(rows.len() as u64) as usize];
                    dm.delete(DeleteRequest {
                        allow_partial: false,
                        obj_paths: vec![format!("Device.LocalAgent.Subscription.{row}.")],
                    })
                    .await
                    .unwrap();
                }
                _ => {}
            }
        }
        dm.get(&["Device.LocalAgent.Subscription."], 0)
            .await
            .remove(0)
            .unwrap()
    };
    let dm = DataModel::with_store(common::schema(), Store::open(&db).unwrap()).unwrap();
    let after = dm
        .get(&["Device.LocalAgent.Subscription."], 0)
        .await
        .remove(0)
        .unwrap();
    assert!(!before.is_empty());
    assert_eq!(before, after);
    let last = before
        .iter()
        .filter_map(|o| {
            o.path
                .strip_prefix("Device.LocalAgent.Subscription.")?
                .split('.')
                .next()?
                .parse::<u32>()
                .ok()
        })
        .max()
        .unwrap();
    let r = dm.add(add_sub("fresh")).await.unwrap();
    let n: u32 = r[0].outcome.as_ref().unwrap().instantiated_path
        ["Device.LocalAgent.Subscription.".len()..]
        .trim_end_matches('.')
        .parse()
        .unwrap();
    assert!(n > last, "instance {n} reuses a number at or below {last}");
}

#[tokio::test]
async fn options_choose_the_change_capacity_and_still_load_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dm.redb");
    {
        let dm = DataModel::with_store(common::schema(), Store::open(&db).unwrap()).unwrap();
        dm.add(add_sub("kept")).await.unwrap();
    }
    let dm = DataModel::with_options(common::schema(), Some(Store::open(&db).unwrap()), 2).unwrap();
    assert_eq!(
        dm.stored_value("Device.LocalAgent.Subscription.1.ID")
            .unwrap(),
        "kept"
    );
    let mut rx = dm.changes();
    for i in 0..3 {
        dm.set_value("Device.LocalAgent.EndpointID", format!("ep-{i}"))
            .await
            .unwrap();
    }
    assert!(
        matches!(
            rx.recv().await,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(1))
        ),
        "a receiver behind by more than the capacity lags"
    );
}
