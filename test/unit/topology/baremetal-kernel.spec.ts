import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseForwardingArgs } from '../../../lib/cases/forwarding-args.ts';
import { TopologyError } from '../../../lib/errors.ts';
import { baremetalArgsShape, createBaremetalTopology } from '../../../lib/topology/baremetal.ts';
import { buildRouteScripts, findRouteConflicts, parseTxPackets, routeCovers } from '../../../lib/topology/baremetal-kernel.ts';
import { buildForwardingContext, buildLabPod } from '../cases/forwarding-fakes.ts';
import { FakeNodeSession } from '../../support/fake-node-session.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('topology/baremetal-kernel pure parts', () => {
  it('knows which routes cover an address; the default route is no conflict', () => {
    expect(routeCovers('198.18.0.0/15', '198.19.0.1')).to.equal(true);
    expect(routeCovers('198.18.7.0/24', '198.18.0.1')).to.equal(false);
    expect(routeCovers('198.18.0.1', '198.18.0.1')).to.equal(true);
    expect(routeCovers('0.0.0.0/0', '198.18.0.1')).to.equal(true);
    expect(routeCovers('default', '198.18.0.1')).to.equal(false);
    expect(findRouteConflicts(fixture('route-root.json'), ['198.18.0.1', '198.19.0.1'])).to.deep.equal([]);
    // A lab whose management /24 happens to be 198.18.0.0/24: its gateway would be hijacked.
    expect(findRouteConflicts('[{"dst":"198.18.0.0/24","dev":"mg0"}]', ['198.18.0.1'])).to.deep.equal(['198.18.0.1 is already routed by "198.18.0.0/24 dev mg0"']);
  });

  it('adds one host route and one permanent neighbour per direction, and removes exactly those', () => {
    const s = buildRouteScripts([{ address: '198.19.0.1', dev: 'h1', lladdr: '02:00:00:00:00:02' }]);
    expect(s.apply).to.equal('set -e\nip route add 198.19.0.1/32 dev h1\nip neigh add 198.19.0.1 lladdr 02:00:00:00:00:02 dev h1 nud permanent');
    expect(s.undo).to.include('ip route del 198.19.0.1/32 dev h1').and.include('ip neigh del 198.19.0.1 dev h1');
    expect(s.undo).to.include('still there');
  });

  it('reads tx counters (recorded) and refuses a missing interface', () => {
    const counts = parseTxPackets(fixture('ip-s-link.json'), ['kbh0', 'kbh1']);
    expect(counts.kbh1).to.be.a('number').and.greaterThan(0);
    expect(() => parseTxPackets(fixture('ip-s-link.json'), ['h9'])).to.throw(TopologyError, /no interface h9/);
  });
});

describe('topology/baremetal with forwarder: kernel', () => {
  const setup = async (routes: string, forwarding = '0') => {
    const pod = buildLabPod();
    const host = pod.nodes.find((n) => n.name === 'host')!;
    const links = fixture('ip-link-restored.json').replaceAll('"kbh0"', '"h0"').replaceAll('"kbh1"', '"h1"');
    const stats = fixture('ip-s-link.json').replaceAll('"kbh0"', '"h0"').replaceAll('"kbh1"', '"h1"');
    const session = new FakeNodeSession(host, {
      exec: (command) => {
        if (command.startsWith('sysctl -n net.ipv4.ip_forward')) return { stdout: `${forwarding}\n---\n${routes}` };
        if (command === 'ip -j link show') return { stdout: links };
        if (command === 'ip -j -s link show') return { stdout: stats };
        return {};
      },
    });
    const ctx = buildForwardingContext({ pod, sessions: { host: session } });
    const topology = createBaremetalTopology(parseForwardingArgs({ forwarder: 'kernel' }, { caseName: 'baremetal_forwarding', extra: baremetalArgsShape }));
    return { pod, session, ctx, topology, run: () => topology.setup(ctx) };
  };

  it('enables forwarding and routes the generator\'s addresses to its ports, undoing both', async () => {
    const { session, ctx, run, pod } = await setup(fixture('route-root.json'));
    const path = await run();
    expect(path.description).to.equal('tgen:t0 → host:h0 → kernel IPv4 forwarding → host:h1 → tgen:t1');
    const tgen = pod.nodes.find((n) => n.name === 'tgen')!;
    const [t0, t1] = ['t0', 't1'].map((n) => tgen.ports.find((p) => p.name === n)!.mac);
    const commands = session.callsOf('exec').map((c) => c.command);
    expect(commands).to.include('sysctl -qw net.ipv4.ip_forward=1');
    expect(commands).to.include(`set -e\nip route add 198.19.0.1/32 dev h1\nip neigh add 198.19.0.1 lladdr ${t1} dev h1 nud permanent\nip route add 198.18.0.1/32 dev h0\nip neigh add 198.18.0.1 lladdr ${t0} dev h0 nud permanent`);
    await ctx.cleanup.unwind();
    const undo = session.callsOf('exec').map((c) => c.command).slice(commands.length);
    expect(undo[0]).to.include('ip route del 198.19.0.1/32 dev h1');
    expect(undo[1]).to.equal('sysctl -qw net.ipv4.ip_forward=0');
  });

  it('leaves net.ipv4.ip_forward alone when it was on already', async () => {
    const { session, run } = await setup('[]', '1');
    await run();
    expect(session.callsOf('exec').map((c) => c.command).filter((c) => c.includes('ip_forward=')).length).to.equal(0);
  });

  it('refuses to take over a route the node already has', async () => {
    const { run, ctx } = await setup('[{"dst":"198.19.0.0/16","dev":"eth1"}]');
    const error = await run().then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(TopologyError);
    expect((error as Error).message).to.match(/would take over existing routes: 198\.19\.0\.1 is already routed by "198\.19\.0\.0\/16 dev eth1"/);
    // Only the link flags were saved: nothing was changed.
    expect(ctx.cleanup.size).to.equal(1);
  });
});
