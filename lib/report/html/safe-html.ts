// HTML built only through the `html` tag: every interpolated value is escaped unless it is
// already SafeHtml, so a section cannot forget to escape a tool's message. The only ways to
// make SafeHtml from a string are the tag itself and `trustSvg` for ECharts' output.
import { escapeHtml } from './escape.ts';

export interface SafeHtml {
  readonly __html: string;
}

function isSafe(v: unknown): v is SafeHtml {
  return typeof v === 'object' && v !== null && typeof (v as SafeHtml).__html === 'string';
}

function piece(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (isSafe(v)) return v.__html;
  if (Array.isArray(v)) return v.map(piece).join('');
  return escapeHtml(v);
}

// The template tag the page is written with: `html\`<td>${message}</td>\``.
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += piece(v) + (strings[i + 1] ?? '');
  });
  return { __html: out };
}

// ECharts escapes the texts it draws (titles, legends, labels); its SVG goes in as it is, minus
// the XML namespaces that inline SVG in HTML does not need (they are names, not links, but a
// report with no "http" at all is easier to check for external references).
export function trustSvg(svg: string): SafeHtml {
  return { __html: svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '') };
}
