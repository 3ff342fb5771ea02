// SPDX-License-Identifier: Apache-2.0
// The one refresh loop of the shown page: a page's refresh runs again a fixed time after the
// previous one finished (never less than 2 s, never two at once), and not at all while the tab
// is hidden; showing the tab again refreshes at once.

const MIN_MS = 2000;
let current = null;

function arm(p) {
	if (p !== current || document.hidden || p.timer !== null || p.busy) return;
	p.timer = setTimeout(() => run(p), p.ms);
}

async function run(p) {
	p.timer = null;
	if (p !== current || document.hidden || p.busy) return;
	p.busy = true;
	try {
		const ms = await p.fn();
		if (typeof ms === 'number') p.ms = Math.max(ms, MIN_MS);
	} finally {
		p.busy = false;
		arm(p);
	}
}

// Starts refreshing with fn every ms (at least 2 s) after one immediate call; stops the loop of
// the page shown before. fn is async and must not throw for an API error (pages show those);
// when it returns a number, that is the wait before the next call (at least 2 s too).
export function poll_start(fn, ms) {
	poll_stop();
	current = { fn, ms: Math.max(ms, MIN_MS), timer: null, busy: false };
	run(current);
}

// Stops the loop (a page without refresh calls this on show).
export function poll_stop() {
	if (current && current.timer !== null) clearTimeout(current.timer);
	current = null;
}

// A refresh the user asked for (a button, a filter): runs now and restarts the wait.
export function poll_now() {
	const p = current;
	if (!p) return;
	if (p.timer !== null) {
		clearTimeout(p.timer);
		p.timer = null;
		run(p);
	}
}

document.addEventListener('visibilitychange', () => {
	const p = current;
	if (!p) return;
	if (document.hidden) {
		if (p.timer !== null) clearTimeout(p.timer);
		p.timer = null;
	} else if (p.timer === null && !p.busy) {
		run(p);
	}
});
