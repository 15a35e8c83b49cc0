/**
 * Charts as standalone SVG: a small Vega-Lite spec compiled with vega-lite and rendered headless by vega
 * (`renderer: 'none'`), so no browser is needed.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';

const DEFAULTS = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 360, height: 240, background: 'white' };

/** Renders a Vega-Lite spec (plain JSON) to an SVG string. */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const full = { ...DEFAULTS, ...spec };
  // Faceted specs take width/height per cell; vega-lite rejects them at the top level of a facet.
  if ('encoding' in full && (full.encoding as Record<string, unknown>).column !== undefined) {
    full.width = 120;
    full.height = 120;
  }
  const compiled = vl.compile(full as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
