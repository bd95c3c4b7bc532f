//! Who sent a request and what they may do: the Controller's EndpointID, its trust role
//! (Device.LocalAgent.ControllerTrust) and the route its answers and notifications take.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::config::Role;
use crate::mtp::{Address, Route};

/// The sender of one request.
#[derive(Debug, Clone)]
pub struct Session {
    /// The Controller's EndpointID (the Record's from_id).
    pub controller: String,
    /// Its role.
    pub role: Role,
    /// Where the answer goes.
    pub reply_to: Route,
}

/// What the agent knows about one Controller.
#[derive(Debug, Clone)]
pub struct ControllerEntry {
    /// Its role.
    pub role: Role,
    /// Its configured route for notifications (MQTT topic), if any.
    pub configured: Option<Route>,
    /// The route its last request came on (learned), preferred for notifications.
    pub learned: Option<Route>,
}

/// The Controllers the agent knows, shared by the dispatcher and the notifier.
#[derive(Debug, Clone, Default)]
pub struct Controllers {
    inner: Arc<RwLock<HashMap<String, ControllerEntry>>>,
}

impl Controllers {
    /// Registers a configured Controller.
    pub fn insert(&self, endpoint_id: &str, role: Role, configured: Option<Route>) {
        if let Ok(mut m) = self.inner.write() {
            m.insert(
                endpoint_id.to_string(),
                ControllerEntry {
                    role,
                    configured,
                    learned: None,
                },
            );
        }
    }

    /// The role of a sender: configured Controllers have theirs; anyone else is untrusted.
    pub fn role(&self, endpoint_id: &str) -> Role {
        self.inner
            .read()
            .ok()
            .and_then(|m| m.get(endpoint_id).map(|e| e.role))
            .unwrap_or(Role::Untrusted)
    }

    /// True when the Controller is configured.
    pub fn is_known(&self, endpoint_id: &str) -> bool {
        self.inner.read().is_ok_and(|m| m.contains_key(endpoint_id))
    }

    /// Remembers the route a known Controller's request came on; a WebSocket connection is
    /// remembered by EndpointID, since the connection may be replaced.
    pub fn learn(&self, endpoint_id: &str, reply_to: &Route) {
        let route = match &reply_to.to {
            Address::WebSocketConn(_) => Route {
                mtp: reply_to.mtp,
                to: Address::WebSocketEndpoint(endpoint_id.to_string()),
            },
            Address::MqttNoReplyTopic => return,
            _ => reply_to.clone(),
        };
        if let Ok(mut m) = self.inner.write()
            && let Some(e) = m.get_mut(endpoint_id)
            && e.learned.as_ref() != Some(&route)
        {
            e.learned = Some(route);
        }
    }

    /// The route a notification to this Controller takes.
    pub fn route(&self, endpoint_id: &str) -> Option<Route> {
        let m = self.inner.read().ok()?;
        let e = m.get(endpoint_id)?;
        e.learned.clone().or_else(|| e.configured.clone())
    }

    /// The configured route (used to answer an MQTT PUBLISH that had no Response Topic).
    pub fn configured_route(&self, endpoint_id: &str) -> Option<Route> {
        self.inner.read().ok()?.get(endpoint_id)?.configured.clone()
    }
}
