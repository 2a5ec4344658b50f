// The metric names each case reports, so that a threshold profile naming a metric no
// case measures (a typo such as "avg_latency") is bad input at load time, not a limit
// that silently never applies. A new case adds one line here.
import { DEVICE_INTERRUPT_METRICS } from './device-interrupt.ts';
import { listForwardingMetricNames } from './forwarding-figures.ts';
import { LATENCY_METRICS } from './latency-figures.ts';
import { HWLATDETECT_METRICS } from './hwlatdetect.ts';

export function listCaseMetrics(): Record<string, string[]> {
  const forwarding = listForwardingMetricNames();
  return {
    timer: [...LATENCY_METRICS],
    oslat: [...LATENCY_METRICS],
    hwlatdetect: [...HWLATDETECT_METRICS],
    device_interrupt: DEVICE_INTERRUPT_METRICS,
    baremetal_forwarding: forwarding,
    sriov_forwarding: forwarding,
    ovs_dpdk_forwarding: forwarding,
  };
}
