//! Byte layouts of the NV structures a Z-Stack 3.30 coordinator on a 32-bit CC26xx/CC13xx
//! keeps and hosts read back: the network information base (`nwkIB_t`, NV 0x0021) and the
//! entries of the extended NV tables. Layouts are the in-memory C structs with natural
//! alignment (what the firmware writes to NV), little-endian.

/// Size of the aligned `nwkIB_t`.
pub const NIB_LEN: usize = 116;
/// Size of an aligned `AddrMgrEntry_t`.
pub const ADDRMGR_ENTRY_LEN: usize = 12;
/// Size of an aligned `APSME_TCLKDevEntry_t`.
pub const TCLK_ENTRY_LEN: usize = 20;
/// Size of an `APSME_ApsLinkKeyNVEntry_t`.
pub const APS_KEY_DATA_LEN: usize = 24;
/// Size of an `nwkSecMaterialDesc_t`.
pub const SEC_MATERIAL_LEN: usize = 12;
/// Size of an aligned `associated_devices_t` (UTIL_ASSOC_FIND_DEVICE's answer).
pub const ASSOC_DEVICE_LEN: usize = 36;

/// Field offsets inside the aligned `nwkIB_t`.
mod off {
    pub const SECURITY_LEVEL: usize = 12;
    pub const DEV_ADDRESS: usize = 22;
    pub const LOGICAL_CHANNEL: usize = 24;
    pub const COORD_ADDRESS: usize = 26;
    pub const COORD_EXT_ADDRESS: usize = 28;
    pub const PAN_ID: usize = 36;
    pub const STATE: usize = 38;
    pub const CHANNEL_LIST: usize = 40;
    pub const EXTENDED_PAN_ID: usize = 57;
    pub const KEY_LOADED: usize = 65;
    pub const MANAGER_ADDR: usize = 110;
    pub const UPDATE_ID: usize = 114;
}

/// `NWK_ROUTER`: the NWK state of a running coordinator.
const NWK_STATE_ROUTER: u8 = 8;

/// Address manager user types (`ADDRMGR_USER_*`).
pub mod addrmgr {
    /// Associated child (end device).
    pub const ASSOC: u8 = 0x01;
    /// Has security material (a trust-centre link key).
    pub const SECURITY: u8 = 0x02;
    /// An unused entry as Z-Stack 3.30 stores it.
    pub const EMPTY: [u8; super::ADDRMGR_ENTRY_LEN] = [0xFF; super::ADDRMGR_ENTRY_LEN];
}

/// `KeyAttributes` of a unique trust-centre link key verified by the coordinator.
const TCLK_VERIFIED_KEY: u8 = 0x02;
/// `KeyAttributes` of an unused TCLK table entry.
const TCLK_DEFAULT_KEY: u8 = 0xFF;

/// The NIB of a factory-new coordinator: defaults, no network (channel 0, key not loaded).
pub fn factory_nib() -> Vec<u8> {
    let mut n = vec![0u8; NIB_LEN];
    // Z-Stack's NIB defaults: passive ack timeout, broadcast retries, max children,
    // max depth, max routers, ..., security level 5.
    n[..11].copy_from_slice(&[0, 5, 2, 0x14, 20, 0x14, 0, 30, 0, 4, 0]);
    n[off::SECURITY_LEVEL] = 5;
    n[16..18].copy_from_slice(&7u16.to_le_bytes());
    n[18] = 2; // Zigbee PRO protocol version
    n[off::DEV_ADDRESS..off::DEV_ADDRESS + 2].copy_from_slice(&0xFFFEu16.to_le_bytes());
    n[off::COORD_ADDRESS..off::COORD_ADDRESS + 2].copy_from_slice(&0xFFFEu16.to_le_bytes());
    n[off::PAN_ID..off::PAN_ID + 2].copy_from_slice(&0xFFFEu16.to_le_bytes());
    n[off::CHANNEL_LIST..off::CHANNEL_LIST + 4].copy_from_slice(&0x07FF_F800u32.to_le_bytes());
    n[44] = 15; // beacon order
    n[45] = 15; // superframe order
    n[off::MANAGER_ADDR..off::MANAGER_ADDR + 2].copy_from_slice(&0u16.to_le_bytes());
    n
}

/// The network a NIB describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NibNetwork {
    /// PAN id.
    pub pan_id: u16,
    /// Extended PAN id.
    pub extended_pan_id: u64,
    /// Logical channel (0 before formation).
    pub channel: u8,
    /// Channel mask.
    pub channel_list: u32,
    /// Whether the network key is loaded.
    pub key_loaded: bool,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).map_or(0, |s| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        u64::from_le_bytes(a)
    })
}

/// Reads the network fields of a stored NIB; `None` when the item is not a NIB.
pub fn read_nib(nib: &[u8]) -> Option<NibNetwork> {
    if nib.len() != NIB_LEN {
        return None;
    }
    Some(NibNetwork {
        pan_id: u16_at(nib, off::PAN_ID),
        extended_pan_id: u64_at(nib, off::EXTENDED_PAN_ID),
        channel: nib[off::LOGICAL_CHANNEL],
        channel_list: u32_at(nib, off::CHANNEL_LIST),
        key_loaded: nib[off::KEY_LOADED] != 0,
    })
}

/// Rewrites a NIB for a network this coordinator just formed, as the NWK layer does when
/// it saves the NIB after `NLME-NETWORK-FORMATION.confirm`.
pub fn form_nib(nib: &mut Vec<u8>, net: &NibNetwork, ieee: u64) {
    if nib.len() != NIB_LEN {
        *nib = factory_nib();
    }
    nib[off::DEV_ADDRESS..off::DEV_ADDRESS + 2].copy_from_slice(&0u16.to_le_bytes());
    nib[off::LOGICAL_CHANNEL] = net.channel;
    nib[off::COORD_ADDRESS..off::COORD_ADDRESS + 2].copy_from_slice(&0u16.to_le_bytes());
    nib[off::COORD_EXT_ADDRESS..off::COORD_EXT_ADDRESS + 8].copy_from_slice(&ieee.to_le_bytes());
    nib[off::PAN_ID..off::PAN_ID + 2].copy_from_slice(&net.pan_id.to_le_bytes());
    nib[off::STATE] = NWK_STATE_ROUTER;
    nib[off::STATE + 1] = 0;
    nib[off::CHANNEL_LIST..off::CHANNEL_LIST + 4].copy_from_slice(&net.channel_list.to_le_bytes());
    nib[off::EXTENDED_PAN_ID..off::EXTENDED_PAN_ID + 8]
        .copy_from_slice(&net.extended_pan_id.to_le_bytes());
    nib[off::KEY_LOADED] = u8::from(net.key_loaded);
    nib[off::UPDATE_ID] = 0;
}

/// An address manager entry.
pub fn addrmgr_entry(user: u8, nwk: u16, ieee: u64) -> Vec<u8> {
    let mut e = vec![user, 0];
    e.extend_from_slice(&nwk.to_le_bytes());
    e.extend_from_slice(&ieee.to_le_bytes());
    e
}

/// The IEEE address of an address manager entry, `None` for an unused one.
pub fn addrmgr_ieee(entry: &[u8]) -> Option<u64> {
    (entry.len() == ADDRMGR_ENTRY_LEN && entry[0] != 0xFF).then(|| u64_at(entry, 4))
}

/// A TCLK table entry for a device whose unique link key is the seed hashed with its IEEE
/// address, rotated by `shift` bytes.
pub fn tclk_entry(ieee: u64, shift: u8) -> Vec<u8> {
    let mut e = vec![0u8; TCLK_ENTRY_LEN];
    e[8..16].copy_from_slice(&ieee.to_le_bytes());
    e[16] = TCLK_VERIFIED_KEY;
    e[18] = shift;
    e
}

/// An unused TCLK table entry.
pub fn empty_tclk_entry() -> Vec<u8> {
    let mut e = vec![0u8; TCLK_ENTRY_LEN];
    e[16] = TCLK_DEFAULT_KEY;
    e
}

/// The IEEE address of a TCLK table entry (0 when unused).
pub fn tclk_ieee(entry: &[u8]) -> u64 {
    u64_at(entry, 8)
}

/// A network security material entry: outgoing frame counter for an extended PAN id.
pub fn sec_material(frame_counter: u32, extended_pan_id: u64) -> Vec<u8> {
    let mut e = frame_counter.to_le_bytes().to_vec();
    e.extend_from_slice(&extended_pan_id.to_le_bytes());
    e
}

/// The frame counter and extended PAN id of a security material entry.
pub fn read_sec_material(entry: &[u8]) -> (u32, u64) {
    (u32_at(entry, 0), u64_at(entry, 4))
}

/// `associated_devices_t` of a child, or an unused slot (short address 0xFFFF).
pub fn assoc_device(child: Option<(u16, u16)>) -> Vec<u8> {
    let mut e = vec![0u8; ASSOC_DEVICE_LEN];
    let (nwk, idx) = child.unwrap_or((0xFFFF, 0xFFFF));
    e[0..2].copy_from_slice(&nwk.to_le_bytes());
    e[2..4].copy_from_slice(&idx.to_le_bytes());
    // nodeRelation: 1 CHILD_RFD, 0xFF NOTUSED
    e[4] = if child.is_some() { 1 } else { 0xFF };
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formed_nib_reads_back_the_network_it_was_formed_with() {
        let mut nib = factory_nib();
        assert_eq!(read_nib(&nib).map(|n| n.channel), Some(0));
        let net = NibNetwork {
            pan_id: 0x1A62,
            extended_pan_id: 0xDDDD_0000_1111_2222,
            channel: 15,
            channel_list: 1 << 15,
            key_loaded: true,
        };
        form_nib(&mut nib, &net, 0x0012_4B00_0000_0001);
        assert_eq!(nib.len(), NIB_LEN);
        assert_eq!(read_nib(&nib), Some(net));
        // nwkState is a 16-bit enum whose high byte must stay 0.
        assert_eq!(&nib[38..40], &[8, 0]);
    }

    #[test]
    fn short_nib_is_not_read() {
        assert_eq!(read_nib(&[0; 110]), None);
    }

    #[test]
    fn table_entries_have_the_aligned_sizes() {
        assert_eq!(addrmgr_entry(3, 0x1234, 7).len(), ADDRMGR_ENTRY_LEN);
        assert_eq!(addrmgr_ieee(&addrmgr_entry(3, 0x1234, 7)), Some(7));
        assert_eq!(addrmgr_ieee(&addrmgr::EMPTY), None);
        assert_eq!(tclk_ieee(&tclk_entry(9, 0)), 9);
        assert_eq!(read_sec_material(&sec_material(5, 6)), (5, 6));
        assert_eq!(assoc_device(None).len(), ASSOC_DEVICE_LEN);
    }
}
