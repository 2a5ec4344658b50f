// A TestAPI stand-in on 127.0.0.1 that answers POST /api/v1/results the way
// opnfv/releng-testresults does (testapi/opnfv_testapi at master 13d465c3dcdd0078375e384c9354a76dbe4da70b),
// in the order of the decorators on handlers/base_handlers.py GenericApiHandler._create (lines 77-86):
// check.py valid_token (lines 83-97: 401 "No Authentication Header", 403 "Invalid Token", only
// when the server runs with auth), no_body, miss_fields ("<field> Missing"), values_check
// (criteria), carriers_exist (lines 138-149: 403 "Could Not Found pods|projects|testcases [query]",
// carriers as in handlers/result_handlers.py lines 199-202). Errors are tornado's default error
// page for web.HTTPError(code, reason=...) (common/raises.py), success the CreateResponse href.
// The real server is Python 2 with MongoDB; this keeps only what a client can observe.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeTestApiOptions {
  /** CONF.api_token_check: tokens are checked only when true. */
  auth: boolean;
  tokens: string[];
  pods: string[];
  projects: string[];
  /** "project/case" pairs. */
  testcases: string[];
}

export interface FakeTestApi {
  url: string;
  received: Array<{ headers: IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

function tornadoError(code: number, reason: string): { status: number; body: string } {
  return { status: code, body: `<html><title>${code}: ${reason}</title><body>${code}: ${reason}</body></html>` };
}

// Python's str() of a one-key dict, as message.not_found() formats the query.
const pyDict = (entries: Record<string, string>): string => `{${Object.entries(entries).map(([k, v]) => `'${k}': '${v}'`).join(', ')}}`;

function answer(o: FakeTestApiOptions, headers: IncomingHttpHeaders, raw: string): { status: number; body: string } {
  if (o.auth) {
    const token = headers['x-auth-token'];
    if (token === undefined) return tornadoError(401, 'No Authentication Header');
    if (!o.tokens.includes(String(token))) return tornadoError(403, 'Invalid Token');
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(raw) as Record<string, unknown>;
  } catch (error) {
    return tornadoError(400, `Bad Format [${String(error)}]`);
  }
  for (const field of ['pod_name', 'project_name', 'case_name']) {
    if (json[field] === undefined || json[field] === '') return tornadoError(400, `${field} Missing`);
  }
  if (!['PASS', 'FAIL'].includes(String(json.criteria).toUpperCase())) return tornadoError(400, "criteria must be in ['PASS', 'FAIL']");
  const pod = String(json.pod_name);
  const project = String(json.project_name);
  const testcase = String(json.case_name);
  if (!o.pods.includes(pod)) return tornadoError(403, `Could Not Found pods [${pyDict({ name: pod })}]`);
  if (!o.projects.includes(project)) return tornadoError(403, `Could Not Found projects [${pyDict({ name: project })}]`);
  if (!o.testcases.includes(`${project}/${testcase}`)) return tornadoError(403, `Could Not Found testcases [${pyDict({ project_name: project, name: testcase })}]`);
  return { status: 200, body: JSON.stringify({ href: 'http://localhost:8000/api/v1/results/5f0c0ffee0ddba11c0ffee00' }) };
}

// Listens on an ephemeral loopback port until close().
export async function startFakeTestApi(options: FakeTestApiOptions): Promise<FakeTestApi> {
  const received: FakeTestApi['received'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      const a = req.method === 'POST' && req.url === '/api/v1/results' ? answer(options, req.headers, body) : tornadoError(404, 'Not Found');
      res.writeHead(a.status, { 'Content-Type': a.status === 200 ? 'application/json' : 'text/html; charset=UTF-8' }).end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/results`,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
