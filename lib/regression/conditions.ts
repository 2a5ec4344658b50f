// The case arguments and setup that move a case's figures, read back from its recorded
// details, so that runs with different arguments are 'not comparable' instead of compared.
// Each entry is named '<what> (<run.args key>)', the value as text, null when not recorded.
import { isObject, percent, str } from './values.ts';

// `-i1000`, `-i 1000`, `--interval=1000` and `--interval 1000` alike; undefined when absent.
function readOption(tokens: readonly string[], short: string, long: string): string | undefined {
  for (const [i, tok] of tokens.entries()) {
    if (tok === short || tok === long) return tokens[i + 1];
    if (tok.startsWith(`${long}=`)) return tok.slice(long.length + 1);
    if (tok.startsWith(short) && /^\d+$/.test(tok.slice(short.length))) return tok.slice(short.length);
  }
  return undefined;
}

/** The key part of the hypervisor's accelerator: a guest under TCG measures an emulator, not KVM. */
export const ACCELERATOR_CONDITION = 'accelerator (accelerator)';
/** What a result without an accelerator records: no VM the suite launched (bare metal, a namespace). */
export const NO_ACCELERATOR = 'none recorded';

/**
 * The accelerator a result was measured under (`kvm`, `tcg`), as the launched-guest work
 * records it: `accelerator` on a forwarding case's details or on a latency node's entry.
 */
export function readAccelerator(details: Record<string, unknown>): Record<string, string> {
  return { [ACCELERATOR_CONDITION]: str(details.accelerator) ?? NO_ACCELERATOR };
}

/** The timer's interval_us and priority, read back from the cyclictest command it ran. */
export function readTimerConditions(command: unknown): Record<string, string | null> {
  if (typeof command !== 'string') return { 'cyclictest interval (interval_us)': null, 'cyclictest priority (priority)': null };
  const tokens = command.trim().split(/\s+/);
  // cyclictest's own defaults apply when an option is absent: 1000 us, priority 0.
  return {
    'cyclictest interval (interval_us)': `${readOption(tokens, '-i', '--interval') ?? '1000'} us`,
    'cyclictest priority (priority)': readOption(tokens, '-p', '--priority') ?? '0',
  };
}

/** oslat's priority and bucket size (the overflow bound of its percentiles), read back from its command. */
export function readOslatConditions(command: unknown): Record<string, string | null> {
  const tokens = typeof command === 'string' ? command.trim().split(/\s+/) : [];
  // oslat's own defaults apply when an option is absent: no SCHED_FIFO, 32 buckets.
  return {
    'oslat priority (priority)': tokens.length ? (readOption(tokens, '-f', '--rtprio') ?? 'default') : null,
    'oslat buckets (bucket_size)': tokens.length ? (readOption(tokens, '-b', '--bucket-size') ?? '32') : null,
  };
}

/** hwlatdetect's threshold, window and width, as recorded. */
export function readHwlatdetectConditions(d: Record<string, unknown>): Record<string, string | null> {
  const us = (v: unknown) => (typeof v === 'number' ? `${v} us` : null);
  return { 'threshold (threshold_us)': us(d.thresholdUs), 'sample window (window_us)': us(d.windowUs), 'sample width (width_us)': us(d.widthUs) };
}

function readForwarder(details: Record<string, unknown>): string | null {
  const f = details.forwarder;
  const description = isObject(details.topology) ? str(details.topology.description) : null;
  if (isObject(f) && f.kind === 'kernel') return 'kernel';
  // details.forwarder is written when the forwarder stops; a case that died before has the path's description only.
  const mode = (isObject(f) ? str(f.forwardMode) : null) ?? /testpmd \((io|macswap)\b/.exec(description ?? '')?.[1];
  if (mode) return `testpmd ${mode}`;
  return description?.includes('kernel IPv4 forwarding') ? 'kernel' : null;
}

/** What every figure of a forwarding case shares: generator, forwarder, search resolution, accelerator. */
export function readForwardingConditions(details: Record<string, unknown>): Record<string, string | null> {
  const plan = isObject(details.plan) ? details.plan : {};
  return {
    'traffic generator (generator)': isObject(details.generator) ? str(details.generator.name) : null,
    'forwarder (forwarder, forward_mode)': readForwarder(details),
    'search resolution (search_resolution_percent)': percent(plan.epsilonFraction, 100),
    ...readAccelerator(details),
  };
}

/** The device_interrupt arguments and setup that move its latencies. */
export function readDeviceInterruptConditions(d: Record<string, unknown>): Record<string, string | null> {
  const receiver = isObject(d.receiver) ? d.receiver : {};
  return {
    'interrupt period (period_us)': typeof d.period_ns === 'number' ? `${d.period_ns / 1000} us` : null,
    'receiver priority (priority)': typeof receiver.priority === 'number' ? `${str(receiver.policy) ?? 'SCHED_FIFO'} ${receiver.priority}` : str(receiver.policy),
    'clock case (clock_domain)': isObject(d.clock_case) ? str(d.clock_case.domain) : null,
    'receive timestamps (hw_timestamps)': str(d.timestamp_kind),
    ...readAccelerator(d),
  };
}
