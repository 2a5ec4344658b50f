// Cross-field checks on a parsed kfn-softgen document. Each message names the field, what was
// expected and what was found. A contradiction means a bug or a damaged file, and a loss or
// latency figure taken from it could be a wrong PASS.
import type { LatencyResult, SoftgenOutput, TrialResult } from './parse.ts';

// Returns every contradiction found; an empty list means the figures agree.
export function checkSoftgenConsistency(out: SoftgenOutput): string[] {
  const problems: string[] = [];
  const kinds = (s: { notIpv4Udp: number; noMagic: number; unknownStream: number; malformed: number }): number =>
    s.notIpv4Udp + s.noMagic + s.unknownStream + s.malformed;
  if (kinds(out.strays) !== out.strays.total) {
    problems.push(`strays.total: expected the sum of its kinds ${kinds(out.strays)}, found ${out.strays.total}`);
  }
  const perInterface = out.rxInterfaces.reduce((sum, r) => sum + kinds(r.strays), 0);
  if (perInterface !== out.strays.total) {
    problems.push(`strays.total: expected the sum over rx_interfaces ${perInterface}, found ${out.strays.total}`);
  }
  const ids = out.directions.map((d) => d.streamId);
  if (new Set(ids).size !== ids.length) problems.push(`streams: expected distinct stream ids, found ${ids.join(', ')}`);
  if (out.mode !== 'rx' && !out.imix && out.frameSize === null) problems.push('frame_size: expected a size for a fixed-size run, found null');
  if (out.mode === 'rx' && out.txMethod !== null) problems.push(`tx_method: expected null in rx mode, found ${out.txMethod}`);
  out.directions.forEach((d, i) => checkDirection(problems, out, d, `streams[${i}] (stream ${d.streamId})`));
  return problems;
}

function checkDirection(problems: string[], out: SoftgenOutput, d: TrialResult, at: string): void {
  const hasTx = out.mode !== 'rx';
  const hasRx = out.mode !== 'tx';
  const sendFields = { tx_frames: d.txFrames, tx_retries: d.txRetries, last_seq: d.lastSeq, requested_pps: d.requestedPps, achieved_tx_pps: d.achievedTxPps };
  const receiveFields = { rx_frames: d.rxFrames, dropped: d.dropped, duplicate: d.duplicate, out_of_order: d.outOfOrder, latency_ns: d.latency };
  for (const [name, value] of Object.entries(sendFields)) {
    if (hasTx !== (value !== null)) problems.push(`${at}.${name}: expected ${hasTx ? 'a value' : 'null'} in ${out.mode} mode, found ${JSON.stringify(value)}`);
  }
  for (const [name, value] of Object.entries(receiveFields)) {
    if (hasRx !== (value !== null)) problems.push(`${at}.${name}: expected ${hasRx ? 'a value' : 'null'} in ${out.mode} mode, found ${value === null ? 'null' : 'a value'}`);
  }
  if ((d.header === 'pktgen') !== (d.streamId === 0)) problems.push(`${at}.header: "pktgen" goes with stream id 0 only, found "${d.header}" for stream ${d.streamId}`);
  if (d.rxIf !== null && !out.rxInterfaces.some((r) => r.name === d.rxIf)) problems.push(`${at}.rx_if: "${d.rxIf}" is not among rx_interfaces`);

  if (d.txFrames !== null && d.achievedTxPps !== null && d.durationS > 0) {
    const expected = d.txFrames / d.durationS;
    if (Math.abs(expected - d.achievedTxPps) > 1e-3 * expected + 1) {
      problems.push(`${at}.achieved_tx_pps: expected tx_frames / duration_s = ${expected.toFixed(1)}, found ${d.achievedTxPps}`);
    }
  }
  checkLoss(problems, d, at, hasTx && hasRx);
  if (d.latency !== null) checkLatency(problems, d, d.latency, `${at}.latency_ns`);
}

function checkLoss(problems: string[], d: TrialResult, at: string, both: boolean): void {
  if (d.rxFrames !== null && d.duplicate !== null && d.duplicate > d.rxFrames) {
    problems.push(`${at}.duplicate: expected at most rx_frames ${d.rxFrames}, found ${d.duplicate}`);
  }
  if (!both) {
    if (d.lost !== null || d.lossRatio !== null) problems.push(`${at}.lost: expected null without both send and receive counts, found ${d.lost}`);
    return;
  }
  const tx = d.txFrames ?? 0;
  const unique = (d.rxFrames ?? 0) - (d.duplicate ?? 0);
  if (unique > tx) {
    problems.push(`${at}.rx_frames: rx_frames - duplicate = ${unique} exceeds tx_frames = ${tx}: more frames received than sent, not explained by duplicates`);
  }
  if (d.lost !== tx - unique) problems.push(`${at}.lost: expected tx_frames - (rx_frames - duplicate) = ${tx - unique}, found ${d.lost}`);
  if (tx === 0 ? d.lossRatio !== null : d.lossRatio === null || Math.abs(d.lossRatio - (tx - unique) / tx) > 1e-6) {
    problems.push(`${at}.loss_ratio: expected ${tx === 0 ? 'null' : (tx - unique) / tx}, found ${d.lossRatio}`);
  }
  if (d.lastSeq !== null && d.dropped !== null && d.dropped > d.lastSeq) {
    problems.push(`${at}.dropped: expected at most last_seq ${d.lastSeq}, found ${d.dropped}`);
  }
}

function checkLatency(problems: string[], d: TrialResult, l: LatencyResult, at: string): void {
  const inHistogram = l.histogram.reduce((sum, b) => sum + b.count, 0);
  if (inHistogram !== l.samples) problems.push(`${at}.histogram: expected counts summing to samples ${l.samples}, found ${inHistogram}`);
  if (d.rxFrames !== null && l.samples + l.negative + l.noTimestamp > d.rxFrames - (d.duplicate ?? 0)) {
    problems.push(`${at}.samples: expected at most rx_frames - duplicate = ${d.rxFrames - (d.duplicate ?? 0)} measured frames, found ${l.samples + l.negative + l.noTimestamp}`);
  }
  if (l.overflow > l.samples) problems.push(`${at}.overflow: expected at most samples ${l.samples}, found ${l.overflow}`);
  if (d.header === 'softgen' && l.timestampResolutionNs !== 1) problems.push(`${at}.timestamp_resolution_ns: expected 1 for softgen headers, found ${l.timestampResolutionNs}`);
  for (let i = 0; i < l.histogram.length; i++) {
    const b = l.histogram[i]!;
    const prev = l.histogram[i - 1];
    if (b.lowNs > b.highNs) problems.push(`${at}.histogram[${i}]: expected lo <= hi, found [${b.lowNs}, ${b.highNs}]`);
    if (prev !== undefined && prev.highNs >= b.lowNs) problems.push(`${at}.histogram[${i}]: expected buckets in ascending order without overlap, found ${prev.highNs} then ${b.lowNs}`);
  }
  const figures = { min: l.minNs, avg: l.avgNs, max: l.maxNs, p50: l.p50Ns, p99: l.p99Ns, p999: l.p999Ns, p9999: l.p9999Ns };
  if (l.samples === 0) {
    for (const [name, v] of Object.entries({ ...figures, jitter: l.jitterNs })) {
      if (v !== null) problems.push(`${at}.${name}: expected null with no samples, found ${v}`);
    }
    return;
  }
  const missing = Object.entries(figures).filter(([, v]) => v === null).map(([k]) => k);
  if (missing.length > 0) {
    problems.push(`${at}: expected figures with ${l.samples} samples, found null ${missing.join(', ')}`);
    return;
  }
  if ((l.jitterNs === null) !== (l.samples < 2)) problems.push(`${at}.jitter: expected ${l.samples < 2 ? 'null' : 'a value'} with ${l.samples} samples, found ${l.jitterNs}`);
  const order: Array<[string, number]> = [['min', l.minNs!], ['p50', l.p50Ns!], ['p99', l.p99Ns!], ['p999', l.p999Ns!], ['p9999', l.p9999Ns!], ['max', l.maxNs!]];
  for (let i = 1; i < order.length; i++) {
    const [a, va] = order[i - 1]!;
    const [b, vb] = order[i]!;
    if (va > vb) problems.push(`${at}: expected ${a} <= ${b}, found ${va} > ${vb}`);
  }
  if (l.avgNs! < l.minNs! || l.avgNs! > l.maxNs!) problems.push(`${at}.avg: expected within [min, max] = [${l.minNs}, ${l.maxNs}], found ${l.avgNs}`);
  const first = l.histogram[0];
  const last = l.histogram[l.histogram.length - 1];
  if (first !== undefined && (l.minNs! < first.lowNs || l.minNs! > first.highNs)) {
    problems.push(`${at}.min: expected inside the first bucket [${first.lowNs}, ${first.highNs}], found ${l.minNs}`);
  }
  if (last !== undefined && (l.maxNs! < last.lowNs || l.maxNs! > last.highNs)) {
    problems.push(`${at}.max: expected inside the last bucket [${last.lowNs}, ${last.highNs}], found ${l.maxNs}`);
  }
}
