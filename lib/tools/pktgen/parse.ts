// Parses a pktgen device file (/proc/net/pktgen/<dev>) after a run: the Params count, the
// Current pkts-sofar and errors, and the Result section, whose format is net/core/pktgen.c's
// show_results() as documented in linux Documentation/networking/pktgen.rst:
//
//   Result: OK: 15430(c15405+d25) usec, 100000 (60byte,0frags)
//     6480562pps 3110Mb/sec (3110669760bps) errors: 0
//
// A device that was configured but never ran also says `Result: OK: ...`, echoing its last
// command (e.g. `OK: rate=1000000`, pktgen's reply to ratep); only the run format above is accepted.
// A device pktgen stopped before it built a frame prints `-1frags`: pktgen_stop_device() reads
// nr_frags from an skb it never had (net/core/pktgen.c, Linux 6.12.118 lines 3343-3345), and
// pktgen_xmit() stops a device at once when its interface is not running or has no carrier
// (lines 3490-3494): the link was down.
import { ToolOutputParseError } from '../../errors.ts';
import { deviceFileMarker } from './command.ts';

const TOOL = 'pktgen';

export interface PktgenRunResult {
  /** The Params `count`, 0 meaning "until stopped"; null when the section is absent. */
  countRequested: number | null;
  /** Frames sent (the Result count, equal to Current pkts-sofar). */
  packets: number;
  /** Wall time of the run in us: compute time plus idle time. */
  elapsedUs: number;
  computeUs: number;
  idleUs: number;
  /** pktgen's packet size: the frame without its 4-byte FCS (the last size sent, under IMIX). */
  pktSize: number;
  frags: number;
  /** pktgen's own rate figures, computed over elapsedUs. */
  pps: number;
  mbps: number;
  bps: number;
  /** Transmit errors (e.g. the device queue was full). */
  errors: number;
}

const OK_LINE = /^OK: (\d+)\(c(\d+)\+d(\d+)\) usec, (\d+) \((\d+)byte,(-1|\d+)frags\)\s*$/;
const RATE_LINE = /^\s*(\d+)pps (\d+)Mb\/sec \((\d+)bps\) errors: (\d+)\s*$/;

function fail(message: string, where: { lineNumber?: number; line?: string; source?: string } = {}): never {
  throw new ToolOutputParseError(TOOL, message, where);
}

// One device file's text to the run's figures; every figure is checked against the others.
export function parsePktgenDevice(text: string, source?: string): PktgenRunResult {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /^\s*Result:/.test(l));
  if (at < 0) fail('expected a "Result:" line, found none: is this a pktgen device file?', { source, line: lines[0] });
  const resultText = lines[at]!.replace(/^\s*Result:\s*/, '');
  const where = { source, lineNumber: at + 1, line: lines[at] };
  if (!resultText.startsWith('OK:')) fail(`the device did not finish a run: pktgen says "${resultText}"`, where);
  const ok = OK_LINE.exec(resultText);
  if (!ok) fail('expected a run result "OK: <us>(c<us>+d<us>) usec, <n> (<size>byte,<frags>frags)"; the device was configured but never ran', where);
  const rate = RATE_LINE.exec(lines[at + 1] ?? '');
  if (!rate) fail('expected "<n>pps <n>Mb/sec (<n>bps) errors: <n>" after the result line', { source, lineNumber: at + 2, line: lines[at + 1] ?? '' });
  const [elapsedUs, computeUs, idleUs, packets, pktSize, frags] = ok.slice(1).map(Number) as [number, number, number, number, number, number];
  const iface = /ifname: ([^\s@]+)/.exec(text)?.[1] ?? 'the interface';
  if (frags === -1) {
    fail(`pktgen stopped the device before it built a frame (-1frags, ${packets} sent): the link of ${iface} is down or has no carrier; bring it up (ip link set ${iface} up) and check the cable or peer`, where);
  }
  const [pps, mbps, bps, errors] = rate.slice(1).map(Number) as [number, number, number, number];
  if (![elapsedUs, packets, pps, bps, errors].every(Number.isSafeInteger)) fail('a figure is too large to be exact', where);

  // Each part is truncated to whole us on its own, so the sum may be off by one.
  if (Math.abs(computeUs + idleUs - elapsedUs) > 1) fail(`compute ${computeUs} us + idle ${idleUs} us should make the ${elapsedUs} us elapsed`, where);
  if (elapsedUs > 0) {
    const expected = (packets * 1e6) / elapsedUs;
    if (Math.abs(pps - expected) > Math.max(1, expected * 0.001)) fail(`${pps} pps does not match ${packets} frames in ${elapsedUs} us (${Math.round(expected)} pps)`, where);
  }
  // Older kernels count the FCS in bps, newer ones do not; IMIX runs add up mixed sizes.
  const imix = /imix_weights:/.test(text);
  if (!imix && bps !== pps * 8 * pktSize && bps !== pps * 8 * (pktSize + 4)) fail(`${bps} bps is neither ${pps} pps x ${pktSize} bytes nor with the FCS`, where);
  if (mbps !== Math.floor(bps / 1e6)) fail(`${mbps} Mb/sec does not match ${bps} bps`, where);

  const params = /Params: count (\d+)/.exec(text);
  const current = /pkts-sofar: (\d+)\s+errors: (\d+)/.exec(text);
  if (current && (Number(current[1]) !== packets || Number(current[2]) !== errors)) {
    fail(`Current says pkts-sofar ${current[1]} errors ${current[2]}, Result says ${packets} frames ${errors} errors`, where);
  }
  const countRequested = params ? Number(params[1]) : null;
  if (countRequested !== null && countRequested > 0 && packets > countRequested) fail(`${packets} frames sent but the count was ${countRequested}`, where);
  return { countRequested, packets, elapsedUs, computeUs, idleUs, pktSize, frags, pps, mbps, bps, errors };
}

// The TX script's stdout: one device file after each `==> file <==` marker, keyed by file.
export function parsePktgenScriptOutput(stdout: string, deviceFiles: readonly string[], source?: string): Map<string, PktgenRunResult> {
  const out = new Map<string, PktgenRunResult>();
  for (const file of deviceFiles) {
    const marker = deviceFileMarker(file);
    const start = stdout.indexOf(marker);
    if (start < 0) fail(`expected the output of ${file} after "${marker}", found none`, { source, line: stdout.trim().split('\n')[0] ?? '' });
    const rest = stdout.slice(start + marker.length);
    const next = rest.indexOf('==> ');
    out.set(file, parsePktgenDevice(next < 0 ? rest : rest.slice(0, next), source ?? file));
  }
  return out;
}
