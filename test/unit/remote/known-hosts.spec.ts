import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  DEFAULT_HOST_KEY_ALGORITHMS,
  listKnownHostsFiles,
  buildKnownHostsName,
  listKnownKeyTypes,
  orderHostKeyAlgorithms,
  fingerprintKey,
  formatKnownHostsLine,
  lookupHostKey,
  matchesHost,
  normalizeFingerprint,
  parseKnownHosts,
  readKeyType,
} from '../../../lib/remote/known-hosts.ts';

// Fixtures: see fixtures/known_hosts.source.md (OpenSSH 9.2p1, ssh-keygen -H for the hashed lines).
const FIXTURES = new URL('./fixtures/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const blobOf = (pub: string) => Buffer.from(pub.split(' ')[1] ?? '', 'base64');
const keyA = blobOf(fixture('key-a.pub'));
const keyB = blobOf(fixture('key-b.pub'));
const keyC = blobOf(fixture('key-c.pub'));

describe('remote/known-hosts', () => {
  const parsed = parseKnownHosts(fixture('known_hosts.txt'));

  describe('parseKnownHosts', () => {
    it('keeps the eight usable lines, cert-authority and revoked ones marked', () => {
      expect(parsed.entries.map((e) => e.lineNumber)).to.deep.equal([3, 4, 5, 6, 7, 8, 9, 10]);
      expect(parsed.entries.find((e) => e.lineNumber === 9)?.marker).to.equal('revoked');
      expect(parsed.entries.find((e) => e.lineNumber === 10)?.marker).to.equal('cert-authority');
      expect(parsed.entries.find((e) => e.lineNumber === 6)?.keyType).to.equal('ecdsa-sha2-nistp256');
    });

    it('rejects malformed lines and says why', () => {
      const byLine = Object.fromEntries(parsed.problems.map((p) => [p.lineNumber, p.reason]));
      expect(Object.keys(byLine).map(Number)).to.deep.equal([11, 12, 13, 14]);
      expect(byLine[11]).to.match(/expected "hosts keytype base64-key/);
      expect(byLine[12]).to.match(/not base64/);
      expect(byLine[13]).to.match(/ssh-rsa does not match the key blob \(ssh-ed25519\)/);
      expect(byLine[14]).to.match(/unknown marker @bogus/);
    });

    it('rejects a hashed host that is not |1|salt|hash', () => {
      const bad = parseKnownHosts(`|1|c2FsdA==|aGFzaA== ${fixture('key-a.pub').split(' ').slice(0, 2).join(' ')}`);
      expect(bad.entries).to.have.length(0);
      expect(bad.problems[0]?.reason).to.match(/hashed host/);
    });
  });

  describe('matching names as ssh-keygen -F does', () => {
    // [host, port, lines ssh-keygen -F finds] from known_hosts.source.md
    const table: Array<[string, number, number[]]> = [
      ['node1.example', 22, [3]],
      ['NODE1.example', 22, [3]], // ssh lower-cases before looking up
      ['10.0.0.5', 2222, [4]],
      ['10.0.0.5', 22, []],
      ['10.0.0.7', 22, [5]],
      ['host1', 22, [5]],
      ['10.0.0.7', 2222, []],
      ['10.0.0.8', 2200, [6]],
      ['10.0.0.8', 22, []],
      ['x.lab.example', 22, [7]],
      ['bad.lab.example', 22, []],
      ['revoked.example', 22, [8, 9]],
      ['y.ca.example', 22, [10]],
    ];
    for (const [host, port, lines] of table) {
      it(`${buildKnownHostsName(host, port)} -> lines ${JSON.stringify(lines)}`, () => {
        const found = parsed.entries.filter((e) => matchesHost(e.hosts, host, port)).map((e) => e.lineNumber);
        expect(found).to.deep.equal(lines);
      });
    }
  });

  describe('lookupHostKey', () => {
    it('matches a hashed entry with its key', () => {
      expect(lookupHostKey(parsed.entries, { host: 'node1.example', port: 22, keyBlob: keyA }).status).to.equal('match');
    });
    it('reports a different key for a known host as changed, listing what is known', () => {
      const r = lookupHostKey(parsed.entries, { host: '10.0.0.5', port: 2222, keyBlob: keyB });
      expect(r.status).to.equal('changed');
      expect(r.known.map((e) => e.lineNumber)).to.deep.equal([4]);
    });
    it('reports a key of a type the host is not known by as changed, as OpenSSH does ("Offending ... key")', () => {
      expect(lookupHostKey(parsed.entries, { host: 'host1', port: 22, keyBlob: keyC }).status).to.equal('changed');
    });
    it('reports a revoked key even when a plain line lists it', () => {
      expect(lookupHostKey(parsed.entries, { host: 'revoked.example', port: 22, keyBlob: keyB }).status).to.equal('revoked');
    });
    it('ignores cert-authority lines for a plain key, but reports them', () => {
      const r = lookupHostKey(parsed.entries, { host: 'y.ca.example', port: 22, keyBlob: keyA });
      expect(r.status).to.equal('unknown');
      expect(r.certAuthorities.map((e) => e.lineNumber)).to.deep.equal([10]);
    });
    it('retries without the port for a port other than 22, as check_host_key does', () => {
      const r = lookupHostKey(parsed.entries, { host: 'node1.example', port: 2200, keyBlob: keyA });
      expect(r).to.deep.include({ status: 'match', name: 'node1.example' });
      expect(r.found?.lineNumber).to.equal(3);
      // Another key under the bare name does not make the port's key changed: it stays unknown.
      const other = lookupHostKey(parsed.entries, { host: 'node1.example', port: 2200, keyBlob: keyB });
      expect(other).to.deep.include({ status: 'unknown', name: '[node1.example]:2200' });
      expect(other.portless.map((e) => e.lineNumber)).to.deep.equal([3]);
      // Port 22 has no such retry, and a changed key under [host]:port is not retried either.
      expect(lookupHostKey(parsed.entries, { host: '10.0.0.5', port: 2222, keyBlob: keyB }).status).to.equal('changed');
    });
    it('fails a list whose subpattern is longer than match.c can hold', () => {
      expect(matchesHost(`${'a'.repeat(1023)},host1`, 'host1', 22)).to.equal(false);
      expect(matchesHost(`${'a'.repeat(1022)},host1`, 'host1', 22)).to.equal(true);
    });
    it('reports an unlisted host as unknown', () => {
      expect(lookupHostKey(parsed.entries, { host: '192.0.2.1', port: 22, keyBlob: keyA }).status).to.equal('unknown');
    });
  });

  describe('fingerprints', () => {
    it('equal the recorded ssh-keygen -lf output', () => {
      const recorded = fixture('key-fingerprints.txt').trim().split('\n').map((l) => l.split(' ')[1]);
      expect([keyA, keyB, keyC].map(fingerprintKey)).to.deep.equal(recorded);
    });

    it('equal ssh-keygen -lf of a key generated now', function () {
      const dir = mkdtempSync(join(tmpdir(), 'kfn-remote-fp-'));
      try {
        try {
          execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
        } catch {
          this.skip();
        }
        const printed = execFileSync('ssh-keygen', ['-lf', join(dir, 'k.pub')]).toString().split(' ')[1];
        expect(fingerprintKey(blobOf(readFileSync(join(dir, 'k.pub'), 'utf8')))).to.equal(printed);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('reads the key type from the blob and refuses garbage', () => {
      expect(readKeyType(keyA)).to.equal('ssh-ed25519');
      expect(readKeyType(keyC)).to.equal('ecdsa-sha2-nistp256');
      expect(readKeyType(Buffer.from([0, 0, 0, 200, 1]))).to.equal(undefined);
      expect(readKeyType(Buffer.alloc(2))).to.equal(undefined);
    });

    it('normalizes pins with or without prefix and padding, and refuses others', () => {
      const fp = fingerprintKey(keyA);
      expect(normalizeFingerprint(fp)).to.equal(fp);
      expect(normalizeFingerprint(fp.slice('SHA256:'.length))).to.equal(fp);
      expect(normalizeFingerprint(`${fp}=`)).to.equal(fp);
      expect(normalizeFingerprint('MD5:aa:bb')).to.equal(undefined);
      expect(normalizeFingerprint('SHA256:short')).to.equal(undefined);
    });
  });

  describe('host-key algorithm order', () => {
    it('asks first for the key types known_hosts has for the host, as OpenSSH does', () => {
      expect(listKnownKeyTypes(parsed.entries, '10.0.0.8', 2200)).to.deep.equal(['ecdsa-sha2-nistp256']);
      const order = orderHostKeyAlgorithms(['ecdsa-sha2-nistp256']);
      expect(order?.slice(0, 2)).to.deep.equal(['ecdsa-sha2-nistp256', 'ssh-ed25519']);
      expect(order).to.have.members([...DEFAULT_HOST_KEY_ALGORITHMS]);
    });
    it('expands ssh-rsa to its signature algorithms', () => {
      expect(orderHostKeyAlgorithms(['ssh-rsa'])?.slice(0, 3)).to.deep.equal(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    });
    it('keeps the default order when nothing usable is known', () => {
      expect(orderHostKeyAlgorithms([])).to.equal(undefined);
      expect(orderHostKeyAlgorithms(['ssh-dss'])).to.equal(undefined);
    });
  });

  it("lists OpenSSH's default files, or the given one in place of the user's (readconf.c)", () => {
    expect(listKnownHostsFiles('/home/u')).to.deep.equal({
      user: ['/home/u/.ssh/known_hosts', '/home/u/.ssh/known_hosts2'],
      system: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
    });
    expect(listKnownHostsFiles('/home/u', '/run/kh').user).to.deep.equal(['/run/kh']);
  });

  it('formats a line that parses back and matches', () => {
    const line = formatKnownHostsLine('10.1.2.3', 2022, keyC);
    expect(line.startsWith('[10.1.2.3]:2022 ecdsa-sha2-nistp256 ')).to.equal(true);
    const back = parseKnownHosts(line);
    expect(lookupHostKey(back.entries, { host: '10.1.2.3', port: 2022, keyBlob: keyC }).status).to.equal('match');
  });
});
