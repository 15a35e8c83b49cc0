/** Reports from results stores: self-contained HTML, SVG charts (Vega-Lite rendered in Node), Markdown/CSV tables. */
export * from './data.js';
export * from './charts.js';
export * from './report.js';
export * from './browser.js';
