// ECharts options for the report's plots, built from the view model. Pure: the same view
// gives the same option, and the tests read the option without rendering it. Latency is on
// x in microseconds; counts are on a log axis so that the rare long wakeups, the ones that
// decide a real-time verdict, stay visible beside the millions of short ones.
import type { BarSeriesOption, EChartsOption } from 'echarts';
import type { HistogramChart } from './view-model.ts';
import type { TrendChart } from './trends.ts';
import type { BarChartView } from './comparison-view.ts';
import { formatNumber, formatShortTime } from './format.ts';
import { lowestPositive } from './histograms.ts';

export interface ChartSpec {
  id: string;
  width: number;
  height: number;
  option: EChartsOption;
}

/** Axis names every histogram carries, so a reader (and a test) finds the units on each plot. */
export const LATENCY_AXIS_NAME = 'latency (µs)';
export const COUNT_AXIS_NAME = 'samples (log scale)';
const PALETTE = ['#3366cc', '#dc3912', '#ff9900', '#109618', '#990099', '#0099c6', '#dd4477', '#66aa00', '#b82e2e', '#316395'];
const TEXT = { fontFamily: 'sans-serif', color: '#333' };

function legendRows(names: readonly string[], width: number): number {
  const chars = names.reduce((sum, n) => sum + n.length + 6, 0);
  return Math.max(1, Math.ceil((chars * 7.5) / (width - 40)));
}

function niceCeil(x: number): number {
  if (x <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(x)) / 2;
  return Math.ceil(x / step) * step;
}

/**
 * A custom series draws each bucket as a rectangle over its true width, from the bottom of the
 * plot: ECharts' bars on a log axis start at 1, which would hide every bucket of one sample,
 * and that is often the maximum. A log axis cannot show 0, so empty buckets are not drawn.
 */
export function buildHistogramSpec(chart: HistogramChart, size = { width: 640, height: 320 }): ChartSpec {
  const names = chart.series.map((s) => s.name);
  const legendHeight = legendRows(names, size.width) * 20;
  const all = chart.series.flatMap((s) => s.buckets);
  const maxX = Math.max(0, ...all.map((b) => b.upper), ...chart.markers.map((m) => m.x));
  const log = chart.scale === 'log' && all.length > 0;
  const minX = log ? 10 ** Math.floor(Math.log10(lowestPositive(all))) : 0;
  const overlay = chart.series.length > 1;
  const option: EChartsOption = {
    animation: false,
    color: PALETTE,
    textStyle: TEXT,
    title: { text: chart.title, left: 'center', top: 4, textStyle: { fontSize: 14, fontWeight: 'bold' } },
    legend: { show: true, top: 28, data: names },
    // Room above the plot for the p99 and max labels, under the legend.
    grid: { left: 64, right: 40, top: 44 + legendHeight + (chart.markers.length > 0 ? 14 : 0), bottom: 52 },
    xAxis: log
      ? { type: 'log', logBase: 10, name: `${LATENCY_AXIS_NAME}, log scale`, nameLocation: 'middle', nameGap: 30, min: minX, max: 10 ** Math.ceil(Math.log10(maxX)), splitLine: { show: false }, axisLabel: { formatter: (v: number) => formatNumber(v) } }
      : { type: 'value', name: LATENCY_AXIS_NAME, nameLocation: 'middle', nameGap: 30, min: 0, max: niceCeil(maxX * 1.02), splitLine: { show: false } },
    // From 0.5, so that a bucket of a single sample still has a height.
    yAxis: { type: 'log', logBase: 10, min: 0.5, name: COUNT_AXIS_NAME, nameLocation: 'middle', nameGap: 46, axisLabel: { formatter: (v: number) => (v < 1 ? '' : formatNumber(v)) } },
    series: chart.series.map((s, i) => ({
      type: 'custom',
      name: s.name,
      encode: { x: [0, 1], y: 2 },
      data: s.buckets.map((b) => [b.lower, b.upper, b.count]),
      renderItem: (params, api) => {
        // A bucket from 0 starts at the left edge of a log axis.
        const from = api.coord([Math.max(Number(api.value(0)), minX), api.value(2)]) as number[];
        const to = api.coord([api.value(1), api.value(2)]) as number[];
        const grid = params.coordSys as unknown as { y: number; height: number };
        const x = from[0] ?? 0;
        const y = from[1] ?? 0;
        return {
          type: 'rect',
          shape: { x, y, width: Math.max((to[0] ?? x) - x, 1.5), height: grid.y + grid.height - y },
          style: { fill: PALETTE[i % PALETTE.length], opacity: overlay ? 0.55 : 0.9 },
        };
      },
      ...(i === 0 && chart.markers.length > 0
        ? {
            markLine: {
              silent: true,
              symbol: 'none',
              lineStyle: { type: 'dashed', color: '#555' },
              label: { formatter: '{b}', position: 'end' },
              data: chart.markers.map((m) => ({ xAxis: m.x, name: `${m.name} ${formatNumber(m.x)} µs` })),
            },
          }
        : {}),
    })),
  };
  return { id: chart.id, width: size.width, height: size.height + legendHeight - 20 + (chart.markers.length > 0 ? 14 : 0), option };
}

// One line per figure across runs; a bound (overflowed max, generator-limited rate) is drawn as a triangle.
export function buildTrendSpec(chart: TrendChart, size = { width: 900, height: 320 }): ChartSpec {
  const names = chart.series.map((s) => s.name);
  const legendHeight = legendRows(names, size.width) * 20;
  const latency = chart.kind === 'latency';
  const option: EChartsOption = {
    animation: false,
    color: PALETTE,
    textStyle: TEXT,
    title: { text: `${chart.caseName}: ${latency ? 'p99 and max latency' : 'NDR and PDR throughput'} per run`, left: 'center', top: 4, textStyle: { fontSize: 14, fontWeight: 'bold' } },
    legend: { show: true, top: 28, data: names },
    grid: { left: 72, right: 36, top: 44 + legendHeight, bottom: 56 },
    xAxis: { type: 'category', name: 'run start (UTC)', nameLocation: 'middle', nameGap: 34, data: chart.runs.map((r) => formatShortTime(r.startedAt)), boundaryGap: false },
    yAxis: latency
      ? { type: 'log', logBase: 10, name: `${LATENCY_AXIS_NAME}, log scale`, nameLocation: 'middle', nameGap: 52 }
      : { type: 'value', name: 'throughput (Mpps)', nameLocation: 'middle', nameGap: 52 },
    series: chart.series.map((s) => ({
      type: 'line',
      name: s.name,
      connectNulls: false,
      symbolSize: 7,
      data: s.points.map((p) => (p.value === null ? null : p.bound ? { value: p.value, symbol: 'triangle' } : p.value)),
    })),
  };
  return { id: chart.id, width: size.width, height: size.height + legendHeight - 20, option };
}

const LEGEND_SLOT = 'legend-slot';
/** The legend entry of a bar that is only a lower bound. */
export const BOUND_LEGEND = '≥ only a lower bound';
// Hatched, with a dashed outline and a ≥ above it: a floor must not read as a measured height.
const BOUND_STYLE: NonNullable<BarSeriesOption['itemStyle']> = {
  decal: { symbol: 'rect', symbolSize: 1, dashArrayX: [1, 0], dashArrayY: [2, 3], rotation: 0, color: 'rgba(255,255,255,0.75)' },
  borderColor: '#1f2328',
  borderWidth: 1,
  borderType: 'dashed',
};

// Grouped bars: one group per frame size, one bar per forwarding case; a missing figure is no bar.
export function buildBarSpec(chart: BarChartView, size = { width: 640, height: 320 }): ChartSpec {
  const anyBound = chart.series.some((s) => s.bounds.some(Boolean));
  const names = [...chart.series.map((s) => s.name), ...(anyBound ? [BOUND_LEGEND] : [])];
  const option: EChartsOption = {
    animation: false,
    color: PALETTE,
    textStyle: TEXT,
    title: { text: chart.title, left: 'center', top: 4, textStyle: { fontSize: 14, fontWeight: 'bold' } },
    legend: { show: true, top: 28, data: names },
    grid: { left: 64, right: 24, top: 44 + legendRows(names, size.width) * 20, bottom: 52 },
    xAxis: { type: 'category', name: 'frame size', nameLocation: 'middle', nameGap: 30, data: chart.categories },
    yAxis: { type: 'value', name: chart.axisName, nameLocation: 'middle', nameGap: 46 },
    series: [
      ...chart.series.map((s, i) => ({
        type: 'bar' as const,
        name: s.name,
        ...(i === 0 && anyBound ? { stack: LEGEND_SLOT } : {}),
        data: s.values.map((v, i) => (v === null ? '-' : s.bounds[i] ? { value: v, itemStyle: BOUND_STYLE, label: { show: true, position: 'top' as const, formatter: '≥', fontSize: 14 } } : v)),
      })),
      // No data: it only puts the bound's style in the legend, stacked so that it takes no bar slot.
      ...(anyBound ? [{ type: 'bar' as const, name: BOUND_LEGEND, stack: LEGEND_SLOT, data: [], itemStyle: { color: '#8c959f', ...BOUND_STYLE } }] : []),
    ],
  };
  return { id: chart.id, width: size.width, height: size.height, option };
}
