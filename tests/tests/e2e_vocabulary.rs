//! Every capability the agent mounts from the simulated radios must use TR-181's IoT
//! vocabulary exactly as `tr-181-2-iot.xml` enumerates it (the XML is normative where the
//! TR-369 appendix's prose differs: `degC`, not `Cel`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rusp_lib::usp::mod_Response::OneOfresp_type as Resp;
use rusp_lib::usp_builder::GetBuilder;
use usphub_bridges::zwave;
use usphub_tests::agent::{AGENT_EID, CONTROLLER, TestAgent};
use usphub_tests::controller::{RuspController, response_of};

/// The XML's enumerations: data types by name, and each class sub-object's inline `Type`.
struct Vocabulary {
    data_types: BTreeMap<String, BTreeSet<String>>,
    inline_types: BTreeMap<String, BTreeSet<String>>,
    type_refs: BTreeMap<String, String>,
}

fn vocabulary() -> Vocabulary {
    // `../shared/tr181` beside the project, unless USPHUB_TR181_DIR names another place.
    let dir = std::env::var_os("USPHUB_TR181_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tr181")
        });
    let path = dir.join("tr-181-2-iot.xml");
    let path = path.display();
    let text = std::fs::read_to_string(path.to_string())
        .unwrap_or_else(|e| panic!("{path}: {e} (the TR-181 XML is required)"));
    let doc = roxmltree::Document::parse(&text).expect("the XML parses");
    let enums = |n: roxmltree::Node| -> BTreeSet<String> {
        n.descendants()
            .filter(|e| e.has_tag_name("enumeration"))
            .filter_map(|e| e.attribute("value").map(str::to_string))
            .collect()
    };
    let mut v = Vocabulary {
        data_types: BTreeMap::new(),
        inline_types: BTreeMap::new(),
        type_refs: BTreeMap::new(),
    };
    for n in doc.descendants() {
        if n.has_tag_name("dataType") && n.attribute("name").is_some_and(|s| s.starts_with("IoT")) {
            v.data_types
                .insert(n.attribute("name").unwrap().to_string(), enums(n));
        }
        if n.has_tag_name("object")
            && let Some(name) = n.attribute("name")
            && let Some(class) = name
                .strip_prefix("IoTCapability.{i}.")
                .and_then(|c| c.strip_suffix('.'))
            && let Some(ty) = n
                .children()
                .find(|p| p.has_tag_name("parameter") && p.attribute("name") == Some("Type"))
        {
            let inline = enums(ty);
            if inline.is_empty() {
                let r = ty
                    .descendants()
                    .find(|d| d.has_tag_name("dataType"))
                    .and_then(|d| d.attribute("ref"));
                v.type_refs
                    .insert(class.to_string(), r.unwrap_or_default().to_string());
            } else {
                v.inline_types.insert(class.to_string(), inline);
            }
        }
    }
    v
}

async fn get_all(c: &mut RuspController, path: &str) -> BTreeMap<String, String> {
    let msg = c
        .request(
            GetBuilder::new()
                .with_max_depth(0)
                .with_params(vec![path.into()])
                .build()
                .unwrap(),
        )
        .await;
    let Resp::get_resp(g) = response_of(&msg) else {
        panic!("{msg:?}")
    };
    g.req_path_results[0]
        .resolved_path_results
        .iter()
        .flat_map(|r| {
            r.result_params
                .iter()
                .map(move |(k, v)| (format!("{}{k}", r.resolved_path), v.clone()))
        })
        .collect()
}

#[tokio::test]
async fn every_mounted_capability_uses_the_tr181_vocabulary() {
    let vocab = vocabulary();
    assert!(vocab.data_types["IoTUnitType"].contains("degC"));
    let agent = TestAgent::start().await;
    let sim = zwave::sim::spawn_tcp(&zwave::sim::scenario::Scenario::demo(), "127.0.0.1:0")
        .await
        .unwrap();
    let handle =
        usphub::radios::zwave_bridge(sim.url().parse().unwrap(), agent.dir.path(), None).unwrap();
    agent.agent().proxy.attach(handle).await.unwrap();
    let (ble, ble_task) = usphub_bridges::ble::sim::start(
        &usphub_bridges::ble::BleSettings::default(),
        usphub_bridges::ble::sim::SimScenario::default(),
    );
    agent.agent().proxy.attach(ble).await.unwrap();
    // Zigbee: the demo's devices (a colour bulb among them) behind the ZNP simulator.
    let zsim = usphub_bridges::zigbee::znp::sim::ZnpSim::start_tcp(
        usphub_bridges::zigbee::znp::sim::ZnpSimConfig {
            ieee: usphub::demo::ZIGBEE_COORDINATOR_IEEE,
            scenario: usphub_bridges::zigbee::sim::Scenario::parse(usphub::demo::ZIGBEE_SCENARIO)
                .unwrap(),
            require_bootloader_skip: false,
        },
        0,
    )
    .await
    .unwrap();
    let zigbee = usphub::radios::zigbee_bridge(
        &usphub_bridges::zigbee::config::ZigbeeSection::new(zsim.url()),
        agent.dir.path(),
    )
    .await
    .unwrap();
    agent.agent().proxy.attach(zigbee).await.unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;

    // Wait until the three radios have mounted devices with capabilities.
    let mut tree = BTreeMap::new();
    for _ in 0..300 {
        tree = get_all(&mut c, "Device.ProxiedDevice.").await;
        let protocols: BTreeSet<&str> = tree
            .iter()
            .filter(|(k, _)| k.ends_with(".ProxyProtocol"))
            .map(|(_, v)| v.as_str())
            .collect();
        let caps = tree.keys().filter(|k| k.ends_with(".Class")).count();
        let hue = tree.values().any(|v| v == "X_USPHUB_Hue");
        if protocols.contains("Z-Wave") && protocols.contains("X_USPHUB_BLE") && hue && caps >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let classes: BTreeSet<String> = [
        "BinaryControl",
        "LevelControl",
        "EnumControl",
        "BinarySensor",
        "LevelSensor",
        "MultiLevelSensor",
        "EnumSensor",
        "BlobSensor",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut checked = 0;
    for (k, class) in tree.iter().filter(|(k, _)| k.ends_with(".Class")) {
        assert!(classes.contains(class), "{k} = {class}");
        let obj = format!("{}{class}.", k.trim_end_matches("Class"));
        let ty = &tree[&format!("{obj}Type")];
        let allowed = match vocab.inline_types.get(class) {
            Some(set) => set,
            None => &vocab.data_types[&vocab.type_refs[class]],
        };
        // The project's vendor values (TR-106 `X_` form, for colour hue and saturation) are
        // the only other strings allowed.
        assert!(
            allowed.contains(ty)
                || usphub_bridges::api::IoTLevelType::ALL
                    .iter()
                    .any(|t| t.as_str() == ty && ty.starts_with("X_USPHUB_")),
            "{obj}Type = {ty:?} is not in the XML's enumeration"
        );
        if let Some(unit) = tree.get(&format!("{obj}Unit")) {
            assert!(
                vocab.data_types["IoTUnitType"].contains(unit),
                "{obj}Unit = {unit:?}"
            );
        }
        checked += 1;
    }
    for (k, t) in tree
        .iter()
        .filter(|(k, _)| k.ends_with(".Type") && k.matches('.').count() == 3)
    {
        assert!(
            t.is_empty() || vocab.data_types["IoTDeviceType"].contains(t),
            "{k} = {t:?}"
        );
    }
    assert!(checked >= 10, "only {checked} capabilities mounted");
    ble_task.abort();
    c.close().await;
}
