//! Lists the USB serial ports and what they are, like `usphub dongles` will.
//!
//! ```text
//! cargo run -p usphub-udev --example dongles                 # table only, opens nothing
//! cargo run -p usphub-udev --example dongles -- --probe      # probe ambiguous sticks
//! cargo run -p usphub-udev --example dongles -- tcp://192.0.2.7:6638   # probe a network port
//! cargo run -p usphub-udev --example dongles -- --monitor    # then follow hot-plug
//! ```

use usphub_udev::{
    DongleChange, DongleTracker, HotplugSource, Identified, ProbeConfig, ProbeMode, SysRoots,
    identify_spec,
};

fn line(id: &Identified) -> String {
    let usb = id
        .usb
        .as_ref()
        .map(|u| {
            format!(
                "{} serial={}",
                u.id_string(),
                u.serial.as_deref().unwrap_or("-")
            )
        })
        .unwrap_or_else(|| "-".into());
    format!(
        "{:<14} {:<7} {:<8} {:<40} {usb} by-id={} evidence={:?}",
        id.path,
        id.kind.as_str(),
        id.firmware.as_str(),
        id.product.unwrap_or("-"),
        id.by_id
            .as_ref()
            .map_or("-".into(), |p| p.display().to_string()),
        id.evidence
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = if args.iter().any(|a| a == "--probe") {
        ProbeMode::WhenAmbiguous
    } else {
        ProbeMode::Never
    };
    let config = ProbeConfig::default();
    for spec in args.iter().filter(|a| !a.starts_with("--")) {
        println!("{}", line(&identify_spec(&spec.parse()?, &config).await));
    }
    let mut tracker = DongleTracker::new(mode, config);
    for change in tracker.scan(&SysRoots::default()).await? {
        if let DongleChange::Appeared(id) = change {
            println!("{}", line(&id));
        }
    }
    if args.iter().any(|a| a == "--monitor") {
        let mut monitor = usphub_udev::UdevMonitor::start(SysRoots::default()).await?;
        println!("following hot-plug (Ctrl-C to stop)");
        let source: &mut dyn HotplugSource = &mut monitor;
        while let Some(change) = tracker.next_change(source).await {
            match change {
                DongleChange::Appeared(id) => println!("+ {}", line(&id)),
                DongleChange::Gone(id) => println!("- {}", line(&id)),
            }
        }
    }
    Ok(())
}
