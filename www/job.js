// SPDX-License-Identifier: Apache-2.0
// Job detail: the entry, cancel and resubmit, the run history, the factfile's task graph and
// the log tail; refreshed every 2 s until the job is DONE, every 10 s after.

import { get, post } from './api.js';
import { el, fill, note, badge, when, duration, heading, table, section } from './dom.js';
import { poll_start, poll_now } from './poll.js';
import { dag_draw, dag_states } from './dag.js';

const LIVE_MS = 2000,
	DONE_MS = 10000;
const LOG_TAIL = 65536;

// The entry's fields as a description list, the original server's first.
function entry_list(j) {
	const r = j.jobRequest;
	const row = (k, ...v) => [el('dt', {}, k), el('dd', {}, ...v)];
	return el(
		'dl.entry',
		{},
		row('Name', r.jobName),
		row('Id', el('code.wrap', {}, r.jobId)),
		row('State', badge(j.state)),
		row('Outcome', badge(j.lastOutcome)),
		row('Factfile', el('code.wrap', {}, r.factfilePath)),
		row(
			'Arguments',
			r.factfileArgs.length
				? el(
						'code.wrap',
						{},
						r.factfileArgs
							.map((a) => JSON.stringify(a))
							.join(' '),
					)
				: '—',
		),
		row('Node', j.node || j.lastRunFrom || '—'),
		j.submittedBy !== undefined ? row('Submitted by', j.submittedBy) : null,
		row('Submitted', when(j.submitted)),
		row('Run started', when(j.runStarted)),
		row('Run finished', when(j.runFinished)),
		row('Duration', duration(j)),
		row(
			'Exit code',
			j.exitCode === null || j.exitCode === undefined ? '—' : String(j.exitCode),
		),
		j.exitSignal !== null && j.exitSignal !== undefined
			? row('Exit signal', String(j.exitSignal))
			: null,
		row('Reason', j.reason || '—'),
	);
}

function history_table(t) {
	const exit = (x) => {
		if (x.exitCode !== null) return String(x.exitCode);
		return x.exitSignal !== null ? 'signal ' + x.exitSignal : null;
	};
	return table('history', ['Time', 'State', 'Outcome', 'Exit', 'Reason', 'Node'], t, (x) => [
		when(x.at),
		badge(x.state),
		badge(x.outcome),
		exit(x),
		x.reason,
		x.node,
	]);
}

// The request's arguments without any --start, then --start task when task is given.
function start_args(args, task) {
	const out = [];
	for (let i = 0; i < args.length; i++) {
		if (args[i] === '--start') {
			i++;
			continue;
		}
		if (!args[i].startsWith('--start=')) out.push(args[i]);
	}
	return task ? out.concat(['--start', task]) : out;
}

export function job_show(main, id) {
	let entry = null,
		factfile = null,
		ffTried = false,
		drawn = '';
	const msg = el('div', { 'aria-live': 'polite' });
	const info = el('div');
	const actions = el('div.actions');
	const history = el('div');
	const graph = el('div');
	const log = el('pre.log', { tabindex: '0', 'aria-label': 'Log tail' });
	const logNote = el('p.small');
	const from = el('select', { id: 'from' }, el('option', { value: '' }, 'the first task'));
	main.append(
		heading('Job'),
		msg,
		info,
		actions,
		section('h-hist', 'Run history', history),
		section('h-dag', 'Task graph', graph),
		section('h-log', 'Log', logNote, log),
	);

	async function cancel() {
		if (!window.confirm('Cancel job ' + entry.jobRequest.jobName + '?')) return;
		const r = await post('/cancel', { id });
		fill(msg, note(r.status < 300 ? 'ok' : 'error', r.body.message));
		poll_now();
	}

	async function resubmit() {
		const r0 = entry.jobRequest;
		const r = await post('/submit', {
			jobName: r0.jobName,
			factfilePath: r0.factfilePath,
			factfileArgs: start_args(r0.factfileArgs, from.value),
		});
		fill(
			msg,
			note(r.status === 200 ? 'ok' : 'error', r.body.message),
			r.body.jobId && r.body.jobId !== id
				? el(
						'p',
						{},
						el(
							'a',
							{ href: '#/job/' + r.body.jobId },
							'Open the new job',
						),
					)
				: null,
		);
		poll_now();
	}

	fill(
		actions,
		el('button', { type: 'button', id: 'cancel', onclick: cancel }, 'Cancel job…'),
		el(
			'div.field.inline',
			{},
			el('label', { for: 'from' }, 'Resubmit from'),
			from,
			el(
				'button',
				{ type: 'button', id: 'resubmit', onclick: resubmit },
				'Resubmit',
			),
		),
	);
	actions.hidden = true;

	async function refresh() {
		const [c, runs, lg] = await Promise.all([
			get('/check', { id }),
			get('/runs', { id }),
			get('/logs', { id, tail: LOG_TAIL }),
		]);
		if (c.status !== 200) {
			fill(info, note('error', c.body.message));
			actions.hidden = true;
			return DONE_MS;
		}
		entry = c.body;
		main.querySelector('h1').textContent = 'Job ' + entry.jobRequest.jobName;
		fill(info, entry_list(entry));
		actions.hidden = false;
		actions.querySelector('button').hidden = entry.state === 'DONE';
		fill(
			history,
			runs.status === 200
				? history_table(runs.body.transitions)
				: note('error', runs.body.message),
		);
		if (lg.status === 200) {
			const follow = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
			log.textContent = lg.body.log;
			if (follow) log.scrollTop = log.scrollHeight;
			fill(
				logNote,
				lg.body.truncated
					? 'The last ' + LOG_TAIL + ' bytes of ' + lg.body.size + '.'
					: lg.body.size + ' bytes.',
				entry.state === 'DONE'
					? ''
					: ' Refreshing every 2 s while the job runs.',
			);
		} else {
			log.textContent = '';
			fill(logNote, lg.body.message);
		}
		if (!ffTried) {
			ffTried = true;
			const f = await get('/factfile', { id });
			if (f.status === 200) {
				factfile = f.body.factfile;
				for (const t of (factfile.data && factfile.data.tasks) || [])
					from.append(el('option', { value: t.name }, t.name));
			} else {
				fill(graph, note('error', f.body.message));
			}
		}
		if (factfile) {
			// redrawn only when a state changed, so that a scrolled graph stays where it is
			const states = lg.status === 200 ? dag_states(lg.body.log) : null;
			const key = entry.state + JSON.stringify(states && [...states]);
			if (key !== drawn)
				fill(graph, dag_draw(factfile, states, entry.state === 'DONE'));
			drawn = key;
		}
		return entry.state === 'DONE' ? DONE_MS : LIVE_MS;
	}
	poll_start(refresh, LIVE_MS);
}
