//! One handler per EZSP command the simulated NCP answers, as a table of `on!` entries:
//! the command's parameters in, its response and any callbacks out.

use super::{NcpState, Out, StoredNetwork, params};
use crate::zigbee::ezsp::commands::{self as c, Command};
use crate::zigbee::ezsp::wire::{DecodeError, LvBytes, Status};

/// `EzspValueId::VALUE_VERSION_INFO`.
const VALUE_VERSION_INFO: u8 = 0x11;
/// `EzspMfgTokenId` values bellows reads for `info`.
const MFG_STRING: u8 = 0x01;
const MFG_BOARD_NAME: u8 = 0x02;
const MFG_MANUF_ID: u8 = 0x03;

type Handled = Result<(u16, Vec<u8>, Vec<Out>), DecodeError>;

/// `EZSP_ERROR_INVALID_CALL` / `SL_STATUS_INVALID_STATE`: an EZSP-level command (configuration,
/// endpoints) not allowed in this state; stack calls answer `EMBER_INVALID_CALL` instead.
fn invalid_call(v: u8) -> Status {
    Status(if v >= 14 { 0x02 } else { 0x38 })
}

/// `EZSP_ERROR_INVALID_ID` / `SL_STATUS_INVALID_PARAMETER`.
fn invalid_id(v: u8) -> Status {
    Status(if v >= 14 { 0x21 } else { 0x37 })
}

fn ok<R>(rsp: R) -> (R, Vec<Out>) {
    (rsp, Vec::new())
}

fn status(s: Status) -> (c::StatusRsp, Vec<Out>) {
    ok(c::StatusRsp { status: s })
}

/// A token padded with 0xFF to its 16-byte size, as unprogrammed bytes read.
fn token(text: &[u8]) -> LvBytes {
    let mut b = text.to_vec();
    b.resize(16, 0xFF);
    LvBytes(b)
}

/// Runs the handler for `id`; `None` when the simulator does not know the frame.
pub(super) fn dispatch(s: &mut NcpState, id: u16, p: &[u8]) -> Option<Handled> {
    let v = s.v();
    macro_rules! on {
        ($t:ty, |$st:ident, $r:ident| $body:expr) => {
            if id == <$t>::ID {
                let $r: $t = match params::<$t>(p, v) {
                    Ok(r) => r,
                    Err(e) => return Some(Err(e)),
                };
                let $st = &mut *s;
                let (rsp, outs): (<$t as Command>::Response, Vec<Out>) = $body;
                return Some(Ok((<$t>::ID, c::encode(&rsp, v), outs)));
            }
        };
    }
    on!(c::Nop, |_s, _r| ok(c::NoParams {}));
    on!(c::GetEui64, |s, _r| ok(c::GetEui64Rsp { eui64: s.ieee }));
    on!(c::GetNodeId, |_s, _r| ok(c::GetNodeIdRsp {
        node_id: 0x0000
    }));
    on!(c::GetMfgToken, |_s, r| ok(c::GetMfgTokenRsp {
        token_data: match r.token_id {
            MFG_STRING => token(b"usphub"),
            MFG_BOARD_NAME => token(b"ezsp-sim"),
            MFG_MANUF_ID => LvBytes(vec![0x49, 0x10]),
            _ => token(b""),
        }
    }));
    on!(c::GetValue, |s, r| ok(
        if r.value_id == VALUE_VERSION_INFO {
            let sv = super::stack_version(s.v());
            // build, major, minor, patch, special, type (GA)
            let b = vec![
                0x00,
                0x01,
                (sv >> 12) as u8,
                ((sv >> 8) & 0xF) as u8,
                ((sv >> 4) & 0xF) as u8,
                0,
                0xAA,
            ];
            c::GetValueRsp {
                status: Status::OK,
                value: LvBytes(b),
            }
        } else {
            c::GetValueRsp {
                status: invalid_id(s.v()),
                value: LvBytes(Vec::new()),
            }
        }
    ));
    on!(c::SetValue, |_s, _r| status(Status::OK));
    on!(c::GetConfigurationValue, |s, r| ok(
        c::GetConfigurationValueRsp {
            status: Status::OK,
            value: s
                .config_values
                .get(&r.config_id)
                .copied()
                .unwrap_or(match r.config_id {
                    0x0C => 2,  // STACK_PROFILE
                    0x0D => 5,  // SECURITY_LEVEL
                    0x2D => 1,  // SUPPORTED_NETWORKS
                    0x01 => 75, // PACKET_BUFFER_COUNT
                    _ => 16,
                }),
        }
    ));
    on!(c::SetConfigurationValue, |s, r| if s.network_up {
        status(invalid_call(s.v()))
    } else {
        s.config_values.insert(r.config_id, r.value);
        status(Status::OK)
    });
    on!(c::SetPolicy, |s, r| {
        s.policies.insert(r.policy_id, r.decision_id);
        status(Status::OK)
    });
    on!(c::GetPolicy, |s, r| ok(c::GetPolicyRsp {
        status: Status::OK,
        decision_id: s.policies.get(&r.policy_id).copied().unwrap_or(0),
    }));
    on!(
        c::AddEndpoint,
        |s, r| if s.network_up || !s.endpoints.insert(r.endpoint) {
            status(invalid_call(s.v()))
        } else {
            status(Status::OK)
        }
    );
    on!(c::NetworkInit, |s, _r| match (s.network, s.network_up) {
        (_, true) => status(Status::invalid_call(s.v())),
        (None, false) => status(Status::not_joined(s.v())),
        (Some(_), false) => (c::StatusRsp { status: Status::OK }, s.network_came_up()),
    });
    on!(c::NetworkState, |s, _r| ok(c::NetworkStateRsp {
        status: if s.network_up {
            c::network_status::JOINED_NETWORK
        } else {
            c::network_status::NO_NETWORK
        },
    }));
    on!(c::GetNetworkParameters, |s, _r| ok(
        match (s.network, s.network_up) {
            (Some(n), true) => c::GetNetworkParametersRsp {
                status: Status::OK,
                node_type: c::NODE_COORDINATOR,
                parameters: parameters(&n),
            },
            _ => c::GetNetworkParametersRsp {
                status: Status::not_joined(s.v()),
                ..Default::default()
            },
        }
    ));
    on!(c::SetInitialSecurityState, |s, r| if s.network_up {
        status(Status::invalid_call(s.v()))
    } else {
        s.security = Some(r.state);
        status(Status::OK)
    });
    on!(c::GetCurrentSecurityState, |s, _r| ok(
        c::GetCurrentSecurityStateRsp {
            status: if s.network_up {
                Status::OK
            } else {
                Status::not_joined(s.v())
            },
            bitmask: if s.network_up { 0x0084 } else { 0 },
            trust_center_long_address: s.ieee,
        }
    ));
    on!(c::FormNetwork, |s, r| if s.network_up {
        status(Status::invalid_call(s.v()))
    } else {
        (c::StatusRsp { status: Status::OK }, s.form(&r.parameters))
    });
    on!(c::LeaveNetwork, |s, _r| if s.network_up {
        (c::StatusRsp { status: Status::OK }, s.leave())
    } else {
        status(Status::invalid_call(s.v()))
    });
    on!(c::PermitJoining, |s, r| if s.network_up {
        (
            c::StatusRsp { status: Status::OK },
            s.permit_join(r.duration),
        )
    } else {
        status(Status::invalid_call(s.v()))
    });
    on!(c::GetKey, |s, r| ok(
        match s
            .network
            .filter(|_| r.key_type == c::EMBER_CURRENT_NETWORK_KEY)
        {
            Some(n) => c::GetKeyRsp {
                status: Status::OK,
                key_struct: c::KeyStruct {
                    key_type: r.key_type,
                    key: n.network_key,
                    ..Default::default()
                },
            },
            None => c::GetKeyRsp {
                status: Status(0x75),
                key_struct: c::KeyStruct::default()
            },
        }
    ));
    on!(c::ExportKey, |s, r| ok(
        match s
            .network
            .filter(|_| r.context.core_key_type == c::KEY_TYPE_NETWORK)
        {
            Some(n) => c::ExportKeyRsp {
                status: 0,
                key: n.network_key,
                context: Some(r.context)
            },
            None => c::ExportKeyRsp {
                status: 0x2D,
                key: [0; 16],
                context: Some(r.context)
            },
        }
    ));
    on!(c::GetNetworkKeyInfo, |s, _r| ok(c::GetNetworkKeyInfoRsp {
        status: 0,
        info: c::NetworkKeyInfo {
            network_key_set: s.network.is_some(),
            ..Default::default()
        },
    }));
    on!(c::SetConcentrator, |_s, _r| status(Status::OK));
    on!(c::SetSourceRoute, |_s, _r| status(Status::OK));
    on!(c::SendUnicast, |s, r| s.send_unicast(r));
    on!(c::SendBroadcast, |s, r| s.send_broadcast(r));
    None
}

fn parameters(n: &StoredNetwork) -> c::NetworkParameters {
    c::NetworkParameters {
        extended_pan_id: n.extended_pan_id,
        pan_id: n.pan_id,
        radio_tx_power: n.tx_power,
        radio_channel: n.channel,
        join_method: 0,
        nwk_manager_id: 0,
        nwk_update_id: 0,
        channels: 1 << n.channel,
    }
}
