//! Where a radio dongle is: a serial device (`/dev/ttyUSB0`, `/dev/ttyACM0`,
//! `/dev/serial/by-id/...`, a PTY link) or a network coordinator / ser2net (`tcp://host:port`),
//! with baud rate and flow control, and the one function that opens either as a byte stream.
//!
//! Text form: `PATH_OR_URL[?baud=N][&flow=none|rts-cts|xon-xoff]`, e.g.
//! `/dev/serial/by-id/usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus-if00-port0?baud=115200`,
//! `tcp://192.0.2.7:6638`, `socket://[::1]:6638` (the spelling zigpy uses; same as `tcp://`).
//! Baud and flow control are ignored for TCP (the far end owns the UART).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_serial::SerialPortBuilderExt;

/// Default baud rate of Zigbee and Z-Wave sticks.
pub const DEFAULT_BAUD: u32 = 115_200;

/// Deadline for a TCP connect to a network coordinator.
pub const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Serial flow control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlowControl {
    /// No flow control (most sticks).
    #[default]
    None,
    /// Hardware RTS/CTS (e.g. ZBT-1, SLZB-07).
    RtsCts,
    /// Software XON/XOFF (e.g. Sonoff ZBDongle-E).
    XonXoff,
}

impl FlowControl {
    /// The text form used in port specs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::RtsCts => "rts-cts",
            Self::XonXoff => "xon-xoff",
        }
    }
}

/// Where the port is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortAddress {
    /// A serial device path (absolute).
    Device(PathBuf),
    /// A TCP endpoint.
    Tcp {
        /// Host name or address (IPv6 without brackets).
        host: String,
        /// TCP port.
        port: u16,
    },
}

/// A port and its line settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialPortSpec {
    /// Where.
    pub address: PortAddress,
    /// Baud rate (serial devices only).
    pub baud: u32,
    /// Flow control (serial devices only).
    pub flow: FlowControl,
}

/// A port spec that cannot be understood, or a port that cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The spec text is malformed.
    #[error("invalid port spec {spec:?}: {reason}")]
    Invalid {
        /// The text.
        spec: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Opening the serial device failed.
    #[error("cannot open serial port {path}: {source}")]
    Serial {
        /// The device path.
        path: String,
        /// The cause.
        source: tokio_serial::Error,
    },
    /// Connecting to the TCP endpoint failed.
    #[error("cannot connect to {addr}: {source}")]
    Tcp {
        /// `host:port`.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TCP connect took longer than [`TCP_CONNECT_TIMEOUT`].
    #[error("timed out connecting to {0}")]
    Timeout(String),
}

impl SerialPortSpec {
    /// A serial device at the default baud rate without flow control.
    pub fn device(path: impl Into<PathBuf>) -> Self {
        Self {
            address: PortAddress::Device(path.into()),
            baud: DEFAULT_BAUD,
            flow: FlowControl::None,
        }
    }

    /// A TCP endpoint.
    pub fn tcp(host: impl Into<String>, port: u16) -> Self {
        Self {
            address: PortAddress::Tcp {
                host: host.into(),
                port,
            },
            baud: DEFAULT_BAUD,
            flow: FlowControl::None,
        }
    }

    /// Whether this is a network port.
    pub fn is_tcp(&self) -> bool {
        matches!(self.address, PortAddress::Tcp { .. })
    }
}

fn parse_tcp(spec: &str, rest: &str) -> Result<PortAddress, PortError> {
    let invalid = |reason| PortError::Invalid {
        spec: spec.to_owned(),
        reason,
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let (h, p) = r
            .split_once("]:")
            .ok_or_else(|| invalid("bad [ipv6]:port"))?;
        (h, p)
    } else {
        let (h, p) = rest
            .rsplit_once(':')
            .ok_or_else(|| invalid("missing :port"))?;
        if h.contains(':') {
            return Err(invalid("IPv6 hosts need [brackets]"));
        }
        (h, p)
    };
    if host.is_empty() {
        return Err(invalid("missing host"));
    }
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| invalid("bad port number"))?;
    Ok(PortAddress::Tcp {
        host: host.to_owned(),
        port,
    })
}

impl FromStr for SerialPortSpec {
    type Err = PortError;
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| PortError::Invalid {
            spec: spec.to_owned(),
            reason,
        };
        let (base, query) = spec.split_once('?').unwrap_or((spec, ""));
        let address = if let Some(rest) = base
            .strip_prefix("tcp://")
            .or_else(|| base.strip_prefix("socket://"))
        {
            parse_tcp(spec, rest)?
        } else if base.starts_with('/') && base.len() > 1 {
            PortAddress::Device(PathBuf::from(base))
        } else {
            return Err(invalid(
                "expected an absolute device path or tcp://host:port",
            ));
        };
        let mut out = Self {
            address,
            baud: DEFAULT_BAUD,
            flow: FlowControl::None,
        };
        for kv in query.split('&').filter(|s| !s.is_empty()) {
            match kv.split_once('=') {
                Some(("baud", v)) => {
                    out.baud = v
                        .parse()
                        .ok()
                        .filter(|b| *b > 0)
                        .ok_or_else(|| invalid("bad baud rate"))?;
                }
                Some(("flow", "none")) => out.flow = FlowControl::None,
                Some(("flow", "rts-cts" | "rtscts" | "hardware")) => out.flow = FlowControl::RtsCts,
                Some(("flow", "xon-xoff" | "xonxoff" | "software")) => {
                    out.flow = FlowControl::XonXoff
                }
                Some(("flow", _)) => return Err(invalid("flow must be none, rts-cts or xon-xoff")),
                _ => return Err(invalid("unknown option (baud=, flow=)")),
            }
        }
        Ok(out)
    }
}

impl fmt::Display for SerialPortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.address {
            PortAddress::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp://[{host}]:{port}")
            }
            PortAddress::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            PortAddress::Device(p) => {
                write!(f, "{}?baud={}", p.display(), self.baud)?;
                if self.flow != FlowControl::None {
                    write!(f, "&flow={}", self.flow.as_str())?;
                }
                Ok(())
            }
        }
    }
}

impl serde::Serialize for SerialPortSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SerialPortSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A bidirectional byte stream to a radio, serial or TCP.
pub trait AsyncPort: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncPort for T {}

/// Opens the port: a serial device with its line settings (8N1), or a TCP connection with
/// TCP_NODELAY (each radio frame must leave at once; Nagle adds tens of milliseconds).
pub async fn open_port(spec: &SerialPortSpec) -> Result<Box<dyn AsyncPort>, PortError> {
    match &spec.address {
        PortAddress::Device(path) => {
            let path_s = path.to_string_lossy().into_owned();
            let flow = match spec.flow {
                FlowControl::None => tokio_serial::FlowControl::None,
                FlowControl::RtsCts => tokio_serial::FlowControl::Hardware,
                FlowControl::XonXoff => tokio_serial::FlowControl::Software,
            };
            let stream = tokio_serial::new(path_s.as_str(), spec.baud)
                .data_bits(tokio_serial::DataBits::Eight)
                .parity(tokio_serial::Parity::None)
                .stop_bits(tokio_serial::StopBits::One)
                .flow_control(flow)
                .open_native_async()
                .map_err(|source| PortError::Serial {
                    path: path_s.clone(),
                    source,
                })?;
            tracing::debug!(port = %path_s, baud = spec.baud, flow = spec.flow.as_str(), "serial port open");
            Ok(Box::new(stream))
        }
        PortAddress::Tcp { host, port } => {
            let addr = format!("{host}:{port}");
            let stream = tokio::time::timeout(
                TCP_CONNECT_TIMEOUT,
                TcpStream::connect((host.as_str(), *port)),
            )
            .await
            .map_err(|_| PortError::Timeout(addr.clone()))?
            .map_err(|source| PortError::Tcp {
                addr: addr.clone(),
                source,
            })?;
            stream.set_nodelay(true).map_err(|source| PortError::Tcp {
                addr: addr.clone(),
                source,
            })?;
            tracing::debug!(port = %addr, "tcp port open");
            Ok(Box::new(stream))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn device_paths_and_options_parse() {
        let s: SerialPortSpec = "/dev/ttyUSB0".parse().unwrap();
        assert_eq!(s, SerialPortSpec::device("/dev/ttyUSB0"));
        let s: SerialPortSpec =
            "/dev/serial/by-id/usb-Nabu_Casa_ZBT-1-if00?baud=460800&flow=rts-cts"
                .parse()
                .unwrap();
        assert_eq!(s.baud, 460_800);
        assert_eq!(s.flow, FlowControl::RtsCts);
        assert_eq!(
            s.to_string(),
            "/dev/serial/by-id/usb-Nabu_Casa_ZBT-1-if00?baud=460800&flow=rts-cts"
        );
        let s: SerialPortSpec = "/dev/ttyACM0?flow=xon-xoff".parse().unwrap();
        assert_eq!(s.flow, FlowControl::XonXoff);
    }

    #[test]
    fn tcp_urls_parse_including_ipv6() {
        let s: SerialPortSpec = "tcp://192.0.2.7:6638".parse().unwrap();
        assert_eq!(s, SerialPortSpec::tcp("192.0.2.7", 6638));
        let s: SerialPortSpec = "socket://[::1]:6638".parse().unwrap();
        assert_eq!(s, SerialPortSpec::tcp("::1", 6638));
        assert_eq!(s.to_string(), "tcp://[::1]:6638");
        assert!(s.is_tcp());
    }

    #[test]
    fn specs_read_from_configuration_strings() {
        let s: SerialPortSpec = serde_json::from_str("\"/dev/ttyACM0?baud=460800\"").unwrap();
        assert_eq!(s.baud, 460_800);
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            "\"/dev/ttyACM0?baud=460800\""
        );
        assert!(serde_json::from_str::<SerialPortSpec>("\"COM3\"").is_err());
    }

    #[test]
    fn malformed_specs_are_rejected() {
        for bad in [
            "",
            "ttyUSB0",
            "/",
            "tcp://host",
            "tcp://:6638",
            "tcp://host:0",
            "tcp://host:99999",
            "tcp://::1:6638",
            "udp://host:1",
            "/dev/ttyUSB0?baud=fast",
            "/dev/ttyUSB0?baud=0",
            "/dev/ttyUSB0?flow=maybe",
            "/dev/ttyUSB0?parity=odd",
        ] {
            assert!(bad.parse::<SerialPortSpec>().is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn tcp_port_connects_with_nodelay_and_carries_bytes() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 3];
            sock.read_exact(&mut buf).await.unwrap();
            sock.write_all(&buf).await.unwrap();
        });
        let spec: SerialPortSpec = format!("tcp://127.0.0.1:{port}").parse().unwrap();
        let mut p = open_port(&spec).await.unwrap();
        p.write_all(&[0xfe, 0x00, 0x21]).await.unwrap();
        let mut back = [0u8; 3];
        p.read_exact(&mut back).await.unwrap();
        assert_eq!(back, [0xfe, 0x00, 0x21]);
        server.await.unwrap();
    }

    #[tokio::test]
    async fn serial_device_opens_by_path_and_carries_bytes() {
        use tokio_serial::SerialPort;
        let (mut master, slave) = tokio_serial::SerialStream::pair().unwrap();
        let Some(name) = slave.name() else {
            panic!("pty slave has no name");
        };
        drop(slave);
        let mut p = open_port(&SerialPortSpec::device(&name)).await.unwrap();
        master.write_all(b"\x1a\x2b").await.unwrap();
        let mut got = [0u8; 2];
        p.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"\x1a\x2b");
    }

    #[tokio::test]
    async fn missing_device_gives_serial_error() {
        let r = open_port(&SerialPortSpec::device("/dev/does-not-exist-usphub")).await;
        assert!(matches!(r, Err(PortError::Serial { .. })));
    }
}
