//! Device interview (what zigpy and zigbee-herdsman call it): Node Descriptor, Active
//! Endpoints, each Simple Descriptor, Basic cluster identity, the attributes the capability
//! mapping needs for scaling, then binding and Configure Reporting for the mapped
//! attributes, and a first read of their values. Each step's failure is recorded and the
//! interview continues where it can; the result says Complete, Partial or Failed.

use crate::api::InterviewState;
use crate::zigbee::backend::{HOST_ENDPOINT, ZigbeeBackend};
use crate::zigbee::mapping::{self, AttrCache};
use crate::zigbee::requester::{
    EXPECT_CONFIGURE, EXPECT_READ, EXPECT_WRITE, RequestError, Requester, Target,
};
use crate::zigbee::zcl::clusters::{self, basic, id};
use crate::zigbee::zcl::frame::cmd;
use crate::zigbee::zcl::types::{is_analog, ty};
use crate::zigbee::zcl::{AttributeRecord, GeneralCommand, ReportingConfig, TypedValue, ZclValue};
use crate::zigbee::zdo::{self, NodeDescriptor, SimpleDescriptor, Zdp};

/// What the interview learnt.
#[derive(Debug, Clone, PartialEq)]
pub struct Interview {
    /// Node descriptor.
    pub node: Option<NodeDescriptor>,
    /// Simple descriptors of the application endpoints.
    pub endpoints: Vec<SimpleDescriptor>,
    /// Basic ManufacturerName.
    pub manufacturer: String,
    /// Basic ModelIdentifier.
    pub model: String,
    /// Basic SWBuildID (or DateCode when there is none).
    pub firmware: String,
    /// Basic PowerSource.
    pub power_source: Option<u8>,
    /// Attribute values read.
    pub values: AttrCache,
    /// Outcome.
    pub state: InterviewState,
    /// What failed, for the log.
    pub problems: Vec<String>,
}

/// Reads attributes; unsupported ones are left out.
pub async fn read_attributes<B: ZigbeeBackend>(
    req: &Requester<B>,
    nwk: u16,
    ep: u8,
    cluster: u16,
    ids: &[u16],
) -> Result<Vec<(u16, ZclValue)>, RequestError> {
    let payload = GeneralCommand::ReadAttributes(ids.to_vec()).encode();
    let f = req
        .zcl(
            Target {
                nwk,
                endpoint: ep,
                cluster,
            },
            true,
            cmd::READ_ATTRIBUTES,
            payload,
            EXPECT_READ,
        )
        .await?;
    let malformed = |reason: String| RequestError::Malformed { nwk, reason };
    match GeneralCommand::parse(f.header.command, &f.payload)
        .map_err(|e| malformed(e.to_string()))?
    {
        GeneralCommand::ReadAttributesRsp(recs) => Ok(recs
            .into_iter()
            .filter_map(|r| r.result.ok().map(|v| (r.id, v.value)))
            .collect()),
        other => Err(malformed(format!("read answered with {other:?}"))),
    }
}

fn has(ep: &SimpleDescriptor, cluster: u16) -> bool {
    ep.in_clusters.contains(&cluster)
}

/// Interviews the device at `nwk`.
pub async fn run<B: ZigbeeBackend>(
    req: &Requester<B>,
    nwk: u16,
    ieee: u64,
    coordinator: u64,
) -> Interview {
    let mut iv = Interview {
        node: None,
        endpoints: Vec::new(),
        manufacturer: String::new(),
        model: String::new(),
        firmware: String::new(),
        power_source: None,
        values: AttrCache::new(),
        state: InterviewState::Failed,
        problems: Vec::new(),
    };
    match req.zdp(nwk, Zdp::NodeDescReq { nwk }).await {
        Ok(Zdp::NodeDescRsp {
            descriptor: Some(d),
            ..
        }) => iv.node = Some(d),
        Ok(other) => iv.problems.push(format!("node descriptor: {other:?}")),
        Err(e) => iv.problems.push(format!("node descriptor: {e}")),
    }
    let eps = match req.zdp(nwk, Zdp::ActiveEpReq { nwk }).await {
        Ok(Zdp::ActiveEpRsp {
            status: zdo::SUCCESS,
            endpoints,
            ..
        }) => endpoints,
        Ok(other) => {
            iv.problems.push(format!("active endpoints: {other:?}"));
            return iv;
        }
        Err(e) => {
            iv.problems.push(format!("active endpoints: {e}"));
            return iv;
        }
    };
    for ep in eps {
        match req.zdp(nwk, Zdp::SimpleDescReq { nwk, endpoint: ep }).await {
            Ok(Zdp::SimpleDescRsp {
                descriptor: Some(d),
                ..
            }) => iv.endpoints.push(d),
            Ok(other) => iv
                .problems
                .push(format!("simple descriptor {ep}: {other:?}")),
            Err(e) => iv.problems.push(format!("simple descriptor {ep}: {e}")),
        }
    }
    let complete_so_far = iv.problems.is_empty();
    identity(req, nwk, &mut iv).await;
    let endpoints = iv.endpoints.clone();
    for ep in &endpoints {
        scaling_and_values(req, nwk, ep, &mut iv).await;
        reporting(req, nwk, ieee, coordinator, ep, &mut iv).await;
    }
    iv.state = if complete_so_far && !iv.model.is_empty() {
        InterviewState::Complete
    } else {
        InterviewState::Partial
    };
    iv
}

async fn identity<B: ZigbeeBackend>(req: &Requester<B>, nwk: u16, iv: &mut Interview) {
    let Some(ep) = iv
        .endpoints
        .iter()
        .find(|e| has(e, id::BASIC))
        .map(|e| e.endpoint)
    else {
        iv.problems
            .push("no endpoint with the Basic cluster".into());
        return;
    };
    let ids = [
        basic::MANUFACTURER_NAME,
        basic::MODEL_IDENTIFIER,
        basic::DATE_CODE,
        basic::POWER_SOURCE,
        basic::SW_BUILD_ID,
    ];
    match read_attributes(req, nwk, ep, id::BASIC, &ids).await {
        Ok(values) => {
            let mut date_code = String::new();
            for (attr, v) in values {
                match (attr, v) {
                    (basic::MANUFACTURER_NAME, ZclValue::String(s)) => iv.manufacturer = s,
                    (basic::MODEL_IDENTIFIER, ZclValue::String(s)) => iv.model = s,
                    (basic::SW_BUILD_ID, ZclValue::String(s)) => iv.firmware = s,
                    (basic::DATE_CODE, ZclValue::String(s)) => date_code = s,
                    (basic::POWER_SOURCE, v) => iv.power_source = v.as_i64().map(|p| p as u8),
                    _ => {}
                }
            }
            if iv.firmware.is_empty() {
                iv.firmware = date_code;
            }
        }
        Err(e) => iv.problems.push(format!("Basic cluster: {e}")),
    }
}

async fn scaling_and_values<B: ZigbeeBackend>(
    req: &Requester<B>,
    nwk: u16,
    ep: &SimpleDescriptor,
    iv: &mut Interview,
) {
    for &cluster in &ep.in_clusters {
        let mut ids: Vec<u16> = mapping::RULES
            .iter()
            .filter(|r| r.cluster == cluster)
            .map(|r| r.attribute)
            .collect();
        if let Some((_, extra)) = mapping::SCALING_ATTRIBUTES
            .iter()
            .find(|(c, _)| *c == cluster)
        {
            ids.extend_from_slice(extra);
        }
        if ids.is_empty() {
            continue;
        }
        match read_attributes(req, nwk, ep.endpoint, cluster, &ids).await {
            Ok(values) => {
                for (attr, v) in values {
                    iv.values.insert((ep.endpoint, cluster, attr), v);
                }
            }
            Err(e) => iv
                .problems
                .push(format!("read {}: {e}", clusters::cluster_name(cluster))),
        }
    }
}

async fn reporting<B: ZigbeeBackend>(
    req: &Requester<B>,
    nwk: u16,
    ieee: u64,
    coordinator: u64,
    ep: &SimpleDescriptor,
    iv: &mut Interview,
) {
    if has(ep, id::IAS_ZONE) {
        // IAS enrolment: tell the zone where to send alarms (the device then asks to enrol).
        let rec = AttributeRecord {
            id: 0x0010,
            value: TypedValue::new(ty::IEEE, ZclValue::Unsigned(coordinator)),
        };
        let payload = GeneralCommand::WriteAttributes(vec![rec]).encode();
        if let Err(e) = req
            .zcl(
                Target {
                    nwk,
                    endpoint: ep.endpoint,
                    cluster: id::IAS_ZONE,
                },
                true,
                cmd::WRITE_ATTRIBUTES,
                payload,
                EXPECT_WRITE,
            )
            .await
        {
            iv.problems.push(format!("IAS CIE address: {e}"));
        }
    }
    for &cluster in &ep.in_clusters {
        let configs: Vec<ReportingConfig> = mapping::RULES
            .iter()
            .filter(|r| r.cluster == cluster)
            .filter_map(|r| {
                let (min, max, change) = r.reporting?;
                let t = clusters::attribute(cluster, r.attribute)?.ty;
                let reportable_change = is_analog(t).then(|| {
                    let v = if matches!(t, 0x28..=0x2F) {
                        ZclValue::Signed(change)
                    } else {
                        ZclValue::Unsigned(change as u64)
                    };
                    TypedValue::new(t, v)
                });
                Some(ReportingConfig {
                    id: r.attribute,
                    ty: t,
                    min_interval: min,
                    max_interval: max,
                    reportable_change,
                })
            })
            .collect();
        if configs.is_empty() {
            continue;
        }
        let bind = Zdp::BindReq {
            src: ieee,
            src_endpoint: ep.endpoint,
            cluster,
            dst: coordinator,
            dst_endpoint: HOST_ENDPOINT,
        };
        if let Err(e) = req.zdp(nwk, bind).await {
            iv.problems
                .push(format!("bind {}: {e}", clusters::cluster_name(cluster)));
            continue;
        }
        let payload = GeneralCommand::ConfigureReporting(configs).encode();
        match req
            .zcl(
                Target {
                    nwk,
                    endpoint: ep.endpoint,
                    cluster,
                },
                true,
                cmd::CONFIGURE_REPORTING,
                payload,
                EXPECT_CONFIGURE,
            )
            .await
        {
            Ok(f) => match GeneralCommand::parse(f.header.command, &f.payload) {
                Ok(GeneralCommand::ConfigureReportingRsp(failed)) if failed.is_empty() => {}
                other => iv.problems.push(format!(
                    "configure reporting {}: {other:?}",
                    clusters::cluster_name(cluster)
                )),
            },
            Err(e) => iv.problems.push(format!(
                "configure reporting {}: {e}",
                clusters::cluster_name(cluster)
            )),
        }
    }
}
