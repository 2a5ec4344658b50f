#!/usr/bin/env python3
"""kfn-trex-trial: one kvmfornfv traffic trial on a running TRex server (stateless mode).

The harness uploads this file to the tgen node and runs it with a JSON trial spec (--spec).
Per direction it adds a UDP load stream (three streams for IMIX, 7x64:4x570:1x1518 by count)
whose flows vary the UDP source port through the field engine, plus a latency stream with
STLFlowLatencyStats(pg_id). It runs them for the duration and prints ONE JSON document on
stdout holding the port stats and the pg-id flow and latency stats exactly as
STLClient.get_stats() returns them (dict keys become strings). TRex reports latency in
microseconds; nothing is converted here, the harness converts to nanoseconds.

On any failure it prints one JSON error document instead and exits non-zero:
2 bad spec, 3 TRex Python API not found, 4 TRex error, 5 interrupted (SIGINT/SIGTERM).
Python 3 standard library only, apart from TRex's own client API.
"""
import argparse
import importlib
import importlib.util
import json
import math
import os
import signal
import sys
import time

TOOL = "kfn-trex-trial"
VERSION = "1.0.0"
IMIX = ((64, 7), (570, 4), (1518, 1))
FCS_BYTES = 4
# Latency frames carry TRex's 16-byte latency header after UDP; 64-byte frames still fit.
IMIX_LATENCY_FRAME = 64
API_MODULES = ("trex.stl.api", "trex_stl_lib.api")
EXIT_SPEC, EXIT_API, EXIT_TREX, EXIT_INTERRUPTED = 2, 3, 4, 5


class SpecError(ValueError):
    """The trial spec cannot be run as given."""


class ApiMissing(ImportError):
    """Neither TRex client package could be imported."""


def _int(spec, key, lo, hi, where="spec"):
    v = spec.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise SpecError("%s.%s: expected an integer in [%d, %d], found %r" % (where, key, lo, hi, v))
    return v


def _num(spec, key, lo, where="spec"):
    v = spec.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < lo:
        raise SpecError("%s.%s: expected a number >= %s, found %r" % (where, key, lo, v))
    return v


def _str(spec, key, where="spec", optional=False):
    v = spec.get(key)
    if optional and v is None:
        return None
    if not isinstance(v, str) or not v:
        raise SpecError("%s.%s: expected a non-empty string, found %r" % (where, key, v))
    return v


def parse_spec(text):
    """Checks the spec the harness built; returns it as a dict."""
    try:
        spec = json.loads(text)
    except ValueError as e:
        raise SpecError("spec is not JSON: %s" % e)
    if not isinstance(spec, dict):
        raise SpecError("spec: expected a JSON object, found %s" % type(spec).__name__)
    _str(spec, "server")
    _int(spec, "sync_port", 1, 65535)
    _int(spec, "async_port", 1, 65535)
    if _num(spec, "duration_s", 0) <= 0:
        raise SpecError("spec.duration_s: expected seconds > 0, found %r" % spec["duration_s"])
    fs = spec.get("frame_size")
    if fs != "imix":
        _int(spec, "frame_size", 64, 9216)
    _int(spec, "flows", 1, 65535)
    _int(spec, "rx_delay_ms", 0, 60000)
    if spec.get("count_load") not in ("flow-stats", "port-counters"):
        raise SpecError("spec.count_load: expected flow-stats or port-counters, found %r" % spec.get("count_load"))
    dirs = spec.get("directions")
    if not isinstance(dirs, list) or not 1 <= len(dirs) <= 2:
        raise SpecError("spec.directions: expected a list of 1 or 2 directions, found %r" % (dirs,))
    pg_ids = []
    for i, d in enumerate(dirs):
        where = "spec.directions[%d]" % i
        if not isinstance(d, dict):
            raise SpecError("%s: expected an object" % where)
        _str(d, "name", where)
        tx, rx = _int(d, "tx_port", 0, 255, where), _int(d, "rx_port", 0, 255, where)
        if tx == rx:
            raise SpecError("%s: tx_port and rx_port must differ, both are %d" % (where, tx))
        _num(d, "load_pps", 0, where)
        _num(d, "latency_pps", 0, where)
        for key in ("src_ip", "dst_ip"):
            _str(d, key, where)
        for key in ("src_mac", "dst_mac"):
            _str(d, key, where, optional=True)
        udp_src = _int(d, "udp_src", 1, 65535, where)
        _int(d, "udp_dst", 1, 65535, where)
        if udp_src + spec["flows"] - 1 > 65535:
            raise SpecError("%s.udp_src: %d + %d flows passes port 65535" % (where, udp_src, spec["flows"]))
        ids = d.get("load_pg_ids")
        want = len(IMIX) if fs == "imix" else 1
        if not isinstance(ids, list) or len(ids) != want or not all(isinstance(x, int) and x >= 0 for x in ids):
            raise SpecError("%s.load_pg_ids: expected %d pg ids, found %r" % (where, want, ids))
        pg_ids.extend(ids)
        lat = d.get("latency_pg_id")
        if lat is not None:
            pg_ids.append(_int(d, "latency_pg_id", 0, 65535, where))
    if len(set(pg_ids)) != len(pg_ids):
        raise SpecError("spec: pg ids must be unique, found %r" % (pg_ids,))
    return spec


def packet_length(frame_size):
    """TRex builds frames without FCS; the NIC adds its 4 bytes."""
    return frame_size - FCS_BYTES


def stream_rates(load_pps, frame_size):
    """(frame size, pps) of each load stream; IMIX splits the rate by frame count."""
    if frame_size != "imix":
        return [(frame_size, float(load_pps))]
    total = sum(w for _, w in IMIX)
    return [(size, float(load_pps) * w / total) for size, w in IMIX]


def jsonable(obj):
    """TRex stats as JSON: int keys become strings, NaN/inf and unknown objects become null."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return None


def error_document(kind, message, spec=None):
    return {"tool": TOOL, "version": VERSION, "error": {"kind": kind, "message": message}, "spec": spec}


def result_document(spec, api_name, elapsed_s, stats, warnings):
    ports = sorted({d["tx_port"] for d in spec["directions"]} | {d["rx_port"] for d in spec["directions"]})
    return {
        "tool": TOOL,
        "version": VERSION,
        "api": api_name,
        "spec": spec,
        "elapsed_s": elapsed_s,
        "ports": {str(p): jsonable(stats.get(p, {})) for p in ports},
        "global": jsonable(stats.get("global", {})),
        "flow_stats": jsonable(stats.get("flow_stats", {})),
        "latency": jsonable(stats.get("latency", {})),
        "warnings": [str(w) for w in warnings],
    }


def _trex_package_dir():
    """Where the `trex` package was found, without running its __init__."""
    try:
        found = importlib.util.find_spec("trex")
    except (ImportError, ValueError):
        return None
    return os.path.dirname(found.origin) if found and found.origin else None


def import_api(paths):
    for p in reversed(paths):
        sys.path.insert(0, p)
    errors = []
    ext_libs = None
    for name in API_MODULES:
        try:
            return importlib.import_module(name), name
        except ImportError as e:
            errors.append("%s: %s" % (name, e))
        except Exception as e:  # noqa: BLE001 - see below
            # TRex's trex/__init__.py (trex-core v3.0.7, lines 24-25 and 67-72) raises a plain
            # Exception, not an ImportError, when it cannot find its external_libs folder.
            text = " ".join(str(e).split())
            if "external_libs" in text or "TREX_EXT_LIBS" in text or "external library" in text:
                where = _trex_package_dir()
                ext_libs = (
                    "%s was found%s but TRex's external_libs folder was not: an unpacked TRex keeps it four "
                    "directories above trex/ (or TREX_EXT_LIBS names it); point trex_api_paths at the TRex "
                    "install's automation/trex_control_plane/interactive (TRex said: %s)"
                    % (name, " (trex package in %s)" % where if where else "", text)
                )
            errors.append("%s: importing it failed with %s: %s" % (name, type(e).__name__, text))
    raise ApiMissing(ext_libs or "; ".join(errors))


def base_packet(api, d, frame_size):
    eth = api.Ether(**{k: v for k, v in (("src", d.get("src_mac")), ("dst", d.get("dst_mac"))) if v})
    # UDP checksum 0 (none): the field engine changes the source port without fixing it up.
    pkt = eth / api.IP(src=d["src_ip"], dst=d["dst_ip"]) / api.UDP(sport=d["udp_src"], dport=d["udp_dst"], chksum=0)
    pad = max(0, packet_length(frame_size) - len(pkt))
    return pkt / ("x" * pad)


def flow_vm(api, flows, udp_src):
    if flows <= 1:
        return None
    return api.STLScVmRaw([
        api.STLVmFlowVar(name="sport", min_value=udp_src, max_value=udp_src + flows - 1, size=2, op="inc"),
        api.STLVmWrFlowVar(fv_name="sport", pkt_offset="UDP.sport"),
    ])


def build_streams(api, spec, d):
    streams = []
    for (size, pps), pg_id in zip(stream_rates(d["load_pps"], spec["frame_size"]), d["load_pg_ids"]):
        if pps <= 0:
            continue
        stats = api.STLFlowStats(pg_id=pg_id) if spec["count_load"] == "flow-stats" else None
        builder = api.STLPktBuilder(pkt=base_packet(api, d, size), vm=flow_vm(api, spec["flows"], d["udp_src"]))
        streams.append(api.STLStream(packet=builder, mode=api.STLTXCont(pps=pps), flow_stats=stats))
    if d["latency_pps"] > 0 and d.get("latency_pg_id") is not None:
        size = IMIX_LATENCY_FRAME if spec["frame_size"] == "imix" else spec["frame_size"]
        streams.append(api.STLStream(
            packet=api.STLPktBuilder(pkt=base_packet(api, d, size)),
            mode=api.STLTXCont(pps=d["latency_pps"]),
            flow_stats=api.STLFlowLatencyStats(pg_id=d["latency_pg_id"]),
        ))
    return streams


def run_trial(api, api_name, spec, clock=time.monotonic):
    """Connects, runs the streams for the duration, and returns the result document."""
    dirs = spec["directions"]
    tx_ports = sorted({d["tx_port"] for d in dirs})
    ports = sorted(set(tx_ports) | {d["rx_port"] for d in dirs})
    # verbose_level is left at its default: a string in trex.stl.api, an int constant in trex_stl_lib.
    client = api.STLClient(server=spec["server"], sync_port=spec["sync_port"], async_port=spec["async_port"])
    client.connect()
    try:
        client.reset(ports=ports)
        for d in dirs:
            client.add_streams(build_streams(api, spec, d), ports=[d["tx_port"]])
        client.clear_stats()
        start = clock()
        client.start(ports=tx_ports, duration=spec["duration_s"], force=True)
        client.wait_on_traffic(ports=tx_ports, timeout=int(math.ceil(spec["duration_s"])) + 60, rx_delay_ms=spec["rx_delay_ms"])
        elapsed = clock() - start
        stats = client.get_stats(ports=ports)
        if "latency" not in stats and hasattr(client, "get_pgid_stats"):
            pg = client.get_pgid_stats()
            stats["latency"], stats["flow_stats"] = pg.get("latency", {}), pg.get("flow_stats", {})
        warnings = client.get_warnings() if hasattr(client, "get_warnings") else []
        return result_document(spec, api_name, elapsed, stats, warnings)
    finally:
        try:
            client.stop(ports=tx_ports)
        except Exception:  # noqa: BLE001 - stopping is best effort; disconnect still runs
            pass
        client.disconnect()


def _raise_interrupt(signum, _frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main(argv=None, out=sys.stdout):
    parser = argparse.ArgumentParser(prog=TOOL, description="one kvmfornfv trial on a TRex server")
    parser.add_argument("--spec", required=True, help="the trial spec as JSON")
    parser.add_argument("--api-path", action="append", default=[], help="directory holding trex/ or trex_stl_lib/")
    parser.add_argument("--version", action="version", version="%s %s" % (TOOL, VERSION))
    args = parser.parse_args(argv)
    # A background start may have inherited SIGINT as ignored; the harness stops trials with it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    spec = None
    try:
        spec = parse_spec(args.spec)
        api, api_name = import_api(args.api_path)
        doc, code = run_trial(api, api_name, spec), 0
    except SpecError as e:
        doc, code = error_document("spec", str(e), spec), EXIT_SPEC
    except ApiMissing as e:
        doc, code = error_document("api-missing", "TRex Python API not importable: %s" % e, spec), EXIT_API
    except KeyboardInterrupt as e:
        doc, code = error_document("interrupted", "stopped by %s before the trial ended" % (e or "SIGINT"), spec), EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - STLError/TRexError and anything else end as one error document
        doc, code = error_document("trex", "%s: %s" % (type(e).__name__, e), spec), EXIT_TREX
    out.write(json.dumps(doc, allow_nan=False) + "\n")
    out.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
