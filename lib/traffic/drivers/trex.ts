// TrafficGenerator over a TRex server already running on the tgen node (stateless mode, RPC
// 4501, async 4500). Each trial uploads nothing new: kfn-trex-trial.py goes to the node's run
// directory once, then runs detached per trial (a dropped SSH link does not lose the trial,
// an abort sends SIGINT and the script stops the streams), and its JSON is parsed here.
// Starting and stopping the TRex server itself is the topology's job, not the generator's.
import { readFile } from 'node:fs/promises';
import { MeasurementError, ToolOutputParseError } from '../../errors.ts';
import type { NodeSession } from '../../remote/types.ts';
import type { CalibrationParams, CalibrationResult, TrafficGenerator, TrialParams, TrialResult } from '../generator.ts';
import { runDetachedTrial } from '../remote-run.ts';
import { resolveTrial, type ResolvedTrial } from '../trial.ts';
import { parseTrexTrial } from '../../tools/trex/parse.ts';
import { buildTrexTrialCommand, buildTrexTrialSpec, type TrexSpecOptions } from '../../tools/trex/spec.ts';

const SCRIPT_URL = new URL('../../agents/trex/kfn-trex-trial.py', import.meta.url);
const SCRIPT_NAME = 'kfn-trex-trial.py';

export interface TrexGeneratorOptions {
  session: NodeSession;
  /** Python 3 on the node; default `python3`. */
  python?: string;
  /** Directories holding TRex's `trex/` (v2.4x+) or `trex_stl_lib/` client package. */
  apiPaths?: readonly string[];
  spec?: Omit<TrexSpecOptions, 'nodePortNames'>;
  /** Rate asked for when calibrating pps-only ports: more than TRex can send there. */
  calibrationPps?: number;
  /** Script text; default the file in lib/agents/trex. Tests pass their own. */
  scriptText?: string;
}

export class TrexGenerator implements TrafficGenerator {
  readonly name = 'trex';
  readonly #options: TrexGeneratorOptions;
  #scriptPath: Promise<string> | undefined;

  constructor(options: TrexGeneratorOptions) {
    this.#options = options;
  }

  async runTrial(params: TrialParams, signal?: AbortSignal): Promise<TrialResult> {
    return this.#run(resolveTrial(params, this.#options.session.node), signal);
  }

  // Floods at a rate TRex cannot reach on kernel or virtual ports; what it did reach is the ceiling.
  async calibrate(params: CalibrationParams, signal?: AbortSignal): Promise<CalibrationResult> {
    const pps = this.#options.calibrationPps ?? 20_000_000;
    const trial = await this.#run(resolveTrial({ ...params, rate: { pps } }, this.#options.session.node), signal);
    return { maxTxPps: trial.achievedTxPps, trial };
  }

  async close(): Promise<void> {
    // Nothing is held between trials: each run of the script resets, uses and releases its ports.
  }

  async #run(trial: ResolvedTrial, signal: AbortSignal | undefined): Promise<TrialResult> {
    const { session } = this.#options;
    const scriptPath = await this.#upload();
    const spec = buildTrexTrialSpec(trial, { ...this.#options.spec, nodePortNames: session.node.ports.map((p) => p.name) });
    const command = buildTrexTrialCommand({ python: this.#options.python, scriptPath, spec, apiPaths: this.#options.apiPaths });
    const outcome = await runDetachedTrial(session, {
      namePrefix: 'trex-trial',
      command: command.argv,
      durationS: trial.durationS,
      label: 'TRex trial',
      signal,
    });
    if (outcome.overran) throw new MeasurementError(`${outcome.overran} on ${session.node.name}; TRex may be stuck: ${tail(outcome.stderr)}`);
    const portNames: Record<number, string> = {};
    trial.streams.forEach((s, i) => {
      portNames[spec.directions[i]!.tx_port] = s.txPort.name;
      portNames[spec.directions[i]!.rx_port] = s.rxPort.name;
    });
    const source = `kfn-trex-trial on ${session.node.name}`;
    try {
      return parseTrexTrial(outcome.stdout, { source, portNames, expectedSpec: spec });
    } catch (e) {
      // An error document explains itself; output that is no document at all gets the exit code and stderr.
      if (outcome.exitCode !== 0 && e instanceof ToolOutputParseError) {
        throw new MeasurementError(`kfn-trex-trial on ${session.node.name} exited with ${outcome.exitCode ?? 'no exit code'}: ${tail(outcome.stderr)}`, { cause: e });
      }
      throw e;
    }
  }

  #upload(): Promise<string> {
    this.#scriptPath ??= (async () => {
      const { session } = this.#options;
      const text = this.#options.scriptText ?? (await readFile(SCRIPT_URL, 'utf8'));
      const path = `${session.runDir}/${SCRIPT_NAME}`;
      await session.upload(text, path, { mode: 0o755 });
      return path;
    })().catch((e: unknown) => {
      this.#scriptPath = undefined;
      throw e;
    });
    return this.#scriptPath;
  }
}

function tail(stderr: string): string {
  return stderr.trim().split('\n').slice(-3).join(' | ') || '(no stderr)';
}
