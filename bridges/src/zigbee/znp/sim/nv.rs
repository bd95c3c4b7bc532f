//! The simulated dongle's NV store with Z-Stack 3.30 semantics: the legacy OSAL items
//! (SYS_OSAL_NV_*, MT_SYS.c / OSAL_Nv.c status codes) and the extended items addressed by
//! system, item and sub-id (SYS_NV_*, NVOCMP), of which the OSAL items are system 1, item 0.

use std::collections::BTreeMap;

use super::nib;
use crate::zigbee::znp::commands::sys::{nv, nvex, status};

/// Address manager table entries (NWK_MAX_ADDRESSES).
pub const ADDRMGR_ENTRIES: u16 = 64;
/// Trust-centre link key table entries (ZDSECMGR_TC_DEVICE_MAX).
pub const TCLK_ENTRIES: u16 = 64;
/// Unhashed APS link key entries (ZDSECMGR_ENTRIES).
pub const APS_KEY_ENTRIES: u16 = 16;
/// Network security material entries (MAX_NWK_SEC_MATERIAL_TABLE_ENTRIES).
pub const SEC_MATERIAL_ENTRIES: u16 = 4;

/// Most bytes one read answer carries (250-byte payload minus status and length).
const MAX_READ: usize = 248;

/// NV items by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvStore {
    items: BTreeMap<u16, Vec<u8>>,
    ex: BTreeMap<(u8, u16, u16), Vec<u8>>,
}

/// Where an extended NV address points.
enum Slot {
    Legacy(u16),
    Ex((u8, u16, u16)),
}

fn slot(sys_id: u8, item_id: u16, sub_id: u16) -> Slot {
    if sys_id == nvex::SYS_ZSTACK && item_id == nvex::LEGACY {
        Slot::Legacy(sub_id)
    } else {
        Slot::Ex((sys_id, item_id, sub_id))
    }
}

fn tclk_seed(ieee: u64) -> Vec<u8> {
    // Each stick generates its seed once from its RNG; derived from the IEEE address here so
    // a simulated stick's seed is stable across runs.
    let mut x = ieee ^ 0xA076_1D64_78BD_642F;
    (0..16)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

impl NvStore {
    /// The items a factory-new Z-Stack 3.30 coordinator firmware has.
    pub fn factory(ieee: u64) -> Self {
        let mut items = BTreeMap::new();
        items.insert(nv::EXTADDR, ieee.to_le_bytes().to_vec());
        items.insert(nv::STARTUP_OPTION, vec![0]);
        items.insert(nv::NIB, nib::factory_nib());
        items.insert(nv::EXTENDED_PAN_ID, vec![0xDD; 8]);
        items.insert(nv::NWK_ACTIVE_KEY_INFO, vec![0; 17]);
        items.insert(nv::NWK_ALTERN_KEY_INFO, vec![0; 17]);
        items.insert(nv::BDBNODEISONANETWORK, vec![0]);
        items.insert(nv::PRECFGKEY, vec![0; 16]);
        items.insert(nv::PRECFGKEYS_ENABLE, vec![0]);
        items.insert(nv::PANID, vec![0xFF, 0xFF]);
        items.insert(nv::CHANLIST, 0x0000_0800u32.to_le_bytes().to_vec());
        items.insert(nv::LOGICAL_TYPE, vec![0]);
        items.insert(nv::ZDO_DIRECT_CB, vec![0]);
        items.insert(nv::APS_USE_EXT_PANID, vec![0; 8]);
        items.insert(nv::TCLK_SEED, tclk_seed(ieee));
        items.insert(
            nv::APS_LINK_KEY_TABLE,
            vec![0; 2 + 6 * usize::from(APS_KEY_ENTRIES)],
        );
        items.insert(nv::CONCENTRATOR_ENABLE, vec![0]);
        items.insert(nv::CONCENTRATOR_DISCOVERY, vec![120]);
        items.insert(nv::CONCENTRATOR_RC, vec![0]);
        items.insert(nv::SRC_RTG_EXPIRY_TIME, vec![60]);
        items.insert(nv::NWK_CHILD_AGE_ENABLE, vec![1]);
        items.insert(nv::BCAST_DELIVERY_TIME, vec![30]);
        let mut ex = BTreeMap::new();
        let z = nvex::SYS_ZSTACK;
        for i in 0..ADDRMGR_ENTRIES {
            ex.insert((z, nvex::ADDRMGR, i), nib::addrmgr::EMPTY.to_vec());
        }
        for i in 0..TCLK_ENTRIES {
            ex.insert((z, nvex::TCLK_TABLE, i), nib::empty_tclk_entry());
        }
        for i in 0..APS_KEY_ENTRIES {
            ex.insert(
                (z, nvex::APS_KEY_DATA_TABLE, i),
                vec![0; nib::APS_KEY_DATA_LEN],
            );
        }
        for i in 0..SEC_MATERIAL_ENTRIES {
            ex.insert(
                (z, nvex::NWK_SEC_MATERIAL_TABLE, i),
                vec![0; nib::SEC_MATERIAL_LEN],
            );
        }
        NvStore { items, ex }
    }

    /// An item's bytes.
    pub fn get(&self, id: u16) -> Option<&[u8]> {
        self.items.get(&id).map(Vec::as_slice)
    }

    /// Replaces an item (firmware-internal writes).
    pub fn set(&mut self, id: u16, value: Vec<u8>) {
        self.items.insert(id, value);
    }

    /// An extended item's bytes (system 1).
    pub fn get_ex(&self, item_id: u16, sub_id: u16) -> Option<&[u8]> {
        match slot(nvex::SYS_ZSTACK, item_id, sub_id) {
            Slot::Legacy(id) => self.get(id),
            Slot::Ex(k) => self.ex.get(&k).map(Vec::as_slice),
        }
    }

    /// Replaces an existing extended item (firmware-internal writes); false if missing.
    pub fn set_ex(&mut self, item_id: u16, sub_id: u16, value: Vec<u8>) -> bool {
        match self.ex.get_mut(&(nvex::SYS_ZSTACK, item_id, sub_id)) {
            Some(v) => {
                *v = value;
                true
            }
            None => false,
        }
    }

    /// The sub-ids of an extended table, in order.
    pub fn table(&self, item_id: u16) -> impl Iterator<Item = (u16, &[u8])> {
        let z = nvex::SYS_ZSTACK;
        self.ex
            .range((z, item_id, 0)..=(z, item_id, u16::MAX))
            .map(|((_, _, sub), v)| (*sub, v.as_slice()))
    }

    /// SYS_OSAL_NV_READ(_EXT): status and up to 248 bytes from `offset`.
    pub fn read(&self, id: u16, offset: u16) -> (u8, Vec<u8>) {
        match self.items.get(&id) {
            None => (status::INVALID_PARAMETER, Vec::new()),
            Some(v) => read_from(v, offset, MAX_READ),
        }
    }

    /// SYS_OSAL_NV_WRITE(_EXT).
    pub fn write(&mut self, id: u16, offset: u16, value: &[u8]) -> u8 {
        match self.items.get_mut(&id) {
            None => status::NV_ITEM_UNINIT,
            Some(item) => write_into(item, offset, value),
        }
    }

    /// SYS_OSAL_NV_ITEM_INIT: creates a missing item (answering NV_ITEM_UNINIT as Z-Stack does).
    pub fn init(&mut self, id: u16, len: u16, value: &[u8]) -> u8 {
        if self.items.contains_key(&id) {
            return status::SUCCESS;
        }
        let mut item = vec![0xFF; usize::from(len)];
        let n = value.len().min(item.len());
        item[..n].copy_from_slice(&value[..n]);
        self.items.insert(id, item);
        status::NV_ITEM_UNINIT
    }

    /// SYS_OSAL_NV_LENGTH (0 when missing).
    pub fn length(&self, id: u16) -> u16 {
        self.items.get(&id).map_or(0, |v| v.len() as u16)
    }

    /// SYS_OSAL_NV_DELETE.
    pub fn delete(&mut self, id: u16) -> u8 {
        if self.items.remove(&id).is_some() {
            status::SUCCESS
        } else {
            status::NV_ITEM_UNINIT
        }
    }

    /// SYS_NV_LENGTH (0 when missing).
    pub fn ex_length(&self, sys_id: u8, item_id: u16, sub_id: u16) -> u32 {
        let v = match slot(sys_id, item_id, sub_id) {
            Slot::Legacy(id) => self.items.get(&id),
            Slot::Ex(k) => self.ex.get(&k),
        };
        v.map_or(0, |v| v.len() as u32)
    }

    /// SYS_NV_READ: up to `len` bytes from `offset`.
    pub fn ex_read(
        &self,
        sys_id: u8,
        item_id: u16,
        sub_id: u16,
        offset: u16,
        len: u8,
    ) -> (u8, Vec<u8>) {
        let v = match slot(sys_id, item_id, sub_id) {
            Slot::Legacy(id) => self.items.get(&id),
            Slot::Ex(k) => self.ex.get(&k),
        };
        match v {
            None => (status::NV_OPER_FAILED, Vec::new()),
            Some(v) => read_from(v, offset, usize::from(len).min(MAX_READ)),
        }
    }

    /// SYS_NV_WRITE.
    pub fn ex_write(
        &mut self,
        sys_id: u8,
        item_id: u16,
        sub_id: u16,
        offset: u16,
        value: &[u8],
    ) -> u8 {
        let v = match slot(sys_id, item_id, sub_id) {
            Slot::Legacy(id) => self.items.get_mut(&id),
            Slot::Ex(k) => self.ex.get_mut(&k),
        };
        match v {
            None => status::NV_OPER_FAILED,
            Some(item) => write_into(item, offset, value),
        }
    }

    /// SYS_NV_CREATE: a zero-filled item (SUCCESS); an existing item is left as it is
    /// (NV_ITEM_UNINIT, which hosts accept as "exists").
    pub fn ex_create(&mut self, sys_id: u8, item_id: u16, sub_id: u16, len: u32) -> u8 {
        // Items are bounded by NVOCMP's page size.
        let Ok(len) = u16::try_from(len) else {
            return status::NV_OPER_FAILED;
        };
        if self.ex_length(sys_id, item_id, sub_id) > 0 {
            return status::NV_ITEM_UNINIT;
        }
        let fresh = vec![0; usize::from(len)];
        match slot(sys_id, item_id, sub_id) {
            Slot::Legacy(id) => self.items.insert(id, fresh),
            Slot::Ex(k) => self.ex.insert(k, fresh),
        };
        status::SUCCESS
    }

    /// SYS_NV_DELETE.
    pub fn ex_delete(&mut self, sys_id: u8, item_id: u16, sub_id: u16) -> u8 {
        let existed = match slot(sys_id, item_id, sub_id) {
            Slot::Legacy(id) => self.items.remove(&id).is_some(),
            Slot::Ex(k) => self.ex.remove(&k).is_some(),
        };
        if existed {
            status::SUCCESS
        } else {
            status::NV_OPER_FAILED
        }
    }
}

fn read_from(v: &[u8], offset: u16, max: usize) -> (u8, Vec<u8>) {
    let start = usize::from(offset);
    if start > v.len() {
        return (status::NV_OPER_FAILED, Vec::new());
    }
    let rest = &v[start..];
    (status::SUCCESS, rest[..rest.len().min(max)].to_vec())
}

fn write_into(item: &mut [u8], offset: u16, value: &[u8]) -> u8 {
    let start = usize::from(offset);
    if start + value.len() > item.len() {
        return status::NV_BAD_ITEM_LEN;
    }
    item[start..start + value.len()].copy_from_slice(value);
    status::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_to_missing_or_too_short_item_fails_like_zstack() {
        let mut s = NvStore::factory(1);
        assert_eq!(s.write(0x0F00, 0, &[1]), status::NV_ITEM_UNINIT);
        assert_eq!(s.write(nv::PANID, 1, &[1, 2]), status::NV_BAD_ITEM_LEN);
        assert_eq!(s.write(nv::PANID, 0, &[0x34, 0x12]), status::SUCCESS);
        assert_eq!(s.read(nv::PANID, 0), (status::SUCCESS, vec![0x34, 0x12]));
    }

    #[test]
    fn item_init_creates_once() {
        let mut s = NvStore::factory(1);
        assert_eq!(
            s.init(nv::HAS_CONFIGURED_ZSTACK3, 1, &[0x55]),
            status::NV_ITEM_UNINIT
        );
        assert_eq!(
            s.init(nv::HAS_CONFIGURED_ZSTACK3, 1, &[0x00]),
            status::SUCCESS
        );
        assert_eq!(s.get(nv::HAS_CONFIGURED_ZSTACK3), Some(&[0x55][..]));
        assert_eq!(s.length(nv::HAS_CONFIGURED_ZSTACK3), 1);
        assert_eq!(s.delete(nv::HAS_CONFIGURED_ZSTACK3), status::SUCCESS);
        assert_eq!(s.length(nv::HAS_CONFIGURED_ZSTACK3), 0);
    }

    #[test]
    fn legacy_items_are_extended_system_1_item_0() {
        let mut s = NvStore::factory(1);
        assert_eq!(s.ex_length(1, 0, nv::PANID), 2);
        assert_eq!(
            s.ex_write(1, 0, nv::PANID, 0, &[0x62, 0x1A]),
            status::SUCCESS
        );
        assert_eq!(s.get(nv::PANID), Some(&[0x62, 0x1A][..]));
        assert_eq!(
            s.ex_read(1, 0, nv::PANID, 1, 5),
            (status::SUCCESS, vec![0x1A])
        );
    }

    #[test]
    fn extended_tables_end_where_their_sub_ids_end() {
        let mut s = NvStore::factory(1);
        let n = u16::try_from(s.table(nvex::ADDRMGR).count()).unwrap();
        assert_eq!(n, ADDRMGR_ENTRIES);
        assert_eq!(s.ex_length(1, nvex::ADDRMGR, n), 0);
        assert_eq!(
            s.ex_read(1, nvex::ADDRMGR, n, 0, 12).0,
            status::NV_OPER_FAILED
        );
        assert_eq!(s.ex_delete(1, nvex::TCLK_TABLE, 0), status::SUCCESS);
        assert_eq!(s.ex_create(1, nvex::TCLK_TABLE, 0, 20), status::SUCCESS);
        assert_eq!(
            s.ex_create(1, nvex::TCLK_TABLE, 0, 7),
            status::NV_ITEM_UNINIT
        );
        assert_eq!(s.ex_length(1, nvex::TCLK_TABLE, 0), 20);
        assert_eq!(
            s.ex_write(1, nvex::TCLK_TABLE, 0, 0, &[0; 21]),
            status::NV_BAD_ITEM_LEN
        );
        assert_eq!(
            s.ex_create(1, nvex::TCLK_TABLE, 0, 1 << 20),
            status::NV_OPER_FAILED
        );
    }
}
