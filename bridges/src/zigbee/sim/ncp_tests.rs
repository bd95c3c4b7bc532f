//! The devices' network state and timed events shared by the simulated coordinators.

use std::time::Duration;

use super::Scenario;
use super::ncp::{Out, SimDevice, Timed, joins_on_permit, network_schedule};

fn devices() -> Vec<SimDevice> {
    let scenario = Scenario::parse(
        r#"
        [[device]]
        preset = "plug"
        ieee = "00124b0000000001"
        join = "paired"
        leave_after_ms = 500
        [[device]]
        preset = "temperature_humidity"
        ieee = "00124b0000000002"
        silent_after_ms = 900
        [[device.report]]
        after_ms = 100
        every_ms = 5
        endpoint = 1
        cluster = 0x0402
        attribute = 0
        value = 2150
        [[device]]
        preset = "dimmable_bulb"
        ieee = "00124b0000000003"
        "#,
    )
    .unwrap();
    scenario.devices.into_iter().map(SimDevice::from).collect()
}

fn later(out: &[Out<()>]) -> Vec<(Duration, Timed)> {
    out.iter()
        .filter_map(|o| match o {
            Out::Later(after, t) => Some((*after, *t)),
            Out::Frame(()) => None,
        })
        .collect()
}

#[test]
fn a_permit_schedules_the_waiting_devices_30_ms_apart_and_skips_joined_ones() {
    let ms = Duration::from_millis;
    assert_eq!(
        later(&joins_on_permit(&devices())),
        [(ms(20), Timed::Join(1)), (ms(50), Timed::Join(2))]
    );
}

#[test]
fn a_running_network_schedules_only_what_joined_devices_do() {
    let mut d = devices();
    let ms = Duration::from_millis;
    assert_eq!(later(&network_schedule(&d)), [(ms(500), Timed::Leave(0))]);
    d[1].joined = true;
    let report = Timed::Report {
        device: 1,
        report: 0,
    };
    assert_eq!(
        later(&network_schedule(&d)),
        [
            (ms(500), Timed::Leave(0)),
            (ms(100), report),
            (ms(900), Timed::Silent(1))
        ]
    );
}

#[test]
fn a_scripted_report_is_sent_only_by_a_joined_answering_device_and_repeats_at_least_10_ms_apart() {
    let mut d = devices();
    assert_eq!(d[1].scripted_report(0), None);
    d[1].joined = true;
    let (msg, again) = d[1].scripted_report(0).unwrap();
    assert_eq!(msg.map(|m| m.cluster), Some(0x0402));
    assert_eq!(again, Some(Duration::from_millis(10)));
    assert_eq!(d[1].scripted_report(1), None);
    d[1].device.responsive = false;
    assert_eq!(d[1].scripted_report(0), None);
}
