// An instance's timeline: its whole history (read a page at a time, GET /api/v1/{c}/{id}/events
// answers at most 1000 events with `next_after` to go on from) beside the server's verification
// of its hash chain, drawn as a list of events with who acted, when, and each event's hash.
'use strict';

const Timeline = (() => {
  const $ = (sel) => document.querySelector(sel);

  // Every page of the history, as one {events}.
  async function history(api, base) {
    const events = [];
    let after = 0;
    for (;;) {
      const page = await api(base + '/events' + (after ? '?after=' + after : ''));
      events.push(...page.events);
      if (page.next_after === null || page.next_after === undefined) return {events};
      after = page.next_after;
    }
  }

  // `markLanguage(element, text)` marks people's own words with their language.
  function draw(id, timeline, {t, named, orgName, formatTime}, markLanguage) {
    const {view, history, chain} = timeline;
    const titleEl = $('#timeline-title');
    const name = document.createElement('span');
    name.textContent = (view.fields && view.fields.title) || id;
    markLanguage(name, name.textContent);
    titleEl.textContent = t('timeline.title', '');
    titleEl.append(name);
    $('#timeline-meta').textContent = t('timeline.meta', id, named('state', view.state) === view.state ? named('stage', view.state) : named('state', view.state), view.version);
    // The server recomputes each event's hash from its stored record and the event before it;
    // here we also check that the history has every version, in order, with no gap.
    const gap = history.events.findIndex((e, i) => e.version !== i + 1);
    const chainEl = $('#chain-status');
    const ok = chain.ok && gap < 0;
    chainEl.dataset.ok = String(ok);
    chainEl.className = 'chain ' + (ok ? 'ok' : 'bad');
    chainEl.textContent = !chain.ok ? '✗ ' + t('chain.bad', chain.first_bad_seq, chain.reason)
      : gap >= 0 ? '✗ ' + t('chain.gap', gap + 1) : '✓ ' + t('chain.ok', chain.checked);
    const list = $('#timeline');
    list.textContent = '';
    for (const e of history.events) {
      const li = document.createElement('li');
      li.dataset.seq = e.seq;
      const time = document.createElement('time');
      time.dateTime = e.occurred_at;
      time.textContent = formatTime(e.occurred_at);
      const what = document.createElement('strong');
      what.textContent = named('event', e.type);
      const actor = document.createElement('span');
      actor.className = 'actor';
      actor.textContent = e.actor.org === 'system' ? named('role', 'system') : t('timeline.actor', orgName(e.actor.org), named('role', e.actor.role));
      const meta = document.createElement('span');
      meta.className = 'hash';
      meta.textContent = t('timeline.seq', e.seq) + ' · ' + e.hash.slice(0, 12) + '…';
      meta.title = e.hash;
      const head = document.createElement('span');
      head.className = 'what';
      head.append(time, ' ', what);
      li.append(head, actor, meta);
      list.appendChild(li);
    }
  }

  return {history, draw};
})();
