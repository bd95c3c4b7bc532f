//! The DATA exchange machine without ports or clocks: time is an input.

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::arq::{Action, Arq, ArqConfig, Input};
use super::codec::{AshFrame, AshFrameError};

fn config(window: u8) -> ArqConfig {
    ArqConfig {
        window,
        ack_timeout_initial: Duration::from_millis(1600),
        ack_timeout_min: Duration::from_millis(400),
        ack_timeout_max: Duration::from_millis(3200),
        max_retries: 2,
    }
}

fn t0() -> Instant {
    Instant::from_std(std::time::Instant::now())
}

fn step(arq: &mut Arq, now: Instant, input: Input) -> Vec<Action> {
    let mut out = Vec::new();
    arq.step(now, input, &mut out);
    out
}

fn submit(arq: &mut Arq, now: Instant, token: u64) -> Vec<Action> {
    let payload = Bytes::from(vec![token as u8, 0, 5]);
    step(arq, now, Input::Submit { token, payload })
}

fn data(frm_num: u8, ack_num: u8, re_tx: bool) -> AshFrame {
    AshFrame::Data {
        frm_num,
        ack_num,
        re_tx,
        payload: Bytes::from(vec![frm_num, 0, 5]),
    }
}

fn ack(ack_num: u8) -> AshFrame {
    AshFrame::Ack {
        ack_num,
        n_rdy: false,
    }
}

fn nak(ack_num: u8) -> AshFrame {
    AshFrame::Nak {
        ack_num,
        n_rdy: false,
    }
}

/// (frmNum, reTx) of every DATA frame sent.
fn sent_data(actions: &[Action]) -> Vec<(u8, bool)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(AshFrame::Data { frm_num, re_tx, .. }) => Some((*frm_num, *re_tx)),
            _ => None,
        })
        .collect()
}

#[test]
fn window_limits_frames_in_flight_and_acks_release_more() {
    let now = t0();
    let mut arq = Arq::new(config(3));
    let mut sent = Vec::new();
    for token in 1..=5 {
        sent.extend(sent_data(&submit(&mut arq, now, token)));
    }
    assert_eq!(sent, [(0, false), (1, false), (2, false)]);
    let out = step(&mut arq, now, Input::Frame(ack(2)));
    assert_eq!(out[..2], [Action::Acked(1), Action::Acked(2)]);
    assert_eq!(sent_data(&out), [(3, false), (4, false)]);
    assert_eq!(arq.pending(), 3);
}

#[test]
fn frame_numbers_wrap_modulo_eight() {
    let now = t0();
    let mut arq = Arq::new(config(1));
    for token in 0..20u64 {
        let out = submit(&mut arq, now, token);
        assert_eq!(sent_data(&out), [((token % 8) as u8, false)]);
        let out = step(&mut arq, now, Input::Frame(ack(((token + 1) % 8) as u8)));
        assert_eq!(out, [Action::Acked(token)]);
    }
}

#[test]
fn in_sequence_data_is_delivered_once_and_duplicates_are_reacked() {
    let now = t0();
    let mut arq = Arq::new(config(3));
    let out = step(&mut arq, now, Input::Frame(data(0, 0, false)));
    assert_eq!(
        out,
        [
            Action::Deliver(Bytes::from_static(&[0, 0, 5])),
            Action::Send(ack(1))
        ]
    );
    let out = step(&mut arq, now, Input::Frame(data(0, 0, true)));
    assert_eq!(out, [Action::Send(ack(1))]);
    assert_eq!(arq.stats().duplicates, 1);
    assert_eq!(arq.stats().delivered, 1);
}

#[test]
fn out_of_sequence_data_is_naked_once_until_a_good_frame() {
    let now = t0();
    let mut arq = Arq::new(config(3));
    assert_eq!(
        step(&mut arq, now, Input::Frame(data(1, 0, false))),
        [Action::Send(nak(0))]
    );
    // Still in the Reject Condition: silence.
    assert!(step(&mut arq, now, Input::Frame(data(2, 0, false))).is_empty());
    assert!(step(&mut arq, now, Input::Bad(AshFrameError::Substitute)).is_empty());
    // The retransmission clears it.
    let out = step(&mut arq, now, Input::Frame(data(0, 0, true)));
    assert!(matches!(out[0], Action::Deliver(_)));
    assert_eq!(
        step(&mut arq, now, Input::Frame(data(2, 0, false))),
        [Action::Send(nak(1))]
    );
}

#[test]
fn damaged_frame_is_naked_but_cancelled_or_non_data_frame_is_not() {
    let now = t0();
    let mut arq = Arq::new(config(3));
    assert!(step(&mut arq, now, Input::Bad(AshFrameError::Cancelled)).is_empty());
    assert!(
        step(
            &mut arq,
            now,
            Input::Bad(AshFrameError::BadCrc { control: 0x81 })
        )
        .is_empty()
    );
    assert_eq!(
        step(
            &mut arq,
            now,
            Input::Bad(AshFrameError::BadCrc { control: 0x25 })
        ),
        [Action::Send(nak(0))]
    );
}

#[test]
fn nak_acknowledges_earlier_frames_and_retransmits_the_rest_with_retx() {
    let now = t0();
    let mut arq = Arq::new(config(3));
    for token in 1..=3 {
        submit(&mut arq, now, token);
    }
    let out = step(&mut arq, now, Input::Frame(nak(1)));
    assert_eq!(out[0], Action::Acked(1));
    assert_eq!(sent_data(&out), [(1, true), (2, true)]);
}

#[test]
fn ack_timeout_retransmits_doubles_the_timer_and_finally_fails() {
    let start = t0();
    let mut arq = Arq::new(config(3));
    submit(&mut arq, start, 1);
    let first = arq.deadline().unwrap();
    assert_eq!(first - start, Duration::from_millis(1600));
    let out = step(&mut arq, first, Input::AckTimeout);
    assert_eq!(sent_data(&out), [(0, true)]);
    assert_eq!(arq.ack_timeout(), Duration::from_millis(3200));
    let second = arq.deadline().unwrap();
    assert_eq!(second - first, Duration::from_millis(3200));
    assert_eq!(
        sent_data(&step(&mut arq, second, Input::AckTimeout)),
        [(0, true)]
    );
    let third = arq.deadline().unwrap();
    let out = step(&mut arq, third, Input::AckTimeout);
    assert!(matches!(out.as_slice(), [Action::Failed(_)]));
    assert!(submit(&mut arq, start, 2).is_empty());
}

#[test]
fn ack_timer_adapts_to_measured_ack_time_within_bounds() {
    let start = t0();
    let mut arq = Arq::new(config(3));
    submit(&mut arq, start, 1);
    step(
        &mut arq,
        start + Duration::from_millis(100),
        Input::Frame(ack(1)),
    );
    // 7/8 × 1600 ms + 1/2 × 100 ms.
    assert_eq!(arq.ack_timeout(), Duration::from_millis(1450));
    assert_eq!(arq.deadline(), None);
    for token in 2..40 {
        submit(&mut arq, start, token);
        step(&mut arq, start, Input::Frame(ack((token % 8) as u8)));
    }
    assert_eq!(arq.ack_timeout(), Duration::from_millis(400));
}

#[test]
fn ack_number_outside_the_window_is_ignored_and_its_data_naked() {
    let now = t0();
    let mut arq = Arq::new(config(3));
    submit(&mut arq, now, 1);
    assert!(step(&mut arq, now, Input::Frame(ack(5))).is_empty());
    assert_eq!(arq.stats().bad_ack_numbers, 1);
    assert_eq!(
        step(&mut arq, now, Input::Frame(data(0, 6, false))),
        [Action::Send(nak(0))]
    );
    assert_eq!(arq.pending(), 1);
}

#[test]
fn not_ready_change_is_announced_in_an_ack() {
    let now = t0();
    let mut arq = Arq::new(config(3));
    assert_eq!(
        step(&mut arq, now, Input::SetNotReady(true)),
        [Action::Send(AshFrame::Ack {
            ack_num: 0,
            n_rdy: true
        })]
    );
    assert!(step(&mut arq, now, Input::SetNotReady(true)).is_empty());
    let out = step(&mut arq, now, Input::Frame(data(0, 0, false)));
    assert_eq!(
        out[1],
        Action::Send(AshFrame::Ack {
            ack_num: 1,
            n_rdy: true
        })
    );
    step(
        &mut arq,
        now,
        Input::Frame(AshFrame::Ack {
            ack_num: 0,
            n_rdy: true,
        }),
    );
    assert!(arq.peer_not_ready());
}

/// One direction of a lossy serial line with a fixed delay, in virtual time.
struct Line {
    in_transit: std::collections::VecDeque<(Instant, Input)>,
    seed: u32,
}

impl Line {
    fn new(seed: u32) -> Self {
        Line {
            in_transit: Default::default(),
            seed,
        }
    }

    fn roll(&mut self) -> u32 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 17;
        self.seed ^= self.seed << 5;
        self.seed % 100
    }

    /// 10 % of frames vanish, 5 % arrive damaged.
    fn carry(&mut self, now: Instant, frame: AshFrame) {
        let at = now + Duration::from_millis(2);
        match self.roll() {
            0..10 => {}
            10..15 => {
                let control = frame.control();
                self.in_transit
                    .push_back((at, Input::Bad(AshFrameError::BadCrc { control })));
            }
            _ => self.in_transit.push_back((at, Input::Frame(frame))),
        }
    }
}

#[derive(Default)]
struct Side {
    delivered: Vec<Bytes>,
    acked: Vec<u64>,
}

fn run_actions(actions: Vec<Action>, now: Instant, side: &mut Side, line: &mut Line) {
    for action in actions {
        match action {
            Action::Send(frame) => line.carry(now, frame),
            Action::Deliver(b) => side.delivered.push(b),
            Action::Acked(t) => side.acked.push(t),
            Action::Failed(reason) => panic!("link failed: {reason}"),
        }
    }
}

#[test]
fn lossy_line_still_delivers_everything_in_order_exactly_once_both_ways() {
    for seed in 1..=16u32 {
        lossy_exchange(
            seed.wrapping_mul(0x9E37_79B9),
            seed.wrapping_mul(0x85EB_CA6B),
        );
    }
}

fn lossy_exchange(seed_a: u32, seed_b: u32) {
    const N: u64 = 300;
    let lossy = |window| ArqConfig {
        max_retries: 50,
        ..config(window)
    };
    let mut now = t0();
    let (mut host, mut ncp) = (Arq::new(lossy(3)), Arq::new(lossy(5)));
    let (mut to_ncp, mut to_host) = (Line::new(seed_a | 1), Line::new(seed_b | 1));
    let (mut host_side, mut ncp_side) = (Side::default(), Side::default());
    let payload = |dir: u8, i: u64| Bytes::from(vec![dir, (i >> 8) as u8, i as u8]);
    for i in 0..N {
        let out = step(
            &mut host,
            now,
            Input::Submit {
                token: i,
                payload: payload(0, i),
            },
        );
        run_actions(out, now, &mut host_side, &mut to_ncp);
        let out = step(
            &mut ncp,
            now,
            Input::Submit {
                token: i,
                payload: payload(1, i),
            },
        );
        run_actions(out, now, &mut ncp_side, &mut to_host);
    }
    let mut steps = 0;
    while host.pending() + ncp.pending() > 0 {
        steps += 1;
        assert!(steps < 200_000, "no progress");
        // The next event in virtual time: a frame arriving or an ACK timer.
        let candidates = [
            to_ncp.in_transit.front().map(|(t, _)| *t),
            to_host.in_transit.front().map(|(t, _)| *t),
            host.deadline(),
            ncp.deadline(),
        ];
        let next = candidates
            .iter()
            .flatten()
            .min()
            .copied()
            .expect("something pending");
        now = now.max(next);
        if to_ncp.in_transit.front().is_some_and(|(t, _)| *t <= now) {
            let (_, input) = to_ncp.in_transit.pop_front().unwrap();
            let out = step(&mut ncp, now, input);
            run_actions(out, now, &mut ncp_side, &mut to_host);
        } else if to_host.in_transit.front().is_some_and(|(t, _)| *t <= now) {
            let (_, input) = to_host.in_transit.pop_front().unwrap();
            let out = step(&mut host, now, input);
            run_actions(out, now, &mut host_side, &mut to_ncp);
        } else if host.deadline().is_some_and(|d| d <= now) {
            let out = step(&mut host, now, Input::AckTimeout);
            run_actions(out, now, &mut host_side, &mut to_ncp);
        } else {
            let out = step(&mut ncp, now, Input::AckTimeout);
            run_actions(out, now, &mut ncp_side, &mut to_host);
        }
    }
    let expect = |dir| (0..N).map(|i| payload(dir, i)).collect::<Vec<_>>();
    assert_eq!(ncp_side.delivered, expect(0));
    assert_eq!(host_side.delivered, expect(1));
    assert_eq!(host_side.acked, (0..N).collect::<Vec<_>>());
    assert_eq!(ncp_side.acked, (0..N).collect::<Vec<_>>());
    // The faults were exercised, not dodged.
    let (h, n) = (host.stats(), ncp.stats());
    assert!(h.retransmitted > 0 && n.retransmitted > 0);
    assert!(h.naks_sent + n.naks_sent > 0 && h.duplicates + n.duplicates > 0);
}
