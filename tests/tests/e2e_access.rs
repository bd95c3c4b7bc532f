//! Controller permissions from Device.LocalAgent.ControllerTrust, end to end: a full-access
//! Controller defines a role with Permission rows over USP and assigns it to another
//! Controller, whose Gets, GetSupportedDMs, Sets, Adds, Deletes and notifications then follow
//! the role —
//! highest Order wins within the role — and go back to nothing when the untrusted role is
//! assigned again.

use std::time::Duration;

use rusp_lib::usp::mod_AddResp::mod_CreatedObjectResult::mod_OperationStatus::OneOfoper_status as AddStatus;
use rusp_lib::usp::mod_Notify::OneOfnotification as N;
use rusp_lib::usp::mod_Response::OneOfresp_type as Resp;
use rusp_lib::usp_builder::{
    AddBuilder, CreateObjectBuilder, DeleteBuilder, GetBuilder, GetSupportedDMBuilder,
};
use usphub_tests::agent::{AGENT_EID, CONTROLLER, GUEST, TestAgent};
use usphub_tests::controller::{RuspController, error_of, response_of, set_one};

const WAIT: Duration = Duration::from_secs(10);

/// GetSupportedDM of one path with parameters: its error code and each object's parameter
/// names.
async fn supported_dm(
    c: &mut RuspController,
    path: &str,
) -> Vec<(u32, std::collections::BTreeMap<String, Vec<String>>)> {
    let msg = c
        .request(
            GetSupportedDMBuilder::new()
                .with_obj_paths(vec![path.into()])
                .with_return_params(true)
                .build()
                .unwrap(),
        )
        .await;
    let Resp::get_supported_dm_resp(g) = response_of(&msg) else {
        panic!("{msg:?}")
    };
    g.req_obj_results
        .iter()
        .map(|r| {
            let objs = r
                .supported_objs
                .iter()
                .map(|o| {
                    let params = o.supported_params.iter().map(|p| p.param_name.clone());
                    (o.supported_obj_path.clone(), params.collect())
                })
                .collect();
            (r.err_code, objs)
        })
        .collect()
}

/// Adds one row to `table` with `params`; returns its instance path.
async fn add(c: &mut RuspController, table: &str, params: &[(&str, &str)]) -> String {
    let settings = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string(), true))
        .collect();
    let body = AddBuilder::new()
        .with_allow_partial(false)
        .with_create_objs(vec![
            CreateObjectBuilder::new(table.into()).with_param_settings(settings),
        ])
        .build()
        .unwrap();
    let msg = c.request(body).await;
    let Resp::add_resp(a) = response_of(&msg) else {
        panic!("not an AddResp: {msg:?}")
    };
    match &a.created_obj_results[0]
        .oper_status
        .as_ref()
        .unwrap()
        .oper_status
    {
        AddStatus::oper_success(s) => s.instantiated_path.clone(),
        other => panic!("{table} row not created: {other:?}"),
    }
}

async fn set_ok(c: &mut RuspController, path: &str, value: &str) {
    let msg = c.request(set_one(path, value)).await;
    assert!(
        matches!(response_of(&msg), Resp::set_resp(_)),
        "Set {path}: {msg:?}"
    );
}

/// The per-path result of a one-path Get: (err_code, parameter paths).
async fn get_one(c: &mut RuspController, path: &str) -> (u32, Vec<String>) {
    let body = GetBuilder::new()
        .with_params(vec![path.into()])
        .build()
        .unwrap();
    let msg = c.request(body).await;
    let Resp::get_resp(g) = response_of(&msg) else {
        panic!("not a GetResp: {msg:?}")
    };
    let r = &g.req_path_results[0];
    let params = r
        .resolved_path_results
        .iter()
        .flat_map(|o| {
            o.result_params
                .keys()
                .map(move |k| format!("{}{k}", o.resolved_path))
        })
        .collect();
    (r.err_code, params)
}

/// The row of `GUEST`'s Controller entry.
async fn guest_row(admin: &mut RuspController) -> String {
    let m = admin
        .get_map("Device.LocalAgent.Controller.*.EndpointID")
        .await;
    let (k, _) = m
        .iter()
        .find(|(_, v)| v.as_str() == GUEST)
        .expect("the guest has a Controller row");
    k.trim_end_matches("EndpointID").to_string()
}

#[tokio::test]
async fn a_role_defined_over_usp_governs_another_controller() {
    let t = TestAgent::start().await;
    let mut admin = RuspController::websocket(&t.ws_url(), CONTROLLER, AGENT_EID).await;
    let mut guest = RuspController::websocket(&t.ws_url(), GUEST, AGENT_EID).await;

    // Untrusted: everything but GetSupportedProtocol is refused outright.
    let msg = guest
        .request(
            GetBuilder::new()
                .with_params(vec!["Device.DeviceInfo.".into()])
                .build()
                .unwrap(),
        )
        .await;
    assert_eq!(error_of(&msg).map(|e| e.err_code), Some(7006), "{msg:?}");

    // The admin defines "Observer": read everything, see nothing of the Controller table,
    // and manage (and be notified about) subscriptions.
    let role = add(
        &mut admin,
        "Device.LocalAgent.ControllerTrust.Role.",
        &[("Name", "Observer"), ("Enable", "true")],
    )
    .await;
    let perms = format!("{role}Permission.");
    for (order, targets, p, o, i, c) in [
        ("1", "Device.", "r---", "r---", "r---", "r---"),
        (
            "2",
            "Device.LocalAgent.Controller.",
            "----",
            "----",
            "----",
            "----",
        ),
        (
            "3",
            "Device.LocalAgent.Subscription.",
            "rw-n",
            "rw-n",
            "rw-n",
            "----",
        ),
    ] {
        add(
            &mut admin,
            &perms,
            &[
                ("Enable", "true"),
                ("Order", order),
                ("Targets", targets),
                ("Param", p),
                ("Obj", o),
                ("InstantiatedObj", i),
                ("CommandEvent", c),
            ],
        )
        .await;
    }
    let row = guest_row(&mut admin).await;
    set_ok(&mut admin, &format!("{row}AssignedRole"), &role).await;

    // Read: allowed in general, hidden where a higher Order says so.
    let (code, params) = get_one(&mut guest, "Device.LocalAgent.EndpointID").await;
    assert_eq!((code, params.len()), (0, 1));
    let (code, _) = get_one(&mut guest, &format!("{row}EndpointID")).await;
    assert_eq!(code, 7006);
    let (code, params) = get_one(&mut guest, "Device.LocalAgent.").await;
    assert_eq!(code, 0);
    assert!(params.iter().any(|p| p == "Device.LocalAgent.EndpointID"));
    assert!(
        !params
            .iter()
            .any(|p| p.starts_with("Device.LocalAgent.Controller.")),
        "the Controller table is hidden: {params:?}"
    );

    // GetSupportedDM: the Controller table's meta-information is hidden like its values.
    let supported = supported_dm(&mut guest, "Device.LocalAgent.").await;
    let (code, objs) = &supported[0];
    assert_eq!(*code, 0);
    assert!(
        objs.contains_key("Device.LocalAgent.Subscription.{i}."),
        "{objs:?}"
    );
    assert!(
        objs["Device.LocalAgent."].contains(&"EndpointID".to_string()),
        "{objs:?}"
    );
    assert!(
        !objs
            .keys()
            .any(|o| o.starts_with("Device.LocalAgent.Controller.")),
        "{objs:?}"
    );
    let hidden = supported_dm(&mut guest, "Device.LocalAgent.Controller.{i}.").await;
    assert_eq!(hidden[0].0, 7006);

    // Write: refused on the Controller table, allowed on subscriptions.
    let msg = guest
        .request(set_one(&format!("{row}Enable"), "false"))
        .await;
    assert_eq!(error_of(&msg).map(|e| e.err_code), Some(7006), "{msg:?}");
    let body = AddBuilder::new()
        .with_allow_partial(false)
        .with_create_objs(vec![CreateObjectBuilder::new(
            "Device.LocalAgent.Controller.".into(),
        )])
        .build()
        .unwrap();
    let msg = guest.request(body).await;
    assert_eq!(error_of(&msg).map(|e| e.err_code), Some(7006), "{msg:?}");
    let sub = guest
        .subscribe("guest-vc", "ValueChange", "Device.LocalAgent.", &[])
        .await;

    // Notify: a change on the hidden Controller table is withheld, one on the guest's own
    // subscription is sent; nothing about the Controller table arrives before it.
    set_ok(&mut admin, &format!("{row}PeriodicNotifInterval"), "3600").await;
    set_ok(&mut admin, &format!("{sub}NotifExpiration"), "77").await;
    loop {
        let (_, n) = guest.next_notify(WAIT).await.expect("a notification");
        let N::value_change(v) = n.notification else {
            panic!("unexpected notification {:?}", n.notification)
        };
        assert!(
            !v.param_path.starts_with("Device.LocalAgent.Controller."),
            "withheld: {}",
            v.param_path
        );
        if v.param_path == format!("{sub}NotifExpiration") {
            assert_eq!(v.param_value, "77");
            break;
        }
    }

    // Delete: allowed on the subscription, refused on a Controller row.
    let body = DeleteBuilder::new()
        .with_allow_partial(false)
        .with_obj_paths(vec![row.clone()])
        .build()
        .unwrap();
    let msg = guest.request(body).await;
    assert_eq!(error_of(&msg).map(|e| e.err_code), Some(7006), "{msg:?}");
    let body = DeleteBuilder::new()
        .with_allow_partial(false)
        .with_obj_paths(vec![sub.clone()])
        .build()
        .unwrap();
    let msg = guest.request(body).await;
    assert!(matches!(response_of(&msg), Resp::delete_resp(_)), "{msg:?}");

    // Back to the untrusted role: refused outright again, at once.
    set_ok(
        &mut admin,
        &format!("{row}AssignedRole"),
        "Device.LocalAgent.ControllerTrust.Role.2.",
    )
    .await;
    let msg = guest
        .request(
            GetBuilder::new()
                .with_params(vec!["Device.LocalAgent.EndpointID".into()])
                .build()
                .unwrap(),
        )
        .await;
    assert_eq!(error_of(&msg).map(|e| e.err_code), Some(7006), "{msg:?}");
}

#[tokio::test]
async fn built_in_roles_carry_their_permission_rows() {
    let t = TestAgent::start().await;
    let mut admin = RuspController::websocket(&t.ws_url(), CONTROLLER, AGENT_EID).await;
    let m = admin
        .get_map("Device.LocalAgent.ControllerTrust.Role.*.Permission.1.")
        .await;
    let full = "Device.LocalAgent.ControllerTrust.Role.1.Permission.1.";
    let none = "Device.LocalAgent.ControllerTrust.Role.2.Permission.1.";
    assert_eq!(m[&format!("{full}Targets")], "Device.");
    assert_eq!(m[&format!("{full}Param")], "rw-n");
    assert_eq!(m[&format!("{full}CommandEvent")], "r-xn");
    assert_eq!(m[&format!("{none}Param")], "----");

    // A malformed permission string is refused by the data model, not stored.
    let msg = admin
        .request(set_one(&format!("{full}Param"), "rwxz"))
        .await;
    let err = error_of(&msg).expect("an Error");
    assert_eq!(
        err.param_errs.first().map(|p| p.err_code),
        Some(7012),
        "{msg:?}"
    );
}
