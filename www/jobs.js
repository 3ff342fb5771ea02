// SPDX-License-Identifier: Apache-2.0
// Jobs: this node's jobs newest first, a page at a time with the API's cursor, filtered by state,
// outcome, name or id prefix (all kept in the URL, so a filtered page can be bookmarked);
// refreshed every 5 s. jobs_table also draws the cluster page's jobs.

import { get } from './api.js';
import { el, fill, note, badge, when, duration, short_id, heading, table } from './dom.js';
import { poll_start } from './poll.js';

const REFRESH_MS = 5000;
const PAGE = 25;
const FILTERS = ['state', 'outcome', 'name', 'idPrefix'];

// The cursors of the pages before the one shown, for "Newer" (a new filter starts over).
let newer = [];

const JOB_COLS = [
	'Name',
	'Id',
	'State',
	'Outcome',
	'Node',
	'Submitted',
	'Duration',
	'Submitted by',
];

// A table of job entries, each name a link to the job's page.
export function jobs_table(entries) {
	return table('jobs', JOB_COLS, entries, (j) => {
		const id = j.jobRequest.jobId;
		return [
			el(
				'a',
				{ href: '#/job/' + id, 'data-key': 'job-' + id },
				j.jobRequest.jobName,
			),
			short_id(id),
			badge(j.state),
			badge(j.lastOutcome),
			j.node || j.lastRunFrom,
			when(j.submitted),
			duration(j),
			j.submittedBy,
		];
	});
}

// A <select> of name with the given values ('' = any).
function choice(id, label, values, current) {
	return el(
		'div.field',
		{},
		el('label', { for: id }, label),
		el(
			'select',
			{ id, name: id },
			el('option', { value: '' }, 'any'),
			values.map((v) => el('option', { value: v, selected: v === current }, v)),
		),
	);
}

function href(params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
	const s = q.toString();
	return '#/jobs' + (s ? '?' + s : '');
}

export function jobs_show(main, _arg, params) {
	const f = {};
	for (const k of FILTERS) f[k] = params.get(k) || '';
	const before = params.get('before') || '';
	if (!before) newer = [];
	const list = el('div');
	const pager = el('nav.pager', { 'aria-label': 'Pages of jobs' });
	const form = el(
		'form.filters',
		{
			role: 'search',
			onsubmit: (ev) => {
				ev.preventDefault();
				const d = new FormData(form),
					p = {};
				for (const k of FILTERS) p[k] = String(d.get(k) || '').trim();
				newer = [];
				location.hash = href(p);
			},
		},
		choice('state', 'State', ['QUEUED', 'WORKING', 'DONE'], f.state),
		choice(
			'outcome',
			'Outcome',
			['WAITING', 'RUNNING', 'SUCCEEDED', 'FAILED'],
			f.outcome,
		),
		el(
			'div.field',
			{},
			el('label', { for: 'name' }, 'Job name'),
			el('input', {
				id: 'name',
				name: 'name',
				type: 'search',
				value: f.name,
				autocomplete: 'off',
			}),
		),
		el(
			'div.field',
			{},
			el('label', { for: 'idPrefix' }, 'Id prefix'),
			el('input', {
				id: 'idPrefix',
				name: 'idPrefix',
				type: 'search',
				value: f.idPrefix,
				autocomplete: 'off',
				spellcheck: 'false',
				pattern: '[0-9a-f]{1,64}',
				title: '1 to 64 lowercase hex digits',
			}),
		),
		el('div.field.field-button', {}, el('button', { type: 'submit' }, 'Filter')),
	);
	main.append(heading('Jobs'), form, list, pager);

	async function refresh() {
		const r = await get('/jobs', { ...f, before, limit: PAGE });
		if (r.status !== 200) {
			fill(list, note('error', r.body.message));
			fill(pager);
			return;
		}
		const jobs = r.body.jobs;
		fill(list, jobs.length ? jobs_table(jobs) : el('p', {}, 'No jobs match.'));
		fill(
			pager,
			before ? el('a', { href: href(f), 'data-key': 'newest' }, 'Newest') : null,
			newer.length
				? el(
						'a',
						{
							href: href({
								...f,
								before: newer[newer.length - 1],
							}),
							'data-key': 'newer',
							onclick: () => newer.pop(),
						},
						'Newer',
					)
				: null,
			r.body.next
				? el(
						'a',
						{
							href: href({ ...f, before: r.body.next }),
							'data-key': 'older',
							onclick: () => newer.push(before),
						},
						'Older',
					)
				: null,
		);
	}
	poll_start(refresh, REFRESH_MS);
}
