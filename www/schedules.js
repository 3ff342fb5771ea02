// SPDX-License-Identifier: Apache-2.0
// Schedules: the node's schedules (GET /schedules) with their next slots and last fired slot,
// and one schedule (#/schedule/<name>) with its slot history; each can be paused, resumed, run
// now and deleted, every action after a confirmation. Schedules are created through the API
// only. Refreshed every 5 s.

import { get, post } from './api.js';
import { el, fill, note, badge, when, heading, table, section } from './dom.js';
import { poll_start, poll_now } from './poll.js';

const REFRESH_MS = 5000;

// What each action asks before it is sent.
const ASK = {
	pause: (n) =>
		'Pause schedule ' + n + '? Its slots are neither fired nor missed until it is resumed.',
	resume: (n) => 'Resume schedule ' + n + '? It fires again from its next slot.',
	run: (n) => 'Run schedule ' + n + ' now? The current second becomes one of its slots.',
	delete: (n) => 'Delete schedule ' + n + ' and its slot history? Its jobs stay.',
};

// A slot (ISO 8601 UTC) in the browser's local time, the UTC time in its title.
function slot_time(iso) {
	if (!iso) return '—';
	const utc = iso.replace('T', ' ').replace('Z', ' UTC');
	return el('time', { datetime: iso, title: utc }, when(iso));
}

// A job's first 12 digits, a link to its page.
function job_link(id) {
	if (!id) return null;
	return el('a', { href: '#/job/' + id, title: id }, el('code', {}, id.slice(0, 12)));
}

function next_slots(s) {
	if (s.paused) return 'none while paused';
	if (!s.nextSlots.length) return '—';
	return el(
		'ul.slots',
		{},
		s.nextSlots.slice(0, 3).map((iso) => el('li', {}, slot_time(iso))),
	);
}

function last_slot(s) {
	if (!s.lastSlot) return '—';
	return el(
		'span',
		{},
		slot_time(s.lastSlot),
		s.lastJobId ? [' ', job_link(s.lastJobId), ' ', badge(s.lastJobState)] : null,
	);
}

// The buttons of schedule s; act(verb, name) sends one.
function buttons(s, act) {
	const n = s.name;
	const button = (verb, key, text, label) =>
		el(
			'button',
			{
				type: 'button',
				'data-key': key + '-' + n,
				'aria-label': label,
				onclick: () => act(verb, n),
			},
			text,
		);
	const toggle = s.paused ? 'resume' : 'pause';
	return el(
		'div.actions.row-actions',
		{},
		// one key for both words, so that the focus stays on the button it changes
		button(
			toggle,
			'state',
			s.paused ? 'Resume…' : 'Pause…',
			(s.paused ? 'Resume' : 'Pause') + ' schedule ' + n,
		),
		button('run', 'run', 'Run now…', 'Run now, schedule ' + n),
		button('delete', 'delete', 'Delete…', 'Delete schedule ' + n),
	);
}

// An action after its confirmation; the API's answer goes into msg (an aria-live container),
// with a link to the job a run fired.
function action(msg) {
	return async (verb, name) => {
		if (!window.confirm(ASK[verb](name))) return;
		const r = await post('/schedules/' + verb, { name });
		const fired = verb !== 'run' || r.body.result === 'fired';
		const text = r.body.message + (r.body.reason ? ': ' + r.body.reason : '');
		fill(
			msg,
			note(r.status === 200 && fired ? 'ok' : 'error', text),
			r.body.jobId
				? el('p', {}, el('a', { href: '#/job/' + r.body.jobId }, 'Open the job'))
				: null,
		);
		// the deleted schedule's buttons go with the refresh: the focus goes to the heading
		if (verb === 'delete' && r.status === 200) document.getElementById('page-title').focus();
		poll_now();
	};
}

function list_table(list, act) {
	// few columns, two values in some, so that the job name keeps room on a laptop's screen
	const cols = [
		'Name',
		'Cron, time zone',
		'Job name',
		'State',
		'Next slots',
		'Last slot',
		'Policies',
		'Actions',
	];
	return table('schedules', cols, list, (s) => [
		el(
			'a',
			{ href: '#/schedule/' + encodeURIComponent(s.name), 'data-key': 'open-' + s.name },
			s.name,
		),
		el('span', {}, el('code', {}, s.cron), el('span.small.block', {}, s.timezone)),
		// any string: it may break anywhere rather than widen the table past the page
		el('span.wrap', {}, s.jobName),
		badge(s.paused ? 'paused' : 'active'),
		next_slots(s),
		last_slot(s),
		el(
			'span',
			{},
			el('span.block', {}, 'overlap ' + s.overlap),
			el('span.block', {}, 'catch-up ' + s.catchUp),
		),
		buttons(s, act),
	]);
}

export function schedules_show(main) {
	const msg = el('div', { 'aria-live': 'polite' });
	const list = el('div');
	main.append(
		heading('Schedules'),
		el(
			'p.small',
			{},
			'Times are in your time zone; pointing at one shows it in UTC. Schedules are ' +
				'created through the API (POST /schedules/set).',
		),
		msg,
		list,
	);
	const act = action(msg);

	async function refresh() {
		const r = await get('/schedules');
		if (r.status !== 200) {
			fill(list, note('error', r.body.message));
			return;
		}
		const s = r.body.schedules;
		fill(list, s.length ? list_table(s, act) : el('p', {}, 'No schedules.'));
	}
	poll_start(refresh, REFRESH_MS);
}

// The schedule's definition and state as a description list.
function schedule_list(s) {
	const row = (k, ...v) => [el('dt', {}, k), el('dd', {}, ...v)];
	return el(
		'dl.entry',
		{},
		row('Name', s.name),
		row('Cron', el('code.wrap', {}, s.cron)),
		row('Time zone', s.timezone),
		row('Job name', s.jobName),
		row('Factfile', el('code.wrap', {}, s.factfilePath)),
		row(
			'Arguments',
			s.factfileArgs.length
				? el('code.wrap', {}, s.factfileArgs.map((a) => JSON.stringify(a)).join(' '))
				: '—',
		),
		row('Overlap', s.overlap),
		row('Catch-up', String(s.catchUp)),
		row('State', badge(s.paused ? 'paused' : 'active')),
		row('Next slots', next_slots(s)),
		row('Last slot', last_slot(s)),
	);
}

function history_table(h) {
	const cols = ['Slot', 'Result', 'Reason', 'Job', 'Count', 'Recorded'];
	return table('slots', cols, h, (x) => [
		slot_time(x.slot),
		badge(x.result),
		x.reason,
		job_link(x.jobId),
		String(x.count),
		when(x.recorded),
	]);
}

export function schedule_show(main, name) {
	const msg = el('div', { 'aria-live': 'polite' });
	const info = el('div');
	const actions = el('div');
	const history = el('div');
	main.append(
		heading('Schedule ' + name),
		el('p', {}, el('a', { href: '#/schedules' }, 'All schedules')),
		msg,
		info,
		actions,
		section('h-slots', 'Slot history', history),
	);
	const act = action(msg);

	async function refresh() {
		const r = await get('/schedules', { name });
		if (r.status !== 200) {
			fill(info, note('error', r.body.message));
			fill(actions);
			fill(history);
			return;
		}
		fill(info, schedule_list(r.body));
		fill(actions, buttons(r.body, act));
		fill(
			history,
			r.body.history.length ? history_table(r.body.history) : el('p', {}, 'No slot yet.'),
		);
	}
	poll_start(refresh, REFRESH_MS);
}
