//! The uevent netlink multicast, read directly: udevd's re-broadcast (sent once its rules ran,
//! so `/dev/serial/by-id` links exist) or the kernel's own events (systems without udevd).
//!
//! Why not libudev: it was the agent's only C library besides glibc (180 KB of resident code
//! and a thread of its own, its monitor not being `Send`), for a datagram format that is small
//! and has not changed since 2009: udevd prefixes the properties with its
//! `monitor_netlink_header` ("libudev\0", magic 0xfeedcafe big-endian, then header size,
//! properties offset and length in host order); the kernel sends `ACTION@DEVPATH\0` followed
//! by the same `KEY=VALUE\0` properties.
//!
//! Like libudev, a datagram is accepted only from root (SCM_CREDENTIALS uid 0) and, on the
//! kernel's group, only from the kernel (netlink port 0): any local process may multicast on
//! the udev group and must not be able to fake a stick.

use std::io;

/// The multicast group of udev's netlink family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UeventGroup {
    /// The kernel's own events (group 1).
    Kernel,
    /// udevd's events after its rules ran (group 2).
    Udev,
}

impl UeventGroup {
    /// The group's bit in `sockaddr_nl.nl_groups`.
    pub fn mask(self) -> u32 {
        match self {
            UeventGroup::Kernel => 1,
            UeventGroup::Udev => 2,
        }
    }
}

/// udevd's header magic (`UDEV_MONITOR_MAGIC`), stored big-endian.
const UDEV_MAGIC: u32 = 0xfeed_cafe;
/// `sizeof(struct monitor_netlink_header)`: prefix, magic, 2 sizes, 4 filter words.
const UDEV_HEADER_LEN: usize = 40;
/// Largest datagram read; udevd's own limit is 8 KiB, the kernel's 2 KiB.
const MAX_DATAGRAM: usize = 16 * 1024;

/// Why a datagram is not a uevent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UeventError {
    /// Shorter than its header says.
    #[error("truncated uevent ({0})")]
    Truncated(&'static str),
    /// Neither udevd's header nor the kernel's `action@devpath`.
    #[error("not a uevent: {0}")]
    Malformed(&'static str),
    /// A property every uevent carries is absent.
    #[error("uevent without {0}")]
    Missing(&'static str),
}

/// One uevent's properties (`ACTION`, `DEVPATH`, `SUBSYSTEM`, `DEVNAME`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uevent {
    props: Vec<(String, String)>,
}

impl Uevent {
    /// Parses a datagram received on `group`.
    pub fn parse(group: UeventGroup, data: &[u8]) -> Result<Uevent, UeventError> {
        let props = match group {
            UeventGroup::Udev => udev_properties(data)?,
            UeventGroup::Kernel => kernel_properties(data)?,
        };
        let mut out = Vec::new();
        for entry in props.split(|b| *b == 0) {
            // Entries that are not UTF-8 or not KEY=VALUE carry nothing this crate reads.
            let Ok(entry) = std::str::from_utf8(entry) else {
                continue;
            };
            if let Some((k, v)) = entry.split_once('=')
                && !k.is_empty()
            {
                out.push((k.to_owned(), v.to_owned()));
            }
        }
        let event = Uevent { props: out };
        for key in ["ACTION", "DEVPATH", "SUBSYSTEM"] {
            if event.get(key).is_none() {
                return Err(UeventError::Missing(key));
            }
        }
        Ok(event)
    }

    /// A property's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `add`, `remove`, `change`, `bind`, ...
    pub fn action(&self) -> &str {
        self.get("ACTION").unwrap_or_default()
    }

    /// The kernel's subsystem, e.g. `tty`.
    pub fn subsystem(&self) -> &str {
        self.get("SUBSYSTEM").unwrap_or_default()
    }

    /// The device's kernel name: the last component of `DEVPATH` (`ttyUSB0`).
    pub fn sysname(&self) -> &str {
        let path = self.get("DEVPATH").unwrap_or_default();
        path.rsplit('/').next().unwrap_or(path)
    }

    /// The datagram udevd would send for these properties (for test doubles and tools).
    pub fn encode_udev(props: &[(&str, &str)]) -> Vec<u8> {
        let body: Vec<u8> = props
            .iter()
            .flat_map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes(), b"\0"].concat())
            .collect();
        let mut out = Vec::with_capacity(UDEV_HEADER_LEN + body.len());
        out.extend_from_slice(b"libudev\0");
        out.extend_from_slice(&UDEV_MAGIC.to_be_bytes());
        out.extend_from_slice(&(UDEV_HEADER_LEN as u32).to_ne_bytes());
        out.extend_from_slice(&(UDEV_HEADER_LEN as u32).to_ne_bytes());
        out.extend_from_slice(&(body.len() as u32).to_ne_bytes());
        // Subsystem/devtype hashes and tag bloom: only for in-kernel filters, left zero.
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&body);
        out
    }

    /// The datagram the kernel would send for `action` on `devpath` with `props`.
    pub fn encode_kernel(action: &str, devpath: &str, props: &[(&str, &str)]) -> Vec<u8> {
        let mut out = format!("{action}@{devpath}\0").into_bytes();
        for (k, v) in props {
            out.extend_from_slice(format!("{k}={v}\0").as_bytes());
        }
        out
    }
}

fn u32_at(data: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_ne_bytes(b)
    })
}

fn udev_properties(data: &[u8]) -> Result<&[u8], UeventError> {
    if data.len() < UDEV_HEADER_LEN {
        return Err(UeventError::Truncated("udev header"));
    }
    if &data[..8] != b"libudev\0" || u32_at(data, 8, true) != Some(UDEV_MAGIC) {
        return Err(UeventError::Malformed("no libudev header"));
    }
    let off = u32_at(data, 16, false).unwrap_or(0) as usize;
    let len = u32_at(data, 20, false).unwrap_or(0) as usize;
    // Later udevd versions may grow the header; the properties never start before its
    // fixed part (prefix, magic and the two sizes) ends.
    if off < 24 {
        return Err(UeventError::Malformed("properties inside the header"));
    }
    let end = off
        .checked_add(len)
        .ok_or(UeventError::Malformed("properties length"))?;
    data.get(off..end)
        .ok_or(UeventError::Truncated("udev properties"))
}

fn kernel_properties(data: &[u8]) -> Result<&[u8], UeventError> {
    let head_end = data
        .iter()
        .position(|b| *b == 0)
        .ok_or(UeventError::Truncated("kernel header"))?;
    let head = &data[..head_end];
    if head.starts_with(b"libudev") || !head.contains(&b'@') {
        return Err(UeventError::Malformed("no action@devpath header"));
    }
    Ok(&data[head_end + 1..])
}

/// A netlink socket joined to one uevent group, readable from tokio.
#[cfg(target_os = "linux")]
#[derive(Debug)]
pub struct UeventSocket {
    fd: tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
    group: UeventGroup,
    buf: Vec<u8>,
}

/// What [`UeventSocket::recv`] got.
#[cfg(target_os = "linux")]
#[derive(Debug)]
pub enum Received {
    /// A uevent from the kernel or udevd.
    Event(Uevent),
    /// The kernel dropped events because the socket's buffer was full: whoever follows
    /// devices must rescan.
    Overrun,
}

#[cfg(target_os = "linux")]
impl UeventSocket {
    /// Opens and binds the socket. Panics outside a tokio runtime with I/O enabled.
    pub fn open(group: UeventGroup) -> io::Result<UeventSocket> {
        use std::os::fd::FromRawFd;
        // SAFETY: plain socket(2); the descriptor is owned right away.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::NETLINK_KOBJECT_UEVENT,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
        set_int(&fd, libc::SO_PASSCRED, 1)?;
        // Boot-time storms of uevents for every subsystem share this buffer; FORCE needs
        // CAP_NET_ADMIN, plain SO_RCVBUF is capped by rmem_max.
        const RCVBUF: i32 = 1 << 20;
        if set_int(&fd, libc::SO_RCVBUFFORCE, RCVBUF).is_err() {
            let _ = set_int(&fd, libc::SO_RCVBUF, RCVBUF);
        }
        // SAFETY: zeroed sockaddr_nl is a valid value; fields set below.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        addr.nl_groups = group.mask();
        // SAFETY: `addr` is a sockaddr_nl of the length passed.
        let rc = unsafe {
            libc::bind(
                std::os::fd::AsRawFd::as_raw_fd(&fd),
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the OwnedFd is moved into the AsyncFd, which keeps it open (and its number
        // unchanged) until the AsyncFd is dropped.
        let fd = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
        }
        .map_err(|e| e.into_parts().1)?;
        Ok(UeventSocket {
            fd,
            group,
            buf: vec![0; MAX_DATAGRAM],
        })
    }

    /// The next uevent, or an overrun. Datagrams from senders other than root (and, on the
    /// kernel's group, other than the kernel) and malformed ones are skipped with a log line.
    pub async fn recv(&mut self) -> io::Result<Received> {
        loop {
            let mut guard = self.fd.readable().await?;
            let got = guard.try_io(|fd| recv_datagram(fd.get_ref(), &mut self.buf));
            let (len, sender) = match got {
                Err(_would_block) => continue,
                Ok(Err(e)) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    return Ok(Received::Overrun);
                }
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(Err(e)) => return Err(e),
                Ok(Ok(r)) => r,
            };
            if let Some(why) = reject_sender(self.group, &sender) {
                tracing::debug!(port = sender.port, uid = ?sender.uid, "uevent ignored: {why}");
                continue;
            }
            if sender.truncated {
                tracing::warn!(len, "uevent larger than {MAX_DATAGRAM} bytes ignored");
                continue;
            }
            match Uevent::parse(self.group, &self.buf[..len]) {
                Ok(ev) => return Ok(Received::Event(ev)),
                Err(e) => tracing::warn!(error = %e, len, "garbled uevent ignored"),
            }
        }
    }
}

/// Who sent a datagram.
#[derive(Debug, Clone, Copy)]
struct Sender {
    /// Netlink port id: 0 is the kernel.
    port: u32,
    /// From SCM_CREDENTIALS; `None` if the kernel attached none.
    uid: Option<u32>,
    /// MSG_TRUNC: the datagram did not fit.
    truncated: bool,
}

fn reject_sender(group: UeventGroup, s: &Sender) -> Option<&'static str> {
    if s.uid != Some(0) {
        return Some("sender is not root");
    }
    if group == UeventGroup::Kernel && s.port != 0 {
        return Some("not sent by the kernel");
    }
    None
}

#[cfg(target_os = "linux")]
fn set_int(fd: &std::os::fd::OwnedFd, opt: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: the option value is a c_int of the length passed.
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(fd),
            libc::SOL_SOCKET,
            opt,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(target_os = "linux")]
fn recv_datagram(fd: &std::os::fd::OwnedFd, buf: &mut [u8]) -> io::Result<(usize, Sender)> {
    // SAFETY: zeroed sockaddr_nl and msghdr are valid; every pointer below outlives the call
    // and every length matches its buffer.
    unsafe {
        let mut addr: libc::sockaddr_nl = std::mem::zeroed();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // u64s keep the control buffer aligned for cmsghdr.
        let mut control = [0u64; 8];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_name = (&mut addr as *mut libc::sockaddr_nl).cast();
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let n = libc::recvmsg(std::os::fd::AsRawFd::as_raw_fd(fd), &mut msg, 0);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut uid = None;
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_CREDENTIALS
            {
                let cred: libc::ucred = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                uid = Some(cred.uid);
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
        Ok((
            n as usize,
            Sender {
                port: addr.nl_pid,
                uid,
                truncated: msg.msg_flags & libc::MSG_TRUNC != 0,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTY: &str = "/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/ttyUSB0/tty/ttyUSB0";

    #[test]
    fn udev_datagram_round_trips_and_names_the_device() {
        let data = Uevent::encode_udev(&[
            ("ACTION", "add"),
            ("DEVPATH", TTY),
            ("SUBSYSTEM", "tty"),
            ("DEVNAME", "/dev/ttyUSB0"),
            ("ID_VENDOR_ID", "10c4"),
        ]);
        let ev = Uevent::parse(UeventGroup::Udev, &data).unwrap();
        assert_eq!(ev.action(), "add");
        assert_eq!(ev.subsystem(), "tty");
        assert_eq!(ev.sysname(), "ttyUSB0");
        assert_eq!(ev.get("ID_VENDOR_ID"), Some("10c4"));
        assert_eq!(ev.get("ID_MODEL_ID"), None);
    }

    #[test]
    fn kernel_datagram_parses_after_its_action_at_devpath_header() {
        let data = Uevent::encode_kernel(
            "remove",
            TTY,
            &[
                ("ACTION", "remove"),
                ("DEVPATH", TTY),
                ("SUBSYSTEM", "tty"),
                ("SEQNUM", "4711"),
            ],
        );
        let ev = Uevent::parse(UeventGroup::Kernel, &data).unwrap();
        assert_eq!(ev.action(), "remove");
        assert_eq!(ev.sysname(), "ttyUSB0");
        assert_eq!(ev.get("SEQNUM"), Some("4711"));
    }

    #[test]
    fn each_group_refuses_the_other_groups_format() {
        let udev =
            Uevent::encode_udev(&[("ACTION", "add"), ("DEVPATH", TTY), ("SUBSYSTEM", "tty")]);
        let kernel = Uevent::encode_kernel("add", TTY, &[("ACTION", "add")]);
        assert!(matches!(
            Uevent::parse(UeventGroup::Kernel, &udev),
            Err(UeventError::Malformed(_))
        ));
        assert!(matches!(
            Uevent::parse(UeventGroup::Udev, &kernel),
            Err(UeventError::Truncated(_) | UeventError::Malformed(_))
        ));
    }

    #[test]
    fn truncated_or_lying_udev_headers_are_errors_not_panics() {
        let good =
            Uevent::encode_udev(&[("ACTION", "add"), ("DEVPATH", TTY), ("SUBSYSTEM", "tty")]);
        for cut in 0..good.len() {
            // Every prefix either parses (cut inside the last property's value is not
            // detectable) or is refused; none panics.
            let _ = Uevent::parse(UeventGroup::Udev, &good[..cut]);
        }
        assert!(matches!(
            Uevent::parse(UeventGroup::Udev, &good[..20]),
            Err(UeventError::Truncated(_))
        ));
        let mut huge_len = good.clone();
        huge_len[20..24].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(Uevent::parse(UeventGroup::Udev, &huge_len).is_err());
        let mut huge_off = good.clone();
        huge_off[16..20].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(Uevent::parse(UeventGroup::Udev, &huge_off).is_err());
        let mut bad_magic = good.clone();
        bad_magic[8] ^= 0xff;
        assert!(matches!(
            Uevent::parse(UeventGroup::Udev, &bad_magic),
            Err(UeventError::Malformed(_))
        ));
    }

    #[test]
    fn a_uevent_needs_action_devpath_and_subsystem() {
        let data = Uevent::encode_udev(&[("ACTION", "add"), ("DEVPATH", TTY)]);
        assert_eq!(
            Uevent::parse(UeventGroup::Udev, &data),
            Err(UeventError::Missing("SUBSYSTEM"))
        );
    }

    #[test]
    fn non_utf8_and_keyless_entries_are_skipped() {
        let mut data =
            Uevent::encode_udev(&[("ACTION", "add"), ("DEVPATH", TTY), ("SUBSYSTEM", "tty")]);
        let extra: &[u8] = b"ID_MODEL=\xff\xfe\0=value\0NOEQUALS\0";
        data.extend_from_slice(extra);
        let len = u32::from_ne_bytes(data[20..24].try_into().unwrap()) as usize + extra.len();
        data[20..24].copy_from_slice(&(len as u32).to_ne_bytes());
        let ev = Uevent::parse(UeventGroup::Udev, &data).unwrap();
        assert_eq!(ev.get("ID_MODEL"), None);
        assert_eq!(ev.get(""), None);
        assert_eq!(ev.sysname(), "ttyUSB0");
    }

    #[test]
    fn only_root_and_on_the_kernel_group_only_the_kernel_is_believed() {
        let s = |port, uid| Sender {
            port,
            uid,
            truncated: false,
        };
        assert!(reject_sender(UeventGroup::Udev, &s(812, Some(0))).is_none());
        assert!(reject_sender(UeventGroup::Udev, &s(812, Some(1000))).is_some());
        assert!(reject_sender(UeventGroup::Udev, &s(812, None)).is_some());
        assert!(reject_sender(UeventGroup::Kernel, &s(0, Some(0))).is_none());
        assert!(reject_sender(UeventGroup::Kernel, &s(812, Some(0))).is_some());
    }
}
