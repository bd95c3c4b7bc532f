//! Controller permissions from `Device.LocalAgent.ControllerTrust.` (TR-181 / TR-369
//! "Controller Trust"): a Controller's roles are its `AssignedRole` and `InheritedRole`
//! (an unknown or disabled Controller gets `UntrustedRole`); each enabled role contributes
//! the enabled `Permission.{i}.` row with the highest `Order` whose `Targets` cover the
//! path, and the permissions of several roles are united.
//!
//! Targets are compiled with the data model's path grammar and matched like subscription
//! ReferenceList entries: a partial path covers everything below it, an instance covers
//! its parameters, a search path covers what it resolves to at the time of the check.
//!
//! Rules are read from the data model once per Controller and cached; the cache is dropped
//! when a Controller writes under `Device.LocalAgent.` (synchronously, before its answer
//! goes out) and when the change stream shows a trust or Controller row changing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::warn;
use usp_datamodel::DataModel;
use usp_datamodel::path::PathExpr;

/// What a permission is checked on (the four permission parameters of a Permission row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// A parameter (`Param`).
    Param = 0,
    /// An object or table (`Obj`).
    Obj = 1,
    /// An object instance (`InstantiatedObj`).
    Instance = 2,
    /// A command or event (`CommandEvent`).
    CommandEvent = 3,
}

/// One of the four permission letters, `rwxn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    /// `r`: Get, GetInstances, GetSupportedDM.
    Read = 1,
    /// `w`: Set/Add of parameters, Add of instances, Delete of instances.
    Write = 2,
    /// `x`: Operate.
    Execute = 4,
    /// `n`: notifications.
    Notify = 8,
}

/// Parses a TR-181 permission string (`rwxn` with `-` for an absent permission).
pub fn parse_perms(s: &str) -> Option<u8> {
    let b = s.as_bytes();
    if b.len() != 4 {
        return None;
    }
    let mut bits = 0;
    for (i, (&c, letter)) in b.iter().zip(*b"rwxn").enumerate() {
        if c == letter {
            bits |= 1 << i;
        } else if c != b'-' {
            return None;
        }
    }
    Some(bits)
}

/// The TR-181 pattern a permission string must match.
pub const PERMS_PATTERN: &str = "[r-][w-][x-][n-]";

#[derive(Debug)]
struct Rule {
    order: u32,
    targets: Vec<PathExpr>,
    /// Some target is `Device.` itself (every path is below it).
    covers_root: bool,
    /// Bits per [`On`].
    perms: [u8; 4],
}

#[derive(Debug, Default)]
struct RoleRules {
    /// Highest Order first.
    rules: Vec<Rule>,
}

/// The permissions of one Controller.
#[derive(Debug, Default)]
pub struct Access {
    roles: Vec<RoleRules>,
    /// Some role's top rule grants everything on `Device.`: no path needs checking.
    all: bool,
    /// No rule of any role grants anything: the Controller may only ask what we speak.
    none: bool,
}

impl Access {
    /// Whether `perm` is granted on `path` (a parameter, instance, table, or command/event
    /// path such as `Device.X.Reboot()` / `Device.Boot!`).
    pub fn allows(&self, dm: &DataModel, on: On, perm: Perm, path: &str) -> bool {
        self.decide(on, perm, |t| dm.matches(t, path))
    }

    /// Whether `perm` is granted on a supported path (`Device.X.{i}.Param`, GetSupportedDM):
    /// meta-information is the same for every instance, so only rules whose Targets cover
    /// every instance (names, `*`, partial paths) speak for it; a rule naming one instance
    /// or a search does not decide it.
    pub fn allows_supported(&self, on: On, perm: Perm, supported_path: &str) -> bool {
        self.decide(on, perm, |t| covers_type(t, supported_path))
    }

    /// In each role the highest-Order rule with a target that `covers` decides; any role
    /// granting suffices.
    fn decide(&self, on: On, perm: Perm, covers: impl Fn(&PathExpr) -> bool) -> bool {
        if self.all {
            return true;
        }
        if self.none {
            return false;
        }
        let bit = perm as u8;
        self.roles.iter().any(|role| {
            role.rules
                .iter()
                .find(|r| r.targets.iter().any(&covers))
                .is_some_and(|r| r.perms[on as usize] & bit != 0)
        })
    }

    /// True when every permission is granted everywhere (no check needed).
    pub fn grants_all(&self) -> bool {
        self.all
    }

    /// True when no permission is granted anywhere.
    pub fn denies_everything(&self) -> bool {
        self.none
    }

    /// Reads the rules of `endpoint_id` from the data model.
    pub fn load(dm: &DataModel, endpoint_id: &str) -> Access {
        let mut role_paths = Vec::new();
        let row = crate::localagent::controller_path(dm, endpoint_id);
        let enabled = row
            .as_ref()
            .is_some_and(|p| dm.stored_value(&format!("{p}Enable")).as_deref() == Ok("true"));
        match row {
            Some(p) if enabled => {
                for param in ["AssignedRole", "InheritedRole"] {
                    if let Ok(v) = dm.stored_value(&format!("{p}{param}")) {
                        role_paths.extend(list(&v));
                    }
                }
            }
            _ => {
                if let Ok(v) = dm.stored_value("Device.LocalAgent.ControllerTrust.UntrustedRole") {
                    role_paths.extend(list(&v));
                }
            }
        }
        let roles: Vec<RoleRules> = role_paths.iter().filter_map(|r| load_role(dm, r)).collect();
        let all = roles.iter().any(|r| {
            r.rules
                .first()
                .is_some_and(|top| top.covers_root && top.perms == [0b1011, 0b1011, 0b1011, 0b1101])
        });
        let none = roles
            .iter()
            .all(|r| r.rules.iter().all(|rule| rule.perms == [0; 4]));
        Access { roles, all, none }
    }
}

fn list(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.ends_with('.') {
                s.to_string()
            } else {
                format!("{s}.")
            }
        })
}

fn load_role(dm: &DataModel, role: &str) -> Option<RoleRules> {
    if !role.starts_with("Device.LocalAgent.ControllerTrust.Role.")
        || dm.stored_value(&format!("{role}Enable")).as_deref() != Ok("true")
    {
        return None;
    }
    let numbers = dm.instance_numbers(&format!("{role}Permission.")).ok()?;
    let mut rules = Vec::new();
    for i in numbers {
        let p = format!("{role}Permission.{i}.");
        let get = |name: &str| dm.stored_value(&format!("{p}{name}")).unwrap_or_default();
        if get("Enable") != "true" {
            continue;
        }
        let mut perms = [0u8; 4];
        let mut valid = true;
        for (slot, name) in
            perms
                .iter_mut()
                .zip(["Param", "Obj", "InstantiatedObj", "CommandEvent"])
        {
            match parse_perms(&get(name)) {
                Some(bits) => *slot = bits,
                None => valid = false,
            }
        }
        if !valid {
            warn!(permission = %p, "permission row with a malformed rwxn string ignored");
            continue;
        }
        let targets_text = get("Targets");
        let covers_root = targets_text.split(',').any(|t| t.trim() == "Device.");
        let targets = targets_text
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .filter_map(|t| match dm.compile(t) {
                Ok(expr) => Some(expr),
                Err(e) => {
                    warn!(permission = %p, target = t, error = %e, "permission target ignored");
                    None
                }
            })
            .collect();
        let order = get("Order").parse().unwrap_or(0);
        rules.push(Rule {
            order,
            targets,
            covers_root,
            perms,
        });
    }
    rules.sort_by_key(|r| std::cmp::Reverse(r.order));
    Some(RoleRules { rules })
}

/// Whether target `t` covers every instance the supported path `supported` stands for.
fn covers_type(t: &PathExpr, supported: &str) -> bool {
    use usp_datamodel::path::{Leaf, Segment};
    let Some(rest) = supported.strip_prefix("Device.") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('.').collect();
    let Some((leaf, elems)) = parts.split_last() else {
        return false;
    };
    if t.segments.len() > elems.len() {
        return false;
    }
    let steps_match = t.segments.iter().zip(elems).all(|(seg, e)| match seg {
        Segment::Name(n) => **n == **e,
        Segment::Wildcard => *e == "{i}",
        Segment::Instance(_) | Segment::Search(_) | Segment::Follow { .. } => false,
    });
    steps_match
        && match &t.leaf {
            Leaf::Object => true,
            Leaf::Param(p) | Leaf::Command(p) | Leaf::Event(p) => {
                t.segments.len() == elems.len() && **p == **leaf
            }
        }
}

/// Whether a change to `path` can change anyone's permissions.
pub fn affects_access(path: &str) -> bool {
    path.starts_with("Device.LocalAgent.ControllerTrust.")
        || path.starts_with("Device.LocalAgent.Controller.")
}

/// Whether `change` can change anyone's permissions; allocates nothing, since every value
/// report passes here.
pub fn change_affects_access(change: &usp_datamodel::Change) -> bool {
    use usp_datamodel::Change;
    match change {
        Change::ValueChange { path, .. }
        | Change::ObjectCreation { path, .. }
        | Change::ObjectDeletion { path } => affects_access(path),
        Change::Event { .. } | Change::OperationComplete { .. } => false,
    }
}

/// Per-Controller [`Access`], cached until the trust configuration changes.
#[derive(Debug, Clone, Default)]
pub struct AccessCache {
    inner: Arc<Mutex<HashMap<String, Arc<Access>>>>,
}

impl AccessCache {
    /// The permissions of `endpoint_id`.
    pub fn get(&self, dm: &DataModel, endpoint_id: &str) -> Arc<Access> {
        if let Some(a) = self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(endpoint_id)
        {
            return a.clone();
        }
        let access = Arc::new(Access::load(dm, endpoint_id));
        let mut m = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        // A hostile stream of made-up EndpointIDs must not grow the cache without bound.
        if m.len() >= 1024 {
            m.clear();
        }
        m.insert(endpoint_id.to_string(), access.clone());
        access
    }

    /// Forgets every cached permission set.
    pub fn invalidate(&self) {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Drops the cache whenever the change stream shows a trust or Controller row
    /// changing (in-process writes, e.g. a configured Controller's role at start-up).
    pub fn watch(&self, dm: &DataModel) -> tokio::task::JoinHandle<()> {
        let mut rx = dm.changes();
        let cache = self.clone();
        tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match rx.recv().await {
                    Ok(change) if change_affects_access(&change) => cache.invalidate(),
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => cache.invalidate(),
                    Err(RecvError::Closed) => return,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_strings_follow_rwxn() {
        assert_eq!(parse_perms("rwxn"), Some(0b1111));
        assert_eq!(parse_perms("r--n"), Some(0b1001));
        assert_eq!(parse_perms("----"), Some(0));
        assert_eq!(parse_perms("wr--"), None);
        assert_eq!(parse_perms("rw"), None);
        assert_eq!(parse_perms("rwxnn"), None);
    }

    #[test]
    fn only_targets_covering_every_instance_speak_for_a_supported_path() {
        let t = |s: &str| usp_datamodel::path::parse(s).unwrap();
        let sub = "Device.LocalAgent.Subscription.{i}.";
        assert!(covers_type(&t("Device."), sub));
        assert!(covers_type(&t("Device.LocalAgent.Subscription."), sub));
        assert!(covers_type(&t("Device.LocalAgent.Subscription.*."), sub));
        assert!(!covers_type(&t("Device.LocalAgent.Subscription.1."), sub));
        assert!(!covers_type(
            &t("Device.LocalAgent.Subscription.[Enable==true]."),
            sub
        ));
        assert!(!covers_type(&t("Device.LocalAgent.Controller."), sub));
        let param = "Device.LocalAgent.Subscription.{i}.Enable";
        assert!(covers_type(
            &t("Device.LocalAgent.Subscription.*.Enable"),
            param
        ));
        assert!(!covers_type(
            &t("Device.LocalAgent.Subscription.*.ID"),
            param
        ));
        assert!(!covers_type(
            &t("Device.LocalAgent.Subscription.*.Enable"),
            sub
        ));
    }
}
