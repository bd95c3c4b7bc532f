//! The coordinator's network in NV, kept the way Z-Stack 3.30 keeps it: the running
//! network read back from the NIB, start-up options applied on reset, formation saving the
//! NIB, keys and frame counter, and the address manager and link key tables following the
//! devices that join and leave.

use super::super::nib::{self, NibNetwork};
use super::super::nv::NvStore;
use super::{Out, SimState, emit};
use crate::zigbee::znp::commands::sys::{self as sys, nv, nvex};
use crate::zigbee::znp::commands::zdo as mtzdo;

impl SimState {
    /// PAN id, extended PAN id, channel and key: the NIB and active key of the network the
    /// coordinator is on, else the configuration items the next formation would use.
    pub fn network(&self) -> (u16, u64, u8, [u8; 16]) {
        let running = self
            .on_network()
            .then(|| self.nv.get(nv::NIB).and_then(nib::read_nib))
            .flatten()
            .filter(|n| n.channel != 0);
        if let Some(n) = running {
            let mut k = [0u8; 16];
            if let Some(key) = self
                .nv
                .get(nv::NWK_ACTIVE_KEY_INFO)
                .and_then(|v| v.get(1..17))
            {
                k.copy_from_slice(key);
            }
            return (n.pan_id, n.extended_pan_id, n.channel, k);
        }
        let le = |id: u16| self.nv.get(id).unwrap_or(&[]).to_vec();
        let pan = le(nv::PANID);
        let ext = le(nv::APS_USE_EXT_PANID);
        let chan = le(nv::CHANLIST);
        let key = le(nv::PRECFGKEY);
        let pan = if pan.len() == 2 {
            u16::from_le_bytes([pan[0], pan[1]])
        } else {
            0xFFFF
        };
        let ext = ext
            .get(..8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
        let mask = chan
            .get(..4)
            .map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])));
        let channel = (11..=26).find(|c| mask & (1 << c) != 0).unwrap_or(11);
        let mut k = [0u8; 16];
        if key.len() == 16 {
            k.copy_from_slice(&key);
        }
        (pan, ext, channel as u8, k)
    }

    /// SYS_RESET_REQ: applies the start-up options as Z-Stack does and adopts EXTADDR.
    pub(crate) fn reset(&mut self) -> Vec<Out> {
        self.dev_state = mtzdo::state::HOLD;
        self.endpoints.clear();
        self.zdo_callbacks.clear();
        let option = self
            .nv
            .get(nv::STARTUP_OPTION)
            .and_then(|o| o.first().copied())
            .unwrap_or(0);
        let extaddr = self.nv.get(nv::EXTADDR).map(<[u8]>::to_vec);
        let fresh = NvStore::factory(self.hardware_ieee);
        // ZCD_STARTOPT_DEFAULT_CONFIG_STATE (0x01): every item back to its default;
        // ZCD_STARTOPT_DEFAULT_NETWORK_STATE (0x02): forget the network. Applied once.
        if option & 0x01 != 0 {
            self.nv = fresh.clone();
        } else if option & 0x02 != 0 {
            for id in [
                nv::NIB,
                nv::PANID,
                nv::EXTENDED_PAN_ID,
                nv::PRECFGKEY,
                nv::NWK_ACTIVE_KEY_INFO,
                nv::NWK_ALTERN_KEY_INFO,
                nv::BDBNODEISONANETWORK,
            ] {
                if let Some(v) = fresh.get(id) {
                    self.nv.set(id, v.to_vec());
                }
            }
            for item in [
                nvex::ADDRMGR,
                nvex::TCLK_TABLE,
                nvex::APS_KEY_DATA_TABLE,
                nvex::NWK_SEC_MATERIAL_TABLE,
            ] {
                for (sub, v) in fresh.table(item) {
                    self.nv.set_ex(item, sub, v.to_vec());
                }
            }
        }
        if option & 0x03 != 0 {
            self.nv.set(nv::STARTUP_OPTION, vec![0]);
            for d in &mut self.devices {
                d.joined = false;
            }
        }
        // The IEEE address is EXTADDR; a deleted EXTADDR is recreated from the chip's own.
        let extaddr = extaddr
            .filter(|v| v.len() == 8)
            .unwrap_or_else(|| self.hardware_ieee.to_le_bytes().to_vec());
        self.nv.set(nv::EXTADDR, extaddr.clone());
        let mut a = [0u8; 8];
        a.copy_from_slice(&extaddr);
        self.ieee = u64::from_le_bytes(a);
        vec![emit(sys::ResetInd {
            reason: 0,
            transport_rev: 2,
            product: 1,
            major_rel: 2,
            minor_rel: 7,
            hw_rev: 0,
        })]
    }

    /// Forms a network from the configuration items (random PAN id unless set, extended
    /// PAN id from APS_USE_EXT_PANID or the IEEE address, key from PRECFGKEY or random) and
    /// saves it as Z-Stack does: NIB, active and alternate key, frame counter entry, the
    /// network's extended PAN id and "on a network", so a host reading NV sees the network.
    pub(super) fn form(&mut self) {
        let (mut pan, mut ext, _, key) = self.network();
        if pan == 0xFFFF || pan == 0xFFFE || pan == 0 {
            pan = (self.random.next_u64() as u16 % 0xFFF0).max(1);
        }
        if ext == 0 || ext == u64::MAX {
            ext = self.ieee;
        }
        let channel = (11..=26)
            .find(|c| self.primary_channels & (1 << c) != 0)
            .unwrap_or(11);
        if key == [0; 16] {
            let a = self.random.next_u64().to_le_bytes();
            let b = self.random.next_u64().to_le_bytes();
            self.nv.set(nv::PRECFGKEY, [a, b].concat());
        }
        let mut active_key = vec![0u8];
        active_key.extend_from_slice(self.nv.get(nv::PRECFGKEY).unwrap_or(&[0; 16]));
        let net = NibNetwork {
            pan_id: pan,
            extended_pan_id: ext,
            channel,
            channel_list: 1 << channel,
            key_loaded: true,
        };
        let mut nib_bytes = self.nv.get(nv::NIB).map(<[u8]>::to_vec).unwrap_or_default();
        nib::form_nib(&mut nib_bytes, &net, self.ieee);
        self.nv.set(nv::NIB, nib_bytes);
        self.nv.set(nv::EXTENDED_PAN_ID, ext.to_le_bytes().to_vec());
        self.nv.set(nv::NWK_ACTIVE_KEY_INFO, active_key.clone());
        self.nv.set(nv::NWK_ALTERN_KEY_INFO, active_key);
        self.nv
            .set_ex(nvex::NWK_SEC_MATERIAL_TABLE, 0, nib::sec_material(1, ext));
        self.nv.set(nv::BDBNODEISONANETWORK, vec![1]);
        // Scenario devices that start paired are in this network's tables too.
        let paired: Vec<(u16, u64, bool)> = self
            .devices
            .iter()
            .filter(|d| d.joined)
            .map(|d| {
                let end_device = d.device.node.mac_capabilities & 0x02 == 0;
                (d.device.nwk, d.device.ieee, end_device)
            })
            .collect();
        for (nwk, ieee, end_device) in paired {
            self.remember_device(nwk, ieee, end_device);
        }
    }

    /// Forms a network with these parameters as if a host had commissioned this coordinator
    /// (test and demo set-up); the previous network, if any, is forgotten.
    pub fn form_network(&mut self, pan_id: u16, extended_pan_id: u64, channel: u8, key: [u8; 16]) {
        self.nv.set(nv::BDBNODEISONANETWORK, vec![0]);
        self.nv.set(nv::PANID, pan_id.to_le_bytes().to_vec());
        self.nv.set(
            nv::APS_USE_EXT_PANID,
            extended_pan_id.to_le_bytes().to_vec(),
        );
        self.nv.set(nv::PRECFGKEY, key.to_vec());
        self.primary_channels = 1 << channel.clamp(11, 26);
        self.form();
    }

    /// Records a device the trust centre let in: an address manager entry and a hashed
    /// trust-centre link key entry, as Z-Stack 3.30 keeps them in its NV tables.
    pub(super) fn remember_device(&mut self, nwk: u16, ieee: u64, end_device: bool) {
        self.forget_device(ieee);
        let user = nib::addrmgr::SECURITY | if end_device { nib::addrmgr::ASSOC } else { 0 };
        let free = self
            .nv
            .table(nvex::ADDRMGR)
            .find(|(_, e)| nib::addrmgr_ieee(e).is_none())
            .map(|(sub, _)| sub);
        if let Some(sub) = free {
            self.nv
                .set_ex(nvex::ADDRMGR, sub, nib::addrmgr_entry(user, nwk, ieee));
        }
        let free = self
            .nv
            .table(nvex::TCLK_TABLE)
            .find(|(_, e)| nib::tclk_ieee(e) == 0)
            .map(|(sub, _)| sub);
        if let Some(sub) = free {
            self.nv
                .set_ex(nvex::TCLK_TABLE, sub, nib::tclk_entry(ieee, 0));
        }
    }

    /// Drops a device's address manager and link key entries (it left or was removed).
    pub(super) fn forget_device(&mut self, ieee: u64) {
        let addr: Vec<u16> = self
            .nv
            .table(nvex::ADDRMGR)
            .filter(|(_, e)| nib::addrmgr_ieee(e) == Some(ieee))
            .map(|(sub, _)| sub)
            .collect();
        for sub in addr {
            self.nv
                .set_ex(nvex::ADDRMGR, sub, nib::addrmgr::EMPTY.to_vec());
        }
        let keys: Vec<u16> = self
            .nv
            .table(nvex::TCLK_TABLE)
            .filter(|(_, e)| nib::tclk_ieee(e) == ieee)
            .map(|(sub, _)| sub)
            .collect();
        for sub in keys {
            self.nv
                .set_ex(nvex::TCLK_TABLE, sub, nib::empty_tclk_entry());
        }
    }

    /// Counts one secured frame sent on the running network: the outgoing NWK frame counter
    /// in its NWK_SEC_MATERIAL_TABLE entry moves on, as the firmware's does.
    pub(super) fn count_tx(&mut self) {
        if !self.on_network() {
            return;
        }
        let (_, ext, _, _) = self.network();
        let entry = self
            .nv
            .table(nvex::NWK_SEC_MATERIAL_TABLE)
            .map(|(sub, e)| (sub, nib::read_sec_material(e)))
            .find(|(_, (_, e))| *e == ext);
        if let Some((sub, (counter, _))) = entry {
            self.nv.set_ex(
                nvex::NWK_SEC_MATERIAL_TABLE,
                sub,
                nib::sec_material(counter.wrapping_add(1), ext),
            );
        }
    }
}
