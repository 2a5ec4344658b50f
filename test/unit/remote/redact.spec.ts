import { expect } from 'chai';
import { buildShellCommand } from '../../../lib/remote/quote.ts';
import { REDACTED, Redactor } from '../../../lib/remote/redact.ts';

describe('remote/redact', () => {
  it('replaces every occurrence of every secret', () => {
    const r = new Redactor(['hunter22', 's3cret!']);
    expect(r.redact('pw=hunter22 again hunter22, other s3cret!')).to.equal(`pw=${REDACTED} again ${REDACTED}, other ${REDACTED}`);
  });

  it('replaces the longest secret first, so a secret containing another is hidden whole', () => {
    const r = new Redactor(['pass', 'password123']);
    expect(r.redact('x password123 y pass')).to.equal(`x ${REDACTED} y ${REDACTED}`);
  });

  it('treats secrets as text, not as regular expressions', () => {
    const r = new Redactor(['a.b*c(d)', '$1']);
    expect(r.redact('a.b*c(d) axbbc $1')).to.equal(`${REDACTED} axbbc ${REDACTED}`);
  });

  it('ignores empty secrets and leaves text alone when there are none', () => {
    expect(new Redactor(['']).redact('anything')).to.equal('anything');
    expect(new Redactor([]).size).to.equal(0);
  });

  it('redacts even single-character secrets, since a leak is worse than noise', () => {
    expect(new Redactor(['x']).redact('xox')).to.equal(`${REDACTED}o${REDACTED}`);
  });

  it('redacts a secret with a quote in it after shell quoting, once and twice nested', () => {
    const secret = "it's-a-secret";
    const r = new Redactor([secret]);
    const once = buildShellCommand(['echo', secret]);
    const twice = buildShellCommand(['sudo', '-n', 'sh', '-c', once]);
    expect(once).to.not.include(secret);
    expect(r.redact(once)).to.not.match(/secret/);
    expect(r.redact(twice)).to.not.match(/secret/);
  });
});
