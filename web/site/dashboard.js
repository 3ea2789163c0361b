// IRPO's monitoring dashboard: logs in with a bearer token kept in sessionStorage (this tab
// only), reads the monitoring API (API.md, Monitoring) and keeps itself current from the live
// event feed. Every call sends the token in the Authorization header, the live feed included:
// it is read with fetch() and a stream reader rather than EventSource, which cannot send
// headers, so the token never appears in a URL, a server log or the browser's history.
'use strict';

(() => {
  const TOKEN_KEY = 'expertflow.token';
  const MOSCOW = 'Europe/Moscow';
  const LANG_KEY = 'expertflow.lang';
  const PALETTE = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#56b4e9', '#e69f00', '#000000', '#7f4f24'];
  const $ = (sel) => document.querySelector(sel);

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    lang: localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'ru',
    me: null,
    workflows: [],
    def: null,
    flow: null,
    stats: null,
    discipline: null,
    orgs: new Map(),
    regions: new Map(),
    selectedStage: null,
    selected: null,  // {collection, id}
    instances: null,  // the chosen stage's instance views
    timeline: null,  // {view, history, chain} of the chosen instance
    charts: {},
    live: {count: 0, after: 0, abort: null},
    refreshTimer: null,
    refreshing: null,
  };

  // --- words -------------------------------------------------------------------------------

  const words = Words.over(state);
  const {t, named, orgName, shortOrgName, noun, groupName, numberFormat, days, formatDate, formatTime} = words;
  const GROUPINGS = ['umc', 'industry', 'region', 'federal_district'];

  function applyStaticLabels() {
    document.documentElement.lang = state.lang;
    document.title = t('page_title');
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
    const lang = $('#lang');
    // The toggle names the other language in that language, as language pickers do.
    lang.textContent = state.lang === 'ru' ? 'English' : 'Русский';
    lang.lang = state.lang === 'ru' ? 'en' : 'ru';
    if (state.me) $('#who').textContent = t('who', orgName(state.me.org), named('role', state.me.role));
    if (state.def) {
      fillGroupings();
      retitle();
    }
  }

  // The panels' titles name the chosen workflow and what its instances are called.
  function retitle() {
    const c = state.def.collection;
    const summary = state.workflows.find((w) => w.id === state.def.workflow);
    const title = (summary && summary.title && (state.lang === 'en' ? summary.title.en : summary.title.ru)) || state.def.workflow;
    $('#flow-title').textContent = t('flow.title', title);
    $('#throughput-title').textContent = t('throughput.title', noun(c, 2));
    $('#col-instance').textContent = noun(c, 0);
    if (state.stats) $('#stages-caption').textContent = t('stages.caption', formatTime(state.stats.overdue_as_of));
  }

  // The groupings that mean something for the workflow. The statistics place an instance by its
  // UMC where it has one (industry proposals: UMC, industry, and the UMC's region and district),
  // else by the organisation that carries it — a RUMO, an assignment's regional body —, which has
  // a region and a federal district but no industry.
  function groupings(def) {
    return def.participants && def.participants.umc ? GROUPINGS : ['region', 'federal_district'];
  }

  function fillGroupings() {
    const select = $('#group-by');
    const current = select.value;
    const allowed = groupings(state.def);
    select.textContent = '';
    for (const g of allowed) {
      const o = document.createElement('option');
      o.value = g;
      o.textContent = t('group.' + g);
      select.appendChild(o);
    }
    select.value = allowed.includes(current) ? current : allowed[0];
  }

  // --- the API -----------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail || String(status));
      this.status = status;
    }
  }

  async function api(path) {
    const r = await fetch(path, {headers: {Authorization: 'Bearer ' + state.token, Accept: 'application/json'}, cache: 'no-store'});
    if (!r.ok) {
      let detail = r.statusText;
      try { detail = (await r.json()).detail || detail; } catch (_) { /* not problem+json */ }
      if (r.status === 401) logout(t('login.bad'));
      throw new ApiError(r.status, detail);
    }
    return r.json();
  }

  // A write, answered as it is (the workspace's forms show a refusal at its fields): the status
  // and the parsed body.
  async function send(method, path, body, headers) {
    const r = await fetch(path, {method, body, headers: {...headers, Authorization: 'Bearer ' + state.token, Accept: 'application/json'}});
    if (r.status === 401) logout(t('login.bad'));
    let parsed = null;
    try { parsed = await r.json(); } catch (_) { /* no body */ }
    return {status: r.status, body: parsed};
  }

  function windowQuery() {
    // Moscow midnights: the day "from" starts, and the day after "to" (so "to" is included).
    const from = $('#from').value, to = $('#to').value;
    const next = new Date(to + 'T00:00:00Z');
    next.setUTCDate(next.getUTCDate() + 1);
    return {from: `${from}T00:00:00+03:00`, to: `${next.toISOString().slice(0, 10)}T00:00:00+03:00`};
  }

  // --- login -------------------------------------------------------------------------------

  async function login(token) {
    state.token = token;
    const error = $('#login-error');
    error.textContent = '';
    try {
      // Everyone on the route has the workspace; monitoring is for those who see everything.
      state.me = await api('/api/v1/me');
    } catch (e) {
      state.token = '';
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(e.status === 401 ? t('login.bad') : e.status === 403 ? t('login.forbidden') : t('login.failed', e.message));
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    await start();
  }

  function showLogin(message) {
    $('#dashboard').hidden = true;
    $('#workspace').hidden = true;
    $('#nav').hidden = true;
    $('#logout').hidden = true;
    $('#who').hidden = true;
    $('#live').hidden = true;
    $('#login-view').hidden = false;
    $('#login-error').textContent = message || '';
    $('#token').value = '';
    $('#token').focus();
  }

  function logout(message) {
    if (state.live.abort) state.live.abort.abort();
    state.live.abort = null;
    state.token = '';
    state.me = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(message);
  }

  // --- loading -----------------------------------------------------------------------------

  // The page has two views: the workspace, for everyone, and monitoring, for those who see
  // everything (IRPO, the ministry, auditors, admins), who start on it.
  function showView(which) {
    const monitor = which === 'monitor' && state.me.monitoring;
    $('#dashboard').hidden = !monitor;
    $('#workspace').hidden = monitor;
    $('#tab-work').setAttribute('aria-pressed', String(!monitor));
    $('#tab-monitor').setAttribute('aria-pressed', String(monitor));
    if (!monitor && workspace) workspace.show().catch((e) => { $('#inbox-status').textContent = t('status.error', e.message); });
  }

  let workspace = null;
  async function start() {
    $('#login-view').hidden = true;
    $('#logout').hidden = false;
    $('#who').hidden = false;
    $('#nav').hidden = false;
    $('#tab-monitor').hidden = !state.me.monitoring;
    const [workflows, orgs, regions] = await Promise.all([
      api('/api/v1/workflows'), api('/api/v1/organizations'), api('/api/v1/regions')]);
    state.allWorkflows = workflows.items;
    state.workflows = workflows.items.filter((w) => w.id !== 'protocol');
    for (const o of orgs.items) state.orgs.set(o.id, o);
    for (const r of regions.items) state.regions.set(r.code, r);
    workspace = Workspace.create({state, api, send, words, markLanguage, onChange: () => { if (state.me.monitoring && state.def) scheduleRefresh(); }});
    if (!state.me.monitoring) {
      applyStaticLabels();
      showView('work');
      startLive();
      return;
    }
    showView('monitor');
    fillWorkflows();
    // The window is in whole Moscow days: "today" is the Moscow date, which from 21:00 UTC on is
    // already tomorrow's UTC date.
    const moscowDate = (d) => new Intl.DateTimeFormat('en-CA', {timeZone: MOSCOW}).format(d);
    const today = new Date();
    const from = new Date(today);
    from.setFullYear(from.getFullYear() - 1);
    if (!$('#from').value) $('#from').value = moscowDate(from);
    if (!$('#to').value) $('#to').value = moscowDate(today);
    applyStaticLabels();
    await loadWorkflow();
    startLive();
  }

  function fillWorkflows() {
    const select = $('#workflow');
    const current = select.value || 'industry_proposal';
    select.textContent = '';
    for (const w of state.workflows) {
      const o = document.createElement('option');
      o.value = w.id;
      o.textContent = (w.title && (state.lang === 'en' ? w.title.en : w.title.ru)) || w.id;
      select.appendChild(o);
    }
    select.value = state.workflows.some((w) => w.id === current) ? current : select.options[0].value;
  }

  async function loadWorkflow() {
    state.def = await api('/api/v1/workflows/' + encodeURIComponent($('#workflow').value));
    const summary = state.workflows.find((w) => w.id === state.def.workflow);
    state.flow = Flow.model(state.def, summary && summary.states.map((s) => s.name));
    state.selectedStage = null;
    state.instances = null;
    state.stats = null;
    $('#instances').hidden = true;
    closeTimeline();
    fillGroupings();
    retitle();
    await refresh();
  }

  // Another workflow's proposal is no part of this one's panels: its timeline goes.
  function closeTimeline() {
    state.selected = null;
    state.timeline = null;
    $('#timeline-card').hidden = true;
    for (const id of ['#timeline', '#timeline-title', '#timeline-meta', '#chain-status']) $(id).textContent = '';
  }

  // One refresh at a time; a request while one runs makes one more run after it.
  async function refresh() {
    if (state.refreshing) {
      state.refreshAgain = true;
      return state.refreshing;
    }
    state.refreshing = (async () => {
      do {
        state.refreshAgain = false;
        await refreshOnce();
      } while (state.refreshAgain);
    })();
    try { await state.refreshing; } finally { state.refreshing = null; }
  }

  async function refreshOnce() {
    const status = $('#status');
    if ($('#to').value < $('#from').value) {
      status.textContent = t('filters.bad_window');
      return;
    }
    status.textContent = t('status.loading');
    const w = windowQuery();
    const dates = {from: $('#from').value, to: $('#to').value};
    const groupBy = $('#group-by').value;
    const stageQuery = new URLSearchParams({workflow: state.def.workflow, from: w.from, to: w.to, group_by: groupBy});
    const disciplineQuery = new URLSearchParams({from: w.from, to: w.to});
    try {
      const [stats, discipline] = await Promise.all([
        api('/api/v1/stats/stages?' + stageQuery), api('/api/v1/stats/discipline?' + disciplineQuery)]);
      state.stats = stats;
      state.window = dates;
      state.discipline = discipline;
      renderAll();
      if (state.selectedStage) await loadInstances(state.selectedStage, false);
      state.updatedAt = new Date();
      showUpdated();
    } catch (e) {
      if (e.status !== 401) status.textContent = t('status.error', e.message);
    }
  }

  function showUpdated() {
    const at = state.updatedAt.toLocaleTimeString(state.lang === 'en' ? 'en-GB' : 'ru-RU', {timeZone: MOSCOW});
    $('#status').textContent = t('status.updated', at, state.stats.as_of_seq);
  }

  // At most one refresh a second however busy the feed: a steady stream of events must not keep
  // postponing it (a debounce would), nor cost a query per event.
  function scheduleRefresh() {
    if (state.refreshTimer) return;
    state.refreshTimer = setTimeout(() => {
      state.refreshTimer = null;
      refresh();
    }, 1000);
  }

  // --- rendering ---------------------------------------------------------------------------

  function statsOf(stage) {
    return (state.stats && state.stats.stages.find((s) => s.stage === stage)) || {entered: 0, exited: 0, wip: 0, overdue: 0, time_in_stage_hours: {p50: 0, p90: 0}, throughput_per_week: []};
  }
  const working = () => state.flow.stages.filter((s) => !s.terminal);

  function renderAll() {
    retitle();
    const flowEl = $('#flow');
    flowEl.dataset.asOfSeq = state.stats.as_of_seq;
    flowEl.dataset.workflow = state.def.workflow;
    renderFlow();
    renderStagesTable();
    renderTimeChart();
    renderThroughputChart();
    renderPile();
    renderDiscipline();
  }

  function renderFlow() {
    const f = numberFormat();
    Flow.render($('#flow'), state.flow, (s) => {
      const st = statsOf(s.id);
      const name = named('stage', s.id);
      if (s.terminal) {
        return {
          aria: t('flow.terminal', name, st.entered),
          lines: [{cls: 'name', parts: [{text: name}]},
            {parts: [{text: t('flow.total', '')}, {text: f.format(st.entered), metric: 'entered'}]}],
        };
      }
      return {
        overdue: st.overdue > 0,
        aria: t('flow.node', name, st.wip, st.entered, st.exited, st.overdue),
        lines: [
          {cls: 'name', parts: [{text: name}]},
          {cls: 'wip', parts: [{text: f.format(st.wip), metric: 'wip', cls: 'big'}, {text: ' ' + t('flow.wip')}]},
          {parts: [{text: '↘ '}, {text: f.format(st.entered), metric: 'entered'}, {text: '  ↗ '}, {text: f.format(st.exited), metric: 'exited'}]},
          {cls: st.overdue ? 'overdue' : 'muted', parts: [{text: '⚠ '}, {text: f.format(st.overdue), metric: 'overdue'}]},
        ],
      };
    }, selectStage, state.selectedStage);
  }

  function cell(row, text, opts = {}) {
    const c = document.createElement(opts.header ? 'th' : 'td');
    if (opts.header) c.scope = 'row';
    if (opts.num) c.className = 'num';
    if (opts.metric) c.dataset.metric = opts.metric;
    if (opts.cls) c.className += ' ' + opts.cls;
    c.textContent = text;
    row.appendChild(c);
    return c;
  }

  function renderStagesTable() {
    const f = numberFormat();
    const body = $('#stages-table tbody');
    body.textContent = '';
    for (const s of state.flow.stages) {
      const st = statsOf(s.id);
      const tr = document.createElement('tr');
      tr.dataset.stage = s.id;
      const th = cell(tr, named('stage', s.id), {header: true});
      if (s.terminal) {
        // An outcome: what entered it has finished. Nothing there is in work, overdue or timed.
        tr.className = 'outcome';
        const tag = document.createElement('span');
        tag.className = 'tag';
        tag.textContent = t('stages.outcome');
        th.append(' ', tag);
        cell(tr, t('none'), {num: true, metric: 'wip'});
        cell(tr, f.format(st.entered), {num: true, metric: 'entered'});
        cell(tr, t('none'), {num: true, metric: 'exited'});
        cell(tr, t('none'), {num: true, metric: 'overdue'});
        cell(tr, t('none'), {num: true, metric: 'p50_days'});
        cell(tr, t('none'), {num: true, metric: 'p90_days'});
        body.appendChild(tr);
        continue;
      }
      cell(tr, f.format(st.wip), {num: true, metric: 'wip'});
      cell(tr, f.format(st.entered), {num: true, metric: 'entered'});
      cell(tr, f.format(st.exited), {num: true, metric: 'exited'});
      cell(tr, f.format(st.overdue), {num: true, metric: 'overdue', cls: st.overdue ? 'overdue' : ''});
      cell(tr, f.format(days(st.time_in_stage_hours.p50)), {num: true, metric: 'p50_days'});
      cell(tr, f.format(days(st.time_in_stage_hours.p90)), {num: true, metric: 'p90_days'});
      body.appendChild(tr);
    }
  }

  function chart(id, config) {
    if (typeof Chart === 'undefined') return;
    if (state.charts[id]) state.charts[id].destroy();
    const canvas = document.getElementById(id);
    canvas.setAttribute('aria-label', config.label);
    state.charts[id] = new Chart(canvas, {
      type: config.type,
      data: config.data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: config.horizontal ? 'y' : 'x',
        plugins: {
          legend: {position: 'bottom', labels: {boxWidth: 12}},
          tooltip: config.tooltipTitle ? {callbacks: {title: (items) => config.tooltipTitle(items[0].dataIndex)}} : {},
        },
        // The value axis counts (precision 0: no 0.5 ticks on a count) or measures; the category
        // axis shows every label unless told it may skip some (weeks, not stages).
        scales: {
          [config.horizontal ? 'x' : 'y']: {stacked: !!config.stacked, beginAtZero: true, ticks: {precision: config.precision}},
          [config.horizontal ? 'y' : 'x']: {stacked: !!config.stacked, ticks: {autoSkip: !!config.skipLabels, maxRotation: config.skipLabels ? 0 : 50}},
        },
      },
    });
  }

  function renderTimeChart() {
    const stages = working();
    // Bars across, a stage a row: every stage's name has the room it needs.
    chart('time-chart', {
      type: 'bar',
      horizontal: true,
      label: t('time.label'),
      data: {
        labels: stages.map((s) => named('stage', s.id)),
        datasets: [
          {label: t('time.p50'), data: stages.map((s) => days(statsOf(s.id).time_in_stage_hours.p50)), backgroundColor: PALETTE[0]},
          {label: t('time.p90'), data: stages.map((s) => days(statsOf(s.id).time_in_stage_hours.p90)), backgroundColor: PALETTE[1]},
        ],
      },
    });
  }

  // The Mondays (Moscow dates) of the weeks the window touches, oldest first.
  function weeksOf(span) {
    const monday = (date) => {
      const d = new Date(date + 'T00:00:00Z');
      d.setUTCDate(d.getUTCDate() - (d.getUTCDay() + 6) % 7);
      return d;
    };
    const weeks = [];
    for (const d = monday(span.from), end = monday(span.to); d <= end; d.setUTCDate(d.getUTCDate() + 7)) {
      weeks.push(d.toISOString().slice(0, 10));
    }
    return weeks;
  }

  // Throughput is what finished: instances that reached an outcome, per week and per outcome.
  function renderThroughputChart() {
    const c = state.def.collection;
    const outcomes = state.flow.stages.filter((s) => s.terminal);
    const weeks = weeksOf(state.window);
    const per = new Map(((state.stats.finished || {}).per_week || []).map((w) => [w.week_start, w.by_outcome || {}]));
    chart('throughput-chart', {
      type: 'bar',
      stacked: true,
      precision: 0,
      skipLabels: true,
      label: t('throughput.label', noun(c, 2)),
      tooltipTitle: (i) => t('throughput.week', formatDate(weeks[i], true)),
      data: {
        labels: weeks.map((w) => formatDate(w)),
        datasets: outcomes.map((s, i) => ({
          label: named('stage', s.id),
          data: weeks.map((w) => (per.get(w) || {})[s.id] || 0),
          backgroundColor: PALETTE[(i + 2) % PALETTE.length],
        })),
      },
    });
  }

  function renderPile() {
    const groupBy = state.stats.group_by;
    // "by region" inside a sentence: the option's capital is for the list alone (an abbreviation keeps its own).
    const option = t('group.' + groupBy);
    const byLabel = option === option.toUpperCase() ? option : option.charAt(0).toLowerCase() + option.slice(1);
    $('#pile-title').textContent = t('pile.title', noun(state.def.collection, 1), byLabel);
    $('#pile-caption').textContent = t('pile.caption', byLabel);
    const stages = working();
    const groups = new Map();
    for (const s of stages) {
      for (const g of statsOf(s.id).groups || []) {
        if (!groups.has(g.group)) groups.set(g.group, {key: g.group, wip: {}, overdue: 0, total: 0});
        const e = groups.get(g.group);
        e.wip[s.id] = g.wip;
        e.total += g.wip;
        e.overdue += g.overdue;
      }
    }
    const rows = [...groups.values()].filter((g) => g.total > 0 || g.overdue > 0)
      .sort((a, b) => b.total - a.total || b.overdue - a.overdue || a.key.localeCompare(b.key));

    const head = $('#pile-table thead');
    head.textContent = '';
    const hr = document.createElement('tr');
    for (const [text, num] of [[t('col.group'), false], ...stages.map((s) => [named('stage', s.id), true]), [t('col.total_wip'), true], [t('col.overdue'), true]]) {
      const th = document.createElement('th');
      th.scope = 'col';
      if (num) th.className = 'num';
      th.textContent = text;
      hr.appendChild(th);
    }
    head.appendChild(hr);
    const f = numberFormat();
    const body = $('#pile-table tbody');
    body.textContent = '';
    for (const g of rows) {
      const tr = document.createElement('tr');
      tr.dataset.group = g.key;
      const th = cell(tr, groupName(groupBy, g.key), {header: true});
      if (groupBy === 'umc') {
        const small = document.createElement('span');
        small.className = 'id';
        small.textContent = g.key;
        th.append(' ', small);
      }
      for (const s of stages) cell(tr, f.format(g.wip[s.id] || 0), {num: true, metric: 'wip:' + s.id});
      cell(tr, f.format(g.total), {num: true, metric: 'wip'});
      cell(tr, f.format(g.overdue), {num: true, metric: 'overdue', cls: g.overdue ? 'overdue' : ''});
      body.appendChild(tr);
    }
    const top = rows.slice(0, 15);
    // The chart's height follows its bars, so a long list stays readable.
    $('#pile-chart').parentElement.style.height = Math.max(220, 28 * top.length + 90) + 'px';
    chart('pile-chart', {
      type: 'bar',
      horizontal: true,
      stacked: true,
      precision: 0,
      label: t('pile.label', byLabel),
      data: {
        labels: top.map((g) => {
          const name = groupName(groupBy, g.key);
          return name.length > 32 ? name.slice(0, 31) + '…' : name;
        }),
        datasets: stages.map((s, i) => ({label: named('stage', s.id), data: top.map((g) => g.wip[s.id] || 0), backgroundColor: PALETTE[i % PALETTE.length]})),
      },
    });
  }

  function renderDiscipline() {
    const f = numberFormat();
    const body = $('#discipline-table tbody');
    body.textContent = '';
    const items = state.discipline.items || [];
    if (!items.length) {
      const tr = document.createElement('tr');
      const td = cell(tr, t('discipline.empty'));
      td.colSpan = 7;
      body.appendChild(tr);
      return;
    }
    for (const a of items) {
      const org = state.orgs.get(a.assignee);
      const region = org && state.regions.get(org.region_code);
      const tr = document.createElement('tr');
      tr.dataset.assignee = a.assignee;
      // Red: overdue now. Amber: a period was missed, even one whose report came later.
      if (a.periods_missed > 0) tr.classList.add('missed-row');
      if (a.overdue_open > 0) tr.classList.add('overdue-row');
      const name = region ? (state.lang === 'en' ? region.name_en : region.name) : orgName(a.assignee);
      const th = cell(tr, name, {header: true});
      if (a.overdue_open > 0) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = '⚠ ' + t('discipline.overdue');
        th.append(' ', badge);
      }
      if (a.periods_missed > 0) {
        const badge = document.createElement('span');
        badge.className = 'badge missed';
        badge.textContent = '↻ ' + t('discipline.missed');
        th.append(' ', badge);
      }
      cell(tr, region ? named('district', region.federal_district) : t('none'));
      cell(tr, f.format(a.assigned), {num: true, metric: 'assigned'});
      cell(tr, f.format(a.done_on_time), {num: true, metric: 'done_on_time'});
      cell(tr, f.format(a.done_late), {num: true, metric: 'done_late'});
      cell(tr, f.format(a.overdue_open), {num: true, metric: 'overdue_open', cls: a.overdue_open ? 'overdue' : ''});
      cell(tr, f.format(a.periods_missed), {num: true, metric: 'periods_missed', cls: a.periods_missed ? 'missed' : ''});
      body.appendChild(tr);
    }
  }

  // --- a stage's instances and an instance's timeline ---------------------------------------

  async function selectStage(stage) {
    state.selectedStage = stage;
    for (const b of document.querySelectorAll('#flow .node')) b.setAttribute('aria-pressed', String(b.dataset.stage === stage.id));
    await loadInstances(stage, true);
  }

  async function loadInstances(stage, focus) {
    const limit = 50;
    const lists = await Promise.all(stage.states.map((s) => api(`/api/v1/${state.def.collection}?` + new URLSearchParams({workflow: state.def.workflow, state: s, limit}))));
    state.instancesCut = lists.some((l) => l.next_cursor) ? limit : 0;
    state.instances = lists.flatMap((l) => l.items)
      .sort((a, b) => String(a.stage_entered_at).localeCompare(String(b.stage_entered_at)));
    drawInstances();
    if (focus) $('#instances-title').scrollIntoView({block: 'nearest'});
  }

  function drawInstances() {
    const stage = state.selectedStage;
    const items = state.instances;
    const card = $('#instances');
    card.hidden = false;
    $('#instances-title').textContent = t('instances.title', named('stage', stage.id));
    const body = $('#instances-table tbody');
    body.textContent = '';
    $('#instances-empty').hidden = items.length > 0;
    $('#instances-more').hidden = !state.instancesCut;
    $('#instances-more').textContent = t('instances.more', state.instancesCut);
    $('#instances-table').hidden = items.length === 0;
    for (const v of items) {
      const tr = document.createElement('tr');
      tr.dataset.id = v.id;
      const th = document.createElement('th');
      th.scope = 'row';
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'link';
      const title = (v.fields && v.fields.title) || v.id;
      b.textContent = title;
      markLanguage(b, title);
      b.setAttribute('aria-label', t('instances.open', title));
      b.addEventListener('click', () => openTimeline(v.collection, v.id));
      th.appendChild(b);
      const small = document.createElement('span');
      small.className = 'id';
      small.textContent = v.id;
      th.append(' ', small);
      tr.appendChild(th);
      const p = v.participants || {};
      cell(tr, ['umc', 'fumo', 'rumo', 'assignee'].filter((k) => p[k]).map((k) => shortOrgName(p[k])).join('; ') || t('none'));
      cell(tr, (v.awaiting || []).map((a) => shortOrgName(a.org)).join('; ') || t('none'));
      cell(tr, formatTime(v.stage_entered_at));
      const overdue = v.overdue && v.overdue[0];
      cell(tr, overdue ? '⚠ ' + t('instances.overdue', formatTime(overdue.since)) : formatTime(v.deadline), {cls: overdue ? 'overdue' : ''});
      body.appendChild(tr);
    }
  }

  // People's own words (a proposal's title) are not translated: marked as Russian where they are,
  // so a screen reader reads them as such in the English page.
  function markLanguage(el, text) {
    if (/[\u0400-\u04ff]/.test(text)) el.lang = 'ru';
  }

  async function openTimeline(collection, id) {
    state.selected = {collection, id};
    const card = $('#timeline-card');
    card.hidden = false;
    const chainEl = $('#chain-status');
    chainEl.textContent = t('chain.checking');
    chainEl.className = 'chain';
    delete chainEl.dataset.ok;
    await loadTimeline();
    $('#timeline-title').focus();
  }

  async function loadTimeline() {
    const selected = state.selected;
    const base = `/api/v1/${selected.collection}/${encodeURIComponent(selected.id)}`;
    const [view, history, chain] = await Promise.all([api(base), Timeline.history(api, base), api(base + '/verify')]);
    if (state.selected !== selected) return;  // closed or another chosen meanwhile
    state.timeline = {view, history, chain};
    drawTimeline();
  }

  function drawTimeline() {
    Timeline.draw(state.selected.id, state.timeline, words, markLanguage);
  }

  // --- the live feed -----------------------------------------------------------------------

  // The feed's state in words: 'live.on' (with the count) or 'live.off'; said again in the
  // other language when it changes.
  function setLive(key) {
    state.live.key = key;
    const el = $('#live');
    el.hidden = false;
    el.textContent = t(key, state.live.count);
  }

  // Follows the live feed (live.js) from the log's head: the panels were just read.
  async function startLive() {
    if (state.live.abort) state.live.abort.abort();
    const controller = new AbortController();
    state.live.abort = controller;
    try {
      state.live.after = (await api('/api/v1/events?limit=1')).head;
    } catch (_) {
      return;
    }
    await LiveFeed.follow({
      token: () => state.token,
      after: () => state.live.after,
      signal: controller.signal,
      onOpen: () => setLive('live.on'),
      onEvent: (id, e) => { state.live.after = id; onEvent(e); },
      onDown: () => setLive('live.off'),
      onUnauthorized: () => logout(t('login.bad')),
    });
  }

  function onEvent(e) {
    state.live.count += 1;
    setLive('live.on');
    if (workspace && !$('#workspace').hidden) workspace.onEvent(e);
    if (!state.me || !state.me.monitoring) return;
    scheduleRefresh();
    if (state.selected && e.stream === `${state.selected.collection}/${state.selected.id}`) loadTimeline().catch(() => {});
  }

  // --- wiring ------------------------------------------------------------------------------

  function init() {
    applyStaticLabels();
    if (typeof Chart !== 'undefined') {
      Chart.defaults.color = '#222';
      Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    }
    $('#lang').addEventListener('click', () => {
      state.lang = state.lang === 'ru' ? 'en' : 'ru';
      localStorage.setItem(LANG_KEY, state.lang);
      applyStaticLabels();
      if (state.live.key) setLive(state.live.key);
      if (workspace && !$('#workspace').hidden) workspace.relabel();
      if (state.def) {
        fillWorkflows();
        if (state.stats) {
          renderAll();
          if (state.updatedAt) showUpdated();
        }
        if (state.instances) drawInstances();
        if (state.timeline) drawTimeline();
      }
    });
    $('#logout').addEventListener('click', () => logout(''));
    $('#tab-work').addEventListener('click', () => showView('work'));
    $('#tab-monitor').addEventListener('click', () => {
      showView('monitor');
      if (!state.def) loadWorkflow().catch((e) => { $('#status').textContent = t('status.error', e.message); });
    });
    $('#login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      login($('#token').value.trim());
    });
    $('#filters').addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (state.def && state.def.workflow === $('#workflow').value) refresh();
      else loadWorkflow().catch((e) => { $('#status').textContent = t('status.error', e.message); });
    });
    if (state.token) login(state.token);
    else showLogin('');
  }

  init();
})();
