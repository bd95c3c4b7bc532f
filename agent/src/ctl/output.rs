//! What `usphub ctl` prints: each answer and notification as lines for people or as JSON
//! for scripts, and the exit status (non-zero when any part of an answer is an error).

use std::process::ExitCode;

use usp_proto::usp::{self, Msg, body, response::RespType};

pub(super) fn print_notify(n: &usp::Notify, json: bool) {
    use serde_json::json;
    use usp::notify::Notification as N;
    let (text, j) = match &n.notification {
        Some(N::ValueChange(v)) => (
            format!("{} = {}", v.param_path, v.param_value),
            json!({"value_change": {"path": v.param_path, "value": v.param_value}}),
        ),
        Some(N::ObjCreation(o)) => (
            format!("created {}", o.obj_path),
            json!({"created": o.obj_path, "unique_keys": o.unique_keys}),
        ),
        Some(N::ObjDeletion(o)) => (
            format!("deleted {}", o.obj_path),
            json!({"deleted": o.obj_path}),
        ),
        Some(N::Event(e)) => (
            format!("{}{} {:?}", e.obj_path, e.event_name, e.params),
            json!({"event": format!("{}{}", e.obj_path, e.event_name), "args": e.params}),
        ),
        Some(N::OperComplete(o)) => (
            format!(
                "{}{} complete (key {})",
                o.obj_path, o.command_name, o.command_key
            ),
            json!({"operation_complete": format!("{}{}", o.obj_path, o.command_name), "command_key": o.command_key}),
        ),
        Some(N::OnBoardReq(_)) | None => return,
    };
    if json {
        println!("{j}");
    } else {
        println!("{text}");
    }
}

/// Lines of human output and the JSON value for one response; `failed` when any part
/// of it reports an error.
struct Rendered {
    lines: Vec<String>,
    json: serde_json::Value,
    failed: bool,
}

pub(super) fn print(msg: &Msg, json: bool) -> ExitCode {
    use std::io::Write;
    let body = msg.body.as_ref().and_then(|b| b.msg_body.as_ref());
    let r = match body {
        Some(body::MsgBody::Error(e)) => error(e),
        Some(body::MsgBody::Response(r)) => match &r.resp_type {
            Some(t) => render(t),
            None => Rendered {
                lines: vec!["empty response".into()],
                json: serde_json::Value::Null,
                failed: true,
            },
        },
        _ => Rendered {
            lines: vec!["unexpected answer".into()],
            json: serde_json::Value::Null,
            failed: true,
        },
    };
    // Output goes to a pipe that may close early (`| head`): that is not an error.
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(out, "{}", r.json);
    } else {
        for l in &r.lines {
            if writeln!(out, "{l}").is_err() {
                break;
            }
        }
    }
    if r.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn error(e: &usp::Error) -> Rendered {
    let mut lines = vec![format!("error {}: {}", e.err_code, e.err_msg)];
    lines.extend(
        e.param_errs
            .iter()
            .map(|p| format!("  {}: {} {}", p.param_path, p.err_code, p.err_msg)),
    );
    Rendered {
        lines,
        json: serde_json::json!({"err_code": e.err_code, "err_msg": e.err_msg,
            "param_errs": e.param_errs.iter().map(|p| serde_json::json!({"param_path": p.param_path, "err_code": p.err_code, "err_msg": p.err_msg})).collect::<Vec<_>>()}),
        failed: true,
    }
}

fn failure(lines: &mut Vec<String>, path: &str, code: u32, msg: &str) {
    lines.push(format!("{path}: error {code}: {msg}"));
}

/// A Set/Add/Delete object that failed as a whole: its line, and its JSON item with the
/// requested path under `key`.
fn object_failure(
    lines: &mut Vec<String>,
    key: &str,
    path: &str,
    code: u32,
    msg: &str,
) -> serde_json::Value {
    failure(lines, path, code, msg);
    serde_json::json!({key: path, "err_code": code, "err_msg": msg})
}

fn render(t: &RespType) -> Rendered {
    use serde_json::{Value as J, json};
    let mut lines = Vec::new();
    let mut failed = false;
    let json = match t {
        RespType::GetResp(g) => {
            let mut out = serde_json::Map::new();
            for rp in &g.req_path_results {
                if rp.err_code != 0 {
                    failed = true;
                    failure(&mut lines, &rp.requested_path, rp.err_code, &rp.err_msg);
                }
                for res in &rp.resolved_path_results {
                    for (k, v) in &res.result_params {
                        lines.push(format!("{}{k} = {v}", res.resolved_path));
                        out.insert(format!("{}{k}", res.resolved_path), J::from(v.clone()));
                    }
                }
            }
            J::Object(out)
        }
        RespType::SetResp(s) => {
            use usp::set_resp::updated_object_result::operation_status::OperStatus;
            let mut items = Vec::new();
            for r in &s.updated_obj_results {
                match r.oper_status.as_ref().and_then(|o| o.oper_status.as_ref()) {
                    Some(OperStatus::OperSuccess(ok)) => {
                        for i in &ok.updated_inst_results {
                            for (k, v) in &i.updated_params {
                                lines.push(format!("{}{k} = {v}", i.affected_path));
                            }
                            for e in &i.param_errs {
                                failure(
                                    &mut lines,
                                    &format!("{}{}", i.affected_path, e.param),
                                    e.err_code,
                                    &e.err_msg,
                                );
                            }
                            items.push(
                                json!({"path": i.affected_path, "updated": i.updated_params}),
                            );
                        }
                    }
                    Some(OperStatus::OperFailure(f)) => {
                        failed = true;
                        items.push(object_failure(
                            &mut lines,
                            "path",
                            &r.requested_path,
                            f.err_code,
                            &f.err_msg,
                        ));
                    }
                    None => {}
                }
            }
            J::Array(items)
        }
        RespType::AddResp(a) => {
            use usp::add_resp::created_object_result::operation_status::OperStatus;
            let mut items = Vec::new();
            for r in &a.created_obj_results {
                match r.oper_status.as_ref().and_then(|o| o.oper_status.as_ref()) {
                    Some(OperStatus::OperSuccess(ok)) => {
                        lines.push(format!("created {}", ok.instantiated_path));
                        items.push(
                            json!({"path": ok.instantiated_path, "unique_keys": ok.unique_keys}),
                        );
                    }
                    Some(OperStatus::OperFailure(f)) => {
                        failed = true;
                        items.push(object_failure(
                            &mut lines,
                            "path",
                            &r.requested_path,
                            f.err_code,
                            &f.err_msg,
                        ));
                    }
                    None => {}
                }
            }
            J::Array(items)
        }
        RespType::DeleteResp(d) => {
            use usp::delete_resp::deleted_object_result::operation_status::OperStatus;
            let mut items = Vec::new();
            for r in &d.deleted_obj_results {
                match r.oper_status.as_ref().and_then(|o| o.oper_status.as_ref()) {
                    Some(OperStatus::OperSuccess(ok)) => {
                        lines.extend(ok.affected_paths.iter().map(|p| format!("deleted {p}")));
                        items.push(
                            json!({"requested": r.requested_path, "deleted": ok.affected_paths}),
                        );
                    }
                    Some(OperStatus::OperFailure(f)) => {
                        failed = true;
                        items.push(object_failure(
                            &mut lines,
                            "requested",
                            &r.requested_path,
                            f.err_code,
                            &f.err_msg,
                        ));
                    }
                    None => {}
                }
            }
            J::Array(items)
        }
        RespType::OperateResp(o) => {
            use usp::operate_resp::operation_result::OperationResp;
            let mut items = Vec::new();
            for r in &o.operation_results {
                match &r.operation_resp {
                    Some(OperationResp::ReqOutputArgs(out)) => {
                        lines.push(format!("{}: done", r.executed_command));
                        lines.extend(out.output_args.iter().map(|(k, v)| format!("  {k} = {v}")));
                        items.push(
                            json!({"command": r.executed_command, "output": out.output_args}),
                        );
                    }
                    Some(OperationResp::ReqObjPath(p)) => {
                        lines.push(format!("{}: running as {p}", r.executed_command));
                        items.push(json!({"command": r.executed_command, "request": p}));
                    }
                    Some(OperationResp::CmdFailure(f)) => {
                        failed = true;
                        failure(&mut lines, &r.executed_command, f.err_code, &f.err_msg);
                        items.push(json!({"command": r.executed_command, "err_code": f.err_code, "err_msg": f.err_msg}));
                    }
                    None => {}
                }
            }
            J::Array(items)
        }
        RespType::GetInstancesResp(g) => {
            let mut items = Vec::new();
            for rp in &g.req_path_results {
                if rp.err_code != 0 {
                    failed = true;
                    failure(&mut lines, &rp.requested_path, rp.err_code, &rp.err_msg);
                }
                for i in &rp.curr_insts {
                    let keys: Vec<String> = i
                        .unique_keys
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    lines.push(format!("{}  {}", i.instantiated_obj_path, keys.join(" ")));
                    items.push(
                        json!({"path": i.instantiated_obj_path, "unique_keys": i.unique_keys}),
                    );
                }
            }
            J::Array(items)
        }
        RespType::GetSupportedDmResp(g) => {
            let mut items = Vec::new();
            for r in &g.req_obj_results {
                if r.err_code != 0 {
                    failed = true;
                    failure(&mut lines, &r.req_obj_path, r.err_code, &r.err_msg);
                }
                for o in &r.supported_objs {
                    lines.push(format!(
                        "{}{}",
                        o.supported_obj_path,
                        if o.is_multi_instance { "  (table)" } else { "" }
                    ));
                    for p in &o.supported_params {
                        let rw = if p.access == 0 { "r " } else { "rw" };
                        lines.push(format!("  {rw} {}", p.param_name));
                    }
                    lines.extend(
                        o.supported_commands
                            .iter()
                            .map(|c| format!("     {}", c.command_name)),
                    );
                    lines.extend(
                        o.supported_events
                            .iter()
                            .map(|e| format!("     {}", e.event_name)),
                    );
                    items.push(json!({"path": o.supported_obj_path, "multi_instance": o.is_multi_instance,
                        "params": o.supported_params.iter().map(|p| &p.param_name).collect::<Vec<_>>(),
                        "commands": o.supported_commands.iter().map(|c| &c.command_name).collect::<Vec<_>>(),
                        "events": o.supported_events.iter().map(|e| &e.event_name).collect::<Vec<_>>()}));
                }
            }
            J::Array(items)
        }
        RespType::GetSupportedProtocolResp(p) => {
            lines.push(p.agent_supported_protocol_versions.clone());
            json!({"versions": p.agent_supported_protocol_versions})
        }
        other => {
            lines.push(format!("{other:?}"));
            J::Null
        }
    };
    Rendered {
        lines,
        json,
        failed,
    }
}

#[cfg(test)]
mod tests {
    use usp_proto::usp::{delete_resp, set_resp};

    use super::*;

    #[test]
    fn a_failed_object_fails_the_command_and_names_its_path_and_code() {
        use set_resp::updated_object_result::{OperationStatus, operation_status as st};
        let set = usp::SetResp {
            updated_obj_results: vec![set_resp::UpdatedObjectResult {
                requested_path: "Device.LocalAgent.".into(),
                oper_status: Some(OperationStatus {
                    oper_status: Some(st::OperStatus::OperFailure(st::OperationFailure {
                        err_code: 7200,
                        err_msg: "not writable".into(),
                        updated_inst_failures: Vec::new(),
                    })),
                }),
            }],
        };
        let r = render(&RespType::SetResp(set));
        assert!(r.failed);
        assert_eq!(r.lines, ["Device.LocalAgent.: error 7200: not writable"]);
        assert_eq!(r.json[0]["path"], "Device.LocalAgent.");
        assert_eq!(r.json[0]["err_code"], 7200);

        use delete_resp::deleted_object_result::{OperationStatus as D, operation_status as dt};
        let delete = usp::DeleteResp {
            deleted_obj_results: vec![delete_resp::DeletedObjectResult {
                requested_path: "Device.LocalAgent.Subscription.9.".into(),
                oper_status: Some(D {
                    oper_status: Some(dt::OperStatus::OperFailure(dt::OperationFailure {
                        err_code: 7004,
                        err_msg: "no".into(),
                    })),
                }),
            }],
        };
        let r = render(&RespType::DeleteResp(delete));
        assert!(r.failed);
        assert_eq!(r.json[0]["requested"], "Device.LocalAgent.Subscription.9.");
        assert_eq!(r.json[0]["err_msg"], "no");
    }
}
