// The `kvmfornfv-test` command. It decides exit codes and how much of an error to print:
// bad input is one clear message and exit 2, never a stack trace.
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, describeError, isKfnError } from '../errors.ts';
import { EXIT } from '../results/exit-codes.ts';
import { runCommand, type RunCommandOptions } from './run-command.ts';
import { labCommand, labImageCommand } from './lab-command.ts';
import { MAX_LAB_COMPUTES } from '../lab/plan.ts';
import { reportCommand } from './report-command.ts';
import { cleanupCommand } from './cleanup-command.ts';

export async function main(argv: string[]): Promise<void> {
  const code = await runCli(argv);
  process.exitCode = code;
}

export async function runCli(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    return reportError(error);
  }
  return exitCode;
}

function reportError(error: unknown): number {
  if (error instanceof ConfigError) {
    process.stderr.write(`kvmfornfv-test: bad input:\n${error.message}\n`);
    return EXIT.badInput;
  }
  if (isKfnError(error)) {
    process.stderr.write(`kvmfornfv-test: ${error.message}\n`);
    return error.kind === 'push' ? EXIT.pushFailed : EXIT.notMeasured;
  }
  process.stderr.write(`kvmfornfv-test: internal error: ${describeError(error)}\n${error instanceof Error ? (error.stack ?? '') : ''}\n`);
  return EXIT.notMeasured;
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 7 * 24 * 3600) throw new InvalidArgumentError(`expected seconds > 0, got "${value}"`);
  return n;
}

function positiveCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new InvalidArgumentError(`expected a whole number from 1 to 1024, got "${value}"`);
  return n;
}

function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('kvmfornfv-test')
    .description('KVM-for-NFV test plan: timer, device interrupt and packet-forwarding latency on an NFV pod')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run kvmfornfv-test --help for usage)');

  const addRunOptions = (command: Command) =>
    command
      .option('-t, --test <selection>', 'a case, a tier or all', 'all')
      .option('--pod <file>', 'pod.yaml of the pod to test; without it the embedded lab pod is built, used and removed')
      .option('--thresholds <profile|file>', 'threshold profile name (testcases/thresholds/) or YAML file; default: lab on the lab pod, opnfv-tc028 otherwise')
      .option('--results <dir>', 'output root; each run writes <dir>/<run-id>/', 'results')
      .option('--duration <seconds>', 'measurement length of a latency case, or one trial of a forwarding case', positiveSeconds)
      .option('--dry-run', 'print each node\'s commands without connecting to any node', false)
      .addOption(new Option('--host-key-policy <policy>', 'SSH host key checking').choices(['strict', 'accept-new']).default('strict'))
      .option('--known-hosts <file>', 'known_hosts file read in place of ~/.ssh/known_hosts (as ssh -o UserKnownHostsFile), and where accept-new records keys')
      .option('--keep-lab', 'leave the lab pod up after the run (for debugging)', false)
      .addOption(new Option('--lab-guest <kind>', "without --pod: the lab's guest, a QEMU VM booting Debian's RT kernel, or a namespace on the host's kernel (quicker)").choices(['vm', 'namespace']).default('vm'))
      .option('-r, --report', 'push results to TestAPI (TEST_DB_URL) and InfluxDB (INFLUXDB_URL)', false)
      .option('--baseline <last|file>', 'judge regressions against the last comparable run in the results history, or a results.json')
      .option('--compare-across <list>', 'with --baseline: compare even across these changes, e.g. kernel,qemu for a gate on a new build')
      .option('--trace-on-breach', 'a latency case whose max broke its limit runs a bounded diagnostic pass traced in a tracefs instance of its own, and says what ran on the CPU', false)
      .option('--parallel <n>', 'compute groups (a host and its guests) measured at once in the preflight and latency tiers (default: all)', positiveCount);

  addRunOptions(program.command('run').description('run cases of the test plan and write junit.xml and results.json')).action(
    async (options: RunCommandOptions) => {
      setExit(await runCommand(options));
    },
  );

  addRunOptions(
    program.command('audit').description('run the preflight tuning audit alone (the preflight tier) on the pod or the lab pod'),
  ).action(async (options: RunCommandOptions) => {
    setExit(await runCommand({ ...options, test: 'preflight' }));
  });

  program
    .command('report')
    .description("write a run's report.html again, or a comparison of two runs with --vs")
    .argument('<run>', 'run id under --results, a run folder or a results.json')
    .option('--vs <run>', 'compare with this run')
    .option('--results <dir>', 'results root', 'results')
    .action(async (run: string, options: { vs?: string; results: string }) => {
      setExit(await reportCommand({ run, ...options }));
    });

  program
    .command('cleanup')
    .description('undo what runs that died without cleaning up (SIGKILL, OOM) left on the pod: their processes and pod changes, from the undo log on each node')
    .option('--pod <file>', 'pod.yaml of the pod; default: this checkout\'s lab pod, when it is up')
    .addOption(new Option('--host-key-policy <policy>', 'SSH host key checking').choices(['strict', 'accept-new']).default('strict'))
    .option('--known-hosts <file>', 'known_hosts file that accept-new appends to')
    .action(async (options: { pod?: string; hostKeyPolicy: 'strict' | 'accept-new'; knownHosts?: string }) => {
      setExit(await cleanupCommand(options));
    });

  const lab = program.command('lab').description('build, remove or inspect the embedded lab pod on this machine');
  lab
    .command('up')
    .description('lab up')
    .addOption(new Option('--guest <kind>', 'the guest: a QEMU VM each run launches, or a namespace on the host kernel').choices(['vm', 'namespace']).default('vm'))
    .option('--computes <n>', `compute groups, each a host namespace with its guest (1 to ${MAX_LAB_COMPUTES})`, (v: string) => {
      const n = positiveCount(v);
      if (n > MAX_LAB_COMPUTES) throw new InvalidArgumentError(`expected at most ${MAX_LAB_COMPUTES} compute groups, got ${n}`);
      return n;
    }, 1)
    .action(async (options: { guest: 'vm' | 'namespace'; computes: number }) => {
      setExit(await labCommand('up', options));
    });
  for (const action of ['down', 'status'] as const) {
    lab
      .command(action)
      .description(`lab ${action}`)
      .action(async () => {
        setExit(await labCommand(action));
      });
  }
  lab
    .command('image')
    .description("the lab guest's disk image, kernel and keys, cached in /var/cache/kvmfornfv/images")
    .addArgument(new Argument('<action>', 'build, status or remove').choices(['build', 'status', 'remove']))
    .action(async (action: 'build' | 'status' | 'remove') => {
      setExit(await labImageCommand(action));
    });
  return program;
}
