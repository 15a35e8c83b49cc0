/** A small line chart on a canvas (the live views redraw many times a second; Vega is kept for the results view). */
export interface Series {
  label: string;
  color: string;
  points: [number, number][];
  dash?: number[];
}

export function drawChart(canvas: HTMLCanvasElement, series: Series[], o: { logY?: boolean; xLabel: string; yLabel: string; yRange?: [number, number] }): void {
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth, H = canvas.clientHeight;
  if (canvas.width !== W * dpr) { canvas.width = W * dpr; canvas.height = H * dpr; }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  const f = (y: number): number => (o.logY ? Math.log10(y) : y);
  const pts = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(f(y)));
  if (pts.length === 0) return;
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = o.yRange ?? [Math.min(...pts.map((p) => f(p[1]))), Math.max(...pts.map((p) => f(p[1])))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 - y0 < 1e-12) { y0 -= 0.5; y1 += 0.5; }
  const pad = 0.05 * (y1 - y0);
  y0 -= pad; y1 += pad;
  const L = 64, R = 12, T = 10, B = 36;
  const X = (x: number): number => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const Y = (y: number): number => T + (1 - (f(y) - y0) / (y1 - y0)) * (H - T - B);
  ctx.strokeStyle = '#888';
  ctx.fillStyle = '#222';
  ctx.font = '12px system-ui, sans-serif';
  ctx.strokeRect(L, T, W - L - R, H - T - B);
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    const label = o.logY ? (10 ** v).toPrecision(2) : v.toPrecision(3);
    ctx.fillText(label, 4, T + (1 - i / 4) * (H - T - B) + 4);
  }
  ctx.fillText(String(Math.round(x0)), L, H - B + 16);
  const right = String(Math.round(x1));
  ctx.fillText(right, W - R - ctx.measureText(right).width, H - B + 16);
  ctx.fillText(o.xLabel, (W - ctx.measureText(o.xLabel).width) / 2, H - 6);
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.setLineDash(s.dash ?? []);
    ctx.beginPath();
    let pen = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(f(y))) { pen = false; continue; }
      const py = Math.max(T, Math.min(H - B, Y(y)));
      if (pen) ctx.lineTo(X(x), py); else ctx.moveTo(X(x), py);
      pen = true;
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
  // Legend, top right.
  let ly = T + 14;
  for (const s of series) {
    const w = ctx.measureText(s.label).width;
    ctx.strokeStyle = s.color;
    ctx.setLineDash(s.dash ?? []);
    ctx.beginPath();
    ctx.moveTo(W - R - w - 28, ly - 7);
    ctx.lineTo(W - R - w - 10, ly - 7);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#222';
    ctx.fillText(s.label, W - R - w - 6, ly - 3);
    ly += 16;
  }
  ctx.fillText(o.yLabel, L + 6, T + 14);
}
