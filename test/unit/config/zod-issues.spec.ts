import { expect } from 'chai';
import * as z from 'zod';
import { buildConfigIssues, formatIssuePath, isSecretPath } from '../../../lib/config/zod-issues.ts';

describe('config/zod-issues', () => {
  const paths: Array<[PropertyKey[], string]> = [
    [['nodes', 1, 'ssh_port'], 'nodes[1].ssh_port'],
    [['cases', 'timer', 2, 'max'], 'cases.timer[2].max'],
    [['pod_overrides', 'intel-pod10', 'timer', 0], 'pod_overrides.intel-pod10.timer[0]'],
    [['tools', 'my tool'], 'tools["my tool"]'],
    [['pod_overrides', '1pod'], 'pod_overrides["1pod"]'],
    [[0, 'name'], '[0].name'],
    [[], ''],
  ];
  for (const [path, text] of paths) {
    it(`writes ${JSON.stringify(path)} as ${text || '(empty)'}`, () => {
      expect(formatIssuePath(path)).to.equal(text);
    });
  }

  it('treats passwords as secret, but not the names of variables holding them', () => {
    expect(isSecretPath(['nodes', 0, 'password'])).to.equal(true);
    expect(isSecretPath(['nodes', 0, 'ipmi_password'])).to.equal(true);
    // Yardstick's compass_sclab_physical/pod.yaml spells it ipmi_pwd; yardstick/ssh.py takes an inline pkey.
    expect(isSecretPath(['nodes', 0, 'ipmi_pwd'])).to.equal(true);
    expect(isSecretPath(['nodes', 0, 'pkey'])).to.equal(true);
    expect(isSecretPath(['nodes', 0, 'password_env'])).to.equal(false);
    expect(isSecretPath(['nodes', 0, 'key_passphrase_env'])).to.equal(false);
    expect(isSecretPath(['nodes', 0, 'ip'])).to.equal(false);
  });

  const schema = z.strictObject(
    {
      name: z.string(),
      port: z.int({ error: 'expected an integer 1-65535' }).min(1, { error: 'expected an integer 1-65535' }),
      password: z.string().optional(),
      mode: z.enum(['a', 'b']).optional(),
      list: z.array(z.number()).min(1).optional(),
      check: z
        .string()
        .optional()
        .superRefine((_v, ctx) => ctx.addIssue({ code: 'custom', message: 'custom words, verbatim' })),
    },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? 'expected one of name, port' : undefined) },
  );

  function issuesFor(input: Record<string, unknown>) {
    const r = schema.safeParse(input);
    expect(r.success).to.equal(false);
    return r.success ? [] : buildConfigIssues(r.error.issues, { input, pathPrefix: ['nodes', 3] });
  }

  it('says what was expected and what was found, at the prefixed path', () => {
    const issues = issuesFor({ name: 5, port: 'abc', mode: 'c', list: [], check: 'x' });
    expect(issues).to.deep.include({ path: 'nodes[3].name', message: 'expected a string, got 5' });
    expect(issues).to.deep.include({ path: 'nodes[3].port', message: 'expected an integer 1-65535, got "abc"' });
    expect(issues).to.deep.include({ path: 'nodes[3].mode', message: 'expected one of a, b, got "c"' });
    expect(issues).to.deep.include({ path: 'nodes[3].list', message: 'expected a non-empty list, got a list of 0 items' });
    expect(issues).to.deep.include({ path: 'nodes[3].check', message: 'custom words, verbatim' });
  });

  it('says a required field is missing', () => {
    const issues = issuesFor({ port: 0 });
    expect(issues).to.deep.include({ path: 'nodes[3].name', message: 'missing; expected a string' });
    expect(issues).to.deep.include({ path: 'nodes[3].port', message: 'expected an integer 1-65535, got 0' });
  });

  it('reports each unknown key at its own path', () => {
    const issues = issuesFor({ name: 'n', port: 1, colour: 1, size: 2 });
    expect(issues.map((i) => i.path)).to.include.members(['nodes[3].colour', 'nodes[3].size']);
    expect(issues.find((i) => i.path === 'nodes[3].colour')?.message).to.equal('unknown key; expected one of name, port');
  });

  it('never prints the value of a secret field', () => {
    const issues = issuesFor({ name: 'n', port: 1, password: 8675309 });
    const line = issues.find((i) => i.path === 'nodes[3].password');
    expect(line?.message).to.equal('expected a string, got a number');
    expect(JSON.stringify(issues)).not.to.include('8675309');
  });
});
