// Whether DPDK can run on a guest's CPU, from the probe's recorded output: the kernel fallback
// is taken for the two reasons DPDK cannot run there, and for nothing else.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ToolOutputParseError } from '../../../../lib/errors.ts';
import { buildDpdkCpuProbeArgv, parseDpdkCpuProbe } from '../../../../lib/tools/testpmd/cpu-probe.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/testpmd/${name}`, import.meta.url), 'utf8');

describe('tools/testpmd cpu-probe', () => {
  it('starts EAL with nothing to share and the VNF\'s two lcores, then asks for the usage', () => {
    expect(buildDpdkCpuProbeArgv({ binary: '/usr/bin/dpdk-testpmd', lcores: [0, 1], filePrefix: 'kfn-pvp-vnf-probe-r1' })).to.deep.equal([
      '/usr/bin/dpdk-testpmd', '--no-huge', '-m', '64', '--no-pci', '--no-shconf', '--no-telemetry', '--file-prefix=kfn-pvp-vnf-probe-r1', '-l', '0,1', '--', '--help',
    ]);
    expect(() => buildDpdkCpuProbeArgv({ lcores: [0], filePrefix: 'p' })).to.throw(/two lcores/);
    expect(() => buildDpdkCpuProbeArgv({ lcores: [0, 1], filePrefix: '../x' })).to.throw(/file prefix/);
  });

  it('says supported when EAL started and testpmd printed its usage (DPDK 22.11.11, recorded)', () => {
    expect(parseDpdkCpuProbe({ exitCode: 0, stdout: fixture('cpu-probe-supported.stdout'), stderr: fixture('cpu-probe-supported.stderr') })).to.deep.equal({ supported: true });
  });

  it('says unsupported when testpmd dies of SIGILL (recorded under TCG -cpu qemu64), or when EAL refuses the CPU, naming the flag', () => {
    expect(parseDpdkCpuProbe({ exitCode: 132, stdout: '', stderr: fixture('cpu-probe-qemu64.stderr') })).to.deep.equal({ supported: false, reason: 'dpdk-testpmd died of SIGILL: it was built for instructions this CPU does not have' });
    // EAL's own refusal, as DPDK 22.11 lib/eal/common/eal_common_cpuflags.c rte_cpu_is_supported prints it
    // (no machine here has a CPU that gets past SIGILL yet lacks a flag, so this one is written from the source).
    const refused = parseDpdkCpuProbe({ exitCode: 1, stdout: '', stderr: 'ERROR: This system does not support "SSE4_2".\nPlease check that RTE_MACHINE is set correctly.\nEAL: FATAL: unsupported cpu type.\n' });
    expect(refused).to.deep.include({ supported: false });
    expect((refused as { reason: string }).reason).to.match(/CPU flag SSE4_2/);
  });

  it('refuses any other failure: a broken DPDK is an error, never a reason to forward with the kernel', () => {
    expect(() => parseDpdkCpuProbe({ exitCode: 1, stdout: '', stderr: 'EAL: Error - exiting with code: 1\n  Cause: No cores defined for forwarding\n' })).to.throw(ToolOutputParseError, /No cores defined for forwarding/);
    expect(() => parseDpdkCpuProbe({ exitCode: 0, stdout: '', stderr: '' })).to.throw(ToolOutputParseError, /no usage text/);
  });
});
