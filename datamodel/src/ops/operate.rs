//! Operate (TR-369 section "Operate"): checks input arguments (a missing mandatory one
//! is 7027, unknown ones are dropped), then runs the command on the provider that
//! backs the object. A synchronous command's output is returned; an asynchronous one
//! is handed back as a [`PendingOperation`] so the agent can create its
//! `Device.LocalAgent.Request.{i}.` before starting it.

use std::fmt;

use super::super::provider::BoxFuture;
use crate::error::{DmError, DmResult, ErrorKind};
use crate::model::DataModel;
use crate::path;
use crate::provider::{Args, CommandCall};
use crate::schema::CommandDef;
use crate::tree::Target;

/// The result for one command the path matched.
#[derive(Debug)]
pub struct OperateResult {
    /// Full command path, e.g. `Device.ProxiedDevice.1.IoTCapability.2.BinaryControl.Toggle()`.
    pub executed_command: String,
    /// What happened.
    pub outcome: OperateOutcome,
}

/// Outcome of one command.
#[derive(Debug)]
pub enum OperateOutcome {
    /// A synchronous command finished with these output arguments.
    Sync(Args),
    /// An asynchronous command is ready to run.
    Async(PendingOperation),
    /// The command failed (OperateResp `cmd_failure`).
    Failed(DmError),
}

/// An asynchronous command not yet started.
pub struct PendingOperation {
    /// Object path of the command.
    pub obj_path: String,
    /// Command name with `()`.
    pub command_name: String,
    /// The Controller's command key.
    pub command_key: String,
    fut: BoxFuture<Result<Args, DmError>>,
}

impl fmt::Debug for PendingOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingOperation")
            .field("obj_path", &self.obj_path)
            .field("command_name", &self.command_name)
            .field("command_key", &self.command_key)
            .finish_non_exhaustive()
    }
}

impl PendingOperation {
    /// Runs the operation to completion.
    pub async fn run(self) -> Result<Args, DmError> {
        self.fut.await
    }

    /// Runs the operation on a task and publishes `OperationComplete` on `dm`'s change
    /// stream when it ends. Abort the handle to cancel (no OperationComplete is sent).
    pub fn spawn_reporting(self, dm: &DataModel) -> tokio::task::JoinHandle<()> {
        let dm = dm.clone();
        tokio::spawn(async move {
            let (obj, name, key) = (
                self.obj_path.clone(),
                self.command_name.clone(),
                self.command_key.clone(),
            );
            let result = self.fut.await;
            dm.emit_operation_complete(&obj, &name, &key, result);
        })
    }
}

impl DataModel {
    /// Operate: runs the command(s) `command_path` designates.
    ///
    /// Path errors (syntax, not in the model, not a command) are returned as `Err`;
    /// failures of a command are `OperateOutcome::Failed`.
    pub async fn operate(
        &self,
        command_path: &str,
        command_key: &str,
        input: &Args,
    ) -> DmResult<Vec<OperateResult>> {
        let expr = path::parse(command_path)?;
        if !matches!(expr.leaf, path::Leaf::Command(_)) {
            return Err(DmError::new(
                ErrorKind::WrongPathKind,
                command_path,
                "Operate takes a command path ending with \"()\"",
            ));
        }
        let calls = {
            let tree = self.read();
            let targets = tree.resolve(&expr, command_path)?;
            let mut calls = Vec::with_capacity(targets.len());
            for t in targets {
                let Target::Command(node, idx) = t else {
                    continue;
                };
                let Some(def) = tree.node(node).map(|n| tree.schema.obj(n.def)) else {
                    continue;
                };
                let cmd = def.commands()[idx].clone();
                calls.push((tree.path(node), cmd, tree.provider_for(node)));
            }
            calls
        };
        // Synchronous commands on several objects run concurrently; results keep the
        // resolution order.
        let mut staged = Vec::with_capacity(calls.len());
        for (obj_path, cmd, provider) in calls {
            let executed_command = format!("{obj_path}{}", cmd.name());
            let stage = match check_input(&cmd, input, &executed_command) {
                Err(e) => Stage::Done(OperateOutcome::Failed(e)),
                Ok(args) => {
                    let call = CommandCall {
                        obj_path: obj_path.clone(),
                        command: cmd.name().to_owned(),
                        command_key: command_key.to_owned(),
                        input: args,
                    };
                    match provider {
                        None => Stage::Done(OperateOutcome::Failed(DmError::new(
                            ErrorKind::CommandFailure,
                            &executed_command,
                            "no implementation is attached to this command",
                        ))),
                        Some(p) if cmd.is_async() => {
                            Stage::Done(OperateOutcome::Async(PendingOperation {
                                obj_path,
                                command_name: cmd.name().to_owned(),
                                command_key: command_key.to_owned(),
                                fut: p.operate(call),
                            }))
                        }
                        Some(p) => Stage::Running(tokio::spawn(p.operate(call))),
                    }
                }
            };
            staged.push((executed_command, stage));
        }
        let mut out = Vec::with_capacity(staged.len());
        for (executed_command, stage) in staged {
            let outcome = match stage {
                Stage::Done(o) => o,
                Stage::Running(task) => match task.await {
                    Ok(Ok(args)) => OperateOutcome::Sync(args),
                    Ok(Err(e)) => OperateOutcome::Failed(e),
                    Err(e) => OperateOutcome::Failed(DmError::new(
                        ErrorKind::CommandFailure,
                        &executed_command,
                        format!("the command's task failed: {e}"),
                    )),
                },
            };
            out.push(OperateResult {
                executed_command,
                outcome,
            });
        }
        Ok(out)
    }
}

enum Stage {
    Done(OperateOutcome),
    Running(tokio::task::JoinHandle<Result<Args, DmError>>),
}

/// Keeps the declared arguments (canonicalised), drops unknown ones, fails on a missing
/// mandatory argument or a bad value (7027).
fn check_input(cmd: &CommandDef, input: &Args, path: &str) -> DmResult<Args> {
    let mut args = Args::new();
    for a in cmd.inputs() {
        match input.get(a.name()) {
            Some(raw) => {
                let v = a.check(raw).map_err(|why| {
                    DmError::new(
                        ErrorKind::InvalidCommandArgs,
                        path,
                        format!("input argument {}: {why}", a.name()),
                    )
                })?;
                args.insert(a.name().to_owned(), v.to_string());
            }
            None if a.is_mandatory() => {
                return Err(DmError::new(
                    ErrorKind::InvalidCommandArgs,
                    path,
                    format!("mandatory input argument {} is missing", a.name()),
                ));
            }
            None => {}
        }
    }
    Ok(args)
}
