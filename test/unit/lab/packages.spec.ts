import { expect } from 'chai';
import { LabError } from '../../../lib/errors.ts';
import { findMissingPackages, LAB_PACKAGES, parseDpkgStatus } from '../../../lib/lab/packages.ts';

// Recorded on Debian 12 (dpkg 1.21): dpkg-query -W '-f=${Package}\t${db:Status-Status}\n'
// libc6-dev openssh-server systemd-timesyncd (the last one removed, config files kept).
const DPKG_OUTPUT = 'libc6-dev\tinstalled\nopenssh-server\tinstalled\nsystemd-timesyncd\tconfig-files\n';

describe('lab packages', () => {
  it('lists exactly the packages the lab needs', () => {
    expect([...LAB_PACKAGES]).to.deep.equal([
      'openssh-server', 'openssh-client', 'iproute2', 'rt-tests', 'stress-ng', 'dpdk-dev', 'openvswitch-switch-dpdk',
      'netsniff-ng', 'tcpdump', 'iputils-ping', 'gcc', 'libc6-dev', 'make', 'procps', 'util-linux', 'qemu-system-x86', 'mmdebstrap', 'e2fsprogs',
    ]);
  });

  it('reads the dpkg status of each package', () => {
    const status = parseDpkgStatus(DPKG_OUTPUT);
    expect(status.get('openssh-server')).to.equal('installed');
    expect(status.get('systemd-timesyncd')).to.equal('config-files');
  });

  it('counts removed and unknown packages as missing', () => {
    const status = parseDpkgStatus(DPKG_OUTPUT);
    expect(findMissingPackages(['libc6-dev', 'systemd-timesyncd', 'rt-tests'], status)).to.deep.equal(['systemd-timesyncd', 'rt-tests']);
  });

  it('rejects output that is not "<package>\\t<status>"', () => {
    expect(() => parseDpkgStatus('ii  openssh-server 1:9.2p1-2 amd64\n')).to.throw(LabError, /line 1/);
  });
});
