// How a TestAPI refusal is read: releng-testresults common/check.py gives 401 and 403 for
// different things, told apart only by tornado's reason text (see lib/report/testapi-answer.ts).
import { expect } from 'chai';
import { describeTestApiRefusal, testApiReason } from '../../../lib/report/testapi-answer.ts';

describe('report/testapi-answer describeTestApiRefusal (releng-testresults common/check.py)', () => {
  const payload = { case_name: 'timer', pod_name: 'intel-pod10', project_name: 'kvmfornfv' };
  const page = (code: number, reason: string) => `<html><title>${code}: ${reason}</title><body>${code}: ${reason}</body></html>`;
  const refuse = (status: number, body: string, tokenSent: boolean) => describeTestApiRefusal({ answer: { status, body }, payload, at: 'http://t/api/v1/results', tokenSent });

  it('tells a missing token, a refused token and each unregistered name apart, all at the same 401/403', () => {
    const cases = [
      [401, page(401, 'No Authentication Header'), false, 'unauthorized', /HTTP 401: No Authentication Header\): this TestAPI checks tokens; set TEST_DB_TOKEN/],
      [401, page(401, 'No Authentication Header'), true, 'unauthorized', /although TEST_DB_TOKEN was sent as X-Auth-Token/],
      [403, page(403, 'Invalid Token'), true, 'unauthorized', /HTTP 403: Invalid Token\): the token in TEST_DB_TOKEN is not one of this TestAPI's access tokens/],
      [403, page(403, 'Invalid Token'), false, 'unauthorized', /set TEST_DB_TOKEN/],
      [403, page(403, "Could Not Found pods [{'name': 'intel-pod10'}]"), true, 'forbidden', /pod "intel-pod10" .*is not registered there: register it \(POST \/api\/v1\/pods\)/],
      [403, page(403, "Could Not Found projects [{'name': 'kvmfornfv'}]"), true, 'forbidden', /project "kvmfornfv" is not registered there/],
      [403, page(403, "Could Not Found testcases [{'project_name': 'kvmfornfv', 'name': 'timer'}]"), true, 'forbidden', /case "timer" of project "kvmfornfv" is not registered there: register it \(POST \/api\/v1\/projects\/kvmfornfv\/cases\)/],
      // With api_debug on, tornado answers with the traceback, whose last line carries the reason.
      [403, 'Traceback (most recent call last):\n ...\nHTTPError: HTTP 403: Invalid Token', true, 'unauthorized', /not one of this TestAPI's access tokens/],
    ] as const;
    const messages = new Set<string>();
    for (const [status, body, sent, reason, pattern] of cases) {
      const e = refuse(status, body, sent);
      expect(e.reason, body).to.equal(reason);
      expect(e.message, body).to.match(pattern);
      messages.add(e.message);
    }
    expect(messages.size).to.equal(cases.length);
  });

  it('reads the reason from tornado\'s error page, a JSON message or the text', () => {
    expect(testApiReason(page(403, 'Invalid Token'))).to.equal('Invalid Token');
    expect(testApiReason('{"message": "pod_name Missing"}')).to.equal('pod_name Missing');
    expect(testApiReason('  plain\n text ')).to.equal('plain text');
  });
});
