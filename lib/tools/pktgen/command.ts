// The shell script that drives Linux kernel pktgen through /proc/net/pktgen (linux
// Documentation/networking/pktgen.rst): it adds one device per direction to a pktgen thread,
// configures it, starts all of them through pgctrl, stops them at a time limit, prints each
// device file (its Result section is what parse.ts reads) and removes the devices again.
//
// Read against net/core/pktgen.c of Linux 6.12.118 (Debian linux-source-6.12 6.12.118-1~deb12u1; the line numbers are its)
// and mainline v5.4-rc1 (torvalds/linux 0dd66f13f53ee81ad72388f45a637f2f59357843):
// - the UDP port ranges are [min, max): mod_cur_headers() (lines 2426-2626; the ports at
//   2506-2527) wraps a port to min once it reaches max, so N flows need udp_src_max = udp_src_min + N;
// - numbers go through num_arg(..., 10, ...) (line 797): at most 10 digits into an unsigned long,
//   the rest silently ignored, so a longer count is cut, not refused;
// - every device command answers on the file's Result line with its own text (`ratep` answers
//   `OK: rate=N`, lines 1130-1143), except imix_weights (lines 1065-1077), which writes none.
import { ConfigError, type ConfigIssue } from '../../errors.ts';
import { quoteArg } from '../../remote/quote.ts';
import { ETHERNET_FCS_BYTES, IMIX_MIX, describeBadFrameSize, type FrameSize } from '../../traffic/line-rate.ts';

export const PKTGEN_DIR = '/proc/net/pktgen';
/** The largest count every kernel reads whole: num_arg() takes 10 digits into an unsigned long (32 bits on a 32-bit kernel). */
export const PKTGEN_MAX_COUNT = 4_294_967_295;
/** The highest UDP port pktgen can send as an exclusive bound: udp_src_max is a __u16. */
const UDP_PORT_MAX = 65_535;

export interface PktgenDevice {
  /** Kernel interface to send on. */
  iface: string;
  /** The pktgen thread (kpktgend_N, one per CPU) that sends it. */
  thread: number;
  /** Part of the device file name after `@`, unique per device. */
  tag: string;
  /** Frames to send, pktgen stops by itself after them; 0 sends until the time limit stops it. */
  count: number;
  /** ratep in frames per second, or 'max' for no pacing (delay 0). */
  ratePps: number | 'max';
  dstIp: string;
  srcIp: string;
  dstMac: string;
  srcMac?: string;
  /** First UDP source port; `flows` consecutive ports are cycled (udp_src_max = udpSrc + flows, exclusive). */
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
  if (!Number.isSafeInteger(d.count) || d.count < 0 || d.count > PKTGEN_MAX_COUNT) {
    issues.push({ path: `${at}.count`, message: `expected an integer in [0, ${PKTGEN_MAX_COUNT}] (0: until the time limit), found ${d.count}: pktgen reads at most 10 digits of count into an unsigned long and silently drops the rest` });
  }
  if (d.ratePps !== 'max') checkInt(issues, `${at}.ratePps`, d.ratePps, 1, 1_000_000_000);
  for (const key of ['dstIp', 'srcIp'] as const) if (!IPV4.test(d[key])) issues.push({ path: `${at}.${key}`, message: `expected an IPv4 address, found ${JSON.stringify(d[key])}` });
  for (const key of ['dstMac', 'srcMac'] as const) {
    const v = d[key];
    if (v !== undefined && !MAC.test(v)) issues.push({ path: `${at}.${key}`, message: `expected a MAC address like 02:00:00:00:00:01, found ${JSON.stringify(v)}` });
  }
  // udp_src_max = udpSrc + flows must still fit pktgen's __u16.
  checkInt(issues, `${at}.udpSrc`, d.udpSrc, 1, UDP_PORT_MAX - flows);
  checkInt(issues, `${at}.udpDst`, d.udpDst, 1, UDP_PORT_MAX);
}

/** One write to a pktgen control file and how pktgen acknowledges it. */
interface PgCommand {
  command: string;
  /** The exact Result line text pktgen writes for it, or, for imix_weights, the line the device file then shows. */
  reply: { result: string } | { shows: string };
}

const set = (command: string, result: string): PgCommand => ({ command, reply: { result } });

// The device commands, in the order pktgen.rst lists them, each with pktgen_if_write()'s reply;
// clone_skb 0 gives every frame its own sequence number and timestamp (a cloned skb repeats
// both, which the receiver would count as duplicates).
function deviceCommands(d: PktgenDevice, p: PktgenScriptParams): PgCommand[] {
  const cmds = [set(`count ${d.count}`, `OK: count=${d.count}`), set('clone_skb 0', 'OK: clone_skb=0')];
  if (p.frameSize === 'imix') {
    // pkt_size excludes the FCS the NIC adds; pktgen picks sizes at random by weight. It answers
    // imix_weights with no Result line; pktgen_if_show() then lists the entries, each followed by a space.
    const entries = IMIX_MIX.map((m) => `${m.size - ETHERNET_FCS_BYTES},${m.weight}`);
    cmds.push({ command: `imix_weights ${entries.join(' ')}`, reply: { shows: `imix_weights: ${entries.map((e) => `${e} `).join('')}` } });
  } else {
    cmds.push(set(`pkt_size ${p.frameSize - ETHERNET_FCS_BYTES}`, `OK: pkt_size=${p.frameSize - ETHERNET_FCS_BYTES}`));
  }
  // `dst` sets dst_min; dst_max stays unset (0), so the destination address never moves.
  cmds.push(set(`dst ${d.dstIp}`, `OK: dst_min=${d.dstIp}`), set(`src_min ${d.srcIp}`, `OK: src_min=${d.srcIp}`), set(`src_max ${d.srcIp}`, `OK: src_max=${d.srcIp}`));
  // %pM prints the MAC in lower case.
  cmds.push(set(`dst_mac ${d.dstMac}`, `OK: dstmac ${d.dstMac.toLowerCase()}`));
  if (d.srcMac) cmds.push(set(`src_mac ${d.srcMac}`, `OK: srcmac ${d.srcMac.toLowerCase()}`));
  const udpSrcMax = d.udpSrc + p.flows;
  cmds.push(
    set(`udp_src_min ${d.udpSrc}`, `OK: udp_src_min=${d.udpSrc}`),
    set(`udp_src_max ${udpSrcMax}`, `OK: udp_src_max=${udpSrcMax}`),
    set(`udp_dst_min ${d.udpDst}`, `OK: udp_dst_min=${d.udpDst}`),
    set(`udp_dst_max ${d.udpDst}`, `OK: udp_dst_max=${d.udpDst}`),
  );
  cmds.push(d.ratePps === 'max' ? set('delay 0', 'OK: delay=0') : set(`ratep ${d.ratePps}`, `OK: rate=${d.ratePps}`));
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
    // pktgen answers each command on the file's Result: line with a text of its own; the exact
    // text is checked, so an earlier command's OK is never taken for this one's, nor a cut value for the one sent.
    `pgset() { printf '%s\\n' "$2" > "$1" || fail "writing '$2' to $1 failed\${4:+: $4}"; r=$(grep '^Result:' "$1"); [ "$r" = "Result: $3" ] || fail "$1 answered '$2' with '\${r#Result: }', expected '$3'"; }`,
    // imix_weights leaves the Result line as it was: check the entries the device file lists instead.
    `pgshows() { printf '%s\\n' "$2" > "$1" || fail "writing '$2' to $1 failed (kernels without pktgen IMIX refuse imix_weights)"; grep -qF -- "$3" "$1" || fail "$1 took '$2' but does not show '$3'"; }`,
    `cleanup() { ${threads.map((t) => `printf 'rem_device_all\\n' > ${q(t)} 2>/dev/null`).join('; ')}; }`,
  ];
  for (const t of threads) {
    // Take over only an idle thread: another user's devices are never removed.
    lines.push(`[ -w ${q(t)} ] || fail "${t} is missing: no pktgen thread for that CPU"`);
    lines.push(`if grep -Eq '^(Running|Stopped): *[^ ]' ${q(t)}; then fail "${t} already drives devices ($(grep -E '^(Running|Stopped):' ${q(t)} | tr '\\n' ' ')); refusing to take it over"; fi`);
  }
  lines.push(`trap cleanup EXIT`, `trap 'printf "stop\\n" > "$PG/pgctrl" 2>/dev/null' INT TERM`);
  p.devices.forEach((d, i) => {
    // pktgen_setup_dev() refuses a missing, non-Ethernet or down interface (-ENODEV, -EINVAL, -ENETDOWN).
    const why = `pktgen refuses an interface that does not exist, is not Ethernet or is down (ip link set ${d.iface} up; the kernel log says which)`;
    lines.push(`pgset ${q(`${PKTGEN_DIR}/kpktgend_${d.thread}`)} ${q(`add_device ${d.iface}@${d.tag}`)} ${q(`OK: add_device=${d.iface}@${d.tag}`)} ${q(why)}`);
    for (const c of deviceCommands(d, p)) {
      lines.push('result' in c.reply ? `pgset ${q(files[i]!)} ${q(c.command)} ${q(c.reply.result)}` : `pgshows ${q(files[i]!)} ${q(c.command)} ${q(c.reply.shows)}`);
    }
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
