import { expect } from 'chai';
import { formatCpus, parseCpuMask, parseKernelCpuList } from '../../../lib/audit/kernel-cpu-list.ts';

describe('parseKernelCpuList', () => {
  const table: Array<[string, number | undefined, number[]]> = [
    ['', undefined, []],
    ['3', undefined, [3]],
    ['0-3,8', undefined, [0, 1, 2, 3, 8]],
    ['0-9:2/5', undefined, [0, 1, 5, 6]],
    ['all', 3, [0, 1, 2, 3]],
    ['N', 7, [7]],
    ['4-N', 6, [4, 5, 6]],
    ['1,1,0', undefined, [0, 1]],
  ];
  for (const [text, last, cpus] of table) {
    it(`reads ${JSON.stringify(text)}`, () => expect(parseKernelCpuList(text, last)).to.deep.equal({ ok: true, cpus }));
  }

  it('rejects what the kernel would reject, and forms it cannot resolve', () => {
    for (const text of ['5-2', 'x', '1-', '2-3:0/2', '0-3:3/2', '9000', 'all', 'N', ' 1, 2']) {
      expect(parseKernelCpuList(text), text).to.include({ ok: false });
    }
  });
});

describe('parseCpuMask', () => {
  it('reads /proc/irq/default_smp_affinity masks, including multi-word ones', () => {
    expect(parseCpuMask('3\n')).to.deep.equal({ ok: true, cpus: [0, 1] });
    expect(parseCpuMask('00000001,00000003')).to.deep.equal({ ok: true, cpus: [0, 1, 32] });
    expect(parseCpuMask('ff')).to.deep.equal({ ok: true, cpus: [0, 1, 2, 3, 4, 5, 6, 7] });
  });

  it('rejects anything but hex words', () => {
    for (const text of ['zz', '', '0x3', '3,', '123456789']) expect(parseCpuMask(text), text).to.include({ ok: false });
  });
});

describe('formatCpus', () => {
  it('writes kernel lists, and says when a set is empty', () => {
    expect(formatCpus([5, 2, 3, 4, 8])).to.equal('2-5,8');
    expect(formatCpus([])).to.equal('(none)');
  });
});
