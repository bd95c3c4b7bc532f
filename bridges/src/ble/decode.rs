//! Turns one advertisement's service data into readings with the identity and
//! de-duplication data the registry needs, whichever format (BTHome v2 or MiBeacon) it is.

use crate::api::BleAddress;

use super::bthome::{self, BthomeRepr};
use super::crypto::BindKey;
use super::mibeacon::{self, MiBeaconRepr};
use super::reading::Reading;

/// One advertisement as the scanner hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    /// Advertiser address.
    pub address: BleAddress,
    /// Received signal strength, dBm.
    pub rssi: Option<i16>,
    /// Local name, if advertised.
    pub local_name: Option<String>,
    /// Service data by 16-bit UUID.
    pub service_data: Vec<(u16, Vec<u8>)>,
}

/// Which advert format a device speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvertFormat {
    /// BTHome v2.
    Bthome,
    /// Xiaomi MiBeacon.
    MiBeacon,
    /// Read over a GATT connection.
    Gatt,
}

/// What makes two adverts "the same packet".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sequence {
    /// BTHome packet id object (wraps at 256).
    PacketId(u8),
    /// BTHome encryption counter (monotonic, replay protection).
    Counter(u32),
    /// MiBeacon frame counter (wraps at 256).
    FrameCounter(u8),
    /// Nothing to de-duplicate on.
    None,
}

/// A decoded advertisement.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The format.
    pub format: AdvertFormat,
    /// Readings in frame order.
    pub readings: Vec<Reading>,
    /// De-duplication key.
    pub sequence: Sequence,
    /// Manufacturer, if the format says.
    pub manufacturer: String,
    /// Model, if known.
    pub model: String,
    /// Firmware/protocol description.
    pub firmware: String,
    /// Why the frame was only partly decoded, if it was.
    pub partial: Option<String>,
    /// The device advertises only on events (BTHome "trigger based"): no regular interval.
    pub trigger_based: bool,
}

/// Why service data could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A BTHome frame that failed.
    #[error("BTHome: {0}")]
    Bthome(#[from] bthome::BthomeError),
    /// A MiBeacon frame that failed.
    #[error("MiBeacon: {0}")]
    MiBeacon(#[from] mibeacon::MiBeaconError),
}

/// Decodes the first known service data of `advert`; `Ok(None)` when it carries none.
pub fn decode(advert: &Advert, key: Option<&BindKey>) -> Result<Option<Decoded>, DecodeError> {
    for (uuid, data) in &advert.service_data {
        match *uuid {
            bthome::frame::BTHOME_UUID16 => return decode_bthome(advert, data, key).map(Some),
            mibeacon::MIBEACON_UUID16 => return decode_mibeacon(advert, data, key).map(Some),
            _ => {}
        }
    }
    Ok(None)
}

fn decode_bthome(
    advert: &Advert,
    data: &[u8],
    key: Option<&BindKey>,
) -> Result<Decoded, DecodeError> {
    let frame = bthome::frame::Frame::new_checked(data).map_err(bthome::BthomeError::from)?;
    let repr = BthomeRepr::parse(&frame, advert.address, key)?;
    let sequence = match (repr.counter, repr.packet_id()) {
        (Some(c), _) => Sequence::Counter(c),
        (None, Some(p)) => Sequence::PacketId(p),
        (None, None) => Sequence::None,
    };
    Ok(Decoded {
        format: AdvertFormat::Bthome,
        sequence,
        manufacturer: String::new(),
        model: advert
            .local_name
            .clone()
            .unwrap_or_else(|| "BTHome sensor".to_owned()),
        firmware: if repr.encrypted {
            "BTHome v2 (encrypted)".to_owned()
        } else {
            "BTHome v2".to_owned()
        },
        partial: repr.stopped.map(|e| e.to_string()),
        trigger_based: repr.trigger_based,
        readings: repr.readings,
    })
}

fn decode_mibeacon(
    advert: &Advert,
    data: &[u8],
    key: Option<&BindKey>,
) -> Result<Decoded, DecodeError> {
    let frame = mibeacon::Frame::new_checked(data)?;
    let repr = MiBeaconRepr::parse(&frame, advert.address, key)?;
    let partial = if repr.truncated {
        Some("object list truncated".to_owned())
    } else if !repr.skipped.is_empty() {
        Some(format!(
            "{} object(s) not in the common table",
            repr.skipped.len()
        ))
    } else {
        None
    };
    Ok(Decoded {
        format: AdvertFormat::MiBeacon,
        sequence: Sequence::FrameCounter(repr.frame_counter),
        manufacturer: "Xiaomi".to_owned(),
        model: mibeacon::product_name(repr.product_id)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("MiBeacon product {:#06x}", repr.product_id)),
        firmware: format!(
            "MiBeacon v{}{}",
            repr.version,
            if repr.encrypted { " (encrypted)" } else { "" }
        ),
        partial,
        trigger_based: false,
        readings: repr.readings,
    })
}
