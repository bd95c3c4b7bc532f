//! The NV and UTIL commands of the simulated firmware: SYS_OSAL_NV_* (legacy items, 8- and
//! 16-bit offsets), SYS_NV_* (Z-Stack 3.30 extended items with sub-ids),
//! UTIL_ASSOC_FIND_DEVICE, which hosts use to learn the firmware's struct alignment, and
//! UTIL_LED_CONTROL (accepted; a stick's LED is not simulated).

use crate::zigbee::znp::commands::sys::{self as sys, nvex};
use crate::zigbee::znp::commands::{MtMessage, RpcError, ShortBytes, util};
use crate::zigbee::znp::frame::MtFrame;

use super::super::nib;
use super::{Out, SimState, emit};

impl SimState {
    /// Answers `f` if it is an NV or UTIL command.
    pub(super) fn handle_nv(&mut self, f: &MtFrame) -> Option<Vec<Out>> {
        macro_rules! on {
            ($t:ty, $f:expr) => {
                if f.header == <$t>::HEADER {
                    return Some(match <$t>::from_frame(f) {
                        Ok(req) => vec![emit($f(self, req))],
                        Err(_) => vec![emit(RpcError {
                            error_code: 4,
                            cmd0: f.header.cmd0(),
                            cmd1: f.header.id,
                        })],
                    });
                }
            };
        }
        on!(sys::OsalNvRead, |s: &mut Self, r: sys::OsalNvRead| {
            let (status, value) = s.nv.read(r.id, r.offset.into());
            sys::OsalNvReadRsp {
                status,
                value: ShortBytes(value),
            }
        });
        on!(sys::OsalNvReadExt, |s: &mut Self, r: sys::OsalNvReadExt| {
            let (status, value) = s.nv.read(r.id, r.offset);
            sys::OsalNvReadExtRsp {
                status,
                value: ShortBytes(value),
            }
        });
        on!(sys::OsalNvWrite, |s: &mut Self, r: sys::OsalNvWrite| {
            sys::OsalNvWriteRsp {
                status: s.nv.write(r.id, r.offset.into(), &r.value.0),
            }
        });
        on!(
            sys::OsalNvWriteExt,
            |s: &mut Self, r: sys::OsalNvWriteExt| {
                sys::OsalNvWriteExtRsp {
                    status: s.nv.write(r.id, r.offset, &r.value.0),
                }
            }
        );
        on!(
            sys::OsalNvItemInit,
            |s: &mut Self, r: sys::OsalNvItemInit| {
                sys::OsalNvItemInitRsp {
                    status: s.nv.init(r.id, r.item_len, &r.value.0),
                }
            }
        );
        on!(sys::OsalNvLength, |s: &mut Self, r: sys::OsalNvLength| {
            sys::OsalNvLengthRsp {
                length: s.nv.length(r.id),
            }
        });
        on!(sys::OsalNvDelete, |s: &mut Self, r: sys::OsalNvDelete| {
            sys::OsalNvDeleteRsp {
                status: s.nv.delete(r.id),
            }
        });
        on!(sys::NvLength, |s: &mut Self, r: sys::NvLength| {
            sys::NvLengthRsp {
                length: s.nv.ex_length(r.sys_id, r.item_id, r.sub_id),
            }
        });
        on!(sys::NvRead, |s: &mut Self, r: sys::NvRead| {
            let (status, value) =
                s.nv.ex_read(r.sys_id, r.item_id, r.sub_id, r.offset, r.length);
            sys::NvReadRsp {
                status,
                value: ShortBytes(value),
            }
        });
        on!(sys::NvWrite, |s: &mut Self, r: sys::NvWrite| {
            sys::NvWriteRsp {
                status: s
                    .nv
                    .ex_write(r.sys_id, r.item_id, r.sub_id, r.offset, &r.value.0),
            }
        });
        on!(sys::NvCreate, |s: &mut Self, r: sys::NvCreate| {
            sys::NvCreateRsp {
                status: s.nv.ex_create(r.sys_id, r.item_id, r.sub_id, r.length),
            }
        });
        on!(sys::NvDelete, |s: &mut Self, r: sys::NvDelete| {
            sys::NvDeleteRsp {
                status: s.nv.ex_delete(r.sys_id, r.item_id, r.sub_id),
            }
        });
        on!(
            util::AssocFindDevice,
            |s: &mut Self, r: util::AssocFindDevice| {
                util::AssocFindDeviceRsp {
                    device: crate::zigbee::znp::commands::Rest(s.assoc_device(r.index)),
                }
            }
        );
        on!(util::LedControl, |_: &mut Self, _| util::LedControlRsp {
            status: 0
        });
        None
    }

    /// The `index`-th child in the association table.
    fn assoc_device(&self, index: u8) -> Vec<u8> {
        let child = self
            .nv
            .table(nvex::ADDRMGR)
            .filter(|(_, e)| {
                e.first()
                    .is_some_and(|t| *t != 0xFF && t & nib::addrmgr::ASSOC != 0)
            })
            .nth(usize::from(index))
            .map(|(sub, e)| (u16::from_le_bytes([e[2], e[3]]), sub));
        nib::assoc_device(child)
    }
}
