// SPDX-License-Identifier: Apache-2.0
// Submit: a job name, a factfile path and its arguments (one a line) to POST /submit. The API's
// message is shown next to the field it concerns, or above the form when it concerns none
// (drain, a full queue, a job already running).

import { post } from './api.js';
import { el, fill, note, heading } from './dom.js';
import { poll_stop } from './poll.js';

// Which field an answer's message is about; null for the form as a whole. The message's start
// decides: a path or task name quoted inside it may hold any word.
const FIELDS = [
	['jobName', /^(No valid value found: field 'jobName'|Error: jobName |.*`jobName`)/],
	[
		'factfilePath',
		/^(No valid value found: field 'factfilePath'|factfilePath '|Value does not exist on host for 'factfilePath'|Couldn't (open|read) '|'|.*`factfilePath`)/,
	],
	[
		'factfileArgs',
		/^(--|Error: --|Error: the specifed webhook|Unknown flag|Flag '|Expected argument|Invalid arguments|Could not decode|Supplied string|The job cannot be started|task '|Error rendering template|.*`factfileArgs`)/,
	],
];
function field_of(message) {
	const m = message.replace(/^(Validation Error|Error decoding JSON string): /, '');
	const hit = FIELDS.find(([, re]) => re.test(m));
	return hit ? hit[0] : null;
}

export function submit_show(main) {
	poll_stop();
	const top = el('div', { 'aria-live': 'polite' });
	const errs = {};
	const field = (id, label, input, hint) => {
		errs[id] = el('p.field-error', { id: id + '-error' });
		return el(
			'div.field',
			{},
			el('label', { for: id }, label),
			input,
			hint ? el('p.small', { id: id + '-hint' }, hint) : null,
			errs[id],
		);
	};
	const name = el('input', {
		id: 'jobName',
		name: 'jobName',
		required: true,
		autocomplete: 'off',
		'aria-describedby': 'jobName-error',
	});
	const path = el('input', {
		id: 'factfilePath',
		name: 'factfilePath',
		required: true,
		autocomplete: 'off',
		spellcheck: 'false',
		placeholder: '/srv/factfiles/job.factfile',
		'aria-describedby': 'factfilePath-hint factfilePath-error',
	});
	const args = el('textarea', {
		id: 'factfileArgs',
		name: 'factfileArgs',
		rows: 4,
		spellcheck: 'false',
		'aria-describedby': 'factfileArgs-hint factfileArgs-error',
	});
	const form = el(
		'form.submit',
		{ novalidate: true, onsubmit: send },
		field('jobName', 'Job name', name),
		field(
			'factfilePath',
			'Factfile path',
			path,
			'An absolute path on the node (within its --factfile-root when it has one).',
		),
		field(
			'factfileArgs',
			'Arguments',
			args,
			'One argument a line, as factotum run takes them, e.g. --tag then key,value.',
		),
		el('button', { type: 'submit' }, 'Submit job'),
	);
	main.append(heading('Submit a job'), top, form);

	async function send(ev) {
		ev.preventDefault();
		fill(top);
		for (const [k, e] of Object.entries(errs)) {
			fill(e);
			form.elements[k].removeAttribute('aria-invalid');
		}
		const list = args.value
			.split('\n')
			.map((s) => s.replace(/\r$/, ''))
			.filter((s) => s !== '');
		const r = await post('/submit', {
			jobName: name.value,
			factfilePath: path.value,
			factfileArgs: list,
		});
		if (r.status === 200) {
			fill(
				top,
				note('ok', r.body.message),
				el(
					'p',
					{},
					el('a', { href: '#/job/' + r.body.jobId }, 'Open the job'),
				),
			);
			return;
		}
		const f = field_of(r.body.message || '');
		if (f) {
			fill(errs[f], note('error', r.body.message));
			form.elements[f].setAttribute('aria-invalid', 'true');
			form.elements[f].focus();
		} else {
			fill(top, note('error', r.body.message));
		}
	}
}
