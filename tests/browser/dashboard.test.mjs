// SPDX-License-Identifier: Apache-2.0
// The dashboard end to end in headless Chromium against two running nodes (started by
// tests/integration/dashboard_browser.sh, which sets the environment below): every page loads
// without errors or CSP violations and passes axe-core; a job submitted through the form
// reaches DONE and its log and task graph show, and resubmitted from its second task runs that
// part again; the API's validation message lands next to its field; drain, reached and
// confirmed with the keyboard, makes the form show the API's refusal; a running job is
// cancelled from its page; a job name holding markup is shown as text and runs nothing; the
// cluster page says "single node" without Consul, and with Consul lists the node and its job;
// the schedules page lists schedules with their next slots and last job, runs one now, pauses
// and resumes one with the keyboard alone, deletes one, and shows a slot history whose job link
// opens the job; at 375x667 no page scrolls sideways; no page polls faster than every 2 s, none
// while hidden. Screenshots of each page go to OUT_DIR.
//
// Environment: BASE_URL (a node without Consul, e.g. http://127.0.0.1:3000), CLUSTER_URL (a node
// named dash-node with Consul), FF_DIR (a directory holding echo.factfile and sleep.factfile),
// OUT_DIR, NODE_MODULES_DIR (where playwright-core and axe-core are installed), CHROMIUM
// (default /usr/bin/chromium).

import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const env = (k) => {
	if (!process.env[k]) throw new Error(k + ' is not set');
	return process.env[k];
};
const BASE = env('BASE_URL'),
	CLUSTER = env('CLUSTER_URL'),
	FF = env('FF_DIR'),
	OUT = env('OUT_DIR');
const need = createRequire(join(env('NODE_MODULES_DIR'), 'x.js'));
const { chromium } = need('playwright-core');
const AXE = readFileSync(need.resolve('axe-core/axe.min.js'), 'utf8');
const SCRIPT_NAME = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';
// a schedule's job name holding markup (not SCRIPT_NAME, whose jobs the jobs page counts)
const SCHED_JOB = '<img src=x onerror="window.__pwned=3">nightly<script>window.__pwned=4</script>';

mkdirSync(OUT, { recursive: true });
let failures = 0;
function check(cond, what) {
	if (cond) {
		console.log('ok: ' + what);
	} else {
		failures++;
		console.log('FAIL: ' + what);
	}
}

async function api(path, body, base = BASE) {
	const r = await fetch(
		base + path,
		body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) },
	);
	return { status: r.status, body: await r.json() };
}

const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox'],
});
// a time zone other than UTC (and the nodes'), so that local times differ from the API's
const context = await browser.newContext({
	viewport: { width: 1100, height: 900 },
	timezoneId: 'Asia/Kolkata',
});
const page = await context.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('console', (m) => {
	// a refused request (404 of an absent log) is logged by Chromium as a console error too
	if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
		problems.push('console: ' + m.text());
});
const requests = [];
page.on('request', (r) => requests.push({ t: Date.now(), path: new URL(r.url()).pathname }));
page.on('dialog', (d) => (page.dialogAnswer === false ? d.dismiss() : d.accept()));

// page is shown: its heading is there and the first refresh has drawn something
async function open(hash, ready, base = BASE) {
	await page.goto(base + '/ui/' + hash);
	await page.waitForSelector(ready, { timeout: 15000 });
}

async function axe(name) {
	if (!(await page.evaluate(() => typeof window.axe !== 'undefined')))
		await page.evaluate(AXE);
	const r = await page.evaluate(() =>
		window.axe.run(document, { resultTypes: ['violations'] }),
	);
	const v = r.violations.map(
		(x) => x.id + ' (' + x.nodes.map((n) => n.target.join(' ')).join(', ') + ')',
	);
	check(
		v.length === 0,
		'axe-core finds no violations on ' + name + (v.length ? ': ' + v.join('; ') : ''),
	);
}

async function shot(name) {
	await page.screenshot({ path: join(OUT, name + '.png'), fullPage: true });
}

// The text of the job page's entry field (its <dt> label).
async function field(label) {
	return page.evaluate((l) => {
		for (const dt of document.querySelectorAll('dl.entry dt'))
			if (dt.textContent === l) return dt.nextElementSibling.textContent;
		return null;
	}, label);
}

// Presses Tab until the focus is on an element matching sel (at most 30 times).
async function tab_to(sel) {
	await page.evaluate(() => document.activeElement && document.activeElement.blur());
	for (let i = 0; i < 30; i++) {
		await page.keyboard.press('Tab');
		if (await page.evaluate((s) => document.activeElement.matches(s), sel)) return true;
	}
	return false;
}

// Fills the submit form (args: one argument a line) and sends it.
async function submit_form(name, path, args) {
	await page.fill('#jobName', name);
	await page.fill('#factfilePath', path);
	await page.fill('#factfileArgs', args);
	await page.click('form.submit button[type=submit]');
}

// The page's success message (it waits for it) matches re.
async function answer(re, what) {
	await page.waitForSelector('.note-ok');
	check(re.test(await page.textContent('.note-ok')), what);
}

async function until(fn, ms, what) {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		if (await fn()) return true;
		await page.waitForTimeout(250);
	}
	check(false, what);
	return false;
}

// The cells of schedule name's row on the schedules page by column (null when it is not listed),
// with its next slots' <time> elements and its last slot's job link.
async function sched_row(name) {
	return page.evaluate((n) => {
		const a = document.querySelector('table.schedules a[data-key="open-' + n + '"]');
		if (!a) return null;
		const tr = a.closest('tr'),
			out = {};
		for (const td of tr.cells) out[td.dataset.label] = td.innerText.trim();
		out.next = [...tr.querySelectorAll('td[data-label="Next slots"] time')].map((t) => ({
			datetime: t.getAttribute('datetime'),
			title: t.title,
			text: t.textContent,
			local: new Date(t.getAttribute('datetime')).toLocaleString(),
			utc: new Date(t.getAttribute('datetime')).toLocaleString(undefined, {
				timeZone: 'UTC',
			}),
		}));
		const job = tr.querySelector('td[data-label="Last slot"] a');
		out.job = job && { href: job.getAttribute('href'), text: job.textContent };
		return out;
	}, name);
}

// Clicks sel with its confirmation declined: no request to path; then again, accepted.
async function confirmed(sel, path, what) {
	page.dialogAnswer = false;
	await page.click(sel);
	await page.waitForTimeout(300);
	check(
		!requests.some((r) => r.path === path),
		what + ' the confirmation declined sends nothing',
	);
	page.dialogAnswer = true;
	await page.click(sel);
}

// Follows the job link of the newest row of a schedule's history: the job page's "Submitted
// by" (schedule:<name> for a slot's job).
async function slot_job() {
	await page.click('table.slots tbody tr a[href^="#/job/"]');
	// the schedule's page has a dl.entry too: wait for the job's (its Id field)
	await page.waitForFunction(() =>
		[...document.querySelectorAll('dl.entry dt')].some((dt) => dt.textContent === 'Id'),
	);
	return field('Submitted by');
}

// The page's answer to an action (its aria-live container) becomes text; true when it did.
async function said(text, what) {
	return until(
		async () =>
			(await page.evaluate(
				() => document.querySelector('main [aria-live] .note')?.textContent,
			)) === text,
		10000,
		what + ' (' + text + ')',
	);
}

try {
	// a job whose name holds markup, submitted with curl's manners (no Origin)
	const xss = await api('/submit', {
		jobName: SCRIPT_NAME,
		factfilePath: FF + '/echo.factfile',
		factfileArgs: ['--tag', 'x,1'],
	});
	check(xss.status === 200, 'a job named with markup is accepted by the API');

	// Overview
	await open('#/overview', '.cards .card');
	check((await page.locator('h1').textContent()) === 'Overview', 'the overview loads');
	check(
		(await page.locator('.cards').getByText('Workers busy').count()) === 1,
		'the overview shows the workers',
	);
	await page.waitForSelector('.chart, .chart-box, .note-error');
	check(
		(await page.locator('svg.chart').count()) === 1,
		'the overview draws the outcomes chart from /stats',
	);
	await axe('the overview');
	await shot('overview');

	// Submit through the form, then follow the job to DONE
	await open('#/submit', 'form.submit');
	await axe('the submit form');
	await submit_form('echo from the dashboard', 'relative.factfile', '');
	await page.waitForSelector('#factfilePath-error .note');
	check(
		(await page.textContent('#factfilePath-error')) ===
			"Validation Error: factfilePath 'relative.factfile' must be an absolute path",
		"the API's validation message is shown next to the factfile path",
	);
	check(
		(await page.getAttribute('#factfilePath', 'aria-invalid')) === 'true',
		'the field is marked invalid',
	);
	await shot('submit');
	for (const [name, args, id, message] of [
		['', '', 'jobName', "No valid value found: field 'jobName' cannot be empty"],
		['bad flag', '--bogus', 'factfileArgs', "Unknown flag: '--bogus'"],
	]) {
		await submit_form(name, FF + '/echo.factfile', args);
		await page.waitForSelector('#' + id + '-error .note');
		check(
			(await page.textContent('#' + id + '-error')) ===
				'Validation Error: ' + message &&
				(await page.textContent('#factfilePath-error')) === '',
			'the message about ' + id + ' is shown next to it alone',
		);
	}
	await submit_form(
		'echo from the dashboard',
		FF + '/echo.factfile',
		'--tag\nfrom,dashboard',
	);
	await answer(
		/^SUBMITTING JOB REQ jobId:\[[0-9a-f]{64}\]$/,
		"the form submits the job and shows the API's answer",
	);
	check(
		(await page.textContent('#factfilePath-error')) === '',
		"a good submission clears the field's message",
	);
	await page.click('text=Open the job');
	await page.waitForSelector('dl.entry');
	await until(
		async () => (await field('State')) === 'DONE',
		30000,
		'the submitted job reaches DONE',
	);
	check((await field('Outcome')) === 'SUCCEEDED', 'the submitted job SUCCEEDED');
	await until(
		async () => /3\/3 tasks run in/.test(await page.textContent('pre.log')),
		10000,
		'its log is shown',
	);
	check(
		/\[echo alpha\] alpha/.test(await page.textContent('pre.log')),
		"the log holds the tasks' output",
	);
	await page.waitForSelector('svg.dag');
	check(
		(await page.locator('svg.dag g.task').count()) === 3,
		"the task graph has the factfile's three tasks",
	);
	check(
		(await page.locator('svg.dag g.task.t-succeeded').count()) === 3,
		'the tasks are coloured succeeded from the log',
	);
	check(
		(await page.locator('table.history tbody tr').count()) >= 3,
		'the run history lists the transitions',
	);
	await axe('the job page');
	await shot('job');
	// resubmit from the second task: the same job id (--start is not part of it) runs again
	const before = await page.locator('table.history tbody tr').count();
	await page.selectOption('#from', 'echo beta');
	await page.click('#resubmit');
	await answer(
		/^SUBMITTING JOB REQ jobId:\[[0-9a-f]{64}\]$/,
		"resubmit from a task shows the API's answer",
	);
	await until(
		async () => /2\/2 tasks run in/.test(await page.textContent('pre.log')),
		20000,
		'the resubmitted job runs from the chosen task',
	);
	await until(
		async () =>
			(await field('State')) === 'DONE' &&
			(await page.locator('svg.dag g.task.t-not-run').count()) === 1,
		10000,
		'the first task is drawn as not run in the second run',
	);
	check(
		(await page.locator('table.history tbody tr').count()) >= before + 3,
		'the run history keeps the first run and adds the second',
	);

	// Jobs: the markup job is text; nothing of it ran
	await open('#/jobs', 'table.jobs');
	await axe('the jobs page');
	await shot('jobs');
	check(
		(await page.locator('table.jobs a', { hasText: SCRIPT_NAME }).count()) === 1,
		'a job name with markup is shown as its text',
	);
	check(
		await page.evaluate(() => window.__pwned === undefined),
		'the markup in a job name runs nothing',
	);
	check(
		await page.evaluate(
			() => document.querySelectorAll('main script, main img').length === 0,
		),
		'the markup in a job name makes no element',
	);
	await page.selectOption('#state', 'DONE');
	await page.fill('#name', 'echo from the dashboard');
	await page.click('.filters button[type=submit]');
	await page.waitForFunction(() => location.hash.includes('name='));
	await page.waitForSelector('table.jobs, main p');
	await until(
		async () => (await page.locator('table.jobs tbody tr').count()) === 1,
		5000,
		'the name filter leaves the one job of that name',
	);
	await page.click('table.jobs a');
	await page.waitForSelector('dl.entry');
	check(await page.evaluate(() => window.__pwned === undefined), 'still nothing ran');

	// Cancel a running job from its page
	const sl = await api('/submit', {
		jobName: 'sleeper',
		factfilePath: FF + '/sleep.factfile',
		factfileArgs: [],
	});
	check(sl.status === 200, 'a long job is submitted');
	await open('#/job/' + sl.body.jobId, 'dl.entry');
	await until(
		async () => (await field('State')) === 'WORKING',
		15000,
		'the long job is WORKING',
	);
	// the log refreshes while WORKING, no faster than every 2 s
	const t0 = Date.now();
	await page.waitForTimeout(6500);
	const logs = requests.filter((r) => r.t >= t0 && r.path === '/logs').length;
	check(
		logs >= 2 && logs <= 4,
		'the log of a WORKING job refreshes every 2 s (' + logs + ' requests in 6.5 s)',
	);
	await confirmed('#cancel', '/cancel', 'a cancel');
	await answer(
		/^Cancel requested for WORKING job jobId:\[[0-9a-f]{64}\]: the worker will stop its run$/,
		"cancel shows the API's answer",
	);
	await until(
		async () => (await field('State')) === 'DONE',
		15000,
		'the cancelled job ends DONE',
	);
	check(
		(await field('Outcome')) === 'FAILED' && (await field('Reason')) === 'cancelled',
		'the cancelled job is FAILED with reason cancelled',
	);

	// Drain with confirmation, then the form shows the API's refusal
	await open('#/overview', '.cards .card');
	page.dialogAnswer = false;
	check(
		await tab_to('button[data-key=toggle]'),
		'the drain toggle is reached with the Tab key',
	);
	check(
		await page.evaluate(
			() => getComputedStyle(document.activeElement).outlineStyle !== 'none',
		),
		'the focused toggle shows a focus ring',
	);
	await page.keyboard.press('Enter');
	await page.waitForTimeout(500);
	check(
		(await api('/status')).body.server.state === 'run',
		'declining the confirmation keeps the node running',
	);
	page.dialogAnswer = true;
	// a refresh meanwhile keeps the focus on the toggle
	await page.waitForTimeout(5500);
	await page.keyboard.press('Enter');
	await answer(/^Update acknowledged: \[state: drain\]$/, 'drain is acknowledged');
	await page.waitForSelector('.cards .b-drain');
	await open('#/submit', 'form.submit');
	await submit_form('refused', FF + '/echo.factfile', '');
	await page.waitForSelector('.note-error');
	check(
		(await page.textContent('main > div .note-error')) ===
			'Server in [drain] state - cannot submit job',
		"a submission while draining shows the API's refusal",
	);
	await open('#/overview', '.cards .b-drain');
	await page.click('button[data-key=toggle]');
	await page.waitForSelector('.cards .b-run');
	check(
		(await api('/status')).body.server.state === 'run',
		'the toggle sets the node back to run',
	);

	// Schedules of the node without Consul, set now so that the first slot has fired when the
	// page is opened: one every 2 s whose job succeeds, one paused whose job name holds markup
	const every2 = await api('/schedules/set', {
		name: 'every2',
		cron: '*/2 * * * * *',
		jobName: 'every two seconds',
		factfilePath: FF + '/echo.factfile',
		factfileArgs: [],
	});
	check(every2.status === 200, 'a schedule firing every 2 s is set through the API');
	const quiet = await api('/schedules/set', {
		name: 'quiet.one',
		cron: '30 2 * * *',
		timezone: 'Europe/London',
		jobName: SCHED_JOB,
		factfilePath: FF + '/echo.factfile',
		factfileArgs: [],
		overlap: 'skip',
		catchUp: 3,
	});
	const paused = await api('/schedules/pause', { name: 'quiet.one' });
	check(quiet.status === 200 && paused.status === 200, 'a second schedule is set and paused');

	// Cluster (this node has no Consul)
	await open('#/cluster', 'table.nodes, .note-error');
	check(
		/Single node \(no Consul\)/.test(await page.textContent('main')),
		'the cluster page says it is a single node',
	);
	await axe('the cluster page');
	await shot('cluster');

	// Cluster with Consul: the node and its job, read from the namespace
	const cj = await api(
		'/submit',
		{
			jobName: 'cluster <b>job</b>',
			factfilePath: FF + '/echo.factfile',
			factfileArgs: [],
		},
		CLUSTER,
	);
	check(cj.status === 200, 'a job is submitted to the node with Consul');
	await open('#/cluster', 'table.nodes', CLUSTER);
	await until(
		async () =>
			(await page
				.locator('table.jobs a', { hasText: 'cluster <b>job</b>' })
				.count()) === 1,
		10000,
		'the cluster page lists the job of the namespace',
	);
	check(
		/Consul at http:\/\/127\.0\.0\.1:\d+\./.test(await page.textContent('main')),
		'the cluster page names the Consul agent',
	);
	// the node's key is written every 5 s: its counts read 0 0 once the job is done and the
	// page has polled since
	await until(
		async () =>
			(await page.evaluate(() =>
				[...document.querySelectorAll('table.nodes tbody tr')]
					.map((r) =>
						[...r.cells]
							.slice(0, 4)
							.map((c) => c.textContent)
							.join(' '),
					)
					.join('|'),
			)) ===
			'dash-node ' + new URL(CLUSTER).host + ' 0 0',
		15000,
		'the cluster page lists the node with its counts',
	);
	await axe('the cluster page with Consul');
	await shot('cluster-consul');

	// Schedules: the list, with each schedule's next slots in local time (UTC in the title)
	await open('#/schedules', 'table.schedules');
	await until(
		async () => ((await sched_row('every2')) || { job: null }).job !== null,
		10000,
		"the schedule every 2 s shows its last slot's job",
	);
	const rows = await page.evaluate(() =>
		[...document.querySelectorAll('table.schedules tbody tr td:first-child')].map(
			(td) => td.textContent,
		),
	);
	check(rows.join(' ') === 'every2 quiet.one', 'the page lists both schedules by name');
	const e2 = await sched_row('every2');
	const secs = e2.next.map((t) => Date.parse(t.datetime) / 1000);
	check(
		e2['Cron, time zone'] === '*/2 * * * * *\nUTC' &&
			e2.State === 'active' &&
			e2.Policies === 'overlap allow\ncatch-up last',
		'the schedule every 2 s shows its definition (' + JSON.stringify(e2) + ')',
	);
	check(
		secs.length === 3 &&
			secs.every((x, i) => x % 2 === 0 && (i === 0 || x === secs[i - 1] + 2)) &&
			secs[0] * 1000 > Date.now() - 10000,
		'its next three slots are listed, 2 s apart (' + JSON.stringify(e2['Next slots']) + ')',
	);
	check(
		e2.next.every(
			(t) =>
				/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(t.datetime) &&
				t.text === t.local &&
				t.text !== t.utc &&
				t.title === t.datetime.replace('T', ' ').replace('Z', ' UTC'),
		),
		'each slot is shown in local time with UTC in its title',
	);
	check(
		/^#\/job\/[0-9a-f]{64}$/.test(e2.job.href) &&
			e2.job.text === e2.job.href.slice(6, 18) &&
			/(QUEUED|WORKING|DONE)$/.test(e2['Last slot']),
		"its last slot shows the job's short id as a link and its state (" +
			e2['Last slot'] +
			')',
	);
	const q1 = await sched_row('quiet.one');
	check(
		q1.State === 'paused' &&
			q1['Next slots'] === 'none while paused' &&
			q1['Last slot'] === '—' &&
			q1['Cron, time zone'] === '30 2 * * *\nEurope/London' &&
			q1.Policies === 'overlap skip\ncatch-up 3',
		'the paused schedule shows no next slot (' + JSON.stringify(q1) + ')',
	);
	check(q1['Job name'] === SCHED_JOB, "a schedule's job name with markup is shown as its text");
	check(
		await page.evaluate(
			() =>
				window.__pwned === undefined &&
				document.querySelectorAll('main script, main img').length === 0,
		),
		"the markup in a schedule's job name makes no element and runs nothing",
	);
	const wide = await page.evaluate(() => document.documentElement.scrollWidth);
	check(wide <= 1100, 'the schedules page fits 1100 px (' + wide + ')');
	await axe('the schedules page');
	await shot('schedules');

	// Run now, confirmed: declined it sends nothing; accepted, the slot is fired
	await confirmed('button[data-key="run-quiet.one"]', '/schedules/run', 'a run');
	await answer(
		/^Schedule 'quiet\.one' slot \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ fired$/,
		"run now shows the API's answer",
	);
	const ran = (await page.textContent('.note-ok')).split(' ')[3];
	await until(
		async () => ((await sched_row('quiet.one')) || { job: null }).job !== null,
		8000,
		'the paused schedule shows the slot run now as its last slot',
	);

	// The schedule's page: its slot history, the run-now slot fired with a link to its job
	await page.click('a[data-key="open-quiet.one"]');
	await page.waitForSelector('table.slots');
	const hist = await page.evaluate(() =>
		[...document.querySelector('table.slots tbody tr').cells].map((c) =>
			c.dataset.label === 'Slot'
				? c.querySelector('time').getAttribute('datetime')
				: c.textContent,
		),
	);
	check(
		hist[0] === ran &&
			hist[1] === 'fired' &&
			hist[2] === '—' &&
			/^[0-9a-f]{12}$/.test(hist[3]) &&
			hist[4] === '1',
		"the history's newest row is the slot run now, fired, with its job (" +
			hist.join(' | ') +
			')',
	);
	check(
		(await field('Job name')) === SCHED_JOB &&
			(await page.evaluate(() => document.querySelectorAll('main img').length)) === 0,
		"the schedule's page shows the job name with markup as text",
	);
	check(
		(await page.getAttribute('nav a[aria-current=page]', 'href')) === '#/schedules',
		"a schedule's page is marked as under Schedules in the header",
	);
	await axe('the schedule page');
	await shot('schedule');
	const by = await slot_job();
	check(
		by === 'schedule:quiet.one' && (await field('Name')) === SCHED_JOB,
		"the history's job link opens the slot's job (submitted by " + by + ')',
	);
	check(await page.evaluate(() => window.__pwned === undefined), 'still nothing ran');

	// Pause and resume with the keyboard alone; the focus stays on the button it changes
	await open('#/schedules', 'table.schedules');
	check(
		await tab_to('button[data-key="state-every2"]'),
		'the pause button is reached with the Tab key',
	);
	await page.keyboard.press('Enter');
	await said("Schedule 'every2' paused", 'Enter pauses the schedule');
	await until(
		async () =>
			(await page.evaluate(() => document.activeElement.textContent)) === 'Resume…',
		8000,
		'the focus stays on the button, now Resume',
	);
	check(
		(await api('/schedules?name=every2')).body.paused === true,
		'the API says the schedule is paused',
	);
	await page.keyboard.press('Enter');
	await said("Schedule 'every2' resumed", 'Enter again resumes it');
	check(
		(await api('/schedules?name=every2')).body.paused === false,
		'the API says the schedule runs again',
	);

	// Delete, confirmed: the schedule leaves the list (and fires no more)
	await page.click('button[data-key="delete-every2"]');
	await said("Schedule 'every2' deleted", 'delete shows the answer');
	await until(
		async () => (await sched_row('every2')) === null,
		8000,
		'the deleted schedule leaves the list',
	);
	check(
		await page.evaluate(() => document.activeElement.id === 'page-title'),
		"the focus goes to the page's heading, not lost with the deleted row",
	);

	// The schedules page of the node with Consul: when the node refuses schedules (503), the
	// page shows what the node answers, no broken table
	const cset = await api(
		'/schedules/set',
		{
			name: 'cluster.one',
			cron: '0 3 * * *',
			jobName: 'cluster schedule',
			factfilePath: FF + '/echo.factfile',
			factfileArgs: [],
		},
		CLUSTER,
	);
	check(cset.status === 200, 'the node with Consul takes a schedule (' + cset.status + ')');
	await open('#/schedules', 'table.schedules', CLUSTER);
	const c1 = await sched_row('cluster.one');
	check(
		c1 !== null && c1.next.length === 3 && c1.State === 'active',
		'the node with Consul lists its schedule with its next slots',
	);
	await page.click('button[data-key="run-cluster.one"]');
	await answer(
		/^Schedule 'cluster\.one' slot \S+ fired$/,
		'run now fires a slot on the node with Consul',
	);
	await page.click('a[data-key="open-cluster.one"]');
	await page.waitForSelector('table.slots');
	check(
		(await page.textContent('table.slots tbody tr td[data-label="Result"]')) ===
			'fired' &&
			(await page.locator('table.slots tbody tr a[href^="#/job/"]').count()) >= 1,
		'its history shows the slot fired with its job',
	);
	await axe('the schedule page with Consul');
	await shot('schedule-consul');
	const cby = await slot_job();
	check(
		cby === 'schedule:cluster.one',
		"the history's job link opens the slot's job on the node with Consul (" + cby + ')',
	);
	await page.goto(BASE + '/ui/#/overview');

	// Polling: the overview asks each endpoint at most every 2 s, and nothing while hidden
	await open('#/overview', '.cards .card');
	const t1 = Date.now();
	await page.waitForTimeout(6000);
	const per = {};
	for (const r of requests.filter((x) => x.t >= t1)) per[r.path] = (per[r.path] || 0) + 1;
	check(
		Object.values(per).every((n) => n <= 4) && (per['/status'] || 0) >= 1,
		'the overview polls no endpoint faster than every 2 s (' +
			JSON.stringify(per) +
			' in 6 s)',
	);
	await page.evaluate(() => {
		Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
		document.dispatchEvent(new Event('visibilitychange'));
	});
	const t2 = Date.now();
	await page.waitForTimeout(5500);
	check(requests.filter((x) => x.t >= t2).length === 0, 'a hidden page polls nothing');
	await page.evaluate(() => {
		delete document.hidden;
		document.dispatchEvent(new Event('visibilitychange'));
	});
	await page.waitForTimeout(500);
	check(
		requests.some((x) => x.t >= t2 && x.path === '/status'),
		'showing the page again refreshes it at once',
	);

	// Phone-sized: nothing scrolls sideways
	await page.setViewportSize({ width: 375, height: 667 });
	for (const [name, hash, ready, base] of [
		['overview', '#/overview', '.cards .card'],
		['jobs', '#/jobs', 'table.jobs'],
		['job', '#/job/' + xss.body.jobId, 'dl.entry'],
		['submit', '#/submit', 'form.submit'],
		['cluster', '#/cluster', 'table.nodes, .note-error'],
		['cluster-consul', '#/cluster', 'table.jobs', CLUSTER],
		['schedules', '#/schedules', 'table.schedules'],
		['schedule', '#/schedule/quiet.one', 'table.slots'],
	]) {
		await open(hash, ready, base);
		await page.waitForTimeout(300);
		const w = await page.evaluate(() => document.documentElement.scrollWidth);
		check(w <= 375, 'the ' + name + ' page fits 375 px (' + w + ')');
		await shot('phone-' + name);
	}
	check(
		problems.length === 0,
		'no script error or CSP violation' +
			(problems.length ? ': ' + problems.join('; ') : ''),
	);
} catch (e) {
	failures++;
	console.log('FAIL: ' + (e.stack || e));
	await page.screenshot({ path: join(OUT, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
	await browser.close();
}
console.log(failures ? failures + ' failure(s)' : 'all passed');
process.exit(failures ? 1 : 0);
