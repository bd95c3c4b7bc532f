//! Safe identification probes: ask a port, with short timeouts, which protocol it speaks,
//! using only requests that read and change nothing stored on the stick.
//!
//! | firmware | request (host → stick)                   | recognised answer                      |
//! |----------|------------------------------------------|----------------------------------------|
//! | Z-Wave   | Serial API `GetVersion` (0x15)           | ACK, then the GetVersion response (ACKed) |
//! | EZSP     | ASH CANCEL + RST (UG101)                  | RSTACK (or ERROR) with a valid CRC     |
//! | ZNP      | [0xEF boot loader skip…] MT `SYS_PING`    | the SYS_PING SRSP                      |
//!
//! Z-Wave and ZNP frames are built and parsed with the bridges' own codecs
//! (`zwave::serial`, `zigbee::znp`); ASH has only the probe's minimal [`ash`] module.
//! Specifications: Z-Wave Host API Specification (INS13954), FUNC_ID_ZW_GET_VERSION and the
//! data frame handshake; Z-Stack Monitor and Test API (SWRA198), SYS_PING; Silicon Labs UG101
//! (ASH), RST and RSTACK.
//!
//! **Order** (Z-Wave, then EZSP, then ZNP) is chosen so that one probe's bytes cannot spoil
//! the next on a stick of another kind: GetVersion (`01 03 00 15 E9`) holds no ZNP SOF (0xFE),
//! no ASH flag (0x7E) and no XON/XOFF; the ASH bytes hold no Z-Wave SOF (0x01) and no ZNP SOF,
//! and begin with CANCEL, which makes an NCP discard the GetVersion bytes; the ZNP ping goes
//! last because its `01 20` bytes look like the start of a 32-byte Z-Wave frame. RST restarts
//! an NCP's software (its network and settings are in flash and stay). Never probe a port a
//! running bridge owns.

pub mod ash;

use std::io;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};
use tokio_util::codec::Decoder;

use usphub_bridges::api::{AsyncPort, PortError, SerialPortSpec, open_port};
use usphub_bridges::zigbee::znp::commands::sys::Ping;
use usphub_bridges::zigbee::znp::commands::{MtMessage, Request};
use usphub_bridges::zigbee::znp::frame::MtCodec;
use usphub_bridges::zigbee::znp::link::BOOTLOADER_SKIP_BYTE;
use usphub_bridges::zwave::serial::codec::{SerialCodec, Unit};
use usphub_bridges::zwave::serial::frame::{ACK, FrameType, request};
use usphub_bridges::zwave::serial::functions::{FunctionId, VersionInfo};

use crate::usbid::{Firmware, PROBED};

/// Bytes kept while waiting for an answer; a port that streams garbage is cut off here.
const MAX_BUFFERED: usize = 4096;
/// Boot loader skip bytes sent before the ZNP ping (the ZNP link actor sends the same byte).
const SKIP_LEN: usize = 256;

/// Timeouts and options of the probes.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Wait for the GetVersion response.
    pub zwave_timeout: Duration,
    /// Wait for RSTACK (the NCP restarts first).
    pub ash_timeout: Duration,
    /// Wait for the SYS_PING SRSP.
    pub znp_timeout: Duration,
    /// Send 0xEF bytes before the ping, which makes a CC253x/CC26xx serial boot loader start
    /// the ZNP application (the application ignores them).
    pub znp_bootloader_skip: bool,
    /// Serial ports only: when nothing answered at the port's own baud rate and EZSP is a
    /// candidate, the ASH probe is repeated at these rates (EmberZNet firmwares run at 57600
    /// on older EM35x sticks such as the HUSBZB-1, 460800 on newer adapters).
    pub ezsp_extra_bauds: Vec<u32>,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            zwave_timeout: Duration::from_millis(1000),
            ash_timeout: Duration::from_millis(2000),
            znp_timeout: Duration::from_millis(1000),
            znp_bootloader_skip: true,
            ezsp_extra_bauds: vec![57_600, 460_800],
        }
    }
}

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// The firmware that answered, or `Unknown`.
    pub firmware: Firmware,
    /// What it said (version, reset code, capabilities) or why nothing was found.
    pub detail: String,
    /// The baud rate it answered at, when that differs from the port spec's.
    pub baud: Option<u32>,
}

/// Opening the port failed.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ProbeError(#[from] pub PortError);

/// Opens `spec` and probes it for each of `candidates` (all probes when empty), in the safe
/// order, then (serial ports only, if nothing answered) repeats the ASH probe at
/// [`ProbeConfig::ezsp_extra_bauds`]. The port is closed when this returns.
pub async fn probe_port(
    spec: &SerialPortSpec,
    candidates: &[Firmware],
    config: &ProbeConfig,
) -> Result<ProbeReport, ProbeError> {
    let mut port = open_port(spec).await?;
    let report = probe_stream(&mut *port, candidates, config).await;
    drop(port);
    let ezsp_candidate = candidates.is_empty() || candidates.contains(&Firmware::Ezsp);
    if report.firmware != Firmware::Unknown || spec.is_tcp() || !ezsp_candidate {
        return Ok(report);
    }
    for &baud in config.ezsp_extra_bauds.iter().filter(|b| **b != spec.baud) {
        let mut at = spec.clone();
        at.baud = baud;
        let mut port = open_port(&at).await?;
        let again = probe_stream(&mut *port, &[Firmware::Ezsp], config).await;
        if again.firmware == Firmware::Ezsp {
            return Ok(ProbeReport {
                detail: format!("{} at {baud} baud", again.detail),
                baud: Some(baud),
                ..again
            });
        }
    }
    Ok(report)
}

/// Probes an already open byte stream (see [`probe_port`]).
pub async fn probe_stream<P: AsyncPort + ?Sized>(
    port: &mut P,
    candidates: &[Firmware],
    config: &ProbeConfig,
) -> ProbeReport {
    let order = PROBED
        .iter()
        .copied()
        .filter(|f| candidates.is_empty() || candidates.contains(f));
    let mut tried = Vec::new();
    for firmware in order {
        let result = match firmware {
            Firmware::ZWave => probe_zwave(port, config.zwave_timeout).await,
            Firmware::Ezsp => probe_ash(port, config.ash_timeout).await,
            Firmware::Znp => probe_znp(port, config).await,
            Firmware::Deconz | Firmware::Unknown => continue,
        };
        match result {
            Ok(Some(detail)) => {
                tracing::debug!(firmware = firmware.as_str(), %detail, "probe answered");
                return ProbeReport {
                    firmware,
                    detail,
                    baud: None,
                };
            }
            Ok(None) => tried.push(firmware.as_str()),
            Err(e) => {
                return ProbeReport {
                    firmware: Firmware::Unknown,
                    detail: format!("port failed during {} probe: {e}", firmware.as_str()),
                    baud: None,
                };
            }
        }
    }
    ProbeReport {
        firmware: Firmware::Unknown,
        detail: format!("no answer to {} probe(s)", tried.join(", ")),
        baud: None,
    }
}

/// Reads more bytes until `deadline`; false on timeout. EOF is an error (the port is gone).
async fn fill<P: AsyncPort + ?Sized>(
    port: &mut P,
    buf: &mut BytesMut,
    deadline: Instant,
) -> io::Result<bool> {
    if buf.len() >= MAX_BUFFERED {
        buf.clear();
    }
    buf.reserve(256);
    match timeout_at(deadline, port.read_buf(buf)).await {
        Err(_) => Ok(false),
        Ok(Ok(0)) => Err(io::ErrorKind::UnexpectedEof.into()),
        Ok(Ok(_)) => Ok(true),
        Ok(Err(e)) => Err(e),
    }
}

async fn send<P: AsyncPort + ?Sized>(port: &mut P, bytes: &[u8]) -> io::Result<()> {
    port.write_all(bytes).await?;
    port.flush().await
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
}

/// Z-Wave Serial API: GetVersion; a CAN or NAK gets one retransmission.
async fn probe_zwave<P: AsyncPort + ?Sized>(
    port: &mut P,
    wait: Duration,
) -> io::Result<Option<String>> {
    let req = request(FunctionId::GetVersion, &[]).map_err(invalid)?;
    send(port, req.as_bytes()).await?;
    let deadline = Instant::now() + wait;
    let mut codec = SerialCodec::new();
    let mut buf = BytesMut::new();
    let mut resent = false;
    loop {
        while let Some(unit) = codec.decode(&mut buf)? {
            match unit {
                Unit::Frame(f)
                    if f.frame_type() == FrameType::Response
                        && f.function_id() == FunctionId::GetVersion =>
                {
                    // The stick waits for our ACK and would retransmit without it.
                    send(port, &[ACK]).await?;
                    let detail = match VersionInfo::parse(f.payload()) {
                        Ok(v) => format!("{} (library type {})", v.version, v.library_type),
                        Err(e) => format!("GetVersion response with bad payload: {e}"),
                    };
                    return Ok(Some(detail));
                }
                Unit::Can | Unit::Nak if !resent => {
                    resent = true;
                    send(port, req.as_bytes()).await?;
                }
                _ => {}
            }
        }
        if !fill(port, &mut buf, deadline).await? {
            return Ok(None);
        }
    }
}

/// ASH: CANCEL + RST, then look for RSTACK or ERROR.
async fn probe_ash<P: AsyncPort + ?Sized>(
    port: &mut P,
    wait: Duration,
) -> io::Result<Option<String>> {
    send(port, &ash::RST_REQUEST).await?;
    let deadline = Instant::now() + wait;
    let mut scanner = ash::RstackScanner::new();
    let mut buf = BytesMut::new();
    loop {
        for &b in buf.iter() {
            match scanner.push(b) {
                Some(ash::NcpReport::ResetAck {
                    version,
                    reset_code,
                }) => {
                    return Ok(Some(format!(
                        "ASH v{version} RSTACK, reset code {reset_code:#04x}"
                    )));
                }
                Some(ash::NcpReport::Error { version, code }) => {
                    return Ok(Some(format!("ASH v{version} ERROR, code {code:#04x}")));
                }
                None => {}
            }
        }
        buf.clear();
        if !fill(port, &mut buf, deadline).await? {
            return Ok(None);
        }
    }
}

/// ZNP: optional boot loader skip, then SYS_PING.
async fn probe_znp<P: AsyncPort + ?Sized>(
    port: &mut P,
    config: &ProbeConfig,
) -> io::Result<Option<String>> {
    if config.znp_bootloader_skip {
        send(port, &[BOOTLOADER_SKIP_BYTE; SKIP_LEN]).await?;
    }
    let ping = Ping {}.to_frame().to_bytes().map_err(invalid)?;
    send(port, &ping).await?;
    let deadline = Instant::now() + config.znp_timeout;
    let mut codec = MtCodec::new();
    let mut buf = BytesMut::new();
    loop {
        while let Some(frame) = codec.decode(&mut buf).map_err(invalid)? {
            if frame.header == <Ping as Request>::Response::HEADER {
                let detail = match <Ping as Request>::Response::from_frame(&frame) {
                    Ok(rsp) => format!("SYS_PING capabilities {:#06x}", rsp.capabilities),
                    Err(e) => format!("SYS_PING response with bad payload: {e}"),
                };
                return Ok(Some(detail));
            }
        }
        if !fill(port, &mut buf, deadline).await? {
            return Ok(None);
        }
    }
}
