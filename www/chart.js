// SPDX-License-Identifier: Apache-2.0
// The overview's chart of outcomes over time: one stacked bar per /stats bucket (succeeded
// below, failed above), drawn as SVG, with the totals as its accessible name.

import { el, svg } from './dom.js';

const W = 600,
	H = 140,
	PAD = 4;

// stats: the /stats answer. Returns a <figure>.
export function chart_draw(stats) {
	const b = stats.buckets || [];
	const max = Math.max(1, ...b.map((x) => x.succeeded + x.failed));
	const step = (W - 2) / Math.max(1, b.length);
	const bw = Math.max(1, step - 1);
	const ok = b.reduce((n, x) => n + x.succeeded, 0);
	const bad = b.reduce((n, x) => n + x.failed, 0);
	const span = stats.bucket === 'hour' ? b.length + ' hours' : b.length + ' minutes';
	const label =
		ok +
		' succeeded and ' +
		bad +
		' failed in the last ' +
		span +
		(max > 1 ? ', at most ' + max + ' in one ' + stats.bucket : '');
	const bars = [];
	b.forEach((x, i) => {
		const hs = ((H - PAD) * x.succeeded) / max,
			hf = ((H - PAD) * x.failed) / max;
		const tip =
			new Date(x.start).toLocaleString() +
			': ' +
			x.succeeded +
			' succeeded, ' +
			x.failed +
			' failed';
		const g = svg('g', {}, svg('title', {}, tip));
		if (x.succeeded)
			g.appendChild(
				svg('rect', {
					class: 'bar-ok',
					x: 1 + i * step,
					y: H - hs,
					width: bw,
					height: hs,
				}),
			);
		if (x.failed)
			g.appendChild(
				svg('rect', {
					class: 'bar-bad',
					x: 1 + i * step,
					y: H - hs - hf,
					width: bw,
					height: hf,
				}),
			);
		bars.push(g);
	});
	const pic = svg(
		'svg',
		{
			viewBox: `0 0 ${W} ${H}`,
			role: 'img',
			'aria-label': label,
			class: 'chart',
			preserveAspectRatio: 'none',
		},
		svg('line', { class: 'axis', x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5 }),
		bars,
	);
	return el(
		'figure.chart-box',
		{},
		pic,
		el(
			'figcaption',
			{},
			el('span.key.key-ok', {}, 'succeeded ' + ok),
			' ',
			el('span.key.key-bad', {}, 'failed ' + bad),
			' ',
			'· last ' +
				span +
				', oldest on the left; the tallest bar is ' +
				max +
				' job' +
				(max === 1 ? '' : 's'),
		),
	);
}
