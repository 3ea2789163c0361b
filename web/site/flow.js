// The workflow's stages as a diagram, drawn from its definition (GET /api/v1/workflows/{id}):
// the stages that are not terminal in one row in definition order, the outcomes in a row below,
// and an arrow for every transition a command, an expertise round's outcome or a deadline can
// make between two stages. Nodes are real <button>s over an SVG of the arrows, so they take
// focus, Tab order and Enter/Space like any button.
'use strict';

const Flow = (() => {
  // Six working stages (the longest workflow) fit the card of a 1280 px wide window unscrolled.
  const NODE_W = 150, NODE_H = 100, GAP = 38, PAD = 12;
  const OUT_W = 140, OUT_H = 62, ROW_GAP = 76;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  // {stages: [{id, terminal, states}], edges: [{from, to, back}], start} from a definition.
  // `stateOrder` names its states in definition order (the list of /api/v1/workflows gives it; the
  // definition's "states" is a JSON object, whose members a reader need not keep in order).
  function model(def, stateOrder) {
    const stageOf = {};
    const stages = [];
    const names = stateOrder && stateOrder.length ? stateOrder : Object.keys(def.states || {});
    for (const name of names) {
      const spec = def.states[name];
      if (!spec) continue;
      const id = spec.stage || name;
      stageOf[name] = id;
      let s = stages.find((x) => x.id === id);
      if (!s) {
        s = {id, terminal: true, states: []};
        stages.push(s);
      }
      s.states.push(name);
      s.terminal = s.terminal && !!spec.terminal;
    }
    const pairs = new Map();
    const link = (fromState, toState) => {
      const a = stageOf[fromState], b = stageOf[toState];
      if (!a || !b || a === b) return;
      pairs.set(a + '>' + b, {from: a, to: b});
    };
    for (const c of def.commands || []) {
      const targets = [];
      if (c.to) targets.push(c.to);
      if (c.to_by && c.to_by.cases) targets.push(...Object.values(c.to_by.cases));
      for (const f of c.from || []) targets.forEach((t) => link(f, t));
    }
    for (const [name, spec] of Object.entries(def.states || {})) {
      for (const o of (spec.round && spec.round.outcomes) || []) link(name, o.to);
    }
    for (const d of def.deadlines || []) {
      if (d.to) for (const f of d.while_in || []) link(f, d.to);
    }
    const order = stages.map((s) => s.id);
    const edges = [...pairs.values()].map((e) => ({...e, back: order.indexOf(e.to) < order.indexOf(e.from)}));
    const start = def.create && def.create.to ? stageOf[def.create.to] : stages[0] && stages[0].id;
    return {stages, edges, start};
  }

  function svg(tag, attrs) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  }

  // Lays out and draws `m` into `container`. `label(stage)` gives the node's text as
  // {lines: [{cls, parts: [{text, cls, metric}]}], aria, overdue}; `onSelect(stage, button)` is
  // called when a node is chosen.
  function render(container, m, label, onSelect, selected) {
    container.textContent = '';
    const main = m.stages.filter((s) => !s.terminal);
    // Outcomes sit under the stages that lead to them (by the mean place of those), which keeps
    // the arrows down from crossing where they need not.
    const place = (id) => {
      const from = m.edges.filter((e) => e.to === id).map((e) => main.findIndex((s) => s.id === e.from)).filter((i) => i >= 0);
      return from.length ? from.reduce((a, b) => a + b, 0) / from.length : main.length;
    };
    const outs = m.stages.filter((s) => s.terminal).map((s) => [place(s.id), s]).sort((a, b) => a[0] - b[0]).map(([, s]) => s);
    const mainWidth = main.length * NODE_W + Math.max(0, main.length - 1) * GAP;
    const outWidth = outs.length * OUT_W + Math.max(0, outs.length - 1) * GAP;
    const width = PAD * 2 + Math.max(mainWidth, outWidth);
    // Arcs over the row need room in proportion to the longest jump they make.
    const span = (e) => Math.abs(main.findIndex((s) => s.id === e.to) - main.findIndex((s) => s.id === e.from));
    const arcs = m.edges.filter((e) => isMain(e.from) && isMain(e.to) && !(span(e) === 1 && !e.back));
    const maxSpan = arcs.reduce((a, e) => Math.max(a, span(e)), 0);
    const top = PAD + (arcs.length ? 26 + 14 * maxSpan : 18);
    const outTop = top + NODE_H + ROW_GAP;
    const height = outs.length ? outTop + OUT_H + PAD : top + NODE_H + PAD;
    function isMain(id) { return main.some((s) => s.id === id); }

    const pos = {};
    const mainLeft = PAD + (width - PAD * 2 - mainWidth) / 2;
    main.forEach((s, i) => { pos[s.id] = {x: mainLeft + i * (NODE_W + GAP), y: top, w: NODE_W, h: NODE_H}; });
    const outLeft = PAD + (width - PAD * 2 - outWidth) / 2;
    outs.forEach((s, i) => { pos[s.id] = {x: outLeft + i * (OUT_W + GAP), y: outTop, w: OUT_W, h: OUT_H}; });

    container.style.width = width + 'px';
    container.style.height = height + 'px';
    const drawing = svg('svg', {width, height, viewBox: `0 0 ${width} ${height}`, 'aria-hidden': 'true', focusable: 'false'});
    const defs = svg('defs', {});
    for (const [id, cls] of [['arrow', 'edge'], ['arrow-back', 'edge back']]) {
      const marker = svg('marker', {id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'});
      marker.appendChild(svg('path', {d: 'M0,0 L10,5 L0,10 z', class: cls + ' head'}));
      defs.appendChild(marker);
    }
    drawing.appendChild(defs);

    // Several arrows leave one node downwards: spread their feet, in the order of their targets,
    // so they neither overlap nor cross each other.
    const downCount = {}, downIndex = {};
    for (const e of m.edges) if (isMain(e.from) && !isMain(e.to)) downCount[e.from] = (downCount[e.from] || 0) + 1;
    const edges = [...m.edges].sort((a, b) => (pos[a.to] ? pos[a.to].x : 0) - (pos[b.to] ? pos[b.to].x : 0));
    for (const e of edges) {
      const a = pos[e.from], b = pos[e.to];
      if (!a || !b) continue;
      let d;
      if (isMain(e.from) && isMain(e.to)) {
        if (!e.back && span(e) === 1) {
          d = `M${a.x + a.w},${a.y + a.h / 2} L${b.x},${b.y + b.h / 2}`;
        } else {
          const lift = 22 + 14 * span(e);
          const x1 = a.x + a.w / 2 + (e.back ? -18 : 18), x2 = b.x + b.w / 2 + (e.back ? 18 : -18);
          d = `M${x1},${a.y} C${x1},${a.y - lift} ${x2},${b.y - lift} ${x2},${b.y}`;
        }
      } else {
        const n = downCount[e.from] || 1, i = downIndex[e.from] = (downIndex[e.from] || 0) + 1;
        const x1 = a.x + (a.w * i) / (n + 1), x2 = b.x + b.w / 2;
        const y1 = a.y + a.h, y2 = b.y;
        d = `M${x1},${y1} C${x1},${y1 + ROW_GAP / 2} ${x2},${y2 - ROW_GAP / 2} ${x2},${y2}`;
      }
      drawing.appendChild(svg('path', {d, class: e.back ? 'edge back' : 'edge', 'marker-end': `url(#${e.back ? 'arrow-back' : 'arrow'})`}));
    }
    if (m.start && pos[m.start]) {
      const p = pos[m.start];
      drawing.appendChild(svg('circle', {cx: p.x - 0.5, cy: p.y + p.h / 2, r: 5, class: 'start'}));
    }
    container.appendChild(drawing);

    for (const s of [...main, ...outs]) {
      const p = pos[s.id];
      const text = label(s);
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'node' + (s.terminal ? ' terminal' : '') + (text.overdue ? ' has-overdue' : '');
      b.dataset.stage = s.id;
      b.style.left = p.x + 'px';
      b.style.top = p.y + 'px';
      b.style.width = p.w + 'px';
      b.style.height = p.h + 'px';
      b.setAttribute('aria-label', text.aria);
      b.setAttribute('aria-pressed', String(selected === s.id));
      // Each line is a run of parts; a part that shows a figure carries its metric's name, so
      // the figure can be found (and tested) without parsing the text around it.
      for (const line of text.lines) {
        const row = document.createElement('span');
        row.className = 'line ' + (line.cls || '');
        for (const part of line.parts) {
          const span = document.createElement('span');
          if (part.cls) span.className = part.cls;
          if (part.metric) span.dataset.metric = part.metric;
          span.textContent = part.text;
          row.appendChild(span);
        }
        b.appendChild(row);
      }
      b.addEventListener('click', () => onSelect(s, b));
      container.appendChild(b);
    }
  }

  return {model, render};
})();
