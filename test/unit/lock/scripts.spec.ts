import { expect } from 'chai';
import { buildAcquireScript, buildHeartbeatScript, buildLockPaths, buildReleaseScript } from '../../../lib/lock/scripts.ts';

const TOKEN = '0123456789abcdef0123456789abcdef';
const OTHER = 'fedcba9876543210fedcba9876543210';
const paths = buildLockPaths('/run/kvmfornfv');

describe('lock/scripts', () => {
  it('puts the lock, its mutex and owner files under the lock directory', () => {
    expect(buildLockPaths('/run/kvmfornfv/')).to.deep.equal({ dir: '/run/kvmfornfv', mutex: '/run/kvmfornfv/.mutex', lock: '/run/kvmfornfv/pod.lock' });
    expect(buildLockPaths('/tmp/x', 'pod-a').lock).to.equal('/tmp/x/pod-a.lock');
  });

  for (const bad of ['run/kvmfornfv', '/run/../etc', '/run/./x', '/run/kvm fornfv', "/run/'x", '/', '']) {
    it(`refuses the lock directory ${JSON.stringify(bad)}, which would reach rm -rf`, () => {
      expect(() => buildLockPaths(bad)).to.throw(TypeError, 'lock directory must be an absolute path');
    });
  }

  it('refuses odd lock names and tokens', () => {
    expect(() => buildLockPaths('/run/kvmfornfv', '../pod')).to.throw(TypeError, 'lock name');
    expect(() => buildReleaseScript(paths, 'ABC; rm -rf /')).to.throw(TypeError, 'lock token');
    expect(() => buildAcquireScript({ paths, token: TOKEN, ownerJson: '{}\n{}' })).to.throw(TypeError, 'one line');
  });

  it('takes the lock with mkdir under flock, writing token, owner and heartbeat', () => {
    const script = buildAcquireScript({ paths, token: TOKEN, ownerJson: '{"runId":"r1","buildTag":"it\'s"}' });
    expect(script).to.include('exec 9>>"$dir/.mutex"').and.include('flock -w 15 9');
    expect(script).to.include('if mkdir "$lock" 2>/dev/null; then');
    expect(script).to.include(`printf '%s' ${TOKEN} > "$lock/token"`);
    // The owner JSON is one quoted shell word, whatever BUILD_TAG contains.
    expect(script).to.include(`printf '%s\\n' '{"runId":"r1","buildTag":"it'\\''s"}' > "$lock/owner.json"`);
    expect(script).not.to.include('rm -rf "$lock" ||');
  });

  it('breaks a stale lock only if its token still matches and, for a lease, it is still expired', () => {
    const lease = buildAcquireScript({ paths, token: TOKEN, ownerJson: '{}', breakStale: { token: OTHER, rule: 'lease-expired', leaseS: 300 } });
    expect(lease).to.include(`[ "$tok" = ${OTHER} ] ||`).and.include('[ $((now - hb)) -gt 300 ] ||').and.include('rm -rf "$lock" ||');
    expect(lease.indexOf('rm -rf "$lock" ||')).to.be.below(lease.indexOf('if mkdir "$lock"'));
    const dead = buildAcquireScript({ paths, token: TOKEN, ownerJson: '{}', breakStale: { token: OTHER, rule: 'owner-dead', leaseS: 300 } });
    expect(dead).to.include(`[ "$tok" = ${OTHER} ] ||`).and.not.include('now - hb');
    const noOwner = buildAcquireScript({ paths, token: TOKEN, ownerJson: '{}', breakStale: { token: '', rule: 'lease-expired', leaseS: 300 } });
    expect(noOwner).to.include(`[ "$tok" = '' ] ||`);
  });

  it('renews and releases only with the holder\'s token', () => {
    expect(buildHeartbeatScript(paths, TOKEN)).to.include(`[ "$tok" = ${TOKEN} ] && touch "$lock/heartbeat"`);
    const release = buildReleaseScript(paths, TOKEN);
    expect(release).to.include(`[ "$tok" = ${TOKEN} ] || {`);
    expect(release.indexOf(`[ "$tok" = ${TOKEN} ]`)).to.be.below(release.indexOf('rm -rf "$lock"'));
  });
});
