// When a run launches its pod's guests: for every selection that measures a guest, which is
// every case now that the forwarding VNF runs in the VM, but not for bare metal alone.
import { expect } from 'chai';
import { HOST_ONLY_CASES, selectionNeedsGuests } from '../../../lib/guest/guests.ts';

describe('guest/guests selectionNeedsGuests', () => {
  it('launches the guests for the preflight, latency and VM forwarding cases, and for any tier holding them', () => {
    for (const caseName of ['preflight', 'timer', 'device_interrupt', 'sriov_forwarding', 'ovs_dpdk_forwarding']) expect(selectionNeedsGuests([{ caseName }]), caseName).to.equal(true);
    expect(selectionNeedsGuests([{ caseName: 'baremetal_forwarding' }, { caseName: 'sriov_forwarding' }])).to.equal(true);
  });

  it('spares a bare-metal-only run the boot: it measures the host alone', () => {
    expect(HOST_ONLY_CASES).to.deep.equal(['baremetal_forwarding']);
    expect(selectionNeedsGuests([{ caseName: 'baremetal_forwarding' }])).to.equal(false);
    expect(selectionNeedsGuests([])).to.equal(false);
  });
});
