//! A realistic tree of proxied devices for benchmarks (this crate's `dm_bench`, the
//! agent's bench) and tests: `n` devices under `Device.ProxiedDevice.{i}.`, each with
//! `caps` capabilities cycling through TR-181 IoT classes with the XML's vocabulary
//! (`Temperature`/`degC`, `Humidity`/`%`, `Switch`, `MotionDetected`, ...).

use crate::error::DmResult;
use crate::model::DataModel;
use crate::mount::Subtree;
use crate::schema::{Schema, iot};
use crate::value::{DateTime, Decimal, Value};

/// The schema of the fixture: `Device.` with the IoT subtree.
pub fn schema() -> Schema {
    let mut b = Schema::builder();
    iot::declare(&mut b);
    // The IoT declaration is fixed and tested; a failure here is a bug in this crate.
    b.build().unwrap_or_else(|e| panic!("IoT schema: {e}"))
}

/// A data model with the fixture's schema and `devices` × `caps` mounted.
pub async fn proxied_devices(devices: usize, caps: usize) -> DmResult<DataModel> {
    let dm = DataModel::new(schema());
    populate(&dm, devices, caps).await?;
    Ok(dm)
}

/// Mounts `devices` devices with `caps` capabilities each into `dm` (whose schema
/// must contain [`iot::declare`]).
pub async fn populate(dm: &DataModel, devices: usize, caps: usize) -> DmResult<()> {
    for d in 0..devices {
        dm.mount("Device.ProxiedDevice.", None, device(d, caps))
            .await?;
    }
    Ok(())
}

/// The subtree of fixture device number `d` (0-based).
pub fn device(d: usize, caps: usize) -> Subtree {
    let zigbee = d % 3 != 2;
    let mut sub = Subtree::new()
        .param(
            "Type",
            if d.is_multiple_of(4) {
                "Light"
            } else {
                "Sensor"
            },
        )
        .param("Description", format!("fixture device {d}"))
        .param("Name", format!("Device {d}"))
        .param("Online", d % 5 != 4)
        .param(
            "LastTimeContacted",
            DateTime::from_unix(1_700_000_000 + d as i64, 0),
        )
        .param("ProxyProtocol", if zigbee { "ZigBee" } else { "Z-Wave" });
    for c in 0..caps {
        sub = sub.child("IoTCapability", capability(d, c));
    }
    sub
}

fn dec(m: i64, scale: u8) -> Value {
    Value::Decimal(Decimal::new(m, scale).unwrap_or(Decimal::ZERO))
}

fn capability(d: usize, c: usize) -> Subtree {
    let t = DateTime::from_unix(1_700_000_000 + (d * 8 + c) as i64, 0);
    let (class, detail) = match c % 8 {
        0 => (
            "LevelSensor",
            Subtree::new()
                .param("Type", "Temperature")
                .param("Value", dec(2150 + (d % 50) as i64, 2))
                .param("Unit", "degC")
                .param("LastChange", t),
        ),
        1 => (
            "LevelSensor",
            Subtree::new()
                .param("Type", "Humidity")
                .param("Value", dec(40 + (d % 30) as i64, 0))
                .param("Unit", "%")
                .param("LastChange", t),
        ),
        2 => (
            "BinarySensor",
            Subtree::new()
                .param("Type", "MotionDetected")
                .param("Value", d.is_multiple_of(2))
                .param("LastChange", t),
        ),
        3 => (
            "BinaryControl",
            Subtree::new()
                .param("Type", "Switch")
                .param("Value", d % 2 == 1),
        ),
        4 => (
            "LevelControl",
            Subtree::new()
                .param("Type", "Brightness")
                .param("Value", dec(50, 0))
                .param("Unit", "%")
                .param("MinValue", dec(0, 0))
                .param("MaxValue", dec(100, 0))
                .param("StepValue", dec(10, 0)),
        ),
        5 => (
            "LevelSensor",
            Subtree::new()
                .param("Type", "Battery")
                .param("Value", dec(95 - (d % 40) as i64, 0))
                .param("Unit", "%")
                .param("LowLevel", false)
                .param("LowLevelThreshold", dec(15, 0)),
        ),
        6 => (
            "EnumSensor",
            Subtree::new()
                .param("Type", "DoorState")
                .param("Value", "Closed")
                .param_str("ValidValues", "Open,Closed"),
        ),
        _ => (
            "LevelSensor",
            Subtree::new()
                .param("Type", "Power")
                .param("Value", dec(120 + (d % 7) as i64, 1))
                .param("Unit", "W")
                .param("LastChange", t),
        ),
    };
    Subtree::new()
        .param("Name", format!("{class}-{c}"))
        .param("Class", class)
        .child(class, detail)
}
