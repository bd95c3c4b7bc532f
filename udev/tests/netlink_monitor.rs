//! The udev monitor on a real netlink socket, fed by datagrams in udevd's format. Multicasting
//! on the uevent family reaches every listener of the network namespace (a desktop's
//! ModemManager would probe the fake port), so the first test re-runs the second one inside a
//! new user + network namespace (`unshare -rn`, no privilege needed), where this test is the
//! only sender and the only listener.

mod common;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use common::*;
use usphub_udev::netlink::Uevent;
use usphub_udev::{HotplugEvent, HotplugSource, UdevMonitor};

const WAIT: Duration = Duration::from_secs(20);
const INNER: &str = "events_from_the_udev_group_become_hotplug_events_and_overruns_rescan";

#[test]
fn udev_monitor_follows_netlink_uevents_in_a_private_namespace() {
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = std::process::Command::new("unshare")
        .arg("-rn")
        .arg(&exe)
        .args(["--ignored", "--exact", "--nocapture", INNER])
        .output()
        .expect("unshare (util-linux) runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "inner test failed ({:?})\n{stdout}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    // A filter that matched nothing would also exit 0.
    assert!(
        stdout.contains("1 passed"),
        "the inner test did not run:\n{stdout}"
    );
}

/// A sender on the uevent family, as udevd is.
struct Udevd(OwnedFd);

impl Udevd {
    fn new() -> Udevd {
        // SAFETY: plain socket(2); owned right away.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_KOBJECT_UEVENT,
            )
        };
        assert!(raw >= 0, "{}", std::io::Error::last_os_error());
        // SAFETY: a fresh descriptor.
        Udevd(unsafe { OwnedFd::from_raw_fd(raw) })
    }

    fn send(&self, datagram: &[u8]) {
        // SAFETY: zeroed sockaddr_nl is valid; pointers and lengths match.
        let rc = unsafe {
            let mut to: libc::sockaddr_nl = std::mem::zeroed();
            to.nl_family = libc::AF_NETLINK as libc::sa_family_t;
            to.nl_groups = 2;
            libc::sendto(
                self.0.as_raw_fd(),
                datagram.as_ptr().cast(),
                datagram.len(),
                0,
                (&to as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        assert!(rc >= 0, "{}", std::io::Error::last_os_error());
    }

    fn tty(&self, action: &str, name: &str) {
        let devpath = format!("/devices/pci0000:00/usb1/1-1/1-1:1.0/{name}/tty/{name}");
        self.send(&Uevent::encode_udev(&[
            ("ACTION", action),
            ("DEVPATH", &devpath),
            ("SUBSYSTEM", "tty"),
            ("DEVNAME", &format!("/dev/{name}")),
        ]));
    }
}

async fn next(monitor: &mut UdevMonitor) -> HotplugEvent {
    tokio::time::timeout(WAIT, monitor.next_event())
        .await
        .expect("a hot-plug event")
        .expect("the monitor keeps running")
}

#[tokio::test]
#[ignore = "run inside a private network namespace by the test above"]
async fn events_from_the_udev_group_become_hotplug_events_and_overruns_rescan() {
    let fake = FakeSys::new();
    let mut monitor = UdevMonitor::start(fake.roots.clone())
        .await
        .expect("netlink uevent socket");
    let udevd = Udevd::new();

    // Garbage, another subsystem, a tty that is not on USB: all skipped; the USB stick is not.
    udevd.send(b"libudev\0garbage");
    udevd.send(b"add@/devices/virtual/tty/tty9\0ACTION=add\0");
    udevd.send(&Uevent::encode_udev(&[
        ("ACTION", "add"),
        ("DEVPATH", "/devices/virtual/net/dummy0"),
        ("SUBSYSTEM", "net"),
    ]));
    fake.add_platform_port("ttyS4");
    udevd.tty("add", "ttyS4");
    fake.add_usb_port("ttyUSB0", &sonoff_p());
    udevd.tty("add", "ttyUSB0");
    match next(&mut monitor).await {
        HotplugEvent::Added(info) => {
            assert_eq!(info.name, "ttyUSB0");
            assert_eq!(info.usb.map(|u| (u.vid, u.pid)), Some((0x10c4, 0xea60)));
        }
        other => panic!("expected the stick's add, got {other:?}"),
    }
    udevd.tty("change", "ttyUSB0");
    udevd.tty("remove", "ttyUSB0");
    assert_eq!(
        next(&mut monitor).await,
        HotplugEvent::Removed {
            name: "ttyUSB0".into()
        }
    );

    // The stick comes back, then, while nobody reads, a flood overruns the socket: the stick
    // goes and another arrives unseen. The rescan reports both.
    udevd.tty("add", "ttyUSB0");
    assert!(matches!(next(&mut monitor).await, HotplugEvent::Added(i) if i.name == "ttyUSB0"));
    for _ in 0..4000 {
        udevd.tty("change", "ttyUSB7");
    }
    std::fs::remove_dir_all(fake.roots.sys.join("class/tty/ttyUSB0")).unwrap();
    fake.add_usb_port("ttyACM0", &zstick_gen5());
    let mut seen = Vec::new();
    while seen.len() < 2 {
        seen.push(next(&mut monitor).await);
    }
    assert_eq!(
        seen[0],
        HotplugEvent::Removed {
            name: "ttyUSB0".into()
        }
    );
    assert!(
        matches!(&seen[1], HotplugEvent::Added(i) if i.name == "ttyACM0"),
        "{seen:?}"
    );
}
