// The shell script that drives Linux kernel pktgen through /proc/net/pktgen (linux
// Documentation/networking/pktgen.rst): it adds one device per direction to a pktgen thread,
// configures it, starts all of them through pgctrl, stops them at a time limit, prints each
// device file (its Result section is what parse.ts reads) and removes the devices again.
import { ConfigError, type ConfigIssue } from '../../errors.ts';
import { quoteArg } from '../../remote/quote.ts';
import { ETHERNET_FCS_BYTES, IMIX_MIX, describeBadFrameSize, type FrameSize } from '../../traffic/line-rate.ts';

export const PKTGEN_DIR = '/proc/net/pktgen';

export interface PktgenDevice {
  /** Kernel interface to send on. */
  iface: string;
  /** The pktgen thread (kpktgend_N, one per CPU) that sends it. */
  thread: number;
  /** Part of the device file name after `@`, unique per device. */
  tag: string;
  /** Frames to send; pktgen stops by itself after them. */
  count: number;
  /** ratep in frames per second, or 'max' for no pacing (delay 0). */
  ratePps: number | 'max';
  dstIp: string;
  srcIp: string;
  dstMac: string;
  srcMac?: string;
  /** First UDP source port; `flows` consecutive ports are cycled. */
  udpSrc: number;
  udpDst: number;
}

export interface PktgenScriptParams {
  devices: readonly PktgenDevice[];
  frameSize: FrameSize;
  flows: number;
  /** Stop everything after this many seconds even when a count is not reached. */
  timeLimitS: number;
}

/** The marker the script prints before each device file, like `tail` does. */
export function deviceFileMarker(deviceFile: string): string {
  return `==> ${deviceFile} <==`;
}

// pktgen names a device's control file after the add_device argument, `iface@tag`.
export function deviceFileOf(d: Pick<PktgenDevice, 'iface' | 'tag'>): string {
  return `${PKTGEN_DIR}/${d.iface}@${d.tag}`;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function checkInt(issues: ConfigIssue[], path: string, v: number, min: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) issues.push({ path, message: `expected an integer in [${min}, ${max}], found ${v}` });
}

function checkDevice(issues: ConfigIssue[], d: PktgenDevice, i: number, flows: number): void {
  const at = `devices[${i}]`;
  if (!/^[^\s/@'"]{1,15}$/.test(d.iface)) issues.push({ path: `${at}.iface`, message: `expected an interface name of 1 to 15 characters without /, @ or quotes, found ${JSON.stringify(d.iface)}` });
  if (!/^[A-Za-z0-9_]{1,8}$/.test(d.tag)) issues.push({ path: `${at}.tag`, message: `expected 1 to 8 letters, digits or _, found ${JSON.stringify(d.tag)}` });
  checkInt(issues, `${at}.thread`, d.thread, 0, 4095);
  checkInt(issues, `${at}.count`, d.count, 1, Number.MAX_SAFE_INTEGER);
  if (d.ratePps !== 'max') checkInt(issues, `${at}.ratePps`, d.ratePps, 1, 1_000_000_000);
  for (const key of ['dstIp', 'srcIp'] as const) if (!IPV4.test(d[key])) issues.push({ path: `${at}.${key}`, message: `expected an IPv4 address, found ${JSON.stringify(d[key])}` });
  for (const key of ['dstMac', 'srcMac'] as const) {
    const v = d[key];
    if (v !== undefined && !MAC.test(v)) issues.push({ path: `${at}.${key}`, message: `expected a MAC address like 02:00:00:00:00:01, found ${JSON.stringify(v)}` });
  }
  checkInt(issues, `${at}.udpSrc`, d.udpSrc, 1, 65_536 - flows);
  checkInt(issues, `${at}.udpDst`, d.udpDst, 1, 65_535);
}

// The device commands, in the order pktgen.rst lists them; clone_skb 0 gives every frame its
// own sequence number and timestamp (a cloned skb repeats both, which the receiver would count as duplicates).
function deviceCommands(d: PktgenDevice, p: PktgenScriptParams): string[] {
  const cmds = [`count ${d.count}`, 'clone_skb 0'];
  if (p.frameSize === 'imix') {
    // pkt_size excludes the FCS the NIC adds; pktgen picks sizes at random by weight.
    cmds.push(`imix_weights ${IMIX_MIX.map((m) => `${m.size - ETHERNET_FCS_BYTES},${m.weight}`).join(' ')}`);
  } else {
    cmds.push(`pkt_size ${p.frameSize - ETHERNET_FCS_BYTES}`);
  }
  cmds.push(`dst ${d.dstIp}`, `src_min ${d.srcIp}`, `src_max ${d.srcIp}`, `dst_mac ${d.dstMac}`);
  if (d.srcMac) cmds.push(`src_mac ${d.srcMac}`);
  cmds.push(`udp_src_min ${d.udpSrc}`, `udp_src_max ${d.udpSrc + p.flows - 1}`, `udp_dst_min ${d.udpDst}`, `udp_dst_max ${d.udpDst}`);
  cmds.push(d.ratePps === 'max' ? 'delay 0' : `ratep ${d.ratePps}`);
  return cmds;
}

// The whole TX run as one POSIX sh script; every bad parameter is reported before it is built.
export function buildPktgenScript(p: PktgenScriptParams): string {
  const issues: ConfigIssue[] = [];
  const bad = describeBadFrameSize(p.frameSize);
  if (bad) issues.push({ path: 'frameSize', message: bad });
  checkInt(issues, 'flows', p.flows, 1, 65_535);
  if (!(Number.isFinite(p.timeLimitS) && p.timeLimitS > 0 && p.timeLimitS <= 86_400)) issues.push({ path: 'timeLimitS', message: `expected seconds in (0, 86400], found ${p.timeLimitS}` });
  if (p.devices.length < 1 || p.devices.length > 2) issues.push({ path: 'devices', message: `expected 1 or 2 devices, found ${p.devices.length}` });
  p.devices.forEach((d, i) => checkDevice(issues, d, i, p.flows));
  const files = p.devices.map(deviceFileOf);
  if (new Set(files).size !== files.length) issues.push({ path: 'devices', message: `expected distinct devices, found ${files.join(', ')} ` });
  if (issues.length > 0) throw new ConfigError('pktgen parameters', issues);

  const q = quoteArg;
  const threads = [...new Set(p.devices.map((d) => `${PKTGEN_DIR}/kpktgend_${d.thread}`))];
  const lines = [
    `PG=${PKTGEN_DIR}`,
    `fail() { echo "kfn-pktgen: $*" >&2; exit 3; }`,
    `[ -w "$PG/pgctrl" ] || fail "$PG/pgctrl is missing: the pktgen module is not loaded (modprobe pktgen; needs CONFIG_NET_PKTGEN and the right to load modules)"`,
    // pktgen answers every device and thread command on the file's Result: line.
    `pgset() { printf '%s\\n' "$2" > "$1" || fail "writing '$2' to $1 failed"; grep -q '^Result: OK' "$1" || fail "$1 refused '$2': $(grep '^Result:' "$1")"; }`,
    `cleanup() { ${threads.map((t) => `printf 'rem_device_all\\n' > ${q(t)} 2>/dev/null`).join('; ')}; }`,
  ];
  for (const t of threads) {
    // Take over only an idle thread: another user's devices are never removed.
    lines.push(`[ -w ${q(t)} ] || fail "${t} is missing: no pktgen thread for that CPU"`);
    lines.push(`if grep -Eq '^(Running|Stopped): *[^ ]' ${q(t)}; then fail "${t} already drives devices ($(grep -E '^(Running|Stopped):' ${q(t)} | tr '\\n' ' ')); refusing to take it over"; fi`);
  }
  lines.push(`trap cleanup EXIT`, `trap 'printf "stop\\n" > "$PG/pgctrl" 2>/dev/null' INT TERM`);
  p.devices.forEach((d, i) => {
    lines.push(`pgset ${q(`${PKTGEN_DIR}/kpktgend_${d.thread}`)} ${q(`add_device ${d.iface}@${d.tag}`)}`);
    for (const c of deviceCommands(d, p)) lines.push(`pgset ${q(files[i]!)} ${q(c)}`);
  });
  const ticks = Math.ceil(p.timeLimitS * 10);
  lines.push(
    // Writing start blocks until every device is done; run it aside and watch the clock.
    `printf 'start\\n' > "$PG/pgctrl" & pid=$!`,
    `i=0; while kill -0 $pid 2>/dev/null && [ $i -lt ${ticks} ]; do sleep 0.1; i=$((i+1)); done`,
    `if kill -0 $pid 2>/dev/null; then printf 'stop\\n' > "$PG/pgctrl"; echo "kfn-pktgen: stopped at the ${p.timeLimitS} s time limit" >&2; fi`,
    `wait $pid`,
  );
  for (const f of files) lines.push(`echo ${q(deviceFileMarker(f))}`, `cat ${q(f)}`);
  return lines.join('\n') + '\n';
}
