/* Plain SVG charts for the console (no chart library): a bar per child area stacked by
   status, and the online response rate over the days of the online phase. Each chart is an
   <svg role="img"> with a text alternative; the same figures are in the table below it. */
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* rows: [{label, values: {key: n}}]; segments: [{key, label, color}] in stacking order. */
  function stackedBars(rows, segments, summary) {
    const rowHeight = 26, labelWidth = 200, width = 760, barWidth = width - labelWidth - 70;
    const height = rows.length * rowHeight + 8;
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": summary, class: "chart bars" });
    svg.appendChild(el("title", {}, summary));
    const totals = rows.map((r) => segments.reduce((sum, s) => sum + (r.values[s.key] || 0), 0));
    const max = Math.max(1, ...totals);
    rows.forEach((row, i) => {
      const y = 4 + i * rowHeight;
      const g = el("g", {});
      g.appendChild(el("title", {}, row.label + ": " + segments.map((s) => `${s.label} ${row.values[s.key] || 0}`).join(", ")));
      // The code's last segment and the area's name, shortened to fit (whole in the title and the table).
      const label = row.label.length > 28 ? row.label.slice(0, 27) + "\u2026" : row.label;
      g.appendChild(el("text", { x: labelWidth - 8, y: y + 16, "text-anchor": "end", class: "chart-label" }, label));
      let x = labelWidth;
      for (const s of segments) {
        const n = row.values[s.key] || 0;
        if (!n) continue;
        const w = (n / max) * barWidth;
        g.appendChild(el("rect", { x: x.toFixed(2), y, width: Math.max(w, 0.5).toFixed(2), height: rowHeight - 6, fill: s.color }));
        x += w;
      }
      g.appendChild(el("text", { x: x + 6, y: y + 16, class: "chart-value" }, String(totals[i])));
      svg.appendChild(g);
    });
    return svg;
  }

  /* points: [{day: "YYYY-MM-DD", rate: 0..1}] oldest first. */
  function rateLine(points, summary) {
    const width = 720, height = 220, left = 48, right = 16, top = 12, bottom = 40;
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": summary, class: "chart line" });
    svg.appendChild(el("title", {}, summary));
    const plotW = width - left - right, plotH = height - top - bottom;
    for (const pct of [0, 25, 50, 75, 100]) {
      const y = top + plotH - (pct / 100) * plotH;
      svg.appendChild(el("line", { x1: left, x2: width - right, y1: y, y2: y, class: "grid" }));
      svg.appendChild(el("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "chart-label" }, pct + "%"));
    }
    const step = points.length > 1 ? plotW / (points.length - 1) : 0;
    const xy = points.map((p, i) => [left + (points.length > 1 ? i * step : plotW / 2), top + plotH - p.rate * plotH]);
    if (xy.length > 1) svg.appendChild(el("polyline", { points: xy.map((p) => p.map((v) => v.toFixed(1)).join(",")).join(" "), class: "rate" }));
    const every = Math.max(1, Math.ceil(points.length / 8));
    points.forEach((p, i) => {
      const [x, y] = xy[i];
      const dot = el("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 4, class: "rate-dot" });
      dot.appendChild(el("title", {}, `${p.day}: ${(p.rate * 100).toFixed(1)}%`));
      svg.appendChild(dot);
      if (i % every === 0 || i === points.length - 1) {
        svg.appendChild(el("text", { x: x.toFixed(1), y: height - 14, "text-anchor": "middle", class: "chart-label" }, p.day.slice(5)));
      }
    });
    return svg;
  }

  window.ConsoleCharts = { stackedBars, rateLine };
})();
