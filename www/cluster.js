// SPDX-License-Identifier: Apache-2.0
// Cluster: the nodes holding live Consul sessions of the namespace with their queued and
// running counts (/nodes), and the namespace's jobs a page at a time (/jobs?scope=cluster);
// a node without Consul says so. Refreshed every 5 s.

import { get } from './api.js';
import { el, fill, note, when, heading, table, section } from './dom.js';
import { poll_start } from './poll.js';
import { jobs_table } from './jobs.js';

const REFRESH_MS = 5000;
const PAGE = 25;

function nodes_table(nodes) {
	return table('nodes', ['Node', 'Address', 'Queued', 'Running', 'Reported'], nodes, (n) => [
		n.name,
		n.address,
		n.queued,
		n.running,
		when(n.updated),
	]);
}

export function cluster_show(main, _arg, params) {
	const before = params.get('before') || '';
	const mode = el('p');
	const nodes = el('div');
	const jobs = el('div');
	const pager = el('nav.pager', { 'aria-label': 'Pages of cluster jobs' });
	main.append(
		heading('Cluster'),
		mode,
		section('h-nodes', 'Nodes', nodes),
		section('h-cjobs', 'Jobs in the cluster', jobs, pager),
	);

	async function refresh() {
		const [st, nd] = await Promise.all([get('/status'), get('/nodes')]);
		const consul = st.status === 200 && st.body.consul && st.body.consul.enabled;
		fill(
			mode,
			st.status !== 200
				? note('error', st.body.message)
				: consul
					? 'Consul at ' + (st.body.consul.address || '?') + '.'
					: 'Single node (no Consul): this node alone.',
		);
		fill(
			nodes,
			nd.status === 200
				? nodes_table(nd.body.nodes || [])
				: note('error', nd.body.message),
		);
		if (!consul) {
			fill(
				jobs,
				el(
					'p',
					{},
					"Cluster-wide jobs need Consul; this node's jobs are on the ",
					el('a', { href: '#/jobs' }, 'Jobs'),
					' page.',
				),
			);
			fill(pager);
			return;
		}
		const r = await get('/jobs', { scope: 'cluster', limit: PAGE, before });
		if (r.status !== 200) {
			fill(jobs, note('error', r.body.message));
			fill(pager);
			return;
		}
		fill(
			jobs,
			r.body.jobs.length
				? jobs_table(r.body.jobs)
				: el('p', {}, 'No jobs in the namespace.'),
		);
		fill(
			pager,
			before
				? el('a', { href: '#/cluster', 'data-key': 'first' }, 'First page')
				: null,
			r.body.next
				? el(
						'a',
						{
							href:
								'#/cluster?before=' +
								encodeURIComponent(r.body.next),
							'data-key': 'more',
						},
						'More',
					)
				: null,
		);
	}
	poll_start(refresh, REFRESH_MS);
}
