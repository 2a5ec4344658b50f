// Chart specs to inline SVG with ECharts' server-side renderer (SVG renderer, ssr: true):
// no DOM, no canvas, no browser, no native module. ECharts is imported on first use, so a
// broken charting install fails the HTML report alone, never the run that writes it.
import type { ChartSpec } from './chart-specs.ts';

type EChartsModule = typeof import('echarts');
let loaded: Promise<EChartsModule> | undefined;

/**
 * Without a canvas, ECharts estimates text widths from Arial-like metrics, while browsers on
 * Debian draw sans-serif as the wider DejaVu Sans: legend entries then overlap. This estimate
 * errs wide, so that legends and labels keep their gaps in any common sans-serif font.
 */
export function estimateTextWidth(text: string, font: string | undefined): number {
  const size = Number(/(\d+(?:\.\d+)?)px/.exec(font ?? '')?.[1] ?? 12);
  let em = 0;
  for (const ch of text) {
    if (/[\s.,:;'|!il()[\]]/.test(ch)) em += 0.34;
    else if (/[A-Z0-9mwMW%µ]/.test(ch)) em += 0.72;
    else em += 0.62;
  }
  return em * size;
}

function loadECharts(): Promise<EChartsModule> {
  loaded ??= import('echarts').then((echarts) => {
    echarts.setPlatformAPI({ measureText: (text: string, font?: string) => ({ width: estimateTextWidth(text, font) }) });
    return echarts;
  });
  return loaded;
}

// One chart at a time, disposed at once: a report of many charts holds one in memory.
export async function renderChartSvg(spec: ChartSpec): Promise<string> {
  const echarts = await loadECharts();
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: spec.width, height: spec.height });
  try {
    chart.setOption(spec.option);
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** SVG per chart id; a chart that fails to render becomes a message in its place. */
export interface RenderedCharts {
  svg: Map<string, string>;
  failures: Map<string, string>;
}

// A chart that ECharts rejects leaves a gap with its reason, and the rest of the page stands.
export async function renderCharts(specs: readonly ChartSpec[]): Promise<RenderedCharts> {
  const out: RenderedCharts = { svg: new Map(), failures: new Map() };
  for (const spec of specs) {
    try {
      out.svg.set(spec.id, await renderChartSvg(spec));
    } catch (error) {
      out.failures.set(spec.id, error instanceof Error ? error.message : String(error));
    }
  }
  return out;
}
