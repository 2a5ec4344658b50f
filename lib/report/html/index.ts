// The HTML report's public surface: the run's reporter and the `report` command's writers.
export { createHtmlReporter, type HtmlReporterOptions } from './reporter.ts';
export { REPORT_FILE, buildCompareReportHtml, buildRunReportHtml, compareReportFile, writeCompareReport, writeRunReport } from './build-report.ts';
