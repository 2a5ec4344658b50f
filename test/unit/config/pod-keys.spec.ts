import { expect } from 'chai';
import { classifyKey, collectNestedSecrets, findCloseName, measureEditDistance } from '../../../lib/config/pod-keys.ts';
import { SUITE_NODE_KEYS, SUITE_TOP_KEYS } from '../../../lib/config/pod-schema.ts';
import { YARDSTICK_NODE_KEYS, YARDSTICK_TOP_KEYS } from '../../../lib/config/pod-yardstick.ts';

describe('config/pod-keys', () => {
  const distances: Array<[string, string, number]> = [
    ['rt_cpu', 'rt_cpus', 1],
    ['hots', 'host', 1], // a swap of neighbours is one edit
    ['housekeeping_cpu', 'housekeeping_cpus', 1],
    ['kye_filename', 'key_filename', 1],
    ['port', 'ports', 1],
    ['', 'abc', 3],
    ['same', 'same', 0],
    ['tg__0', 'tgen', 3],
  ];
  for (const [a, b, d] of distances) {
    it(`measures ${JSON.stringify(a)} to ${JSON.stringify(b)} as ${d}`, () => {
      expect(measureEditDistance(a, b)).to.equal(d);
      expect(measureEditDistance(b, a)).to.equal(d);
    });
  }

  it('reads case, "-" for "_" and small edits as slips, but not far names or short ones', () => {
    expect(findCloseName('RT_CPUS', SUITE_NODE_KEYS)).to.equal('rt_cpus');
    expect(findCloseName('ssh-port', SUITE_NODE_KEYS)).to.equal('ssh_port');
    expect(findCloseName('housekeping_cpu', SUITE_NODE_KEYS)).to.equal('housekeeping_cpus');
    expect(findCloseName('id', SUITE_NODE_KEYS), 'two-letter keys take no edit').to.equal(undefined);
    expect(findCloseName('rack', SUITE_NODE_KEYS)).to.equal(undefined);
    expect(findCloseName('pod-name', SUITE_TOP_KEYS)).to.equal('pod_name');
  });

  it('sorts keys: ours, then Yardstick\'s, then slips of ours, then unknown ones', () => {
    expect(classifyKey('rt_cpus', SUITE_NODE_KEYS, YARDSTICK_NODE_KEYS)).to.deep.equal({ kind: 'suite' });
    expect(classifyKey('port', SUITE_NODE_KEYS, YARDSTICK_NODE_KEYS).kind, 'Yardstick\'s VPP port, though one edit from ports').to.equal('yardstick');
    expect(classifyKey('host', SUITE_NODE_KEYS, YARDSTICK_NODE_KEYS).kind, 'Yardstick NSB host: an address').to.equal('yardstick');
    expect(classifyKey('rt_cpu', SUITE_NODE_KEYS, YARDSTICK_NODE_KEYS)).to.deep.equal({ kind: 'misspelt', suggestion: 'rt_cpus' });
    expect(classifyKey('ipmi_passwd', SUITE_NODE_KEYS, YARDSTICK_NODE_KEYS)).to.deep.equal({ kind: 'unknown', nearYardstick: 'ipmi_password' });
    expect(classifyKey('rack', SUITE_NODE_KEYS, YARDSTICK_NODE_KEYS)).to.deep.equal({ kind: 'unknown' });
    expect(classifyKey('netwrks', SUITE_TOP_KEYS, YARDSTICK_TOP_KEYS)).to.deep.equal({ kind: 'unknown', nearYardstick: 'networks' });
  });

  // Read from the schema: a key added to nodeFields later is covered without touching this file.
  it('refuses a one-letter slip of every key the suite reads (4 characters or more)', () => {
    for (const key of SUITE_NODE_KEYS.filter((k) => k.length >= 4)) {
      for (const slip of [key.slice(0, -1), `${key}s`, key.toUpperCase()]) {
        if (YARDSTICK_NODE_KEYS.some((y) => y.key === slip)) continue;
        expect(classifyKey(slip, SUITE_NODE_KEYS, YARDSTICK_NODE_KEYS), slip).to.deep.equal({ kind: 'misspelt', suggestion: key });
      }
    }
  });

  it('keeps Yardstick\'s keys apart from the suite\'s: none shared, and only port and host_name are one slip from ours', () => {
    const yardstick = YARDSTICK_NODE_KEYS.map((k) => k.key);
    expect(yardstick.filter((k) => SUITE_NODE_KEYS.includes(k))).to.deep.equal([]);
    expect(yardstick.filter((k) => findCloseName(k, SUITE_NODE_KEYS) !== undefined)).to.deep.equal(['host_name', 'port']);
    // An exact Yardstick key is read as Yardstick's before any slip: host_name is never taken for host_node.
    expect(classifyKey('host_name', SUITE_NODE_KEYS, YARDSTICK_NODE_KEYS).kind).to.equal('yardstick');
    for (const entry of YARDSTICK_NODE_KEYS) expect(entry.source, entry.key).to.match(/^(etc\/yardstick|benchmark)\//);
  });

  it('collects every value under a secret-looking key, at any depth, and nothing else', () => {
    const tasManager = { ip: '203.0.113.7', super_user: 'admin', super_user_password: 's1', cfguser_password: 's2', license: 12345, nested: [{ test_user_password: 's3' }] };
    expect(collectNestedSecrets({ ipmi_pwd: 'p1', ipmi_user: 'root', tas_manager: tasManager, collectd: { interval: 5 } })).to.deep.equal(['p1', 's1', 's2', '12345', 's3']);
    expect(collectNestedSecrets({ interfaces: { xe0: { local_mac: '00:00:00:00:00:01' } } })).to.deep.equal([]);
  });
});
