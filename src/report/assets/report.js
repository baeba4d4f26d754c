// Builds the report page from the JSON in #report-data (written by
// src/report/report.cpp). Ends with document.body.dataset.rendered = "ok";
// any error is shown at the top of the page and stored in that attribute.
(function () {
  'use strict';

  const LWC = window.LightweightCharts;
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const COLORS = {
    green: '#15803d', red: '#b91c1c', up: '#26a69a', down: '#ef5350',
    stop: '#ea580c', exit: '#475569', blue: '#1d4ed8', grid: '#eef1f4', border: '#d5dae0',
    text: '#374151', ungated: '#9333ea',
  };

  let failed = false;
  function fail(error) {
    failed = true;
    const text = error && error.message ? error.message : String(error);
    document.body.dataset.rendered = 'error: ' + text;
    const box = document.getElementById('render-error');
    box.hidden = false;
    box.textContent = 'The report could not be drawn completely: ' + text;
  }
  window.addEventListener('error', (event) => fail(event.error || event.message));

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
      timeScale: { borderColor: COLORS.border, timeVisible: true, secondsVisible: false },
      crosshair: { mode: 0 },
      localization: priceFormatter ? { priceFormatter } : {},
    };
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

  // The chart bar holding time t (the last bar starting at or before t).
  function snapper(barTimes) {
    return (t) => {
      let lo = 0;
      let hi = barTimes.length - 1;
      if (hi < 0) return Math.floor(t);
      if (t <= barTimes[0]) return barTimes[0];
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (barTimes[mid] <= t) lo = mid; else hi = mid - 1;
      }
      return barTimes[lo];
    };
  }

  // ---- sections -----------------------------------------------------------
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

  function renderPriceChart(data, trades) {
    const bars = data.chart_bars;
    const meta = data.summary.meta;
    const decimals = data.options.price_decimals;
    const price = (v) => fmt(v, decimals);
    byId('price-note').textContent = 'Chart timeframe: ' + meta.chart_timeframe + ' · ' +
      integer(bars.ts.length) + ' bars · ' + integer(trades.length) + ' trades · times in UTC';
    const chart = LWC.createChart(byId('price-chart'), chartOptions(price));
    const candles = chart.addSeries(LWC.CandlestickSeries, {
      upColor: COLORS.up, downColor: COLORS.down, borderVisible: false,
      wickUpColor: COLORS.up, wickDownColor: COLORS.down,
      priceFormat: { type: 'price', precision: decimals, minMove: Math.pow(10, -decimals) },
    });
    const candleData = series(bars.ts, (i) => ({ open: bars.open[i], high: bars.high[i], low: bars.low[i], close: bars.close[i] }));
    candles.setData(candleData);

    const snap = snapper(candleData.map((b) => b.time));
    const labels = trades.length <= 300;
    const stopLines = trades.length <= 200;
    const markers = [];
    trades.forEach((t, i) => {
      const long = t.side === 'long';
      const entry = snap(t.entry_time);
      markers.push({
        time: entry, position: long ? 'belowBar' : 'aboveBar', shape: long ? 'arrowUp' : 'arrowDown',
        color: long ? COLORS.green : COLORS.red, text: labels ? (long ? 'Long #' : 'Short #') + (i + 1) : '',
      });
      const exit = snap(t.exit_time);
      if (finite(t.initial_stop)) {
        if (stopLines) {
          // The initial stop as a short level from the entry bar to the exit bar.
          const level = chart.addSeries(LWC.LineSeries, {
            color: COLORS.stop, lineWidth: 2, lastValueVisible: false, priceLineVisible: false,
            crosshairMarkerVisible: false, pointMarkersVisible: exit === entry, title: '',
            priceFormat: { type: 'price', precision: decimals, minMove: Math.pow(10, -decimals) },
          });
          level.setData(exit === entry ? [{ time: entry, value: t.initial_stop }]
            : [{ time: entry, value: t.initial_stop }, { time: exit, value: t.initial_stop }]);
        } else {
          markers.push({
            time: entry, position: 'atPriceMiddle', price: t.initial_stop, shape: 'square', size: 0.5,
            color: COLORS.stop, text: '',
          });
        }
      }
      markers.push({
        time: exit, position: long ? 'aboveBar' : 'belowBar', shape: 'circle', size: 0.8,
        color: finite(t.net_pnl) && t.net_pnl < 0 ? COLORS.red : COLORS.exit,
        text: labels ? t.exit_reason : '',
      });
    });
    markers.sort((a, b) => a.time - b.time);
    LWC.createSeriesMarkers(candles, markers);
    chart.timeScale().fitContent();

    const legend = byId('price-legend');
    const item = (symbol, color, text) => el('span', null, [el('b', { text: symbol, style: 'color:' + color }), ' ' + text]);
    legend.append(
      item('▲', COLORS.green, 'long entry'), item('▼', COLORS.red, 'short entry'),
      item('●', COLORS.exit, 'exit, labelled with its reason (red: losing trade)'),
      item(stopLines ? '━' : '■', COLORS.stop, stopLines ? 'initial stop, from entry to exit' : 'initial stop at entry'));
    if (!labels) legend.append(el('span', { text: '(labels hidden: more than 300 trades)' }));
  }

  function renderEquity(data) {
    const eq = data.equity;
    const meta = data.summary.meta;
    const shown = eq.ts.length;
    byId('equity-note').textContent = shown < eq.total_rows
      ? integer(shown) + ' of ' + integer(eq.total_rows) + ' rows of equity.csv drawn (per stretch, the lowest and highest equity are kept).'
      : integer(shown) + ' rows of equity.csv. Green above the initial equity, red below.';
    const equityChart = LWC.createChart(byId('equity-chart'), chartOptions(money));
    const equity = equityChart.addSeries(LWC.BaselineSeries, {
      baseValue: { type: 'price', price: meta.initial_equity },
      topLineColor: COLORS.green, topFillColor1: 'rgba(21,128,61,0.28)', topFillColor2: 'rgba(21,128,61,0.04)',
      bottomLineColor: COLORS.red, bottomFillColor1: 'rgba(185,28,28,0.04)', bottomFillColor2: 'rgba(185,28,28,0.28)',
      lineWidth: 2,
    });
    equity.setData(series(eq.ts, (i) => ({ value: eq.equity[i] })));
    equity.createPriceLine({ price: meta.initial_equity, color: '#9ca3af', lineWidth: 1, lineStyle: 2, title: 'initial' });
    equityChart.timeScale().fitContent();

    // Drawdown in % of the running peak (peak = equity + drawdown), so it does
    // not depend on how drawdown_pct is scaled.
    const pctFormat = (v) => fmt(v, 2) + ' %';
    const drawdownChart = LWC.createChart(byId('drawdown-chart'), chartOptions(pctFormat));
    const drawdown = drawdownChart.addSeries(LWC.AreaSeries, {
      lineColor: COLORS.red, topColor: 'rgba(185,28,28,0.05)', bottomColor: 'rgba(185,28,28,0.35)', lineWidth: 1,
      priceFormat: { type: 'custom', formatter: pctFormat, minMove: 0.01 },
    });
    drawdown.setData(series(eq.ts, (i) => {
      const peak = eq.equity[i] + eq.drawdown[i];
      return { value: peak > 0 && eq.drawdown[i] > 0 ? -100 * eq.drawdown[i] / peak : 0 };
    }));
    drawdownChart.timeScale().fitContent();

    let syncing = false;
    const link = (from, to) => from.timeScale().subscribeVisibleLogicalRangeChange((range) => {
      if (syncing || !range) return;
      syncing = true;
      to.timeScale().setVisibleLogicalRange(range);
      syncing = false;
    });
    link(equityChart, drawdownChart);
    link(drawdownChart, equityChart);
  }

  function renderMonthly(data) {
    const days = rowsOf(data.daily);
    const months = new Map();  // 'YYYY-MM' -> growth factor
    for (const d of days) {
      if (!(d.start_equity > 0)) continue;
      const key = d.date.slice(0, 7);
      months.set(key, (months.has(key) ? months.get(key) : 1) * (d.end_equity / d.start_equity));
    }
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
    const limit = data.options.max_trade_rows;
    const wins = trades.filter((t) => t.net_pnl > 0).length;
    const net = trades.reduce((sum, t) => sum + t.net_pnl, 0);
    const note = byId('trades-note');
    note.textContent = integer(trades.length) + ' trades: ' + integer(wins) + ' winning, ' +
      integer(trades.length - wins) + ' losing or flat; net ' + money(net) + '.';
    const columns = [
      { title: '#', cls: 'num' }, { title: 'Side' }, { title: 'Entry (UTC)' }, { title: 'Exit (UTC)' },
      { title: 'Qty', cls: 'num' }, { title: 'Entry price', cls: 'num' }, { title: 'Exit price', cls: 'num' },
      { title: 'Initial stop', cls: 'num' }, { title: 'Gross PnL', cls: 'num' }, { title: 'Fees', cls: 'num' },
      { title: 'Net PnL', cls: 'num' }, { title: 'Exit reason' }, { title: 'Bars', cls: 'num' },
    ];
    const row = (t, i) => [
      String(i + 1), { text: t.side, cls: t.side === 'long' ? 'side-long' : 'side-short' },
      time(t.entry_time), time(t.exit_time), fmt(t.qty, Number.isInteger(t.qty) ? 0 : 2),
      price(t.entry_price), price(t.exit_price), price(t.initial_stop),
      { text: money(t.gross_pnl), cls: signClass(t.gross_pnl) }, money(t.fees),
      { text: money(t.net_pnl), cls: signClass(t.net_pnl) }, t.exit_reason, integer(t.bars_held),
    ];
    let rows;
    if (trades.length > limit) {
      const half = Math.floor(limit / 2);
      note.textContent += ' Showing the first and last ' + integer(half) + '; the full list is in trades.csv.';
      rows = trades.slice(0, half).map(row);
      rows.push('… ' + integer(trades.length - 2 * half) + ' trades not shown (see trades.csv) …');
      rows = rows.concat(trades.slice(trades.length - half).map((t, j) => row(t, trades.length - half + j)));
    } else {
      rows = trades.map(row);
    }
    byId('trades-body').append(trades.length ? table(columns, rows) : el('p', { className: 'note', text: 'No trades.' }));
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
    byId('risk-note').textContent = events.length < total
      ? 'Showing the first ' + integer(events.length) + ' of ' + integer(total) + ' risk events; the full list is in risk_events.csv.'
      : integer(total) + ' risk events.';
    const columns = [{ title: 'Time (UTC)' }, { title: 'Kind' }, { title: 'Reason' }, { title: 'Equity', cls: 'num' }, { title: 'Value', cls: 'num' }];
    byId('risk-body').append(table(columns, events.map((e) => [
      time(e.ts), e.kind, { text: e.reason, cls: 'wrap' }, money(e.equity), fmt(e.value, 2),
    ])));
  }

  function renderOrders(data) {
    const orders = rowsOf(data.orders);
    const total = data.orders.total_rows;
    byId('order-counts').append(total ? countsTable(data.order_status_counts, 'Status')
      : el('p', { className: 'note', text: 'No orders.' }));
    byId('orders-summary').textContent = orders.length < total
      ? 'Order list (first ' + integer(orders.length) + ' of ' + integer(total) + '; all in orders.csv)'
      : 'Order list (' + integer(total) + ' orders)';
    const price = (v) => fmt(v, data.options.price_decimals);
    const columns = [
      { title: 'Id' }, { title: 'Created (UTC)' }, { title: 'Updated (UTC)' }, { title: 'Side' }, { title: 'Type' },
      { title: 'TIF' }, { title: 'Purpose' }, { title: 'Qty', cls: 'num' }, { title: 'Limit', cls: 'num' },
      { title: 'Stop', cls: 'num' }, { title: 'Status' }, { title: 'Filled', cls: 'num' }, { title: 'Avg fill', cls: 'num' },
    ];
    byId('orders-body').append(table(columns, orders.map((o) => [
      o.id, time(o.created), time(o.updated), o.side, o.type, o.tif, o.purpose, fmt(o.qty, Number.isInteger(o.qty) ? 0 : 2),
      price(o.limit_price), price(o.stop_price), o.status, fmt(o.filled_qty, Number.isInteger(o.filled_qty) ? 0 : 2),
      price(o.avg_fill_price),
    ])));
  }

  function renderDaily(data) {
    const days = rowsOf(data.daily);
    byId('daily-summary').textContent = 'Daily table (' + integer(days.length) + ' sessions)';
    const columns = [
      { title: 'Session date' }, { title: 'Start equity', cls: 'num' }, { title: 'End equity', cls: 'num' },
      { title: 'PnL', cls: 'num' }, { title: 'Return', cls: 'num' }, { title: 'Trades', cls: 'num' },
      { title: 'Fees', cls: 'num' }, { title: 'Halted' },
    ];
    byId('daily-body').append(table(columns, days.map((d) => {
      const r = d.start_equity > 0 ? d.end_equity / d.start_equity - 1 : NaN;
      return [
        d.date, money(d.start_equity), money(d.end_equity), { text: money(d.pnl), cls: signClass(d.pnl) },
        { text: percent(r), cls: signClass(r) }, integer(d.trades), money(d.fees),
        d.halted === '1' ? { text: 'halted', cls: 'neg' } : '',
      ];
    })));
  }

  // ---- gated run: comparison, model, quantile bands -------------------------
  function legendItem(symbol, color, text) {
    return el('span', null, [el('b', { text: symbol, style: 'color:' + color }), ' ' + text]);
  }

  function renderComparison(data) {
    const g = data.summary;
    const u = data.ungated.summary;
    const currency = g.meta.currency ? ' ' + g.meta.currency : '';
    byId('compare-note').textContent = 'The same backtest with the model gate (this run) and without it ' +
      '(ungated/). Difference = gated − ungated.';
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

    const chart = LWC.createChart(byId('compare-chart'), chartOptions(money));
    const line = (eq, color, title) => {
      const s = chart.addSeries(LWC.LineSeries, { color, lineWidth: 2, title, priceLineVisible: false });
      s.setData(series(eq.ts, (i) => ({ value: eq.equity[i] })));
      return s;
    };
    line(data.ungated.equity, COLORS.ungated, 'ungated');
    const gated = line(data.equity, COLORS.blue, 'gated');
    gated.createPriceLine({ price: g.meta.initial_equity, color: '#9ca3af', lineWidth: 1, lineStyle: 2, title: 'initial' });
    chart.timeScale().fitContent();
    byId('compare-legend').append(legendItem('━', COLORS.blue, 'gated equity (this run)'),
      legendItem('━', COLORS.ungated, 'ungated equity (ungated/equity.csv)'));
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
    rows.push(['Model directory', { text: m.model_dir, cls: 'wrap' }], ['Manifest hash', { text: m.manifest_hash, cls: 'mono' }]);
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
    const signals = rowsOf(gate);
    const total = gate.total_rows;
    byId('gate-note').textContent = 'Each entry signal the gate judged: the model\'s 10 % and 90 % quantiles of ' +
      'the forward move (points, signed in the trade\'s direction), against the target and the stop (2 × ATR).';
    byId('gate-counts').append(table([{ title: 'Decision' }, { title: 'Signals', cls: 'num' }, { title: 'Share', cls: 'num' }], [
      [{ text: 'allowed', cls: 'pos' }, integer(gate.allowed_count), percent(total ? gate.allowed_count / total : NaN, 1)],
      [{ text: 'blocked', cls: 'neg' }, integer(gate.blocked_count), percent(total ? gate.blocked_count / total : NaN, 1)],
    ], 'counts'));
    const points = (v) => fmt(v, 2);
    const chart = LWC.createChart(byId('gate-chart'), chartOptions(points));
    const line = (color, width, style, title) => chart.addSeries(LWC.LineSeries, {
      color, lineWidth: width, lineStyle: style, title, priceLineVisible: false, lastValueVisible: false,
      crosshairMarkerVisible: false,
    });
    const target = line(COLORS.green, 1, 2, 'target');
    const stop = line(COLORS.stop, 1, 2, '−stop');
    const q10 = line(COLORS.blue, 2, 0, 'q10');
    const q90 = line(COLORS.blue, 2, 0, 'q90');
    const at = (key, sign) => series(gate.ts, (i) => ({ value: sign * gate[key][i] }));
    target.setData(at('target', 1));
    stop.setData(at('stop', -1));
    q10.setData(at('q10', 1));
    q90.setData(at('q90', 1));
    q90.createPriceLine({ price: 0, color: '#9ca3af', lineWidth: 1, lineStyle: 1, title: '' });
    const markers = [];
    for (const point of series(gate.ts, (i) => ({ allowed: gate.allowed[i] === '1' }))) {
      markers.push({ time: point.time, position: 'aboveBar', shape: point.allowed ? 'circle' : 'square',
        size: 0.5, color: point.allowed ? COLORS.green : COLORS.red, text: '' });
    }
    LWC.createSeriesMarkers(q90, markers);
    chart.timeScale().fitContent();
    byId('gate-legend').append(legendItem('━', COLORS.blue, 'q10 and q90 (the band)'),
      legendItem('╌', COLORS.green, 'target distance'), legendItem('╌', COLORS.stop, '−stop distance'),
      legendItem('●', COLORS.green, 'allowed'), legendItem('■', COLORS.red, 'blocked'));

    const limit = data.options.max_gate_rows;
    const shown = signals.slice(0, limit);
    if (total > shown.length) {
      byId('gate-note').textContent += ' The table shows the first ' + integer(shown.length) + ' of ' +
        integer(total) + ' signals; all are in gate.csv.';
    }
    const columns = [
      { title: 'Time (UTC)' }, { title: 'Side' }, { title: 'Prob', cls: 'num' }, { title: 'q10', cls: 'num' },
      { title: 'q90', cls: 'num' }, { title: 'Target', cls: 'num' }, { title: 'Stop', cls: 'num' },
      { title: 'Decision' }, { title: 'Reason' },
    ];
    byId('gate-body').append(total ? table(columns, shown.map((r) => [
      time(r.ts), { text: r.side, cls: r.side === 'long' ? 'side-long' : 'side-short' }, fmt(r.prob, 3),
      { text: points(r.q10), cls: signClass(r.q10) }, { text: points(r.q90), cls: signClass(r.q90) },
      points(r.target), points(r.stop),
      r.allowed === '1' ? { text: 'allowed', cls: 'pos' } : { text: 'blocked', cls: 'neg' },
      { text: r.reason, cls: 'wrap' },
    ])) : el('p', { className: 'note', text: 'No gate signals.' }));
  }

  function main() {
    if (!LWC) throw new Error('the inlined Lightweight Charts library did not load');
    const data = JSON.parse(byId('report-data').textContent);
    const trades = rowsOf(data.trades);
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
  }

  try {
    main();
    if (!failed) document.body.dataset.rendered = 'ok';
  } catch (error) {
    fail(error);
  }
})();
