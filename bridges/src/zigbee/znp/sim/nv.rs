//! The simulated dongle's OSAL NV store with Z-Stack 3.x semantics for item init, read,
//! write, length and delete (MT_SYS.c / OSAL_Nv.c status codes).

use std::collections::BTreeMap;

use crate::zigbee::znp::commands::sys::{nv, status};

/// NV items by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvStore {
    items: BTreeMap<u16, Vec<u8>>,
}

impl NvStore {
    /// The items a factory-new Z-Stack 3.x coordinator firmware has.
    pub fn factory(ieee: u64) -> Self {
        let mut items = BTreeMap::new();
        items.insert(nv::EXTADDR, ieee.to_le_bytes().to_vec());
        items.insert(nv::STARTUP_OPTION, vec![0]);
        items.insert(nv::NIB, vec![0; 116]);
        items.insert(nv::EXTENDED_PAN_ID, vec![0xDD; 8]);
        items.insert(nv::NWK_ACTIVE_KEY_INFO, vec![0; 17]);
        items.insert(nv::BDBNODEISONANETWORK, vec![0]);
        items.insert(nv::PRECFGKEY, vec![0; 16]);
        items.insert(nv::PRECFGKEYS_ENABLE, vec![0]);
        items.insert(nv::PANID, vec![0xFF, 0xFF]);
        items.insert(nv::CHANLIST, 0x0000_0800u32.to_le_bytes().to_vec());
        items.insert(nv::LOGICAL_TYPE, vec![0]);
        items.insert(nv::ZDO_DIRECT_CB, vec![0]);
        NvStore { items }
    }

    /// An item's bytes.
    pub fn get(&self, id: u16) -> Option<&[u8]> {
        self.items.get(&id).map(Vec::as_slice)
    }

    /// Replaces an item (firmware-internal writes).
    pub fn set(&mut self, id: u16, value: Vec<u8>) {
        self.items.insert(id, value);
    }

    /// SYS_OSAL_NV_READ: status and up to 248 bytes from `offset`.
    pub fn read(&self, id: u16, offset: u8) -> (u8, Vec<u8>) {
        match self.items.get(&id) {
            None => (status::INVALID_PARAMETER, Vec::new()),
            Some(v) if usize::from(offset) > v.len() => (status::NV_OPER_FAILED, Vec::new()),
            Some(v) => {
                let rest = &v[usize::from(offset)..];
                (status::SUCCESS, rest[..rest.len().min(248)].to_vec())
            }
        }
    }

    /// SYS_OSAL_NV_WRITE.
    pub fn write(&mut self, id: u16, offset: u8, value: &[u8]) -> u8 {
        let Some(item) = self.items.get_mut(&id) else {
            return status::NV_ITEM_UNINIT;
        };
        let start = usize::from(offset);
        if start + value.len() > item.len() {
            return status::NV_BAD_ITEM_LEN;
        }
        item[start..start + value.len()].copy_from_slice(value);
        status::SUCCESS
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
}
