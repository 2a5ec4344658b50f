import { expect } from 'chai';
import { cmdlineHas, cmdlineValue, cmdlineValues, parseIsolcpus, parseKernelCmdline } from '../../../lib/audit/kernel-cmdline.ts';

describe('parseKernelCmdline', () => {
  it('reads parameters as the kernel does', () => {
    const c = parseKernelCmdline('BOOT_IMAGE=/vmlinuz ro nohz-full=2-3 acpi_osi="Windows 2020" tsc=reliable tsc=nowatchdog -- isolcpus=1\n');
    expect(cmdlineValue(c, 'nohz_full')).to.equal('2-3'); // dashes are underscores
    expect(cmdlineValue(c, 'acpi_osi')).to.equal('Windows 2020');
    expect(cmdlineValues(c, 'tsc')).to.deep.equal(['reliable', 'nowatchdog']);
    expect(cmdlineValue(c, 'ro')).to.equal('');
    expect(cmdlineHas(c, 'isolcpus'), 'after -- belongs to init').to.equal(false);
    expect(cmdlineValue(c, 'idle')).to.equal(undefined);
  });

  it('takes the last occurrence for single-valued parameters', () => {
    expect(cmdlineValue(parseKernelCmdline('idle=halt idle=poll'), 'idle')).to.equal('poll');
  });
});

describe('parseIsolcpus', () => {
  const table: Array<[string, ReturnType<typeof parseIsolcpus>]> = [
    ['2-5', { ok: true, flags: ['domain'], cpus: [2, 3, 4, 5] }],
    ['managed_irq,domain,2-5', { ok: true, flags: ['managed_irq', 'domain'], cpus: [2, 3, 4, 5] }],
    ['nohz,managed_irq,1,3', { ok: true, flags: ['nohz', 'managed_irq'], cpus: [1, 3] }],
    ['domain,all', { ok: true, flags: ['domain'], cpus: [0, 1, 2, 3] }],
  ];
  for (const [value, expected] of table) {
    it(`reads isolcpus=${value}`, () => expect(parseIsolcpus(value, 3)).to.deep.equal(expected));
  }

  it('rejects unknown flags and bad lists', () => {
    const bad = ['banana', 'domain,x', 'domain,5-2', 'nohz,2-'];
    for (const value of bad) expect(parseIsolcpus(value, 7), value).to.include({ ok: false });
  });
});
