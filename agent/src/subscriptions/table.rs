//! The notifier's compiled view of `Device.LocalAgent.Subscription.{i}.` and of the
//! `Device.LocalAgent.Controller.{i}.` rows it needs (EndpointID, retry and periodic
//! settings, BootParameter), read from the data model in one Get and rebuilt when
//! either table changes (TR-369 section "Subscriptions", TR-181 USPLocalAgent).

use usp_datamodel::{Change, DataModel, DateTime, PathExpr};

use super::message::NotifType;
use super::retry::Backoff;

/// The Subscription table.
pub const SUBSCRIPTION_TABLE: &str = "Device.LocalAgent.Subscription.";
/// The Controller table.
pub const CONTROLLER_TABLE: &str = "Device.LocalAgent.Controller.";

/// One row of the Subscription table, ReferenceList compiled.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// Instance path, `Device.LocalAgent.Subscription.3.`.
    pub path: String,
    /// `ID`, the Notify's `subscription_id`.
    pub id: String,
    /// `Enable`.
    pub enabled: bool,
    /// `Recipient`, normalised to an object path with a trailing dot.
    pub recipient: String,
    /// `NotifType` (`None` when empty or not a TR-181 value: matches nothing).
    pub notif_type: Option<NotifType>,
    /// `ReferenceList` entries that compiled.
    pub refs: Vec<PathExpr>,
    /// How many `ReferenceList` entries did not compile.
    pub unresolved: usize,
    /// `ReferenceList` as stored.
    pub reference_list: String,
    /// `Persistent`.
    pub persistent: bool,
    /// `TimeToLive`, seconds (0: forever).
    pub time_to_live: u32,
    /// `CreationDate`; `None` for the unknown time.
    pub creation_date: Option<DateTime>,
    /// `NotifRetry`.
    pub notif_retry: bool,
    /// `NotifExpiration`, seconds (0: never).
    pub notif_expiration: u32,
}

/// What the notifier needs of one Controller row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controller {
    /// Instance path, `Device.LocalAgent.Controller.1.`.
    pub path: String,
    /// `EndpointID`.
    pub endpoint_id: String,
    /// `Enable`.
    pub enabled: bool,
    /// `PeriodicNotifInterval`, seconds.
    pub periodic_interval: u32,
    /// `PeriodicNotifTime` (`None`: unknown time, or not in the schema).
    pub periodic_time: Option<DateTime>,
    /// `USPNotifRetryMinimumWaitInterval` and `USPNotifRetryIntervalMultiplier`.
    pub backoff: Backoff,
    /// `ParameterName` of every enabled `BootParameter.{i}.`.
    pub boot_parameters: Vec<String>,
}

/// Both tables as last read.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Subscription rows, in instance order.
    pub subscriptions: Vec<Subscription>,
    /// Controller rows, in instance order.
    pub controllers: Vec<Controller>,
}

impl Snapshot {
    /// Reads both tables, reusing what `previous` compiled. A table the schema lacks
    /// reads as empty.
    pub async fn load(dm: &DataModel, previous: &Snapshot) -> Snapshot {
        let mut results = dm
            .get(&[SUBSCRIPTION_TABLE, CONTROLLER_TABLE], 0)
            .await
            .into_iter();
        let mut snap = Snapshot::default();
        match results.next() {
            Some(Ok(objects)) => {
                for o in objects {
                    if row_number(&o.path, SUBSCRIPTION_TABLE).is_some() {
                        snap.subscriptions
                            .push(Subscription::from_params(dm, previous, o.path, &o.params));
                    }
                }
            }
            Some(Err(e)) => tracing::warn!(error = %e, "cannot read the Subscription table"),
            None => {}
        }
        match results.next() {
            Some(Ok(objects)) => {
                for o in objects {
                    let Some(rest) = o.path.strip_prefix(CONTROLLER_TABLE) else {
                        continue;
                    };
                    let parts: Vec<&str> = rest.split('.').collect();
                    match parts.as_slice() {
                        [_, ""] => snap
                            .controllers
                            .push(Controller::from_params(o.path.clone(), &o.params)),
                        [_, "BootParameter", _, ""] => {
                            let enabled = param(&o.params, "Enable").is_some_and(parse_bool);
                            let name = param(&o.params, "ParameterName").unwrap_or_default();
                            let owner = format!("{CONTROLLER_TABLE}{}.", parts[0]);
                            if enabled
                                && !name.is_empty()
                                && let Some(c) =
                                    snap.controllers.iter_mut().find(|c| c.path == owner)
                            {
                                c.boot_parameters.push(name.to_owned());
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some(Err(e)) => tracing::warn!(error = %e, "cannot read the Controller table"),
            None => {}
        }
        snap
    }

    /// The Controller a subscription notifies, if it exists and is enabled.
    pub fn recipient(&self, sub: &Subscription) -> Option<&Controller> {
        self.controllers
            .iter()
            .find(|c| c.path == sub.recipient && c.enabled && !c.endpoint_id.is_empty())
    }

    /// Subscriptions whose Recipient names a Controller row that no longer exists.
    pub fn orphans(&self) -> Vec<String> {
        self.subscriptions
            .iter()
            .filter(|s| s.recipient.starts_with(CONTROLLER_TABLE))
            .filter(|s| !self.controllers.iter().any(|c| c.path == s.recipient))
            .map(|s| s.path.clone())
            .collect()
    }

    /// The subscriptions `change` notifies, each with its recipient.
    pub fn matching<'a>(
        &'a self,
        dm: &DataModel,
        change: &Change,
    ) -> Vec<(&'a Subscription, &'a Controller)> {
        let kind = NotifType::of(change);
        let subject = change.subject();
        self.subscriptions
            .iter()
            .filter(|s| s.enabled && s.notif_type == Some(kind))
            .filter(|s| s.refs.iter().any(|r| dm.matches(r, &subject)))
            .filter_map(|s| self.recipient(s).map(|c| (s, c)))
            .collect()
    }
}

impl Subscription {
    fn from_params(
        dm: &DataModel,
        previous: &Snapshot,
        path: String,
        params: &[(String, String)],
    ) -> Subscription {
        let get = |name: &str| param(params, name).unwrap_or_default();
        let reference_list = get("ReferenceList").to_owned();
        let before = previous
            .subscriptions
            .iter()
            .find(|p| p.path == path && p.reference_list == reference_list);
        let (refs, unresolved) = match before {
            // Unchanged and fully compiled: reuse. Entries that failed are tried again
            // (the schema may have grown), but reported once.
            Some(b) if b.unresolved == 0 => (b.refs.clone(), 0),
            _ => compile_references(dm, &path, &reference_list, before.is_none()),
        };
        let recipient = get("Recipient").trim();
        let recipient = match recipient {
            "" => String::new(),
            r if r.ends_with('.') => r.to_owned(),
            r => format!("{r}."),
        };
        Subscription {
            id: get("ID").to_owned(),
            enabled: parse_bool(get("Enable")),
            recipient,
            notif_type: NotifType::parse(get("NotifType")),
            refs,
            unresolved,
            reference_list,
            persistent: parse_bool(get("Persistent")),
            time_to_live: get("TimeToLive").parse().unwrap_or(0),
            creation_date: DateTime::parse(get("CreationDate")).filter(|d| !d.is_unknown()),
            notif_retry: parse_bool(get("NotifRetry")),
            notif_expiration: get("NotifExpiration").parse().unwrap_or(0),
            path,
        }
    }
}

/// Compiles a ReferenceList; returns the compiled entries and how many failed.
fn compile_references(
    dm: &DataModel,
    sub: &str,
    list: &str,
    report: bool,
) -> (Vec<PathExpr>, usize) {
    let mut refs = Vec::new();
    let mut failed = 0;
    for entry in split_reference_list(list) {
        match dm.compile(entry) {
            Ok(expr) => refs.push(expr),
            Err(e) => {
                failed += 1;
                if report {
                    tracing::warn!(subscription = %sub, reference = entry, error = %e,
                        "ReferenceList entry ignored");
                }
            }
        }
    }
    (refs, failed)
}

impl Controller {
    fn from_params(path: String, params: &[(String, String)]) -> Controller {
        let get = |name: &str| param(params, name).unwrap_or_default();
        let defaults = Backoff::default();
        Controller {
            endpoint_id: get("EndpointID").to_owned(),
            enabled: param(params, "Enable").is_none_or(parse_bool),
            periodic_interval: get("PeriodicNotifInterval").parse().unwrap_or(0),
            periodic_time: DateTime::parse(get("PeriodicNotifTime")).filter(|d| !d.is_unknown()),
            backoff: Backoff {
                min_wait_secs: get("USPNotifRetryMinimumWaitInterval")
                    .parse()
                    .unwrap_or(defaults.min_wait_secs),
                multiplier_permille: get("USPNotifRetryIntervalMultiplier")
                    .parse()
                    .unwrap_or(defaults.multiplier_permille),
            },
            boot_parameters: Vec::new(),
            path,
        }
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn parse_bool(s: &str) -> bool {
    matches!(s, "true" | "1")
}

/// `Device.LocalAgent.Subscription.3.` -> `Some(3)` (only a row of `table` itself).
pub fn row_number(path: &str, table: &str) -> Option<u32> {
    path.strip_prefix(table)?.strip_suffix('.')?.parse().ok()
}

/// Whether a change concerns the tables the snapshot is built from.
pub fn affects_snapshot(change: &Change) -> bool {
    // Events and operation results never change the tables; no subject string is built
    // for the (frequent) value changes of everything else.
    let path = match change {
        Change::ValueChange { path, .. }
        | Change::ObjectCreation { path, .. }
        | Change::ObjectDeletion { path } => path,
        Change::Event { .. } | Change::OperationComplete { .. } => return false,
    };
    path.starts_with(SUBSCRIPTION_TABLE) || path.starts_with(CONTROLLER_TABLE)
}

/// Splits a ReferenceList on commas that are outside search expressions and quotes
/// (`Device.X.[Name=="a,b"].` is one entry), trimming blanks and dropping empties.
pub fn split_reference_list(list: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut start) = (0u32, false, 0usize);
    for (i, ch) in list.char_indices() {
        match ch {
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            ',' if depth == 0 && !quoted => {
                out.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&list[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_list_splits_outside_search_expressions() {
        assert_eq!(
            split_reference_list(r#"Device.A., Device.B.[Name=="x,y"].C ,,Device.Boot!"#),
            vec!["Device.A.", r#"Device.B.[Name=="x,y"].C"#, "Device.Boot!"]
        );
        assert!(split_reference_list("").is_empty());
        assert!(split_reference_list(" , ").is_empty());
    }

    #[test]
    fn row_number_accepts_only_direct_rows() {
        assert_eq!(
            row_number("Device.LocalAgent.Subscription.3.", SUBSCRIPTION_TABLE),
            Some(3)
        );
        assert_eq!(
            row_number("Device.LocalAgent.Subscription.3.X.1.", SUBSCRIPTION_TABLE),
            None
        );
        assert_eq!(
            row_number("Device.LocalAgent.Subscription.", SUBSCRIPTION_TABLE),
            None
        );
    }

    #[test]
    fn only_changes_of_the_two_tables_affect_the_snapshot() {
        let vc = |p: &str| Change::ValueChange {
            path: p.into(),
            value: String::new(),
        };
        assert!(affects_snapshot(&vc(
            "Device.LocalAgent.Subscription.1.Enable"
        )));
        assert!(affects_snapshot(&Change::ObjectDeletion {
            path: "Device.LocalAgent.Controller.2.BootParameter.1.".into()
        }));
        assert!(!affects_snapshot(&vc("Device.LocalAgent.MTP.1.Status")));
        assert!(!affects_snapshot(&Change::Event {
            obj_path: "Device.LocalAgent.Subscription.1.".into(),
            event_name: "X!".into(),
            args: Default::default(),
        }));
    }

    #[test]
    fn controller_defaults_apply_when_parameters_are_missing() {
        let c = Controller::from_params(
            "Device.LocalAgent.Controller.1.".into(),
            &[("EndpointID".into(), "ctl".into())],
        );
        assert!(c.enabled);
        assert_eq!(c.backoff, Backoff::default());
        assert_eq!(c.periodic_interval, 0);
    }
}
