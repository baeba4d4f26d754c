// Builds the report page from the JSON in #report-data (written by
// src/report/report.cpp). Ends with document.body.dataset.rendered = "ok";
// any error is shown at the top of the page and stored in that attribute.
// The data is bounded whatever the run's length: the chart's points (at most
// 60,000), per point the number of trades, the first and last rows of each long
// table. Tables page through their rows; trade markers are drawn only when the
// visible range holds few enough to read.
(function () {
  'use strict';

  const LWC = window.LightweightCharts;
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const COLORS = {
    green: '#15803d', red: '#b91c1c', up: '#26a69a', down: '#ef5350',
    stop: '#ea580c', exit: '#475569', blue: '#1d4ed8', grid: '#eef1f4', border: '#d5dae0',
    text: '#374151', ungated: '#9333ea',
  };
  const PAGE_ROWS = 50;          // rows per table page
  const READABLE_MARKERS = 300;  // trades (or gate signals) in view above which no markers are drawn
  const LABELLED_MARKERS = 60;   // trades in view up to which markers carry text

  let failed = false;
  function fail(error) {
    failed = true;
    const text = error && error.message ? error.message : String(error);
    document.body.dataset.rendered = 'error: ' + text;
    const box = document.getElementById('render-error');
    box.hidden = false;
    box.textContent = 'The report could not be drawn completely: ' + text;
  }
  window.addEventListener('error', (event) => {
    // Charts resize themselves (autoSize) inside a ResizeObserver; when that
    // takes another frame the browser reports this "error", which is not one.
    if (/ResizeObserver loop/.test(String(event.message))) return;
    fail(event.error || event.message);
  });

  // ---- formatting -------------------------------------------------------
  const formatters = new Map();
  function numberFormat(decimals) {
    if (!formatters.has(decimals)) {
      formatters.set(decimals, new Intl.NumberFormat('en-US', {
        minimumFractionDigits: decimals, maximumFractionDigits: decimals,
      }));
    }
    return formatters.get(decimals);
  }
  const finite = (v) => typeof v === 'number' && Number.isFinite(v);
  const DASH = '—';
  const fmt = (v, decimals) => (finite(v) ? numberFormat(decimals).format(v) : DASH);
  const money = (v) => fmt(v, 2);
  const integer = (v) => fmt(v, 0);
  const percent = (fraction, decimals = 2) => (finite(fraction) ? fmt(fraction * 100, decimals) + ' %' : DASH);
  function time(seconds) {
    if (!finite(seconds)) return DASH;
    const iso = new Date(Math.round(seconds * 1000)).toISOString();
    return iso.replace('T', ' ').replace(/\.000Z$/, '').replace(/Z$/, '');
  }
  // "2024-01-15T00:00:00Z" → "2024-01-15 00:00"; other text is shown as it is.
  const isoText = (text) => String(text).replace(/^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:00)?(\.0+)?Z$/, '$1 $2');
  const signClass = (v) => (finite(v) && v > 0 ? 'num pos' : finite(v) && v < 0 ? 'num neg' : 'num');

  // ---- DOM helpers ------------------------------------------------------
  function el(tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (key === 'text') node.textContent = value;
        else if (key === 'className') node.className = value;
        else node.setAttribute(key, value);
      }
    }
    for (const child of children || []) node.append(child);
    return node;
  }
  const byId = (id) => document.getElementById(id);

  // columns: [{title, cls?}], rows: arrays of cells; a cell is text or {text, cls}.
  // A row that is a string becomes a full-width note row.
  function table(columns, rows, className) {
    const head = el('thead', null, [el('tr', null, columns.map(
      (c) => el('th', { className: c.cls || '', text: c.title })))]);
    const body = el('tbody');
    const fragment = document.createDocumentFragment();
    for (const row of rows) {
      if (typeof row === 'string') {
        fragment.append(el('tr', { className: 'gap' }, [el('td', { colspan: String(columns.length), text: row })]));
        continue;
      }
      const tr = document.createElement('tr');
      row.forEach((cell, i) => {
        const td = document.createElement('td');
        if (cell !== null && typeof cell === 'object') {
          td.textContent = cell.text;
          td.className = cell.cls || columns[i].cls || '';
          if (cell.title) td.title = cell.title;
        } else {
          td.textContent = cell;
          td.className = columns[i].cls || '';
        }
        tr.append(td);
      });
      fragment.append(tr);
    }
    body.append(fragment);
    return el('table', { className: className || '' }, [head, body]);
  }

  function rowsOf(columns) {
    const names = Object.keys(columns).filter((k) => Array.isArray(columns[k]));
    const n = names.length ? columns[names[0]].length : 0;
    const rows = new Array(n);
    for (let i = 0; i < n; ++i) {
      const row = {};
      for (const name of names) row[name] = columns[name][i];
      rows[i] = row;
    }
    return rows;
  }

  // The file row number (1-based) of kept row k of a table written as the
  // first head_rows rows and the last rows of the file (report.cpp).
  function fileRow(columns, k) {
    const kept = keptRows(columns);
    return k < columns.head_rows ? k + 1 : columns.total_rows - kept + k + 1;
  }
  function keptRows(columns) {
    const names = Object.keys(columns).filter((key) => Array.isArray(columns[key]));
    return names.length ? columns[names[0]].length : 0;
  }
  // "the first 2,000 and the last 2,000 of 346,422 (trades.csv holds all 346,422)", or "" when all are kept.
  function keptText(columns, file) {
    const kept = keptRows(columns);
    const total = columns.total_rows;
    if (kept >= total) return '';
    const tail = kept - columns.head_rows;
    return 'The page holds the first ' + integer(columns.head_rows) + (tail > 0 ? ' and the last ' + integer(tail) : '') +
      ' of ' + integer(total) + '; ' + file + ' holds all ' + integer(total) + '.';
  }

  // A table of the kept rows of `columns`, PAGE_ROWS a page with a pager.
  // rowAt(k) gives the cells of kept row k; where rows were left out (between
  // the first and the last ones) a note row says how many and where they are.
  function pagedTable(host, headings, columns, rowAt, noun, file) {
    const count = keptRows(columns);
    const pages = Math.max(1, Math.ceil(count / PAGE_ROWS));
    const gapAt = count < columns.total_rows ? columns.head_rows : -1;
    const gapText = '… ' + integer(columns.total_rows - count) + ' ' + noun + ' not in this page (' + file +
      ' holds all ' + integer(columns.total_rows) + ') …';
    let page = 0;
    const status = el('span', { className: 'pager-status' });
    const buttons = [];
    const pager = el('div', { className: 'pager' });
    const scroller = el('div', { className: 'table-scroll' });
    const button = (label, title, target) => {
      const b = el('button', { type: 'button', title, text: label });
      b.addEventListener('click', () => { page = Math.min(pages - 1, Math.max(0, target())); draw(); });
      buttons.push(b);
      return b;
    };
    pager.append(button('« First', 'First page', () => 0), button('‹ Previous', 'Previous page', () => page - 1),
      status, button('Next ›', 'Next page', () => page + 1), button('Last »', 'Last page', () => pages - 1));
    function draw() {
      const begin = page * PAGE_ROWS;
      const end = Math.min(count, begin + PAGE_ROWS);
      const rows = [];
      for (let k = begin; k < end; ++k) {
        if (k === gapAt) rows.push(gapText);
        rows.push(rowAt(k));
      }
      scroller.replaceChildren(table(headings, rows));
      status.textContent = 'Page ' + integer(page + 1) + ' of ' + integer(pages) + ' · ' + noun + ' ' +
        integer(fileRow(columns, begin)) + '–' + integer(fileRow(columns, Math.max(begin, end - 1))) +
        ' of ' + integer(columns.total_rows);
      buttons[0].disabled = buttons[1].disabled = page === 0;
      buttons[2].disabled = buttons[3].disabled = page === pages - 1;
    }
    draw();
    pager.hidden = pages === 1;
    host.append(pager, scroller);
  }

  // ---- charts -----------------------------------------------------------
  function chartOptions(priceFormatter) {
    return {
      autoSize: true,
      layout: {
        background: { type: 'solid', color: '#ffffff' },
        textColor: COLORS.text,
        fontFamily: getComputedStyle(document.body).fontFamily,
        fontSize: 12,
      },
      grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
      rightPriceScale: { borderColor: COLORS.border },
      // The default minimum bar spacing (0.5 px) keeps fitContent from showing
      // more than about two bars per pixel: a long run opened on its last
      // sessions only. Conflation keeps drawing that many bars fast. A resize
      // (the page's scroll bar appearing, a window resized) keeps the range.
      timeScale: {
        borderColor: COLORS.border, timeVisible: true, secondsVisible: false,
        minBarSpacing: 0.001, enableConflation: true, lockVisibleTimeRangeOnResize: true,
      },
      crosshair: { mode: 0 },
      localization: priceFormatter ? { priceFormatter } : {},
    };
  }

  // Every time chart of the page: opened on all its data once the page is laid
  // out (autoSize sizes the charts after they are created), and its visible
  // range written to its element (data-visible: "all" or "from–to of n" in
  // data points) for the browser test.
  const timeCharts = [];
  function timeChart(host, priceFormatter) {
    const chart = LWC.createChart(host, chartOptions(priceFormatter));
    const entry = { chart, host, points: 0 };
    timeCharts.push(entry);
    chart.timeScale().subscribeVisibleLogicalRangeChange((range) => recordRange(entry, range));
    return {
      chart,
      // Call after the series' data is set: n is the number of points of the longest one.
      fit(points) {
        entry.points = Math.max(entry.points, points);
        chart.timeScale().fitContent();
        recordRange(entry, chart.timeScale().getVisibleLogicalRange());
      },
    };
  }
  function recordRange(entry, range) {
    if (!range || !entry.points) return;
    const all = range.from <= 0.5 && range.to >= entry.points - 1.5;
    entry.host.dataset.visible = all ? 'all'
      : Math.max(0, Math.round(range.from)) + '–' + Math.min(entry.points - 1, Math.round(range.to)) + ' of ' + entry.points;
  }
  function fitAllCharts() {
    for (const { chart } of timeCharts) chart.timeScale().fitContent();
  }

  // Chart times are whole UTC seconds, strictly increasing: equal seconds keep the last row.
  function series(times, values) {
    const out = [];
    for (let i = 0; i < times.length; ++i) {
      const point = values(i);
      if (point === null) continue;
      point.time = Math.floor(times[i]);
      if (out.length && out[out.length - 1].time === point.time) out[out.length - 1] = point;
      else out.push(point);
    }
    return out;
  }

  // The index of the chart point holding time t (the last one starting at or before t; 0 before the first).
  function pointOf(times, t) {
    let lo = 0;
    let hi = times.length - 1;
    if (hi < 0 || t <= times[0]) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (times[mid] <= t) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  // Keeps the markers of a series to what can be read: on every change of the
  // visible range, `draw(first, last)` (indices of the first and last point in
  // view) returns {count, markers, text}; above READABLE_MARKERS items in view
  // no markers are drawn and the hint asks to zoom in.
  function markersInView(chart, seriesApi, points, hint, draw) {
    const plugin = LWC.createSeriesMarkers(seriesApi, []);
    let shown = '';
    const update = (range) => {
      if (!range || !points) return;
      const first = Math.max(0, Math.ceil(range.from));
      const last = Math.min(points - 1, Math.floor(range.to));
      const key = first + ':' + last;
      if (key === shown) return;
      shown = key;
      const view = draw(first, last);
      plugin.setMarkers(view.markers);
      hint.textContent = view.text;
      hint.dataset.markers = view.state;
      hint.dataset.inView = String(view.count);
    };
    chart.timeScale().subscribeVisibleLogicalRangeChange(update);
    return () => update(chart.timeScale().getVisibleLogicalRange());
  }

  function renderHeader(data) {
    const meta = data.summary.meta;
    const currency = meta.currency ? ' ' + meta.currency : '';
    byId('title').textContent = meta.symbol + ' · ' + meta.strategy;
    const facts = [
      ['Symbol', meta.symbol],
      ['Strategy', meta.strategy],
      ['Period (UTC)', isoText(meta.from) + ' → ' + isoText(meta.to)],
      ['Initial equity', money(meta.initial_equity) + currency],
      ['Final equity', money(meta.final_equity) + currency],
      ['Net PnL', money(data.summary.net_pnl) + currency],
      ['Data source', meta.data_source + (meta.generated_data ? ' (generated)' : '')],
      ['Chart timeframe', String(meta.chart_timeframe)],
    ];
    if (meta.seed !== undefined) facts.push(['Seed', String(meta.seed)]);
    if (meta.version !== undefined) facts.push(['Version', String(meta.version)]);
    const dl = byId('header-facts');
    for (const [term, value] of facts) dl.append(el('div', null, [el('dt', { text: term }), el('dd', { text: value })]));
  }

  function renderMetrics(data) {
    const s = data.summary;
    const currency = s.meta.currency ? ' ' + s.meta.currency : '';
    const signed = (v, text) => ({ text, cls: finite(v) && v < 0 ? 'neg' : finite(v) && v > 0 ? 'pos' : '' });
    const groups = [
      ['Performance', [
        ['Net PnL', signed(s.net_pnl, money(s.net_pnl) + currency)],
        ['Gross PnL', signed(s.gross_pnl, money(s.gross_pnl) + currency)],
        ['Fees', money(s.fees) + currency],
        ['Trades', integer(s.trades)],
        ['Win rate', percent(s.win_rate)],
        ['Profit factor', fmt(s.profit_factor, 2)],
        ['Expectancy (per trade)', signed(s.expectancy, money(s.expectancy) + currency)],
      ]],
      ['Risk', [
        ['Sharpe', fmt(s.sharpe, 2)],
        ['Sortino', fmt(s.sortino, 2)],
        ['Max drawdown', money(s.max_drawdown) + currency],
        ['Max drawdown %', percent(s.max_drawdown_pct)],
        ['Calmar', fmt(s.calmar, 2)],
        ['Exposure', percent(s.exposure)],
      ]],
      ['Run', [
        ['Bars', integer(s.bars)],
        ['Bars per second', integer(s.bars_per_second)],
        ['From (UTC)', isoText(s.meta.from)],
        ['To (UTC)', isoText(s.meta.to)],
        ['Initial equity', money(s.meta.initial_equity) + currency],
        ['Final equity', money(s.meta.final_equity) + currency],
      ]],
    ];
    const host = byId('metrics-body');
    for (const [caption, rows] of groups) {
      const t = table([{ title: 'Metric' }, { title: 'Value', cls: 'num' }],
        rows.map(([name, value]) => [name, typeof value === 'object' ? { text: value.text, cls: 'num ' + value.cls } : value]),
        'metrics');
      t.prepend(el('caption', { text: caption }));
      host.append(t);
    }
  }

  // The embedded trades with their row number and the chart points of their entry and exit.
  function embeddedTrades(data) {
    const times = data.chart.ts;
    return rowsOf(data.trades).map((t, k) => Object.assign(t, {
      number: fileRow(data.trades, k), entryPoint: pointOf(times, t.entry_time), exitPoint: pointOf(times, t.exit_time),
    }));
  }

  function renderPriceChart(data, trades) {
    const c = data.chart;
    const meta = data.summary.meta;
    const decimals = data.options.price_decimals;
    const price = (v) => fmt(v, decimals);
    const priceFormat = { type: 'price', precision: decimals, minMove: Math.pow(10, -decimals) };
    const total = data.trade_stats.count;
    const n = c.ts.length;
    byId('price-note').textContent = 'Chart timeframe: ' + meta.chart_timeframe + ' · ' + integer(n) + ' bars' +
      (n < c.source_rows ? ' (merged from ' + integer(c.source_rows) + ' rows of chart_bars.csv)' : '') + ' · ' +
      integer(total) + ' trades · times in UTC · markers show when at most ' + integer(READABLE_MARKERS) +
      ' trades are in view: zoom in (wheel, pinch or drag on the time axis).';
    const { chart, fit } = timeChart(byId('price-chart'), price);
    const candles = chart.addSeries(LWC.CandlestickSeries, {
      upColor: COLORS.up, downColor: COLORS.down, borderVisible: false,
      wickUpColor: COLORS.up, wickDownColor: COLORS.down, priceFormat,
    });
    candles.setData(c.ts.map((time, i) => ({ time, open: c.open[i], high: c.high[i], low: c.low[i], close: c.close[i] })));

    // Trades per chart point (all trades of the run) and their running sum.
    const tp = data.trade_points;
    const longAt = new Uint32Array(n);
    const shortAt = new Uint32Array(n);
    const exitsAt = new Uint32Array(n);
    const losingAt = new Uint32Array(n);
    tp.point.forEach((p, j) => { longAt[p] = tp.long[j]; shortAt[p] = tp.short[j]; exitsAt[p] = tp.exits[j]; losingAt[p] = tp.losing[j]; });
    const entriesBefore = new Float64Array(n + 1);
    for (let p = 0; p < n; ++p) entriesBefore[p + 1] = entriesBefore[p] + longAt[p] + shortAt[p];
    // The embedded trades by entry point, to tell whether every trade in view is embedded.
    const byEntry = trades.slice().sort((a, b) => a.entryPoint - b.entryPoint);
    const entryPoints = byEntry.map((t) => t.entryPoint);
    const countBefore = (p) => {
      let lo = 0;
      let hi = entryPoints.length;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (entryPoints[mid] < p) lo = mid + 1; else hi = mid; }
      return lo;
    };

    // Small runs: the initial stop as a level from entry to exit.
    const stopLines = total <= 200 && trades.length === total;
    if (stopLines) {
      for (const t of trades) {
        if (!finite(t.initial_stop)) continue;
        const entry = c.ts[t.entryPoint];
        const exit = c.ts[t.exitPoint];
        const level = chart.addSeries(LWC.LineSeries, {
          color: COLORS.stop, lineWidth: 2, lastValueVisible: false, priceLineVisible: false,
          crosshairMarkerVisible: false, pointMarkersVisible: exit === entry, title: '', priceFormat,
        });
        level.setData(exit === entry ? [{ time: entry, value: t.initial_stop }]
          : [{ time: entry, value: t.initial_stop }, { time: exit, value: t.initial_stop }]);
      }
    }

    const tradeMarkers = (list, labels) => {
      const markers = [];
      for (const t of list) {
        const long = t.side === 'long';
        const entry = c.ts[t.entryPoint];
        markers.push({
          time: entry, position: long ? 'belowBar' : 'aboveBar', shape: long ? 'arrowUp' : 'arrowDown',
          color: long ? COLORS.green : COLORS.red, text: labels ? (long ? 'Long #' : 'Short #') + t.number : '',
        });
        if (!stopLines && finite(t.initial_stop)) {
          markers.push({ time: entry, position: 'atPriceMiddle', price: t.initial_stop, shape: 'square', size: 0.5,
            color: COLORS.stop, text: '' });
        }
        markers.push({
          time: c.ts[t.exitPoint], position: long ? 'aboveBar' : 'belowBar', shape: 'circle', size: 0.8,
          color: finite(t.net_pnl) && t.net_pnl < 0 ? COLORS.red : COLORS.exit, text: labels ? t.exit_reason : '',
        });
      }
      return markers;
    };
    // Trades that are not embedded one by one: per chart bar, how many entered and exited.
    const barMarkers = (first, last) => {
      const markers = [];
      for (let p = first; p <= last; ++p) {
        const time = c.ts[p];
        if (longAt[p]) markers.push({ time, position: 'belowBar', shape: 'arrowUp', color: COLORS.green, text: longAt[p] > 1 ? String(longAt[p]) : '' });
        if (shortAt[p]) markers.push({ time, position: 'aboveBar', shape: 'arrowDown', color: COLORS.red, text: shortAt[p] > 1 ? String(shortAt[p]) : '' });
        if (exitsAt[p]) {
          markers.push({ time, position: 'aboveBar', shape: 'circle', size: 0.8,
            color: losingAt[p] * 2 > exitsAt[p] ? COLORS.red : COLORS.exit,
            text: exitsAt[p] > 1 ? exitsAt[p] + ' exits' : '' });
        }
      }
      return markers;
    };
    const refresh = markersInView(chart, candles, n, byId('price-markers'), (first, last) => {
      const inView = entriesBefore[last + 1] - entriesBefore[first];
      if (inView === 0) return { count: 0, markers: [], state: 'none', text: 'No trade entries in view.' };
      if (inView > READABLE_MARKERS) {
        return { count: inView, markers: [], state: 'hidden',
          text: 'Zoom in to see the ' + integer(inView) + ' trades in view: markers show when at most ' +
            integer(READABLE_MARKERS) + ' are.' };
      }
      const begin = countBefore(first);
      const end = countBefore(last + 1);
      if (end - begin === inView) {
        const list = byEntry.slice(begin, end);
        const markers = tradeMarkers(list, inView <= LABELLED_MARKERS).sort((a, b) => a.time - b.time);
        return { count: inView, markers, state: 'trades',
          text: 'Markers: the ' + integer(inView) + ' trade' + (inView === 1 ? '' : 's') + ' in view' +
            (inView <= LABELLED_MARKERS ? ', labelled.' : ' (labels from ' + LABELLED_MARKERS + ' trades down).') };
      }
      return { count: inView, markers: barMarkers(first, last), state: 'bars',
        text: 'Markers: the ' + integer(inView) + ' trades in view, counted per bar (the page holds the first and last ' +
          'trades one by one; trades.csv holds all).' };
    });
    fit(n);
    refresh();

    const legend = byId('price-legend');
    legend.append(
      legendItem('▲', COLORS.green, 'long entry'), legendItem('▼', COLORS.red, 'short entry'),
      legendItem('●', COLORS.exit, 'exit, labelled with its reason (red: losing trade)'),
      legendItem(stopLines ? '━' : '■', COLORS.stop, stopLines ? 'initial stop, from entry to exit' : 'initial stop at entry'),
      el('span', { text: 'a number beside a marker: trades of that bar' }));
  }

  function legendItem(symbol, color, text) {
    return el('span', null, [el('b', { text: symbol, style: 'color:' + color }), ' ' + text]);
  }

  // Equity and drawdown in one chart of two panes: one time scale for both
  // (building it is most of the cost of a 60,000-point chart) and they zoom together.
  function renderEquity(data) {
    const c = data.chart;
    const meta = data.summary.meta;
    byId('equity-note').textContent = 'From chart_equity.csv: the equity at the close of each chart bar (' +
      integer(c.ts.length) + ' bars of ' + meta.chart_timeframe + '), green above the initial equity and red below; ' +
      'under it the drawdown, the deepest within each bar in % of the peak.';
    const { chart, fit } = timeChart(byId('equity-chart'), money);
    const equity = chart.addSeries(LWC.BaselineSeries, {
      baseValue: { type: 'price', price: meta.initial_equity },
      topLineColor: COLORS.green, topFillColor1: 'rgba(21,128,61,0.28)', topFillColor2: 'rgba(21,128,61,0.04)',
      bottomLineColor: COLORS.red, bottomFillColor1: 'rgba(185,28,28,0.04)', bottomFillColor2: 'rgba(185,28,28,0.28)',
      lineWidth: 2,
    });
    equity.setData(series(c.ts, (i) => ({ value: c.equity[i] })));
    equity.createPriceLine({ price: meta.initial_equity, color: '#9ca3af', lineWidth: 1, lineStyle: 2, title: 'initial' });

    const pctFormat = (v) => fmt(v, 2) + ' %';
    const drawdown = chart.addSeries(LWC.AreaSeries, {
      lineColor: COLORS.red, topColor: 'rgba(185,28,28,0.05)', bottomColor: 'rgba(185,28,28,0.35)', lineWidth: 1,
      priceFormat: { type: 'custom', formatter: pctFormat, minMove: 0.01 }, title: 'drawdown',
    }, 1);
    drawdown.setData(series(c.ts, (i) => ({ value: finite(c.drawdown_pct[i]) ? -100 * c.drawdown_pct[i] : 0 })));
    const panes = chart.panes();
    panes[0].setStretchFactor(2);
    panes[1].setStretchFactor(1);
    fit(c.ts.length);
    byId('equity-legend').append(legendItem('━', COLORS.green, 'equity above the initial equity'),
      legendItem('━', COLORS.red, 'below it; lower pane: drawdown (deepest within each chart bar, % of the peak)'));
  }

  function renderMonthly(data) {
    // Compounded by report.cpp over every row of daily.csv: 'YYYY-MM' → end ÷ start equity.
    const months = new Map(Object.entries(data.monthly_growth));
    const host = byId('monthly-body');
    if (!months.size) {
      host.append(el('p', { className: 'note', text: 'No daily rows.' }));
      return;
    }
    const years = [...new Set([...months.keys()].map((k) => k.slice(0, 4)))].sort();
    let maxAbs = 0;
    for (const g of months.values()) maxAbs = Math.max(maxAbs, Math.abs(g - 1));
    const shade = (r) => {
      if (!finite(r) || maxAbs === 0) return '';
      const alpha = 0.1 + 0.6 * Math.min(1, Math.abs(r) / maxAbs);
      return r >= 0 ? 'rgba(22,163,74,' + alpha.toFixed(3) + ')' : 'rgba(220,38,38,' + alpha.toFixed(3) + ')';
    };
    const cell = (r, extra) => {
      const td = el('td', { className: extra || '', text: finite(r) ? fmt(r * 100, 2) + ' %' : '' });
      const bg = shade(r);
      if (bg) td.style.background = bg;
      return td;
    };
    const head = el('tr', null, [el('th', { text: 'Year' }), ...MONTHS.map((m) => el('th', { text: m })), el('th', { text: 'Year' })]);
    const body = el('tbody');
    for (const year of years) {
      const tr = el('tr', null, [el('th', { text: year })]);
      let growth = 1;
      MONTHS.forEach((_, m) => {
        const key = year + '-' + String(m + 1).padStart(2, '0');
        if (months.has(key)) {
          growth *= months.get(key);
          tr.append(cell(months.get(key) - 1));
        } else {
          tr.append(cell(NaN));
        }
      });
      tr.append(cell(growth - 1, 'year-total'));
      body.append(tr);
    }
    host.append(el('table', { className: 'heatmap' }, [el('thead', null, [head]), body]));
  }

  function renderTrades(data, trades) {
    const decimals = data.options.price_decimals;
    const price = (v) => fmt(v, decimals);
    const stats = data.trade_stats;
    byId('trades-note').textContent = integer(stats.count) + ' trades: ' + integer(stats.winning) + ' winning, ' +
      integer(stats.count - stats.winning) + ' losing or flat; net ' + money(stats.net_pnl) + '. ' +
      keptText(data.trades, 'trades.csv');
    if (!stats.count) {
      byId('trades-body').append(el('p', { className: 'note', text: 'No trades.' }));
      return;
    }
    const columns = [
      { title: '#', cls: 'num' }, { title: 'Side' }, { title: 'Entry (UTC)' }, { title: 'Exit (UTC)' },
      { title: 'Qty', cls: 'num' }, { title: 'Entry price', cls: 'num' }, { title: 'Exit price', cls: 'num' },
      { title: 'Initial stop', cls: 'num' }, { title: 'Gross PnL', cls: 'num' }, { title: 'Fees', cls: 'num' },
      { title: 'Net PnL', cls: 'num' }, { title: 'Exit reason' }, { title: 'Bars', cls: 'num' },
    ];
    pagedTable(byId('trades-body'), columns, data.trades, (k) => {
      const t = trades[k];
      return [
        integer(t.number), { text: t.side, cls: t.side === 'long' ? 'side-long' : 'side-short' },
        time(t.entry_time), time(t.exit_time), fmt(t.qty, Number.isInteger(t.qty) ? 0 : 2),
        price(t.entry_price), price(t.exit_price), price(t.initial_stop),
        { text: money(t.gross_pnl), cls: signClass(t.gross_pnl) }, money(t.fees),
        { text: money(t.net_pnl), cls: signClass(t.net_pnl) }, t.exit_reason, integer(t.bars_held),
      ];
    }, 'trades', 'trades.csv');
  }

  function countsTable(counts, label) {
    const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
    return table([{ title: label }, { title: 'Count', cls: 'num' }], entries.map(([k, n]) => [k, integer(n)]), 'counts');
  }

  function renderRiskEvents(data) {
    const events = rowsOf(data.risk_events);
    const total = data.risk_events.total_rows;
    byId('risk-counts').append(total ? countsTable(data.risk_event_counts, 'Kind')
      : el('p', { className: 'note', text: 'No risk events.' }));
    if (!total) return;
    byId('risk-note').textContent = integer(total) + ' risk events. ' + keptText(data.risk_events, 'risk_events.csv');
    const columns = [{ title: '#', cls: 'num' }, { title: 'Time (UTC)' }, { title: 'Kind' }, { title: 'Reason' },
      { title: 'Equity', cls: 'num' }, { title: 'Value', cls: 'num' }];
    pagedTable(byId('risk-body'), columns, data.risk_events, (k) => {
      const e = events[k];
      return [integer(fileRow(data.risk_events, k)), time(e.ts), e.kind, { text: e.reason, cls: 'wrap' },
        money(e.equity), fmt(e.value, 2)];
    }, 'events', 'risk_events.csv');
  }

  function renderOrders(data) {
    const orders = rowsOf(data.orders);
    const total = data.orders.total_rows;
    byId('order-counts').append(total ? countsTable(data.order_status_counts, 'Status')
      : el('p', { className: 'note', text: 'No orders.' }));
    byId('orders-summary').textContent = 'Order list (' + integer(total) + ' orders' +
      (orders.length < total ? '; the page holds the first and last ' + integer(orders.length) + ', orders.csv all' : '') + ')';
    if (!total) return;
    const price = (v) => fmt(v, data.options.price_decimals);
    const columns = [
      { title: 'Id' }, { title: 'Created (UTC)' }, { title: 'Updated (UTC)' }, { title: 'Side' }, { title: 'Type' },
      { title: 'TIF' }, { title: 'Purpose' }, { title: 'Qty', cls: 'num' }, { title: 'Limit', cls: 'num' },
      { title: 'Stop', cls: 'num' }, { title: 'Status' }, { title: 'Filled', cls: 'num' }, { title: 'Avg fill', cls: 'num' },
    ];
    pagedTable(byId('orders-body'), columns, data.orders, (k) => {
      const o = orders[k];
      return [o.id, time(o.created), time(o.updated), o.side, o.type, o.tif, o.purpose,
        fmt(o.qty, Number.isInteger(o.qty) ? 0 : 2), price(o.limit_price), price(o.stop_price), o.status,
        fmt(o.filled_qty, Number.isInteger(o.filled_qty) ? 0 : 2), price(o.avg_fill_price)];
    }, 'orders', 'orders.csv');
  }

  function renderDaily(data) {
    const days = rowsOf(data.daily);
    const total = data.daily.total_rows;
    byId('daily-summary').textContent = 'Daily table (' + integer(total) + ' sessions, ' + integer(data.daily_halted) +
      ' halted' + (days.length < total ? '; the page holds the first and last ' + integer(days.length) + ', daily.csv all' : '') + ')';
    if (!total) return;
    const columns = [
      { title: 'Session date' }, { title: 'Start equity', cls: 'num' }, { title: 'End equity', cls: 'num' },
      { title: 'PnL', cls: 'num' }, { title: 'Return', cls: 'num' }, { title: 'Trades', cls: 'num' },
      { title: 'Fees', cls: 'num' }, { title: 'Halted' },
    ];
    pagedTable(byId('daily-body'), columns, data.daily, (k) => {
      const d = days[k];
      const r = d.start_equity > 0 ? d.end_equity / d.start_equity - 1 : NaN;
      return [
        d.date, money(d.start_equity), money(d.end_equity), { text: money(d.pnl), cls: signClass(d.pnl) },
        { text: percent(r), cls: signClass(r) }, integer(d.trades), money(d.fees),
        d.halted === '1' ? { text: 'halted', cls: 'neg' } : '',
      ];
    }, 'sessions', 'daily.csv');
  }

  // ---- gated run: comparison, model, quantile bands -------------------------
  function renderComparison(data) {
    const g = data.summary;
    const u = data.ungated.summary;
    const currency = g.meta.currency ? ' ' + g.meta.currency : '';
    byId('compare-note').textContent = 'The same backtest with the model gate (this run) and without it ' +
      '(ungated/). Difference = gated − ungated. Equity per chart bar, from chart_equity.csv of each run.';
    const diffCell = (d, text, higherIsBetter) => ({
      text, cls: 'num ' + (!finite(d) || d === 0 ? '' : (d > 0) === higherIsBetter ? 'pos' : 'neg'),
    });
    const rows = [
      ['Net PnL' + currency, 'net_pnl', money, true],
      ['Trades', 'trades', integer, null],
      ['Win rate', 'win_rate', (v) => percent(v), true],
      ['Profit factor', 'profit_factor', (v) => fmt(v, 2), true],
      ['Expectancy (per trade)' + currency, 'expectancy', money, true],
      ['Sharpe', 'sharpe', (v) => fmt(v, 2), true],
      ['Max drawdown %', 'max_drawdown_pct', (v) => percent(v), false],
      ['Fees' + currency, 'fees', money, false],
    ].map(([name, key, format, better]) => {
      const a = g[key];
      const b = u[key];
      const d = finite(a) && finite(b) ? a - b : NaN;
      const dText = finite(d) ? (d > 0 ? '+' : '') + (key === 'win_rate' || key === 'max_drawdown_pct'
        ? fmt(d * 100, 2) + ' pp' : format(d)) : DASH;
      return [name, { text: format(a), cls: 'num' }, { text: format(b), cls: 'num' },
        better === null ? { text: dText, cls: 'num' } : diffCell(d, dText, better)];
    });
    byId('compare-body').append(table([{ title: 'Metric' }, { title: 'Gated', cls: 'num' },
      { title: 'Ungated', cls: 'num' }, { title: 'Difference', cls: 'num' }], rows, 'metrics compare'));

    const { chart, fit } = timeChart(byId('compare-chart'), money);
    const line = (times, values, color, title) => {
      const s = chart.addSeries(LWC.LineSeries, { color, lineWidth: 2, title, priceLineVisible: false });
      const points = series(times, (i) => ({ value: values[i] }));
      s.setData(points);
      return { s, points: points.length };
    };
    const ungated = line(data.ungated.ts || data.chart.ts, data.ungated.equity, COLORS.ungated, 'ungated');
    const gated = line(data.chart.ts, data.chart.equity, COLORS.blue, 'gated');
    gated.s.createPriceLine({ price: g.meta.initial_equity, color: '#9ca3af', lineWidth: 1, lineStyle: 2, title: 'initial' });
    // Both runs share the chart bars (the usual case) or the union of their times is drawn.
    fit(data.ungated.ts ? new Set([...data.ungated.ts, ...data.chart.ts]).size : Math.max(ungated.points, gated.points));
    byId('compare-legend').append(legendItem('━', COLORS.blue, 'gated equity (this run)'),
      legendItem('━', COLORS.ungated, 'ungated equity (ungated/chart_equity.csv)'));
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Mean predicted vs observed per bin, on [0, 1] × [0, 1], with the diagonal.
  function calibrationChart(bins) {
    const W = 420, H = 360, L = 56, R = 16, T = 16, B = 48;
    const x = (v) => L + v * (W - L - R);
    const y = (v) => H - B - v * (H - T - B);
    const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, class: 'calibration',
      role: 'img', 'aria-label': 'Calibration curve: observed frequency against mean predicted probability' });
    for (let k = 0; k <= 10; ++k) {
      const v = k / 10;
      root.append(svg('line', { x1: x(v), y1: y(0), x2: x(v), y2: y(1), class: 'grid' }));
      root.append(svg('line', { x1: x(0), y1: y(v), x2: x(1), y2: y(v), class: 'grid' }));
      if (k % 2 === 0) {
        root.append(svg('text', { x: x(v), y: y(0) + 16, 'text-anchor': 'middle', class: 'tick' }, v.toFixed(1)));
        root.append(svg('text', { x: x(0) - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, v.toFixed(1)));
      }
    }
    root.append(svg('rect', { x: x(0), y: y(1), width: x(1) - x(0), height: y(0) - y(1), class: 'frame' }));
    root.append(svg('line', { x1: x(0), y1: y(0), x2: x(1), y2: y(1), class: 'diagonal' }));
    root.append(svg('text', { x: (x(0) + x(1)) / 2, y: H - 8, 'text-anchor': 'middle', class: 'axis' },
      'mean predicted probability'));
    root.append(svg('text', { x: 14, y: (y(0) + y(1)) / 2, 'text-anchor': 'middle', class: 'axis',
      transform: 'rotate(-90 14 ' + (y(0) + y(1)) / 2 + ')' }, 'observed frequency'));
    const points = bins.filter((b) => finite(b.mean_predicted) && finite(b.observed) && b.count > 0);
    if (points.length) {
      root.append(svg('polyline', { class: 'curve',
        points: points.map((b) => x(b.mean_predicted).toFixed(1) + ',' + y(b.observed).toFixed(1)).join(' ') }));
      const most = Math.max(...points.map((b) => b.count));
      for (const b of points) {
        const dot = svg('circle', { cx: x(b.mean_predicted), cy: y(b.observed),
          r: (3 + 4 * Math.sqrt(b.count / most)).toFixed(1), class: 'dot' });
        dot.append(svg('title', null, fmt(b.lower, 2) + '–' + fmt(b.upper, 2) + ': predicted ' +
          fmt(b.mean_predicted, 3) + ', observed ' + fmt(b.observed, 3) + ', ' + integer(b.count) + ' rows'));
        root.append(dot);
      }
    }
    return root;
  }

  function renderModel(data) {
    const m = data.model;
    const host = byId('model-body');
    const left = el('div');
    // Trained since the research step: metrics measured on a test segment that
    // nothing was fitted on ("measured_on": "test"); older manifests validated
    // on the early-stopping rows.
    const where = m.measured_on === 'test' ? 'Test (out-of-sample)' : 'Validation';
    const rows = [
      ['AUC', fmt(m.auc, 4)], ['Log-loss', fmt(m.log_loss, 4)], ['Brier score', fmt(m.brier, 4)],
      [where + ' rows', integer(m.rows)], ['Gate threshold p_min', fmt(m.p_min, 2)],
    ];
    if (m.early_stopping) {
      rows.push(['AUC on the early-stopping rows (chose the trees: biased)', fmt(m.early_stopping.auc, 4)]);
    }
    if (finite(m.raw_quantiles_crossed)) rows.push(['Raw q10 > q90 (before sorting)', percent(m.raw_quantiles_crossed, 1)]);
    rows.push(['Model directory', { text: m.model_dir, cls: 'long-value' }],
      ['Manifest hash', { text: m.manifest_hash, cls: 'long-value mono' }]);
    const facts = table([{ title: where + ' metric' }, { title: 'Value', cls: 'num' }], rows, 'metrics');
    facts.prepend(el('caption', { text: where }));
    if (m.overlap) {
      left.append(el('p', { className: 'warning', text: 'The backtest window overlaps the models\' training window ' +
        '(--allow-overlap): ' + m.overlap + '. Its gated results are in-sample.' }));
    }
    left.append(facts);

    const c = m.coverage;
    const sum = [c.below_lower, c.above_upper, c.inside].filter(finite).reduce((a, b) => a + b, 0);
    const share = (v) => (finite(v) && sum > 1.0001 ? v / sum : v);  // counts → shares
    const coverage = table([{ title: 'Forward move' }, { title: 'Share', cls: 'num' }, { title: 'Ideal', cls: 'num' }], [
      ['below q10', percent(share(c.below_lower), 1), '10 %'],
      ['inside [q10, q90]', percent(share(c.inside), 1), '80 %'],
      ['above q90', percent(share(c.above_upper), 1), '10 %'],
    ], 'metrics coverage');
    coverage.prepend(el('caption', { text: 'Quantile coverage (' + where.toLowerCase() + ')' }));
    left.append(coverage);

    const bins = m.calibration;
    const right = el('figure', { className: 'calibration-figure' }, [
      calibrationChart(bins),
      el('figcaption', { className: 'note', text: 'Calibration: each dot is a probability bin (area ∝ rows); ' +
        'dashed: perfect calibration. ' + integer(bins.filter((b) => !(b.count > 0)).length) + ' empty bin(s) not drawn.' }),
    ]);
    host.append(left, right);
  }

  function renderGate(data) {
    const gate = data.gate;
    const g = gate.chart;
    const total = gate.allowed_count + gate.blocked_count;
    byId('gate-note').textContent = 'Each entry signal the gate judged: the model\'s 10 % and 90 % quantiles of ' +
      'the forward move (points, signed in the trade\'s direction), against the target and the stop (2 × ATR).' +
      (g.per_signal ? '' : ' ' + integer(total) + ' signals are too many to draw one by one: the chart shows their means ' +
        'per ' + integer(g.points_per_bucket) + ' chart bar' + (g.points_per_bucket === 1 ? '' : 's') + '.');
    byId('gate-counts').append(table([{ title: 'Decision' }, { title: 'Signals', cls: 'num' }, { title: 'Share', cls: 'num' }], [
      [{ text: 'allowed', cls: 'pos' }, integer(gate.allowed_count), percent(total ? gate.allowed_count / total : NaN, 1)],
      [{ text: 'blocked', cls: 'neg' }, integer(gate.blocked_count), percent(total ? gate.blocked_count / total : NaN, 1)],
    ], 'counts'));
    const points = (v) => fmt(v, 2);
    const { chart, fit } = timeChart(byId('gate-chart'), points);
    const line = (color, width, style, title) => chart.addSeries(LWC.LineSeries, {
      color, lineWidth: width, lineStyle: style, title, priceLineVisible: false, lastValueVisible: false,
      crosshairMarkerVisible: false,
    });
    const target = line(COLORS.green, 1, 2, 'target');
    const stop = line(COLORS.stop, 1, 2, '−stop');
    const q10 = line(COLORS.blue, 2, 0, 'q10');
    const q90 = line(COLORS.blue, 2, 0, 'q90');
    const at = (key, sign) => series(g.ts, (i) => ({ value: sign * g[key][i] }));
    target.setData(at('target', 1));
    stop.setData(at('stop', -1));
    q10.setData(at('q10', 1));
    const band = at('q90', 1);
    q90.setData(band);
    q90.createPriceLine({ price: 0, color: '#9ca3af', lineWidth: 1, lineStyle: 1, title: '' });
    const legend = byId('gate-legend');
    legend.append(legendItem('━', COLORS.blue, 'q10 and q90 (the band)'),
      legendItem('╌', COLORS.green, 'target distance'), legendItem('╌', COLORS.stop, '−stop distance'));
    if (g.per_signal) {
      // One marker per signal, only while few enough are in view.
      const decided = series(g.ts, (i) => ({ allowed: g.allowed[i] === 1 }));
      const refresh = markersInView(chart, q90, decided.length, byId('gate-markers'), (first, last) => {
        const count = last >= first ? last - first + 1 : 0;
        if (count > READABLE_MARKERS) {
          return { count, markers: [], state: 'hidden', text: 'Zoom in to see whether each of the ' + integer(count) +
            ' signals in view was allowed: markers show when at most ' + integer(READABLE_MARKERS) + ' are.' };
        }
        const markers = decided.slice(first, last + 1).map((p) => ({ time: p.time, position: 'aboveBar',
          shape: p.allowed ? 'circle' : 'square', size: 0.5, color: p.allowed ? COLORS.green : COLORS.red, text: '' }));
        return { count, markers, state: count ? 'signals' : 'none', text: count ? 'Markers: the ' + integer(count) +
          ' signals in view, allowed or blocked.' : 'No signals in view.' };
      });
      fit(band.length);
      refresh();
      legend.append(legendItem('●', COLORS.green, 'allowed'), legendItem('■', COLORS.red, 'blocked'));
    } else {
      fit(band.length);
      byId('gate-markers').textContent = 'Allowed and blocked signals are counted above; gate.csv lists each one.';
    }

    if (!total) {
      byId('gate-body').append(el('p', { className: 'note', text: 'No gate signals.' }));
      return;
    }
    const kept = keptText(gate.table, 'gate.csv');
    if (kept) byId('gate-note').textContent += ' Table: ' + kept;
    const rows = rowsOf(gate.table);
    const columns = [
      { title: 'Time (UTC)' }, { title: 'Side' }, { title: 'Prob', cls: 'num' }, { title: 'q10', cls: 'num' },
      { title: 'q90', cls: 'num' }, { title: 'Target', cls: 'num' }, { title: 'Stop', cls: 'num' },
      { title: 'Decision' }, { title: 'Reason' },
    ];
    pagedTable(byId('gate-body'), columns, gate.table, (k) => {
      const r = rows[k];
      return [time(r.ts), { text: r.side, cls: r.side === 'long' ? 'side-long' : 'side-short' }, fmt(r.prob, 3),
        { text: points(r.q10), cls: signClass(r.q10) }, { text: points(r.q90), cls: signClass(r.q90) },
        points(r.target), points(r.stop),
        r.allowed === '1' ? { text: 'allowed', cls: 'pos' } : { text: 'blocked', cls: 'neg' },
        { text: r.reason, cls: 'wrap' }];
    }, 'signals', 'gate.csv');
  }

  // ---- layout check (tests/report/render_test.sh opens the page with ?layout-check) ----
  // Opens every <details>, then lists in
  // document.body.dataset.layout what does not fit: the page wider than the
  // window, an element whose content is wider than its box (scroll containers
  // excepted: they scroll by design), or block siblings that overlap. "ok" when
  // nothing is found. The charts' insides are the library's and are not checked.
  function layoutCheck() {
    for (const details of document.querySelectorAll('details')) details.open = true;
    const name = (node) => node.tagName.toLowerCase() + (node.id ? '#' + node.id : '') +
      (typeof node.className === 'string' && node.className.trim() ? '.' + node.className.trim().split(/\s+/).join('.') : '');
    const path = (node) => {
      const parts = [];
      for (let n = node; n && n !== document.body && parts.length < 4; n = n.parentElement) parts.unshift(name(n));
      return parts.join(' > ');
    };
    const check = () => {
      const problems = [];
      const root = document.documentElement;
      if (root.scrollWidth > root.clientWidth + 1) {
        problems.push('page wider than the window (' + root.scrollWidth + ' > ' + root.clientWidth + ' px)');
      }
      const blocks = (node) => [...node.children].filter((child) => {
        const style = getComputedStyle(child);
        if (style.display === 'none' || style.display === 'inline' || style.display === 'contents') return false;
        if (style.position === 'absolute' || style.position === 'fixed') return false;
        const r = child.getBoundingClientRect();
        return r.width > 0 && r.height > 0;
      });
      for (const node of document.body.querySelectorAll('*')) {
        if (node.closest('.chart') && !node.classList.contains('chart')) continue;
        if (node instanceof SVGElement) continue;
        const style = getComputedStyle(node);
        if (style.display === 'none' || style.display === 'inline') continue;
        const scrolls = style.overflowX === 'auto' || style.overflowX === 'scroll';
        if (!scrolls && node.clientWidth > 0 && node.scrollWidth > node.clientWidth + 1) {
          problems.push('overflows: ' + path(node) + ' (' + node.scrollWidth + ' > ' + node.clientWidth + ' px)');
        }
        if (node.classList.contains('chart')) continue;
        const children = blocks(node);
        if (children.length < 2 || children.length > 200) continue;
        const rects = children.map((child) => child.getBoundingClientRect());
        for (let i = 0; i < rects.length; ++i) {
          for (let j = i + 1; j < rects.length; ++j) {
            const a = rects[i];
            const b = rects[j];
            if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 &&
                Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1) {
              problems.push('overlap: ' + path(children[i]) + ' and ' + name(children[j]));
            }
          }
        }
      }
      document.body.dataset.layout = problems.length ? problems.slice(0, 12).join(' | ') +
        (problems.length > 12 ? ' | … ' + (problems.length - 12) + ' more' : '') : 'ok';
    };
    check();  // reading sizes lays the page out: no need to wait for a frame
  }

  function main() {
    if (!LWC) throw new Error('the inlined Lightweight Charts library did not load');
    const data = JSON.parse(byId('report-data').textContent);
    const trades = embeddedTrades(data);
    renderHeader(data);
    renderMetrics(data);
    if (data.ungated) renderComparison(data);
    renderPriceChart(data, trades);
    renderEquity(data);
    if (data.model) renderModel(data);
    if (data.gate) renderGate(data);
    renderMonthly(data);
    renderTrades(data, trades);
    renderRiskEvents(data);
    renderOrders(data);
    renderDaily(data);
    byId('config-text').textContent = data.config_toml;
    // The charts are sized by the browser after they are created (autoSize):
    // fit them again once the page is laid out, so each opens on the whole run.
    requestAnimationFrame(() => requestAnimationFrame(fitAllCharts));
  }

  try {
    main();
    if (!failed) document.body.dataset.rendered = 'ok';
    if (new URLSearchParams(window.location.search).has('layout-check')) layoutCheck();
  } catch (error) {
    fail(error);
  }
})();
