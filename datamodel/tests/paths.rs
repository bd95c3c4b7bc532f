//! TR-369 path grammar: parsing, resolution against the tree, and the typed errors of
//! malformed or unresolvable paths.

mod common;

use usp_datamodel::path::{self, Leaf, ListIndex, Op, Segment};
use usp_datamodel::{ErrorCode, ErrorKind};

fn resolved(dm: &usp_datamodel::DataModel, p: &str) -> Vec<String> {
    dm.resolve(p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn kind(dm: &usp_datamodel::DataModel, p: &str) -> ErrorKind {
    dm.resolve(p).expect_err(p).kind
}

#[test]
fn parser_splits_every_element_kind() {
    let e = path::parse("Device.LocalAgent.Controller.1.MTP.*.Protocol").unwrap();
    assert_eq!(
        e.segments,
        vec![
            Segment::Name("LocalAgent".into()),
            Segment::Name("Controller".into()),
            Segment::Instance(1),
            Segment::Name("MTP".into()),
            Segment::Wildcard,
        ]
    );
    assert_eq!(e.leaf, Leaf::Param("Protocol".into()));
    assert_eq!(
        path::parse("Device.Reboot()").unwrap().leaf,
        Leaf::Command("Reboot()".into())
    );
    assert_eq!(
        path::parse("Device.Boot!").unwrap().leaf,
        Leaf::Event("Boot!".into())
    );
    assert_eq!(path::parse("Device.").unwrap().leaf, Leaf::Object);
    let f = path::parse("Device.IP.Interface.2.LowerLayers#1+.Name").unwrap();
    assert_eq!(
        f.segments[3],
        Segment::Follow {
            param: "LowerLayers".into(),
            index: Some(ListIndex::Nth(1))
        }
    );
}

#[test]
fn search_expressions_parse_operators_quotes_and_subobject_params() {
    let e = path::parse(r#"Device.IP.Interface.[Enable==true&&Name!="a.b]&&c"&&Stats.BytesSent>=10&&MTU<1500&&MTU>1&&MTU<=9000].Name"#)
        .unwrap();
    let Segment::Search(conds) = &e.segments[2] else {
        panic!("not a search")
    };
    let ops: Vec<Op> = conds.iter().map(|c| c.op).collect();
    assert_eq!(ops, vec![Op::Eq, Op::Ne, Op::Ge, Op::Lt, Op::Gt, Op::Le]);
    assert_eq!(conds[1].literal, "a.b]&&c");
    assert_eq!(conds[2].via, vec![Segment::Name("Stats".into())]);
    assert_eq!(conds[2].param.as_ref(), "BytesSent");
    let pct = path::parse(r#"Device.IP.Interface.[Name=="a%22b%25"]."#).unwrap();
    let Segment::Search(c) = &pct.segments[2] else {
        panic!()
    };
    assert_eq!(c[0].literal, "a\"b%");
}

#[test]
fn malformed_paths_are_syntax_errors_never_panics() {
    let bad = [
        "",
        "Device",
        "device.",
        "Foo.Bar",
        "Device..IP.",
        "Device.IP.Interface.[Enable==true.",
        "Device.IP.Interface.[Enable==true]Name",
        "Device.IP.Interface.Enable==true].",
        "Device.IP.Interface.[Enable=true].",
        "Device.IP.Interface.[Enable=~true].",
        "Device.IP.Interface.[Enable||Name].",
        "Device.IP.Interface.[].",
        "Device.IP.Interface.[Name==\"abc].",
        "Device.IP.Interface.[Name==].",
        "Device.IP.Interface.[[Name==1]].",
        "Device.IP.Interface.99999999999.",
        "Device.IP.Interface.*",
        "Device.IP.Interface.1.LowerLayers+",
        "Device.IP.Interface.1.LowerLayers#+.Name",
        "Device.IP.Interface.1.LowerLayers#0+.Name",
        "Device.IP.Interface.1.LowerLayers#1.Name",
        "Device.Reboot(",
        "Device.Reboot()x",
        "Device.Boot!.",
        "Device.1abc.",
        "Device.I P.",
        "Device.IP.Interface.{i}.",
        "Device.IP.Interface.[Name==%zz].",
        "Device.IP.Interface.[Name==%+1].",
        "Device.\u{1F600}.",
        "Device.IP.Interface.[Name==\"x\"\"y\"].",
        "Device.IP.Interface.[Namé&&==1].",
        "Device.IP.Interface.[Name==\"é\"&&é].",
    ];
    for p in bad {
        let e = path::parse(p).expect_err(p);
        assert_eq!(e.kind, ErrorKind::PathSyntax, "{p}");
        assert_eq!(e.usp_code(), ErrorCode::InvalidPathSyntax, "{p}");
    }
    let long = format!("Device.{}", "A.".repeat(5000));
    assert_eq!(path::parse(&long).unwrap_err().kind, ErrorKind::PathSyntax);
}

#[test]
fn arbitrary_bytes_never_panic_the_parser_or_resolver() {
    let dm = usp_datamodel::DataModel::new(common::schema());
    let alphabet: Vec<char> = "Device.IP[]=!<>&\"+#*(){}0123 iaZ%.-_é😀".chars().collect();
    let mut seed: u64 = 0x1234_5678;
    for _ in 0..5000 {
        let len = (seed % 40) as usize;
        let mut s = String::from("Device.");
        for _ in 0..len {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
        }
        let _ = path::parse(&s);
        let _ = dm.resolve(&s);
    }
}

#[test]
fn supported_form_accepts_instance_placeholder() {
    let e = path::parse_supported("Device.ProxiedDevice.{i}.IoTCapability.{i}.").unwrap();
    assert_eq!(e.segments[1], Segment::Wildcard);
    assert!(path::parse_supported("Device.ProxiedDevice.{j}.").is_err());
}

#[tokio::test]
async fn instance_numbers_wildcards_and_partial_paths_resolve_in_order() {
    let dm = common::populated().await;
    assert_eq!(
        resolved(&dm, "Device.IP.Interface.2.Name"),
        ["Device.IP.Interface.2.Name"]
    );
    assert_eq!(
        resolved(&dm, "Device.IP.Interface.*.Name"),
        ["Device.IP.Interface.1.Name", "Device.IP.Interface.2.Name"]
    );
    assert_eq!(
        resolved(&dm, "Device.IP.Interface."),
        ["Device.IP.Interface."]
    );
    assert_eq!(
        resolved(&dm, "Device.LocalAgent.Controller.*.MTP.*."),
        [
            "Device.LocalAgent.Controller.1.MTP.1.",
            "Device.LocalAgent.Controller.2.MTP.1."
        ]
    );
    assert_eq!(
        resolved(&dm, "Device.IP.Interface.1.Stats."),
        ["Device.IP.Interface.1.Stats."]
    );
    assert_eq!(resolved(&dm, "Device.Reboot()"), ["Device.Reboot()"]);
    assert_eq!(resolved(&dm, "Device.Boot!"), ["Device.Boot!"]);
}

#[tokio::test]
async fn search_expressions_filter_rows_by_own_and_subobject_params() {
    let dm = common::populated().await;
    assert_eq!(
        resolved(&dm, "Device.IP.Interface.[Enable==true].Name"),
        ["Device.IP.Interface.1.Name"]
    );
    assert_eq!(
        resolved(&dm, "Device.IP.Interface.[Enable==1].Name"),
        ["Device.IP.Interface.1.Name"]
    );
    assert_eq!(
        resolved(&dm, r#"Device.IP.Interface.[Name!="eth0"]."#),
        ["Device.IP.Interface.2."]
    );
    assert_eq!(
        resolved(&dm, "Device.IP.Interface.[MTU<1500]."),
        ["Device.IP.Interface.2."]
    );
    assert_eq!(resolved(&dm, "Device.IP.Interface.[MTU<=1500].").len(), 2);
    assert_eq!(
        resolved(&dm, "Device.IP.Interface.[MTU>1400]."),
        ["Device.IP.Interface.1."]
    );
    assert_eq!(resolved(&dm, "Device.IP.Interface.[MTU>=1400].").len(), 2);
    assert_eq!(
        resolved(&dm, "Device.IP.Interface.[Stats.BytesSent>100]."),
        ["Device.IP.Interface.1."]
    );
    assert_eq!(
        resolved(
            &dm,
            r#"Device.IP.Interface.[Enable==false&&Name=="wlan0"]."#
        ),
        ["Device.IP.Interface.2."]
    );
    // A valid search matching nothing is an empty result, not an error.
    assert!(resolved(&dm, r#"Device.IP.Interface.[Name=="none"].Name"#).is_empty());
    // Unique-key addressing is a search on the key.
    assert_eq!(
        resolved(
            &dm,
            r#"Device.LocalAgent.Controller.[EndpointID=="ctrl-b"].MTP.1.Protocol"#
        ),
        ["Device.LocalAgent.Controller.2.MTP.1.Protocol"]
    );
}

#[tokio::test]
async fn reference_following_reaches_the_referenced_object() {
    let dm = common::populated().await;
    assert_eq!(
        resolved(&dm, "Device.NAT.PortMapping.1.Interface+.Name"),
        ["Device.IP.Interface.1.Name"]
    );
    // A reference written without the trailing dot is followed too.
    assert_eq!(
        resolved(&dm, "Device.NAT.PortMapping.2.Interface+.Name"),
        ["Device.IP.Interface.2.Name"]
    );
    assert_eq!(
        resolved(&dm, "Device.NAT.PortMapping.*.Interface+."),
        ["Device.IP.Interface.1.", "Device.IP.Interface.2."]
    );
    assert_eq!(
        resolved(&dm, "Device.IP.Interface.2.LowerLayers#1+.Name"),
        ["Device.IP.Interface.1.Name"]
    );
    assert!(resolved(&dm, "Device.IP.Interface.2.LowerLayers#2+.Name").is_empty());
    assert_eq!(
        resolved(
            &dm,
            r#"Device.NAT.PortMapping.[Interface+.Name=="wlan0"].Description"#
        ),
        ["Device.NAT.PortMapping.2.Description"]
    );
}

#[tokio::test]
async fn unresolvable_paths_give_the_right_error_kinds_and_codes() {
    let dm = common::populated().await;
    assert_eq!(kind(&dm, "Device.Nope."), ErrorKind::NotInSupportedModel);
    assert_eq!(
        kind(&dm, "Device.IP.Interface.*.Nope"),
        ErrorKind::NotInSupportedModel
    );
    assert_eq!(
        kind(&dm, "Device.IP.Interface.9.Name"),
        ErrorKind::InstanceNotFound
    );
    assert_eq!(
        kind(&dm, "Device.IP.Interface.[Nope==1]."),
        ErrorKind::NotInSupportedModel
    );
    // Search or instance on a single-instance object.
    assert_eq!(
        kind(&dm, "Device.LocalAgent.[EndpointID==\"x\"]."),
        ErrorKind::WrongPathKind
    );
    assert_eq!(kind(&dm, "Device.LocalAgent.1."), ErrorKind::WrongPathKind);
    assert_eq!(
        kind(&dm, "Device.LocalAgent.*.EndpointID"),
        ErrorKind::WrongPathKind
    );
    // A table name followed by a parameter.
    assert_eq!(
        kind(&dm, "Device.IP.Interface.Name"),
        ErrorKind::WrongPathKind
    );
    // '+' on a parameter that is not a reference.
    assert_eq!(
        kind(&dm, "Device.NAT.PortMapping.1.Description+.Name"),
        ErrorKind::NotAReference
    );
    // Relational operators need ordered types; literals must fit the type.
    assert_eq!(
        kind(&dm, "Device.IP.Interface.[Name>\"a\"]."),
        ErrorKind::PathSyntax
    );
    assert_eq!(
        kind(&dm, "Device.IP.Interface.[Enable==maybe]."),
        ErrorKind::PathSyntax
    );
    assert_eq!(
        kind(&dm, "Device.IP.Interface.[MTU==abc]."),
        ErrorKind::PathSyntax
    );
    for (p, code) in [
        ("Device.Nope.", ErrorCode::InvalidPath),
        ("Device.IP.Interface.9.", ErrorCode::InvalidPath),
        ("Device.IP.[", ErrorCode::InvalidPathSyntax),
        (
            "Device.NAT.PortMapping.1.Description+.Name",
            ErrorCode::InvalidPath,
        ),
    ] {
        assert_eq!(dm.resolve(p).unwrap_err().usp_code(), code, "{p}");
    }
}

#[tokio::test]
async fn matches_decides_subscription_membership_without_resolving_everything() {
    let dm = common::populated().await;
    let pat = dm
        .compile("Device.IP.Interface.[Enable==true].Name")
        .unwrap();
    assert!(dm.matches(&pat, "Device.IP.Interface.1.Name"));
    assert!(!dm.matches(&pat, "Device.IP.Interface.2.Name"));
    assert!(!dm.matches(&pat, "Device.IP.Interface.1.MTU"));
    let obj = dm.compile("Device.IP.Interface.").unwrap();
    assert!(dm.matches(&obj, "Device.IP.Interface.7."));
    assert!(dm.matches(&obj, "Device.IP.Interface.1.Stats.BytesSent"));
    assert!(!dm.matches(&obj, "Device.NAT.PortMapping.1."));
    let wild = dm
        .compile("Device.LocalAgent.Controller.*.MTP.*.Protocol")
        .unwrap();
    assert!(dm.matches(&wild, "Device.LocalAgent.Controller.2.MTP.1.Protocol"));
    assert!(!dm.matches(&wild, "Device.LocalAgent.Controller.2.MTP.1.Alias"));
    let ev = dm.compile("Device.Boot!").unwrap();
    assert!(dm.matches(&ev, "Device.Boot!"));
    let follow = dm
        .compile("Device.NAT.PortMapping.1.Interface+.Name")
        .unwrap();
    assert!(dm.matches(&follow, "Device.IP.Interface.1.Name"));
    assert!(!dm.matches(&follow, "Device.IP.Interface.2.Name"));
    // A deleted row still matches on structure (ObjectDeletion).
    let del = dm.compile("Device.IP.Interface.[Enable==true].").unwrap();
    assert!(dm.matches(&del, "Device.IP.Interface.42."));
}

#[test]
fn tr369_style_example_paths_parse() {
    for p in [
        "Device.LocalAgent.Controller.1.MTP.1.Protocol",
        "Device.LocalAgent.Subscription.[ID==\"boot-sub\"].Enable",
        "Device.DHCPv4.Server.Pool.*.Client.[IPv4Address==\"192.168.1.20\"].",
        "Device.WiFi.AccessPoint.[SSIDReference+.SSID==\"GuestNetwork1\"].AssociatedDevice.[Noise>15].SignalStrength",
        "Device.IP.Interface.[Type==\"Normal\"&&Stats.ErrorsSent>0].IPv4Address.[AddressingType==\"Static\"].IPAddress",
        "Device.Ethernet.Link.1.LowerLayers#1+.Name",
        "Device.WiFi.SSID.[LowerLayers#1+.Status==\"Up\"].Name",
        "Device.LocalAgent.Controller.[EndpointID==\"proto::controller-1\"].BootParameter.*.",
        "Device.DeviceInfo.FirmwareImage.1.Download()",
        "Device.LocalAgent.Periodic!",
        "Device.ProxiedDevice.[Alias==\"cpe-3\"].IoTCapability.[Class==\"LevelSensor\"].LevelSensor.Value",
    ] {
        let e = path::parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert!(!e.segments.is_empty(), "{p}");
    }
}

#[test]
fn concrete_paths_map_to_their_supported_paths() {
    let s = usp_datamodel::fixture::schema();
    assert_eq!(
        s.supported_path_of("Device.ProxiedDevice.3.IoTCapability.1.LevelSensor.Value")
            .as_deref(),
        Some("Device.ProxiedDevice.{i}.IoTCapability.{i}.LevelSensor.Value")
    );
    assert_eq!(
        s.supported_path_of("Device.ProxiedDevice.3.").as_deref(),
        Some("Device.ProxiedDevice.{i}.")
    );
    assert_eq!(
        s.supported_path_of("Device.ProxiedDevice.1.IoTCapability.2.BinaryControl.Toggle()")
            .as_deref(),
        Some("Device.ProxiedDevice.{i}.IoTCapability.{i}.BinaryControl.Toggle()")
    );
    assert_eq!(s.supported_path_of("Device.").as_deref(), Some("Device."));
    for bad in [
        "Device.ProxiedDevice.x.",
        "Device.Nope.",
        "Device.ProxiedDevice.1.Nope",
        "Foo.",
        "Device.ProxiedDevice.",
    ] {
        assert_eq!(s.supported_path_of(bad), None, "{bad}");
    }
}
