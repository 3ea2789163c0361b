// The workspace (issue 18): what every principal on the route sees and does, over the public API
// only. "Мои задачи" — the inbox, instances awaiting the caller's organisation, soonest deadline
// first — and an instance's page: its fields, participants by name, deadline and time left, the
// conclusions given so far side by side, its documents, its history, and the commands the caller
// may run now as forms built from the workflow definition's payload specs. Every submit carries
// `expected_version` and an `Idempotency-Key` made when the form opened (a double click appends
// once); the server's field errors are shown at their fields; a version conflict says so and
// offers to reload. Files are uploaded to /api/v1/attachments and referenced as
// {name, uri, sha256}; downloads are fetched with the token and saved from a blob, so no token
// is ever put in a URL.
'use strict';

const Workspace = (() => {
  const $ = (sel, root = document) => root.querySelector(sel);

  // A DOM element: el('p', {className: 'x', text: 'y'}, child, ...).
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') node.textContent = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k in node) node[k] = v;
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
    return node;
  }

  // Focus after the event that opened a form is done: an Enter that opened it must not also
  // reach (and submit) the form's first field.
  const focusSoon = (node) => { if (node) setTimeout(() => node.focus(), 0); };

  const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));

  function create({state, api, send, words, markLanguage, onChange}) {
    const {t, named, orgName, formatTime} = words;
    const label = (kind, name) => {
      const l = LABELS[kind] && LABELS[kind][name];
      return l ? l[state.lang === 'en' ? 1 : 0] : name;
    };
    const ws = {inbox: [], next: null, open: null, defs: new Map()};

    // --- definitions ---------------------------------------------------------------------

    // A workflow's definition at `version`, or its latest when none is given; read once.
    async function definition(workflow, version) {
      const key = workflow + '@' + (version || 'latest');
      if (!ws.defs.has(key)) {
        ws.defs.set(key, await api(`/api/v1/workflows/${encodeURIComponent(workflow)}` + (version ? `?version=${version}` : '')));
      }
      return ws.defs.get(key);
    }
    function workflowTitle(id) {
      const w = (state.allWorkflows || state.workflows).find((x) => x.id === id);
      return (w && w.title && (state.lang === 'en' ? w.title.en : w.title.ru)) || id;
    }
    // What names an instance: a proposal's or a protocol's title, an assignment's decision.
    const titleOf = (v) => (v.fields && (v.fields.title || v.fields.decision || v.fields.text || v.fields.number || v.fields.name)) || v.id;
    const stateName = (v) => {
      const s = named('state', v.state);
      return s !== v.state ? s : named('stage', v.stage || v.state);
    };

    // The definition of `name` the caller may run on `view` now: the one from its state whose
    // roles include the caller's.
    function commandSpec(def, view, name) {
      return def.commands.find((c) => c.name === name && (c.from || []).includes(view.state) && (c.roles || []).includes(state.me.role))
        || def.commands.find((c) => c.name === name && (c.from || []).includes(view.state));
    }

    // --- time left ---------------------------------------------------------------------------

    // Deadlines pass by the server's clock (a demo's or a test's is set apart from the wall's):
    // its time at login, moved on by the time since.
    const skew = state.me && state.me.now ? new Date(state.me.now) - Date.now() : 0;
    const serverNow = () => Date.now() + skew;

    function timeLeft(view) {
      if (view.overdue && view.overdue.length) return {text: t('ws.overdue_since', formatTime(view.overdue[0].since)), overdue: true};
      if (!view.deadline) return {text: t('ws.no_deadline'), overdue: false};
      const ms = new Date(view.deadline) - serverNow();
      const days = Math.ceil(ms / 86400000);
      return {text: t('ws.due', formatTime(view.deadline), days > 0 ? t('ws.days_left', days) : t('ws.due_passed')), overdue: false};
    }

    // --- the inbox ---------------------------------------------------------------------------

    // The inbox lists what the caller may act on; what awaits its organisation (the instance
    // cannot go on without it) is marked and counted apart from what it only may do (recall a
    // proposal from expertise, withdraw it). While a round is open, the instance awaits the
    // parties that have not acted; otherwise whoever may act on it.
    const awaitsMe = (v) => (v.round && v.round.parties
      ? v.round.parties.some((p) => p.org === state.me.org && !p.acted)
      : (v.awaiting || []).some((a) => a.org === state.me.org));

    async function loadInbox(more) {
      const status = $('#inbox-status');
      status.textContent = t('status.loading');
      try {
        const page = await api('/api/v1/inbox?limit=50' + (more && ws.next ? '&cursor=' + encodeURIComponent(ws.next) : ''));
        ws.inbox = more ? ws.inbox.concat(page.items) : page.items;
        ws.next = page.next_cursor;
        drawInbox();
        status.textContent = inboxStatus();
      } catch (e) {
        status.textContent = t('status.error', e.message);
      }
    }

    // One instance in a list (the inbox, a search): its name opens it.
    function item(v) {
      const left = timeLeft(v);
      const mine = awaitsMe(v);
      const title = el('span', {className: 'title', text: titleOf(v)});
      markLanguage(title, title.textContent);
      const open = el('button', {type: 'button', className: 'link', dataset: {collection: v.collection, id: v.id}}, title);
      open.addEventListener('click', () => openInstance(v.collection, v.id));
      return el('li', {className: (left.overdue && !v.terminal ? 'overdue ' : '') + (mine ? 'awaiting' : 'may-act')},
        open,
        mine ? el('span', {className: 'badge', text: t('ws.awaits_you')}) : null,
        el('span', {className: 'meta', text: `${workflowTitle(v.workflow)} · ${stateName(v)}`}),
        el('span', {className: 'due' + (left.overdue && !v.terminal ? ' bad' : ''), text: v.terminal ? t('ws.finished') : left.text}),
        el('span', {className: 'actions', text: (v.allowed_commands || []).map((c) => label('command', c)).join(', ')}));
    }

    function inboxStatus() {
      const awaiting = ws.inbox.filter(awaitsMe).length;
      return awaiting ? t('ws.inbox_count', awaiting, ws.inbox.length)
        : ws.inbox.length ? t('ws.inbox_may_act', ws.inbox.length) : t('ws.inbox_empty');
    }

    function drawInbox() {
      $('#inbox').replaceChildren(...ws.inbox.map(item));
      $('#inbox-more').hidden = !ws.next;
    }

    // --- search ------------------------------------------------------------------------------

    // The caller's organisation's instances (those it may see) by collection, workflow and
    // state, searched by title; GET /api/v1/{c} pages them, newest first.
    const find = {items: [], next: null, query: ''};
    function fillFind() {
      const all = state.allWorkflows || state.workflows;
      const collections = [...new Set(all.map((w) => w.collection))].filter((c) => !['organizations', 'groups'].includes(c));
      const cSel = $('#find-collection');
      const current = cSel.value || 'proposals';
      cSel.replaceChildren(...collections.map((c) => el('option', {value: c, text: capital(words.noun(c, 1))})));
      cSel.value = collections.includes(current) ? current : collections[0];
      fillFindWorkflows();
    }
    const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);
    function fillFindWorkflows() {
      const all = state.allWorkflows || state.workflows;
      const c = $('#find-collection').value;
      const ids = [...new Set(all.filter((w) => w.collection === c).map((w) => w.id))];
      $('#find-workflow').replaceChildren(el('option', {value: '', text: t('ws.any')}),
        ...ids.map((id) => el('option', {value: id, text: workflowTitle(id)})));
      fillFindStates();
    }
    function fillFindStates() {
      const all = state.allWorkflows || state.workflows;
      const c = $('#find-collection').value, w = $('#find-workflow').value;
      const names = [...new Set(all.filter((x) => x.collection === c && (!w || x.id === w)).flatMap((x) => x.states.map((st) => st.name)))];
      $('#find-state').replaceChildren(el('option', {value: '', text: t('ws.any')}),
        ...names.map((n) => el('option', {value: n, text: named('state', n) !== n ? named('state', n) : named('stage', n)})));
    }
    async function search(more) {
      const status = $('#find-status');
      if (!more) {
        const params = new URLSearchParams({limit: '20'});
        for (const [k, sel] of [['workflow', '#find-workflow'], ['state', '#find-state'], ['q', '#find-q']]) {
          const v = $(sel).value.trim();
          if (v) params.set(k, v);
        }
        find.query = `/api/v1/${encodeURIComponent($('#find-collection').value)}?${params}`;
      }
      status.textContent = t('status.loading');
      try {
        const page = await api(find.query + (more && find.next ? '&cursor=' + encodeURIComponent(find.next) : ''));
        find.items = more ? find.items.concat(page.items) : page.items;
        find.next = page.next_cursor;
        $('#find-results').replaceChildren(...find.items.map(item));
        $('#find-more').hidden = !find.next;
        status.textContent = find.items.length ? t('ws.found', find.items.length) : t('ws.found_none');
      } catch (e) {
        status.textContent = t('status.error', e.message);
      }
    }

    // What the caller may create: each workflow whose latest definition lets its role.
    let createRun = 0;
    async function drawCreate() {
      // Built apart and put in place at the end: of two runs at once, the later one stands.
      const run = ++createRun;
      const buttons = [];
      // Every workflow but the registry's (organisations and groups have pages of their own in
      // the API, docs/registry.md); a protocol is registered with its assignments.
      const ids = [...new Set((state.allWorkflows || state.workflows).map((w) => w.id))];
      for (const id of ids) {
        // An assignment is made by registering the protocol whose decision it carries.
        if (['organization', 'group', 'protocol_assignment'].includes(id)) continue;
        const def = await definition(id).catch(() => null);
        if (!def || !def.create || !(def.create.roles || []).includes(state.me.role)) continue;
        const b = el('button', {type: 'button', className: 'secondary', dataset: {workflow: id}, text: t('ws.create', workflowTitle(id))});
        b.addEventListener('click', () => openCreate(def));
        buttons.push(b);
      }
      if (run === createRun) $('#create-buttons').replaceChildren(...buttons);
    }

    // --- an instance's page ------------------------------------------------------------------

    async function openInstance(collection, id) {
      const base = `/api/v1/${encodeURIComponent(collection)}/${encodeURIComponent(id)}`;
      const [view, history, chain] = await Promise.all([api(base), Timeline.history(api, base), api(base + '/verify')]);
      const def = await definition(view.workflow, view.workflow_version);
      // What was said of another instance is not said of this one; a redraw of the same (the
      // live feed's) keeps what was said, such as "done".
      if (!ws.open || ws.open.collection !== collection || ws.open.id !== id) $('#instance-status').textContent = '';
      ws.open = {collection, id, base, view, history, chain, def};
      drawInstance();
      $('#instance-card').hidden = false;
      $('#instance-title').focus();
    }

    async function reloadOpen() {
      if (!ws.open) return;
      await openInstance(ws.open.collection, ws.open.id);
    }

    // A deadline as a protocol writes it: a date, or a schedule of reports.
    function deadlineText(d) {
      if (d.due) return formatTime(d.due.length === 10 ? d.due + 'T00:00:00+03:00' : d.due);
      const r = d.recurring;
      const every = t('ws.every_' + r.every);
      const parts = [every === 'ws.every_' + r.every ? r.every : every];
      if (r.weekday) parts.push(label('value', r.weekday));
      if (r.day) parts.push(t('ws.day_of_month', r.day));
      if (r.time) parts.push(r.time);
      if (r.until) parts.push(t('ws.until', r.until));
      return parts.join(', ');
    }

    function valueText(v) {
      if (v === null || v === undefined) return '—';
      if (Array.isArray(v)) return v.map(valueText).join(v.some((x) => x && typeof x === 'object') ? '; ' : ', ');
      if (typeof v === 'object' && (v.due || v.recurring)) return deadlineText(v);
      if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${label('field', k)}: ${valueText(x)}`).join(', ');
      if (typeof v === 'string' && state.orgs.has(v)) return orgName(v);
      if (typeof v === 'boolean') return v ? t('ws.yes') : t('ws.no');
      return String(label('value', String(v)));
    }

    function isAttachmentList(v) {
      const one = (x) => x && typeof x === 'object' && typeof x.uri === 'string' && typeof x.name === 'string';
      return Array.isArray(v) ? v.length > 0 && v.every(one) : one(v);
    }

    function attachmentLinks(v) {
      const ul = el('ul', {className: 'files'});
      for (const a of Array.isArray(v) ? v : [v]) {
        const ours = typeof a.sha256 === 'string' && a.uri.endsWith('/api/v1/attachments/' + a.sha256);
        if (ours) {
          const b = el('button', {type: 'button', className: 'link', text: a.name});
          b.addEventListener('click', () => download(a));
          ul.append(el('li', {}, b));
        } else {
          ul.append(el('li', {}, el('span', {text: a.name}), ' ', el('span', {className: 'hint', text: a.uri})));
        }
      }
      return ul;
    }

    // A file is fetched with the token and saved from a blob: no token in a URL.
    async function download(a) {
      const r = await fetch(a.uri, {headers: {Authorization: 'Bearer ' + state.token}});
      if (!r.ok) {
        $('#instance-status').textContent = t('ws.download_failed', a.name, r.status);
        return;
      }
      const url = URL.createObjectURL(await r.blob());
      const link = el('a', {href: url, download: a.name});
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    }

    function drawInstance() {
      const {view, history, def} = ws.open;
      const title = $('#instance-title');
      title.textContent = titleOf(view);
      markLanguage(title, title.textContent);
      const left = timeLeft(view);
      $('#instance-meta').textContent = `${workflowTitle(view.workflow)} · ${t('ws.state', stateName(view))} · ${t('ws.version', view.version)}`;
      const due = $('#instance-due');
      due.textContent = view.terminal ? t('ws.finished') : left.text;
      due.className = 'due' + (left.overdue && !view.terminal ? ' bad' : '');

      const people = $('#instance-participants');
      people.textContent = '';
      for (const [role, org] of Object.entries(view.participants || {})) {
        people.append(el('dt', {text: named('slot', role)}), el('dd', {text: orgName(org)}));
      }
      const fields = $('#instance-fields');
      fields.textContent = '';
      const values = view.fields || {};
      for (const [k] of ordered(Object.fromEntries(Object.keys(values).map((k) => [k, {}])))) {
        const v = values[k];
        const dd = el('dd');
        if (isAttachmentList(v)) dd.append(attachmentLinks(v));
        else {
          dd.textContent = valueText(v);
          if (typeof v === 'string') markLanguage(dd, v);
        }
        fields.append(el('dt', {text: label('field', k)}), dd);
      }
      drawFlow(view, def);
      drawChain(ws.open.chain, history.events);
      drawConclusions(history.events, def);
      drawActions(view, def);
      drawHistory(history.events);
    }

    // The workflow's stages as the monitoring diagram draws them, the instance's own marked.
    function drawFlow(view, def) {
      // The states in the order the server lists them (the definition's own), as monitoring does.
      const summary = state.workflows.find((w) => w.id === def.workflow && w.version === def.version)
        || state.workflows.find((w) => w.id === def.workflow);
      const m = Flow.model(def, summary && summary.states.map((x) => x.name));
      Flow.render($('#instance-flow'), m, (s) => {
        const here = s.id === view.stage;
        const name = named('stage', s.id);
        return {
          aria: here ? t('ws.flow_here', name) : name,
          lines: [{cls: 'name', parts: [{text: name}]}].concat(here ? [{cls: 'wip', parts: [{text: t('ws.flow_here_short')}]}] : []),
        };
      }, () => {}, view.stage);
      $('#instance-flow').dataset.stage = view.stage;
    }

    // The server recomputes each event's hash from its record and the one before; here the
    // history is also checked to hold every version in order.
    function drawChain(chain, events) {
      const gap = events.findIndex((e, i) => e.version !== i + 1);
      const ok = chain.ok && gap < 0;
      const node = $('#instance-chain');
      node.dataset.ok = String(ok);
      node.className = 'chain ' + (ok ? 'ok' : 'bad');
      node.textContent = !chain.ok ? '✗ ' + t('chain.bad', chain.first_bad_seq, chain.reason)
        : gap >= 0 ? '✗ ' + t('chain.gap', gap + 1) : '✓ ' + t('chain.ok', chain.checked);
    }

    // The votes of the rounds (a command with `vote_field`): each party's latest, side by side.
    function drawConclusions(events, def) {
      const voting = new Map(def.commands.filter((c) => c.vote_field).map((c) => [c.event, c.vote_field]));
      const table = $('#instance-conclusions');
      const body = $('#instance-conclusions tbody');
      body.textContent = '';
      // Each party's latest of each kind (a conclusion, an approbation record).
      const latest = new Map();
      for (const e of events) {
        if (!voting.has(e.type)) continue;
        latest.set(e.type + ' ' + e.actor.org, e);
      }
      for (const e of latest.values()) {
        const org = e.actor.org;
        const payload = (e.data && e.data.payload) || {};
        const verdict = payload[voting.get(e.type)];
        const comment = el('td', {text: payload.comment || ''});
        markLanguage(comment, payload.comment || '');
        const files = el('td');
        if (isAttachmentList(payload.attachments)) files.append(attachmentLinks(payload.attachments));
        body.append(el('tr', {},
          el('th', {scope: 'row', text: orgName(org)}),
          el('td', {text: named('event', e.type)}),
          el('td', {className: 'verdict verdict-' + verdict, text: label('value', String(verdict))}),
          comment, files,
          el('td', {text: formatTime(e.occurred_at)})));
      }
      // The open round's parties that have not acted yet, beside those who have.
      const pending = (ws.open.view.round && ws.open.view.round.parties || []).filter((p) => !p.acted);
      for (const p of pending) {
        body.append(el('tr', {className: 'pending'},
          el('th', {scope: 'row', text: orgName(p.org)}),
          el('td', {}), el('td', {text: t('ws.awaited')}), el('td'), el('td'), el('td')));
      }
      table.hidden = latest.size === 0 && pending.length === 0;
    }

    function drawHistory(events) {
      const list = $('#instance-history');
      list.textContent = '';
      for (const e of events.slice().reverse()) {
        const payload = (e.data && e.data.payload) || {};
        const changed = Object.keys(payload).map((k) => label('field', k)).join(', ');
        // A report's or a conclusion's documents are downloaded from the event that brought them.
        const files = isAttachmentList(payload.attachments) ? attachmentLinks(payload.attachments)
          : isAttachmentList(payload.attachment) ? attachmentLinks(payload.attachment) : null;
        list.append(el('li', {dataset: {seq: e.seq}},
          el('time', {dateTime: e.occurred_at, text: formatTime(e.occurred_at)}), ' ',
          el('strong', {text: named('event', e.type)}), ' ',
          el('span', {className: 'actor', text: e.actor.org === 'system' ? named('role', 'system') : t('timeline.actor', orgName(e.actor.org), named('role', e.actor.role))}),
          changed ? el('span', {className: 'hint', text: ' · ' + changed}) : null,
          files));
      }
    }

    function drawActions(view, def) {
      const box = $('#instance-actions');
      box.textContent = '';
      // A form still open on the version shown stays (a reload that found nothing new must not
      // take away what the user is typing); on another version it is gone with its version.
      const open = $('#command-form-box form');
      if (!open || open.dataset.version !== String(view.version)) $('#command-form-box').textContent = '';
      const commands = view.allowed_commands || [];
      if (!commands.length) {
        box.append(el('p', {className: 'hint', text: view.terminal ? t('ws.finished') : t('ws.nothing_to_do')}));
        return;
      }
      for (const name of commands) {
        const b = el('button', {type: 'button', dataset: {command: name}, text: label('command', name)});
        b.addEventListener('click', () => openCommand(name));
        box.append(b);
      }
    }

    // --- forms ---------------------------------------------------------------------------------

    // One input for a payload field, by its spec; `path` is how the server names it in errors.
    // Every field wrapper carries its name (data-seg); where it stands in the payload (its path,
    // "items[0].decisions[1].text") is read from the page when needed (pathOf), so that entries
    // of a list can be added and removed without renaming anything.
    let ids = 0;
    let formFor = null;  // the instance whose command the form being built runs, if any
    function input(name, spec, path, value) {
      const id = 'f-' + path.replace(/[^A-Za-z0-9]/g, '-') + '-' + (++ids);
      const wrap = el('div', {className: 'field', dataset: {path, seg: name, required: spec.required ? '1' : ''}});
      const caption = label('field', name) + (spec.required ? ' *' : '');
      const error = el('p', {className: 'field-error', id: id + '-error', role: 'alert'});
      const described = {'aria-describedby': id + '-error'};
      let control;
      const type = spec.type;
      if (type === 'object' && spec.properties && !isAttachmentSpec(spec)) {
        const set = el('fieldset', {className: 'group', dataset: {path, seg: name, required: spec.required ? '1' : ''}}, el('legend', {text: caption}));
        for (const [k, s] of ordered(spec.properties)) set.append(input(k, s, path + '.' + k, value && value[k]));
        set.append(error);
        return set;
      }
      // A list of objects (a protocol's items, an item's decisions): entries added and removed.
      if (type === 'array' && spec.items && spec.items.type === 'object' && spec.items.properties && !isAttachmentSpec(spec.items)) {
        const set = el('fieldset', {className: 'list', dataset: {path, seg: name, kind: 'list', required: spec.required ? '1' : ''}}, el('legend', {text: caption}));
        const entries = el('div', {className: 'entries'});
        const one = LABELS.entry[name] ? label('entry', name) : label('field', name);
        const number = () => [...entries.children].forEach((e, i) => { $(':scope > legend', e).textContent = `${one} ${i + 1}`; });
        const addEntry = (v) => {
          const entry = el('fieldset', {className: 'group entry'}, el('legend'));
          for (const [k, s2] of ordered(spec.items.properties)) entry.append(input(k, s2, `${path}[].${k}`, v && v[k]));
          const remove = el('button', {type: 'button', className: 'secondary remove', text: t('ws.remove')});
          remove.addEventListener('click', () => { entry.remove(); number(); });
          entry.append(remove);
          entries.append(entry);
          number();
          return entry;
        };
        const add = el('button', {type: 'button', className: 'secondary add', text: t('ws.add', label('field', name))});
        add.addEventListener('click', () => { const e = addEntry(); focusSoon(e.querySelector('input, select, textarea')); });
        set.addEntry = addEntry;
        set.number = number;
        set.clear = () => entries.replaceChildren();
        if (Array.isArray(value) && value.length) value.forEach(addEntry);
        else if (spec.required || spec.min_items) addEntry();
        set.append(entries, add, error);
        return set;
      }
      if (type === 'deadline') return deadlineInput(name, caption, path, id, error, described, value);
      if (isAttachmentSpec(spec) || (type === 'array' && spec.items && isAttachmentSpec(spec.items))) {
        control = el('input', {type: 'file', id, multiple: type === 'array', ...described});
        control.dataset.kind = type === 'array' ? 'files' : 'file';
      } else if (spec.enum) {
        // No choice is made for the user, required or not: an empty first option.
        control = el('select', {id, ...described});
        control.append(el('option', {value: '', dataset: {required: spec.required ? '1' : ''}, text: spec.required ? t('ws.choose') : '—'}));
        for (const v of spec.enum) control.append(el('option', {value: v, text: label('value', v)}));
        control.dataset.kind = 'string';
      } else if (type === 'org' || (type === 'array' && spec.items && spec.items.type === 'org')) {
        const kind = type === 'org' ? spec.org_kind : spec.items.org_kind;
        control = el('select', {id, multiple: type === 'array', size: type === 'array' ? 6 : undefined, ...described});
        if (type !== 'array') control.append(el('option', {value: '', dataset: {required: spec.required ? '1' : ''}, text: spec.required ? t('ws.choose') : '—'}));
        let orgs = [...state.orgs.values()].filter((o) => !kind || o.kind === kind)
          .sort((a, b) => orgName(a.id).localeCompare(orgName(b.id), state.lang));
        // The FUMO of an instance's УГПС (seed 001 §5.3: the expertise is by the FUMOs of the
        // proposal's groups): only those are offered where the instance names its groups.
        const groups = formFor && formFor.fields && formFor.fields.ugps;
        if (kind === 'fumo' && Array.isArray(groups) && groups.length) orgs = orgs.filter((o) => groups.includes(o.ugps));
        for (const o of orgs) control.append(el('option', {value: o.id, text: orgName(o.id)}));
        control.dataset.kind = type === 'array' ? 'orgs' : 'string';
      } else if (type === 'text') {
        control = el('textarea', {id, rows: 3, ...described});
        control.dataset.kind = 'string';
      } else if (type === 'date') {
        control = el('input', {type: 'date', id, ...described});
        control.dataset.kind = 'string';
      } else if (type === 'integer') {
        control = el('input', {type: 'number', step: 1, id, ...described});
        control.dataset.kind = 'integer';
      } else if (type === 'boolean') {
        control = el('input', {type: 'checkbox', id, ...described});
        control.dataset.kind = 'boolean';
      } else if (type === 'array' && spec.items && ['string', 'ugps', 'text'].includes(spec.items.type)) {
        control = el('textarea', {id, rows: 3, placeholder: t('ws.one_per_line'), ...described});
        control.dataset.kind = 'lines';
      } else if (type === 'string' || type === 'ugps') {
        control = el('input', {type: 'text', id, maxLength: spec.max_length || undefined, ...described});
        control.dataset.kind = 'string';
      } else {
        // What has no form of its own yet (a protocol's items and decisions): JSON as written.
        control = el('textarea', {id, rows: 5, className: 'json', placeholder: 'JSON', ...described});
        control.dataset.kind = 'json';
      }
      if (spec.required && control.dataset.kind !== 'files') control.required = true;
      control.dataset.name = name;
      if (value !== undefined && value !== null) setValue(control, value);
      wrap.append(el('label', {htmlFor: id, text: caption}), control, error);
      return wrap;
    }

    // A decision's deadline as a protocol writes it: a date, or reports every week, day or month
    // (a weekday or a day of the month, a Moscow time, until a date).
    function deadlineInput(name, caption, path, id, error, described, value) {
      const wrap = el('fieldset', {className: 'group deadline', dataset: {path, seg: name, kind: 'deadline', required: ''}}, el('legend', {text: caption}));
      const mode = el('select', {id, ...described, dataset: {part: 'mode'}},
        ...['due', 'week', 'month', 'day'].map((m) => el('option', {value: m, text: t('ws.deadline_' + m)})));
      const date = el('input', {type: 'date', id: id + '-date', dataset: {part: 'date'}});
      const weekday = el('select', {id: id + '-weekday', dataset: {part: 'weekday'}},
        ...['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((d) => el('option', {value: d, text: label('value', d)})));
      const day = el('input', {type: 'number', min: 1, max: 31, id: id + '-day', dataset: {part: 'day'}});
      const time = el('input', {type: 'time', id: id + '-time', dataset: {part: 'time'}});
      const until = el('input', {type: 'date', id: id + '-until', dataset: {part: 'until'}});
      const part = (control, key) => el('div', {className: 'field', dataset: {shows: key}}, el('label', {htmlFor: control.id, text: t('ws.deadline_part_' + key)}), control);
      const parts = [part(date, 'date'), part(weekday, 'weekday'), part(day, 'day'), part(time, 'time'), part(until, 'until')];
      const show = () => {
        const m = mode.value;
        const visible = {date: m === 'due', weekday: m === 'week', day: m === 'month', time: true, until: m !== 'due'};
        for (const p of parts) p.hidden = !visible[p.dataset.shows];
      };
      mode.addEventListener('change', show);
      wrap.append(el('div', {className: 'field', dataset: {shows: 'mode'}}, el('label', {htmlFor: id, text: t('ws.deadline_mode')}), mode), ...parts, error);
      wrap.setDeadline = (v) => {
        if (!v) return;
        if (v.due) { mode.value = 'due'; const [d, tm] = String(v.due).split('T'); date.value = d; if (tm) time.value = tm.slice(0, 5); }
        else if (v.recurring) {
          const r = v.recurring;
          mode.value = r.every || 'week';
          if (r.weekday) weekday.value = r.weekday;
          if (r.day) day.value = r.day;
          if (r.time) time.value = r.time;
          if (r.until) until.value = r.until;
        }
        show();
      };
      wrap.getDeadline = () => {
        const m = mode.value;
        if (m === 'due') return date.value ? {due: date.value + (time.value ? `T${time.value}:00+03:00` : '')} : undefined;
        const r = {every: m};
        if (m === 'week') r.weekday = weekday.value;
        if (m === 'month' && day.value) r.day = Number(day.value);
        if (time.value) r.time = time.value;
        if (until.value) r.until = until.value;
        return {recurring: r};
      };
      show();
      wrap.setDeadline(value);
      return wrap;
    }

    function isAttachmentSpec(spec) {
      return spec && spec.type === 'object' && spec.properties && spec.properties.uri && spec.properties.sha256;
    }

    // Puts `value` into a field wrapper: a list's entries, a deadline, a group's fields, a control.
    function fill(wrap, value) {
      const kind = wrap.dataset.kind;
      if (kind === 'list' || kind === 'deadline') return setValue(wrap, value);
      if (wrap.matches('fieldset.group')) {
        for (const [k, v] of Object.entries(value || {})) {
          const inner = [...wrap.children].find((c) => c.dataset && c.dataset.seg === k);
          if (inner) fill(inner, v);
        }
        return;
      }
      const control = $(':scope > [data-kind]', wrap);
      if (control) setValue(control, value);
    }

    function setValue(control, value) {
      const kind = control.dataset.kind;
      if (kind === 'list') {
        control.clear();
        if (Array.isArray(value)) value.forEach((v) => control.addEntry(v));
        return;
      }
      if (kind === 'deadline') return control.setDeadline(value);
      if (kind === 'boolean') control.checked = Boolean(value);
      else if (kind === 'orgs') for (const o of control.options) o.selected = value.includes(o.value);
      else if (kind === 'lines') control.value = value.join('\n');
      else if (kind === 'json') control.value = JSON.stringify(value, null, 1);
      else if (kind === 'string' || kind === 'integer') control.value = String(value);
    }

    // Where a field stands in the payload, read from the page: its name under its parents', an
    // entry of a list by its place ("items[0].decisions[1].text").
    function pathOf(node, root) {
      const segs = [];
      for (let n = node; n && n !== root; n = n.parentElement) {
        if (n.classList.contains('entry')) {
          const index = [...n.parentElement.children].indexOf(n);
          segs.push(`[${index}]`);
        } else if (n.dataset && n.dataset.seg) {
          segs.push((segs.length && !segs[segs.length - 1].startsWith('[') ? '.' : '') + n.dataset.seg);
        }
      }
      return segs.reverse().join('').replace(/^\./, '');
    }

    // The value of a field wrapper (or nothing, when empty and so left out); files are uploaded.
    async function valueOf(wrap, root) {
      const kind = wrap.dataset.kind;
      if (kind === 'list') {
        const out = [];
        for (const entry of $(':scope > .entries', wrap).children) {
          const v = await objectOf(entry, root);
          if (Object.keys(v).length) out.push(v);
        }
        return out.length ? out : undefined;
      }
      if (kind === 'deadline') return wrap.getDeadline();
      if (wrap.matches('fieldset.group')) {
        const v = await objectOf(wrap, root);
        return Object.keys(v).length ? v : undefined;
      }
      const control = $(':scope > [data-kind]', wrap);
      if (!control) return undefined;
      const c = control.dataset.kind;
      const path = pathOf(wrap, root);
      if (c === 'boolean') return control.checked;
      if (c === 'orgs') { const v = [...control.selectedOptions].map((o) => o.value); return v.length ? v : undefined; }
      if (c === 'lines') { const v = control.value.split('\n').map((x) => x.trim()).filter(Boolean); return v.length ? v : undefined; }
      if (c === 'integer') return control.value === '' ? undefined : Number(control.value);
      if (c === 'json') {
        if (control.value.trim() === '') return undefined;
        try { return JSON.parse(control.value); } catch (_) { throw {path, message: t('ws.bad_json')}; }
      }
      if (c === 'file' || c === 'files') {
        if (!control.files.length) return undefined;
        const uploaded = [];
        for (const f of control.files) uploaded.push(await upload(f, path));
        return c === 'file' ? uploaded[0] : uploaded;
      }
      return control.value === '' ? undefined : control.value;
    }

    // The fields directly inside `node` (not those of nested groups and lists), as an object.
    async function objectOf(node, root) {
      const out = {};
      const own = [...node.querySelectorAll('[data-seg]')].filter((w) => w.parentElement.closest('[data-seg], .entry, form') === node);
      for (const wrap of own) {
        const v = await valueOf(wrap, root);
        if (v !== undefined) out[wrap.dataset.seg] = v;
      }
      return out;
    }

    // The payload a form holds: empty optional fields left out; files uploaded first.
    async function collect(form) {
      return objectOf(form, form);
    }

    async function upload(file, path) {
      const r = await send('POST', '/api/v1/attachments?name=' + encodeURIComponent(file.name), file, {'Content-Type': file.type || 'application/octet-stream'});
      if (r.status !== 201 && r.status !== 200) throw {path, message: (r.body && r.body.detail) || String(r.status)};
      return {name: r.body.name || file.name, uri: r.body.uri, sha256: r.body.sha256};
    }

    function clearErrors(form) {
      for (const e of form.querySelectorAll('.field-error')) e.textContent = '';
      for (const e of form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
      $('.form-error', form).textContent = '';
    }

    // The server names a field "experts.fumo" or "attachments[0].name" (a payload's, sometimes
    // with "payload." before it): shown at the nearest field of the form.
    function showErrors(form, errors, fallback) {
      const unplaced = [];
      const byPath = new Map([...form.querySelectorAll('[data-seg]')].map((w) => [pathOf(w, form), w]));
      for (const err of errors) {
        // The field itself, else the nearest field or list that holds it.
        let path = String(err.field || '').replace(/^payload\./, '');
        let target = null;
        while (path && !(target = byPath.get(path))) {
          const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
          path = cut > 0 ? path.slice(0, cut) : '';
        }
        if (!target) { unplaced.push(err.message ? `${err.field}: ${err.message}` : err.field); continue; }
        const box = target.matches('fieldset') ? $(':scope > .field-error', target) : $('.field-error', target);
        box.textContent = err.message || fallback;
        const control = target.querySelector('input, select, textarea');
        if (control) control.setAttribute('aria-invalid', 'true');
      }
      if (unplaced.length || !errors.length) $('.form-error', form).textContent = [fallback, ...unplaced].filter(Boolean).join(' · ');
      const first = form.querySelector('[aria-invalid]');
      if (first) first.focus();
    }

    // The server gives a definition's fields in alphabetical order; a form asks for what names
    // the thing first, then what is required, and leaves comments and documents for last.
    const FIRST = ['title', 'name', 'number', 'date', 'kind', 'topic', 'verdict', 'outcome', 'decision'];
    const LAST = ['comment', 'note', 'attachments', 'attachment'];
    function ordered(specs) {
      const rank = ([k, s]) => {
        if (FIRST.includes(k)) return FIRST.indexOf(k);
        if (LAST.includes(k)) return 100 + LAST.indexOf(k);
        return s.required ? 20 : 50;
      };
      return Object.entries(specs || {}).sort((a, b) => rank(a) - rank(b) || a[0].localeCompare(b[0]));
    }

    function form(title, specs, submitLabel, onSubmit, values = {}) {
      const f = el('form', {className: 'command-form', noValidate: true},
        el('h3', {text: title}));
      for (const [k, s] of ordered(specs)) f.append(input(k, s, k, values[k]));
      const submit = el('button', {type: 'submit', text: submitLabel});
      const cancel = el('button', {type: 'button', className: 'secondary', text: t('ws.cancel')});
      cancel.addEventListener('click', () => { f.remove(); });
      f.append(el('div', {className: 'form-buttons'}, submit, cancel), el('p', {className: 'form-error error', role: 'alert'}));
      f.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        if (f.dataset.busy) return;  // a second click while the first is under way
        f.dataset.busy = '1';
        submit.disabled = true;
        clearErrors(f);
        try {
          await onSubmit(f);
        } catch (err) {
          if (err && err.path) showErrors(f, [{field: err.path, message: err.message}], '');
          else $('.form-error', f).textContent = t('status.error', (err && err.message) || String(err));
        } finally {
          delete f.dataset.busy;
          submit.disabled = false;
        }
      });
      return f;
    }

    function openCommand(name) {
      const {view, def, base} = ws.open;
      const spec = commandSpec(def, view, name) || {payload: {}};
      // The key is made when the form opens: whatever the clicks, this form appends once.
      const key = newKey();
      const version = view.version;
      const box = $('#command-form-box');
      box.textContent = '';
      $('#instance-status').textContent = '';
      // An edit starts from what the instance holds; other commands from nothing.
      const values = spec.update_fields ? (view.fields || {}) : {};
      formFor = view;
      const f = form(label('command', name), spec.payload, label('command', name), async (f) => {
        const payload = await collect(f);
        const r = await send('POST', base + '/commands', JSON.stringify({command: name, expected_version: version, payload}),
          {'Content-Type': 'application/json', 'Idempotency-Key': key});
        if (r.status === 200 || r.status === 201) {
          box.textContent = '';
          // Said once the page shows the instance as the command left it.
          await Promise.all([reloadOpen(), loadInbox(false)]);
          $('#instance-status').textContent = t('ws.done', label('command', name));
          onChange();
          return;
        }
        if (r.status === 409 && r.body && r.body.code === 'version_conflict') {
          // Says what changed since the version the form was opened on, and who changed it.
          const since = await Timeline.history(api, base).then((h) => h.events.filter((e) => e.version > version)).catch(() => []);
          const changes = since.map((e) => `${named('event', e.type)} (${e.actor.org === 'system' ? named('role', 'system') : orgName(e.actor.org)}, ${formatTime(e.occurred_at)})`);
          const again = el('button', {type: 'button', className: 'secondary', text: t('ws.reload')});
          again.addEventListener('click', () => reloadOpen());
          $('.form-error', f).textContent = t('ws.conflict', version) + (changes.length ? ' ' + t('ws.conflict_changes', changes.join('; ')) : '');
          $('.form-error', f).append(' ', again);
          again.focus();
          return;
        }
        showErrors(f, (r.body && r.body.errors) || [], (r.body && r.body.detail) || String(r.status));
      }, values);
      formFor = null;
      f.dataset.command = name;
      f.dataset.version = String(version);
      box.append(f);
      focusSoon(f.querySelector('input, select, textarea, button'));
    }

    function openCreate(def) {
      const key = newKey();
      const box = $('#create-form-box');
      box.textContent = '';
      // A protocol is registered whole, with the assignments its decisions make: its body is the
      // payload itself (POST /api/v1/protocols), and it may be loaded from a JSON file.
      const protocol = def.collection === 'protocols';
      const f = form(t('ws.create', workflowTitle(def.workflow)), def.create.payload, t('ws.create_submit'), async (f) => {
        const payload = await collect(f);
        const body = protocol ? payload : {workflow: def.workflow, payload};
        const r = await send('POST', '/api/v1/' + def.collection, JSON.stringify(body),
          {'Content-Type': 'application/json', 'Idempotency-Key': key});
        if (r.status === 201 || r.status === 200) {
          box.textContent = '';
          onChange();
          await loadInbox(false);
          await openInstance(def.collection, r.body.id);
          $('#instance-status').textContent = t('ws.created');
          return;
        }
        showErrors(f, (r.body && r.body.errors) || [], (r.body && r.body.detail) || String(r.status));
      });
      f.dataset.create = def.workflow;
      // What the new instance consolidates (a proposal, the positions of its association) is
      // picked from those that may be consolidated now, by name.
      const cons = def.create.consolidates;
      const consWrap = cons && [...f.children].find((c) => c.dataset && c.dataset.seg === cons.field);
      if (consWrap) {
        const old = $(':scope > [data-kind]', consWrap);
        const pick = el('select', {id: old.id, multiple: true, size: 5, 'aria-describedby': old.getAttribute('aria-describedby')});
        pick.dataset.kind = 'orgs';
        pick.dataset.name = cons.field;
        old.replaceWith(pick);
        const of = (state.allWorkflows || state.workflows).find((w) => w.collection === cons.collection);
        Promise.all([api(`/api/v1/${encodeURIComponent(cons.collection)}?limit=500`), of ? definition(of.id) : null]).then(([page, d]) => {
          const command = d && d.commands.find((c) => c.name === cons.command);
          for (const v of page.items) {
            if (command && !(command.from || []).includes(v.state)) continue;
            pick.append(el('option', {value: v.id, text: titleOf(v)}));
          }
          if (!pick.options.length) consWrap.append(el('p', {className: 'hint', dataset: {i18n: 'ws.nothing_to_consolidate'}, text: t('ws.nothing_to_consolidate')}));
        }).catch(() => {});
      }
      if (protocol) {
        const id = 'protocol-json';
        const loader = el('input', {type: 'file', id, accept: 'application/json,.json'});
        const wrap = el('div', {className: 'field loader'}, el('label', {htmlFor: id, text: t('ws.protocol_json')}), loader);
        loader.addEventListener('change', async () => {
          const file = loader.files[0];
          if (!file) return;
          try {
            const body = JSON.parse(await file.text());
            for (const [k, v] of Object.entries(body)) {
              const wrap = [...f.children].find((c) => c.dataset && c.dataset.seg === k);
              if (wrap) fill(wrap, v);
            }
            $('.form-error', f).textContent = '';
          } catch (e) {
            $('.form-error', f).textContent = t('ws.bad_json');
          }
        });
        f.querySelector('h3').after(wrap);
      }
      box.append(f);
      focusSoon(f.querySelector('input, select, textarea'));
    }

    // --- wiring ------------------------------------------------------------------------------

    async function show() {
      if (!$('#find-collection').options.length) fillFind();
      await Promise.all([loadInbox(false), drawCreate()]);
    }
    function closeInstance() {
      $('#instance-card').hidden = true;
      ws.open = null;
    }

    // An event of the live feed: the inbox and an open instance it touches are read again.
    let pending = null;
    function onEvent(e) {
      if (pending) return;
      pending = setTimeout(async () => {
        pending = null;
        await loadInbox(false);
        if (ws.open && e.stream === `${ws.open.collection}/${ws.open.id}` && !$('#command-form-box form')) await reloadOpen().catch(() => {});
      }, 300);
    }

    // An open form in the language just chosen: its title, labels, choices and buttons.
    function relabelForm(f) {
      const h = $(':scope > h3', f);
      if (f.dataset.command) h.textContent = label('command', f.dataset.command);
      else if (f.dataset.create) h.textContent = t('ws.create', workflowTitle(f.dataset.create));
      for (const w of f.querySelectorAll('[data-seg]')) {
        const caption = label('field', w.dataset.seg) + (w.dataset.required ? ' *' : '');
        const lab = w.matches('fieldset') ? $(':scope > legend', w) : $(':scope > label', w);
        if (lab) lab.textContent = caption;
        if (w.number) w.number();
        const add = $(':scope > button.add', w);
        if (add) add.textContent = t('ws.add', label('field', w.dataset.seg));
      }
      for (const b of f.querySelectorAll('button.remove')) b.textContent = t('ws.remove');
      for (const part of f.querySelectorAll('fieldset.deadline [data-shows]')) {
        $(':scope > label', part).textContent = part.dataset.shows === 'mode' ? t('ws.deadline_mode') : t('ws.deadline_part_' + part.dataset.shows);
      }
      for (const o of f.querySelectorAll('select[data-part="mode"] option')) o.textContent = t('ws.deadline_' + o.value);
      for (const o of f.querySelectorAll('option')) {
        if (o.closest('select[data-part="mode"]')) continue;
        if (o.value === '') o.textContent = o.dataset.required ? t('ws.choose') : '—';
        else if (LABELS.value[o.value]) o.textContent = label('value', o.value);
        else if (state.orgs.has(o.value)) o.textContent = orgName(o.value);
      }
      for (const c of f.querySelectorAll('textarea[data-kind="lines"]')) c.placeholder = t('ws.one_per_line');
      const loader = f.querySelector('label[for="protocol-json"]');
      if (loader) loader.textContent = t('ws.protocol_json');
      const submit = $('button[type="submit"]', f);
      submit.textContent = f.dataset.command ? label('command', f.dataset.command) : t('ws.create_submit');
      $('.form-buttons button.secondary', f).textContent = t('ws.cancel');
    }

    function relabel() {
      for (const f of document.querySelectorAll('#workspace form.command-form')) relabelForm(f);
      if ($('#inbox-status').textContent) $('#inbox-status').textContent = inboxStatus();
      if (find.query) $('#find-status').textContent = find.items.length ? t('ws.found', find.items.length) : t('ws.found_none');
      if (ws.inbox.length) drawInbox();
      const keep = [$('#find-collection').value, $('#find-workflow').value, $('#find-state').value];
      fillFind();
      $('#find-collection').value = keep[0];
      fillFindWorkflows();
      $('#find-workflow').value = keep[1];
      fillFindStates();
      $('#find-state').value = keep[2];
      if (find.items.length) $('#find-results').replaceChildren(...find.items.map(item));
      if (ws.open) drawInstance();
      drawCreate().catch(() => {});
    }

    current = {show, onEvent, relabel, openInstance, more: () => loadInbox(true), closeInstance,
      search, fillFindWorkflows, fillFindStates};
    if (!wired) {
      // Once for the page: a second login makes a new workspace, not a second listener.
      wired = true;
      $('#inbox-more').addEventListener('click', () => current.more());
      $('#instance-close').addEventListener('click', () => current.closeInstance());
      $('#find-form').addEventListener('submit', (ev) => { ev.preventDefault(); current.search(false); });
      $('#find-more').addEventListener('click', () => current.search(true));
      $('#find-collection').addEventListener('change', () => current.fillFindWorkflows());
      $('#find-workflow').addEventListener('change', () => current.fillFindStates());
    }
    $('#instance-card').hidden = true;
    $('#find-collection').replaceChildren();
    $('#find-results').replaceChildren();
    $('#find-status').textContent = '';
    $('#find-more').hidden = true;
    $('#create-form-box').textContent = '';
    return current;
  }

  let current = null;
  let wired = false;
  return {create};
})();
