// testcases/preflight.spec.ts under the real runner, with fake nodes answering the snapshot
// script from node trees: which JUnit tests it declares and how each ends, for every
// outcome × severity, plus unreachable nodes, unreadable output, a dry run and a bad profile.
import { loadThresholds } from '../../../lib/config/thresholds.ts';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { ALL_CHECKS } from '../../../lib/audit/index.ts';
import type { PodNode } from '../../../lib/config/pod-model.ts';
import type { CaseResult } from '../../../lib/results/model.ts';
import { runCase } from '../../../lib/harness/run-case.ts';
import { buildFakeScope } from '../../support/fake-scope.ts';
import type { FakeNodeSession } from '../../support/fake-node-session.ts';
import {
  buildPreflightPod,
  buildSnapshotSession,
  copyPreflightSuite,
  loadTree,
  preflightCase,
  renderSnapshotOutput,
  THRESHOLD_FIXTURES,
  type FakeAnswer,
} from './preflight-fakes.ts';

async function runPreflight(options: { profile: string; answers: Record<string, FakeAnswer>; dryRun?: boolean }) {
  const pod = buildPreflightPod();
  const sessions = new Map(pod.nodes.map((n) => [n.name, buildSnapshotSession(n, options.answers[n.name] ?? new Error(`no answer for ${n.name}`))]));
  const suite = await copyPreflightSuite();
  let runDir: string | undefined;
  try {
    const scope = await buildFakeScope({
      pod,
      thresholds: loadThresholds(options.profile),
      dryRun: options.dryRun ?? false,
      session: async (node: PodNode) => sessions.get(node.name) as FakeNodeSession,
      suitesDir: suite.dir,
    });
    runDir = scope.runDir;
    const result = await runCase(scope, preflightCase());
    return { result, sessions };
  } finally {
    await suite.remove();
    if (runDir) await rm(runDir, { recursive: true, force: true });
  }
}

function statuses(result: CaseResult, node: string): Record<string, string> {
  return Object.fromEntries(result.testcases.filter((t) => t.title.startsWith(`${node}: `)).map((t) => [t.title.slice(node.length + 2).split(' ')[0], t.status]));
}

const titleOf = (node: string, id: string) => `${node}: ${id} ${ALL_CHECKS.find((c) => c.id === id)?.title}`;

describe('testcases/preflight.spec.ts under the runner', function () {
  this.timeout(20_000);

  describe('recorded lab host, tuned guest, unreachable generator; severities from preflight-mixed.yaml', () => {
    let result: CaseResult;
    let sessions: Map<string, FakeNodeSession>;

    before(async () => {
      const refused = Object.assign(new Error('connect ECONNREFUSED 192.0.2.30:22'), { code: 'ECONNREFUSED' });
      ({ result, sessions } = await runPreflight({
        profile: join(THRESHOLD_FIXTURES, 'preflight-mixed.yaml'),
        answers: { host: await loadTree('lab-host'), guest: await loadTree('rt-tuned-guest'), tgen: refused },
      }));
    });

    it('maps each outcome × severity of the lab host to its JUnit status, and declares no off check', () => {
      // Outcomes: test/unit/audit/lab-host.spec.ts. kernel.preempt-rt and cmdline.* (but iommu) are advisory.
      expect(statuses(result, 'host')).to.deep.equal({
        'kernel.preempt-rt': 'pass', // fail, advisory
        'cmdline.isolcpus': 'pass',
        'cmdline.nohz-full': 'pass',
        'cmdline.rcu-nocbs': 'pass',
        'cmdline.cstates': 'pass',
        'cmdline.pstate': 'skip', // unknown
        'cmdline.tsc-reliable': 'pass',
        'cmdline.hugepages': 'pass',
        'cmdline.iommu': 'skip', // does not apply (no SR-IOV)
        'runtime.hugepages-free': 'fail', // fail, blocking
        'runtime.governor': 'skip',
        'runtime.cpuidle': 'fail',
        'runtime.irq-affinity': 'fail',
        'runtime.housekeeping': 'pass',
        'runtime.irqbalance': 'pass',
        'runtime.watchdog': 'fail',
        'runtime.nmi-watchdog': 'pass',
        'runtime.rt-throttling': 'fail',
        'runtime.fair-server': 'skip',
        'runtime.timer-migration': 'fail',
        'runtime.thp': 'fail',
        'guest-placement.vcpu-pinning': 'skip',
        'guest-placement.emulator-pinning': 'skip',
        'guest-placement.memory-locked': 'skip',
        'guest-placement.hugepage-backing': 'skip',
        'guest-placement.cpu-model': 'skip',
        'guest-placement.ovs-pmd-cpus': 'skip',
        'guest-placement.vnf-vcpu-pinning': 'skip',
        'guest-placement.vhost-user-memory': 'skip',
        'forwarding.nic-driver': 'skip',
        'forwarding.vfio-binding': 'skip',
        'forwarding.sriov-vfs': 'skip',
        'forwarding.nic-numa': 'skip',
      });
    });

    it('titles each test "<node>: <check id> <title>" under kvmfornfv.preflight.preflight', () => {
      const titles = result.testcases.map((t) => t.title);
      expect(titles).to.include('host: kernel.preempt-rt PREEMPT_RT kernel');
      expect(titles.filter((t) => t.startsWith('host: '))).to.have.length(ALL_CHECKS.length - 1);
      expect(result.testcases.every((t) => t.classname === 'kvmfornfv.preflight.preflight')).to.equal(true);
    });

    it('shows a failed advisory check as a pass with severity=advisory and its finding', () => {
      const t = result.testcases.find((c) => c.title === titleOf('host', 'kernel.preempt-rt'));
      expect(t?.properties).to.include({ check: 'kernel.preempt-rt', severity: 'advisory', outcome: 'fail' });
      expect(t?.systemOut).to.match(/^advisory: kernel\.preempt-rt failed: expected a PREEMPT_RT kernel.*found uname -r 6\.18\.44-fc-v669.*; fix: boot a PREEMPT_RT kernel/);
    });

    it('shows a failed blocking check as a <failure> naming expected, found and the exact fix', () => {
      const t = result.testcases.find((c) => c.title === titleOf('host', 'runtime.cpuidle'));
      expect(t?.status).to.equal('fail');
      expect(t?.message).to.match(/^runtime\.cpuidle failed: expected .*, found .*; fix: cpupower -c 1 idle-set -D 0$/);
      expect(t?.details).to.include('why: ');
      expect(t?.properties).to.include({ severity: 'blocking', outcome: 'fail' });
    });

    it('skips an undecidable check and a check that does not apply, each with its reason', () => {
      const fair = result.testcases.find((c) => c.title === titleOf('host', 'runtime.fair-server'));
      expect(fair?.message).to.match(/^could not be decided: .*fair_server/);
      const iommu = result.testcases.find((c) => c.title === titleOf('host', 'cmdline.iommu'));
      expect(iommu?.message).to.equal('does not apply: applies only where SR-IOV is used');
      const governor = result.testcases.find((c) => c.title === titleOf('guest', 'runtime.governor'));
      expect(governor?.message).to.equal('does not apply: applies to host nodes, not guest');
    });

    it('passes every check that applies on the tuned guest, DPDK port included', () => {
      const guest = statuses(result, 'guest');
      expect(guest['forwarding.nic-driver']).to.equal('pass');
      expect(guest['kernel.preempt-rt']).to.equal('pass');
      expect(Object.values(guest).filter((s) => s !== 'pass' && s !== 'skip')).to.deep.equal([]);
      expect(Object.values(guest).filter((s) => s === 'pass')).to.have.length(21);
    });

    it('makes every check of an unreachable node an error carrying the cause', () => {
      const tgen = result.testcases.filter((t) => t.title.startsWith('tgen: '));
      expect(tgen.map((t) => t.title)).to.deep.equal(['forwarding.nic-driver', 'forwarding.vfio-binding', 'forwarding.sriov-vfs', 'forwarding.nic-numa'].map((id) => titleOf('tgen', id)));
      for (const t of tgen) {
        expect(t.status).to.equal('error');
        expect(t.message).to.include('ECONNREFUSED 192.0.2.30:22');
      }
      expect(result.status).to.equal('error');
    });

    it('records every check of every node in details, off ones included, and keeps the raw snapshot', () => {
      const host = result.details.host as { role: string; kernelRelease: string; snapshot: string; checks: Array<Record<string, string>> };
      expect(host.role).to.equal('host');
      expect(host.kernelRelease).to.equal('6.18.44-fc-v669');
      expect(host.checks.map((c) => c.id)).to.have.members(ALL_CHECKS.map((c) => c.id));
      expect(host.checks.find((c) => c.id === 'runtime.ksm')).to.deep.equal({ id: 'runtime.ksm', title: 'KSM off', category: 'runtime', severity: 'off', outcome: 'off' });
      expect(host.checks.find((c) => c.id === 'runtime.watchdog')).to.include({ severity: 'blocking', outcome: 'fail', status: 'fail' }).and.have.property('fix').that.matches(/kernel\.watchdog = 0/);
      expect(host.checks.find((c) => c.id === 'kernel.preempt-rt')).to.include({ severity: 'advisory', outcome: 'fail', status: 'pass' });
      expect(host.checks.find((c) => c.id === 'runtime.governor')).to.include({ outcome: 'unknown', status: 'skip' }).and.have.property('reason');
      expect(result.details.tgen).to.deep.include({ role: 'tgen' }).and.have.property('error').that.includes('ECONNREFUSED');
      expect(result.rawOutputs).to.include.members(['preflight/host/snapshot.txt', 'preflight/host/snapshot.sh', 'preflight/guest/snapshot.txt']);
      expect(host.snapshot).to.equal('preflight/host/snapshot.txt');
    });

    it('sends each node one privileged snapshot script and nothing else', () => {
      for (const name of ['host', 'guest']) {
        const calls = sessions.get(name)?.calls ?? [];
        expect(calls.map((c) => c.kind)).to.deep.equal(['exec']);
        const call = calls[0] as { command: string; options: { privileged?: boolean } };
        expect(call.command).to.match(/^B=KFNSNAP-[0-9a-f]+\n/);
        expect(call.options.privileged).to.equal(true);
      }
      expect(sessions.get('guest')?.calls[0]).to.have.property('command').that.includes("'/sys/bus/pci/devices/0000:00:05.0/driver'");
    });
  });

  it('makes unreadable snapshot output and a refused command errors, never passes', async () => {
    const tree = await loadTree('rt-tuned-guest');
    const truncated = renderSnapshotOutput(tree, 'KFNSNAP-truncated').split('\n').slice(0, 40).join('\n');
    const { result } = await runPreflight({
      profile: 'lab',
      answers: {
        host: { stdout: truncated },
        guest: { stdout: '', stderr: 'sudo: a password is required\n', exitCode: 1 },
        tgen: tree,
      },
    });
    const byNode = (node: string) => result.testcases.filter((t) => t.title.startsWith(`${node}: `));
    expect(byNode('host').every((t) => t.status === 'error' && /no "==> KFNSNAP-[0-9a-f]+ begin" line/.test(t.message ?? ''))).to.equal(true);
    expect(byNode('guest').every((t) => t.status === 'error' && /node snapshot.*exit/i.test(t.message ?? ''))).to.equal(true);
    expect(byNode('host')).to.have.length(ALL_CHECKS.length);
    expect(result.details.guest).to.have.property('error').that.includes('sudo: a password is required');
  });

  it('in a dry run issues the snapshot script on each node and measures nothing', async () => {
    const pod = buildPreflightPod();
    const { result, sessions } = await runPreflight({ profile: 'lab', dryRun: true, answers: Object.fromEntries(pod.nodes.map((n) => [n.name, { stdout: '' }])) });
    expect(result.testcases.length).to.be.greaterThan(ALL_CHECKS.length);
    expect(result.testcases.every((t) => t.status === 'skip' && /dry run/.test(t.message ?? ''))).to.equal(true);
    for (const s of sessions.values()) expect(s.calls.map((c) => c.kind)).to.deep.equal(['exec']);
    expect(result.rawOutputs).to.deep.equal([]);
  });

  it('reports a profile with a bad preflight: section as an error that names the file and the field', async () => {
    const file = join(THRESHOLD_FIXTURES, 'preflight-bad-value.yaml');
    const { result } = await runPreflight({ profile: file, answers: {} });
    expect(result.status).to.equal('error');
    expect(result.testcases[0]?.message).to.include('could not be loaded').and.include(`${file}: preflight.default: expected one of blocking, advisory, off, got "warn"`);
  });
});
