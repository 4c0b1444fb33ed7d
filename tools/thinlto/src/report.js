// The ThinLTO report's page: draws every view from the JSON in #thinlto-data.
// Long lists are virtual (only the rows in view exist); every string from the
// data goes into the page as text (textContent), never as HTML.
(function () {
  'use strict';
  var started = performance.now();
  var D = JSON.parse(document.getElementById('thinlto-data').textContent);
  var M = D.modules;
  var N = M.path.length;
  var SVGNS = 'http://www.w3.org/2000/svg';

  // ---- derived data -------------------------------------------------------
  var importers = [];
  var edges = 0;
  for (var i = 0; i < N; i++) importers.push([]);
  for (i = 0; i < N; i++) {
    var imps = M.imports[i];
    edges += imps.length;
    for (var k = 0; k < imps.length; k++) importers[imps[k]].push([i, k]);
  }
  var totalBytes = 0;
  for (i = 0; i < N; i++) if (M.size[i] > 0) totalBytes += M.size[i];
  function importedBytes(i) {
    var s = 0, imps = M.imports[i];
    for (var k = 0; k < imps.length; k++) if (M.size[imps[k]] > 0) s += M.size[imps[k]];
    return s;
  }
  function inputBytes(i) { return Math.max(M.size[i], 0) + importedBytes(i); }
  function owner(i) { return M.owner[i] < 0 ? '' : D.owners[M.owner[i]]; }
  function langOf(m) { return m < 0 ? '?' : M.lang[m]; }
  function isRust(l) { return l === 'Rust'; }
  function crosses(a, b) { return a !== '?' && b !== '?' && isRust(a) !== isRust(b); }
  var IL = { backend: 0, caller: 1, callee: 2, callerMod: 3, calleeMod: 4, inlined: 5, reason: 6, count: 7 };
  function rowCrosses(r) { return crosses(langOf(r[IL.callerMod]), langOf(r[IL.calleeMod])); }
  var crossRows = D.inlines.filter(rowCrosses);

  // ---- formatting and elements ---------------------------------------------
  function fmtInt(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function fmtBytes(n) {
    if (n == null || n < 0) return '?';
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KB';
    if (n < 1073741824) return (n / 1048576).toFixed(1) + ' MB';
    return (n / 1073741824).toFixed(2) + ' GB';
  }
  function fmtS(s) { return s == null ? '?' : (s < 10 ? s.toFixed(3) : s.toFixed(1)) + ' s'; }
  function pct(a, b) { return b > 0 ? (100 * a / b).toFixed(2) + '%' : '?'; }
  function base(p) { var j = p.lastIndexOf('/'); return j < 0 ? p : p.slice(j + 1); }
  function plural(n, one, many) { return fmtInt(n) + ' ' + (n === 1 ? one : (many || one + 's')); }
  function median(xs) { if (!xs.length) return 0; var s = xs.slice().sort(function (a, b) { return a - b; }); return s[s.length >> 1]; }

  // el('div', {class: 'x', onclick: f}, child, 'text', ...): strings become text nodes.
  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) for (var a in attrs) {
      if (a.slice(0, 2) === 'on') e.addEventListener(a.slice(2), attrs[a]);
      else if (a === 'text') e.textContent = attrs[a];
      else e.setAttribute(a, attrs[a]);
    }
    for (var c = 2; c < arguments.length; c++) add(e, arguments[c]);
    return e;
  }
  function add(e, c) {
    if (c == null || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(e, x); }); return; }
    e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var a in attrs || {}) {
      if (a.slice(0, 2) === 'on') e.addEventListener(a.slice(2), attrs[a]);
      else if (a === 'text') e.textContent = attrs[a];
      else e.setAttribute(a, attrs[a]);
    }
    return e;
  }
  var LANGCLASS = { 'Rust': 'rust', 'C++': 'cpp', 'C': 'c' };
  function langBadge(l) { return el('span', { class: 'lang ' + (LANGCLASS[l] || 'q'), text: l }); }
  function modLink(j, label) {
    return el('a', { class: 'link path', title: M.path[j], onclick: function () { go({ m: j }); } }, label || M.path[j]);
  }
  function ownerLink(o) {
    if (o < 0) return el('span', { class: 'muted', text: '(no owner)' });
    return el('a', { class: 'link', onclick: function () { go({ t: o }); } }, D.owners[o]);
  }
  function fnLink(n, cls) {
    var attrs = { class: 'fn link ' + (cls || ''), onclick: function () { go({ f: n }); } };
    if (D.mangled[n]) attrs.title = D.mangled[n];
    return el('span', attrs, D.names[n]);
  }
  function tags(i) {
    var t = [];
    if (!M.loaded[i]) t.push(el('span', { class: 'tag', text: 'not loaded' }));
    else if (!importers[i].length) t.push(el('span', { class: 'tag', text: 'imported by nobody' }));
    if (M.stale[i].length) t.push(el('span', { class: 'tag bad', text: 'stale' }));
    return t;
  }

  // ---- virtual table -------------------------------------------------------
  // cols: [{title, w (grid width), cell(id) -> string|Node, key(id) -> sort key, num}]
  var ROW = 26;
  function vtable(cols, ids, opts) {
    opts = opts || {};
    var sortCol = opts.sort == null ? -1 : opts.sort, desc = !!opts.desc;
    var template = cols.map(function (c) { return c.w || '1fr'; }).join(' ');
    var head = el('div', { class: 'vt-head', style: 'grid-template-columns:' + template });
    var body = el('div', { class: 'vt-body' });
    var spacer = el('div');
    var rows = el('div', { class: 'vt-rows' });
    body.appendChild(spacer);
    body.appendChild(rows);
    var order = ids.slice();
    cols.forEach(function (c, ci) {
      head.appendChild(el('div', {
        class: c.num ? 'num' : '', text: c.title,
        onclick: function () { if (!c.key) return; desc = sortCol === ci ? !desc : !!c.num; sortCol = ci; sort(); draw(true); }
      }));
    });
    function sort() {
      if (sortCol < 0 || !cols[sortCol].key) return;
      var key = cols[sortCol].key;
      var keys = new Map();
      order.forEach(function (id) { keys.set(id, key(id)); });
      order.sort(function (a, b) {
        var x = keys.get(a), y = keys.get(b);
        var r = x < y ? -1 : x > y ? 1 : 0;
        return (desc ? -r : r) || (a < b ? -1 : a > b ? 1 : 0);
      });
    }
    var maxH = opts.height || Math.max(240, window.innerHeight - 260);
    body.style.height = Math.min(maxH, Math.max(order.length, 1) * ROW) + 'px';
    spacer.style.height = order.length * ROW + 'px';
    var drawn = -1;
    function draw(force) {
      var first = Math.max(0, Math.floor(body.scrollTop / ROW) - 10);
      if (!force && first === drawn) return;
      drawn = first;
      var last = Math.min(order.length, first + Math.ceil(body.clientHeight / ROW) + 20);
      rows.textContent = '';
      rows.style.transform = 'translateY(' + first * ROW + 'px)';
      for (var r = first; r < last; r++) {
        var id = order[r];
        var row = el('div', { class: 'vt-row' + (opts.selected === id ? ' sel' : ''), style: 'grid-template-columns:' + template });
        row.dataset.id = id;
        cols.forEach(function (c) {
          var v = c.cell(id);
          row.appendChild(el('div', c.num ? { class: 'num' } : (typeof v === 'string' ? { title: v } : null), v));
        });
        rows.appendChild(row);
      }
    }
    rows.addEventListener('click', function (e) {
      var row = e.target.closest('.vt-row');
      if (row && opts.onclick && !e.target.closest('a,.link')) opts.onclick(+row.dataset.id);
    });
    var pending = false;
    body.addEventListener('scroll', function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () { pending = false; draw(false); });
    });
    sort();
    var wrap = el('div', { class: 'vt' }, head, body);
    wrap.count = order.length;
    // Drawn once it is in the page and has a height.
    requestAnimationFrame(function () { draw(true); });
    setTimeout(function () { draw(true); }, 0);
    return wrap;
  }
  function range(n) { var a = new Array(n); for (var x = 0; x < n; x++) a[x] = x; return a; }

  // ---- routing -------------------------------------------------------------
  var TABS = [['overview', 'Overview'], ['targets', 'Targets'], ['modules', 'Modules'], ['backends', 'Backends'],
    ['cross', 'Cross-language'], ['unused', 'Unused']];
  function state() {
    var s = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
      if (!kv) return;
      var j = kv.indexOf('=');
      s[decodeURIComponent(j < 0 ? kv : kv.slice(0, j))] = j < 0 ? '' : decodeURIComponent(kv.slice(j + 1));
    });
    return s;
  }
  function encode(s) {
    return Object.keys(s).filter(function (k) { return s[k] != null && s[k] !== ''; })
      .map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(s[k]); }).join('&');
  }
  // go({m: 3}) opens a detail over the current tab; go({tab: 'x'}) switches tabs.
  function go(change) {
    var s = state();
    if ('tab' in change || 'q' in change) { delete s.m; delete s.t; delete s.f; }
    if ('m' in change || 't' in change || 'f' in change) { delete s.m; delete s.t; delete s.f; }
    for (var k in change) s[k] = change[k];
    location.hash = encode(s);
  }
  window.addEventListener('hashchange', render);

  var search = document.getElementById('search');
  var searchTimer = 0;
  search.addEventListener('input', function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      var s = state();
      s.q = search.value.trim();
      delete s.m; delete s.t; delete s.f;
      history.replaceState(null, '', '#' + encode(s));
      render();
    }, 120);
  });

  var lastView = null;
  function render() {
    var s = state();
    var tab = s.tab || 'overview';
    if (search.value.trim() !== (s.q || '')) search.value = s.q || '';
    var nav = document.getElementById('tabs');
    nav.textContent = '';
    TABS.forEach(function (t) {
      var n = { targets: D.owners.length, modules: N, cross: D.has_remarks ? crossRows.length : null }[t[0]];
      nav.appendChild(el('a', {
        class: (!s.q && tab === t[0]) ? 'on' : '', 'data-tab': t[0], onclick: function () { go({ tab: t[0], q: '' }); }
      }, t[1], n != null ? el('span', { class: 'n', text: fmtInt(n) }) : null));
    });
    var viewKey = s.q ? 'q:' + s.q : 'tab:' + tab;
    var view = document.getElementById('view');
    if (viewKey !== lastView) {
      lastView = viewKey;
      view.textContent = '';
      if (s.q) view.appendChild(searchView(s.q));
      else view.appendChild((VIEWS[tab] || VIEWS.overview)());
    }
    var detail = document.getElementById('detail');
    detail.textContent = '';
    var d = null;
    if (s.m != null && M.path[+s.m] != null) d = moduleDetail(+s.m);
    else if (s.t != null && D.owners[+s.t] != null) d = targetDetail(+s.t);
    else if (s.f != null && D.names[+s.f] != null) d = functionDetail(+s.f);
    detail.hidden = !d;
    if (d) {
      detail.appendChild(el('button', { class: 'close', text: 'Close', onclick: function () { go({}); } }));
      detail.appendChild(d);
      detail.scrollTop = 0;
    }
  }

  // ---- views ---------------------------------------------------------------
  var VIEWS = {};

  VIEWS.overview = function () {
    var loaded = 0, unusedN = 0, staleN = 0, counts = [];
    for (var i = 0; i < N; i++) {
      if (M.loaded[i]) { loaded++; counts.push(M.imports[i].length); if (!importers[i].length) unusedN++; }
      if (M.stale[i].length) staleN++;
    }
    var biggest = -1, biggestBytes = -1;
    for (i = 0; i < N; i++) if (M.loaded[i] && inputBytes(i) > biggestBytes) { biggestBytes = inputBytes(i); biggest = i; }
    var card = function (v, label) { return el('div', { class: 'card' }, el('b', { text: v }), el('span', { text: label })); };
    var cards = el('div', { class: 'cards' },
      card(fmtInt(N), 'bitcode modules'),
      card(fmtInt(loaded), 'loaded by the linker'),
      card(fmtInt(D.owners.length), 'targets'),
      card(fmtBytes(totalBytes), 'bitcode in all'),
      card(fmtInt(edges), 'imports (module to module)'),
      card(fmtInt(median(counts)), 'median imports per backend'),
      card(biggest < 0 ? '?' : pct(biggestBytes, totalBytes), 'largest backend input, of all bitcode'),
      D.has_remarks ? card(fmtInt(crossRows.filter(function (r) { return r[IL.inlined]; }).length), 'cross-language inlines') : null,
      staleN ? card(fmtInt(staleN), 'stale backends') : null);
    var out = el('div', null, el('h2', { text: 'What the thin link decided' }), cards, criticalPath());
    if (D.notes.length || staleN) {
      var p = el('div', { class: 'panel' }, el('h3', { text: 'Notes' }));
      var ul = el('ul', { class: 'plain' });
      D.notes.forEach(function (n) { ul.appendChild(el('li', { class: 'note', text: n })); });
      for (i = 0; i < N; i++) if (M.stale[i].length) ul.appendChild(el('li', null, el('span', { class: 'stale', text: 'stale: ' }), modLink(i), ' ', M.stale[i][0]));
      p.appendChild(ul);
      out.appendChild(p);
    }
    var top = function (title, ids, value) {
      var t = el('table', { class: 't' });
      ids.forEach(function (j) { t.appendChild(el('tr', null, el('td', null, modLink(j)), el('td', { class: 'muted', text: owner(j) }), el('td', { class: 'num', text: value(j) }))); });
      return el('div', { class: 'panel' }, el('h3', { text: title }), t);
    };
    var byImporters = range(N).sort(function (a, b) { return importers[b].length - importers[a].length || a - b; }).slice(0, 10);
    var byInput = range(N).filter(function (j) { return M.loaded[j]; })
      .sort(function (a, b) { return inputBytes(b) - inputBytes(a) || a - b; }).slice(0, 10);
    out.appendChild(top('Most imported modules', byImporters, function (j) { return plural(importers[j].length, 'importer'); }));
    out.appendChild(top('Largest backends (module and imports, bytes of bitcode)', byInput, function (j) { return fmtBytes(inputBytes(j)); }));
    return out;
  };

  function criticalPath() {
    var slowest = -1, slowestS = null, byBytes = false;
    for (var i = 0; i < N; i++) if (M.seconds[i] != null && (slowestS == null || M.seconds[i] > slowestS)) { slowestS = M.seconds[i]; slowest = i; }
    if (slowest < 0) {
      byBytes = true;
      var best = -1;
      for (i = 0; i < N; i++) if (M.loaded[i] && inputBytes(i) > best) { best = inputBytes(i); slowest = i; }
    }
    var parts = [['thin link', D.index_seconds, '#5b6b8c'], ['slowest backend', slowestS, '#2f6fde'], ['final link', D.link_seconds, '#25874a']];
    var known = parts.every(function (p) { return p[1] != null; });
    var total = parts.reduce(function (s, p) { return s + (p[1] || 0); }, 0);
    var W = 640, H = 34, x = 0;
    var bar = svg('svg', { width: W, height: H + 18, viewBox: '0 0 ' + W + ' ' + (H + 18), role: 'img', 'aria-label': 'critical path' });
    parts.forEach(function (p) {
      var w = known && total > 0 ? Math.max(2, W * p[1] / total) : W / 3;
      var g = svg('g');
      g.appendChild(svg('rect', { x: x, y: 0, width: Math.max(w - 2, 1), height: H, rx: 4, fill: p[2], opacity: p[1] == null ? 0.35 : 1 }));
      var t = svg('title'); t.textContent = p[0] + ': ' + fmtS(p[1]); g.appendChild(t);
      if (w > 70) g.appendChild(svg('text', { x: x + 8, y: 21, class: 'bar-label', text: p[0] + ' ' + fmtS(p[1]) }));
      bar.appendChild(g);
      x += w;
    });
    var unknown = parts.filter(function (p) { return p[1] == null; }).map(function (p) { return p[0]; });
    var note = known ? 'Total ' + fmtS(total) + ': the thin link, then the slowest backend (the backends run in parallel), then the final link.'
      : 'Not timed: ' + unknown.join(', ') + ' (times come from --timings)' + (byBytes ? '; the slowest backend is taken to be the one with the most bitcode to read.' : '.');
    return el('div', { class: 'panel' }, el('h3', { text: 'Critical path of the LTO phase' }), bar,
      el('div', null, 'Slowest backend: ', slowest < 0 ? '?' : modLink(slowest), slowest < 0 ? '' : ' (' + (byBytes ? fmtBytes(inputBytes(slowest)) + ' of bitcode in' : fmtS(slowestS)) + ')'),
      el('div', { class: 'muted', text: note }));
  }

  // Target-level graph: per owner, its modules, and owner -> owner imports.
  var T = null;
  function targets() {
    if (T) return T;
    T = { modules: D.owners.map(function () { return []; }), out: D.owners.map(function () { return new Map(); }), inn: D.owners.map(function () { return new Map(); }), bytes: D.owners.map(function () { return 0; }) };
    for (var i = 0; i < N; i++) {
      var o = M.owner[i];
      if (o < 0) continue;
      T.modules[o].push(i);
      if (M.size[i] > 0) T.bytes[o] += M.size[i];
      M.imports[i].forEach(function (j) {
        var p = M.owner[j];
        if (p < 0 || p === o) return;
        var e = T.out[o].get(p) || [0, 0]; e[0]++; e[1] += Math.max(M.size[j], 0); T.out[o].set(p, e);
        var f = T.inn[p].get(o) || [0, 0]; f[0]++; f[1] += Math.max(M.size[j], 0); T.inn[p].set(o, f);
      });
    }
    return T;
  }

  VIEWS.targets = function () {
    var t = targets();
    var out = el('div', null, el('h2', { text: 'Import graph by target' }),
      el('p', { class: 'muted', text: 'Each target (the build rule that produced the modules) and the targets its modules import from. Click a row or a cell.' }));
    out.appendChild(matrix(t));
    out.appendChild(vtable([
      { title: 'target', w: 'minmax(200px,3fr)', cell: function (o) { return D.owners[o]; }, key: function (o) { return D.owners[o]; } },
      { title: 'modules', w: '80px', num: true, cell: function (o) { return fmtInt(t.modules[o].length); }, key: function (o) { return t.modules[o].length; } },
      { title: 'bitcode', w: '90px', num: true, cell: function (o) { return fmtBytes(t.bytes[o]); }, key: function (o) { return t.bytes[o]; } },
      { title: 'imports from', w: '110px', num: true, cell: function (o) { return plural(t.out[o].size, 'target'); }, key: function (o) { return t.out[o].size; } },
      { title: 'imported by', w: '110px', num: true, cell: function (o) { return plural(t.inn[o].size, 'target'); }, key: function (o) { return t.inn[o].size; } }
    ], range(D.owners.length), { sort: 3, desc: true, onclick: function (o) { go({ t: o }); } }));
    return out;
  };

  // A heat map of owner -> owner imports among the most connected targets.
  function matrix(t) {
    var deg = range(D.owners.length).map(function (o) { return [t.out[o].size + t.inn[o].size, o]; })
      .filter(function (d) { return d[0] > 0; }).sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; }).slice(0, 30).map(function (d) { return d[1]; });
    if (deg.length < 2) return el('p', { class: 'muted', text: 'No module imports from another target.' });
    var C = 14, L = 210, n = deg.length, max = 1;
    deg.forEach(function (a) { deg.forEach(function (b) { var e = t.out[a].get(b); if (e && e[0] > max) max = e[0]; }); });
    var s = svg('svg', { width: L + n * C + 10, height: L + n * C + 10, role: 'img', 'aria-label': 'imports between targets' });
    deg.forEach(function (o, r) {
      var name = D.owners[o], short = name.length > 32 ? '\u2026' + name.slice(-31) : name;
      s.appendChild(svg('text', { x: L - 6, y: L + r * C + 11, 'text-anchor': 'end', text: short }));
      s.appendChild(svg('text', { x: 0, y: 0, transform: 'translate(' + (L + r * C + 11) + ',' + (L - 6) + ') rotate(-90)', text: short }));
      deg.forEach(function (p, c) {
        var e = t.out[o].get(p);
        var cell = svg('rect', { x: L + c * C, y: L + r * C, width: C - 1, height: C - 1, fill: e ? 'rgba(47,111,222,' + (0.2 + 0.8 * e[0] / max).toFixed(3) + ')' : '#f0f2f6' });
        if (e) {
          var title = svg('title'); title.textContent = name + ' imports from ' + D.owners[p] + ': ' + e[0] + ' module imports, ' + fmtBytes(e[1]);
          cell.appendChild(title);
          cell.style.cursor = 'pointer';
          cell.addEventListener('click', function () { go({ t: o }); });
        }
        s.appendChild(cell);
      });
    });
    return el('div', { class: 'panel' }, el('h3', { text: 'Who imports from whom (rows import from columns; the ' + n + ' most connected targets)' }), s);
  }

  VIEWS.modules = function () {
    return el('div', null, el('h2', { text: 'Import graph by module' }),
      el('p', { class: 'muted', text: 'Every bitcode module of the link, in command-line order. Click one for what it imports and who imports it, and why.' }),
      vtable([
        { title: 'module', w: 'minmax(240px,4fr)', cell: function (i) { return M.path[i]; }, key: function (i) { return M.path[i]; } },
        { title: 'target', w: 'minmax(120px,2fr)', cell: function (i) { return owner(i); }, key: function (i) { return owner(i); } },
        { title: 'lang', w: '48px', cell: function (i) { return langBadge(M.lang[i]); }, key: function (i) { return M.lang[i]; } },
        { title: 'size', w: '80px', num: true, cell: function (i) { return fmtBytes(M.size[i]); }, key: function (i) { return M.size[i]; } },
        { title: 'imports', w: '70px', num: true, cell: function (i) { return fmtInt(M.imports[i].length); }, key: function (i) { return M.imports[i].length; } },
        { title: 'importers', w: '80px', num: true, cell: function (i) { return fmtInt(importers[i].length); }, key: function (i) { return importers[i].length; } },
        { title: '', w: '150px', cell: function (i) { return el('span', null, tags(i)); } }
      ], range(N), { onclick: function (i) { go({ m: i }); } }));
  };

  VIEWS.backends = function () {
    var ids = range(N).filter(function (i) { return M.loaded[i]; });
    return el('div', null, el('h2', { text: 'Backends' }),
      el('p', { class: 'muted', text: 'One backend per loaded module: the bitcode it is given (its module and what its imports list names, in its pack where it has one) against all the bitcode of the program, and its time where known.' }),
      criticalPath(),
      el('div', { style: 'height:12px' }),
      vtable([
        { title: 'module', w: 'minmax(240px,4fr)', cell: function (i) { return M.path[i]; }, key: function (i) { return M.path[i]; } },
        { title: 'own', w: '80px', num: true, cell: function (i) { return fmtBytes(M.size[i]); }, key: function (i) { return M.size[i]; } },
        { title: 'imported', w: '90px', num: true, cell: function (i) { return fmtBytes(importedBytes(i)); }, key: importedBytes },
        { title: 'of all bitcode', w: '100px', num: true, cell: function (i) { return pct(inputBytes(i), totalBytes); }, key: inputBytes },
        { title: 'pack', w: '80px', num: true, cell: function (i) { return M.pack[i] < 0 ? '' : fmtBytes(M.pack[i]); }, key: function (i) { return M.pack[i]; } },
        { title: 'time', w: '80px', num: true, cell: function (i) { return M.seconds[i] == null ? '' : fmtS(M.seconds[i]); }, key: function (i) { return M.seconds[i] == null ? -1 : M.seconds[i]; } }
      ], ids, { sort: 3, desc: true, onclick: function (i) { go({ m: i }); } }));
  };

  function inlineTable(rows, opts) {
    opts = opts || {};
    var min = opts.compact ? '0' : '160px';
    var cols = [
      { title: 'callee', w: 'minmax(' + min + ',3fr)', cell: function (r) { return el('span', null, langBadge(langOf(rows[r][IL.calleeMod])), ' ', fnLink(rows[r][IL.callee])); }, key: function (r) { return D.names[rows[r][IL.callee]]; } },
      { title: '', w: '124px', cell: function (r) { return rows[r][IL.inlined] ? el('span', { class: 'yes', text: 'inlined into' }) : el('span', { class: 'no', text: 'not inlined into' }); }, key: function (r) { return rows[r][IL.inlined]; } },
      { title: 'caller', w: 'minmax(' + min + ',3fr)', cell: function (r) { return el('span', null, langBadge(langOf(rows[r][IL.callerMod])), ' ', fnLink(rows[r][IL.caller])); }, key: function (r) { return D.names[rows[r][IL.caller]]; } },
      { title: 'in the backend of', w: 'minmax(' + (opts.compact ? '0' : '120px') + ',2fr)', cell: function (r) { var b = rows[r][IL.backend]; return b < 0 ? '?' : modLink(b, base(M.path[b])); }, key: function (r) { return rows[r][IL.backend]; } },
      { title: 'reason (LLVM)', w: 'minmax(' + min + ',3fr)', cell: function (r) { return D.reasons[rows[r][IL.reason]] + (rows[r][IL.count] > 1 ? ' (\u00d7' + rows[r][IL.count] + ')' : ''); }, key: function (r) { return D.reasons[rows[r][IL.reason]]; } }
    ];
    if (opts.noBackend) cols.splice(3, 1);
    return vtable(cols, range(rows.length), { height: opts.height });
  }

  VIEWS.cross = function () {
    var out = el('div', null, el('h2', { text: 'Calls across the language boundary' }));
    if (!D.has_remarks) {
      out.appendChild(el('div', { class: 'panel' },
        el('p', { text: 'This report was made without optimization remarks, so it cannot say which calls were inlined.' }),
        el('p', { text: 'Ask the backends for them (thinlto backend --remarks FILE, or the build setting that passes it), then give them to the report with --remarks.' })));
      return out;
    }
    var sum = { 'Rust\u2192C++': [0, 0], 'C++\u2192Rust': [0, 0] };
    crossRows.forEach(function (r) {
      var k = isRust(langOf(r[IL.calleeMod])) ? 'Rust\u2192C++' : 'C++\u2192Rust';
      sum[k][r[IL.inlined] ? 0 : 1] += r[IL.count];
    });
    out.appendChild(el('p', { class: 'muted', text: 'Each call from a Rust function to a C or C++ one, or back, that a backend considered inlining: from the backends\u2019 optimization remarks (pass inline). C and C++ are one side, Rust the other; a module\u2019s language is its bitcode\u2019s producer (rustc or clang).' }));
    out.appendChild(el('div', { class: 'cards' },
      Object.keys(sum).map(function (k) {
        return el('div', { class: 'card' }, el('b', null, el('span', { class: 'yes', text: fmtInt(sum[k][0]) }), ' / ', el('span', { class: 'no', text: fmtInt(sum[k][1]) })),
          el('span', { text: k.replace('\u2192', ' into ') + ': inlined / not' }));
      })));
    out.appendChild(el('div', { style: 'height:12px' }));
    out.appendChild(crossRows.length ? inlineTable(crossRows) : el('p', { class: 'muted', text: 'No cross-language call was considered for inlining.' }));
    var other = D.inlines.length - crossRows.length;
    if (other > 0) out.appendChild(el('p', { class: 'muted', text: fmtInt(other) + ' other decisions about calls into another module are on each module\u2019s page.' }));
    return out;
  };

  VIEWS.unused = function () {
    var never = range(N).filter(function (i) { return !M.loaded[i]; });
    var nobody = range(N).filter(function (i) { return M.loaded[i] && !importers[i].length; });
    var list = function (ids, why) {
      if (!ids.length) return el('p', { class: 'muted', text: 'None.' });
      return vtable([
        { title: 'module', w: 'minmax(240px,3fr)', cell: function (i) { return M.path[i]; }, key: function (i) { return M.path[i]; } },
        { title: 'target', w: 'minmax(120px,2fr)', cell: function (i) { return owner(i); }, key: function (i) { return owner(i); } },
        { title: 'size', w: '80px', num: true, cell: function (i) { return fmtBytes(M.size[i]); }, key: function (i) { return M.size[i]; } },
        { title: 'why', w: 'minmax(140px,2fr)', cell: why }
      ], ids, { height: 300, onclick: function (i) { go({ m: i }); } });
    };
    return el('div', null,
      el('h2', { text: 'Modules the linker never loaded (' + fmtInt(never.length) + ')' }),
      el('p', { class: 'muted', text: 'Lazy members (of a library, --start-lib) nothing referred to: their backends have nothing to do and nothing of them reaches the program.' }),
      list(never, function (i) { return M.lazy[i] ? 'lazy member nobody referred to' : 'not loaded'; }),
      el('h2', { text: 'Modules imported by nobody (' + fmtInt(nobody.length) + ')' }),
      el('p', { class: 'muted', text: 'Loaded modules no other backend imports from: nothing of them was a candidate for inlining elsewhere.' }),
      list(nobody, function (i) { return M.imports[i].length ? 'imports ' + M.imports[i].length + ', exports nothing inlinable' : 'imports nothing either'; }));
  };

  function searchView(q) {
    var needle = q.toLowerCase();
    var out = el('div', null, el('h2', { text: 'Search: ' + q }));
    var mods = range(N).filter(function (i) { return M.path[i].toLowerCase().indexOf(needle) >= 0 || owner(i).toLowerCase().indexOf(needle) >= 0; });
    out.appendChild(el('h3', { text: 'Modules (' + fmtInt(mods.length) + ')' }));
    out.appendChild(mods.length ? vtable([
      { title: 'module', w: 'minmax(240px,3fr)', cell: function (i) { return M.path[i]; }, key: function (i) { return M.path[i]; } },
      { title: 'target', w: 'minmax(120px,2fr)', cell: function (i) { return owner(i); }, key: function (i) { return owner(i); } },
      { title: 'imports', w: '70px', num: true, cell: function (i) { return fmtInt(M.imports[i].length); }, key: function (i) { return M.imports[i].length; } },
      { title: 'importers', w: '80px', num: true, cell: function (i) { return fmtInt(importers[i].length); }, key: function (i) { return importers[i].length; } }
    ], mods, { height: 280, onclick: function (i) { go({ m: i }); } }) : el('p', { class: 'muted', text: 'None.' }));
    var owners = range(D.owners.length).filter(function (o) { return D.owners[o].toLowerCase().indexOf(needle) >= 0; });
    out.appendChild(el('h3', { text: 'Targets (' + fmtInt(owners.length) + ')' }));
    var ot = el('div', { class: 'fns' });
    owners.slice(0, 200).forEach(function (o) { ot.appendChild(ownerLink(o)); ot.appendChild(document.createTextNode(' ')); });
    out.appendChild(owners.length ? ot : el('p', { class: 'muted', text: 'None.' }));
    var fns = [];
    for (var n = 0; n < D.names.length && fns.length < 500; n++) {
      if (D.names[n].toLowerCase().indexOf(needle) >= 0 || (D.mangled[n] && D.mangled[n].toLowerCase().indexOf(needle) >= 0)) fns.push(n);
    }
    out.appendChild(el('h3', { text: 'Functions' + (fns.length >= 500 ? ' (first 500)' : ' (' + fns.length + ')') }));
    var ft = el('div', { class: 'fns' });
    fns.forEach(function (f) { ft.appendChild(fnLink(f)); });
    out.appendChild(fns.length ? ft : el('p', { class: 'muted', text: 'None.' }));
    return out;
  }

  // ---- details -------------------------------------------------------------
  function selected(i, k) {
    var s = M.sel[i] && M.sel[i][k];
    if (!s) return el('span', { class: 'muted', text: '?' });
    var box = el('div', { class: 'fns' });
    s[0].forEach(function (code) {
      var decl = code % 2 === 1;
      var f = fnLink((code - (decl ? 1 : 0)) / 2, decl ? 'decl' : '');
      if (decl) f.title = (f.title ? f.title + ': ' : '') + 'declaration only (its summary, not its body)';
      box.appendChild(f);
    });
    if (s[1] > 0) box.appendChild(el('span', { class: 'muted', text: '+' + s[1] + ' more' }));
    if (!s[0].length && !s[1]) box.appendChild(el('span', { class: 'muted', text: 'nothing (an empty import)' }));
    return box;
  }

  function ego(i) {
    var left = importers[i].map(function (p) { return p[0]; }).slice(0, 10), right = M.imports[i].slice(0, 10);
    var H = Math.max(left.length, right.length, 1) * 24 + 20, W = 660, cx = W / 2;
    var s = svg('svg', { width: W, height: H, role: 'img', 'aria-label': 'imports of this module' });
    var mid = H / 2;
    var node = function (j, x, y, anchor) {
      var g = svg('g', { onclick: function () { go({ m: j }); } });
      g.style.cursor = 'pointer';
      var label = base(M.path[j]);
      g.appendChild(svg('circle', { cx: x, cy: y, r: 5, fill: isRust(M.lang[j]) ? '#c8553d' : '#2f6fde' }));
      g.appendChild(svg('text', { x: anchor === 'end' ? x - 9 : x + 9, y: y + 4, 'text-anchor': anchor, text: label.length > 30 ? label.slice(0, 29) + '\u2026' : label }));
      var t = svg('title'); t.textContent = M.path[j] + ' (' + fmtBytes(M.size[j]) + ')'; g.appendChild(t);
      return g;
    };
    var ys = function (n) { return range(n).map(function (r) { return mid + (r - (n - 1) / 2) * 24; }); };
    ys(left.length).forEach(function (y, r) { s.appendChild(svg('line', { x1: 190, y1: y, x2: cx, y2: mid, stroke: '#c3cad6' })); s.appendChild(node(left[r], 190, y, 'end')); });
    ys(right.length).forEach(function (y, r) { s.appendChild(svg('line', { x1: cx, y1: mid, x2: W - 190, y2: y, stroke: '#c3cad6' })); s.appendChild(node(right[r], W - 190, y, 'start')); });
    s.appendChild(svg('circle', { cx: cx, cy: mid, r: 9, fill: isRust(M.lang[i]) ? '#c8553d' : '#2f6fde' }));
    s.appendChild(svg('text', { x: cx, y: mid - 14, 'text-anchor': 'middle', text: base(M.path[i]) }));
    s.appendChild(svg('text', { x: 190, y: 12, 'text-anchor': 'end', fill: '#5f6b7d', text: 'imported by ' + importers[i].length }));
    s.appendChild(svg('text', { x: W - 190, y: 12, fill: '#5f6b7d', text: 'imports ' + M.imports[i].length }));
    return s;
  }

  function moduleDetail(i) {
    var out = el('div', { 'data-module': M.path[i] });
    out.appendChild(el('h2', { class: 'path', text: M.path[i] }));
    out.appendChild(el('div', null, langBadge(M.lang[i]), ' ', ownerLink(M.owner[i]), tags(i)));
    var kv = el('div', { class: 'kv', style: 'margin-top:10px' });
    var row = function (k, v) { kv.appendChild(el('div', { text: k })); kv.appendChild(el('div', null, v)); };
    row('bitcode', fmtBytes(M.size[i]) + (M.defs[i] ? ', defines ' + fmtInt(M.defs[i]) + ' globals' : ''));
    row('loaded by the linker', M.loaded[i] ? 'yes' : (M.lazy[i] ? 'no: a lazy member nothing referred to' : 'no'));
    if (M.loaded[i]) row('backend input', fmtBytes(inputBytes(i)) + ' (' + pct(inputBytes(i), totalBytes) + ' of all bitcode): itself and ' + M.imports[i].length + ' imported modules');
    if (M.pack[i] >= 0) row('import pack', fmtBytes(M.pack[i]));
    if (M.seconds[i] != null) row('backend time', fmtS(M.seconds[i]));
    if (M.remarks[i]) row('inliner in its backend', fmtInt(M.remarks[i][0]) + ' call sites inlined, ' + fmtInt(M.remarks[i][1]) + ' not');
    out.appendChild(kv);
    if (M.stale[i].length) {
      var st = el('div', { class: 'panel' }, el('h3', { class: 'stale', text: 'Stale thin link' }));
      M.stale[i].forEach(function (s) { st.appendChild(el('p', { text: s })); });
      out.appendChild(st);
    }
    out.appendChild(ego(i));

    out.appendChild(el('h3', { text: 'Imports (' + M.imports[i].length + '): what its index selected from each module' }));
    if (M.imports[i].length) {
      var t = el('table', { class: 't' }, el('tr', null, el('th', { text: 'from' }), el('th', { text: 'bytes' }), el('th', { text: 'functions (dashed: declaration only)' })));
      M.imports[i].forEach(function (j, k) {
        t.appendChild(el('tr', { 'data-import': M.path[j] }, el('td', null, modLink(j), el('div', { class: 'muted', text: owner(j) })), el('td', { class: 'num', text: fmtBytes(M.size[j]) }), el('td', null, selected(i, k), inlinedFrom(i, j))));
      });
      out.appendChild(t);
    } else out.appendChild(el('p', { class: 'muted', text: 'None.' }));

    out.appendChild(el('h3', { text: 'Imported by (' + importers[i].length + '): what each takes from it' }));
    if (importers[i].length) {
      var u = el('table', { class: 't' }, el('tr', null, el('th', { text: 'module' }), el('th', { text: 'functions' })));
      importers[i].slice(0, 500).forEach(function (p) {
        u.appendChild(el('tr', { 'data-importer': M.path[p[0]] }, el('td', null, modLink(p[0]), el('div', { class: 'muted', text: owner(p[0]) })), el('td', null, selected(p[0], p[1]), inlinedFrom(p[0], i))));
      });
      out.appendChild(u);
      if (importers[i].length > 500) out.appendChild(el('p', { class: 'muted', text: '\u2026 and ' + (importers[i].length - 500) + ' more.' }));
    } else out.appendChild(el('p', { class: 'muted', text: 'Nobody.' }));

    if (D.has_remarks) {
      var here = D.inlines.filter(function (r) { return r[IL.backend] === i; });
      out.appendChild(el('h3', { text: 'Inlining of other modules\u2019 functions in its backend (' + here.length + ')' }));
      out.appendChild(here.length ? inlineTable(here, { height: 260, noBackend: true, compact: true }) : el('p', { class: 'muted', text: 'None.' }));
    }
    return out;
  }

  // What the remarks say about functions of module j in the backend of module i.
  function inlinedFrom(i, j) {
    if (!D.has_remarks) return null;
    var yes = [], no = [];
    D.inlines.forEach(function (r) { if (r[IL.backend] === i && r[IL.calleeMod] === j) (r[IL.inlined] ? yes : no).push(r); });
    if (!yes.length && !no.length) return null;
    var box = el('div', { class: 'muted', style: 'margin-top:3px' });
    var say = function (rows, word, cls) {
      if (!rows.length) return;
      var seen = {};
      var list = rows.filter(function (r) { var k = r[IL.callee] + '>' + r[IL.caller]; if (seen[k]) return false; seen[k] = 1; return true; }).slice(0, 8);
      box.appendChild(el('div', null, el('span', { class: cls, text: word + ': ' }),
        list.map(function (r, n) { return [n ? ', ' : '', D.names[r[IL.callee]] + ' into ' + D.names[r[IL.caller]]]; }),
        rows.length > list.length ? ' \u2026' : ''));
    };
    say(yes, 'inlined', 'yes');
    say(no, 'not inlined', 'no');
    return box;
  }

  function targetDetail(o) {
    var t = targets();
    var out = el('div', null, el('h2', { text: D.owners[o] }),
      el('p', { class: 'muted', text: fmtInt(t.modules[o].length) + ' modules, ' + fmtBytes(t.bytes[o]) + ' of bitcode' }));
    var edgeTable = function (title, m) {
      var list = Array.from(m.entries()).sort(function (a, b) { return b[1][0] - a[1][0] || a[0] - b[0]; });
      out.appendChild(el('h3', { text: title + ' (' + list.length + ' targets)' }));
      if (!list.length) { out.appendChild(el('p', { class: 'muted', text: 'None.' })); return; }
      var tb = el('table', { class: 't' }, el('tr', null, el('th', { text: 'target' }), el('th', { text: 'module imports' }), el('th', { text: 'bytes' })));
      list.slice(0, 300).forEach(function (e) { tb.appendChild(el('tr', null, el('td', null, ownerLink(e[0])), el('td', { class: 'num', text: fmtInt(e[1][0]) }), el('td', { class: 'num', text: fmtBytes(e[1][1]) }))); });
      out.appendChild(tb);
    };
    edgeTable('Imports from', t.out[o]);
    edgeTable('Imported by', t.inn[o]);
    out.appendChild(el('h3', { text: 'Modules' }));
    var ul = el('ul', { class: 'plain' });
    t.modules[o].slice(0, 500).forEach(function (i) { ul.appendChild(el('li', null, modLink(i), tags(i))); });
    out.appendChild(ul);
    return out;
  }

  function functionDetail(f) {
    var out = el('div', null, el('h2', { class: 'mono', text: D.names[f] }));
    if (D.mangled[f]) out.appendChild(el('p', { class: 'mono muted', text: D.mangled[f] }));
    var from = new Map();
    for (var i = 0; i < N; i++) {
      var sel = M.sel[i];
      if (!sel) continue;
      for (var k = 0; k < sel.length; k++) {
        var codes = sel[k][0];
        for (var c = 0; c < codes.length; c++) {
          if (Math.floor(codes[c] / 2) === f) {
            var j = M.imports[i][k];
            if (!from.has(j)) from.set(j, []);
            from.get(j).push([i, codes[c] % 2 === 1]);
          }
        }
      }
    }
    if (from.size) {
      from.forEach(function (users, j) {
        out.appendChild(el('h3', null, 'From ', modLink(j), ' ', langBadge(M.lang[j])));
        var ul = el('ul', { class: 'plain' });
        users.forEach(function (u) { ul.appendChild(el('li', null, 'selected by the index of ', modLink(u[0]), u[1] ? ' (declaration only)' : ' (definition)')); });
        out.appendChild(ul);
      });
    } else out.appendChild(el('p', { class: 'muted', text: 'No backend\u2019s index selects it from another module.' }));
    if (D.has_remarks) {
      var rows = D.inlines.filter(function (r) { return r[IL.callee] === f || r[IL.caller] === f; });
      out.appendChild(el('h3', { text: 'Inlining decisions (' + rows.length + ')' }));
      out.appendChild(rows.length ? inlineTable(rows, { height: 260, compact: true }) : el('p', { class: 'muted', text: 'None about calls into another module.' }));
    }
    return out;
  }

  // ---- start ---------------------------------------------------------------
  document.getElementById('output').textContent = D.output;
  render();
  var ms = performance.now() - started;
  window.__thinlto = { ready: true, renderMs: ms, readyAt: performance.now(), modules: N, names: D.names.length };
  document.documentElement.setAttribute('data-ready', '1');
})();
