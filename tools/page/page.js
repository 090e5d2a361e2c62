/* tools/page/page.js: the lesson page's script: draws the chain, steps through the replay view by view, shows the tables at each step (issue 12).
 *
 * Plain JavaScript (ES2017) and SVG, no library, nothing fetched: the data is the JSON document in
 * <script id="natlb-data">, written by tools/html_page_json.c:
 *
 *   format "natlb-page", version 1
 *   scenario {source, description, capture}        capture: index of the capture link
 *   links [{name, description, networks[], written}]
 *   stages [{name, type, summary, key[], settings[]}] stage i sits between links i and i+1;
 *                                                    key: the "key = value" lines drawn, settings: all
 *   limits {max_views, views, steps, max_table_rows, tables_until?, tables_stop?}
 *   steps [{n, t, at, link, dir, j, origin, input, flow, len, proto, info,
 *           esrc?, edst?, src?, dst?, sp?, dp?, ttl?, ipid?, ipsum?, l4sum?, flags?, seq?, ack?,
 *           icmp_type?, icmp_code?, icmp_id?, http?, notes[], snap, ev[]}]
 *       n: the frame number in the pcapng; t: seconds since the first frame; at: seconds as
 *       `natlb tables --at` counts them; dir: "out" (left to right), "in" or ""; j: the packet's
 *       journey (its views on each link); flow: views joined across translations; snap: index in
 *       snapshots or -1; ev: indexes in events
 *   snapshots [{head, note?, stages [{name, type, head, rows [{id, text, orig, reply}]}]}]
 *       the lines `natlb tables --at` prints; orig and reply: [src, sport, dst, dport]
 *   events [{step, stage, kind, why, id?, orig?, reply?, text}]   text: as `natlb tables --events`
 *   stats {text, stages [{name, type, in, forwarded, dropped, consumed, emitted, bypassed,
 *                         drops [{name, text, n}]}]}
 *
 * The URL fragment #step=N opens at step N; &words=DROP fills the words filter; &bench=K times K
 * steps forward and writes the figures into #bench; &svg=1 writes what the ladder's download
 * button saves into #svg-file (the browser tests read both with --dump-dom).
 */
'use strict';

const D = JSON.parse(document.getElementById('natlb-data').textContent);
const SVG_NS = 'http://www.w3.org/2000/svg';
const MAX_TABLE_ROWS_SHOWN = 200;
const MAX_LADDER_ROWS = 400;
const PLAY_MS = 800;

/* ---- small helpers ------------------------------------------------------------------------------ */

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (k === 'class') e.className = v;
		else if (k === 'text') e.textContent = v;
		else e.setAttribute(k, v);
	}
	for (const c of children) e.append(c);
	return e;
}

function svg(tag, attrs, text) {
	const e = document.createElementNS(SVG_NS, tag);
	for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
	if (text !== undefined) e.textContent = text;
	return e;
}

function esc(s) {
	return String(s).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + '\u2026' : s; }

function endpoint(addr, port) { return port === undefined ? addr : addr + ':' + port; }

/* The stage whose sentence a comment is ("napt home: SNAT ..."), or -1. */
const stagePrefix = D.stages.map(s => s.type + ' ' + s.name + ': ');
function stageOfNote(note) {
	for (let i = 0; i < stagePrefix.length; i++) if (note.includes(stagePrefix[i])) return i;
	return -1;
}

/* ---- what every step needs, computed once ----------------------------------------------------- */

const steps = D.steps;
const prevInJourney = new Int32Array(steps.length).fill(-1);
const flowSteps = new Map();
const placeInFlow = new Int32Array(steps.length); /* step -> its index in flowSteps of its flow */
{
	const lastOfJourney = new Map();
	steps.forEach((s, i) => {
		if (lastOfJourney.has(s.j)) prevInJourney[i] = lastOfJourney.get(s.j);
		lastOfJourney.set(s.j, i);
		if (!flowSteps.has(s.flow)) flowSteps.set(s.flow, []);
		placeInFlow[i] = flowSteps.get(s.flow).push(i) - 1;
	});
}

/* Left to right, or right to left, along the chain: the view's own direction, else where the
 * packet went next or came from. */
function travelsRight(i) {
	const s = steps[i];
	if (s.dir === 'out') return true;
	if (s.dir === 'in') return false;
	const p = prevInJourney[i];
	if (p >= 0) return steps[p].link < s.link;
	return s.link < D.scenario.capture || s.link === 0;
}

function summaryInfo(s) {
	if (s.http) return s.http;
	if (s.flags !== undefined) return `${s.sp} \u2192 ${s.dp} [${s.flags}]` + (s.seq !== undefined ? ' Seq=' + s.seq : '');
	return s.info;
}

function stageSentence(s) {
	for (let k = s.notes.length - 1; k >= 0; k--) if (stageOfNote(s.notes[k]) >= 0) return s.notes[k];
	return s.notes.join(' | ');
}

/* ---- topology ----------------------------------------------------------------------------------- */

const topo = { links: [], stages: [], arrow: null };

/* "map = A; B" drawn as "map = A" and "  B" under it: one rule, target or route a line. */
function keyLines(stage) {
	return stage.key.filter(line => !/=\s*$/.test(line)).flatMap(line => {
		const parts = line.split(/;\s*/).filter(p => p);
		return parts.map((p, k) => k ? '  ' + p : p);
	});
}

function drawTopology() {
	const box = $('topology');
	const keys = D.stages.map(keyLines);
	const LINK_W = 170, H = 150, Y = 75;
	const stageW = D.stages.map((s, i) => Math.max(190, 24 + 7.2 * Math.max(s.type.length + s.name.length + 1,
		...keys[i].map(k => Math.min(k.length, 38)))));
	let x = 10;
	const parts = [];
	D.links.forEach((l, i) => {
		parts.push({ kind: 'link', i, x, w: LINK_W });
		x += LINK_W;
		if (i < D.stages.length) { parts.push({ kind: 'stage', i, x, w: stageW[i] }); x += stageW[i]; }
	});
	const tallest = Math.max(0, ...keys.map(k => Math.min(k.length, 7)));
	const height = Math.max(H, 60 + 16 * tallest + 20);
	const root = svg('svg', { viewBox: `0 0 ${x + 10} ${height}`, width: x + 10, height, role: 'img',
		'aria-label': 'The chain of links and stages, left to right' });
	for (const p of parts) {
		if (p.kind === 'link') {
			const l = D.links[p.i];
			const g = svg('g', { class: 'link' + (l.written ? '' : ' unwritten'), 'data-name': l.name });
			g.append(svg('line', { x1: p.x, y1: Y, x2: p.x + p.w, y2: Y, class: 'wire' }));
			g.append(svg('text', { x: p.x + p.w / 2, y: Y - 12, class: 'link-name' },
				l.name + (p.i === D.scenario.capture ? ' (capture)' : '')));
			const nets = l.networks.length ? l.networks.join(', ') : 'every other address';
			g.append(svg('text', { x: p.x + p.w / 2, y: Y + 20, class: 'link-nets' }, clip(nets, 30)));
			if (l.description) g.append(svg('title', {}, l.description + '\n' + nets));
			if (!l.written) g.append(svg('text', { x: p.x + p.w / 2, y: Y + 36, class: 'link-nets' }, '(not written)'));
			root.append(g);
			topo.links[p.i] = { g, x: p.x, w: p.w };
		} else {
			const s = D.stages[p.i];
			const g = svg('g', { class: 'stage', 'data-name': s.name });
			const top = 20, h = height - 30;
			g.append(svg('rect', { x: p.x + 4, y: top, width: p.w - 8, height: h, rx: 8 }));
			g.append(svg('text', { x: p.x + p.w / 2, y: top + 20, class: 'stage-name' }, s.type + ' ' + s.name));
			const lines = keys[p.i].length > 7 ? keys[p.i].slice(0, 6).concat([`(${keys[p.i].length - 6} more below)`]) : keys[p.i];
			lines.forEach((k, n) => g.append(svg('text', { x: p.x + p.w / 2, y: top + 40 + 16 * n, class: 'stage-key' }, clip(k, 38))));
			g.append(svg('title', {}, s.summary + '\n' + keys[p.i].join('\n')));
			root.append(g);
			topo.stages[p.i] = { g, x: p.x, w: p.w };
		}
	}
	topo.arrow = svg('g', { class: 'current-view' });
	root.append(topo.arrow);
	box.append(root);
	const details = el('div', { class: 'settings' });
	D.stages.forEach(s => details.append(el('details', {}, el('summary', { text: `${s.type} ${s.name}: every setting` }),
		el('pre', { text: s.settings.join('\n') }))));
	box.append(details);
}

function showOnTopology(i) {
	const s = steps[i];
	topo.links.forEach((l, k) => l.g.classList.toggle('current', k === s.link));
	const who = stageOfNote(s.notes.join(' '));
	topo.stages.forEach((st, k) => st.g.classList.toggle('current', k === who));
	const l = topo.links[s.link];
	topo.arrow.replaceChildren();
	if (!l) return;
	const right = travelsRight(i), y = 75, x0 = l.x + 25, x1 = l.x + l.w - 25;
	const [a, b] = right ? [x0, x1] : [x1, x0];
	topo.arrow.append(svg('line', { x1: a, y1: y, x2: b, y2: y }));
	topo.arrow.append(svg('polygon', { points: right ? `${b},${y} ${b - 10},${y - 6} ${b - 10},${y + 6}` :
		`${b},${y} ${b + 10},${y - 6} ${b + 10},${y + 6}` }));
	topo.arrow.append(svg('text', { x: l.x + l.w / 2, y: y + 52 }, 'step ' + s.n));
}

/* ---- the list of steps ---------------------------------------------------------------------------- */

let rows = [];

/* The list holds a row for every step, but only a window of them is displayed: the rows around
 * the scroll position, with two spacers that stand for the others.  A <table> of 20,000 rows took
 * 4 s to lay out the first time, and every step laid it out again (scrollIntoView: 50 ms);
 * content-visibility on blocks of rows was quick but painted stale rows in Chromium's headless
 * screenshots.  Rows have one height (page.css), so the n-th row the filters let through is n row
 * heights down; the scroller's height and position are remembered from its resize and scroll
 * events, and a step asks the browser for nothing. */
const WINDOW_MARGIN = 60;   /* rows displayed above and below the ones on screen */
const scroller = { box: null, rowH: 20, headH: 20, viewH: 0, top: 0, from: 0, to: 0 };

function measureSteps() {
	const box = $('steps-scroll');
	scroller.box = box;
	scroller.headH = document.querySelector('#steps .head').getBoundingClientRect().height;
	scroller.viewH = box.clientHeight;
	scroller.top = box.scrollTop;
	showWindow(true);
}

/* Display the rows of visible[from, to) and size the spacers for the rest.  Only the rows that
 * enter or leave the window change (all of them when the filters changed: again). */
function showWindow(again) {
	const onScreen = Math.ceil(scroller.viewH / scroller.rowH) + 1;
	const first = Math.max(0, Math.floor(Math.max(0, scroller.top - scroller.headH) / scroller.rowH));
	/* Still well inside the window (or against an end of the list): nothing to change. */
	const lo = scroller.from === 0 ? 0 : scroller.from + WINDOW_MARGIN / 2;
	const hi = scroller.to >= visible.length ? visible.length : scroller.to - WINDOW_MARGIN / 2;
	if (!again && first >= lo && first + onScreen <= hi) return;
	const from = Math.max(0, first - WINDOW_MARGIN), to = Math.min(visible.length, first + onScreen + WINDOW_MARGIN);
	if (again) {
		for (const r of rows) r.classList.add('far');
	} else {
		for (let k = scroller.from; k < scroller.to && k < visible.length; k++)
			if (k < from || k >= to) rows[visible[k]].classList.add('far');
	}
	for (let k = from; k < to; k++) rows[visible[k]].classList.remove('far');
	scroller.from = from;
	scroller.to = to;
	$('spacer-top').style.height = (from * scroller.rowH) + 'px';
	$('spacer-bottom').style.height = ((visible.length - to) * scroller.rowH) + 'px';
}

function keepInView(pos) {
	if (pos < 0) return;
	const top = scroller.headH + pos * scroller.rowH;
	let want = scroller.top;
	if (top - scroller.headH < scroller.top) want = top - scroller.headH;
	else if (top + scroller.rowH > scroller.top + scroller.viewH) want = top + scroller.rowH - scroller.viewH;
	if (want !== scroller.top) {
		scroller.top = want;
		showWindow(false);
		scroller.box.scrollTop = want;
	}
}

function fillSteps() {
	const html = [];
	for (let i = 0; i < steps.length; i++) {
		const s = steps[i];
		const cls = (s.origin === 'emitted' ? ' emitted' : '') + (/\bDROP\b/.test(s.notes.join(' ')) ? ' drop' : '');
		html.push(`<div data-i="${i}" class="step far${cls}" role="row"><span>${s.n}</span><span>${Number(s.t).toFixed(6)}</span>` +
			`<span>${esc(D.links[s.link].name)}</span><span>${esc(s.src ? endpoint(s.src, s.sp) : '')}</span>` +
			`<span>${esc(s.dst ? endpoint(s.dst, s.dp) : '')}</span><span>${esc(s.proto)}</span><span>${s.len}</span>` +
			`<span>${esc(summaryInfo(s))}</span><span class="comment">${esc(stageSentence(s))}</span></div>`);
	}
	const body = $('step-rows');
	body.innerHTML = html.join('');
	rows = Array.from(body.children);
	body.addEventListener('click', e => {
		const row = e.target.closest('.step');
		if (row) go(Number(row.dataset.i));
	});
}

/* ---- filters ------------------------------------------------------------------------------------------ */

let visible = steps.map((_, i) => i);   /* the steps the filters let through, in order */
let positionOf = new Int32Array(steps.length);

function flowLabel(f) {
	const s = steps[flowSteps.get(f)[0]];
	const ends = s.src ? `${s.proto} ${endpoint(s.src, s.sp)} \u2194 ${endpoint(s.dst, s.dp)}` : s.proto;
	return `flow #${f}: ${ends} (${flowSteps.get(f).length} views)`;
}

function fillFilters() {
	const links = $('filter-link');
	D.links.forEach((l, k) => { if (l.written) links.append(el('option', { value: String(k), text: l.name })); });
	const flows = $('filter-flow');
	for (const f of flowSteps.keys()) flows.append(el('option', { value: String(f), text: flowLabel(f) }));
	links.addEventListener('change', applyFilters);
	flows.addEventListener('change', applyFilters);
	$('filter-text').addEventListener('input', applyFilters);
	$('this-flow').addEventListener('click', () => {
		flows.value = flows.value === String(steps[current].flow) ? '' : String(steps[current].flow);
		applyFilters();
	});
}

function applyFilters() {
	const link = $('filter-link').value, flow = $('filter-flow').value;
	const words = $('filter-text').value.trim().toLowerCase().split(/\s+/).filter(w => w);
	visible = [];
	positionOf.fill(-1);
	for (let i = 0; i < steps.length; i++) {
		const s = steps[i];
		let ok = (link === '' || s.link === Number(link)) && (flow === '' || s.flow === Number(flow));
		if (ok && words.length) {
			const text = (s.notes.join(' ') + ' ' + s.info + ' ' + (s.http || '')).toLowerCase();
			ok = words.every(w => text.includes(w));
		}
		if (ok) { positionOf[i] = visible.length; visible.push(i); }
		rows[i].classList.toggle('hidden', !ok);
	}
	showWindow(true);
	$('filter-count').textContent = visible.length === steps.length ? '' :
		`${visible.length} of ${steps.length} steps match`;
	$('slider').max = String(Math.max(1, visible.length));
	if (visible.length && positionOf[current] < 0) {
		const after = visible.find(i => i > current);
		go(after !== undefined ? after : visible[visible.length - 1]);
	} else {
		go(current);
	}
}

/* ---- one step: summary, sentences, tables, events ------------------------------------------------- */

const FIELDS = [
	['Protocol', s => s.proto],
	['Source', s => s.src && endpoint(s.src, s.sp)],
	['Destination', s => s.dst && endpoint(s.dst, s.dp)],
	['Flags', s => s.flags],
	['Sequence', s => s.seq],
	['Acknowledgement', s => s.ack],
	['ICMP', s => s.icmp_type !== undefined ? `type ${s.icmp_type} code ${s.icmp_code}` +
		(s.icmp_id !== undefined ? ` id ${s.icmp_id}` : '') : undefined],
	['Length', s => s.len],
	['Ethernet source', s => s.esrc],
	['Ethernet destination', s => s.edst],
	['TTL', s => s.ttl],
	['IP id', s => s.ipid],
	['IP checksum', s => s.ipsum],
	['TCP/UDP/ICMP checksum', s => s.l4sum],
	['HTTP', s => s.http],
];

function showSummary(i) {
	const s = steps[i], p = prevInJourney[i], prev = p >= 0 ? steps[p] : null;
	const table = el('table', { class: 'fields' });
	for (const [name, get] of FIELDS) {
		const v = get(s);
		if (v === undefined || v === '') continue;
		const was = prev ? get(prev) : undefined;
		const changed = prev && was !== v;
		const td = el('td', { class: changed ? 'changed' : '', text: String(v) });
		if (changed) td.title = 'was ' + (was === undefined ? '(none)' : was) + ' at step ' + prev.n;
		table.append(el('tr', {}, el('th', { text: name }), td));
	}
	const where = el('p', { class: 'where' });
	where.textContent = `Frame ${s.n} on ${D.links[s.link].name}, ${Number(s.t).toFixed(6)} s, ` +
		(s.origin === 'emitted' ? 'a packet a stage sent itself' : 'from input packet ' + s.input) +
		(prev ? `; the same packet was step ${prev.n} on ${D.links[prev.link].name} (changed fields in colour)` :
			'; the first view of this packet');
	$('summary').replaceChildren(where, table);
	const list = el('ul', { class: 'notes' });
	for (const note of s.notes) list.append(el('li', { class: stageOfNote(note) >= 0 ? 'stage-note' : '', text: note }));
	if (!s.notes.length) list.append(el('li', { class: 'none', text: '(no comment on this frame)' }));
	$('sentences').replaceChildren(list);
}

function sameTuple(t, s) {
	return (t[0] === s.src && t[2] === s.dst && (s.sp === undefined || (t[1] === s.sp && t[3] === s.dp))) ||
		(t[0] === s.dst && t[2] === s.src && (s.sp === undefined || (t[1] === s.dp && t[3] === s.sp)));
}

function rowUsed(row, s) {
	if (!s.src) return false;
	if (s.icmp_id !== undefined) return [row.orig, row.reply].some(t => (t[0] === s.src || t[2] === s.src) &&
		(t[1] === s.icmp_id || t[3] === s.icmp_id) && (t[0] === s.dst || t[2] === s.dst));
	return sameTuple(row.orig, s) || sameTuple(row.reply, s);
}

/* The entries a step's comments name, per stage: "mapping #3", "flow #7", "connection #1" (a
 * proxy's "backend connection #2" is not an entry of its table). */
function namedEntries(s) {
	const named = new Set();
	for (const note of s.notes) {
		const who = stageOfNote(note);
		if (who < 0) continue;
		for (const m of note.matchAll(/(?<!backend )\b(?:mapping|flow|connection) #(\d+)/g)) named.add(D.stages[who].name + ' ' + m[1]);
	}
	return named;
}

function showTables(i) {
	const s = steps[i], box = $('tables');
	box.replaceChildren();
	const lim = D.limits;
	if (s.snap < 0) {
		const tableless = D.snapshots.length && D.snapshots.every(sn => !sn.stages.length);
		const why = lim.tables_until !== undefined && i >= lim.tables_until ?
			`The tables stop at step ${lim.tables_until} (${lim.tables_stop}; at most ${lim.max_table_rows} table rows on one page).` :
			tableless ? 'No stage of this scenario keeps a table.' : 'The tables are empty at this step: no entry has been made yet.';
		box.append(el('p', { class: 'none', text: why }));
		return;
	}
	const snap = D.snapshots[s.snap];
	const touched = new Map();   /* "stage id" -> event kind */
	for (const e of s.ev) if (D.events[e].id !== undefined) touched.set(D.events[e].stage + ' ' + D.events[e].id, D.events[e].kind);
	const named = namedEntries(s);
	const pre = el('div', { class: 'table-text' });
	pre.append(el('div', { class: 'head', text: snap.head }));
	if (snap.note) pre.append(el('div', { class: 'head', text: snap.note }));
	for (const st of snap.stages) {
		pre.append(el('div', { class: 'head', text: st.head }));
		let shown = 0, hidden = 0;
		for (const row of st.rows) {
			const kind = touched.get(st.name + ' ' + row.id);
			const used = rowUsed(row, s) || named.has(st.name + ' ' + row.id);
			if (shown >= MAX_TABLE_ROWS_SHOWN && !kind && !used) { hidden++; continue; }
			shown++;
			const line = el('div', { class: 'row' + (kind ? ' touched' : '') + (used ? ' used' : ''), text: row.text });
			if (kind || used) line.title = kind ? `this step: ${kind}` : 'the entry this step used or names';
			pre.append(line);
		}
		if (hidden) pre.append(el('div', { class: 'none', text: `\u2026 ${hidden} more entries (natlb tables --at ${s.at} prints them all)` }));
	}
	box.append(pre);
	box.append(el('p', { class: 'hint', text: `As \`natlb tables T.json --at ${s.at}\` prints it, for a replay with --tables T.json --tables-every change. ` +
		'Highlighted: the entry this step created or changed (filled); the entry its addresses and ports match, or its comment names (outlined).' }));
}

function showEvents(i) {
	const s = steps[i], box = $('events');
	box.replaceChildren();
	if (!s.ev.length) { box.append(el('p', { class: 'none', text: 'No table event at this step.' })); return; }
	const list = el('ul', { class: 'events' });
	for (const e of s.ev) list.append(el('li', { class: 'event ' + D.events[e].kind.replace(/ /g, '-'), text: D.events[e].text }));
	box.append(list);
}

/* ---- the ladder of the current flow ------------------------------------------------------------------- */

/* A flow of more views than MAX_LADDER_ROWS is drawn a window of that many at a time: the window
 * that holds the current step, so that stepping through a long connection reaches every view. */
let ladderFlow = -1, ladderWindow = -1;
const ladderArrow = new Map();   /* step -> its arrow's group */

function ladderColumns(flow) {
	const ids = flowSteps.get(flow);
	const hosts = [new Set(), new Set()];
	const last = D.links.length - 1;
	for (const i of ids) {
		const s = steps[i];
		if (!s.src) continue;
		if (s.link === 0) hosts[0].add(travelsRight(i) ? s.src : s.dst);
		if (s.link === last) hosts[1].add(travelsRight(i) ? s.dst : s.src);
	}
	const name = (set, fallback) => set.size ? clip(Array.from(set).slice(0, 2).join(', ') + (set.size > 2 ? ', \u2026' : ''), 34) : fallback;
	return [name(hosts[0], 'hosts on ' + D.links[0].name), ...D.stages.map(s => s.type + ' ' + s.name),
		name(hosts[1], 'hosts on ' + D.links[last].name)];
}

/* The ladder's own styles, for the SVG file it downloads as.  On the page the same rules are in
 * page.css: a <style> element inside the live SVG would be a style sheet of the whole document,
 * and redrawing it would restyle every row of the steps (40 ms at 20,000 steps). */
const LADDER_STYLE = `
text { font: 12px sans-serif; fill: #222; }
.col-head { font-weight: bold; text-anchor: middle; }
.life { stroke: #999; stroke-dasharray: 4 3; }
.arrow line { stroke: #2a5db0; stroke-width: 1.5; }
.arrow polygon { fill: #2a5db0; }
.arrow.drop line { stroke: #c0392b; } .arrow.drop polygon { fill: #c0392b; }
.arrow.current line { stroke: #e67e22; stroke-width: 3.5; } .arrow.current polygon { fill: #e67e22; }
.label { text-anchor: middle; font-size: 11px; }
.note { font-size: 10px; fill: #555; }
`;

function drawLadder(flow, win) {
	ladderFlow = flow;
	ladderWindow = win;
	ladderArrow.clear();
	const all = flowSteps.get(flow), from = win * MAX_LADDER_ROWS;
	const ids = all.slice(from, from + MAX_LADDER_ROWS);
	const cols = ladderColumns(flow), COL = 360, ROW = 36, TOP = 50;
	const width = COL * (cols.length - 1) + 200, height = TOP + ROW * ids.length + 30;
	const root = svg('svg', { xmlns: SVG_NS, viewBox: `0 0 ${width} ${height}`, width, height, id: 'ladder-svg' });
	const x = c => 100 + c * COL;
	cols.forEach((name, c) => {
		root.append(svg('text', { x: x(c), y: 20, class: 'col-head' }, name));
		root.append(svg('line', { x1: x(c), y1: 30, x2: x(c), y2: height - 10, class: 'life' }));
	});
	ids.forEach((i, r) => {
		const s = steps[i], y = TOP + r * ROW + 10;
		const right = travelsRight(i);
		const [a, b] = right ? [x(s.link), x(s.link + 1)] : [x(s.link + 1), x(s.link)];
		const drop = /\bDROP\b/.test(s.notes.join(' '));
		const g = svg('g', { class: 'arrow' + (drop ? ' drop' : ''), 'data-step': String(s.n) });
		const tip = drop ? (a + b) / 2 : b;
		g.append(svg('line', { x1: a, y1: y, x2: tip, y2: y }));
		const d = right ? -8 : 8;
		g.append(svg('polygon', { points: `${tip},${y} ${tip + d},${y - 5} ${tip + d},${y + 5}` }));
		g.append(svg('text', { x: (a + b) / 2, y: y - 5, class: 'label' },
			clip(`${s.n}: ${s.src ? endpoint(s.src, s.sp) + ' \u2192 ' + endpoint(s.dst, s.dp) : s.proto} ${s.http || (s.flags ? '[' + s.flags + ']' : '')}`, 58)));
		const who = stageOfNote(s.notes.join(' '));
		const sentence = s.notes.find(n => stageOfNote(n) >= 0);
		if (who >= 0 && sentence) {
			/* Written at the stage that made it, on the side of the arrow it explains. */
			const after = s.link === who + 1;
			const t = svg('text', { x: x(who + 1) + (after ? 6 : -6), y: y + 13, class: 'note', 'text-anchor': after ? 'start' : 'end' },
				clip(sentence.slice(sentence.indexOf(stagePrefix[who]) + stagePrefix[who].length), 56));
			t.append(svg('title', {}, sentence));
			g.append(t);
		}
		g.append(svg('title', {}, `frame ${s.n}\n${s.notes.join('\n')}`));
		g.addEventListener('click', () => go(i));
		root.append(g);
		ladderArrow.set(i, g);
	});
	const hint = el('p', { class: 'hint', text: `${flowLabel(flow)}: one arrow per view, one column per host side and stage; ` +
		`in Wireshark, frame.comment contains "flow #${flow} |"` +
		(all.length > MAX_LADDER_ROWS ? `; views ${from + 1}-${from + ids.length} of ${all.length} here, ` +
			`${MAX_LADDER_ROWS} at a time (the ladder follows the step)` : '') + '.' });
	hint.id = 'ladder-hint';
	const box = $('ladder');
	box.replaceChildren(hint);
	if (all.length > MAX_LADDER_ROWS) {
		const last = Math.floor((all.length - 1) / MAX_LADDER_ROWS);
		const to = w => () => go(all[w * MAX_LADDER_ROWS]);
		const earlier = el('button', { id: 'ladder-earlier', text: win === 0 ? '\u2190 earlier views' :
			`\u2190 views ${from - MAX_LADDER_ROWS + 1}-${from}` });
		const later = el('button', { id: 'ladder-later', text: win === last ? 'later views \u2192' :
			`views ${from + ids.length + 1}-${Math.min(all.length, from + ids.length + MAX_LADDER_ROWS)} \u2192` });
		earlier.disabled = win === 0;
		later.disabled = win === last;
		earlier.addEventListener('click', to(win - 1));
		later.addEventListener('click', to(win + 1));
		box.append(el('p', { class: 'hint' }, earlier, ' ', later));
	}
	box.append(root);
}

function showLadder(i) {
	const win = Math.floor(placeInFlow[i] / MAX_LADDER_ROWS);
	if (steps[i].flow !== ladderFlow || win !== ladderWindow) drawLadder(steps[i].flow, win);
	for (const [k, g] of ladderArrow) g.classList.toggle('current', k === i);
}

/* The ladder as a file of its own: the live SVG with its styles inside, as XML. */
function ladderSvgText() {
	const node = $('ladder-svg');
	if (!node) return null;
	const copy = node.cloneNode(true);
	copy.prepend(svg('style', {}, LADDER_STYLE));
	return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
}

function downloadLadder() {
	const text = ladderSvgText();
	if (!text) return;
	const a = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' })), download: `natlb-flow-${ladderFlow}.svg` });
	document.body.append(a);
	a.click();
	a.remove();
}

/* ---- the summary ---------------------------------------------------------------------------------------- */

function barChart(title, items) {
	const max = Math.max(1, ...items.map(it => it.n)), W = 300, BAR = 18;
	const root = svg('svg', { width: W + 280, height: 24 + BAR * items.length, class: 'bars' });
	root.append(svg('text', { x: 0, y: 14, class: 'chart-title' }, title));
	items.forEach((it, k) => {
		const y = 22 + k * BAR;
		root.append(svg('text', { x: 0, y: y + 12 }, clip(it.label, 34)));
		root.append(svg('rect', { x: 240, y, width: Math.max(2, W * it.n / max), height: BAR - 4 }));
		root.append(svg('text', { x: 246 + W * it.n / max, y: y + 12 }, String(it.n)));
		if (it.title) root.lastChild.append(svg('title', {}, it.title));
	});
	return root;
}

function entriesOverSteps(name) {
	const W = 560, H = 80;
	const counts = steps.map(s => {
		if (s.snap < 0) return 0;
		const st = D.snapshots[s.snap].stages.find(x => x.name === name);
		return st ? st.rows.length : 0;
	});
	const max = Math.max(1, ...counts);
	const root = svg('svg', { width: W + 60, height: H + 30, class: 'sparkline' });
	root.append(svg('text', { x: 0, y: 12, class: 'chart-title' }, `${name}: entries in the table at each step (most ${max})`));
	const pts = counts.map((c, k) => `${(k / Math.max(1, counts.length - 1)) * W},${20 + H - (c / max) * H}`).join(' ');
	root.append(svg('polyline', { points: pts }));
	return root;
}

/* What each change of a balancer's targets moved, in percent: of the live flows, those the hash now
 * sends to another target (the flow table keeps them where they are), and of the lookup, the slots
 * (Maglev) or sampled hashes (the other algorithms) that now give another target.  The dashed line
 * is the least share any algorithm has to move: 1/N, or by weight.  Maglev stays near it; modulo
 * moves most of the lookup (Maglev, NSDI 2016, section 3.4). */
function changesChart(st) {
	const W = 300, ROW = 18, X = 300;
	const rows = st.changes.flatMap(c => [
		{ c, label: 'live flows the hash now sends elsewhere', n: c.remapped, of: c.live },
		{ c, label: `${c.unit} that now give another target`, n: c.changed, of: c.size }]);
	const height = 24 + st.changes.length * (2 * ROW + 20);
	const root = svg('svg', { width: X + W + 190, height, class: 'bars changes' });
	root.append(svg('text', { x: 0, y: 14, class: 'chart-title' }, `${st.name}: what each change of its targets moved`));
	let y = 24;
	for (const c of st.changes) {
		const label = svg('text', { x: 0, y: y + 12, class: 'change-title' }, `${Number(c.at).toFixed(3)} s: ${c.kind} ${c.target}`);
		label.addEventListener('click', () => { const i = steps.findIndex(s => Number(s.at) >= Number(c.at)); if (i >= 0) go(i); });
		label.append(svg('title', {}, 'Go to the first step at or after this change'));
		root.append(label);
		y += 18;
		const ideal = c.ideal_den ? c.ideal_num / c.ideal_den : 0;
		for (const r of rows.filter(r => r.c === c)) {
			const share = r.of ? r.n / r.of : 0;
			root.append(svg('text', { x: 8, y: y + 12 }, r.label));
			root.append(svg('rect', { x: X, y, width: Math.max(2, W * share), height: ROW - 4 }));
			root.append(svg('text', { x: X + W * share + 6, y: y + 12 }, `${r.n} of ${r.of} (${(100 * share).toFixed(1)}%)`));
			y += ROW;
		}
		root.append(svg('line', { x1: X + W * ideal, x2: X + W * ideal, y1: y - 2 * ROW - 2, y2: y, class: 'ideal' }));
		root.append(svg('text', { x: X + W * ideal + 3, y: y - 2 * ROW - 4, class: 'ideal-label' }, `least possible ${(100 * ideal).toFixed(1)}%`));
		y += 2;
	}
	root.dataset.stage = st.name;
	return root;
}

function drawStats() {
	const box = $('stats');
	const table = el('table', { class: 'stats' });
	table.append(el('tr', {}, ...['stage', 'in', 'forwarded', 'dropped', 'consumed', 'emitted', 'bypassed'].map(h => el('th', { text: h }))));
	for (const st of D.stats.stages)
		table.append(el('tr', {}, el('td', { text: `${st.type} ${st.name}` }),
			...['in', 'forwarded', 'dropped', 'consumed', 'emitted', 'bypassed'].map(k => el('td', { text: String(st[k]) }))));
	box.append(table);
	const drops = D.stats.stages.flatMap(st => st.drops.map(d => ({ label: `${st.name}: ${d.name}`, n: d.n, title: d.text })));
	box.append(drops.length ? barChart('Drops by reason', drops) : el('p', { class: 'none', text: 'No stage dropped a packet.' }));
	for (const st of D.stats.stages) {
		const assigned = new Map();
		for (const e of D.events) if (e.stage === st.name && e.kind === 'assigned' && e.why) assigned.set(e.why, (assigned.get(e.why) || 0) + 1);
		if (assigned.size) box.append(barChart(`${st.name}: flows assigned per target`, Array.from(assigned, ([label, n]) => ({ label, n }))));
		const moved = D.events.filter(e => e.stage === st.name && e.kind === 'moved').length;
		if (moved) box.append(el('p', { text: `${st.name}: ${moved} flows moved to another target (see the events).` }));
		if (st.changes && st.changes.length) box.append(changesChart(st));
		if (D.snapshots.some(sn => sn.stages.some(x => x.name === st.name))) box.append(entriesOverSteps(st.name));
	}
	box.append(el('details', {}, el('summary', { text: 'natlb replay --stats' }), el('pre', { text: D.stats.text })));
}

/* ---- moving between steps ------------------------------------------------------------------------------- */

let current = 0, playing = null;

function go(i) {
	if (!steps.length) return;
	i = Math.max(0, Math.min(steps.length - 1, i));
	if (rows[current]) rows[current].classList.remove('current');
	current = i;
	const s = steps[i];
	rows[i].classList.add('current');
	const pos = positionOf[i];
	keepInView(pos);
	$('slider').value = String(pos >= 0 ? pos + 1 : 1);
	$('position').textContent = `step ${s.n} of ${steps.length}` + (D.limits.views > steps.length ? ` (${D.limits.views} views in the output)` : '');
	$('step-number').textContent = s.n;
	showOnTopology(i);
	showSummary(i);
	showTables(i);
	showEvents(i);
	showLadder(i);
	const params = new URLSearchParams(location.hash.slice(1));
	if (params.get('step') !== String(s.n)) {
		params.set('step', String(s.n));
		try { history.replaceState(null, '', '#' + params.toString()); } catch (e) { /* a file: URL some browsers refuse */ }
	}
}

function move(delta) {
	if (!visible.length) return;
	let pos = positionOf[current];
	if (pos < 0) pos = delta > 0 ? -1 : visible.length;
	pos = Math.max(0, Math.min(visible.length - 1, pos + delta));
	go(visible[pos]);
}

function play() {
	if (playing) { clearInterval(playing); playing = null; $('play').textContent = '\u25B6 Play'; return; }
	$('play').textContent = '\u2016 Pause';
	playing = setInterval(() => {
		if (positionOf[current] >= visible.length - 1) { play(); return; }
		move(1);
	}, PLAY_MS);
}

function fragment() {
	const params = new URLSearchParams(location.hash.slice(1));
	return { step: Number(params.get('step')) || 1, bench: Number(params.get('bench')) || 0, words: params.get('words'),
	         svg: params.get('svg') === '1' };
}

function bindControls() {
	$('first').addEventListener('click', () => go(visible[0]));
	$('last').addEventListener('click', () => go(visible[visible.length - 1]));
	$('prev').addEventListener('click', () => move(-1));
	$('next').addEventListener('click', () => move(1));
	$('play').addEventListener('click', play);
	$('slider').addEventListener('input', e => go(visible[Number(e.target.value) - 1]));
	$('ladder-download').addEventListener('click', downloadLadder);
	document.addEventListener('keydown', e => {
		if (e.target.closest('input, select, textarea') && e.target.type !== 'range') return;
		const keys = { ArrowRight: () => move(1), ArrowDown: () => move(1), ArrowLeft: () => move(-1), ArrowUp: () => move(-1),
			Home: () => go(visible[0]), End: () => go(visible[visible.length - 1]), ' ': play };
		if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
	});
	window.addEventListener('hashchange', () => go(fragment().step - 1));
}

/* #step=N&bench=K: K steps forward from N, timed; the figures go into #bench for the browser test. */
function bench(k) {
	const times = [];
	for (let n = 0; n < k && current < steps.length - 1; n++) {
		const t0 = performance.now();
		go(current + 1);
		times.push(performance.now() - t0);
	}
	times.sort((a, b) => a - b);
	const out = el('pre', { id: 'bench' });
	out.textContent = `steps ${times.length} max_ms ${times[times.length - 1].toFixed(2)} ` +
		`median_ms ${times[times.length >> 1].toFixed(2)} of ${steps.length} page_ready_ms ${readyMs.toFixed(0)}`;
	document.body.append(out);
}

function showHeader() {
	$('source').textContent = `Scenario ${D.scenario.source}: ${D.links.length} links, ${D.stages.length} stages, ` +
		`${steps.length} steps. Keys: \u2190 \u2192 step, Space plays, Home/End; the address #step=N opens at step N.`;
	const lim = D.limits;
	const warn = [];
	if (lim.views > lim.steps) warn.push(`The replay wrote ${lim.views} views; this page keeps the first ${lim.steps} ` +
		`(--html-max-views ${lim.max_views}). Frames after ${lim.steps} are only in the pcapng.`);
	if (lim.tables_until !== undefined && lim.tables_until < lim.steps) warn.push(`The tables stop at step ${lim.tables_until} (${lim.tables_stop}).`);
	if (warn.length) { $('limits').hidden = false; $('limits').textContent = warn.join(' '); }
}

let readyMs = 0;   /* from the start of the navigation to the first step drawn */

function start() {
	showHeader();
	drawTopology();
	fillSteps();
	fillFilters();
	bindControls();
	drawStats();
	positionOf = new Int32Array(steps.length).map((_, i) => i);
	measureSteps();
	$('steps-scroll').addEventListener('scroll', e => {
		scroller.top = e.target.scrollTop;
		showWindow(false);
	}, { passive: true });
	window.addEventListener('resize', measureSteps);
	$('slider').max = String(Math.max(1, steps.length));
	if (!steps.length) { $('summary').textContent = 'The replay wrote no view.'; return; }
	const f = fragment();
	go(f.step - 1);
	readyMs = performance.now();
	if (f.words) { $('filter-text').value = f.words; applyFilters(); }
	if (f.bench) bench(f.bench);
	if (f.svg) { /* what the download button saves, for the browser test to read */
		const out = el('pre', { id: 'svg-file' });
		out.textContent = ladderSvgText() || '';
		document.body.append(out);
	}
}

window.addEventListener('error', e => {
	const p = el('p', { class: 'warning', id: 'script-error', text: 'Page script error: ' + e.message });
	document.body.prepend(p);
});
start();
