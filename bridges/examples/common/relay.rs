//! A timestamping TCP relay for the radio benches: the bench's simulator on one side, the
//! bridge on the other; the instant of each write towards the bridge is kept, so latency
//! can be measured from the moment bytes are on the bridge's port.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Relays one connection between the bridge and the simulator on two threads; every write
/// towards the bridge is timestamped (the returned instant) just before the bytes go out.
pub fn relay(sim: std::net::SocketAddr) -> std::io::Result<(u16, Arc<Mutex<Instant>>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let last = Arc::new(Mutex::new(Instant::now()));
    let stamp = last.clone();
    std::thread::spawn(move || {
        let Ok((bridge, _)) = listener.accept() else {
            return;
        };
        let Ok(upstream) = TcpStream::connect(sim) else {
            return;
        };
        let _ = bridge.set_nodelay(true);
        let _ = upstream.set_nodelay(true);
        let (Ok(mut b_rd), Ok(mut u_wr)) = (bridge.try_clone(), upstream.try_clone()) else {
            return;
        };
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = b_rd.read(&mut buf) {
                if u_wr.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        });
        let (mut u_rd, mut b_wr) = (upstream, bridge);
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = u_rd.read(&mut buf) {
            if let Ok(mut t) = stamp.lock() {
                *t = Instant::now();
            }
            if b_wr.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    });
    Ok((port, last))
}
