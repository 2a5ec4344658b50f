import { expect } from 'chai';
import { ALL_CHECKS, type AuditEntry, type CheckDefinition } from '../../../lib/audit/index.ts';
import { DEFAULT_PREFLIGHT_POLICY, type PreflightPolicy } from '../../../lib/audit/severity.ts';
import { buildCheckFailure, judgeCheck, parsePreflightArgs, planPreflight } from '../../../lib/cases/preflight.ts';
import { ConfigError } from '../../../lib/errors.ts';
import { isThresholdFailure } from '../../../lib/verdict/limits.ts';
import { buildPreflightPod } from './preflight-fakes.ts';

const check = ALL_CHECKS.find((c) => c.id === 'runtime.watchdog') as CheckDefinition;
const failed: AuditEntry = { check, result: { outcome: 'fail', expected: 'kernel.watchdog = 0', found: 'kernel.watchdog = 1', fix: 'sysctl -w kernel.watchdog=0' } };
const passed: AuditEntry = { check, result: { outcome: 'pass', expected: 'kernel.watchdog = 0', found: 'kernel.watchdog = 0' } };
const unknown: AuditEntry = { check, result: { outcome: 'unknown', expected: 'kernel.watchdog = 0', found: 'not readable', reason: '/proc/sys/kernel/watchdog: permission denied' } };
const notApplicable: AuditEntry = { check, skipped: 'applies to host nodes, not tgen' };

describe('preflight: judging one check', () => {
  it('turns a failed blocking check into a failure that names expected, found and the fix', () => {
    const verdict = judgeCheck(failed, 'blocking');
    expect(verdict.status).to.equal('fail');
    expect(verdict.message).to.equal('runtime.watchdog failed: expected kernel.watchdog = 0, found kernel.watchdog = 1; fix: sysctl -w kernel.watchdog=0');
    expect(verdict.details).to.include(`why: ${check.why}`);
    expect(verdict.properties).to.deep.equal({ check: 'runtime.watchdog', category: 'runtime', severity: 'blocking', outcome: 'fail' });
    const error = buildCheckFailure(verdict);
    expect(isThresholdFailure(error), 'must map to a JUnit <failure>, not an <error>').to.equal(true);
    expect(error.message.split('\n')[0]).to.equal(verdict.message);
  });

  it('turns a failed advisory check into a pass that carries its finding', () => {
    const verdict = judgeCheck(failed, 'advisory');
    expect(verdict.status).to.equal('pass');
    expect(verdict.properties).to.include({ severity: 'advisory', outcome: 'fail' });
    expect(verdict.systemOut).to.match(/^advisory: runtime\.watchdog failed: expected kernel\.watchdog = 0, found kernel\.watchdog = 1; fix: sysctl -w kernel\.watchdog=0\n/);
  });

  it('never passes a check it could not decide: unknown is a skip with the reason, whatever the severity', () => {
    for (const severity of ['blocking', 'advisory'] as const) {
      const verdict = judgeCheck(unknown, severity);
      expect(verdict.status).to.equal('skip');
      expect(verdict.message).to.equal('could not be decided: /proc/sys/kernel/watchdog: permission denied (found: not readable)');
      expect(verdict.properties.outcome).to.equal('unknown');
    }
  });

  it('skips a check that does not apply, saying why', () => {
    const verdict = judgeCheck(notApplicable, 'blocking');
    expect(verdict).to.deep.include({ status: 'skip', message: 'does not apply: applies to host nodes, not tgen' });
    expect(verdict.properties.outcome).to.equal('not-applicable');
  });

  it('passes a passing check at either severity', () => {
    expect(judgeCheck(passed, 'blocking').status).to.equal('pass');
    expect(judgeCheck(passed, 'advisory').status).to.equal('pass');
    expect(judgeCheck(passed, 'blocking').systemOut).to.include('found: kernel.watchdog = 0');
  });
});

describe('preflight: planning nodes and checks', () => {
  const policy: PreflightPolicy = { blocking: true, default: 'blocking', checks: { 'runtime.ksm': 'off', 'forwarding.*': 'advisory' } };

  it('lists every check but the off ones for host and guest, and only its own checks for a traffic generator', () => {
    const planned = planPreflight({ pod: buildPreflightPod(), policy, args: parsePreflightArgs({}) });
    expect(planned.map((p) => p.node.name)).to.deep.equal(['host', 'guest', 'tgen']);
    const [host, guest, tgen] = planned;
    expect(host?.checks.map((c) => c.check.id)).to.deep.equal(ALL_CHECKS.map((c) => c.id).filter((id) => id !== 'runtime.ksm'));
    expect(host?.off.map((c) => c.id)).to.deep.equal(['runtime.ksm']);
    expect(guest?.checks).to.have.length(ALL_CHECKS.length - 1);
    expect(tgen?.checks.map((c) => c.check.id)).to.deep.equal(['forwarding.nic-driver', 'forwarding.vfio-binding', 'forwarding.sriov-vfs', 'forwarding.nic-numa']);
    expect(tgen?.checks.every((c) => c.severity === 'advisory')).to.equal(true);
    expect(guest?.context.dataPorts).to.deep.equal([{ name: 'v0', pci: '0000:00:05.0', binding: 'vfio-pci' }]);
  });

  it('passes the hugepage settings and the SR-IOV functions of pod.yaml into the node context', () => {
    const pod = buildPreflightPod();
    const host = pod.nodes[0] as (typeof pod.nodes)[number];
    host.ports = [{ name: 'pf0', pci: '0000:18:00.1', interface: 'ens1f1' }];
    host.extra = { sriov_pfs: [{ port: 'pf0', min_vfs: 4 }] };
    const [planned] = planPreflight({ pod, policy: DEFAULT_PREFLIGHT_POLICY, args: parsePreflightArgs({ min_free_hugepages: 2, hugepage_size_kb: 1048576 }) });
    expect(planned?.context.usesSriov).to.equal(true);
    expect(planned?.context.sriovPfs).to.deep.equal([{ port: 'pf0', minVfs: 4, pci: '0000:18:00.1', interface: 'ens1f1' }]);
    expect(planned?.context.hugepages).to.deep.equal({ minFreePerNode: 2, sizeKb: 1048576 });
  });

  it('rejects SR-IOV functions that name no data port of the node, or are malformed', () => {
    const pod = buildPreflightPod();
    (pod.nodes[0] as (typeof pod.nodes)[number]).extra = { sriov_pfs: [{ port: 'pf9', min_vfs: 2 }] };
    expect(() => planPreflight({ pod, policy: DEFAULT_PREFLIGHT_POLICY, args: parsePreflightArgs({}) }))
      .to.throw(ConfigError, 'port "pf9" is not a data port of host; expected one of (none)');
    (pod.nodes[0] as (typeof pod.nodes)[number]).extra = { sriov_pfs: [{ port: 'pf0', min_vfs: 0 }] };
    expect(() => planPreflight({ pod, policy: DEFAULT_PREFLIGHT_POLICY, args: parsePreflightArgs({}) })).to.throw(ConfigError, 'nodes.host.extra.sriov_pfs[0].min_vfs');
  });

  it('rejects run.args it does not know or cannot use', () => {
    expect(() => parsePreflightArgs({ min_free_hugepage: 1 })).to.throw(ConfigError, 'preflight.run.args.min_free_hugepage: unknown key');
    expect(() => parsePreflightArgs({ min_free_hugepages: 0 })).to.throw(ConfigError, 'preflight.run.args.min_free_hugepages: expected a number >= 1, got 0');
    expect(parsePreflightArgs({})).to.deep.equal({ min_free_hugepages: 1 });
  });
});
