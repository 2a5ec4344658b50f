// /proc/cmdline read the way the kernel reads it: dashes and underscores in parameter
// names are the same, double quotes may wrap values, the last occurrence wins, and
// everything after a bare `--` belongs to init, not to the kernel.
import { parseKernelCpuList } from './kernel-cpu-list.ts';

export interface KernelParam {
  /** Name with dashes turned into underscores, e.g. `intel_idle.max_cstate`. */
  key: string;
  value: string | undefined;
}

export interface KernelCmdline {
  params: KernelParam[];
}

function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let quoted = false;
  let inWord = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
      inWord = true;
    } else if (!quoted && /\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

// Every cmdline check reads parameters through this one parser.
export function parseKernelCmdline(text: string): KernelCmdline {
  const params: KernelParam[] = [];
  for (const word of splitWords(text.replace(/\0/g, ' '))) {
    if (word === '--') break;
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    params.push({ key: name.replaceAll('-', '_'), value: eq < 0 ? undefined : word.slice(eq + 1) });
  }
  return { params };
}

// The kernel's parameq() treats - and _ alike in names.
function normaliseKey(key: string): string {
  return key.replaceAll('-', '_');
}

// The kernel applies the last occurrence of most parameters.
export function cmdlineValue(cmdline: KernelCmdline, key: string): string | undefined {
  const k = normaliseKey(key);
  for (let i = cmdline.params.length - 1; i >= 0; i--) {
    const p = cmdline.params[i] as KernelParam;
    if (p.key === k) return p.value ?? '';
  }
  return undefined;
}

// hugepagesz=/hugepages= pairs repeat, so all occurrences matter there.
export function cmdlineValues(cmdline: KernelCmdline, key: string): string[] {
  const k = normaliseKey(key);
  return cmdline.params.filter((p) => p.key === k).map((p) => p.value ?? '');
}

// Flags such as rcu_nocb_poll carry no value; presence is the fact.
export function cmdlineHas(cmdline: KernelCmdline, key: string): boolean {
  return cmdlineValue(cmdline, key) !== undefined;
}

export type IsolcpusFlag = 'nohz' | 'domain' | 'managed_irq';

export type IsolcpusValue = { ok: true; flags: IsolcpusFlag[]; cpus: number[] } | { ok: false; message: string };

// isolcpus=[flag,...,]cpulist: with no flag the kernel means `domain`; with flags, only those apply.
export function parseIsolcpus(value: string, lastCpu?: number): IsolcpusValue {
  const tokens = value.split(',');
  const flags: IsolcpusFlag[] = [];
  while (tokens.length > 0 && /^[a-z_]+$/.test(tokens[0] as string) && tokens[0] !== 'all') {
    const token = tokens.shift() as string;
    if (token !== 'nohz' && token !== 'domain' && token !== 'managed_irq') {
      return { ok: false, message: `expected isolcpus flags nohz, domain or managed_irq, got ${JSON.stringify(token)}` };
    }
    flags.push(token);
  }
  const list = parseKernelCpuList(tokens.join(','), lastCpu);
  if (!list.ok) return list;
  return { ok: true, flags: flags.length === 0 ? ['domain'] : flags, cpus: list.cpus };
}
