import { listCaseMetrics } from '../../../lib/cases/metrics.ts';
import { expect } from 'chai';
import type { Pod } from '../../../lib/config/pod-model.ts';
import { ConfigError } from '../../../lib/errors.ts';
import { buildDeviceInterruptFigures, buildDeviceInterruptReport, DEVICE_INTERRUPT_METRICS, type DeviceInterruptMeasurement } from '../../../lib/cases/device-interrupt.ts';
import { explainWithheldLimit, LAB_DEVICE, LAB_VM_DEVICE, parseDeviceInterruptArgs, planDeviceInterrupt, type DeviceInterruptPlan } from '../../../lib/cases/device-interrupt-plan.ts';
import { buildDeviceInterruptDetails } from '../../../lib/tools/irq-agent/details.ts';
import { parseIrqGenSummary, parseIrqRecvSummary } from '../../../lib/tools/irq-agent/parse.ts';
import { loadThresholds } from '../../../lib/config/thresholds.ts';
import { LATENCY_METRICS } from '../../../lib/cases/latency-figures.ts';
import { evaluateLimit } from '../../../lib/verdict/limits.ts';
import { buildLabPod, fixtureLine } from './device-interrupt-fakes.ts';

function configIssues(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  expect.fail('expected a ConfigError');
}

function planOf(pod: Pod, raw: Record<string, unknown> = {}): DeviceInterruptPlan {
  const r = planDeviceInterrupt(pod, parseDeviceInterruptArgs(raw));
  if ('skip' in r) expect.fail(`unexpected skip: ${r.skip}`);
  return r.plan;
}

/** The lab pod turned into a real pod: same nodes and wiring, not one kernel. */
function realPod(): Pod {
  return { ...buildLabPod(), lab: false, name: 'intel-pod10' };
}

describe('cases/device-interrupt args', () => {
  it('defaults to the test plan: 1 ms for 60 s, receiver at priority 95', () => {
    const a = parseDeviceInterruptArgs({});
    expect(a).to.deep.include({ period_us: 1000, duration_s: 60, priority: 95, udp_port: 47_900, load: 'idle', load_node: 'host', hw_timestamps: false });
    expect(a.clock_domain).to.equal(undefined);
  });

  const bad: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['a period that is not a number', { period_us: 'x' }, 'device_interrupt.run.args.period_us', /expected a number/],
    ['a period below 10 us', { period_us: 5 }, 'device_interrupt.run.args.period_us', />= 10/],
    ['a misspelt key', { perod_us: 1000 }, 'device_interrupt.run.args.perod_us', /unknown key/],
    ['a host name as dest', { dest: 'guest.example' }, 'device_interrupt.run.args.dest', /numeric IPv4 or IPv6/],
    ['an unknown clock domain', { clock_domain: 'ntp' }, 'device_interrupt.run.args.clock_domain', /same-host, ptp, unsynchronised/],
    ['ptp without an offset', { clock_domain: 'ptp' }, 'device_interrupt.run.args.clock_offset_ns', /measured residual offset/],
    ['an offset without ptp', { clock_domain: 'unsynchronised', clock_offset_ns: 5 }, 'device_interrupt.run.args.clock_offset_ns', /only with clock_domain ptp/],
    ['seq 0 to withhold', { skip_seq: [0] }, 'device_interrupt.run.args.skip_seq[0]', />= 1/],
    ['a bad load CPU list', { load: 'cpu', load_cpus: '3-1' }, 'device_interrupt.run.args.load_cpus', /./],
    ['priority 100', { priority: 100 }, 'device_interrupt.run.args.priority', /<= 99/],
  ];
  for (const [what, raw, path, message] of bad) {
    it(`refuses ${what}, naming the field`, () => {
      const issues = configIssues(() => parseDeviceInterruptArgs(raw));
      expect(issues.map((i) => i.path)).to.deep.equal([path]);
      expect(issues[0]!.message).to.match(message);
    });
  }
});

describe('cases/device-interrupt plan', () => {
  it('on the lab: guest receives on gi from tgen ti, same-host clocks, generator on a housekeeping CPU', () => {
    const p = planOf(buildLabPod(7));
    expect([p.receiver.name, p.generator.name, p.dest, p.guestPort?.name, p.generatorIface]).to.deep.equal(['guest', 'tgen', '198.19.7.2', 'gi', 'ti']);
    expect([p.receiverCpu, p.generatorCpu, p.clockDomain, p.device]).to.deep.equal([1, 0, 'same-host', LAB_DEVICE]);
  });

  it('on the lab with a VM guest: the VM receives on its virtio-net gi, clocks unsynchronised, never same-host', () => {
    const pod = buildLabPod(7, 'vm');
    const p = planOf(pod);
    expect([p.receiver.name, p.generator.name, p.dest, p.guestPort?.name, p.generatorIface]).to.deep.equal(['guest', 'tgen', '198.19.7.2', 'gi', 'ti']);
    expect([p.receiverCpu, p.clockDomain, p.device]).to.deep.equal([1, 'unsynchronised', LAB_VM_DEVICE]);
    const issues = configIssues(() => planOf(pod, { clock_domain: 'same-host' }));
    expect(issues.map((i) => i.path)).to.deep.equal(['device_interrupt.run.args.clock_domain']);
    expect(issues[0]!.message).to.match(/the guest guest is a VM with a clock of its own/);
  });

  it('prefers the port named in guest_port, and takes dest from the case args over the pod', () => {
    const pod = buildLabPod(7);
    const guest = pod.nodes.find((n) => n.name === 'guest')!;
    guest.extra = { ...guest.extra, port_addresses: { gi: '198.19.7.2/30', g0: '10.0.0.2/24' } };
    const p = planOf(pod, { guest_port: 'g0' });
    expect([p.guestPort?.name, p.dest, p.generatorIface]).to.deep.equal(['g0', '10.0.0.2', 't2']);
    expect(planOf(pod, { guest_port: 'g0', dest: '10.9.9.9' }).dest).to.equal('10.9.9.9');
  });

  it('refuses a guest_port the guest does not have, and a port with no address, naming what to set', () => {
    const issues = configIssues(() => planOf(buildLabPod(), { guest_port: 'eth9' }));
    expect(issues[0]).to.deep.include({ path: 'device_interrupt.run.args.guest_port' });
    expect(issues[0]!.message).to.match(/no port "eth9" on node guest; expected one of g0, g1, gi/);
    const noAddress = configIssues(() => planOf(buildLabPod(), { guest_port: 'g1' }));
    expect(noAddress[0]!.path).to.equal('device_interrupt.run.args.dest');
    expect(noAddress[0]!.message).to.match(/port g1 of guest has no address in extra\.port_addresses/);
  });

  it('uses the host as generator when the pod has no tgen, and needs dest when nothing is cabled to it', () => {
    const pod = buildLabPod();
    const noTgen = { ...pod, nodes: pod.nodes.filter((n) => n.role !== 'tgen') };
    const issues = configIssues(() => planOf(noTgen));
    expect(issues[0]!.message).to.match(/no port of guest is cabled to host/);
    const p = planOf(noTgen, { dest: '192.0.2.7' });
    expect([p.generator.name, p.dest, p.generatorIface]).to.deep.equal(['host', '192.0.2.7', undefined]);
    expect(configIssues(() => planOf(noTgen, { dest: '192.0.2.7', hw_timestamps: true }))[0]!.path).to.equal('device_interrupt.run.args.hw_timestamps');
  });

  it("takes the node the guest's port is cabled to as generator: its own host, when it can send, rather than a shared tgen", () => {
    const pod = realPod();
    const cabledToHost = {
      ...pod,
      nodes: pod.nodes.map((n) => {
        if (n.name === 'guest') return { ...n, ports: n.ports.map((p) => (p.name === 'gi' ? { ...p, peer: 'host:hg' } : p)) };
        if (n.name === 'host') return { ...n, ports: [...n.ports, { name: 'hg', interface: 'hg', peer: 'guest:gi' }] };
        return n;
      }),
    };
    const p = planOf(cabledToHost);
    expect([p.generator.name, p.generatorIface, p.dest]).to.deep.equal(['host', 'hg', '198.19.7.2']);
    // Named in the case args, the generator is that node whatever the cabling.
    expect(planOf(cabledToHost, { generator_node: 'tgen', dest: '198.19.7.2' }).generator.name).to.equal('tgen');
    expect(planOf(pod).generator.name).to.equal('tgen');
  });

  it('skips, with the reason, a pod without a guest or without a node to generate', () => {
    const pod = buildLabPod();
    expect(planDeviceInterrupt({ ...pod, nodes: pod.nodes.filter((n) => n.role !== 'guest') }, parseDeviceInterruptArgs({}))).to.deep.equal({
      skip: `pod ${pod.name} has no guest node to receive the interrupts`,
    });
    const onlyGuest = { ...pod, nodes: pod.nodes.filter((n) => n.role === 'guest') };
    expect(planDeviceInterrupt(onlyGuest, parseDeviceInterruptArgs({}))).to.have.property('skip').that.matches(/no tgen or host node/);
  });

  it('on a real pod: unsynchronised by default, refuses same-host, takes ptp with an offset, pins the generator to its RT CPU', () => {
    const p = planOf(realPod());
    expect([p.clockDomain, p.generatorCpu]).to.deep.equal(['unsynchronised', 1]);
    expect(p.device).to.equal('NIC port gi (gi) of guest');
    const issues = configIssues(() => planOf(realPod(), { clock_domain: 'same-host' }));
    expect(issues[0]!.path).to.equal('device_interrupt.run.args.clock_domain');
    expect(issues[0]!.message).to.match(/share one kernel/);
    const ptp = planOf(realPod(), { clock_domain: 'ptp', clock_offset_ns: -1200 });
    expect([ptp.clockDomain, ptp.clockOffsetNs]).to.deep.equal(['ptp', -1200]);
  });
});

describe('cases/device-interrupt figures for the limits', () => {
  const measurement = (recvFixture: string, genFixture: string, device = LAB_DEVICE): DeviceInterruptMeasurement => {
    const gen = parseIrqGenSummary(fixtureLine(genFixture));
    const recv = parseIrqRecvSummary(fixtureLine(recvFixture));
    return { receiverNode: 'guest', generatorNode: 'tgen', durationS: 2, load: 'idle', details: buildDeviceInterruptDetails({ gen, recv, device }) };
  };
  const limit = (metric: string, max: number, unit: 'us' | 'count' = 'us') => ({ metric, max, unit, action: 'assert' as const });

  it('judges wire-to-handler p99 and max in ns against limits in us, and missed without the withheld frames', () => {
    const m = measurement('loopback-skip2.irqrecv.json', 'loopback-skip2.irqgen.json');
    expect(buildDeviceInterruptFigures('wire_to_handler_p99', m)).to.deep.equal([{ value: 76287, unit: 'ns', where: 'tgen -> guest wire_to_handler' }]);
    expect(evaluateLimit(limit('wire_to_handler_max', 200), buildDeviceInterruptFigures('wire_to_handler_max', m)).outcome).to.equal('fail');
    expect(evaluateLimit(limit('wire_to_handler_max', 300), buildDeviceInterruptFigures('wire_to_handler_max', m)).outcome).to.equal('pass');
    expect(buildDeviceInterruptFigures('receive_to_handler_p50', m)[0]!.value).to.equal(37631);
    // 2 frames withheld on purpose, 2 missed: no interrupt was lost.
    expect(m.details.counts).to.deep.include({ withheld: 2, missed_seqs: 2, missed: 0 });
    expect(buildDeviceInterruptFigures('missed', m)).to.deep.equal([{ value: 0, unit: 'count', where: 'tgen -> guest' }]);
    expect(buildDeviceInterruptFigures('late', m)[0]!.value).to.equal(0);
    expect(buildDeviceInterruptFigures('pacing_error_max', m)[0]).to.deep.include({ value: 90110, where: 'tgen kfn-irqgen pacing' });
  });

  it('gives no value (so never a pass) for a figure not computed, or a metric it does not know', () => {
    const m = measurement('unsync-stray.irqrecv.json', 'unsync-stray.irqgen.json');
    const [w] = buildDeviceInterruptFigures('wire_to_handler_p99', m);
    expect(w!.value).to.equal(null);
    expect(w!.note).to.match(/unsynchronised/);
    expect(evaluateLimit(limit('wire_to_handler_p99', 1e9), [w!]).outcome).to.equal('unknown');
    expect(buildDeviceInterruptFigures('late', m)[0]!.value).to.equal(null);
    expect(buildDeviceInterruptFigures('stray', m)[0]!.value).to.equal(5);
    const [unknown] = buildDeviceInterruptFigures('wire_to_handler_p42', m);
    expect(unknown!.value).to.equal(null);
    expect(unknown!.note).to.match(/^unknown metric wire_to_handler_p42; expected one of wire_to_handler_min/);
  });

  it('nulls every wire-to-handler figure when clocks disagree (negative latencies)', () => {
    const m = measurement('ptp-offset.irqrecv.json', 'ptp-offset.irqgen.json');
    for (const metric of ['wire_to_handler_max', 'wire_to_handler_p99', 'wire_to_handler_min']) {
      expect(buildDeviceInterruptFigures(metric, m)[0]!.value, metric).to.equal(null);
    }
  });

  it('withholds only the wire-to-handler and late limits, and only under a declared unsynchronised clock case', () => {
    expect(explainWithheldLimit('wire_to_handler_max', { clockDomain: 'unsynchronised' })).to.match(/clock_domain is unsynchronised/);
    expect(explainWithheldLimit('late', { clockDomain: 'unsynchronised' })).to.match(/set clock_domain: ptp/);
    expect(explainWithheldLimit('receive_to_handler_max', { clockDomain: 'unsynchronised' })).to.equal(undefined);
    expect(explainWithheldLimit('wire_to_handler_max', { clockDomain: 'ptp' })).to.equal(undefined);
    expect(explainWithheldLimit('wire_to_handler_max', { clockDomain: 'same-host' })).to.equal(undefined);
  });

  it('documents every metric name the limits can use', () => {
    expect(DEVICE_INTERRUPT_METRICS).to.include.members(['wire_to_handler_max', 'wire_to_handler_p99', 'receive_to_handler_max', 'receive_to_handler_p99', 'missed', 'late', 'pacing_error_max']);
  });

  it('reports the key figures, the device and the clock case for JUnit', () => {
    const r = buildDeviceInterruptReport(measurement('loopback-skip2.irqrecv.json', 'loopback-skip2.irqgen.json'));
    expect(r.properties).to.deep.include({ device: LAB_DEVICE, clock_case: 'same-host', timestamp_kind: 'software', period_us: 1000 });
    expect(Object.keys(r.measurements).slice(0, 2)).to.deep.equal(['wire_to_handler_p99_ns', 'wire_to_handler_max_ns']);
    expect(r.measurements).to.deep.include({ wire_to_handler_p99_ns: 76287, receive_to_handler_p99_ns: 75775, missed: 0, sent: 1998 });
    expect(r.properties).to.deep.include({ wire_to_handler_max_ns: 237835, missed: 0, missed_seqs: 2, withheld: 2 });
    expect(r.rows.map((row) => row.where)).to.deep.equal(['guest wire_to_handler', 'guest receive_to_handler', 'tgen pacing_error']);
    expect(r.notes.join('\n')).to.contain('self-check: 2 frame(s) withheld, 2 seqs missed at the receiver: exactly one per withheld frame');
  });
});

describe('cases/device-interrupt limits in the shipped profiles', () => {
  const expected: Record<string, Array<[string, number, string, 'assert' | 'monitor']>> = {
    lab: [['wire_to_handler_p99', 20, 'ms', 'assert'], ['receive_to_handler_p99', 20, 'ms', 'assert'], ['wire_to_handler_max', 250, 'ms', 'monitor'], ['missed', 0, 'count', 'assert']],
    'opnfv-tc028': [['wire_to_handler_max', 1000, 'us', 'assert'], ['receive_to_handler_max', 1000, 'us', 'assert'], ['missed', 0, 'count', 'assert']],
    'rt-kvm': [
      ['wire_to_handler_max', 40, 'us', 'assert'],
      ['receive_to_handler_max', 40, 'us', 'assert'],
      ['wire_to_handler_p99', 20, 'us', 'monitor'],
      ['missed', 0, 'count', 'assert'],
    ],
  };
  for (const [name, limits] of Object.entries(expected)) {
    it(`${name}: device_interrupt limits load, name only metrics the case reports, and are as documented`, () => {
      const profile = loadThresholds(name, { knownMetrics: listCaseMetrics() });
      expect(profile.limitsFor('device_interrupt').map((l) => [l.metric, l.max, l.unit, l.action])).to.deep.equal(limits);
    });
  }
});
