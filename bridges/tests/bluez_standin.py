#!/usr/bin/python3
"""A stand-in for BlueZ on a private D-Bus: owns org.bluez and implements the parts of the
ObjectManager, org.bluez.Adapter1 and org.bluez.Device1 that btleplug (through bluez-async)
uses to scan, with the D-Bus types BlueZ uses (ServiceData a{sv} of ay, RSSI n).

Usage: bluez_standin.py BUS_ADDRESS
Prints READY when it owns the name, DISCOVERING when a client started discovery.
Commands on stdin, one JSON object per line:
  {"advert": "AA:BB:CC:DD:EE:FF", "name": "ATC", "rssi": -60,
   "service_data": {"0000fcd2-0000-1000-8000-00805f9b34fb": "40020a09"}}
  optional in an advert: "gatt": {"2a6e": {"value": "6c08", "notify": true}, ...}
    (Connect then builds GattService1/GattCharacteristic1 objects and resolves services)
  {"notify": "AA:BB:CC:DD:EE:FF", "char": "2a6e", "value": "7008"}
  {"drop": "AA:BB:CC:DD:EE:FF"}   (the link is lost: Connected becomes false)
  {"flood": {"addresses": 200, "rate": 500, "seconds": 10}}   (prints FLOODED N when done)
The first advert of an address adds a Device1 object (InterfacesAdded); later ones change its
properties (PropertiesChanged), as BlueZ does while discovering with DuplicateData.
Prints CONNECTED/DISCONNECTED ADDRESS and NOTIFYING UUID16 as clients act.
"""

import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

BUS_NAME = "org.bluez"
ADAPTER_PATH = "/org/bluez/hci0"
ADAPTER_IFACE = "org.bluez.Adapter1"
DEVICE_IFACE = "org.bluez.Device1"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
OM_IFACE = "org.freedesktop.DBus.ObjectManager"


class PropertyObject(dbus.service.Object):
    """An object with one BlueZ interface and org.freedesktop.DBus.Properties."""

    def __init__(self, bus, path, iface, props):
        super().__init__(bus, path)
        self.path = path
        self.iface = iface
        self.props = props

    @dbus.service.method(PROPS_IFACE, in_signature="ss", out_signature="v")
    def Get(self, iface, name):
        return self.props[name]

    @dbus.service.method(PROPS_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        if iface != self.iface:
            return dbus.Dictionary({}, signature="sv")
        return dbus.Dictionary(self.props, signature="sv")

    @dbus.service.method(PROPS_IFACE, in_signature="ssv")
    def Set(self, iface, name, value):
        self.props[name] = value
        self.PropertiesChanged(iface, {name: value}, [])

    @dbus.service.signal(PROPS_IFACE, signature="sa{sv}as")
    def PropertiesChanged(self, iface, changed, invalidated):
        pass

    def change(self, changed):
        self.props.update(changed)
        self.PropertiesChanged(self.iface, dbus.Dictionary(changed, signature="sv"), [])


GATT_SERVICE_IFACE = "org.bluez.GattService1"
GATT_CHAR_IFACE = "org.bluez.GattCharacteristic1"
SERVICE_OF = {"2a19": "180f", "2a24": "180a", "2a26": "180a", "2a29": "180a",
              "2a6d": "181a", "2a6e": "181a", "2a6f": "181a"}


def uuid128(short):
    return "0000%s-0000-1000-8000-00805f9b34fb" % short


class Characteristic(PropertyObject):
    def __init__(self, bus, path, service_path, short, value, notify):
        flags = ["read"] + (["notify"] if notify else [])
        super().__init__(bus, path, GATT_CHAR_IFACE, {
            "UUID": dbus.String(uuid128(short)),
            "Service": dbus.ObjectPath(service_path),
            "Flags": dbus.Array(flags, signature="s"),
            "Value": dbus.Array(bytes.fromhex(value), signature="y"),
            "Notifying": dbus.Boolean(False),
        })

    @dbus.service.method(GATT_CHAR_IFACE, in_signature="a{sv}", out_signature="ay")
    def ReadValue(self, _options):
        return self.props["Value"]

    @dbus.service.method(GATT_CHAR_IFACE)
    def StartNotify(self):
        self.change({"Notifying": dbus.Boolean(True)})
        print("NOTIFYING " + self.props["UUID"][4:8], flush=True)

    @dbus.service.method(GATT_CHAR_IFACE)
    def StopNotify(self):
        self.change({"Notifying": dbus.Boolean(False)})


class Device(PropertyObject):
    """A Device1 whose Connect builds its GATT tree and resolves services."""

    def __init__(self, bus, root, path, props, gatt):
        super().__init__(bus, path, DEVICE_IFACE, props)
        self.bus = bus
        self.root = root
        self.gatt = gatt
        self.chars = {}

    @dbus.service.method(DEVICE_IFACE)
    def Connect(self):
        if not self.chars:
            services = {}
            for short, spec in sorted(self.gatt.items()):
                svc = SERVICE_OF.get(short, "ffff")
                spath = "%s/service%s" % (self.path, svc)
                if spath not in services:
                    obj = PropertyObject(self.bus, spath, GATT_SERVICE_IFACE, {
                        "UUID": dbus.String(uuid128(svc)),
                        "Primary": dbus.Boolean(True),
                        "Device": dbus.ObjectPath(self.path),
                    })
                    services[spath] = obj
                    self.root.add(spath, obj)
                cpath = "%s/char%s" % (spath, short)
                ch = Characteristic(self.bus, cpath, spath, short, spec["value"],
                                    spec.get("notify", False))
                self.chars[short] = ch
                self.root.add(cpath, ch)
        self.change({"Connected": dbus.Boolean(True)})
        self.change({"ServicesResolved": dbus.Boolean(True)})
        print("CONNECTED " + self.props["Address"], flush=True)

    @dbus.service.method(DEVICE_IFACE)
    def Disconnect(self):
        self.change({"Connected": dbus.Boolean(False), "ServicesResolved": dbus.Boolean(False)})
        print("DISCONNECTED " + self.props["Address"], flush=True)


class Adapter(PropertyObject):
    def __init__(self, bus):
        super().__init__(bus, ADAPTER_PATH, ADAPTER_IFACE, {
            "Address": dbus.String("00:1A:7D:DA:71:13"),
            "AddressType": dbus.String("public"),
            "Name": dbus.String("usphub-test"),
            "Alias": dbus.String("usphub-test"),
            "Modalias": dbus.String("usb:v1D6Bp0246d0537"),
            "Powered": dbus.Boolean(False),
            "Discovering": dbus.Boolean(False),
            "Discoverable": dbus.Boolean(False),
            "Pairable": dbus.Boolean(False),
            "UUIDs": dbus.Array([], signature="s"),
        })

    @dbus.service.method(ADAPTER_IFACE, in_signature="a{sv}")
    def SetDiscoveryFilter(self, _filter):
        pass

    @dbus.service.method(ADAPTER_IFACE)
    def StartDiscovery(self):
        self.change({"Discovering": dbus.Boolean(True)})
        print("DISCOVERING", flush=True)

    @dbus.service.method(ADAPTER_IFACE)
    def StopDiscovery(self):
        self.change({"Discovering": dbus.Boolean(False)})


class Root(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, "/")
        self.objects = {}

    @dbus.service.method(OM_IFACE, out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        return {
            path: {obj.iface: dbus.Dictionary(obj.props, signature="sv")}
            for path, obj in self.objects.items()
        }

    @dbus.service.signal(OM_IFACE, signature="oa{sa{sv}}")
    def InterfacesAdded(self, path, interfaces):
        pass

    def add(self, path, obj):
        self.objects[path] = obj
        self.InterfacesAdded(path, {obj.iface: dbus.Dictionary(obj.props, signature="sv")})


def service_data(mapping):
    return dbus.Dictionary(
        {uuid: dbus.Array(bytes.fromhex(h), signature="y") for uuid, h in mapping.items()},
        signature="sv",
    )


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(sys.argv[1])
    name = dbus.service.BusName(BUS_NAME, bus)
    root = Root(bus)
    root.objects[ADAPTER_PATH] = Adapter(bus)

    def on_line(source, _cond):
        line = source.readline()
        if not line:
            loop.quit()
            return False
        cmd = json.loads(line)
        if "flood" in cmd:
            start_flood(cmd["flood"])
            print("SENT flood", flush=True)
            return True
        if "drop" in cmd:
            dev = root.objects[ADAPTER_PATH + "/dev_" + cmd["drop"].replace(":", "_")]
            dev.change({"Connected": dbus.Boolean(False),
                        "ServicesResolved": dbus.Boolean(False)})
            print("SENT " + cmd["drop"], flush=True)
            return True
        if "notify" in cmd:
            dev = root.objects[ADAPTER_PATH + "/dev_" + cmd["notify"].replace(":", "_")]
            dev.chars[cmd["char"]].change(
                {"Value": dbus.Array(bytes.fromhex(cmd["value"]), signature="y")})
            print("SENT " + cmd["notify"], flush=True)
            return True
        addr = cmd["advert"]
        path = ADAPTER_PATH + "/dev_" + addr.replace(":", "_")
        changed = {
            "RSSI": dbus.Int16(cmd.get("rssi", -60)),
            "ServiceData": service_data(cmd.get("service_data", {})),
        }
        dev = root.objects.get(path)
        if dev is None:
            props = {
                "Address": dbus.String(addr),
                "AddressType": dbus.String("public"),
                "Alias": dbus.String(cmd.get("name", addr)),
                "Paired": dbus.Boolean(False),
                "Connected": dbus.Boolean(False),
                "ServicesResolved": dbus.Boolean(False),
                "Trusted": dbus.Boolean(False),
                "Blocked": dbus.Boolean(False),
                "LegacyPairing": dbus.Boolean(False),
                "Adapter": dbus.ObjectPath(ADAPTER_PATH),
                "UUIDs": dbus.Array([], signature="s"),
            }
            if "name" in cmd:
                props["Name"] = dbus.String(cmd["name"])
            props.update(changed)
            dev = Device(bus, root, path, props, cmd.get("gatt", {}))
            root.add(path, dev)
        else:
            dev.change(changed)
        print("SENT " + addr, flush=True)
        return True

    def start_flood(spec):
        """Adverts from `addresses` unknown BTHome advertisers at `rate`/s for `seconds`."""
        total = spec["rate"] * spec["seconds"]
        per_tick = max(1, spec["rate"] // 100)
        state = {"sent": 0}

        def tick():
            for _ in range(per_tick):
                i = state["sent"]
                addr = "C0:00:00:00:%02X:%02X" % (i % spec["addresses"] // 256, i % spec["addresses"])
                path = ADAPTER_PATH + "/dev_" + addr.replace(":", "_")
                data = service_data({uuid128("fcd2"): "4000%02x02%02x09" % (i % 256, i % 100)})
                dev = root.objects.get(path)
                if dev is None:
                    props = {
                        "Address": dbus.String(addr), "AddressType": dbus.String("random"),
                        "Alias": dbus.String(addr), "Paired": dbus.Boolean(False),
                        "Connected": dbus.Boolean(False), "ServicesResolved": dbus.Boolean(False),
                        "Trusted": dbus.Boolean(False), "Blocked": dbus.Boolean(False),
                        "LegacyPairing": dbus.Boolean(False),
                        "Adapter": dbus.ObjectPath(ADAPTER_PATH),
                        "UUIDs": dbus.Array([], signature="s"),
                        "RSSI": dbus.Int16(-80), "ServiceData": data,
                    }
                    root.add(path, Device(bus, root, path, props, {}))
                else:
                    dev.change({"ServiceData": data})
                state["sent"] += 1
                if state["sent"] >= total:
                    print("FLOODED %d" % state["sent"], flush=True)
                    return False
            return True

        GLib.timeout_add(10, tick)

    loop = GLib.MainLoop()
    GLib.io_add_watch(sys.stdin, GLib.IO_IN | GLib.IO_HUP, on_line)
    print("READY", flush=True)
    loop.run()
    del name


if __name__ == "__main__":
    main()
