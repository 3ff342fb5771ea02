// SPDX-License-Identifier: Apache-2.0
// The factfile's task graph as SVG: tasks in layers (a task one layer below its deepest
// dependency), ordered in each layer by the mean position of their dependencies, edges as
// curves. Task states come from the run's log, where the runner writes one line when a task
// starts and one when it succeeds or fails.

import { el, svg } from './dom.js';

const NW = 150,
	NH = 34,
	GX = 24,
	GY = 46,
	MAX_TASKS = 400;

// The state of each task named in the log text: running, succeeded or failed.
export function dag_states(log) {
	const st = new Map();
	const re = /^Task '(.*)'(: succeeded after |: failed after | was started at )/;
	for (const line of log.split('\n')) {
		const m = re.exec(line);
		if (!m) continue;
		const word =
			m[2] === ' was started at '
				? 'running'
				: m[2] === ': succeeded after '
					? 'succeeded'
					: 'failed';
		if (word !== 'running' || !st.has(m[1])) st.set(m[1], word);
	}
	return st;
}

// Layers by longest path from a task without dependencies (Kahn's order, so a cycle, which
// validation refuses anyway, leaves its tasks out). Returns [[index...]...].
function layers(tasks) {
	const idx = new Map(tasks.map((t, i) => [t.name, i]));
	const kids = tasks.map(() => []);
	const pending = tasks.map(() => 0);
	tasks.forEach((t, i) => {
		for (const d of t.dependsOn || []) {
			if (idx.has(d)) {
				kids[idx.get(d)].push(i);
				pending[i]++;
			}
		}
	});
	const depth = tasks.map(() => 0);
	const queue = tasks.map((_, i) => i).filter((i) => pending[i] === 0);
	for (let h = 0; h < queue.length; h++) {
		const u = queue[h];
		for (const k of kids[u]) {
			depth[k] = Math.max(depth[k], depth[u] + 1);
			if (--pending[k] === 0) queue.push(k);
		}
	}
	const out = [];
	for (const u of queue) (out[depth[u]] = out[depth[u]] || []).push(u);
	return { out, idx };
}

// A label cut to fit a box.
function cut(s) {
	return s.length > 20 ? s.slice(0, 19) + '…' : s;
}

// factfile: the factfile's JSON ({schema, data: {name, tasks}}); states: dag_states of the run's
// log, or null when there is no log; done: the job is DONE. Returns the figure with its legend.
export function dag_draw(factfile, states, done) {
	const data = (factfile && factfile.data) || {};
	const tasks = Array.isArray(data.tasks) ? data.tasks : [];
	if (!tasks.length) return el('p', {}, 'The factfile has no tasks.');
	if (tasks.length > MAX_TASKS)
		return el(
			'p',
			{},
			'The factfile has ' +
				tasks.length +
				' tasks; graphs of more than ' +
				MAX_TASKS +
				' are not drawn.',
		);
	const { out, idx } = layers(tasks);
	const pos = new Map();
	out.forEach((layer, d) => {
		if (d > 0) {
			const mean = (i) => {
				const ds = (tasks[i].dependsOn || []).filter((x) =>
					pos.has(idx.get(x)),
				);
				return (
					ds.reduce((n, x) => n + pos.get(idx.get(x)).x, 0) /
					Math.max(1, ds.length)
				);
			};
			const m = new Map(layer.map((i) => [i, mean(i)]));
			layer.sort((a, b) => m.get(a) - m.get(b));
		}
		layer.forEach((i, k) => pos.set(i, { x: k * (NW + GX), y: d * (NH + GY) }));
	});
	const width = Math.max(1, ...out.map((l) => l.length)) * (NW + GX) - GX;
	const height = out.length * (NH + GY) - GY;
	// a layer narrower than the widest is centred
	out.forEach((l) => {
		const shift = (width - (l.length * (NW + GX) - GX)) / 2;
		for (const i of l) pos.get(i).x += shift;
	});
	const state = (t) => {
		const s = states && states.get(t.name);
		if (s) return s === 'running' && done ? 'ended' : s;
		return states ? (done ? 'not-run' : 'waiting') : 'unknown';
	};
	const edges = [],
		nodes = [];
	tasks.forEach((t, i) => {
		const p = pos.get(i);
		if (!p) return;
		for (const d of t.dependsOn || []) {
			const q = pos.get(idx.get(d));
			if (!q) continue;
			const x1 = q.x + NW / 2,
				y1 = q.y + NH,
				x2 = p.x + NW / 2,
				y2 = p.y;
			edges.push(
				svg('path', {
					class: 'edge',
					d: `M${x1},${y1} C${x1},${y1 + GY / 2} ${x2},${y2 - GY / 2} ${x2},${y2}`,
				}),
			);
		}
		const s = state(t);
		nodes.push(
			svg(
				'g',
				{ class: 'task t-' + s, transform: `translate(${p.x},${p.y})` },
				svg('title', {}, t.name + ': ' + s.replace('-', ' ')),
				svg('rect', { width: NW, height: NH, rx: 5 }),
				svg(
					'text',
					{ x: NW / 2, y: NH / 2 + 4, 'text-anchor': 'middle' },
					cut(t.name),
				),
			),
		);
	});
	const pic = svg(
		'svg',
		{
			class: 'dag',
			width: width + 2,
			height: height + 2,
			viewBox: `-1 -1 ${width + 2} ${height + 2}`,
			role: 'img',
			'aria-label':
				'Task graph of ' +
				tasks.length +
				' tasks in ' +
				out.length +
				' layers',
		},
		edges,
		nodes,
	);
	const words = states
		? ['waiting', 'running', 'succeeded', 'failed', 'ended', 'not-run']
		: ['unknown'];
	const legend = el(
		'ul.legend',
		{ 'aria-label': 'Colours' },
		words.map((w) =>
			el(
				'li',
				{},
				el('span.swatch.t-' + w, { 'aria-hidden': 'true' }),
				w.replace('-', ' '),
			),
		),
	);
	return el(
		'div',
		{},
		el(
			'div.dag-box',
			{ tabindex: '0', role: 'group', 'aria-label': 'Task graph (scrolls)' },
			pic,
		),
		legend,
		el(
			'p.small',
			{},
			states
				? 'States from the last run\'s log ("ended": started, no result line, e.g. a task that ' +
						'ended the job early or a run that was stopped).'
				: 'No log of a run on this node: tasks are not coloured.',
		),
		el(
			'details',
			{},
			el('summary', {}, 'The tasks as a list'),
			el(
				'ul.tasklist',
				{},
				tasks.map((t) =>
					el(
						'li',
						{},
						el('code', {}, t.name),
						' ',
						state(t).replace('-', ' '),
						(t.dependsOn || []).length
							? ' · after ' + t.dependsOn.join(', ')
							: '',
					),
				),
			),
		),
	);
}
