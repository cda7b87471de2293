// The dashboard page: one HTML document with its CSS and script inline (no external scripts,
// fonts or CDNs, so it works offline). The script draws every chart as hand-written SVG from
// /api/run/<id> and redraws a run when /api/events says its files changed.
// The script is a plain string (no template literals inside), so what is served is what is read here.

const CSS = String.raw`
body { font-family: system-ui, sans-serif; margin: 16px 24px; color: #222; background: #fafafa; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 20px 0 8px; }
.sub { color: #666; font-size: 13px; margin-bottom: 12px; }
table.runs { border-collapse: collapse; font-size: 14px; background: white; }
table.runs td, table.runs th { border: 1px solid #ddd; padding: 4px 10px; text-align: left; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: white; border: 1px solid #ddd; border-radius: 4px; padding: 8px; }
.card h3 { font-size: 14px; margin: 0 0 4px; }
.note { color: #777; font-size: 12px; }
svg text { font-family: system-ui, sans-serif; }
#status { font-size: 12px; color: #777; }
img.eval { display: block; width: 570px; max-width: 100%; background: white; margin-bottom: 6px; }
.eval-card { max-width: 590px; }
`;

const SCRIPT = String.raw`
'use strict';
var COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
var runs = [];
var data = {};
var xKey = 'epoch';
var NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs, parent, text) {
  var e = document.createElementNS(NS, tag);
  for (var k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function h(tag, attrs, parent, text) {
  var e = document.createElement(tag);
  for (var k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function fin(v) { return typeof v === 'number' && isFinite(v); }
function ext(vals) {
  var lo = Infinity, hi = -Infinity;
  for (var i = 0; i < vals.length; i++) { var v = vals[i]; if (fin(v)) { if (v < lo) lo = v; if (v > hi) hi = v; } }
  return lo <= hi ? [lo, hi] : null;
}
function niceTicks(lo, hi, n) {
  if (!(hi > lo)) return [lo];
  var raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  var steps = [1, 2, 2.5, 5, 10], step = raw;
  for (var i = 0; i < steps.length; i++) if (steps[i] * mag >= raw) { step = steps[i] * mag; break; }
  var out = [];
  for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}
function fmt(v) {
  if (v === 0) return '0';
  var a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

// At most max evenly spaced items, the last one always kept (a long run stays quick to draw).
function thin(items, max) {
  if (items.length <= max) return items;
  var out = [], stride = items.length / max;
  for (var i = 0; i < max; i++) out.push(items[Math.floor(i * stride)]);
  out[out.length - 1] = items[items.length - 1];
  return out;
}

// series: [{name, color, dashed, markers, pts: [[x, y]...], id}]
function lineChart(parent, title, yLabel, series, opts) {
  opts = opts || {};
  var W = 460, H = 260, m = { l: 62, r: 12, t: 24, b: 40 };
  var pw = W - m.l - m.r, ph = H - m.t - m.b;
  var card = h('div', { 'class': 'card', 'data-chart': opts.id || title }, parent);
  var svg = el('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H }, card);
  el('text', { x: W / 2, y: 15, 'text-anchor': 'middle', 'font-size': 13, 'font-weight': 'bold' }, svg, title);
  var xs = [], ys = [];
  series.forEach(function (s) { s.pts.forEach(function (p) { xs.push(p[0]); ys.push(p[1]); }); });
  var xe = ext(xs) || [0, 1], ye = ext(ys) || [0, 1];
  var x0 = opts.xMin !== undefined ? opts.xMin : xe[0], x1 = xe[1];
  var y0 = opts.yMin !== undefined ? Math.min(opts.yMin, ye[0]) : ye[0], y1 = ye[1];
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) { y1 += 0.5; y0 -= 0.5; }
  var xp = (x1 - x0) * 0.03, yp = (y1 - y0) * 0.06;
  x1 += xp; if (opts.xMin === undefined) x0 -= xp;
  y1 += yp; if (opts.yMin === undefined) y0 -= yp;
  function px(x) { return m.l + (x - x0) / (x1 - x0) * pw; }
  function py(y) { return m.t + ph - (y - y0) / (y1 - y0) * ph; }
  el('rect', { x: m.l, y: m.t, width: pw, height: ph, fill: '#fcfcfc', stroke: '#333' }, svg);
  niceTicks(x0, x1, 5).forEach(function (t) {
    el('line', { x1: px(t), x2: px(t), y1: m.t, y2: m.t + ph, stroke: '#e8e8e8' }, svg);
    el('text', { x: px(t), y: m.t + ph + 14, 'text-anchor': 'middle', 'font-size': 11 }, svg, fmt(t));
  });
  niceTicks(y0, y1, 4).forEach(function (t) {
    el('line', { x1: m.l, x2: m.l + pw, y1: py(t), y2: py(t), stroke: '#e8e8e8' }, svg);
    el('text', { x: m.l - 5, y: py(t) + 4, 'text-anchor': 'end', 'font-size': 11 }, svg, fmt(t));
  });
  el('text', { x: m.l + pw / 2, y: H - 6, 'text-anchor': 'middle', 'font-size': 12 }, svg, opts.xLabel || xKey);
  el('text', { transform: 'translate(13 ' + (m.t + ph / 2) + ') rotate(-90)', 'text-anchor': 'middle', 'font-size': 12 }, svg, yLabel);
  series.forEach(function (s) {
    var all = s.pts.filter(function (p) { return fin(p[0]) && fin(p[1]); });
    var pts = thin(all, 2000);
    var d = pts.map(function (p, i) { return (i ? 'L' : 'M') + px(p[0]).toFixed(1) + ' ' + py(p[1]).toFixed(1); }).join(' ');
    var path = el('path', { d: d || 'M0 0', fill: 'none', stroke: s.color, 'stroke-width': 2, 'data-series': s.id, 'data-points': all.length, 'data-drawn': pts.length }, svg);
    if (s.dashed) path.setAttribute('stroke-dasharray', '6 4');
    if (!d) path.setAttribute('visibility', 'hidden');
    if (s.markers || pts.length <= 40) pts.forEach(function (p) {
      var c = el('circle', { cx: px(p[0]), cy: py(p[1]), r: s.markers ? 4 : 2.5, fill: s.color, 'class': 'pt', 'data-series': s.id }, svg);
      el('title', {}, c, s.name + ': ' + fmt(p[1]) + ' at ' + xKey + ' ' + fmt(p[0]));
    });
  });
  var leg = h('div', { 'class': 'note' }, card);
  series.forEach(function (s) {
    var span = h('span', { style: 'margin-right:10px' }, leg);
    h('span', { 'class': 'swatch', style: 'background:' + s.color + (s.dashed ? ';opacity:0.6' : '') }, span);
    span.appendChild(document.createTextNode(s.name));
  });
}

function latestTest(ms) {
  for (var i = ms.length - 1; i >= 0; i--) if (ms[i].testAcc !== null) return ms[i];
  return null;
}

function renderSummary() {
  var box = document.getElementById('summary');
  box.textContent = '';
  var t = h('table', { 'class': 'runs' }, box);
  var hr = h('tr', {}, t);
  ['run', 'latest test acc', 'epoch', 'step', 'train loss', 'train acc', 'examples/sec', 'folder'].forEach(function (c) { h('th', {}, hr, c); });
  runs.forEach(function (r, i) {
    var d = data[r.id];
    var ms = d ? d.metrics : [];
    var last = ms.length ? ms[ms.length - 1] : null;
    var lt = latestTest(ms);
    var tr = h('tr', { 'data-run': r.id }, t);
    var td = h('td', { 'class': 'run-name' }, tr);
    h('span', { 'class': 'swatch', style: 'background:' + COLORS[i % COLORS.length] }, td);
    td.appendChild(document.createTextNode(r.name));
    h('td', { 'class': 'run-acc' }, tr, lt ? lt.testAcc.toFixed(4) : 'n/a');
    h('td', {}, tr, last ? String(Number(last.epoch.toFixed(2))) : '-');
    h('td', {}, tr, last ? String(last.step) : '-');
    h('td', {}, tr, last ? last.loss.toFixed(4) : '-');
    h('td', {}, tr, last ? last.trainAcc.toFixed(4) : '-');
    h('td', {}, tr, last ? last.examplesPerSec.toFixed(1) : '-');
    h('td', { 'class': 'note' }, tr, r.dir);
  });
}

function renderCurves() {
  var box = document.getElementById('curves');
  box.textContent = '';
  var loss = [], acc = [], lr = [], speed = [];
  runs.forEach(function (r, i) {
    var d = data[r.id];
    if (!d) return;
    var c = COLORS[i % COLORS.length], ms = d.metrics;
    function pts(key) { return ms.map(function (m) { return [m[xKey], m[key]]; }); }
    loss.push({ name: r.name + ' train loss', color: c, pts: pts('loss'), id: r.id + ':loss' });
    acc.push({ name: r.name + ' train acc', color: c, dashed: true, pts: pts('trainAcc'), id: r.id + ':trainAcc' });
    acc.push({ name: r.name + ' test acc', color: c, markers: true, id: r.id + ':testAcc',
      pts: ms.filter(function (m) { return m.testAcc !== null; }).map(function (m) { return [m[xKey], m.testAcc]; }) });
    lr.push({ name: r.name + ' lr', color: c, pts: pts('lr'), id: r.id + ':lr' });
    speed.push({ name: r.name + ' examples/sec', color: c, pts: pts('examplesPerSec'), id: r.id + ':examplesPerSec' });
  });
  lineChart(box, 'training loss', 'loss', loss, { yMin: 0, xMin: 0, id: 'loss' });
  lineChart(box, 'accuracy (test: markers)', 'accuracy', acc, { xMin: 0, id: 'accuracy' });
  lineChart(box, 'learning rate', 'lr', lr, { yMin: 0, xMin: 0, id: 'lr' });
  lineChart(box, 'throughput (this epoch so far)', 'examples/sec', speed, { yMin: 0, xMin: 0, id: 'throughput' });
}

// Blocks x steps heat map; value(b, s) -> number|null; color(v) -> css color.
function heatMap(parent, title, g0, value0, color, legend, id) {
  // Long runs: at most 300 step columns, evenly spaced.
  var cols = thin(g0.steps.map(function (_, i) { return i; }), 300);
  var g = { blocks: g0.blocks, steps: cols.map(function (i) { return g0.steps[i]; }) };
  var value = function (b, s) { return value0(b, cols[s]); };
  var nb = g.blocks.length, ns = g.steps.length;
  var cw = Math.max(3, Math.min(40, Math.floor(560 / Math.max(1, ns)))), ch = 18;
  var m = { l: 44, t: 24, b: 34 };
  var W = m.l + ns * cw + 12, H = m.t + nb * ch + m.b;
  var card = h('div', { 'class': 'card', 'data-chart': id, style: 'max-width:' + Math.max(W, 300) + 'px' }, parent);
  h('h3', {}, card, title);
  m.t = 4;
  H -= 20;
  var svg = el('svg', { width: Math.max(W, 300), height: H }, card);
  for (var b = 0; b < nb; b++) {
    el('text', { x: m.l - 4, y: m.t + b * ch + 13, 'text-anchor': 'end', 'font-size': 11 }, svg, g.blocks[b]);
    for (var s = 0; s < ns; s++) {
      var v = value(b, s);
      var r = el('rect', { x: m.l + s * cw, y: m.t + b * ch, width: cw, height: ch, fill: v === null ? '#eee' : color(v), 'class': 'cell' }, svg);
      el('title', {}, r, 'block ' + g.blocks[b] + ', step ' + g.steps[s] + ': ' + (v === null ? 'n/a' : fmt(v)));
    }
  }
  var ticks = niceTicks(g.steps[0], g.steps[ns - 1], 5);
  ticks.forEach(function (t) {
    var k = 0;
    for (var i = 0; i < ns; i++) if (Math.abs(g.steps[i] - t) < Math.abs(g.steps[k] - t)) k = i;
    el('text', { x: m.l + k * cw + cw / 2, y: m.t + nb * ch + 13, 'text-anchor': 'middle', 'font-size': 11 }, svg, String(g.steps[k]));
  });
  el('text', { x: m.l + (ns * cw) / 2, y: H - 4, 'text-anchor': 'middle', 'font-size': 11 }, svg, 'step');
  h('div', { 'class': 'note' }, card, legend);
}
function logColor(lo, hi) {
  return function (v) {
    if (!(v > 0)) return '#eee';
    var t = hi > lo ? (Math.log10(v) - lo) / (hi - lo) : 0.5;
    t = Math.max(0, Math.min(1, t));
    return 'hsl(' + (260 - 210 * t).toFixed(0) + ',70%,' + (25 + 45 * t).toFixed(0) + '%)';
  };
}
function divColor(v) {
  var t = Math.max(-1, Math.min(1, v / 2));
  return t >= 0 ? 'rgb(' + Math.round(255 - 200 * t) + ',' + Math.round(255 - 120 * t) + ',255)' : 'rgb(255,' + Math.round(255 + 150 * t) + ',' + Math.round(255 + 200 * t) + ')';
}

function renderGradflow() {
  var box = document.getElementById('gradflow');
  box.textContent = '';
  runs.forEach(function (r) {
    var d = data[r.id];
    var g = d && d.gradflow;
    var sec = h('div', { 'class': 'card', 'data-run': r.id }, box);
    h('h3', {}, sec, r.name);
    if (!g || !g.steps.length) { h('div', { 'class': 'note' }, sec, 'no gradflow.csv yet: train with --gradflow-every N'); return; }
    var row = h('div', { 'class': 'grid' }, sec);
    var logs = [];
    g.output.forEach(function (a) { a.forEach(function (v) { if (v > 0) logs.push(Math.log10(v)); }); });
    var e = ext(logs) || [0, 1];
    heatMap(row, 'gradient norm at each block output', g, function (b, s) { return g.output[b][s]; }, logColor(e[0], e[1]),
      '‖∂L/∂output‖ on a log scale: dark 1e' + e[0].toFixed(1) + ', light 1e' + e[1].toFixed(1), r.id + ':output');
    heatMap(row, 'input gradient: shortcut vs branch', g, function (b, s) {
      var a = g.inputViaShortcut[b][s], c = g.inputViaBranch[b][s];
      return a > 0 && c > 0 ? Math.log10(a / c) : null;
    }, divColor, 'log10(‖via shortcut‖ / ‖via branch‖) at each block input: blue = more through the shortcut, red = more through the convolutions, grey = no shortcut', r.id + ':ratio');
    var last = g.steps.length - 1;
    var pts = g.output.map(function (a, b) { return [b + 1, a[last]]; }).filter(function (p) { return p[1] > 0; });
    var first = g.output.map(function (a, b) { return [b + 1, a[0]]; }).filter(function (p) { return p[1] > 0; });
    var ls = function (p) { return [p[0], Math.log10(p[1])]; };
    lineChart(row, 'log10 gradient norm by block', 'log10 norm', [
      { name: 'step ' + g.steps[0], color: '#999', dashed: true, pts: first.map(ls), id: r.id + ':first' },
      { name: 'step ' + g.steps[last], color: '#1f77b4', pts: pts.map(ls), id: r.id + ':last' }
    ], { xLabel: 'block (input side -> output side)', id: r.id + ':byblock' });
  });
}

function renderEval() {
  var box = document.getElementById('evaluation');
  box.textContent = '';
  runs.forEach(function (r) {
    var d = data[r.id];
    var sec = h('div', { 'class': 'card eval-card', 'data-run': r.id }, box);
    h('h3', {}, sec, r.name);
    var files = d ? d.files : [];
    if (files.indexOf('confusion.svg') < 0) { h('div', { 'class': 'note' }, sec, 'not evaluated yet: skipgrad evaluate --checkpoint ' + r.dir); return; }
    var q = '?v=' + encodeURIComponent(d.version);
    h('img', { 'class': 'eval', src: '/run/' + r.id + '/confusion.svg' + q, alt: 'confusion matrix of ' + r.name }, sec);
    ['misclassified.svg', 'misclassified.png'].forEach(function (f) {
      if (files.indexOf(f) >= 0) h('img', { 'class': 'eval', src: '/run/' + r.id + '/' + f + q, alt: 'misclassified images of ' + r.name }, sec);
    });
  });
}

function renderAll() {
  renderSummary();
  renderCurves();
  renderGradflow();
  renderEval();
  document.getElementById('status').textContent = 'updated ' + new Date().toLocaleTimeString();
  document.body.setAttribute('data-renders', String(Number(document.body.getAttribute('data-renders') || 0) + 1));
}

function load(id) {
  return fetch('/api/run/' + id).then(function (res) { return res.json(); }).then(function (d) { data[id] = d; });
}

function start() {
  document.getElementById('x').addEventListener('change', function (e) { xKey = e.target.value; renderAll(); });
  fetch('/api/runs').then(function (res) { return res.json(); }).then(function (list) {
    runs = list;
    document.title = 'skipgrad: ' + list.map(function (r) { return r.name; }).join(', ');
    return Promise.all(list.map(function (r) { return load(r.id); }));
  }).then(function () {
    renderAll();
    var es = new EventSource('/api/events');
    var pending = Promise.resolve();
    es.addEventListener('update', function (ev) {
      var id = JSON.parse(ev.data).id;
      pending = pending.then(function () { return load(id); }).then(renderAll);
    });
    es.onerror = function () { document.getElementById('status').textContent = 'disconnected (is the dashboard still running?); retrying'; };
  });
}
start();
`;

export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>skipgrad dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>${CSS}</style>
</head>
<body>
<h1>skipgrad: watch it learn</h1>
<div class="sub">Live from the run folders; updates when train writes a new point. <span id="status"></span></div>
<div id="summary"></div>
<h2>Training curves <label class="note">x axis <select id="x"><option value="epoch">epoch</option><option value="step">step</option></select></label></h2>
<div id="curves" class="grid"></div>
<h2>Gradient flow through every block (train --gradflow-every N)</h2>
<div id="gradflow" class="grid"></div>
<h2>Evaluation (skipgrad evaluate)</h2>
<div id="evaluation" class="grid"></div>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
