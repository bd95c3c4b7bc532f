//! The controller start-up sequence and the node interview, as tasks beside the actor.
//!
//! Start-up (Host API spec, "Initialization"): soft reset (waiting up to 1.6 s for
//! SerialApiStarted, which 500-series sticks never send), GetSerialApiCapabilities,
//! GetVersion, MemoryGetId, GetControllerCapabilities, SerialApiSetup "TX status report"
//! where supported, GetSerialApiInitData, then GetNodeProtocolInfo for every node the
//! registry does not know.
//!
//! Interview of one node (Z-Wave Plus role types, "Inclusion of a node"): NIF (if not known
//! from inclusion), Version (firmware, per-CC versions), Manufacturer Specific, Lifeline
//! association to the controller, Wake Up interval, Multi Channel end points, then each
//! CC's own interview frames (supported types, current values). A step that gets no answer
//! leaves the interview `Partial` and the rest continues; reports that arrive on the way
//! are turned into capability values by the actor, not here.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::api::InterviewState;
use crate::zwave::cc::{
    self, CcId, Decoded, NodeFact, association, manufacturer_specific, multi_channel, version,
    wake_up,
};
use crate::zwave::serial::functions::{
    ApplicationUpdate, FunctionId, HostRequest, InitData, MemoryId, NodeProtocolInfo,
    SerialApiCapabilities, UpdateType, VersionInfo,
};

use super::context::{NodeIo, Pattern, ZwError};
use super::model::NodeRecord;
use super::registry::Registry;

/// What start-up learned about the controller and its network.
#[derive(Debug, Clone)]
pub struct ControllerInfo {
    /// Library version string.
    pub version: String,
    /// Home id.
    pub home_id: u32,
    /// The controller's node id.
    pub own_id: u8,
    /// Controller capability flags.
    pub controller_caps: u8,
    /// Nodes in the network (the controller excluded) with protocol info when asked.
    pub nodes: Vec<(u8, Option<NodeProtocolInfo>)>,
}

/// Runs the start-up sequence; nodes the registry already knows (by home id) are returned
/// as stored and not asked for their protocol info.
pub async fn startup(
    io: &NodeIo,
    registry: Option<&Registry>,
) -> Result<(ControllerInfo, BTreeMap<u8, NodeRecord>), ZwError> {
    let mut started = io.wait_for(Pattern::Frame {
        function: FunctionId::SerialApiStarted,
        first: None,
    });
    io.request(HostRequest::simple(FunctionId::SoftReset))
        .await?;
    if tokio::time::timeout(Duration::from_millis(1600), started.recv())
        .await
        .is_err()
    {
        tracing::debug!("zwave: no SerialApiStarted after soft reset (500-series stick?)");
    }
    let response =
        |o: crate::zwave::serial::transport::Outcome| o.response.ok_or(ZwError::Malformed);
    let caps = SerialApiCapabilities::parse(&response(
        io.request(HostRequest::simple(FunctionId::GetSerialApiCapabilities))
            .await?,
    )?)
    .map_err(|_| ZwError::Malformed)?;
    let version = VersionInfo::parse(&response(
        io.request(HostRequest::simple(FunctionId::GetVersion))
            .await?,
    )?)
    .map_err(|_| ZwError::Malformed)?;
    let mem = MemoryId::parse(&response(
        io.request(HostRequest::simple(FunctionId::MemoryGetId))
            .await?,
    )?)
    .map_err(|_| ZwError::Malformed)?;
    let ctrl = response(
        io.request(HostRequest::simple(FunctionId::GetControllerCapabilities))
            .await?,
    )?;
    if caps.supports(FunctionId::SerialApiSetup)
        && let Err(e) = io.request(HostRequest::set_tx_status_report(true)).await
    {
        tracing::info!(error = %e, "zwave: SerialApiSetup TX status report not accepted");
    }
    let init = InitData::parse(&response(
        io.request(HostRequest::simple(FunctionId::GetSerialApiInitData))
            .await?,
    )?)
    .map_err(|_| ZwError::Malformed)?;
    let stored = match registry {
        Some(r) => r.load(mem.home_id).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "zwave: registry unreadable, interviewing from scratch");
            BTreeMap::new()
        }),
        None => BTreeMap::new(),
    };
    let nodes = protocol_infos(io, &init.nodes, mem.node_id, &stored).await?;
    tracing::info!(
        version = %version.version,
        home_id = format_args!("{:08x}", mem.home_id),
        own_id = mem.node_id,
        nodes = nodes.len(),
        "zwave: controller started"
    );
    let info = ControllerInfo {
        version: version.version,
        home_id: mem.home_id,
        own_id: mem.node_id,
        controller_caps: ctrl.first().copied().unwrap_or(0),
        nodes,
    };
    Ok((info, stored))
}

/// Protocol info of every node except the controller and those the registry knows.
async fn protocol_infos(
    io: &NodeIo,
    list: &[u8],
    own: u8,
    stored: &BTreeMap<u8, NodeRecord>,
) -> Result<Vec<(u8, Option<NodeProtocolInfo>)>, ZwError> {
    let mut nodes = Vec::new();
    for &n in list.iter().filter(|n| **n != own) {
        let info = if stored.contains_key(&n) {
            None
        } else {
            let out = io
                .request(HostRequest::for_node(FunctionId::GetNodeProtocolInfo, n))
                .await?;
            let p = out.response.ok_or(ZwError::Malformed)?;
            Some(NodeProtocolInfo::parse(&p).map_err(|_| ZwError::Malformed)?)
        };
        nodes.push((n, info));
    }
    Ok(nodes)
}

/// Interview settings.
#[derive(Debug, Clone, Copy)]
pub struct InterviewConfig {
    /// The controller's node id (Lifeline and Wake Up target).
    pub own_id: u8,
    /// Wake Up interval to configure on sleeping nodes, seconds.
    pub wake_up_interval_s: u32,
}

fn facts(report: &[u8]) -> Vec<NodeFact> {
    match cc::decode(report) {
        Ok(items) => items
            .into_iter()
            .filter_map(|d| match d {
                Decoded::Fact(f) => Some(f),
                _ => None,
            })
            .collect(),
        Err(e) => {
            tracing::info!(error = %e, "zwave: malformed report during interview");
            Vec::new()
        }
    }
}

/// Logs a failed interview step; returns whether it succeeded.
fn check(node: u8, what: &str, r: Result<(), ZwError>) -> bool {
    if let Err(e) = &r {
        tracing::info!(node, step = what, error = %e, "zwave: interview step failed");
    }
    r.is_ok()
}

/// Interviews one node and returns the updated record.
pub async fn interview(io: &NodeIo, mut rec: NodeRecord, cfg: InterviewConfig) -> NodeRecord {
    let node = rec.node_id;
    let mut complete = true;
    if rec.ccs.is_empty() {
        complete &= check(node, "node information", request_nif(io, &mut rec).await);
    }
    complete &= security(io, &mut rec).await;
    complete &= identity_and_setup(io, &mut rec, cfg).await;
    if rec.ccs.contains(&0x60) {
        complete &= check(node, "multi channel", end_points(io, &mut rec).await);
    }
    rec.add_static_capabilities();
    let eps: Vec<u8> = std::iter::once(0)
        .chain(rec.end_points.keys().copied())
        .collect();
    for ep in eps {
        for c in rec.ccs_of(ep).to_vec() {
            complete &= check(node, "command class", cc_interview(io, &rec, ep, c).await);
        }
    }
    rec.interview = if complete {
        InterviewState::Complete
    } else {
        InterviewState::Partial
    };
    rec
}

/// Learns the CCs a Security 0 node supports only encrypted; warns about S2-only nodes.
async fn security(io: &NodeIo, rec: &mut NodeRecord) -> bool {
    let node = rec.node_id;
    if rec.requires_s2() {
        tracing::warn!(
            node,
            "zwave: node requires S2, which is not supported; secure functions unavailable"
        );
    }
    if !rec.ccs.contains(&0x98) || !rec.secure_ccs.is_empty() {
        return true;
    }
    if io.s0.is_none() {
        tracing::warn!(
            node,
            "zwave: node uses Security 0 but no network key is configured"
        );
        return true;
    }
    let r = io.secure_commands(node).await.map(|ccs| {
        for c in &ccs {
            if !rec.ccs.contains(c) {
                rec.ccs.push(*c);
            }
        }
        rec.secure_ccs = ccs;
    });
    check(node, "security 0 commands", r)
}

/// Version, Manufacturer Specific, Lifeline association and Wake Up interval.
async fn identity_and_setup(io: &NodeIo, rec: &mut NodeRecord, cfg: InterviewConfig) -> bool {
    let node = rec.node_id;
    let mut ok = true;
    if rec.ccs.contains(&0x86) {
        ok &= check(node, "version", versions(io, rec).await);
    }
    if rec.ccs.contains(&0x72) {
        let r = io
            .get(node, 0, &[0x72, manufacturer_specific::GET])
            .await
            .map(|rep| {
                for f in facts(&rep) {
                    if let NodeFact::Manufacturer {
                        manufacturer_id,
                        product_type,
                        product_id,
                    } = f
                    {
                        rec.manufacturer = Some((manufacturer_id, product_type, product_id));
                    }
                }
            });
        ok &= check(node, "manufacturer specific", r);
    }
    if rec.ccs.contains(&0x85) {
        let r = io
            .send(
                node,
                0,
                &association::set(association::LIFELINE, cfg.own_id),
            )
            .await;
        ok &= check(node, "lifeline association", r);
    }
    if rec.ccs.contains(&0x84) {
        let r = io
            .send(
                node,
                0,
                &wake_up::interval_set(cfg.wake_up_interval_s, cfg.own_id),
            )
            .await;
        if r.is_ok() {
            rec.wake_up_interval = Some(cfg.wake_up_interval_s);
        }
        ok &= check(node, "wake up interval", r);
    }
    ok
}

async fn request_nif(io: &NodeIo, rec: &mut NodeRecord) -> Result<(), ZwError> {
    let _one_at_a_time = io.nif_lock.lock().await;
    let mut rx = io.wait_for(Pattern::Frame {
        function: FunctionId::ApplicationUpdate,
        first: None,
    });
    io.request(HostRequest::for_node(
        FunctionId::RequestNodeInfo,
        rec.node_id,
    ))
    .await?;
    let deadline = tokio::time::Instant::now() + io.report_timeout;
    loop {
        let Ok(Some(p)) = tokio::time::timeout_at(deadline, rx.recv()).await else {
            return Err(ZwError::NoReport(rec.node_id));
        };
        let Ok(u) = ApplicationUpdate::parse(&p) else {
            continue;
        };
        match u.update {
            UpdateType::NodeInfoReceived if u.info.node_id == rec.node_id => {
                rec.ccs = u.info.command_classes;
                return Ok(());
            }
            UpdateType::NodeInfoRequestFailed => return Err(ZwError::NoReport(rec.node_id)),
            _ => {}
        }
    }
}

async fn versions(io: &NodeIo, rec: &mut NodeRecord) -> Result<(), ZwError> {
    let node = rec.node_id;
    for f in facts(&io.get(node, 0, &[0x86, version::GET]).await?) {
        if let NodeFact::Firmware { version } = f {
            rec.firmware = Some(version);
        }
    }
    for c in rec.ccs.clone() {
        for f in facts(&io.get(node, 0, &version::cc_get(CcId::from(c))).await?) {
            if let NodeFact::CcVersion { cc, version } = f {
                rec.versions.insert(cc.into(), version);
            }
        }
    }
    Ok(())
}

async fn end_points(io: &NodeIo, rec: &mut NodeRecord) -> Result<(), ZwError> {
    let node = rec.node_id;
    let mut count = 0;
    for f in facts(
        &io.get(node, 0, &[0x60, multi_channel::END_POINT_GET])
            .await?,
    ) {
        if let NodeFact::EndPoints { count: c } = f {
            count = c;
        }
    }
    for ep in 1..=count {
        for f in facts(&io.get(node, 0, &multi_channel::capability_get(ep)).await?) {
            if let NodeFact::EndPointCapability {
                ep,
                command_classes,
                ..
            } = f
            {
                rec.end_points
                    .insert(ep, command_classes.into_iter().map(u8::from).collect());
            }
        }
    }
    Ok(())
}

/// Sends a CC's interview frames on `ep`; a "supported" answer triggers its follow-ups.
async fn cc_interview(io: &NodeIo, rec: &NodeRecord, ep: u8, c: u8) -> Result<(), ZwError> {
    // Management CCs were handled above.
    if matches!(c, 0x60 | 0x72 | 0x84 | 0x85 | 0x86) {
        return Ok(());
    }
    let Some(spec) = cc::spec(CcId::from(c)) else {
        return Ok(());
    };
    let v = rec.version(c);
    for frame in (spec.interview)(v) {
        let report = io.get(rec.node_id, ep, &frame).await?;
        for fact in facts(&report) {
            for follow in (spec.follow_up)(&fact, v) {
                io.get(rec.node_id, ep, &follow).await?;
            }
        }
    }
    Ok(())
}
