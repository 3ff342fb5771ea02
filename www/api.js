// SPDX-License-Identifier: Apache-2.0
// The responder's JSON endpoints as the pages call them. Paths are resolved against the page's
// own URL ("../status" from /ui/), so a dashboard served under a prefix reaches that prefix's API.

const base = new URL('../', document.baseURI);

// Every answer as {status, body}: body is the parsed JSON, or {message} made from the text when
// the answer is not JSON (an nginx page, a network failure: status 0).
async function call(path, init) {
	let res;
	try {
		res = await fetch(new URL(path, base), init);
	} catch (e) {
		return {
			status: 0,
			body: { message: 'Error: the node did not answer (' + e.message + ')' },
		};
	}
	const text = await res.text();
	let body;
	try {
		body = JSON.parse(text);
	} catch (e) {
		body = { message: text.trim() || res.status + ' ' + res.statusText };
	}
	return { status: res.status, body };
}

// GET path?params; params with an empty or undefined value are left out.
export function get(path, params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params || {}))
		if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
	const s = q.toString();
	return call(s ? path + '?' + s : path, { cache: 'no-store' });
}

// POST path with body as JSON; the browser adds Origin, which the responder checks against its
// own origin.
export function post(path, body) {
	return call(path, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
		cache: 'no-store',
	});
}
