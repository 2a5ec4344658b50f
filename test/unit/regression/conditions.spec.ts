// Like with like, case arguments included: two runs whose generator, forwarder, search
// resolution, loss tolerance, cyclictest interval or priority, or interrupt period differ are
// not comparable, and the reason names the argument and both values.
import { expect } from 'chai';
import { evaluateRegression, type RegressionReport } from '../../../lib/regression/evaluate.ts';
import { readForwardingConditions, readTimerConditions } from '../../../lib/regression/conditions.ts';
import { extractForwardingFigures } from '../../../lib/regression/figures.ts';
import type { RunResult } from '../../../lib/results/model.ts';
import { buildCyclictestCommand } from '../../../lib/tools/cyclictest/command.ts';
import { forwardingOf, loadBaseline, loadLabOvsCase, timerOf, trialOf, withDeviceInterrupt, withRun } from './runs.ts';

const ID = {
  ndr64: 'ovs_dpdk_forwarding pod 64 B frames ndr',
  pdr64: 'ovs_dpdk_forwarding pod 64 B frames pdr',
  lat64: 'ovs_dpdk_forwarding pod 64 B frames, latency p99',
  guestP99: 'timer guest guest all threads p99',
  hostP99: 'timer host host all threads p99',
  wireP99: 'device_interrupt guest wire_to_handler p99',
};

const evaluate = (current: RunResult, baseline: RunResult = loadBaseline()): RegressionReport =>
  evaluateRegression({ current, baseline, profileSection: undefined, profileFile: 'thresholds.yaml' });
const reasonOf = (r: RegressionReport, id: string) => r.notCompared.find((n) => n.id === id && n.kind === 'not-comparable')?.reason;
const verdictOf = (r: RegressionReport, id: string) => r.compared.find((c) => c.id === id)?.verdict;

describe('regression/figures: conditions read from a recorded run', () => {
  it('finds generator, forwarder and search resolution where a real forwarding run records them', () => {
    const lab = loadLabOvsCase();
    expect(readForwardingConditions(lab.details)).to.deep.equal({
      'traffic generator (generator)': 'softgen',
      'forwarder (forwarder, forward_mode)': 'testpmd io',
      'search resolution (search_resolution_percent)': '1 %',
      // No guest the suite launched: the lab VNF is a namespace.
      'accelerator (accelerator)': 'none recorded',
    });
    const figures = extractForwardingFigures(lab).figures;
    expect(figures.find((f) => f.id === ID.ndr64)?.context.conditions).to.include({
      'direction (direction)': 'bidirectional', 'flows (flows)': '1', 'NDR loss tolerance (ndr_loss_percent)': '0.001 %',
    });
    expect(figures.find((f) => f.id === ID.pdr64)?.context.conditions).to.include({ 'PDR loss tolerance (pdr_loss_percent)': '0.1 %' });
    expect(figures.find((f) => f.id === ID.lat64)).to.deep.include({ value: 18_481_151, unit: 'ns' });
    expect(figures.find((f) => f.id === ID.lat64)?.context.conditions).to.include({ 'latency trial (latency_loads)': '90 % of NDR, both directions merged' });
  });

  it('keeps no latency figure from a latency trial the generator could not drive', () => {
    const lab = loadLabOvsCase();
    const entry = (lab.details.throughput as Array<{ frameSize: number; latency: Record<string, unknown> }>).find((t) => t.frameSize === 64)!;
    Object.assign(entry.latency, { valid: false, invalidReasons: ['forward: sent 40 % of the requested rate'] });
    const lat = extractForwardingFigures(lab).figures.find((f) => f.id === ID.lat64);
    expect(lat?.value).to.equal(null);
    expect(lat?.note).to.include('the generator could not drive the latency trial').and.include('sent 40 % of the requested rate');
  });

  it('reads the forwarder from the path\'s description when the case died before recording it', () => {
    const lab = loadLabOvsCase();
    delete lab.details.forwarder;
    expect(readForwardingConditions(lab.details)['forwarder (forwarder, forward_mode)']).to.equal('testpmd io');
    expect(readForwardingConditions({ forwarder: { kind: 'kernel', counters: {} } })['forwarder (forwarder, forward_mode)']).to.equal('kernel');
    expect(readForwardingConditions({ topology: { description: 'tgen:t0 → host:h0 → kernel IPv4 forwarding → host:h1 → tgen:t1' } })['forwarder (forwarder, forward_mode)']).to.equal('kernel');
    expect(readForwardingConditions({})).to.deep.equal({
      'traffic generator (generator)': null, 'forwarder (forwarder, forward_mode)': null, 'search resolution (search_resolution_percent)': null, 'accelerator (accelerator)': 'none recorded',
    });
  });

  it('reads interval and priority back from the cyclictest command the timer built, in every spelling', () => {
    const built = buildCyclictestCommand({ rtCpus: [2, 3], mainCpu: 0, durationS: 60, intervalUs: 250, priority: 95, jsonPath: '/tmp/c.json' }).argv.join(' ');
    expect(readTimerConditions(built)).to.deep.equal({ 'cyclictest interval (interval_us)': '250 us', 'cyclictest priority (priority)': '95' });
    expect(readTimerConditions('cyclictest -m --interval=500 --priority 80 -h 20000')).to.deep.equal({ 'cyclictest interval (interval_us)': '500 us', 'cyclictest priority (priority)': '80' });
    // cyclictest's defaults when the options are absent: 1000 us, priority 0 (not real-time).
    expect(readTimerConditions('cyclictest -m -q')).to.deep.equal({ 'cyclictest interval (interval_us)': '1000 us', 'cyclictest priority (priority)': '0' });
    expect(readTimerConditions(undefined)).to.deep.equal({ 'cyclictest interval (interval_us)': null, 'cyclictest priority (priority)': null });
  });
});

describe('regression/evaluate: like with like, case arguments', () => {
  const forwardingTable: Array<{ what: string; change: (run: RunResult) => void; ids: string[]; reason: string; stillCompared?: string }> = [
    {
      what: 'traffic generator',
      change: (run) => ((forwardingOf(run).details.generator as { name: string }).name = 'softgen'),
      ids: [ID.ndr64, ID.pdr64],
      reason: 'traffic generator (generator) differs: baseline trex, this run softgen',
    },
    {
      what: 'forward mode',
      change: (run) => ((forwardingOf(run).details.forwarder as { forwardMode: string }).forwardMode = 'macswap'),
      ids: [ID.ndr64, ID.pdr64],
      reason: 'forwarder (forwarder, forward_mode) differs: baseline testpmd io, this run testpmd macswap',
    },
    {
      what: 'forwarder',
      change: (run) => (forwardingOf(run).details.forwarder = { kind: 'kernel', counters: {} }),
      ids: [ID.ndr64],
      reason: 'forwarder (forwarder, forward_mode) differs: baseline testpmd io, this run kernel',
    },
    {
      what: 'NDR search resolution',
      change: (run) => ((forwardingOf(run).details.plan as { epsilonFraction: number }).epsilonFraction = 0.01),
      ids: [ID.ndr64, ID.pdr64],
      reason: 'search resolution (search_resolution_percent) differs: baseline 0.1 %, this run 1 %',
    },
    {
      what: 'NDR loss tolerance (PDR still compared)',
      change: (run) => ((trialOf(run, 64) as unknown as { ndr: { lossPercentLimit: number } }).ndr.lossPercentLimit = 0.01),
      ids: [ID.ndr64],
      reason: 'NDR loss tolerance (ndr_loss_percent) differs: baseline 0.001 %, this run 0.01 %',
      stillCompared: ID.pdr64,
    },
    {
      what: 'PDR loss tolerance (NDR still compared)',
      change: (run) => ((trialOf(run, 64) as unknown as { pdr: { lossPercentLimit: number } }).pdr.lossPercentLimit = 0.5),
      ids: [ID.pdr64],
      reason: 'PDR loss tolerance (pdr_loss_percent) differs: baseline 0.1 %, this run 0.5 %',
      stillCompared: ID.ndr64,
    },
    {
      what: 'direction',
      change: (run) => ((trialOf(run, 64) as unknown as { direction: string }).direction = 'one-way'),
      ids: [ID.ndr64, ID.pdr64],
      reason: 'direction (direction) differs: baseline bidirectional, this run one-way',
    },
    {
      what: 'flows',
      change: (run) => ((trialOf(run, 64) as unknown as { flows: number }).flows = 1024),
      ids: [ID.ndr64],
      reason: 'flows (flows) differs: baseline 1, this run 1024',
    },
  ];
  for (const row of forwardingTable) {
    it(`does not compare forwarding figures across a different ${row.what}, even when NDR halved`, () => {
      const r = evaluate(withRun((run) => {
        row.change(run);
        trialOf(run, 64).ndrPps = 5_000_000;
      }));
      for (const id of row.ids) expect(reasonOf(r, id)).to.include(row.reason);
      expect(r.compared.map((c) => c.id)).to.not.include.members(row.ids);
      if (row.stillCompared) expect(verdictOf(r, row.stillCompared)).to.be.oneOf(['pass', 'regression']);
      // Only a figure still compared can fail the gate: the halved NDR when only the PDR tolerance changed.
      expect(r.failing).to.equal(row.stillCompared === ID.ndr64);
    });
  }

  // The launched guest records `accelerator` (kvm or tcg); a result without it had no such guest.
  it('does not compare forwarding or timer figures across a different accelerator, and compares KVM with KVM', () => {
    const under = (accelerator: string | undefined, ndrPps = 10_000_000) => withRun((run) => {
      if (accelerator) {
        forwardingOf(run).details.accelerator = accelerator;
        (timerOf(run, 'guest') as unknown as Record<string, unknown>).accelerator = accelerator;
      }
      trialOf(run, 64).ndrPps = ndrPps;
    });
    const kvm = under('kvm');
    kvm.runId = 'kvm-baseline';
    const tcg = evaluate(under('tcg', 5_000_000), kvm);
    expect(reasonOf(tcg, ID.ndr64)).to.equal('accelerator (accelerator) differs: baseline kvm, this run tcg: figures of an emulated or another hypervisor are not KVM\'s');
    expect(reasonOf(tcg, ID.guestP99)).to.include('accelerator (accelerator) differs: baseline kvm, this run tcg');
    expect(tcg.failing).to.equal(false);
    expect(verdictOf(evaluate(under('kvm', 5_000_000), kvm), ID.ndr64)).to.equal('regression');
    // A run from before the launched guest (a namespace VNF) against one with a KVM guest: different systems.
    expect(reasonOf(evaluate(under(undefined), kvm), ID.ndr64)).to.include('baseline kvm, this run none recorded');
  });

  it('does not compare a latency taken at another share of the NDR (latency_loads), rather than calling it new and missing', () => {
    const onLab = (change: (details: Record<string, unknown>) => void = () => {}) =>
      withRun((run) => {
        const lab = loadLabOvsCase();
        change(lab.details);
        run.cases = [lab];
      });
    const baseline = onLab();
    baseline.runId = 'lab-baseline';
    expect(verdictOf(evaluate(onLab(), baseline), ID.lat64)).to.equal('pass');
    const r = evaluate(onLab((d) => ((d.throughput as { latency: { where: string } }[])[0]!.latency.where = '80 % of NDR, both directions merged')), baseline);
    expect(reasonOf(r, ID.lat64)).to.include('latency trial (latency_loads) differs: baseline 90 % of NDR, both directions merged, this run 80 % of NDR, both directions merged');
    expect(r.missing).to.deep.equal([]);
  });

  it('does not compare timer figures across a different cyclictest interval or priority', () => {
    const interval = evaluate(withRun((run) => {
      (timerOf(run, 'guest') as unknown as { command: string }).command = 'cyclictest -a 1 -m -p 99 -i 500 -l 60000 -t 1 -h 20000 -q';
      timerOf(run, 'guest').overall.summary.p99 = 60;
    }));
    expect(reasonOf(interval, ID.guestP99)).to.equal('cyclictest interval (interval_us) differs: baseline 1000 us, this run 500 us');
    expect(verdictOf(interval, ID.hostP99)).to.equal('pass');
    expect(interval.failing).to.equal(false);
    const priority = evaluate(withRun((run) => ((timerOf(run, 'guest') as unknown as { command: string }).command = 'cyclictest -a 1 -m -p80 -i1000 -q')));
    expect(reasonOf(priority, ID.guestP99)).to.equal('cyclictest priority (priority) differs: baseline 99, this run 80');
    const unrecorded = evaluate(withRun((run) => delete (timerOf(run, 'guest') as unknown as { command?: string }).command));
    expect(reasonOf(unrecorded, ID.guestP99)).to.include('cyclictest interval (interval_us) not recorded in this run');
  });

  it('compares device_interrupt latencies like with like: same period and priority compared, others not', () => {
    const baseline = withDeviceInterrupt(loadBaseline());
    const worse = evaluate(withRun((run) => withDeviceInterrupt(run, (d) => (d.wire_to_handler.summary!.p99 = 400_000))), baseline);
    expect(verdictOf(worse, ID.wireP99)).to.equal('regression');
    expect(worse.compared.filter((c) => c.caseName === 'device_interrupt')).to.have.length(4);
    const period = evaluate(withRun((run) => withDeviceInterrupt(run, (d) => (d.period_ns = 2_000_000))), baseline);
    expect(reasonOf(period, ID.wireP99)).to.equal('interrupt period (period_us) differs: baseline 1000 us, this run 2000 us');
    const priority = evaluate(withRun((run) => withDeviceInterrupt(run, (d) => (d.receiver.priority = 50))), baseline);
    expect(reasonOf(priority, ID.wireP99)).to.equal('receiver priority (priority) differs: baseline SCHED_FIFO 90, this run SCHED_FIFO 50');
  });
});
