// testcases/device-interrupt.spec.ts under the real runner, with fake nodes: the JUnit tests it
// declares and how each ends, including the limits a declared clock case cannot give.
// Node caches an ES module once per process, so the suite file can be run only once here:
// one run covers pass, skip and fail (the lab-pod procedure is tested in device-interrupt-measure).
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import type { Pod } from '../../../lib/config/pod-model.ts';
import type { Limit } from '../../../lib/config/thresholds.ts';
import { runCase } from '../../../lib/harness/run-case.ts';
import { buildStreamId } from '../../../lib/tools/irq-agent/command.ts';
import { buildTestProfile, buildFakeScope, catalogueCase } from '../../support/fake-scope.ts';
import { buildFakeNode, FakeNodeSession } from '../../support/fake-node-session.ts';
import { buildLabPod, fixtureLine } from './device-interrupt-fakes.ts';

const RUN_ID = 'suite-run';
const SUITES = new URL('../../../testcases/', import.meta.url).pathname;

function sessionsFor(pod: Pod, outputs: { gen: string; recv: string }) {
  const make = (name: string) =>
    new FakeNodeSession(buildFakeNode({ name }), {
      exec: (c) => {
        if (c.includes('kfn-agent-cache')) return { stdout: 'kfn-agent-cache hit\t/var/cache/kvmfornfv/agents\n' };
        if (c.endsWith('--version')) return { stdout: 'kfn-irq 1.0.0\n' };
        if (c.includes("grep -q '^kfn-irqrecv: ready '")) return { stdout: 'kfn-irqrecv: ready 198.19.7.2:47900\n' };
        return undefined;
      },
      outcome: (n) => ({ exitCode: 0, stdout: n.startsWith('kfn-irqgen') ? outputs.gen : outputs.recv }),
    });
  const sessions = new Map(pod.nodes.map((n) => [n.name, make(n.name)]));
  return async (node: { name: string }) => sessions.get(node.name)!;
}

async function runSuite(options: { pod: Pod; args: Record<string, unknown>; limits: Limit[]; outputs: { gen: string; recv: string } }) {
  const scope = await buildFakeScope({
    runId: RUN_ID,
    pod: options.pod,
    thresholds: buildTestProfile(options.limits),
    session: sessionsFor(options.pod, options.outputs),
    suitesDir: SUITES,
    hookTimeoutMs: 20_000,
  });
  try {
    return await runCase(scope, { ...catalogueCase('device-interrupt', 'device_interrupt'), args: options.args });
  } finally {
    rmSync(scope.runDir, { recursive: true, force: true });
  }
}

const limit = (metric: string, max: number, unit: Limit['unit'], action: Limit['action'] = 'assert'): Limit => ({ metric, max, unit, action });

describe('testcases/device-interrupt.spec.ts under the runner', function () {
  this.timeout(30_000);

  it('on a real pod with unsynchronised clocks: wire-to-handler and late limits are skipped with the reason, the rest judged (and can fail)', async () => {
    const stream = (d: Record<string, any>) => void (d.stream_id = buildStreamId(RUN_ID));
    const pod: Pod = { ...buildLabPod(7), lab: false, name: 'intel-pod10' };
    const result = await runSuite({
      pod,
      args: { duration_s: 0.6, period_us: 2000 },
      limits: [
        limit('wire_to_handler_p99', 1000, 'us'),
        limit('receive_to_handler_p99', 10, 'ms'),
        limit('missed', 0, 'count'),
        limit('late', 0, 'count'),
        limit('receive_to_handler_max', 10, 'us'),
      ],
      outputs: { gen: fixtureLine('unsync-stray.irqgen.json', stream), recv: fixtureLine('unsync-stray.irqrecv.json', stream) },
    });
    const rows = result.testcases.map((t) => [t.title, t.status]);
    expect(rows).to.deep.equal([
      ['tgen -> guest: kfn-irqrecv measured the interrupts', 'pass'],
      ['tgen -> guest: wire_to_handler_p99 ≤ 1000 us (assert)', 'skip'],
      ['tgen -> guest: receive_to_handler_p99 ≤ 10 ms (assert)', 'pass'],
      ['tgen -> guest: missed ≤ 0 (assert)', 'pass'],
      ['tgen -> guest: late ≤ 0 (assert)', 'skip'],
      ['tgen -> guest: receive_to_handler_max ≤ 10 us (assert)', 'fail'],
    ]);
    expect(result.status).to.equal('fail');
    expect(result.testcases[5]!.message).to.match(/^tgen -> guest receive_to_handler: receive_to_handler_max [\d.]+ us > limit 10 us/);
    expect(result.testcases[1]!.message).to.match(/clock_domain is unsynchronised/);
    const measured = result.testcases[0]!;
    expect(measured.properties).to.deep.include({ clock_case: 'unsynchronised', device: 'NIC port gi (gi) of guest; software receive timestamps' });
    expect(measured.systemOut).to.contain('wire_to_handler: not computed');
    expect(result.details.guest).to.have.nested.property('clock_case.domain', 'unsynchronised');
    expect(result.rawOutputs).to.have.length(4);
    expect(result.details.guest).to.have.nested.property('receive_to_handler.buckets').that.is.not.empty;
  });
});
