// SPDX-License-Identifier: Apache-2.0
// The dashboard's router: the part of the URL after '#' names the page ("#/jobs?state=DONE",
// "#/job/<id>", "#/schedule/<name>"); each page module renders into <main> and starts its own
// refresh loop.

import { poll_stop } from './poll.js';
import { overview_show } from './overview.js';
import { jobs_show } from './jobs.js';
import { job_show } from './job.js';
import { submit_show } from './submit.js';
import { cluster_show } from './cluster.js';
import { schedules_show, schedule_show } from './schedules.js';

const pages = {
	overview: overview_show,
	jobs: jobs_show,
	job: job_show,
	submit: submit_show,
	cluster: cluster_show,
	schedules: schedules_show,
	schedule: schedule_show,
};

// The page of one item is under its list's link in the header.
const under = { job: 'jobs', schedule: 'schedules' };

// '#/job/abc?x=1' -> {name: 'job', arg: 'abc', params: URLSearchParams('x=1')}
function route() {
	const h = location.hash.replace(/^#\/?/, '');
	const q = h.indexOf('?');
	const path = q < 0 ? h : h.slice(0, q);
	const [name, ...rest] = path.split('/');
	return {
		name: pages[name] ? name : 'overview',
		arg: decodeURIComponent(rest.join('/')),
		params: new URLSearchParams(q < 0 ? '' : h.slice(q + 1)),
	};
}

function show() {
	const r = route();
	const main = document.getElementById('main');
	poll_stop();
	main.replaceChildren();
	for (const a of document.querySelectorAll('nav a')) {
		if (a.getAttribute('href') === '#/' + (under[r.name] || r.name))
			a.setAttribute('aria-current', 'page');
		else a.removeAttribute('aria-current');
	}
	pages[r.name](main, r.arg, r.params);
	const h1 = main.querySelector('h1');
	if (h1) {
		document.title = h1.textContent + ' · factotum-server';
		if (show.before) h1.focus();
	}
	show.before = true;
}

window.addEventListener('hashchange', show);
show();
