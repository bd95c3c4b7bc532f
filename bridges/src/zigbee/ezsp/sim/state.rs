//! The simulated EmberZNet NCP's behaviour: one EZSP frame in, the response and the
//! callbacks the firmware would send out. Pure (no I/O): the server in `sim/mod.rs` moves
//! frames over ASH and runs the timed events this module schedules.
//!
//! What survives an NCP reset (ASH RST) is what real firmware keeps in tokens: the network
//! (PAN id, extended PAN id, channel, key) and, in the simulation, which devices joined it.
//! Configuration, policies, endpoints, the negotiated version and the running network do not:
//! the host sets them up again and calls `networkInit`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use crate::zigbee::backend::{ApsFrame, PROFILE_ZDP};
use crate::zigbee::ezsp::commands::{
    self as c, Callback, Command, EmberApsFrame, INVALID_COMMAND, InvalidCommand, Version,
};
use crate::zigbee::ezsp::frame::{FC_CALLBACK_ASYNC, Header, HeaderFormat};
use crate::zigbee::ezsp::wire::{LvBytes, Status, Wire};
use crate::zigbee::sim::Scenario;
use crate::zigbee::sim::ncp::{SimRandom, joins_on_permit, log_data, network_schedule};
use crate::zigbee::zdo::{self, Zdp};

mod devices;
mod handlers;

pub use crate::zigbee::sim::{DATA_LOG_LEN, SimDevice, Timed};

/// Something to do after handling a frame: an EZSP frame to send, or a timed event.
pub type Out = crate::zigbee::sim::Out<Vec<u8>>;

/// The network kept in the NCP's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredNetwork {
    /// PAN id.
    pub pan_id: u16,
    /// Extended PAN id.
    pub extended_pan_id: u64,
    /// Channel.
    pub channel: u8,
    /// Network key.
    pub network_key: [u8; 16],
    /// Transmit power.
    pub tx_power: u8,
}

/// The NCP's state.
#[derive(Debug)]
pub struct NcpState {
    /// EUI-64.
    pub ieee: u64,
    /// The protocol version this firmware speaks.
    pub protocol_version: u8,
    /// The network in tokens.
    pub network: Option<StoredNetwork>,
    /// The network is running (after `networkInit` or `formNetwork`).
    pub network_up: bool,
    /// Virtual devices.
    pub devices: Vec<SimDevice>,
    /// `sendUnicast` commands received.
    pub unicasts: u64,
    /// The last APS frames the host sent (at most [`DATA_LOG_LEN`]).
    pub data_log: VecDeque<ApsFrame>,
    /// Commands handled since start, by frame id (for tests and bellows checks).
    pub handled: BTreeMap<u16, u32>,
    /// Endpoints the host added since the last reset.
    pub endpoints: BTreeSet<u8>,
    config_values: BTreeMap<u8, u16>,
    policies: BTreeMap<u8, u8>,
    security: Option<c::InitialSecurityState>,
    /// The sequence number of the last command, reused by callbacks.
    last_seq: u8,
    aps_seq: u8,
    permit_epoch: u32,
    random: SimRandom,
}

/// The stack version a firmware of `protocol` reports (one nibble per digit).
pub fn stack_version(protocol: u8) -> u16 {
    match protocol {
        0..=8 => 0x6700,
        9 => 0x6800,
        10 => 0x6A00,
        11 => 0x7000,
        12 => 0x7100,
        13 => 0x7400,
        14 | 15 => 0x8000,
        16 => 0x8100,
        _ => 0x8200,
    }
}

impl NcpState {
    /// A factory-new NCP speaking `protocol_version` with the scenario's devices.
    pub fn new(ieee: u64, protocol_version: u8, scenario: Scenario) -> Self {
        let devices = scenario.devices.into_iter().map(SimDevice::from).collect();
        NcpState {
            ieee,
            protocol_version,
            network: None,
            network_up: false,
            devices,
            unicasts: 0,
            data_log: VecDeque::new(),
            handled: BTreeMap::new(),
            endpoints: BTreeSet::new(),
            config_values: BTreeMap::new(),
            policies: BTreeMap::new(),
            security: None,
            last_seq: 0,
            aps_seq: 0,
            permit_epoch: 0,
            random: SimRandom::new(ieee),
        }
    }

    fn v(&self) -> u8 {
        self.protocol_version
    }

    /// Stores a network in the tokens, as if formed before (test and demo set-up); the
    /// host still starts it with `networkInit`.
    pub fn form_network(&mut self, pan_id: u16, extended_pan_id: u64, channel: u8, key: [u8; 16]) {
        self.network = Some(StoredNetwork {
            pan_id,
            extended_pan_id,
            channel,
            network_key: key,
            tx_power: 8,
        });
    }

    /// The NCP rebooted (ASH RST): everything but the tokens is gone.
    pub fn reset(&mut self) {
        self.network_up = false;
        self.endpoints.clear();
        self.config_values.clear();
        self.policies.clear();
        self.security = None;
        self.permit_epoch += 1;
    }

    /// An asynchronous callback frame.
    pub fn callback<C: Callback>(&self, cb: &C) -> Out {
        let params = c::encode(cb, self.v());
        let h = Header::response(self.last_seq, C::ID, FC_CALLBACK_ASYNC);
        Out::Frame(
            h.emit(HeaderFormat::for_version(self.v()), &params)
                .unwrap_or_default(),
        )
    }

    /// Handles one frame from the host.
    pub fn handle(&mut self, bytes: &[u8]) -> Vec<Out> {
        let format = HeaderFormat::sniff(bytes);
        let Ok((h, params)) = Header::parse(bytes, format) else {
            tracing::debug!(len = bytes.len(), "simulated NCP: frame too short, ignored");
            return Vec::new();
        };
        if h.is_response() {
            return Vec::new();
        }
        self.last_seq = h.seq;
        *self.handled.entry(h.frame_id).or_default() += 1;
        if h.frame_id == Version::ID {
            let rsp = c::VersionRsp {
                protocol_version: self.v(),
                stack_type: 2,
                stack_version: stack_version(self.v()),
            };
            return vec![self.respond(h.seq, Version::ID, format, &rsp)];
        }
        let (id, rsp, mut outs) = match handlers::dispatch(self, h.frame_id, params) {
            Some(Ok(x)) => x,
            Some(Err(_)) => {
                // EZSP_ERROR_INVALID_VALUE / SL_STATUS_INVALID_PARAMETER: parameters malformed.
                let status = if self.v() >= 14 { 0x21 } else { 0x36 };
                let inv = InvalidCommand {
                    status: Status(status),
                };
                return vec![self.respond(h.seq, INVALID_COMMAND, format, &inv)];
            }
            None => {
                tracing::debug!(frame_id = h.frame_id, "simulated NCP: unsupported frame id");
                // EZSP_ERROR_INVALID_FRAME_ID / SL_STATUS_NOT_SUPPORTED.
                let status = if self.v() >= 14 { 0x0F } else { 0x31 };
                let inv = InvalidCommand {
                    status: Status(status),
                };
                return vec![self.respond(h.seq, INVALID_COMMAND, format, &inv)];
            }
        };
        let first = Out::Frame(
            Header::response(h.seq, id, 0)
                .emit(format, &rsp)
                .unwrap_or_default(),
        );
        outs.insert(0, first);
        outs
    }

    fn respond<W: Wire>(&self, seq: u8, id: u16, format: HeaderFormat, w: &W) -> Out {
        let params = c::encode(w, self.v());
        Out::Frame(
            Header::response(seq, id, 0)
                .emit(format, &params)
                .unwrap_or_default(),
        )
    }

    fn device_by_nwk(&mut self, nwk: u16) -> Option<&mut SimDevice> {
        self.devices
            .iter_mut()
            .find(|d| d.joined && d.device.nwk == nwk)
    }

    fn stack_status(&self, status: Status) -> Out {
        self.callback(&c::StackStatusHandler { status })
    }

    fn network_came_up(&mut self) -> Vec<Out> {
        self.network_up = true;
        let mut out = vec![self.stack_status(Status::network_up(self.v()))];
        out.extend(network_schedule(&self.devices));
        out
    }

    fn form(&mut self, p: &c::NetworkParameters) -> Vec<Out> {
        let key = match &self.security {
            Some(s) if s.bitmask & c::security_bitmask::HAVE_NETWORK_KEY != 0 => s.network_key,
            _ => {
                let (a, b) = (self.random.next_u64(), self.random.next_u64());
                let mut k = [0u8; 16];
                k[..8].copy_from_slice(&a.to_le_bytes());
                k[8..].copy_from_slice(&b.to_le_bytes());
                k
            }
        };
        self.network = Some(StoredNetwork {
            pan_id: p.pan_id,
            extended_pan_id: if p.extended_pan_id == 0 {
                self.ieee
            } else {
                p.extended_pan_id
            },
            channel: p.radio_channel,
            network_key: key,
            tx_power: p.radio_tx_power,
        });
        // Scenario devices marked "paired" are in whatever network the host forms first, as
        // with the ZNP simulator; leaving the network is what orphans them.
        self.network_came_up()
    }

    fn leave(&mut self) -> Vec<Out> {
        self.network = None;
        self.network_up = false;
        self.permit_epoch += 1;
        for d in &mut self.devices {
            d.joined = false;
        }
        vec![self.stack_status(Status::network_down(self.v()))]
    }

    fn permit_join(&mut self, duration: u8) -> Vec<Out> {
        self.permit_epoch += 1;
        let mut out = Vec::new();
        if duration == 0 {
            out.push(self.stack_status(self.network_closed()));
            return out;
        }
        out.push(self.stack_status(Status(if self.v() >= 14 { 0x0C18 } else { 0x9C })));
        out.extend(joins_on_permit(&self.devices));
        if duration < 255 {
            let epoch = self.permit_epoch;
            out.push(Out::Later(
                Duration::from_secs(u64::from(duration)),
                Timed::ClosePermitJoin { epoch },
            ));
        }
        out
    }

    fn network_closed(&self) -> Status {
        Status(if self.v() >= 14 { 0x0C19 } else { 0x9D })
    }

    fn log(&mut self, destination: u16, aps: &EmberApsFrame, payload: &[u8]) -> ApsFrame {
        let frame = ApsFrame {
            dst_nwk: destination,
            dst_endpoint: aps.destination_endpoint,
            src_endpoint: aps.source_endpoint,
            profile: aps.profile_id,
            cluster: aps.cluster_id,
            payload: payload.to_vec(),
        };
        log_data(&mut self.data_log, frame.clone());
        frame
    }

    /// A broadcast is logged and acknowledged; the virtual devices are end devices and
    /// routers that need nothing from it.
    fn send_broadcast(&mut self, r: c::SendBroadcast) -> (c::SendRsp, Vec<Out>) {
        self.log(r.destination, &r.aps_frame, &r.message.0);
        let status = if self.network_up {
            Status::OK
        } else {
            Status::network_down(self.v())
        };
        self.aps_seq = self.aps_seq.wrapping_add(1);
        let rsp = c::SendRsp {
            status,
            sequence: self.aps_seq,
        };
        (rsp, Vec::new())
    }

    fn send_unicast(&mut self, r: c::SendUnicast) -> (c::SendRsp, Vec<Out>) {
        self.unicasts += 1;
        let frame = self.log(r.destination, &r.aps_frame, &r.message.0);
        if !self.network_up {
            let rsp = c::SendRsp {
                status: Status::network_down(self.v()),
                sequence: 0,
            };
            return (rsp, Vec::new());
        }
        self.aps_seq = self.aps_seq.wrapping_add(1);
        let rsp = c::SendRsp {
            status: Status::OK,
            sequence: self.aps_seq,
        };
        let answers = match self.device_by_nwk(r.destination) {
            Some(d) if d.device.responsive => Some(d.device.handle(&frame)),
            _ => None,
        };
        let sent = c::MessageSentHandler {
            message_type: r.message_type,
            destination: r.destination,
            aps_frame: EmberApsFrame {
                sequence: self.aps_seq,
                ..r.aps_frame
            },
            message_tag: r.message_tag,
            status: if answers.is_some() {
                Status::OK
            } else {
                Status::delivery_failed(self.v())
            },
            message: LvBytes(Vec::new()),
        };
        let mut out = vec![self.callback(&sent)];
        let answers = answers.unwrap_or_default();
        out.extend(
            answers
                .iter()
                .map(|a| self.incoming(a, c::INCOMING_UNICAST)),
        );
        if frame.profile == PROFILE_ZDP
            && frame.cluster == zdo::cluster::MGMT_LEAVE_REQ
            && !answers.is_empty()
            && let Ok((_, Zdp::MgmtLeaveReq { .. })) = Zdp::parse(frame.cluster, &frame.payload)
            && let Some(d) = self.device_by_nwk(r.destination)
        {
            let (nwk, ieee) = (d.device.nwk, d.device.ieee);
            out.extend(self.device_left(nwk, ieee));
        }
        (rsp, out)
    }
}

/// Decodes a command's parameters for the handlers.
fn params<C: Command>(p: &[u8], v: u8) -> Result<C, crate::zigbee::ezsp::wire::DecodeError> {
    c::decode(p, v)
}
