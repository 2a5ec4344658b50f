// The forwarding procedure shared by the bare-metal, SR-IOV and OVS-DPDK suites: set up the
// topology, then per frame size calibrate the generator, search NDR/PDR, confirm them, measure
// latency at fixed shares of the NDR and loss at a fixed rate, and keep every trial.
//
// How a topology plugs in (lib/topology/types.ts):
//   1. Implement `Topology.setup(ctx)`: change the pod only through ctx.cleanup-registered undo
//      steps (lib/topology/undo.ts applyWithUndo, saveLinkStates; hugepages.ts reserveHugepages,
//      bindPciDevices), start the forwarder (lib/tools/testpmd), and return a ForwardingPath
//      whose `ports` are the tgen ports facing the device (forwarding-ports.ts resolveDevicePorts).
//   2. Optionally `collectEvidence(ctx)`: stop the forwarder so it prints its statistics, keep
//      them with ctx.writeRaw / ctx.recordDetails('forwarder', ...).
//   3. Optionally `forwarderCounts()` (CountingTopology): frames the device sent toward each tgen
//      port over the whole case; the engine then refuses results whose frames did not go through it.
//   4. The suite: parseForwardingArgs(ctx.args, { caseName, extra: <topology's zod shape> }), then
//      startForwarding(ctx, { topology, args }) in before(), run.measure(size) per frame size,
//      declareForwardingLimitTests(...), and run.finish() in after(). testcases/forwarding-baremetal.spec.ts is the model.
import type { PodNode } from '../config/pod-model.ts';
import { MeasurementError, TopologyError } from '../errors.ts';
import type { CaseContext } from '../harness/case-context.ts';
import { DryRunStop } from '../harness/dry-run.ts';
import { declareLimitTests } from '../harness/limit-tests.ts';
import { measureLatencyAtLoads, searchNdrPdr, type TargetResult } from '../measure/ndr-search.ts';
import { timeoutFor } from '../remote/timeouts.ts';
import type { CountingTopology, ForwardingPath } from '../topology/types.ts';
import { checkForwarderCounts, locateLoss, type GeneratorDirectionCounts } from './forwarding-path-check.ts';
import type { TrafficGenerator, TrialPorts, TrialRate, TrialResult } from '../traffic/generator.ts';
import { formatFrameSize, type FrameSize } from '../traffic/line-rate.ts';
import { resolveCeiling } from '../traffic/plan.ts';
import { describeTrial } from '../traffic/trial.ts';
import type { ForwardingArgs } from './forwarding-args.ts';
import {
  buildForwardingFigures,
  buildLatencyRecord,
  buildTrialRecord,
  limitAppliesTo,
  mergeLatencies,
  type CalibrationRecord,
  type TargetRecord,
  type ThroughputEntry,
  type TrialPurpose,
  type TrialRecord,
} from './forwarding-figures.ts';
import { createGenerator } from './forwarding-generator.ts';
import { planForwarding, type ForwardingPlan } from './forwarding-plan.ts';
import { findLoopbackPorts } from './forwarding-ports.ts';

export { planForwarding, type ForwardingPlan };
export type { CountingTopology, ForwarderCounts } from '../topology/types.ts';
export { checkForwarderCounts } from './forwarding-path-check.ts';

export interface ForwardingRun {
  readonly path: ForwardingPath;
  readonly plan: ForwardingPlan;
  /** How long one measure() may take at worst, for the suite's hook timeout. */
  readonly frameSizeTimeoutMs: number;
  /** Measures one frame size; its entry is in results.json as soon as it is done. */
  measure(frameSize: FrameSize): Promise<ThroughputEntry>;
  /** Evidence from the forwarder, the path check, and the final details. */
  finish(): Promise<void>;
}

// Sets up the topology and the generator; throws before touching a node when the budget cannot be kept.
export async function startForwarding(ctx: CaseContext, options: { topology: CountingTopology; args: ForwardingArgs }): Promise<ForwardingRun> {
  const { args, topology } = options;
  // Planned on the pod's first tgen node, before the topology touches anything.
  const plannedTgen = ctx.nodes('tgen')[0];
  const loopback = args.calibrate && Boolean(args.calibration_ports ?? (plannedTgen && findLoopbackPorts(ctx.pod, plannedTgen)));
  const ppsOnly = Boolean(plannedTgen?.ports.some((p) => p.lineRateBps === undefined));
  const plan = planForwarding(args, { durationOverrideS: ctx.durationOverrideS, calibrationTrials: loopback ? 2 : ppsOnly ? 1 : 0 });
  ctx.log(`plan: ${plan.estimate.breakdown}; search capped at ${plan.maxSearchTrials} trials (${plan.converges === 'always' ? 'converges' : `may stop before the ${args.search_resolution_percent} % resolution`})`);
  ctx.recordDetails('plan', { ...plan, estimate: { totalS: Math.ceil(plan.estimate.totalS), breakdown: plan.estimate.breakdown } });

  const path = await ctx.phase('provision', () => topology.setup(ctx));
  ctx.recordDetails('topology', { name: path.topology, description: path.description, nodes: path.nodes.map((n) => n.name), tgen: path.tgen.name, ports: path.ports });
  ctx.progress.note(`${ctx.caseName}: ${path.description}`);
  const { generator, version } = await ctx.phase('build', () => createGenerator(ctx, args, path));
  ctx.recordToolVersion(path.tgen.name, generator.name === 'softgen' ? 'kfn-softgen' : generator.name, version);
  ctx.recordDetails('generator', { name: generator.name, version, node: path.tgen.name });
  const calibrationPorts = args.calibrate ? (args.calibration_ports ?? findLoopbackPorts(ctx.pod, path.tgen)) : undefined;
  return new Run(ctx, { args, topology, path, plan, generator, calibrationPorts });
}

interface RunParts {
  args: ForwardingArgs;
  topology: CountingTopology;
  path: ForwardingPath;
  plan: ForwardingPlan;
  generator: TrafficGenerator;
  calibrationPorts: TrialPorts | undefined;
}

class Run implements ForwardingRun {
  readonly path: ForwardingPath;
  readonly plan: ForwardingPlan;
  readonly frameSizeTimeoutMs: number;
  readonly #ctx: CaseContext;
  readonly #p: RunParts;
  readonly #entries: ThroughputEntry[] = [];
  /** Frames the generator received per port through the device (calibration on its loopback excluded). */
  readonly #receivedThroughPath: Record<string, number> = {};
  /** The same per direction, with what was sent, to locate loss along the path. */
  readonly #throughPath = new Map<string, GeneratorDirectionCounts>();

  constructor(ctx: CaseContext, parts: RunParts) {
    this.#ctx = ctx;
    this.#p = parts;
    this.path = parts.path;
    this.plan = parts.plan;
    this.frameSizeTimeoutMs = timeoutFor(parts.plan.perFrameSizeS);
  }

  async measure(frameSize: FrameSize): Promise<ThroughputEntry> {
    const ctx = this.#ctx;
    const { args, generator, path, plan } = this.#p;
    const fs = formatFrameSize(frameSize);
    const base = { frameSize, flows: args.flows, direction: args.direction } as const;
    if (ctx.dryRun) {
      // One trial's commands are printed; nothing is measured or judged.
      await generator.runTrial({ ...base, rate: { pps: 1000 }, durationS: plan.trialDurationS, ports: path.ports }).catch(() => undefined);
      throw new DryRunStop();
    }
    const started = Date.now();
    const task = ctx.progress.start(`${ctx.caseName} ${fs} B`, plan.perFrameSizeS);
    const trials: TrialRecord[] = [];
    const full: Array<{ purpose: TrialPurpose; result: TrialResult }> = [];
    const notes: string[] = [];
    const run = async (purpose: TrialPurpose, ports: TrialPorts, rate: TrialRate | 'unpaced', durationS: number): Promise<TrialResult> => {
      ctx.signal.throwIfAborted();
      const params = { ...base, ports, durationS };
      const result = await ctx.phase('measure', async () =>
        rate === 'unpaced' ? (await calibrate(generator, params, ctx.signal)).trial : await generator.runTrial({ ...params, rate }, ctx.signal),
      );
      const ratePps = rate === 'unpaced' ? 0 : 'pps' in rate ? rate.pps : 0;
      trials.push(buildTrialRecord(trials.length, purpose, ratePps, result));
      full.push({ purpose, result });
      if (ports === path.ports) for (const d of result.directions) this.#countThroughPath(d);
      ctx.log(`${fs} B ${purpose}: ${describeTrial(result)}`);
      task.update((Date.now() - started) / 1000);
      return result;
    };
    try {
      const calibration = await this.#calibrate(run, notes);
      const txPorts = path.tgen.ports.filter((p) => p.name === path.ports.tx || (args.direction === 'bidirectional' && p.name === path.ports.rx));
      const ceiling = resolveCeiling({ txPorts, frameSize, ...(calibration ? { calibratedPps: calibration.maxTxPps } : {}) });
      const search = await searchNdrPdr({
        ceilingPps: ceiling.ceilingPps,
        ceilingSource: ceiling.source,
        runTrial: (ratePps, c) => run(c.purpose === 'verify' ? 'verify' : 'search', path.ports, { pps: ratePps }, c.durationS ?? plan.trialDurationS),
        ndrLossRatio: args.ndr_loss_percent / 100,
        pdrLossRatio: args.pdr_loss_percent / 100,
        epsilonFraction: plan.epsilonFraction,
        maxSearchTrials: plan.maxSearchTrials,
        trialDurationS: plan.trialDurationS,
        signal: ctx.signal,
      });
      const fallbackCache = new Map<number, TrialResult>();
      const confirm = async (t: TargetResult) => this.#confirm(t, fallbackCache, (rate) => run('fallback-verify', path.ports, { pps: rate }, plan.trialDurationS));
      const pdr = await confirm(search.pdr);
      const ndr = await confirm(search.ndr);
      const directions = args.direction === 'bidirectional' ? 2 : 1;
      const latencyAtLoads: ThroughputEntry['latencyAtLoads'] = [];
      let top: { load: ThroughputEntry['latencyAtLoads'][number]; trial: TrialResult } | undefined;
      if (ndr.confirmedPps !== null && ndr.confirmedPps >= 1) {
        const loads = await measureLatencyAtLoads({
          ndrPps: ndr.confirmedPps,
          fractions: args.latency_loads.map((p) => p / 100),
          runTrial: (rate) => run('latency', path.ports, { pps: rate }, plan.trialDurationS),
          signal: ctx.signal,
        });
        for (const l of loads) {
          const load = {
            loadPercent: Math.round(l.fraction * 1000) / 10,
            ratePps: l.ratePps,
            lossPercent: l.trial.lossPercent,
            valid: l.trial.valid,
            directions: l.trial.directions.filter((d) => d.latency).map((d) => ({ direction: d.direction, ...buildLatencyRecord(d.latency!) })),
          };
          latencyAtLoads.push(load);
          // The regression gate and the comparison read the highest load.
          if (!top || load.loadPercent > top.load.loadPercent) top = { load, trial: l.trial };
        }
      } else notes.push('no NDR was confirmed, so no latency trial ran');
      const fixedRate = args.fixed_rate_pps ?? Math.max(1, Math.floor((ceiling.ceilingPps * args.fixed_rate_percent) / 100));
      const fixed = await run('fixed-rate', path.ports, { pps: fixedRate }, plan.trialDurationS);
      const merged = top ? mergeLatencies(top.trial.directions.flatMap((d) => (d.latency ? [d.latency] : []))) : null;
      const entry: ThroughputEntry = {
        ...base,
        durationS: plan.trialDurationS,
        directions,
        ndrPps: ndr.confirmedPps === null ? null : ndr.confirmedPps * directions,
        pdrPps: pdr.confirmedPps === null ? null : pdr.confirmedPps * directions,
        ndr,
        pdr,
        ceilingPps: ceiling.ceilingPps,
        ceilingSource: ceiling.source,
        lossAtRate: { ratePps: fixedRate, lossPercent: fixed.lossPercent, valid: fixed.valid, invalidReasons: fixed.invalidReasons },
        latency:
          top && merged
            ? {
                where: `${top.load.loadPercent} % of NDR, ${directions > 1 ? 'both directions merged' : 'forward'}`,
                ratePps: top.load.ratePps,
                lossPercent: top.load.lossPercent,
                valid: top.trial.valid,
                invalidReasons: top.trial.invalidReasons,
                ...buildLatencyRecord(merged),
              }
            : null,
        latencyAtLoads,
        calibration,
        search: { epsilonPps: search.epsilonPps, maxSearchTrials: search.maxSearchTrials, generatorLimitPps: search.generatorLimitPps, notes: search.notes },
        trials,
        notes,
      };
      this.#entries.push(entry);
      ctx.recordDetails('throughput', [...this.#entries]);
      const rate = (pps: number | null) => (pps === null ? 'not confirmed' : `${pps} pps`);
      task.done(`NDR ${rate(entry.ndrPps)}, PDR ${rate(entry.pdrPps)} (${trials.length} trials)`);
      return entry;
    } catch (error) {
      task.done(`stopped: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      throw error;
    } finally {
      // Every trial, histograms included, is kept whatever happened to the search.
      await ctx.writeRaw(`trials-${fs}.json`, JSON.stringify(full, null, 1));
    }
  }

  #countThroughPath(d: { txPort: string; rxPort: string; txFrames: number; rxFrames: number }): void {
    this.#receivedThroughPath[d.rxPort] = (this.#receivedThroughPath[d.rxPort] ?? 0) + d.rxFrames;
    const key = `${d.txPort}>${d.rxPort}`;
    const c = this.#throughPath.get(key) ?? { txPort: d.txPort, rxPort: d.rxPort, sent: 0, received: 0 };
    this.#throughPath.set(key, { ...c, sent: c.sent + d.txFrames, received: c.received + d.rxFrames });
  }

  async #calibrate(run: (purpose: TrialPurpose, ports: TrialPorts, rate: TrialRate | 'unpaced', durationS: number) => Promise<TrialResult>, notes: string[]): Promise<CalibrationRecord | null> {
    const { args, path, plan, calibrationPorts } = this.#p;
    // On ports with a line rate the generator is not the ceiling; its loopback still gives its own latency.
    const ppsOnly = path.tgen.ports.some((p) => (p.name === path.ports.tx || p.name === path.ports.rx) && p.lineRateBps === undefined);
    if (!calibrationPorts && !ppsOnly) {
      notes.push('no generator loopback in pod.yaml: latency is not shown net of the generator');
      return null;
    }
    const ports = calibrationPorts ?? path.ports;
    if (!calibrationPorts) notes.push(`no generator loopback${args.calibrate ? ' in pod.yaml' : ' (calibrate: false)'}: the ceiling was calibrated through the device, so it may be the device's limit`);
    const flood = await run('calibration', ports, 'unpaced', plan.calibrationDurationS);
    if (!(flood.achievedTxPps > 0)) throw new MeasurementError(`calibration on ${ports.tx} -> ${ports.rx}: the generator sent nothing (${flood.invalidReasons.join('; ') || 'no reason given'})`);
    const record: CalibrationRecord = { ports, via: calibrationPorts ? 'loopback' : 'path', maxTxPps: flood.achievedTxPps, latencyRatePps: null, latency: [], latencyValid: null, latencyInvalidReasons: [] };
    if (calibrationPorts) {
      const rate = Math.max(1, Math.floor(flood.achievedTxPps / 10));
      const light = await run('calibration', ports, { pps: rate }, plan.calibrationDurationS);
      record.latencyRatePps = rate;
      record.latencyValid = light.valid;
      record.latencyInvalidReasons = light.invalidReasons;
      record.latency = light.directions.filter((d) => d.latency).map((d) => ({ direction: d.direction, ...buildLatencyRecord(d.latency!) }));
    }
    return record;
  }

  // A found rate whose verification lost frames is walked down until a verification passes.
  async #confirm(t: TargetResult, cache: Map<number, TrialResult>, runAt: (ratePps: number) => Promise<TrialResult>): Promise<TargetRecord> {
    const base: TargetRecord = {
      lossPercentLimit: t.lossRatioLimit * 100,
      searchPps: t.ratePps,
      confirmedPps: null,
      confirmedBy: null,
      status: t.status,
      limitedBy: t.limitedBy,
      isLowerBound: t.isLowerBound,
      converged: t.converged,
      interval: t.interval,
    };
    if (t.status === 'verified') return { ...base, confirmedPps: t.ratePps, confirmedBy: 'verification' };
    if (t.status === 'unverified') return { ...base, confirmedPps: t.ratePps, confirmedBy: 'search (verification off)' };
    if (t.status !== 'verification-failed') return base;
    for (const fraction of this.#p.args.verify_fallbacks) {
      const rate = Math.floor(t.ratePps * fraction);
      if (rate < 1) break;
      const result = cache.get(rate) ?? (await runAt(rate));
      cache.set(rate, result);
      if (result.valid && result.lossRatio <= t.lossRatioLimit) return { ...base, confirmedPps: rate, confirmedBy: 'fallback-verification' };
    }
    return base;
  }

  async finish(): Promise<void> {
    const ctx = this.#ctx;
    const { topology, generator, path } = this.#p;
    if (this.#entries.length > 0) ctx.recordDetails('throughput', [...this.#entries]);
    await generator.close().catch((e: unknown) => ctx.log(`closing the generator: ${String(e)}`));
    if (ctx.dryRun) return;
    await ctx.phase('collect', async () => topology.collectEvidence?.(ctx));
    const counts = topology.forwarderCounts?.();
    if (counts) {
      const { located, problems: stageProblems } = locateLoss([...this.#throughPath.values()], counts);
      const problems = [...checkForwarderCounts(this.#receivedThroughPath, counts), ...stageProblems];
      ctx.recordDetails('pathCheck', { receivedByGenerator: { ...this.#receivedThroughPath }, sentByDevice: counts.txTowardTgenPort, source: counts.source, ...(located.length > 0 ? { loss: located } : {}), problems });
      if (problems.length > 0) throw new MeasurementError(`${path.description}: ${problems.join('; ')}; the figures cannot be trusted`);
    }
  }
}

async function calibrate(generator: TrafficGenerator, params: Parameters<NonNullable<TrafficGenerator['calibrate']>>[0], signal: AbortSignal) {
  if (!generator.calibrate) throw new TopologyError(`generator ${generator.name} cannot calibrate itself`);
  return generator.calibrate(params, signal);
}

// One JUnit testcase per limit, judged on this frame size's figures; `ndr@1518` is skipped,
// with the reason, under any other frame size.
export function declareForwardingLimitTests(ctx: CaseContext, node: PodNode, frameSize: FrameSize, entry: () => ThroughputEntry | undefined): void {
  declareLimitTests(ctx, node, (metric) => buildForwardingFigures(entry(), metric, ctx.limitsFor(node).find((l) => l.metric === metric)), {
    withheld: (limit) => (limitAppliesTo(limit, frameSize) ? undefined : `${limit.metric} applies to ${limit.metric.split('@')[1]} B frames only`),
  });
}
