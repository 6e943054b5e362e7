/**
 * The browser page: load a quantized model (.vqm from the serving origin, or a file), run an input row,
 * show the output with its trace root and the model root, and check a committed result (a claimed trace
 * root for a model and an input) against this tab's own re-execution.
 *
 * A claim comes from the local node — ?node=<origin>&task=<id> (or the form in section 4): the task as the chain
 * holds it (GET /tasks/:id/claim) and the model bytes (GET /models/:root), checked against the model root, the
 * input digest and the committed output digest before the inputs are re-executed here; a node serves this page at
 * /app, where `node` defaults to the page's origin — or from the query string (?claim=claims/x.json, or
 * ?model=…&input=[…]&root=0x…). The page also exposes window.verity for tests and the benchmark.
 */
import { keccakReady } from '../commit/index.js';
import {
  backends,
  checkClaim,
  checkTask,
  loadModel,
  parseRuns,
  parseTaskClaim,
  runRow,
  timeRows,
  type CheckResult,
  type Claim,
  type LoadedModel,
  type RowResult,
  type RunInput,
  type TaskCheck,
  type TaskClaim,
  type TimingOptions,
} from './core.js';

/** One entry of models/index.json (written by scripts/build-web.ts --models). */
interface ModelEntry {
  name: string;
  file: string;
  modelRoot: string;
  example: RunInput;
}

export interface VerityApi {
  /** Resolves when the page is initialised (keccak ready, query claim handled). */
  ready: Promise<void>;
  backends: typeof backends;
  /** Runs: each a row, one row per graph input, or an object keyed by input name (several-input models). */
  run(modelUrl: string, rows: readonly RunInput[]): Promise<{ name: string; modelRoot: string; results: RowResult[] }>;
  /** Milliseconds per row, one figure per round (core.timeRows: the loop Node runs too). */
  time(modelUrl: string, rows: readonly RunInput[], opts?: TimingOptions): Promise<number[]>;
  check(claim: Claim & { model: string }): Promise<CheckResult>;
  /** Reads task `id` through the node at `node` (an origin; default this page's), re-executes it here, and shows the verdict. */
  checkTask(id: string, node?: string): Promise<{ claim: TaskClaim; check: TaskCheck }>;
}

declare global {
  interface Window {
    verity: VerityApi;
  }
}

// ── model cache and fetching ──────────────────────────────────────────────────────────────────────

const byUrl = new Map<string, Promise<LoadedModel>>();

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

function modelAt(url: string): Promise<LoadedModel> {
  const key = new URL(url, location.href).href;
  let m = byUrl.get(key);
  if (!m) {
    m = fetchBytes(key).then(loadModel);
    m.catch(() => byUrl.delete(key));
    byUrl.set(key, m);
  }
  return m;
}

// ── DOM helpers ───────────────────────────────────────────────────────────────────────────────────

function $<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
}

function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function kv(dl: HTMLElement, rows: [string, string | Node][]): void {
  dl.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

function hexNode(hex: string): HTMLElement {
  return el('code', { class: 'hex', title: hex }, hex);
}

function status(msg: string, kind: 'info' | 'error' = 'info'): void {
  const s = $('status');
  s.textContent = msg;
  s.className = kind;
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4);
}

// ── page state ────────────────────────────────────────────────────────────────────────────────────

let current: LoadedModel | null = null;
let entries: ModelEntry[] = [];

function showModel(m: LoadedModel, source: string): void {
  current = m;
  const t = m.model.tensors[m.model.inputs[0]];
  const o = m.model.tensors[m.model.outputs[0]];
  kv($('model-info'), [
    ['name', m.name],
    ['source', source],
    ['model root', hexNode(m.modelRoot)],
    ['graph', `${m.model.nodes.length} ops, ${m.model.tensors.length} tensors`],
    ['input', `${t.dtype} [${t.shape.join(', ')}]`],
    ['output', `${o.dtype} [${o.shape.join(', ')}]`],
  ]);
  $<HTMLButtonElement>('run').disabled = false;
  $<HTMLButtonElement>('check').disabled = false;
  clearResults();
}

function clearResults(): void {
  $('output').replaceChildren();
  $('verdict').replaceChildren();
  $('verdict').className = '';
}

async function load(action: () => Promise<LoadedModel>, source: string): Promise<LoadedModel | null> {
  status(`loading ${source}…`);
  try {
    const m = await action();
    showModel(m, source);
    status(`loaded ${m.name}`);
    return m;
  } catch (e) {
    status(`could not load ${source}: ${(e as Error).message}`, 'error');
    return null;
  }
}

/** Up to 16 values as bars; a larger output shows the top 5 of its last row along the last axis (the next-token logits of a language model). */
function valuesTable(values: number[], best: number, shape: readonly number[]): HTMLElement {
  const LIMIT = 16;
  let shown: (readonly [number, number])[] = values.map((v, i) => [i, v] as const);
  let note = '';
  if (values.length > LIMIT) {
    const last = shape[shape.length - 1];
    const from = values.length - last;
    shown = values.slice(from).map((v, i) => [from + i, v] as const).sort((a, b) => b[1] - a[1]).slice(0, 5);
    note = `${values.length} values [${shape.join(', ')}]; the top 5 of the last ${last} (flat indices).`;
  }
  const max = Math.max(...shown.map(([, v]) => Math.abs(v)), 1e-12);
  const top = shown.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  const tbody = el('tbody');
  for (const [i, v] of shown) {
    const mark = i === best || (values.length > LIMIT && i === top);
    const bar = el('span', { class: 'bar' + (mark ? ' best' : v < 0 ? ' neg' : ''), style: `width:${((Math.abs(v) / max) * 100).toFixed(1)}%` });
    tbody.append(el('tr', mark ? { class: 'best' } : {}, el('td', {}, String(i)), el('td', { class: 'num' }, fmt(v)), el('td', { class: 'barcell' }, bar)));
  }
  const table = el('table', { class: 'values' }, el('thead', {}, el('tr', {}, el('th', {}, 'index'), el('th', {}, 'value'), el('th', {}, ''))), tbody);
  return note ? el('div', {}, table, el('p', { class: 'muted' }, note)) : table;
}

function showResult(r: RowResult, ms: number | null): void {
  const dl = el('dl');
  const rows: [string, string | Node][] = [
    ['argmax', String(r.argmax) + (r.values.length > 16 ? ' (over all values)' : '')],
    ['trace root', hexNode(r.traceRoot)],
  ];
  if (ms !== null) rows.push(['time', `${ms.toFixed(2)} ms (quantize, run, commit)`]);
  kv(dl, rows);
  const shape = current ? current.model.tensors[current.model.outputs[0]].shape : [r.values.length];
  $('output').replaceChildren(dl, valuesTable(r.values, r.argmax, shape));
}

function showVerdict(c: CheckResult): void {
  const v = $('verdict');
  v.className = c.match ? 'match' : 'mismatch';
  const dl = el('dl');
  const rows: [string, string | Node][] = [
    ['claimed', hexNode(c.claimed)],
    ['re-executed', hexNode(c.computed)],
  ];
  if (c.modelRootMatch !== null) rows.push(['model root', c.modelRootMatch ? 'matches the claim' : 'differs from the claim']);
  kv(dl, rows);
  v.replaceChildren(el('strong', {}, c.match ? '✓ match — this tab computed the committed trace root' : '✗ mismatch — the committed trace root is not what this model computes on this input'), dl);
}

function inputRow(): RunInput {
  const rows = parseRuns($<HTMLTextAreaElement>('input').value, current ?? undefined);
  if (rows.length !== 1) throw new Error(`Give the inputs of one run (got ${rows.length} rows).`);
  return rows[0];
}

function onRun(): void {
  if (!current) return;
  try {
    const t0 = performance.now();
    const r = runRow(current, inputRow());
    showResult(r, performance.now() - t0);
    $<HTMLInputElement>('claim-root').placeholder = r.traceRoot;
    status(`ran ${current.name}`);
  } catch (e) {
    status((e as Error).message, 'error');
  }
}

function onCheck(claim?: Claim): void {
  if (!current) return;
  try {
    const c = checkClaim(current, claim ?? { input: inputRow(), traceRoot: $<HTMLInputElement>('claim-root').value.trim() });
    showResult(c.result, null);
    showVerdict(c);
    status(c.match ? 'claim verified' : 'claim rejected', c.match ? 'info' : 'error');
  } catch (e) {
    status((e as Error).message, 'error');
  }
}

async function selectEntry(e: ModelEntry): Promise<void> {
  $<HTMLInputElement>('model-url').value = e.file;
  $<HTMLTextAreaElement>('input').value = JSON.stringify(e.example);
  await load(() => modelAt(e.file), e.file);
}

/** A claim from the query string: ?claim=<url of JSON> or ?model=<url>&input=<JSON row>&root=<hex>[&modelRoot=<hex>]. */
async function claimFromQuery(q: URLSearchParams): Promise<(Claim & { model?: string }) | null> {
  const url = q.get('claim');
  if (url) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
    return (await res.json()) as Claim;
  }
  const input = q.get('input');
  const root = q.get('root');
  if (input && root) return { model: q.get('model') ?? undefined, input: parseRuns(input)[0], traceRoot: root, modelRoot: q.get('modelRoot') ?? undefined };
  return null;
}

// ── a committed task of the network, read through the local node ──────────────────────────────────────────────

async function fetchJson(url: string): Promise<unknown> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  const body = (await res.json().catch(() => null)) as { error?: string; message?: string } | null;
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}${body?.message ? ` — ${body.message}` : ''}`);
  return body;
}

function yesNo(ok: boolean, yes: string, no: string): HTMLElement {
  return el('span', { class: ok ? 'ok' : 'bad' }, ok ? `✓ ${yes}` : `✗ ${no}`);
}

function outputSummary(values: readonly number[]): string {
  const head = values.slice(0, 8).join(', ');
  return `[${head}${values.length > 8 ? `, … (${values.length} values)` : ''}]`;
}

function showTaskVerdict(claim: TaskClaim, c: TaskCheck): void {
  const v = $('task-verdict');
  v.className = c.match ? 'match' : 'mismatch';
  v.dataset.task = claim.taskId;
  v.dataset.verdict = c.match ? 'match' : 'mismatch';
  v.dataset.claimed = c.claimed;
  v.dataset.computed = c.computed;
  const commit = claim.commit!;
  const dl = el('dl');
  kv(dl, [
    ['task', `#${claim.taskId}${claim.requestId ? ` (${claim.requestId})` : ''} · ${claim.status}${claim.openDisputes ? ` · ${claim.openDisputes} open dispute(s)` : ''}`],
    ['worker', hexNode(commit.worker)],
    ['committed output digest', hexNode(c.claimed)],
    ['re-executed output digest', hexNode(c.computed)],
    ['model root', el('span', {}, hexNode(c.modelRoot.claimed), ' ', yesNo(c.modelRoot.match, 'the model bytes hash to it', `the model bytes hash to ${c.modelRoot.computed}`))],
    ['inputs', el('span', {}, `${claim.input.tensors.map((t) => `${t.dtype} [${t.shape.join(', ')}]`).join(', ')} `, yesNo(c.inputHash.match, 'hash to the posted input digest', 'do not hash to the posted input digest'))],
    ['committed output', el('span', {}, outputSummary(c.committedOutput), ' ', yesNo(c.outputHash.match, 'hashes to the committed digest', 'does not hash to the committed digest'))],
    ['re-executed output', el('span', {}, outputSummary(c.result.output), ' ', yesNo(c.outputMatch, 'equals the committed output', 'differs from the committed output'))],
    ['commit tx', hexNode(commit.tx)],
  ]);
  const head = c.match
    ? `✓ match — this tab re-executed task ${claim.taskId} and computed the committed outputs`
    : `✗ mismatch — task ${claim.taskId}'s committed result is not what this model computes on its inputs`;
  v.replaceChildren(el('strong', {}, head), dl);
}

function taskPending(msg: string, kind: 'pending' | 'mismatch' = 'pending'): void {
  const v = $('task-verdict');
  v.className = kind;
  delete v.dataset.verdict;
  v.replaceChildren(el('p', {}, msg));
}

/** Reads task `id` through the node, loads and checks the model, re-executes the inputs, shows the verdict. */
async function checkTaskFrom(id: string, node: string): Promise<{ claim: TaskClaim; check: TaskCheck }> {
  const origin = new URL(node || location.origin, location.href);
  const claimUrl = new URL(`/tasks/${encodeURIComponent(id)}/claim`, origin).href;
  status(`reading task ${id} from ${origin.origin}…`);
  taskPending(`Reading task ${id} from the chain through ${origin.origin}…`);
  try {
    const claim = parseTaskClaim(await fetchJson(claimUrl));
    if (!claim.commit) throw new Error(`Task ${claim.taskId} is ${claim.status}: no result committed yet.`);
    const modelUrl = new URL(claim.model.url ?? `/models/${claim.model.root}`, origin).href;
    $<HTMLInputElement>('model-url').value = modelUrl;
    const m = await load(() => modelAt(modelUrl), `${claim.model.name ?? 'model'} from ${origin.origin}`);
    if (!m) throw new Error(`Could not load the model ${claim.model.root} from ${modelUrl}.`);
    const check = checkTask(m, claim);
    showResult(check.result, null);
    showTaskVerdict(claim, check);
    status(check.match ? `task ${claim.taskId}: committed result verified in this tab` : `task ${claim.taskId}: committed result rejected`, check.match ? 'info' : 'error');
    return { claim, check };
  } catch (e) {
    taskPending((e as Error).message, 'mismatch');
    status((e as Error).message, 'error');
    throw e;
  }
}

async function init(): Promise<void> {
  await keccakReady;
  const b = backends();
  $('backends').textContent = `kernels: ${b.gemm} · keccak: ${b.keccak}`;
  $('run').addEventListener('click', onRun);
  $('check').addEventListener('click', () => onCheck());
  $('load-url').addEventListener('click', () => {
    const url = $<HTMLInputElement>('model-url').value.trim();
    if (url) void load(() => modelAt(url), url);
  });
  $<HTMLInputElement>('model-file').addEventListener('change', (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (f) void load(async () => loadModel(new Uint8Array(await f.arrayBuffer())), f.name);
  });
  $('task-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = $<HTMLInputElement>('task-id').value.trim();
    if (id) void checkTaskFrom(id, $<HTMLInputElement>('node-url').value.trim()).catch(() => undefined);
  });
  $<HTMLInputElement>('node-url').placeholder = location.origin;
  const select = $<HTMLSelectElement>('model-select');
  select.addEventListener('change', () => {
    const e = entries.find((x) => x.name === select.value);
    if (e) void selectEntry(e);
  });

  // Shipped models, when the build put them next to the page.
  try {
    const res = await fetch('models/index.json');
    if (res.ok) entries = (await res.json()) as ModelEntry[];
  } catch {
    entries = [];
  }
  select.replaceChildren(el('option', { value: '' }, entries.length ? 'a shipped model…' : 'no models served'), ...entries.map((e) => el('option', { value: e.name }, e.name)));

  const q = new URLSearchParams(location.search);
  const task = q.get('task');
  if (task) {
    const node = q.get('node') ?? location.origin;
    $<HTMLInputElement>('node-url').value = node;
    $<HTMLInputElement>('task-id').value = task;
    await checkTaskFrom(task, node).catch(() => undefined);
    return;
  }
  const claim = await claimFromQuery(q).catch((e: Error) => {
    status(`could not read the claim: ${e.message}`, 'error');
    return null;
  });
  const modelUrl = claim?.model ?? q.get('model');
  if (modelUrl) {
    $<HTMLInputElement>('model-url').value = modelUrl;
    const entry = entries.find((e) => e.file === modelUrl);
    if (entry) select.value = entry.name;
    if (entry && !claim) $<HTMLTextAreaElement>('input').value = JSON.stringify(entry.example);
    const m = await load(() => modelAt(modelUrl), modelUrl);
    if (m && claim) {
      $<HTMLTextAreaElement>('input').value = JSON.stringify(claim.input);
      $<HTMLInputElement>('claim-root').value = claim.traceRoot;
      onCheck(claim);
    }
  }
}

window.verity = {
  ready: Promise.resolve(),
  backends,
  async run(modelUrl, rows) {
    const m = await modelAt(modelUrl);
    return { name: m.name, modelRoot: m.modelRoot, results: rows.map((r) => runRow(m, r)) };
  },
  async time(modelUrl, rows, opts = {}) {
    return timeRows(await modelAt(modelUrl), rows, opts);
  },
  async check(claim) {
    return checkClaim(await modelAt(claim.model), claim);
  },
  checkTask(id, node) {
    return checkTaskFrom(id, node ?? location.origin);
  },
};
window.verity.ready = init().catch((e: Error) => status(`init failed: ${e.message}`, 'error'));
