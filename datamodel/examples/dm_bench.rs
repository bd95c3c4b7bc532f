//! Data model benchmark: 1,000 proxied devices × 8 capabilities (the issue's fixture).
//!
//! Run: `cargo run --release -p usp-datamodel --example dm_bench [-- DEVICES CAPS]`
//!
//! Prints: build time, parameter and object counts, heap bytes and RSS of the tree,
//! wildcard and search resolution, a full Get of `Device.ProxiedDevice.`, a single
//! parameter Get, one in-process value report, and mount+unmount of one device. No
//! assertions: figures only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use usp_datamodel::{Unmount, fixture};

/// Counts live heap bytes so the tree's own size can be reported exactly.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: delegates every call to the system allocator and only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: ptr was allocated by System with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Runs `f` `n` times; returns (median, min) per call.
async fn time<F, Fut>(n: usize, mut f: F) -> (Duration, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f().await;
        samples.push(t.elapsed());
    }
    samples.sort();
    (samples[n / 2], samples[0])
}

fn us(d: Duration) -> String {
    format!("{:.2} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let devices = args.first().copied().unwrap_or(1000);
    let caps = args.get(1).copied().unwrap_or(8);

    let rss0 = rss_kib();
    let heap0 = LIVE.load(Ordering::Relaxed);
    let t = Instant::now();
    let dm = fixture::proxied_devices(devices, caps)
        .await
        .expect("fixture builds");
    let build = t.elapsed();
    let heap = LIVE.load(Ordering::Relaxed) - heap0;
    let rss = rss_kib().saturating_sub(rss0);

    let full = dm.get(&["Device.ProxiedDevice."], 0).await;
    let objects = full[0].as_ref().expect("full get").len();
    let params: usize = full[0]
        .as_ref()
        .expect("full get")
        .iter()
        .map(|o| o.params.len())
        .sum();
    drop(full);
    println!("fixture: {devices} devices x {caps} capabilities");
    println!("  build (mount all)           {}", ms(build));
    println!("  object instances            {}", dm.object_count());
    println!("  parameters under ProxiedDevice  {params} in {objects} objects");
    println!("  tree heap                   {:.2} MB", heap as f64 / 1e6);
    println!(
        "  tree RSS growth             {:.2} MB",
        rss as f64 / 1024.0
    );

    let wildcard = "Device.ProxiedDevice.*.IoTCapability.*.LevelSensor.Value";
    let n = dm.resolve(wildcard).expect("resolves").len();
    let (med, min) = time(50, || async {
        std::hint::black_box(dm.resolve(wildcard).expect("resolves"));
    })
    .await;
    println!(
        "resolve {wildcard}: {n} matches, median {} (min {})",
        ms(med),
        ms(min)
    );

    let search = r#"Device.ProxiedDevice.[ProxyProtocol=="ZigBee"&&Online==true].Name"#;
    let n = dm.resolve(search).expect("resolves").len();
    let (med, min) = time(200, || async {
        std::hint::black_box(dm.resolve(search).expect("resolves"));
    })
    .await;
    println!(
        "resolve {search}: {n} matches, median {} (min {})",
        us(med),
        us(min)
    );

    let (med, min) = time(30, || async {
        std::hint::black_box(dm.get(&["Device.ProxiedDevice."], 0).await);
    })
    .await;
    println!(
        "get Device.ProxiedDevice. ({params} params): median {} (min {})",
        ms(med),
        ms(min)
    );

    let one = [format!(
        "Device.ProxiedDevice.{}.IoTCapability.3.BinarySensor.Value",
        devices / 2 + 1
    )];
    let (med, min) = time(20_000, || async {
        std::hint::black_box(dm.get(&one, 0).await);
    })
    .await;
    println!("get {}: median {} (min {})", one[0], us(med), us(min));

    // A radio report: one value written in-process, its ValueChange published.
    let mut rx = dm.changes();
    let target = format!(
        "Device.ProxiedDevice.{}.IoTCapability.1.LevelSensor.",
        devices / 2 + 1
    );
    let mut v = 0i64;
    let (med, min) = time(20_000, || {
        v += 1;
        let value = usp_datamodel::Value::Decimal(
            usp_datamodel::Decimal::new(v, 2).unwrap_or(usp_datamodel::Decimal::ZERO),
        );
        let (dm, target) = (dm.clone(), target.clone());
        async move {
            dm.set_values(&target, vec![("Value".to_string(), value.into())])
                .await
                .expect("report");
        }
    })
    .await;
    while rx.try_recv().is_ok() {}
    println!(
        "report one sensor value (set_values + ValueChange): median {} (min {})",
        us(med),
        us(min)
    );

    let mut i = 0usize;
    let (med, min) = time(200, || {
        i += 1;
        let dm = dm.clone();
        async move {
            let p = dm
                .mount(
                    "Device.ProxiedDevice.",
                    None,
                    fixture::device(devices + i, caps),
                )
                .await
                .expect("mount");
            dm.unmount(&p, Unmount::Purge).await.expect("unmount");
        }
    })
    .await;
    println!(
        "mount + unmount one device ({caps} capabilities): median {} (min {})",
        us(med),
        us(min)
    );
}
