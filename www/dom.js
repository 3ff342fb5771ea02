// SPDX-License-Identifier: Apache-2.0
// Building the pages' elements. Every value from the node (job names, logs, factfiles) is
// untrusted: it reaches the page only as text nodes and attribute values, never as markup.

// el('tag.class1.class2', {attr: value, onclick: fn}, child...): children are elements,
// strings (made text nodes), or null/false (skipped); arrays are flattened.
export function el(spec, attrs, ...children) {
	const [tag, ...classes] = spec.split('.');
	const e = document.createElement(tag);
	if (classes.length) e.className = classes.join(' ');
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
		else if (k === 'value' || k === 'checked' || k === 'selected') e[k] = v;
		else e.setAttribute(k, v === true ? '' : String(v));
	}
	append(e, children);
	return e;
}

function append(e, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false) continue;
		if (Array.isArray(c)) append(e, c);
		else if (c instanceof Node) e.appendChild(c);
		else e.appendChild(document.createTextNode(String(c)));
	}
}

// Replaces e's children. A refresh must not take the keyboard focus away: when the focused
// element was inside e and carried data-key, the new element with that key gets the focus.
export function fill(e, ...children) {
	const a = document.activeElement;
	const key = a && e.contains(a) ? a.dataset.key : undefined;
	e.replaceChildren();
	append(e, children);
	if (key !== undefined) {
		const b = [...e.querySelectorAll('[data-key]')].find((x) => x.dataset.key === key);
		if (b) b.focus();
	}
	return e;
}

// The same for SVG elements (namespaced; attributes only).
export function svg(tag, attrs, ...children) {
	const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
	for (const [k, v] of Object.entries(attrs || {}))
		if (v !== undefined && v !== null) e.setAttribute(k, String(v));
	append(e, children);
	return e;
}

// A message line: kind 'error' for a refused or failed request, 'ok' for an accepted one. Not a
// live region itself: a refreshed part of a page would announce it again on every refresh; the
// answers to the user's actions go into the page's aria-live container.
export function note(kind, text) {
	return el('p.note.note-' + kind, {}, text);
}

// An ISO 8601 time as the browser's local time, or '—'.
export function when(iso) {
	if (!iso) return '—';
	const d = new Date(iso);
	return isNaN(d) ? String(iso) : d.toLocaleString();
}

// The run time of an entry: finished − started, or up to now while it runs.
export function duration(entry) {
	if (!entry.runStarted) return '—';
	const end = entry.runFinished ? new Date(entry.runFinished) : new Date();
	let s = Math.max(0, Math.round((end - new Date(entry.runStarted)) / 1000));
	const h = Math.floor(s / 3600),
		m = Math.floor((s % 3600) / 60);
	s %= 60;
	return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + s + 's';
}

// The class that colours a state or outcome badge.
export function badge(word) {
	return el('span.badge.b-' + String(word || 'none').toLowerCase(), {}, word || '—');
}

// The first 12 characters of a job id with a button that copies the whole id.
export function short_id(id) {
	const copy = async (ev) => {
		const b = ev.currentTarget;
		try {
			await navigator.clipboard.writeText(id);
			b.textContent = 'Copied';
		} catch (e) {
			// no clipboard outside secure contexts: offer the id to copy by hand
			window.prompt('Job id', id);
		}
	};
	return el(
		'span.id',
		{},
		el('code', { title: id }, id.slice(0, 12)),
		el(
			'button.copy',
			{
				type: 'button',
				onclick: copy,
				'aria-label': 'Copy job id ' + id,
				'data-key': 'copy-' + id,
			},
			'Copy',
		),
	);
}

// The page's heading, focused after a route change so that keyboard and screen reader users
// land on the new page.
export function heading(text) {
	return el('h1', { tabindex: '-1', id: 'page-title' }, text);
}

// A table with a header row of cols and one row per item, whose cells row(item) gives (one value
// or element per column; null or undefined shows '—'). Below 40em each row is drawn as a card
// (style.css), its cells labelled by data-label.
export function table(cls, cols, items, row) {
	const th = cols.map((c) => el('th', { scope: 'col' }, c));
	const tr = (x) =>
		el(
			'tr',
			{},
			row(x).map((v, i) =>
				el(
					'td',
					{ 'data-label': cols[i] },
					v === null || v === undefined ? '—' : v,
				),
			),
		);
	return el(
		'table.' + cls,
		{},
		el('thead', {}, el('tr', {}, th)),
		el('tbody', {}, items.map(tr)),
	);
}

// A <section> named by its <h2> (id the heading's id).
export function section(id, title, ...children) {
	return el('section', { 'aria-labelledby': id }, el('h2', { id }, title), ...children);
}
