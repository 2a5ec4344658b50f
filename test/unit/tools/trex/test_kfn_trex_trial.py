"""Unit tests of lib/agents/trex/kfn-trex-trial.py without TRex: its pure helpers, and the
whole trial against a fake STL API that records what the script asked TRex to do.
Run by test/unit/tools/trex/agent-script.spec.ts (python3 -m unittest)."""
import importlib.util
import io
import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "..", "..", "lib", "agents", "trex", "kfn-trex-trial.py")
_spec = importlib.util.spec_from_file_location("kfn_trex_trial", SCRIPT)
agent = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(agent)


def good_spec(**over):
    spec = {
        "server": "127.0.0.1", "sync_port": 4501, "async_port": 4500, "duration_s": 10,
        "frame_size": 64, "flows": 4, "rx_delay_ms": 100, "count_load": "flow-stats",
        "directions": [{
            "name": "forward", "tx_port": 0, "rx_port": 1, "load_pps": 999000, "latency_pps": 1000,
            "load_pg_ids": [1], "latency_pg_id": 11, "src_ip": "16.0.0.1", "dst_ip": "48.0.0.1",
            "udp_src": 1024, "udp_dst": 1024,
        }],
    }
    spec.update(over)
    return spec


class Layer:
    """Stands in for scapy layers: `/` stacks, len() is the frame length without FCS."""
    SIZES = {"Ether": 14, "IP": 20, "UDP": 8}

    def __init__(self, name, **fields):
        self.parts = [(name, fields)]

    def __truediv__(self, other):
        out = Layer.__new__(Layer)
        out.parts = self.parts + (other.parts if isinstance(other, Layer) else [("payload", {"len": len(other)})])
        return out

    def __len__(self):
        return sum(self.SIZES.get(n, f.get("len", 0)) for n, f in self.parts)


class FakeApi:
    def __init__(self, stats):
        self.calls = []
        self.stats = stats
        api = self

        class Client:
            def __init__(self, **kw):
                api.calls.append(("client", kw))

            def __getattr__(self, name):
                def call(*a, **kw):
                    api.calls.append((name, kw))
                    if name == "get_stats":
                        return api.stats
                    if name == "get_warnings":
                        return []
                return call

        self.STLClient = Client
        self.Ether = lambda **kw: Layer("Ether", **kw)
        self.IP = lambda **kw: Layer("IP", **kw)
        self.UDP = lambda **kw: Layer("UDP", **kw)
        self.STLScVmRaw = lambda items: ("vm", items)
        self.STLVmFlowVar = lambda **kw: ("var", kw)
        self.STLVmWrFlowVar = lambda **kw: ("wr", kw)
        self.STLPktBuilder = lambda pkt, vm=None: {"len": len(pkt), "vm": vm}
        self.STLTXCont = lambda pps: {"pps": pps}
        self.STLFlowStats = lambda pg_id: {"flow_stats": pg_id}
        self.STLFlowLatencyStats = lambda pg_id: {"latency": pg_id}
        self.STLStream = lambda **kw: kw


class HelperTests(unittest.TestCase):
    def test_packet_length_leaves_room_for_the_fcs(self):
        self.assertEqual(agent.packet_length(64), 60)
        self.assertEqual(agent.packet_length(1518), 1514)

    def test_imix_rates_split_by_frame_count(self):
        rates = agent.stream_rates(1200, "imix")
        self.assertEqual([s for s, _ in rates], [64, 570, 1518])
        self.assertEqual([p for _, p in rates], [700.0, 400.0, 100.0])
        self.assertEqual(agent.stream_rates(5, 128), [(128, 5.0)])

    def test_jsonable_makes_trex_stats_json(self):
        class StatNotAvailable:
            pass
        doc = agent.jsonable({0: {"opackets": 5, "tx_pps": float("nan")}, "latency": {11: {"histogram": {10: 3}}}, "x": StatNotAvailable()})
        self.assertEqual(doc, {"0": {"opackets": 5, "tx_pps": None}, "latency": {"11": {"histogram": {"10": 3}}}, "x": None})
        json.dumps(doc, allow_nan=False)

    def test_parse_spec_accepts_the_harness_spec(self):
        self.assertEqual(agent.parse_spec(json.dumps(good_spec()))["flows"], 4)

    def test_parse_spec_names_the_bad_field(self):
        cases = [
            ("not json", "not JSON"),
            (json.dumps(good_spec(frame_size=60)), "frame_size"),
            (json.dumps(good_spec(count_load="guess")), "count_load"),
            (json.dumps(good_spec(flows=0)), "flows"),
            (json.dumps(good_spec(directions=[])), "directions"),
        ]
        for text, word in cases:
            with self.assertRaises(agent.SpecError) as ctx:
                agent.parse_spec(text)
            self.assertIn(word, str(ctx.exception))
        spec = good_spec()
        spec["directions"][0]["rx_port"] = 0
        with self.assertRaisesRegex(agent.SpecError, "must differ"):
            agent.parse_spec(json.dumps(spec))
        spec = good_spec(frame_size="imix")
        with self.assertRaisesRegex(agent.SpecError, "expected 3 pg ids"):
            agent.parse_spec(json.dumps(spec))


class TrialTests(unittest.TestCase):
    STATS = {0: {"opackets": 10}, 1: {"ipackets": 10}, "global": {"cpu_util": 1.5},
             "flow_stats": {1: {"tx_pkts": {0: 9, "total": 9}}}, "latency": {11: {"latency": {"histogram": {10: 1}}}}}

    def test_runs_streams_for_the_duration_and_reports_stats(self):
        api = FakeApi(self.STATS)
        ticks = iter([100.0, 110.25])
        doc = agent.run_trial(api, "trex.stl.api", good_spec(), clock=lambda: next(ticks))
        names = [c[0] for c in api.calls]
        self.assertEqual(names[:4], ["client", "connect", "reset", "add_streams"])
        self.assertLess(names.index("clear_stats"), names.index("start"))
        self.assertEqual(names[-2:], ["stop", "disconnect"])
        calls = dict(api.calls)
        self.assertEqual(calls["client"], {"server": "127.0.0.1", "sync_port": 4501, "async_port": 4500})
        self.assertEqual(calls["start"], {"ports": [0], "duration": 10, "force": True})
        self.assertEqual(calls["add_streams"], {"ports": [0]})
        self.assertEqual(calls["reset"], {"ports": [0, 1]})
        self.assertEqual(calls["wait_on_traffic"], {"ports": [0], "timeout": 70, "rx_delay_ms": 100})
        self.assertEqual(doc["elapsed_s"], 10.25)
        self.assertEqual(doc["ports"], {"0": {"opackets": 10}, "1": {"ipackets": 10}})
        self.assertEqual(doc["latency"], {"11": {"latency": {"histogram": {"10": 1}}}})
        self.assertEqual(doc["flow_stats"], {"1": {"tx_pkts": {"0": 9, "total": 9}}})

    def test_builds_a_load_and_a_latency_stream_per_direction(self):
        api = FakeApi(self.STATS)
        spec = good_spec()
        streams = agent.build_streams(api, spec, spec["directions"][0])
        self.assertEqual(len(streams), 2)
        load, lat = streams
        self.assertEqual(load["packet"]["len"], 60)
        self.assertEqual(load["mode"], {"pps": 999000.0})
        self.assertEqual(load["flow_stats"], {"flow_stats": 1})
        self.assertEqual(load["packet"]["vm"][1][0][1], {"name": "sport", "min_value": 1024, "max_value": 1027, "size": 2, "op": "inc"})
        self.assertEqual(lat["mode"], {"pps": 1000})
        self.assertEqual(lat["flow_stats"], {"latency": 11})

    def test_an_error_prints_one_json_document_and_exits_non_zero(self):
        out = io.StringIO()
        code = agent.main(["--spec", json.dumps(good_spec(flows=0))], out=out)
        self.assertEqual(code, agent.EXIT_SPEC)
        doc = json.loads(out.getvalue())
        self.assertEqual(doc["error"]["kind"], "spec")
        self.assertEqual(out.getvalue().count("\n"), 1)

    def test_a_missing_api_is_reported(self):
        out = io.StringIO()
        code = agent.main(["--spec", json.dumps(good_spec()), "--api-path", "/nonexistent"], out=out)
        self.assertEqual(code, agent.EXIT_API)
        self.assertIn("trex.stl.api", json.loads(out.getvalue())["error"]["message"])


class ExternalLibsTests(unittest.TestCase):
    """A TRex client whose external_libs folder is missing. The stand-in trex/__init__.py below
    behaves as trex-core v3.0.7's scripts/automation/trex_control_plane/interactive/trex/__init__.py
    does then: it raises a plain Exception (lines 24-25, or 67-72 for one missing library), which
    is no ImportError."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.saved_path = list(sys.path)

    def tearDown(self):
        sys.path[:] = self.saved_path
        for name in [m for m in sys.modules if m == "trex" or m.startswith("trex.")]:
            del sys.modules[name]
        self.dir.cleanup()

    def install(self, message):
        pkg = os.path.join(self.dir.name, "trex")
        os.makedirs(os.path.join(pkg, "stl"))
        with open(os.path.join(pkg, "__init__.py"), "w") as f:
            f.write("raise Exception(%r)\n" % message)
        for part in (("stl", "__init__.py"), ("stl", "api.py")):
            open(os.path.join(pkg, *part), "w").close()

    def run_main(self):
        out = io.StringIO()
        code = agent.main(["--spec", json.dumps(good_spec()), "--api-path", self.dir.name], out=out)
        return code, json.loads(out.getvalue())["error"]

    def test_no_external_libs_folder_is_a_missing_api_not_a_trex_error(self):
        self.install("Could not determine path of external_libs, try setting TREX_EXT_LIBS variable")
        code, error = self.run_main()
        self.assertEqual(code, agent.EXIT_API)
        self.assertEqual(error["kind"], "api-missing")
        self.assertIn("trex.stl.api was found (trex package in %s)" % os.path.join(self.dir.name, "trex"), error["message"])
        self.assertIn("external_libs folder was not", error["message"])
        self.assertIn("trex_api_paths", error["message"])
        self.assertIn("TRex said: Could not determine path of external_libs", error["message"])

    def test_one_missing_external_library_is_named(self):
        self.install("\n\nUnable to find required external library: 'texttable'\nPlease provide the correct path using TREX_EXT_LIBS variable\n\nCurrent path used: '/opt/trex/external_libs/texttable-0.8.4'")
        code, error = self.run_main()
        self.assertEqual(code, agent.EXIT_API)
        self.assertIn("TRex said: Unable to find required external library: 'texttable' Please provide", error["message"])

    def test_another_exception_on_import_is_still_a_missing_api(self):
        self.install("something else broke")
        code, error = self.run_main()
        self.assertEqual(code, agent.EXIT_API)
        self.assertIn("trex.stl.api: importing it failed with Exception: something else broke", error["message"])


if __name__ == "__main__":
    unittest.main()
