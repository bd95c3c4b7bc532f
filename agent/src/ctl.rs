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

/// The EndpointID `usphub ctl` uses unless told otherwise (trusted by `usphub demo`).
pub const DEFAULT_CONTROLLER_ID: &str = "self::usphub-ctl";

/// `usphub ctl` arguments.
#[derive(Args, Debug)]
pub struct CtlArgs {
    /// The agent's WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:5683/usp")]
    pub url: String,
    /// The agent's EndpointID.
    #[arg(long, default_value = "self::usphub-demo")]
    pub agent: String,
    /// This Controller's EndpointID.
    #[arg(long = "as", default_value = DEFAULT_CONTROLLER_ID)]
    pub controller: String,
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

async fn run(args: &CtlArgs) -> Result<ExitCode, String> {
    let timeout = Duration::from_secs(args.timeout.max(1));
    let msg_id = format!("ctl-{}", std::process::id());
    let msg = request(&args.op, &msg_id)?;
    let mut client = ControllerClient::connect_websocket(&args.url, &args.controller, timeout)
        .await
        .map_err(|e| format!("cannot reach {}: {e}", args.url))?;
    let rec = builder::no_session_record(&args.agent, &args.controller, &msg);
    client
        .send(rec.encode_to_vec())
        .map_err(|e| e.to_string())?;
    let answer = loop {
        let inbound = client.recv(timeout).await.map_err(|e| e.to_string())?;
        if let Ok(DecodedRecord::Msg { msg, .. }) =
            decode_record(&inbound.bytes, &DecodeLimits::default())
            && builder::msg_id(&msg) == msg_id
        {
            break msg;
        }
    };
    client.close().await;
    Ok(print(&answer, args.json))
}

fn print(msg: &Msg, json: bool) -> ExitCode {
    let body = msg.body.as_ref().and_then(|b| b.msg_body.as_ref());
    if let Some(body::MsgBody::Error(e)) = body {
        if json {
            println!(
                "{}",
                serde_json::json!({"err_code": e.err_code, "err_msg": e.err_msg, "param_errs": e.param_errs.iter().map(|p| serde_json::json!({"param_path": p.param_path, "err_code": p.err_code, "err_msg": p.err_msg})).collect::<Vec<_>>()})
            );
        } else {
            eprintln!("error {}: {}", e.err_code, e.err_msg);
            for p in &e.param_errs {
                eprintln!("  {}: {} {}", p.param_path, p.err_code, p.err_msg);
            }
        }
        return ExitCode::from(1);
    }
    let Some(body::MsgBody::Response(r)) = body else {
        eprintln!("unexpected answer");
        return ExitCode::from(1);
    };
    let mut failed = false;
    match &r.resp_type {
        Some(RespType::GetResp(g)) => {
            let mut out = serde_json::Map::new();
            for rp in &g.req_path_results {
                if rp.err_code != 0 {
                    failed = true;
                    eprintln!(
                        "{}: error {}: {}",
                        rp.requested_path, rp.err_code, rp.err_msg
                    );
                }
                for res in &rp.resolved_path_results {
                    for (k, v) in &res.result_params {
                        out.insert(format!("{}{}", res.resolved_path, k), v.clone().into());
                    }
                }
            }
            if json {
                println!("{}", serde_json::Value::Object(out));
            } else {
                for (k, v) in out {
                    println!("{k} = {}", v.as_str().unwrap_or_default());
                }
            }
        }
        other => {
            // Every other response is printed in its protobuf debug form: complete, if terse.
            println!("{other:#?}");
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
