// Test plan, Device Interrupt Test: a device raises an interrupt every 1 ms and the interrupt
// is delivered to the VNF; measured from the interrupt to its handler in the VNF. The device
// is the guest's NIC: kfn-irqgen on the traffic generator (or the host) sends one frame per
// period to the guest's data port, and kfn-irqrecv in the guest measures each arrival.
import { useCase } from '../lib/harness/case-context.ts';
import { annotateEmulation, declareLimitTests } from '../lib/harness/limit-tests.ts';
import { buildDeviceInterruptFigures, buildDeviceInterruptReport, measureDeviceInterrupt, type DeviceInterruptMeasurement } from '../lib/cases/device-interrupt.ts';
import { explainWithheldLimit, parseDeviceInterruptArgs, planDeviceInterrupt } from '../lib/cases/device-interrupt-plan.ts';
import { formatLatencyTable } from '../lib/report/latency-table.ts';

const ctx = useCase();
const args = parseDeviceInterruptArgs(ctx.args);
const planned = planDeviceInterrupt(ctx.pod, args);

describe('device_interrupt', () => {
  if ('skip' in planned) {
    it('measured', function () {
      ctx.annotate({ skipReason: planned.skip });
      this.skip();
    });
    return;
  }
  const plan = planned.plan;

  describe(`${plan.generator.name} -> ${plan.receiver.name}`, () => {
    let measured: DeviceInterruptMeasurement;

    before(async () => {
      measured = await measureDeviceInterrupt(ctx, plan, args);
    });

    it('kfn-irqrecv measured the interrupts', () => {
      const report = buildDeviceInterruptReport(measured);
      annotateEmulation(ctx, plan.receiver);
      ctx.annotate({
        properties: report.properties,
        measurements: report.measurements,
        systemOut: [formatLatencyTable(report.rows), ...report.notes].join('\n'),
      });
    });

    // The limits apply to the receiving guest; a figure the declared clock case cannot give is a skip with its reason.
    declareLimitTests(ctx, plan.receiver, (metric) => buildDeviceInterruptFigures(metric, measured), {
      withheld: (limit) => explainWithheldLimit(limit.metric, plan),
    });
  });
});
