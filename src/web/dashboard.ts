/**
 * The network dashboard (served by a node at /dashboard): polls GET /network and shows agents with stake and
 * reputation, tasks and their states, disputes with every move (tx and gas), and gas and throughput over time
 * (chart.js, bundled). Plain DOM; each part is re-rendered only when its data changed, so open disputes stay open.
 * Exposes window.verityDashboard (the last view, the poll count) for tests.
 */
import { BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { AgentView, DisputeView, NetworkView, SeriesPoint, TaskView } from '../views/network.js';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend, Filler);

const POLL_MS = 1500;
const QUERY = 'bucket=5&points=90&tasks=80&disputes=30';

declare global {
  interface Window {
    verityDashboard: { view: NetworkView | null; polls: number; errors: number };
  }
}
window.verityDashboard = { view: null, polls: 0, errors: 0 };

// ── small DOM helpers ───────────────────────────────────────────────────────────────────────────────────────────

type Child = Node | string | number | null | undefined | false;

function h(tag: string, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => document.querySelector(sel) as T;
const short = (hex: string | null | undefined, n = 6): string => (hex ? `${hex.slice(0, n)}…${hex.slice(-4)}` : '—');
const vrt = (wei: string): string => {
  const v = Number(BigInt(wei) / 10n ** 15n) / 1000;
  return v.toLocaleString('en-US', { maximumFractionDigits: v >= 100 ? 0 : 2 });
};
const int = (n: number | string): string => Number(n).toLocaleString('en-US');
const clock = (t: number): string => new Date(t * 1000).toLocaleTimeString('en-GB', { hour12: false });
const chip = (text: string, cls = text): HTMLElement => h('span', { class: `chip ${cls}` }, text);
const txCode = (hash: string | undefined): HTMLElement => h('code', { title: hash ?? '' }, short(hash, 6));

/** Replaces `el`'s children only when `key` changed since the last call. */
const lastKey = new WeakMap<Element, string>();
function renderIf(el: Element, key: unknown, build: () => Child[]): void {
  const k = JSON.stringify(key);
  if (lastKey.get(el) === k) return;
  lastKey.set(el, k);
  el.replaceChildren(...build().filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (c instanceof Node ? c : String(c))));
}

// ── names ───────────────────────────────────────────────────────────────────────────────────────────────────────

let names = new Map<string, string>();

function nameAgents(agents: AgentView[]): void {
  const count: Record<string, number> = {};
  names = new Map(
    agents.map((a) => {
      count[a.role] = (count[a.role] ?? 0) + 1;
      return [a.address, a.agentId !== null ? `${a.role} #${a.agentId}` : `${a.role} ${count[a.role]}`];
    }),
  );
}

const nameOf = (addr: string | null): string => (addr ? (names.get(addr.toLowerCase()) ?? short(addr)) : '—');

// ── parts ───────────────────────────────────────────────────────────────────────────────────────────────────────

function renderHeader(v: NetworkView): void {
  renderIf($('#chain'), [v.chain.block, v.node], () => [
    'chain ',
    h('b', {}, String(v.chain.chainId)),
    ' · block ',
    h('b', {}, int(v.chain.block)),
    ' · served by a ',
    h('b', {}, v.node.role),
    ` node (${short(v.node.account)})`,
  ]);
}

function kpi(label: string, value: Child, sub?: string, cls = ''): HTMLElement {
  return h('div', { class: `kpi ${cls}` }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value, sub ? h('small', {}, ` ${sub}`) : null));
}

function lastMinute(points: SeriesPoint[], bucket: number): number {
  const n = Math.max(1, Math.round(60 / bucket));
  return points.slice(-n).reduce((s, p) => s + p.finalized, 0);
}

function renderKpis(v: NetworkView): void {
  const t = v.totals;
  renderIf($('#kpis'), [t, v.series.points.slice(-12)], () => [
    kpi('agents', int(t.agents)),
    kpi('tasks finalized', int(t.finalized), `/ ${int(t.tasks)}`, 'ok'),
    kpi('throughput', int(lastMinute(v.series.points, v.series.bucketSeconds)), 'tasks / min'),
    kpi('disputes', int(t.disputes), t.disputesOpen ? `${t.disputesOpen} open` : 'all settled', t.disputes ? 'bad' : ''),
    kpi('invalidated', int(t.invalidated), 'tasks', t.invalidated ? 'bad' : ''),
    kpi('slashed', vrt(t.slashed), 'VRT', t.slashed !== '0' ? 'bad' : ''),
    kpi('transactions', int(t.txs)),
    kpi('gas used', (Number(t.gas) / 1e6).toFixed(2), 'M'),
  ]);
}

function repCell(a: AgentView): HTMLElement | string {
  if (!a.reputation) return h('span', { class: 'muted' }, 'n/a');
  if (a.reputation.count === 0) return h('span', { class: 'muted' }, 'no feedback yet');
  const v = a.reputation.value;
  const pct = Math.max(0, Math.min(100, ((v + 1) / 2) * 100)); // feedback values are in [-1, 1]
  return h('div', { class: 'rep' }, h('span', { class: 'meter' }, h('span', { class: v < 0.5 ? 'low' : '', style: `width:${Math.max(6, pct).toFixed(0)}%` })), `${v.toFixed(2)}`, h('span', { class: 'muted' }, `(${a.reputation.count})`));
}

function renderAgents(v: NetworkView): void {
  renderIf($('#agents tbody'), v.agents, () =>
    v.agents.map((a) =>
      h(
        'tr',
        { class: a.slashed !== '0' ? 'flagged' : '', 'data-address': a.address },
        h('td', {}, h('div', { class: 'who' }, h('span', {}, nameOf(a.address)), h('code', { class: 'addr', title: a.address }, short(a.address, 10)))),
        h('td', {}, chip(a.role)),
        h('td', { class: 'num' }, vrt(a.staked)),
        h('td', { class: 'num' }, vrt(a.locked)),
        h('td', {}, repCell(a)),
        h('td', { class: 'num' }, a.role === 'worker' ? int(a.tasksCommitted) : '—'),
        h('td', { class: 'num' }, a.role === 'worker' ? int(a.tasksFinalized) : a.role === 'requester' ? `${int(a.tasksPosted)} posted` : '—'),
        h('td', { class: 'num' }, a.challenges ? int(a.challenges) : '—'),
        h('td', { class: 'num' }, a.disputesWon + a.disputesLost ? `${a.disputesWon} / ${a.disputesLost}` : '—'),
        h('td', { class: 'num' }, a.earned !== '0' ? vrt(a.earned) : '—'),
        h('td', { class: 'num' }, a.slashed !== '0' ? chip(vrt(a.slashed), 'slashed') : '—'),
      ),
    ),
  );
}

const openState = new Map<string, boolean>();

function disputeEl(d: DisputeView, first: boolean): HTMLElement {
  const result =
    d.outcome === 'challenger won' ? chip('liar caught', 'lost') : d.outcome === 'claimant won' ? chip('result stands', 'won') : chip('playing', 'playing');
  const el = h(
    'details',
    { class: 'dispute', 'data-dispute': d.disputeId, 'data-state': d.state, 'data-outcome': d.outcome },
    h(
      'summary',
      {},
      h('span', { class: 'title' }, `Dispute #${d.disputeId}`),
      h('span', { class: 'meta' }, `task ${d.taskId} · ${nameOf(d.challenger)} vs ${nameOf(d.claimant)} · ${d.moves.length} moves · ${(Number(d.gas) / 1e6).toFixed(2)} M gas`),
      d.state === 'resolved' ? chip('awaiting settlement', 'resolved') : null,
      result,
    ),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'data compact' },
        h('thead', {}, h('tr', {}, h('th', {}, 'move'), h('th', {}, 'by'), h('th', {}, 'detail'), h('th', {}, 'tx'), h('th', { class: 'num' }, 'gas'), h('th', {}, 'time'))),
        h(
          'tbody',
          {},
          ...d.moves.map((m) =>
            h(
              'tr',
              { 'data-move': m.move },
              h('td', {}, h('b', {}, m.move)),
              h('td', {}, m.side === 'other' ? h('span', { class: 'muted' }, nameOf(m.by)) : chip(nameOf(m.by), m.side)),
              h('td', { class: 'detail' }, m.detail),
              h('td', {}, txCode(m.tx)),
              m.gas === null ? h('td', { class: 'num same', title: 'counted in the move above (same transaction)' }, 'same tx') : h('td', { class: 'num' }, int(m.gas)),
              h('td', { class: 'muted' }, clock(m.at)),
            ),
          ),
        ),
      ),
    ),
  ) as HTMLDetailsElement;
  el.open = openState.get(d.disputeId) ?? first;
  // Only a click records a choice (the programmatic `open` above fires 'toggle' too).
  el.querySelector('summary')!.addEventListener('click', () => openState.set(d.disputeId, !el.open));
  return el;
}

function renderDisputes(v: NetworkView): void {
  $('#disputes-note').textContent = v.disputes.length ? `${v.totals.disputes} total · ${v.totals.disputesOpen} open` : '';
  const box = $('#disputes');
  if (v.disputes.length === 0) return;
  renderIf(box, [v.disputes, [...names]], () => v.disputes.map((d, i) => disputeEl(d, i < 2)));
}

const LAST_TX: (keyof TaskView['txs'])[] = ['invalidate', 'finalize', 'challenge', 'commit', 'claim', 'post', 'cancel'];

function renderTasks(v: NetworkView): void {
  $('#tasks-note').textContent = `${v.totals.tasks} on chain${v.tasks.length < v.totals.tasks ? ` · latest ${v.tasks.length}` : ''}`;
  renderIf($('#task-states'), v.taskStates, () =>
    Object.entries(v.taskStates)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => chip(`${s} ${n}`, s)),
  );
  renderIf($('#tasks tbody'), [v.tasks, [...names]], () =>
    v.tasks.map((t) => {
      const step = LAST_TX.find((k) => t.txs[k]);
      return h(
        'tr',
        { 'data-task': t.taskId, 'data-state': t.state },
        h('td', { title: `model ${t.modelId}, ${t.items} item(s)` }, `#${t.taskId}`),
        h('td', {}, chip(t.state)),
        h('td', {}, t.worker ? nameOf(t.worker) : h('span', { class: 'muted' }, '—')),
        h('td', { class: 'num' }, vrt(t.fee)),
        h('td', {}, step ? h('span', {}, h('span', { class: 'muted' }, `${step} `), txCode(t.txs[step])) : '—'),
      );
    }),
  );
}

// ── charts ──────────────────────────────────────────────────────────────────────────────────────────────────────

const FONT = { family: 'system-ui, sans-serif', size: 11 };
Chart.defaults.font = FONT;
Chart.defaults.color = '#6b7686';

const common = {
  responsive: true,
  maintainAspectRatio: false,
  animation: false as const,
  interaction: { mode: 'index' as const, intersect: false },
  plugins: { legend: { position: 'bottom' as const, labels: { boxWidth: 10, boxHeight: 10 } } },
};

const gasChart = new Chart<'bar' | 'line', number[], string>($<HTMLCanvasElement>('#gas-chart'), {
  type: 'bar',
  data: {
    labels: [],
    datasets: [
      { type: 'bar', label: 'gas (k)', data: [], backgroundColor: 'rgba(36, 87, 197, 0.75)', borderRadius: 3, yAxisID: 'y' },
      { type: 'line', label: 'transactions', data: [], borderColor: '#f79009', backgroundColor: '#f79009', pointRadius: 0, cubicInterpolationMode: 'monotone', borderWidth: 2, yAxisID: 'y1' },
    ],
  },
  options: {
    ...common,
    scales: {
      x: { grid: { display: false }, ticks: { maxTicksLimit: 8, maxRotation: 0 } },
      y: { beginAtZero: true, title: { display: true, text: 'k gas' }, grid: { color: '#eef0f3' } },
      y1: { beginAtZero: true, position: 'right', grid: { display: false }, title: { display: true, text: 'txs' }, ticks: { precision: 0 } },
    },
  },
});

const tpChart = new Chart<'bar' | 'line', number[], string>($<HTMLCanvasElement>('#tp-chart'), {
  type: 'line',
  data: {
    labels: [],
    datasets: [
      { label: 'finalized', data: [], borderColor: '#17803d', backgroundColor: 'rgba(23, 128, 61, 0.12)', fill: true, pointRadius: 0, cubicInterpolationMode: 'monotone', borderWidth: 2 },
      { label: 'posted', data: [], borderColor: '#2457c5', backgroundColor: '#2457c5', pointRadius: 0, cubicInterpolationMode: 'monotone', borderWidth: 2, borderDash: [4, 3] },
      { type: 'bar', label: 'disputes opened', data: [], backgroundColor: 'rgba(180, 35, 24, 0.7)', borderRadius: 3 },
    ],
  },
  options: {
    ...common,
    scales: {
      x: { grid: { display: false }, ticks: { maxTicksLimit: 8, maxRotation: 0 } },
      y: { beginAtZero: true, grid: { color: '#eef0f3' }, ticks: { precision: 0 }, title: { display: true, text: 'tasks' } },
    },
  },
});

function renderCharts(v: NetworkView): void {
  const pts = v.series.points;
  const key = JSON.stringify(pts);
  if (lastKey.get(document.body) === key) return;
  lastKey.set(document.body, key);
  const labels = pts.map((p) => clock(p.t));
  gasChart.data.labels = labels;
  gasChart.data.datasets[0]!.data = pts.map((p) => Math.round(p.gas / 1000));
  gasChart.data.datasets[1]!.data = pts.map((p) => p.txs);
  gasChart.update('none');
  tpChart.data.labels = labels;
  tpChart.data.datasets[0]!.data = pts.map((p) => p.finalized);
  tpChart.data.datasets[1]!.data = pts.map((p) => p.posted);
  tpChart.data.datasets[2]!.data = pts.map((p) => p.disputes);
  tpChart.update('none');
  const per = `per ${v.series.bucketSeconds} s of chain time`;
  $('#gas-note').textContent = `${per} · ${(Number(v.totals.gas) / 1e6).toFixed(2)} M total`;
  $('#tp-note').textContent = per;
}

// ── the loop ────────────────────────────────────────────────────────────────────────────────────────────────────

function setLive(state: 'live' | 'offline', text: string): void {
  $('#live').dataset.state = state;
  $('#live-text').textContent = text;
}

function render(v: NetworkView): void {
  nameAgents(v.agents);
  renderHeader(v);
  renderKpis(v);
  renderAgents(v);
  renderDisputes(v);
  renderTasks(v);
  renderCharts(v);
}

let failures = 0;

async function poll(): Promise<void> {
  let delay = POLL_MS;
  try {
    const r = await fetch(`/network?${QUERY}`, { cache: 'no-store' });
    if (!r.ok) throw new Error(`GET /network: ${r.status} ${(await r.text()).slice(0, 200)}`);
    const v = (await r.json()) as NetworkView;
    render(v);
    window.verityDashboard.view = v;
    window.verityDashboard.polls++;
    failures = 0;
    $('#error').hidden = true;
    setLive('live', `live · ${new Date(v.at).toLocaleTimeString('en-GB', { hour12: false })}`);
  } catch (e) {
    window.verityDashboard.errors++;
    failures++;
    delay = Math.min(10_000, POLL_MS * 2 ** Math.min(failures, 3));
    setLive('offline', 'node unreachable, retrying');
    const err = $('#error');
    err.hidden = false;
    err.textContent = (e as Error).message;
  }
  setTimeout(() => void poll(), delay);
}

void poll();
