// Output of `ovs-vsctl --if-exists get Open_vSwitch . other_config:stats-update-interval`, as
// ovs-vsctl prints a map value (a quoted string, openvswitch/ovs lib/ovsdb-data.c string
// serialisation) or nothing for an unset key; the floor of 5000 ms is vswitchd/bridge.c's.
import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { buildStatsIntervalQuery, parseStatsInterval } from '../../../../lib/tools/ovs/stats-interval.ts';

describe('tools/ovs stats-update-interval', () => {
  it('asks for the key without failing when it is unset', () => {
    expect(buildStatsIntervalQuery({ vswitchdTarget: 'ovs-vswitchd' } as Parameters<typeof buildStatsIntervalQuery>[0]).slice(-5)).to.deep.equal(['--if-exists', 'get', 'Open_vSwitch', '.', 'other_config:stats-update-interval']);
  });

  it('reads an unset key as the 5000 ms default, a set one as given, and holds the floor', () => {
    expect(parseStatsInterval('\n')).to.equal(5000);
    expect(parseStatsInterval('"30000"\n')).to.equal(30000);
    expect(parseStatsInterval('"1000"\n')).to.equal(5000);
  });

  it('rejects a value that is not whole milliseconds', () => {
    expect(() => parseStatsInterval('"5s"\n')).to.throw(ToolOutputParseError, /whole milliseconds/);
  });
});
