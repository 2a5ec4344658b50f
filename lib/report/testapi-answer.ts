// What a TestAPI refusal means, read as opnfv/releng-testresults answers it
// (testapi/opnfv_testapi, master 13d465c3dcdd0078375e384c9354a76dbe4da70b):
// - common/check.py valid_token (lines 83-97), the first check of a POST /api/v1/results
//   (handlers/base_handlers.py _create, lines 77-86): with auth on, no X-Auth-Token header is
//   401 message.unauthorized() "No Authentication Header"; a token not in the tokens table is
//   403 message.invalid_token() "Invalid Token";
// - check.py miss_fields / values_check (lines 124-162): 400 "<field> Missing" or
//   "criteria must be in ['PASS', 'FAIL']";
// - check.py carriers_exist (lines 138-149), with result_handlers.py's carriers (lines 199-202):
//   403 message.not_found() "Could Not Found pods [{'name': ...}]", then projects, then testcases.
// So 403 says two different things; only the reason text tells them apart. raises.py raises
// tornado's HTTPError(code, reason=...), whose default error page carries that reason in its
// body ("<html><title>403: Invalid Token</title>..."), as does a debug traceback.
import { PushError } from '../errors.ts';
import { shortServerText, type HttpAnswer } from './push-http.ts';

/** The fields of the payload that the refusal may be about. */
export interface RefusedPayload {
  case_name: string;
  pod_name: string;
  project_name: string;
}

/** The reason TestAPI gave, from tornado's error page or a JSON body; else the flattened body. */
export function testApiReason(body: string): string {
  const title = /<title>\s*\d{3}:\s*([^<]*?)\s*<\/title>/i.exec(body);
  if (title?.[1]) return title[1];
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: the text itself
  }
  return shortServerText(body);
}

// One error per kind of refusal, each saying what to do about it; the token itself never appears.
export function describeTestApiRefusal(a: { answer: HttpAnswer; payload: RefusedPayload; at: string; tokenSent: boolean }): PushError {
  const { answer, payload, at, tokenSent } = a;
  const what = `TestAPI result of ${payload.case_name}`;
  const reason = testApiReason(answer.body);
  const said = `(HTTP ${answer.status}: ${reason})`;
  if (answer.status === 400) {
    return new PushError('rejected', `${what} rejected by ${at} ${said}: a required field is missing or criteria is not PASS/FAIL`);
  }
  if (answer.status === 401) {
    return new PushError(
      'unauthorized',
      tokenSent
        ? `${what} refused by ${at} ${said} although TEST_DB_TOKEN was sent as X-Auth-Token: a proxy in between may drop the header`
        : `${what} refused by ${at} ${said}: this TestAPI checks tokens; set TEST_DB_TOKEN to one of its access tokens`,
    );
  }
  if (answer.status === 403 && /invalid token/i.test(reason)) {
    return new PushError(
      'unauthorized',
      tokenSent
        ? `${what} refused by ${at} ${said}: the token in TEST_DB_TOKEN is not one of this TestAPI's access tokens`
        : `${what} refused by ${at} ${said}: this TestAPI checks tokens; set TEST_DB_TOKEN to one of its access tokens`,
    );
  }
  const missing = /could not found (pods|projects|testcases)\b/i.exec(reason)?.[1]?.toLowerCase();
  if (answer.status === 403 && missing) {
    const thing = {
      pods: `pod "${payload.pod_name}" (NODE_NAME, or the pod file's name) is not registered there: register it (POST /api/v1/pods) or run on a registered pod`,
      projects: `project "${payload.project_name}" is not registered there: register it (POST /api/v1/projects)`,
      testcases: `case "${payload.case_name}" of project "${payload.project_name}" is not registered there: register it (POST /api/v1/projects/${payload.project_name}/cases)`,
    }[missing as 'pods' | 'projects' | 'testcases'];
    return new PushError('forbidden', `${what} refused by ${at} ${said}: ${thing}`);
  }
  if (answer.status === 403) return new PushError('forbidden', `${what} refused by ${at} ${said}`);
  return new PushError('other', `${what}: ${at} answered ${said}`);
}
