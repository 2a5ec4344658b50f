import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlotProperties, createPlotPropertiesReporter, plotFileName } from '../../../lib/report/plot-properties.ts';
import { loadRunFixture } from '../../fixtures/report/run-fixtures.ts';

/** The subset of java.util.Properties the Plot plugin relies on: key=value lines, # comments. */
function readJavaProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || /^\s*[#!]/.test(line)) continue;
    const m = /^\s*([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (!m) throw new Error(`not a properties line: ${JSON.stringify(line)}`);
    out[m[1] as string] = m[2] as string;
  }
  return out;
}

describe('report/plot-properties', () => {
  it('one file per key figure, named <case>_<node>_<metric>_<unit>, holding YVALUE', () => {
    const files = buildPlotProperties(loadRunFixture('lab-timer-pass'));
    const byPath = Object.fromEntries(files.map((f) => [f.path, f.content]));
    expect(byPath['plots/timer_host_max_us.properties']).to.equal('YVALUE=2975\n');
    expect(byPath['plots/timer_guest_avg_us.properties']).to.equal('YVALUE=91.02\n');
    expect(byPath['plots/timer_guest_samples.properties']).to.equal('YVALUE=120000\n');
    expect(files).to.have.length(18);
  });

  it('every file reads back, as java.util.Properties would, to the number it was built from', () => {
    for (const name of ['lab-timer-pass', 'daily-mixed', 'forwarding-frames'] as const) {
      for (const file of buildPlotProperties(loadRunFixture(name))) {
        const props = readJavaProperties(file.content);
        expect(Object.keys(props), file.path).to.deep.equal(['YVALUE']);
        expect(Number.parseFloat(props.YVALUE as string), file.path).to.equal(file.value);
      }
    }
  });

  it('keeps the first of two equal names, leaves out non-finite values, writes nothing for a skipped case', () => {
    const run = loadRunFixture('daily-mixed');
    const [first, second] = run.cases[0]?.testcases ?? [];
    second!.measurements = { 'vnf-guest_max_us': 9999, bogus: Number.NaN };
    const files = buildPlotProperties(run);
    expect(files.find((f) => f.path === 'plots/timer_vnf-guest_max_us.properties')?.value).to.equal(first?.measurements['vnf-guest_max_us']);
    expect(files.some((f) => f.path.includes('bogus'))).to.equal(false);
    expect(files.some((f) => f.path.includes('sriov'))).to.equal(false);
  });

  it('makes names safe for any filesystem and job config', () => {
    expect(plotFileName('timer', 'vnf-guest_max_us')).to.equal('timer_vnf-guest_max_us.properties');
    expect(plotFileName('timer', 'guest/1 max µs')).to.equal('timer_guest_1_max__s.properties');
  });

  it('the reporter writes the files under the run folder at onEnd', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kfn-plots-'));
    try {
      const reporter = createPlotPropertiesReporter(dir);
      await reporter.onEnd?.(loadRunFixture('forwarding-frames'));
      const names = (await readdir(join(dir, 'plots'))).sort();
      expect(names).to.deep.equal([
        'ovs_dpdk_forwarding_pvp_1518_max_us.properties',
        'ovs_dpdk_forwarding_pvp_1518_p99_us.properties',
        'ovs_dpdk_forwarding_pvp_1518_rx_mpps.properties',
        'ovs_dpdk_forwarding_pvp_64_max_us.properties',
        'ovs_dpdk_forwarding_pvp_64_p99_us.properties',
        'ovs_dpdk_forwarding_pvp_64_rx_mpps.properties',
      ]);
      expect(await readFile(join(dir, 'plots', 'ovs_dpdk_forwarding_pvp_64_rx_mpps.properties'), 'utf8')).to.equal('YVALUE=7.41\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
