//! `usphub ctl`: a USP Controller for humans and scripts, over the agent's WebSocket
//! server. Human-readable output by default, `--json` for scripts; a USP error exits
//! non-zero with its code and message.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use prost::Message;
use usp_proto::builder;
use usp_proto::decode::{DecodeLimits, DecodedRecord, decode_record};
use usp_proto::usp::{self, Msg, body, response::RespType};

use crate::mtp::controller_client::ControllerClient;

mod output;
use output::{print, print_notify};

/// The EndpointID `usphub ctl` uses unless told otherwise (trusted by `usphub demo`).
pub const DEFAULT_CONTROLLER_ID: &str = "self::usphub-ctl";
/// The EndpointID of `usphub ctl subscribe`: a second identity, because TR-369 allows one
/// WebSocket session per pair of endpoints and a long-running watcher would otherwise be
/// replaced by every other `usphub ctl` command (also trusted by `usphub demo`).
pub const WATCH_CONTROLLER_ID: &str = "self::usphub-watch";

/// `usphub ctl` arguments.
#[derive(Args, Debug)]
pub struct CtlArgs {
    /// The agent's WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:5683/usp")]
    pub url: String,
    /// The agent's EndpointID.
    #[arg(long, default_value = "self::usphub-demo")]
    pub agent: String,
    /// This Controller's EndpointID (default: self::usphub-ctl, or self::usphub-watch for
    /// `subscribe`).
    #[arg(long = "as")]
    pub controller: Option<String>,
    /// Print the response as JSON.
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for the agent.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// What to do.
    #[command(subcommand)]
    pub op: CtlOp,
}

/// One USP request.
#[derive(Subcommand, Debug)]
pub enum CtlOp {
    /// Get parameter or object paths.
    Get {
        /// Paths.
        paths: Vec<String>,
        /// Maximum depth (0 = all).
        #[arg(long, default_value_t = 0)]
        max_depth: u32,
    },
    /// Set `OBJ.PARAM=VALUE` pairs.
    Set {
        /// `Device.X.Y=value` settings.
        settings: Vec<String>,
    },
    /// Add a row to a table with `PARAM=VALUE` initial values.
    Add {
        /// Table path, e.g. `Device.LocalAgent.Subscription.`.
        table: String,
        /// Initial values.
        params: Vec<String>,
    },
    /// Delete instances.
    Delete {
        /// Instance paths.
        paths: Vec<String>,
    },
    /// Run a command with `ARG=VALUE` inputs.
    Operate {
        /// Command path, e.g. `Device.Reboot()`.
        command: String,
        /// Input arguments.
        args: Vec<String>,
    },
    /// List instances.
    Instances {
        /// Object paths.
        paths: Vec<String>,
        /// Only the first level.
        #[arg(long)]
        first_level_only: bool,
    },
    /// Show the supported data model.
    SupportedDm {
        /// Object paths.
        paths: Vec<String>,
    },
    /// Show the USP versions the agent supports.
    Protocol,
    /// Subscribe and print notifications as they come (Ctrl-C ends it and removes the
    /// subscription).
    Subscribe {
        /// ValueChange, ObjectCreation, ObjectDeletion, Event or OperationComplete.
        #[arg(long = "type", default_value = "ValueChange")]
        notif_type: String,
        /// Reference paths (wildcards and search expressions allowed).
        paths: Vec<String>,
    },
}

fn kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?}: expected NAME=VALUE"))
}

/// Builds the request Msg for an operation.
pub fn request(op: &CtlOp, msg_id: &str) -> Result<Msg, String> {
    Ok(match op {
        CtlOp::Get { paths, max_depth } => builder::request(
            msg_id,
            usp::Get {
                param_paths: paths.clone(),
                max_depth: *max_depth,
            },
        ),
        CtlOp::Set { settings } => {
            let mut objs: BTreeMap<String, Vec<usp::set::UpdateParamSetting>> = BTreeMap::new();
            for s in settings {
                let (path, value) = kv(s)?;
                let (obj, param) = path
                    .rsplit_once('.')
                    .ok_or_else(|| format!("{path}: expected OBJECT.PARAM"))?;
                objs.entry(format!("{obj}."))
                    .or_default()
                    .push(usp::set::UpdateParamSetting {
                        param: param.to_string(),
                        value,
                        required: true,
                    });
            }
            builder::request(
                msg_id,
                usp::Set {
                    allow_partial: false,
                    update_objs: objs
                        .into_iter()
                        .map(|(obj_path, param_settings)| usp::set::UpdateObject {
                            obj_path,
                            param_settings,
                        })
                        .collect(),
                },
            )
        }
        CtlOp::Add { table, params } => builder::request(
            msg_id,
            usp::Add {
                allow_partial: false,
                create_objs: vec![usp::add::CreateObject {
                    obj_path: table.clone(),
                    param_settings: params
                        .iter()
                        .map(|p| {
                            kv(p).map(|(param, value)| usp::add::CreateParamSetting {
                                param,
                                value,
                                required: true,
                            })
                        })
                        .collect::<Result<_, _>>()?,
                }],
            },
        ),
        CtlOp::Delete { paths } => builder::request(
            msg_id,
            usp::Delete {
                allow_partial: false,
                obj_paths: paths.clone(),
            },
        ),
        CtlOp::Operate { command, args } => builder::request(
            msg_id,
            usp::Operate {
                command: command.clone(),
                command_key: msg_id.to_string(),
                send_resp: true,
                input_args: args.iter().map(|a| kv(a)).collect::<Result<_, _>>()?,
            },
        ),
        CtlOp::Instances {
            paths,
            first_level_only,
        } => builder::request(
            msg_id,
            usp::GetInstances {
                obj_paths: paths.clone(),
                first_level_only: *first_level_only,
            },
        ),
        CtlOp::SupportedDm { paths } => builder::request(
            msg_id,
            usp::GetSupportedDm {
                obj_paths: paths.clone(),
                first_level_only: false,
                return_commands: true,
                return_events: true,
                return_params: true,
                return_unique_key_sets: true,
            },
        ),
        CtlOp::Protocol => {
            builder::get_supported_protocol(msg_id, &usp_proto::supported_versions_csv())
        }
        CtlOp::Subscribe { notif_type, paths } => builder::request(
            msg_id,
            usp::Add {
                allow_partial: false,
                create_objs: vec![usp::add::CreateObject {
                    obj_path: "Device.LocalAgent.Subscription.".into(),
                    param_settings: [
                        ("ID", msg_id.to_string()),
                        ("NotifType", notif_type.clone()),
                        ("ReferenceList", paths.join(",")),
                        ("Enable", "true".into()),
                        ("Persistent", "false".into()),
                    ]
                    .into_iter()
                    .map(|(param, value)| usp::add::CreateParamSetting {
                        param: param.into(),
                        value,
                        required: true,
                    })
                    .collect(),
                }],
            },
        ),
    })
}

/// Runs `usphub ctl`.
pub async fn main(args: CtlArgs) -> ExitCode {
    match run(&args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("usphub ctl: {e}");
            ExitCode::from(2)
        }
    }
}

impl CtlArgs {
    /// The EndpointID this invocation speaks as.
    pub fn endpoint_id(&self) -> &str {
        match (&self.controller, &self.op) {
            (Some(id), _) => id,
            (None, CtlOp::Subscribe { .. }) => WATCH_CONTROLLER_ID,
            (None, _) => DEFAULT_CONTROLLER_ID,
        }
    }
}

async fn run(args: &CtlArgs) -> Result<ExitCode, String> {
    let timeout = Duration::from_secs(args.timeout.max(1));
    let msg_id = format!("ctl-{}", std::process::id());
    let msg = request(&args.op, &msg_id)?;
    let mut client = ControllerClient::connect_websocket(&args.url, args.endpoint_id(), timeout)
        .await
        .map_err(|e| format!("cannot reach {}: {e}", args.url))?;
    let rec = builder::no_session_record(&args.agent, args.endpoint_id(), &msg);
    client
        .send(rec.encode_to_vec())
        .map_err(|e| e.to_string())?;
    let answer = loop {
        let inbound = client.recv(timeout).await.map_err(|e| e.to_string())?;
        if let Ok(DecodedRecord::Msg { msg, .. }) = decode_record(&inbound.bytes, &ANSWER_LIMITS)
            && builder::msg_id(&msg) == msg_id
        {
            break msg;
        }
    };
    if let CtlOp::Subscribe { .. } = args.op {
        return follow(&mut client, args, &answer).await;
    }
    client.close().await;
    Ok(print(&answer, args.json))
}

/// Answers are decoded up to the client's Record limit, not the agent's 64 KiB default.
const ANSWER_LIMITS: DecodeLimits = DecodeLimits {
    max_record_size: crate::mtp::controller_client::CONTROLLER_MAX_RECORD,
};

/// Prints notifications until Ctrl-C, then deletes the subscription.
async fn follow(
    client: &mut ControllerClient,
    args: &CtlArgs,
    created: &Msg,
) -> Result<ExitCode, String> {
    use usp::add_resp::created_object_result::operation_status::OperStatus;
    let Some(body::MsgBody::Response(usp::Response {
        resp_type: Some(RespType::AddResp(a)),
    })) = created.body.as_ref().and_then(|b| b.msg_body.as_ref())
    else {
        return Ok(print(created, args.json));
    };
    let Some(OperStatus::OperSuccess(ok)) = a
        .created_obj_results
        .first()
        .and_then(|r| r.oper_status.as_ref())
        .and_then(|o| o.oper_status.as_ref())
    else {
        return Ok(print(created, args.json));
    };
    let row = ok.instantiated_path.clone();
    eprintln!("subscribed as {row}; Ctrl-C to stop");
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            inbound = client.recv(Duration::from_secs(3600)) => {
                let Ok(inbound) = inbound else { continue };
                let Ok(DecodedRecord::Msg { msg, .. }) = decode_record(&inbound.bytes, &ANSWER_LIMITS) else { continue };
                if let Some(body::MsgBody::Request(usp::Request { req_type: Some(usp::request::ReqType::Notify(n)) })) =
                    msg.body.as_ref().and_then(|b| b.msg_body.as_ref())
                {
                    print_notify(n, args.json);
                    if n.send_resp {
                        let resp = builder::response(builder::msg_id(&msg), usp::NotifyResp { subscription_id: n.subscription_id.clone() });
                        let rec = builder::no_session_record(&args.agent, args.endpoint_id(), &resp);
                        let _ = client.send(rec.encode_to_vec());
                    }
                }
            }
        }
    }
    let del = builder::request(
        "ctl-unsubscribe",
        usp::Delete {
            allow_partial: true,
            obj_paths: vec![row],
        },
    );
    let _ = client
        .send(builder::no_session_record(&args.agent, args.endpoint_id(), &del).encode_to_vec());
    let _ = client.recv(Duration::from_secs(2)).await;
    Ok(ExitCode::SUCCESS)
}
