// SPDX-License-Identifier: Apache-2.0
// Overview: the node's state with the run/drain toggle, workers, queue, health, uptime, the most
// recent jobs and the outcome chart; refreshed every 5 s from /status, /health, /jobs, /stats.

import { get, post } from './api.js';
import { el, fill, note, badge, heading, section } from './dom.js';
import { poll_start, poll_now } from './poll.js';
import { chart_draw } from './chart.js';

const REFRESH_MS = 5000;
const RECENT = 10;

// A labelled number with a bar for part of whole.
function gauge(label, part, whole) {
	const bar = el('span.gauge-fill');
	const pct = whole > 0 ? Math.min(100, (100 * part) / whole) : 0;
	bar.style.width = pct + '%';
	return el(
		'div.card',
		{},
		el('h2', {}, label),
		el('p.big', {}, part + ' of ' + whole),
		el('span.gauge', { 'aria-hidden': 'true' }, bar),
	);
}

function card(label, ...body) {
	return el('div.card', {}, el('h2', {}, label), ...body);
}

function health_word(ok, text) {
	return el('span.badge.' + (ok ? 'b-succeeded' : 'b-failed'), {}, text);
}

// The worker's and Consul's words from /status, and /health's message.
function health_card(s, he) {
	const w = s.worker || {};
	const c = s.consul || {};
	let worker = 'running';
	if (!w.alive) worker = 'not running';
	else if (w.runner !== 'ok') worker = 'runner missing';
	let consul = el('span.badge.b-none', {}, 'disabled');
	if (c.enabled) {
		const word = !c.reachable ? 'unreachable' : c.session ? 'ok' : 'no session';
		consul = health_word(word === 'ok', word);
	}
	return card(
		'Health',
		el('p', {}, health_word(he.status === 200, he.body.message || 'unknown')),
		el('p', {}, 'Worker: ', health_word(worker === 'running', worker)),
		el('p', {}, 'Consul: ', consul),
	);
}

export function overview_show(main) {
	let bucket = 'minute';
	const msg = el('div', { 'aria-live': 'polite' });
	const cards = el('div.cards');
	const recent = el('div');
	const chart = el('div');
	const pick = (b) => () => {
		bucket = b;
		for (const x of buttons.children)
			x.setAttribute('aria-pressed', String(x.dataset.bucket === b));
		poll_now();
	};
	const buttons = el(
		'div.seg',
		{ role: 'group', 'aria-label': 'Chart buckets' },
		el(
			'button',
			{
				type: 'button',
				'data-bucket': 'minute',
				'aria-pressed': 'true',
				onclick: pick('minute'),
			},
			'Per minute',
		),
		el(
			'button',
			{
				type: 'button',
				'data-bucket': 'hour',
				'aria-pressed': 'false',
				onclick: pick('hour'),
			},
			'Per hour',
		),
	);
	main.append(
		heading('Overview'),
		msg,
		cards,
		section('h-chart', 'Outcomes over time', buttons, chart),
		section('h-recent', 'Recent jobs', recent),
	);

	async function toggle(state) {
		const next = state === 'run' ? 'drain' : 'run';
		const ask =
			next === 'drain'
				? 'Drain this node? It will refuse new jobs and finish the queued and running ones.'
				: 'Set this node back to run? It will accept new jobs again.';
		if (!window.confirm(ask)) return;
		const r = await post('/settings', { state: next });
		fill(msg, note(r.status === 200 ? 'ok' : 'error', r.body.message));
		poll_now();
	}

	async function refresh() {
		const [st, he, jobs, stats] = await Promise.all([
			get('/status'),
			get('/health'),
			get('/jobs', { limit: RECENT }),
			get('/stats', { bucket }),
		]);
		if (st.status !== 200) {
			fill(cards, note('error', st.body.message));
		} else {
			const s = st.body,
				w = s.dispatcher.workers,
				q = s.dispatcher.jobs;
			const state = s.server.state;
			fill(
				cards,
				card(
					'Node state',
					el('p.big', {}, badge(state)),
					el(
						'button',
						{
							type: 'button',
							'data-key': 'toggle',
							onclick: () => toggle(state),
						},
						state === 'run' ? 'Drain…' : 'Run…',
					),
				),
				gauge('Workers busy', w.active, w.total),
				gauge('Queue', q.inQueue, q.maxQueueSize),
				health_card(s, he),
				card(
					'Uptime',
					el('p', {}, s.server.upTime),
					el(
						'p.small',
						{},
						'since ' +
							s.server.startTime +
							' · version ' +
							s.version,
					),
				),
			);
		}
		if (stats.status === 200) fill(chart, chart_draw(stats.body));
		else fill(chart, note('error', stats.body.message));
		if (jobs.status !== 200) {
			fill(recent, note('error', jobs.body.message));
		} else if (!jobs.body.jobs.length) {
			fill(
				recent,
				el(
					'p',
					{},
					'No jobs yet. ',
					el('a', { href: '#/submit' }, 'Submit one'),
				),
			);
		} else {
			fill(
				recent,
				el(
					'ul.recent',
					{},
					jobs.body.jobs.map((j) =>
						el(
							'li',
							{},
							el(
								'a',
								{
									href:
										'#/job/' +
										j.jobRequest.jobId,
									'data-key': j.jobRequest
										.jobId,
								},
								j.jobRequest.jobName,
							),
							' ',
							badge(j.state),
							' ',
							badge(j.lastOutcome),
						),
					),
				),
				el('p', {}, el('a', { href: '#/jobs' }, 'All jobs')),
			);
		}
	}
	poll_start(refresh, REFRESH_MS);
}
