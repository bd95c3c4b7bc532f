//! The BLE bridge end to end through btleplug's real BlueZ code path, against a stand-in for
//! BlueZ (`bluez_standin.py`) on a private D-Bus daemon named by `DBUS_SYSTEM_BUS_ADDRESS`.
//!
//! Needs Debian's `dbus` (dbus-daemon) and `python3-dbusmock` (which brings python3-dbus and
//! python3-gi); `scripts/setup` installs them. One test per binary: the bus address is
//! process-wide.

mod ble_common;

use std::time::Duration;

use ble_common::{BTHOME, Bus, MIBEACON, StandIn, WAIT, hex, next, value_of};
use usphub_bridges::api::{BridgeEvent, Value};
use usphub_bridges::ble::{self, BleSettings, registry::BleDeviceConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bthome_mibeacon_and_gatt_sensors_pair_and_report_through_btleplug() {
    let bus = Bus::start().await;
    let mibeacon_addr = "A4:C1:38:02:83:F4";
    let settings = BleSettings {
        devices: vec![
            BleDeviceConfig {
                address: mibeacon_addr.parse().unwrap(),
                bind_key: Some("e9ea895fac7cca6d30532432a516f3a8".parse().unwrap()),
                gatt: false,
            },
            BleDeviceConfig {
                address: "C4:7C:8D:6B:4F:F3".parse().unwrap(),
                bind_key: None,
                gatt: true,
            },
        ],
        availability_timeout_s: Some(2),
        ..BleSettings::default()
    };
    let (handle, task) = ble::start(&settings);
    let mut events = handle.subscribe();

    // No BlueZ on the bus yet: a retryable offline state with the reason, not a crash.
    let offline = next(&mut events, "adapter offline", |e| {
        matches!(e, BridgeEvent::RadioState { online: false, .. })
    })
    .await;
    let BridgeEvent::RadioState { detail, .. } = offline else {
        unreachable!()
    };
    assert!(
        detail.contains("adapter") && detail.contains("retrying"),
        "{detail}"
    );
    let mut standin = StandIn::start(bus).await;
    next(&mut events, "adapter online", |e| {
        matches!(e, BridgeEvent::RadioState { online: true, .. })
    })
    .await;
    standin.expect_line("DISCOVERING").await;

    // An unknown BTHome sensor is not mounted until joining is permitted.
    let bthome_addr = "A4:C1:38:8D:18:B2";
    standin
        .advert(bthome_addr, "ATC_8D18B2", BTHOME, "4002ca0903bf13")
        .await;
    handle.permit_join(Duration::from_secs(60)).await.unwrap();
    standin
        .advert(bthome_addr, "ATC_8D18B2", BTHOME, "4002ca0903bf13")
        .await;
    let joined = next(&mut events, "join", |e| {
        matches!(e, BridgeEvent::DeviceJoined(_))
    })
    .await;
    let BridgeEvent::DeviceJoined(d) = joined else {
        unreachable!()
    };
    assert_eq!(d.id.to_string(), format!("ble:{bthome_addr}"));
    assert_eq!(d.model, "ATC_8D18B2");
    let v = next(&mut events, "temperature", |e| {
        matches!(e, BridgeEvent::Value { .. })
    })
    .await;
    assert_eq!(value_of(&v), ("temperature".into(), "25.06".into()));

    // Malformed service data is rejected without harm; the next good advert still reports.
    standin
        .advert(bthome_addr, "ATC_8D18B2", BTHOME, "4102")
        .await;
    standin
        .advert(bthome_addr, "ATC_8D18B2", BTHOME, "4002d209")
        .await;
    let v = next(&mut events, "new temperature", |e| {
        matches!(e, BridgeEvent::Value { capability, .. } if capability.as_str() == "temperature")
    })
    .await;
    assert_eq!(value_of(&v).1, "25.14");

    // A configured, encrypted MiBeacon sensor (real LYWSD03MMC frame) joins by itself.
    standin
        .advert(
            mibeacon_addr,
            "LYWSD03MMC",
            MIBEACON,
            "58585b0550f4830238c1a495ef58763c26000097e2abb5",
        )
        .await;
    let joined = next(
        &mut events,
        "MiBeacon join",
        |e| matches!(e, BridgeEvent::DeviceJoined(d) if d.model == "LYWSD03MMC"),
    )
    .await;
    let BridgeEvent::DeviceJoined(d) = joined else {
        unreachable!()
    };
    assert_eq!(d.manufacturer, "Xiaomi");
    let v = next(&mut events, "humidity", |e| {
        matches!(e, BridgeEvent::Value { value: Value::Decimal(_), capability, .. } if capability.as_str() == "humidity")
    })
    .await;
    assert_eq!(value_of(&v).1, "46.7");

    // A configured GATT sensor: connected, read (DIS, Battery, ESS), then notified.
    let gatt_addr = "C4:7C:8D:6B:4F:F3";
    standin
        .send(format!(
            r#"{{"advert":"{gatt_addr}","name":"EnvSensor","gatt":{{"2a29":{{"value":"{}"}},"2a24":{{"value":"{}"}},"2a26":{{"value":"{}"}},"2a19":{{"value":"57"}},"2a6e":{{"value":"6c08","notify":true}},"2a6f":{{"value":"8813"}}}}}}"#,
            hex(b"Acme"),
            hex(b"EnvSensor 2"),
            hex(b"1.2.3")
        ))
        .await;
    let joined = next(&mut events, "GATT join", |e| {
        matches!(e, BridgeEvent::DeviceJoined(d) if d.id.to_string() == format!("ble:{gatt_addr}"))
    })
    .await;
    let BridgeEvent::DeviceJoined(d) = joined else {
        unreachable!()
    };
    assert_eq!(
        (
            d.manufacturer.as_str(),
            d.model.as_str(),
            d.firmware.as_str()
        ),
        ("Acme", "EnvSensor 2", "1.2.3")
    );
    let mut read = Vec::new();
    while read.len() < 3 {
        let v = next(&mut events, "GATT values", |e| matches!(e, BridgeEvent::Value { id, .. } if id.to_string() == format!("ble:{gatt_addr}"))).await;
        read.push(value_of(&v));
    }
    read.sort();
    assert_eq!(
        read,
        [
            ("battery".into(), "87".into()),
            ("humidity".into(), "50".into()),
            ("temperature".into(), "21.56".into())
        ]
    );
    standin.expect_line("NOTIFYING 2a6e").await;
    standin
        .send(format!(
            r#"{{"notify":"{gatt_addr}","char":"2a6e","value":"7008"}}"#
        ))
        .await;
    let v = next(&mut events, "notified temperature", |e| {
        matches!(e, BridgeEvent::Value { capability, value, .. } if capability.as_str() == "temperature" && value.to_string() == "21.6")
    })
    .await;
    assert!(matches!(v, BridgeEvent::Value { .. }));

    // The link drops: the session notices, backs off and reconnects.
    standin.send(format!(r#"{{"drop":"{gatt_addr}"}}"#)).await;
    standin.expect_line("CONNECTED").await;
    standin.expect_line("NOTIFYING 2a6e").await;

    assert_eq!(handle.devices().await.unwrap().len(), 3);

    // Silent for longer than the availability timeout: offline.
    let offline = next(&mut events, "offline", |e| {
        matches!(e, BridgeEvent::Online { online: false, .. })
    })
    .await;
    assert!(matches!(offline, BridgeEvent::Online { .. }));

    drop(handle);
    tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
}
