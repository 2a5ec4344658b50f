// NDR/PDR binary search after NFVbench (opnfv/nfvbench traffic_client.py `__range_search`):
// one trial serves both targets, the first trial is at the ceiling (the range starts at
// [0, 2 x ceiling]), and the search stops when the interval is narrower than epsilon.
// Added here: an iteration cap, a final verification trial at each found rate, and a rule
// for trials the generator could not drive (below 90 % of the requested rate):
//
//   An invalid trial says nothing about the device. It is never read as loss: it ends the
//   climb for every target (the search goes below it, as for a failing rate), and when it is
//   the closest failure above a found rate, that rate is reported as a LOWER BOUND limited by
//   the generator (`limitedBy: 'generator'`), never as the device's NDR/PDR.
//
// The trial function is injected, so the search runs on simulated devices in tests.

/** What the search reads from a trial; a TrialResult has all of it. */
export interface SearchTrialOutcome {
  lossRatio: number;
  valid: boolean;
  invalidReasons: string[];
  achievedTxPps: number;
}

export type TargetName = 'ndr' | 'pdr';

export interface SearchTrialContext {
  purpose: 'search' | 'verify' | 'latency';
  /** 0-based index of this trial in the search record. */
  index: number;
  /** How long this trial should send, when the caller configured it. */
  durationS?: number;
}

export type SearchTrialFn<T extends SearchTrialOutcome = SearchTrialOutcome> = (ratePps: number, context: SearchTrialContext) => Promise<T>;

/** NFVbench's defaults: NDR 0.001 % loss, PDR 0.1 %, epsilon 0.1 % of line rate. */
export const NFVBENCH_DEFAULTS = { ndrLossRatio: 0.00001, pdrLossRatio: 0.001, epsilonFraction: 0.001 } as const;

export interface NdrPdrSearchOptions<T extends SearchTrialOutcome> {
  /** Line rate in pps for the frame size, or the calibrated generator maximum on pps-only ports. */
  ceilingPps: number;
  ceilingSource: 'line-rate' | 'calibration';
  runTrial: SearchTrialFn<T>;
  ndrLossRatio?: number;
  pdrLossRatio?: number;
  /** Search resolution as a fraction of the ceiling; default 0.001 (0.1 %). */
  epsilonFraction?: number;
  /** Search trials at most (verification not counted); default: enough for any two targets. */
  maxSearchTrials?: number;
  /** Run one verification trial per distinct found rate; default true. */
  verify?: boolean;
  /** Duration handed to every search trial (context.durationS). */
  trialDurationS?: number;
  /** Duration of the verification trials; default trialDurationS. A longer one catches rarer loss. */
  verifyDurationS?: number;
  signal?: AbortSignal;
}

export interface SearchTrialRecord<T extends SearchTrialOutcome = SearchTrialOutcome> {
  index: number;
  purpose: 'search' | 'verify';
  ratePps: number;
  percentOfCeiling: number;
  lossRatio: number;
  valid: boolean;
  invalidReasons: string[];
  /** How this trial counted for each target it was run for. */
  verdicts: Partial<Record<TargetName, 'pass' | 'loss' | 'invalid'>>;
  result: T;
}

/** Why the found rate is where it is. */
export type SearchLimit = 'device-loss' | 'generator' | 'ceiling' | 'iteration-cap';

export interface TargetResult {
  name: TargetName;
  lossRatioLimit: number;
  /** Highest rate that passed; 0 when none did. */
  ratePps: number;
  percentOfCeiling: number;
  limitedBy: SearchLimit;
  /** True when the device may well forward more: generator limit, calibrated ceiling or iteration cap. */
  isLowerBound: boolean;
  /** The rate that passed and the closest rate above it that did not (null: none tried). */
  interval: { passPps: number; failPps: number | null };
  converged: boolean;
  /** Index of the search trial that passed at ratePps, null when none passed. */
  passTrial: number | null;
  verification: { trial: number; passed: boolean } | null;
  status: 'verified' | 'verification-failed' | 'unverified' | 'not-found';
}

export interface NdrPdrResult<T extends SearchTrialOutcome = SearchTrialOutcome> {
  ceilingPps: number;
  ceilingSource: 'line-rate' | 'calibration';
  epsilonPps: number;
  maxSearchTrials: number;
  trials: Array<SearchTrialRecord<T>>;
  ndr: TargetResult;
  pdr: TargetResult;
  /** Lowest requested rate the generator could not reach, null when it always kept up. */
  generatorLimitPps: number | null;
  notes: string[];
}

// Trials one target needs to converge, and the most two diverging targets can need.
export function searchTrialBounds(epsilonFraction: number = NFVBENCH_DEFAULTS.epsilonFraction): { single: number; worst: number } {
  if (!(epsilonFraction > 0 && epsilonFraction < 1)) throw new RangeError(`epsilonFraction must be in (0, 1), got ${epsilonFraction}`);
  // The interval starts 2 x ceiling wide and halves per trial until narrower than epsilon.
  const single = Math.ceil(Math.log2(2 / epsilonFraction) - 1e-9);
  return { single, worst: 2 * single - 1 };
}

interface TargetState {
  name: TargetName;
  limit: number;
  rightCause: 'loss' | 'invalid' | null;
  failPps: number | null;
  passTrial: number | null;
}

// Runs the search; every trial, in order, is in the result so a report can draw the path.
export async function searchNdrPdr<T extends SearchTrialOutcome>(options: NdrPdrSearchOptions<T>): Promise<NdrPdrResult<T>> {
  const ceiling = Math.floor(options.ceilingPps);
  if (!Number.isFinite(options.ceilingPps) || ceiling < 1) throw new RangeError(`ceilingPps must be at least 1 pps, got ${options.ceilingPps}`);
  const epsilonFraction = options.epsilonFraction ?? NFVBENCH_DEFAULTS.epsilonFraction;
  const bounds = searchTrialBounds(epsilonFraction);
  const maxSearchTrials = options.maxSearchTrials ?? bounds.worst;
  if (!Number.isInteger(maxSearchTrials) || maxSearchTrials < 1) throw new RangeError(`maxSearchTrials must be an integer >= 1, got ${maxSearchTrials}`);
  const epsilonPps = Math.max(1, epsilonFraction * ceiling);
  const limits = { ndr: options.ndrLossRatio ?? NFVBENCH_DEFAULTS.ndrLossRatio, pdr: options.pdrLossRatio ?? NFVBENCH_DEFAULTS.pdrLossRatio };
  if (!(limits.ndr >= 0 && limits.ndr <= limits.pdr && limits.pdr < 1)) {
    throw new RangeError(`expected 0 <= NDR loss (${limits.ndr}) <= PDR loss (${limits.pdr}) < 1`);
  }
  const trials: Array<SearchTrialRecord<T>> = [];
  const found = new Map<TargetName, TargetResult>();
  const percent = (pps: number) => (100 * pps) / ceiling;
  let searchTrials = 0;

  const runOne = async (ratePps: number, purpose: 'search' | 'verify', targets: TargetState[]): Promise<SearchTrialRecord<T>> => {
    options.signal?.throwIfAborted();
    const index = trials.length;
    const durationS = purpose === 'verify' ? (options.verifyDurationS ?? options.trialDurationS) : options.trialDurationS;
    const result = await options.runTrial(ratePps, durationS === undefined ? { purpose, index } : { purpose, index, durationS });
    const verdicts: SearchTrialRecord<T>['verdicts'] = {};
    for (const t of targets) verdicts[t.name] = !result.valid ? 'invalid' : result.lossRatio <= t.limit ? 'pass' : 'loss';
    const record: SearchTrialRecord<T> = {
      index,
      purpose,
      ratePps,
      percentOfCeiling: percent(ratePps),
      lossRatio: result.lossRatio,
      valid: result.valid,
      invalidReasons: [...result.invalidReasons],
      verdicts,
      result,
    };
    trials.push(record);
    return record;
  };

  const finish = (targets: TargetState[], ratePps: number, how: 'converged' | 'ceiling' | 'cap') => {
    for (const t of targets) {
      const limitedBy: SearchLimit =
        how === 'ceiling' ? 'ceiling' : how === 'cap' ? 'iteration-cap' : t.rightCause === 'invalid' ? 'generator' : 'device-loss';
      const isLowerBound = limitedBy === 'generator' || limitedBy === 'iteration-cap' || (limitedBy === 'ceiling' && options.ceilingSource === 'calibration');
      found.set(t.name, {
        name: t.name,
        lossRatioLimit: t.limit,
        ratePps,
        percentOfCeiling: percent(ratePps),
        limitedBy,
        isLowerBound,
        interval: { passPps: ratePps, failPps: how === 'ceiling' ? null : t.failPps },
        converged: how !== 'cap',
        passTrial: t.passTrial,
        verification: null,
        status: t.passTrial === null ? 'not-found' : 'unverified',
      });
    }
  };

  const search = async (left: number, right: number, targets: TargetState[]): Promise<void> => {
    if (targets.length === 0) return;
    if (right - left < epsilonPps) return finish(targets, left, 'converged');
    if (searchTrials >= maxSearchTrials) return finish(targets, left, 'cap');
    const middle = Math.floor((left + right) / 2);
    searchTrials += 1;
    const record = await runOne(middle, 'search', targets);
    const passed: TargetState[] = [];
    const failed: TargetState[] = [];
    for (const t of targets) {
      const verdict = record.verdicts[t.name];
      if (verdict === 'pass') {
        t.passTrial = record.index;
        passed.push(t);
      } else {
        t.rightCause = verdict === 'invalid' ? 'invalid' : 'loss';
        t.failPps = middle;
        failed.push(t);
      }
    }
    await search(left, middle, failed);
    if (middle >= ceiling) finish(passed, ceiling, 'ceiling');
    else await search(middle, right, passed);
  };

  const states: TargetState[] = (['ndr', 'pdr'] as const).map((name) => ({ name, limit: limits[name], rightCause: null, failPps: null, passTrial: null }));
  await search(0, 2 * ceiling, states);

  if (options.verify ?? true) {
    const rates = [...new Set([...found.values()].filter((t) => t.passTrial !== null).map((t) => t.ratePps))].sort((a, b) => b - a);
    for (const rate of rates) {
      const targets = states.filter((s) => found.get(s.name)?.ratePps === rate && found.get(s.name)?.passTrial !== null);
      const record = await runOne(rate, 'verify', targets);
      for (const t of targets) {
        const passed = record.verdicts[t.name] === 'pass';
        const r = found.get(t.name)!;
        r.verification = { trial: record.index, passed };
        r.status = passed ? 'verified' : 'verification-failed';
      }
    }
  }

  const invalidRates = trials.filter((t) => !t.valid).map((t) => t.ratePps);
  const notes: string[] = [];
  if (invalidRates.length > 0) {
    notes.push(`the generator could not reach ${Math.min(...invalidRates)} pps (below 90 % of the request): rates limited by it are lower bounds, not device limits`);
  }
  if (searchTrials >= maxSearchTrials && [...found.values()].some((t) => !t.converged)) {
    notes.push(`the search stopped at its cap of ${maxSearchTrials} trials before reaching the ${epsilonPps.toFixed(0)} pps resolution`);
  }
  return {
    ceilingPps: ceiling,
    ceilingSource: options.ceilingSource,
    epsilonPps,
    maxSearchTrials,
    trials,
    ndr: found.get('ndr')!,
    pdr: found.get('pdr')!,
    generatorLimitPps: invalidRates.length > 0 ? Math.min(...invalidRates) : null,
    notes,
  };
}

/** Latency trials at 10, 50 and 90 % of the NDR. */
export const DEFAULT_LATENCY_LOAD_FRACTIONS: readonly number[] = [0.1, 0.5, 0.9];

export interface LatencyAtLoad<T> {
  fraction: number;
  ratePps: number;
  trial: T;
}

// Latency at fixed shares of the NDR (10, 50, 90 % by default), the loads a VNF really sees.
export async function measureLatencyAtLoads<T extends SearchTrialOutcome>(a: {
  ndrPps: number;
  fractions?: readonly number[];
  runTrial: SearchTrialFn<T>;
  signal?: AbortSignal;
}): Promise<Array<LatencyAtLoad<T>>> {
  const out: Array<LatencyAtLoad<T>> = [];
  for (const [index, fraction] of (a.fractions ?? DEFAULT_LATENCY_LOAD_FRACTIONS).entries()) {
    if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`latency load fractions must be in (0, 1], got ${fraction}`);
    const ratePps = Math.floor(a.ndrPps * fraction);
    if (ratePps < 1) continue;
    a.signal?.throwIfAborted();
    out.push({ fraction, ratePps, trial: await a.runTrial(ratePps, { purpose: 'latency', index }) });
  }
  return out;
}
