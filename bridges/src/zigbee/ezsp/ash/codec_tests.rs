//! Codec tests against the byte sequences printed in UG101 §3 and vectors computed from it.

use bytes::{Bytes, BytesMut};
use tokio_util::codec::Decoder;

use super::codec::*;
use super::framer::AshCodec;

fn wire(frame: &AshFrame) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(frame, &mut out);
    out.to_vec()
}

fn decode_all(codec: &mut AshCodec, bytes: &[u8]) -> Vec<Result<AshFrame, AshFrameError>> {
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Ok(Some(item)) = codec.decode(&mut buf) {
        out.push(item);
    }
    assert!(
        buf.is_empty(),
        "decoder must consume everything it was given"
    );
    out
}

fn data(frm_num: u8, ack_num: u8, re_tx: bool, payload: &[u8]) -> AshFrame {
    AshFrame::Data {
        frm_num,
        ack_num,
        re_tx,
        payload: Bytes::copy_from_slice(payload),
    }
}

const VERSION_CMD: [u8; 4] = [0x00, 0x00, 0x00, 0x02];
const VERSION_RSP: [u8; 7] = [0x00, 0x80, 0x00, 0x02, 0x02, 0x11, 0x30];

#[test]
fn control_frames_match_ug101_examples() {
    assert_eq!(wire(&AshFrame::Rst), [0xC0, 0x38, 0xBC, 0x7E]);
    assert_eq!(
        wire(&AshFrame::RstAck {
            version: 2,
            reset_code: reset_code::POWER_ON
        }),
        [0xC1, 0x02, 0x02, 0x9B, 0x7B, 0x7E]
    );
    assert_eq!(
        wire(&AshFrame::Ack {
            ack_num: 1,
            n_rdy: false
        }),
        [0x81, 0x60, 0x59, 0x7E]
    );
    assert_eq!(
        wire(&AshFrame::Ack {
            ack_num: 6,
            n_rdy: true
        }),
        [0x8E, 0x91, 0xB6, 0x7E]
    );
    assert_eq!(
        wire(&AshFrame::Nak {
            ack_num: 6,
            n_rdy: false
        }),
        [0xA6, 0x34, 0xDC, 0x7E]
    );
}

#[test]
fn error_and_software_rstack_frames_have_computed_crc() {
    // UG101 prints ERROR as C2 01 52 FA BD 7E, whose CRC matches no version/code pair;
    // these are CRC-CCITT over the control and data bytes, as for every other example.
    assert_eq!(
        wire(&AshFrame::Error {
            version: 2,
            code: reset_code::EXCEEDED_MAXIMUM_ACK_TIMEOUT_COUNT
        }),
        [0xC2, 0x02, 0x51, 0xA8, 0xBD, 0x7E]
    );
    assert_eq!(
        wire(&AshFrame::RstAck {
            version: 2,
            reset_code: reset_code::SOFTWARE
        }),
        [0xC1, 0x02, 0x0B, 0x0A, 0x52, 0x7E]
    );
}

#[test]
fn data_frames_match_ug101_randomised_examples() {
    assert_eq!(
        wire(&data(2, 5, false, &VERSION_CMD)),
        [0x25, 0x42, 0x21, 0xA8, 0x56, 0xA6, 0x09, 0x7E]
    );
    // UG101 prints the response as 53 42 A1 A8 56 28 04 82 96 23 7E: the randomised data
    // bytes agree, its CRC does not (CRC-CCITT of those eight bytes is 0x032A, as bellows'
    // crc_hqx also computes), so only the CRC here is computed rather than copied.
    assert_eq!(
        wire(&data(5, 3, false, &VERSION_RSP)),
        [
            0x53, 0x42, 0xA1, 0xA8, 0x56, 0x28, 0x04, 0x82, 0x03, 0x2A, 0x7E
        ]
    );
}

#[test]
fn crc_matches_ug101_unrandomised_examples() {
    assert_eq!(crc16(&[0x25, 0x00, 0x00, 0x00, 0x02]), 0x1AAD);
    assert_eq!(
        crc16(&[0x53, 0x00, 0x80, 0x00, 0x02, 0x02, 0x11, 0x30]),
        0x6316
    );
}

#[test]
fn pseudo_random_sequence_starts_as_ug101_says() {
    assert_eq!(
        PSEUDO_RANDOM[..8],
        [0x42, 0x21, 0xA8, 0x54, 0x2A, 0x15, 0xB2, 0x59]
    );
}

#[test]
fn every_reserved_byte_is_stuffed_and_restored() {
    let reserved = [FLAG, ESCAPE, XON, XOFF, SUBSTITUTE, CANCEL];
    // Choose EZSP bytes that randomise to each reserved byte.
    let payload: Vec<u8> = reserved
        .iter()
        .zip(PSEUDO_RANDOM.iter())
        .map(|(r, p)| r ^ p)
        .collect();
    // frmNum 7, reTx, ackNum 6: the control byte itself is 0x7E and must be stuffed too.
    let frame = data(7, 6, true, &payload);
    let bytes = wire(&frame);
    assert_eq!(
        bytes[..14],
        [
            0x7D, 0x5E, 0x7D, 0x5E, 0x7D, 0x5D, 0x7D, 0x31, 0x7D, 0x33, 0x7D, 0x38, 0x7D, 0x3A
        ]
    );
    assert_eq!(bytes.iter().filter(|&&b| b == FLAG).count(), 1);
    let mut codec = AshCodec::new();
    assert_eq!(decode_all(&mut codec, &bytes), [Ok(frame)]);
}

#[test]
fn every_frame_type_round_trips() {
    let frames = [
        AshFrame::Rst,
        AshFrame::RstAck {
            version: 2,
            reset_code: 0x0B,
        },
        AshFrame::Error {
            version: 2,
            code: 0x51,
        },
        AshFrame::Ack {
            ack_num: 7,
            n_rdy: true,
        },
        AshFrame::Nak {
            ack_num: 0,
            n_rdy: false,
        },
        data(3, 4, false, &[0u8; MAX_DATA_LEN]),
        data(0, 0, false, &VERSION_RSP),
    ];
    let mut bytes = Vec::new();
    for f in &frames {
        bytes.extend(wire(f));
    }
    let mut codec = AshCodec::new();
    let got: Vec<_> = decode_all(&mut codec, &bytes)
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(got, frames);
    assert_eq!(codec.stats().frames, frames.len() as u64);
}

#[test]
fn view_exposes_fields_of_a_checked_frame() {
    let raw = [0x25, 0x42, 0x21, 0xA8, 0x56, 0xA6, 0x09];
    let view = AshFrameView::new_checked(&raw[..]).unwrap();
    assert_eq!(view.kind(), Some(FrameKind::Data));
    assert_eq!(
        (view.frm_num(), view.ack_num(), view.flag_bit()),
        (2, 5, false)
    );
    assert_eq!(view.crc(), 0xA609);
    assert_eq!(
        AshFrame::parse(&view),
        Some(data(2, 5, false, &VERSION_CMD))
    );
}

#[test]
fn view_rejects_bad_crc_length_and_control() {
    assert_eq!(
        AshFrameView::new_checked(&[0xC0, 0x38][..]).err(),
        Some(AshFrameError::TooShort(2))
    );
    assert_eq!(
        AshFrameView::new_checked(&[0xC0, 0x38, 0xBD][..]).err(),
        Some(AshFrameError::BadCrc { control: 0xC0 })
    );
    let c3 = crc16(&[0xC3]).to_be_bytes();
    assert_eq!(
        AshFrameView::new_checked(&[0xC3, c3[0], c3[1]][..]).err(),
        Some(AshFrameError::BadControl(0xC3))
    );
    // RSTACK without its two data bytes.
    let c1 = crc16(&[0xC1]).to_be_bytes();
    assert_eq!(
        AshFrameView::new_checked(&[0xC1, c1[0], c1[1]][..]).err(),
        Some(AshFrameError::BadLength {
            control: 0xC1,
            len: 0
        })
    );
    // DATA shorter than an EZSP frame.
    let short = [0x01, 0x00];
    let c = crc16(&short).to_be_bytes();
    assert!(matches!(
        AshFrameView::new_checked(&[0x01, 0x00, c[0], c[1]][..]),
        Err(AshFrameError::BadLength { len: 1, .. })
    ));
    assert_eq!(
        AshFrameView::new_checked(&[0u8; MAX_FRAME_LEN + 1][..]).err(),
        Some(AshFrameError::TooLong)
    );
}

#[test]
fn garbage_before_a_frame_is_one_error_then_the_frame_decodes() {
    let mut codec = AshCodec::new();
    let mut bytes = vec![0x12, 0x34, 0x56, 0x78, 0x9A, FLAG];
    bytes.extend(wire(&AshFrame::Rst));
    let items = decode_all(&mut codec, &bytes);
    assert_eq!(items.len(), 2);
    assert!(matches!(
        items[0],
        Err(AshFrameError::BadCrc { control: 0x12 })
    ));
    assert_eq!(items[1], Ok(AshFrame::Rst));
}

#[test]
fn bad_crc_is_an_error_item_and_next_frame_decodes() {
    let mut codec = AshCodec::new();
    let mut bytes = wire(&data(2, 5, false, &VERSION_CMD));
    bytes[3] ^= 0x01;
    bytes.extend(wire(&AshFrame::Ack {
        ack_num: 1,
        n_rdy: false,
    }));
    let items = decode_all(&mut codec, &bytes);
    assert_eq!(
        items,
        [
            Err(AshFrameError::BadCrc { control: 0x25 }),
            Ok(AshFrame::Ack {
                ack_num: 1,
                n_rdy: false
            })
        ]
    );
    assert!(items[0].as_ref().unwrap_err().may_be_data());
    assert_eq!(codec.stats().bad_frames, 1);
}

#[test]
fn cancel_byte_discards_the_frame_in_progress() {
    let mut codec = AshCodec::new();
    let rsp = wire(&data(5, 3, false, &VERSION_RSP));
    let mut bytes = rsp[..5].to_vec();
    bytes.push(CANCEL);
    bytes.extend(&rsp);
    let items = decode_all(&mut codec, &bytes);
    assert_eq!(
        items,
        [
            Err(AshFrameError::Cancelled),
            Ok(data(5, 3, false, &VERSION_RSP))
        ]
    );
    assert!(!AshFrameError::Cancelled.may_be_data());
}

#[test]
fn host_reset_sequence_decodes_as_a_plain_rst() {
    let mut codec = AshCodec::new();
    let items = decode_all(&mut codec, &[0x1A, 0xC0, 0x38, 0xBC, 0x7E]);
    assert_eq!(items, [Ok(AshFrame::Rst)]);
}

#[test]
fn substitute_byte_marks_frame_bad_up_to_the_next_flag() {
    let mut codec = AshCodec::new();
    let rsp = wire(&data(5, 3, false, &VERSION_RSP));
    let mut bytes = rsp.clone();
    bytes[4] = SUBSTITUTE;
    bytes.extend(&rsp);
    let items = decode_all(&mut codec, &bytes);
    assert_eq!(
        items,
        [
            Err(AshFrameError::Substitute),
            Ok(data(5, 3, false, &VERSION_RSP))
        ]
    );
}

#[test]
fn escape_before_flag_is_a_stuffing_error() {
    let mut codec = AshCodec::new();
    let items = decode_all(&mut codec, &[0xC0, 0x38, 0xBC, ESCAPE, FLAG]);
    assert_eq!(items, [Err(AshFrameError::BadEscape)]);
}

#[test]
fn xon_xoff_and_wake_bytes_are_ignored() {
    let mut codec = AshCodec::new();
    let bytes = [WAKE, XON, 0xC0, XOFF, 0x38, 0xBC, XON, FLAG, FLAG];
    assert_eq!(decode_all(&mut codec, &bytes), [Ok(AshFrame::Rst)]);
    assert_eq!(codec.stats().skipped_bytes, 5);
}

#[test]
fn overlong_frame_is_rejected_without_growing_the_buffer() {
    let mut codec = AshCodec::new();
    let mut bytes = vec![0x01; 10_000];
    bytes.push(FLAG);
    bytes.extend(wire(&AshFrame::Rst));
    let items = decode_all(&mut codec, &bytes);
    assert_eq!(items, [Err(AshFrameError::TooLong), Ok(AshFrame::Rst)]);
    assert!(codec.frame_capacity() <= 4 * MAX_FRAME_LEN);
}

#[test]
fn frame_split_across_reads_decodes_once_complete() {
    let mut codec = AshCodec::new();
    let bytes = wire(&data(5, 3, false, &VERSION_RSP));
    let mut buf = BytesMut::from(&bytes[..4]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert!(buf.is_empty());
    buf.extend_from_slice(&bytes[4..]);
    assert_eq!(
        codec.decode(&mut buf).unwrap(),
        Some(Ok(data(5, 3, false, &VERSION_RSP)))
    );
}

#[test]
fn decoder_never_panics_on_arbitrary_bytes() {
    let mut codec = AshCodec::new();
    let mut seed = 0x9E37_79B9u32;
    let bytes: Vec<u8> = (0..20_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            match seed % 11 {
                0 => FLAG,
                1 => ESCAPE,
                _ => seed as u8,
            }
        })
        .collect();
    let mut seen = 0;
    for chunk in bytes.chunks(29) {
        seen += decode_all(&mut codec, chunk).len();
    }
    assert!(seen > 0);
    assert!(codec.stats().bad_frames > 0);
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

#[test]
fn encoding_agrees_with_bellows_byte_for_byte() {
    // Produced by bellows 1.2.1 (`DataFrame`/`NakFrame`.to_bytes() + `_stuff_bytes` + flag).
    let cases = [
        (
            data(
                7,
                6,
                true,
                &[0x3C, 0x5C, 0xB9, 0x47, 0x32, 0x0F, 0x00, 0xFF, 0x13],
            ),
            "7d 5e 7d 5e 7d 5d 7d 31 7d 33 7d 38 7d 3a b2 a6 87 d1 a5 7e",
        ),
        (
            data(3, 1, false, &(0..40).collect::<Vec<u8>>()),
            "31 42 20 aa 57 2e 10 b4 5e 9c 43 2f a1 59 9f 47 93 5e 36 b9 fe da 72 9d ea de 7a \
             93 e7 62 22 b9 f4 ed ff 4d ac db e2 fd f2 25 94 7e",
        ),
        (
            AshFrame::Nak {
                ack_num: 2,
                n_rdy: true,
            },
            "aa f5 50 7e",
        ),
    ];
    let mut codec = AshCodec::new();
    for (frame, bytes) in cases {
        let bytes = hex(bytes);
        assert_eq!(wire(&frame), bytes, "{frame:?}");
        assert_eq!(decode_all(&mut codec, &bytes), [Ok(frame)]);
    }
}
