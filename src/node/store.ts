/**
 * A node's durable state: one SQLite file per node (better-sqlite3, WAL, synchronous=FULL), schema migrations
 * recorded in `schema_version`, and content-addressed trace files under `<dataDir>/traces/` written atomically
 * (temp file, fsync, rename).
 *
 * Tables: tasks (the market's view of the tasks this node touches), results (what this node computed for a task
 * element), traces (trace index: traceRoot → file), disputes (one state-machine row per tracked dispute), txs
 * (pending transactions: intent → signed → sent → confirmed | failed; see src/chain/tx.ts), tx_attempts (every
 * signature of a txs key: the first and its fee-bumped replacements under the same nonce), kv (cursors, agent id).
 *
 * Every write is a single statement or one SQLite transaction, so a process killed at any moment leaves each row
 * either before or after a step, never between.
 */
import type { Fees, TxAttempt, TxJournal, TxRow } from '../chain/tx.js';
import Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BaseError } from '../errors.js';

export class StoreError extends BaseError {
  override name = 'StoreError';
}

type Db = InstanceType<typeof Database>;

/** Ordered migrations; the n-th (1-based) brings the schema to version n. Never edit a shipped one: append. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE tasks (
     task_id TEXT PRIMARY KEY,
     model_id TEXT NOT NULL,
     model_root TEXT,
     requester TEXT,
     worker TEXT,
     item_count INTEGER NOT NULL DEFAULT 1,
     fee TEXT NOT NULL DEFAULT '0',
     deadline INTEGER NOT NULL DEFAULT 0,
     input_hash TEXT,
     inputs TEXT,
     status TEXT NOT NULL,
     output_hash TEXT,
     trace_root TEXT,
     outputs TEXT,
     challenge_deadline INTEGER,
     txs TEXT NOT NULL DEFAULT '{}',
     error TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX tasks_status ON tasks(status);
   CREATE TABLE results (
     task_id TEXT NOT NULL,
     idx INTEGER NOT NULL,
     output_hash TEXT NOT NULL,
     trace_root TEXT NOT NULL,
     outputs TEXT NOT NULL,
     corrupted INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (task_id, idx)
   );
   CREATE TABLE traces (
     root TEXT PRIMARY KEY,
     model_root TEXT NOT NULL,
     file TEXT NOT NULL,
     bytes INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE disputes (
     dispute_id TEXT PRIMARY KEY,
     game_id TEXT NOT NULL,
     task_id TEXT NOT NULL,
     idx INTEGER NOT NULL,
     side TEXT NOT NULL,
     trace_root TEXT NOT NULL,
     state TEXT NOT NULL,
     game_phase INTEGER NOT NULL DEFAULT 0,
     deadline INTEGER,
     last_move_tx TEXT,
     outcome INTEGER NOT NULL DEFAULT 0,
     resolve_tx TEXT,
     error TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX disputes_state ON disputes(state);
   CREATE TABLE txs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     key TEXT NOT NULL UNIQUE,
     account TEXT NOT NULL,
     call TEXT NOT NULL,
     status TEXT NOT NULL,
     nonce INTEGER,
     hash TEXT,
     raw TEXT,
     block INTEGER,
     error TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE UNIQUE INDEX txs_nonce ON txs(account, nonce) WHERE nonce IS NOT NULL;
   CREATE INDEX txs_status ON txs(status);`,
  // 2: a requester's rows are keyed by a local request id until the market assigns the task id.
  `ALTER TABLE tasks ADD COLUMN chain_task_id TEXT;
   CREATE INDEX tasks_chain ON tasks(chain_task_id);`,
  // 3: batch tasks: the posted PositionalMerkle root of the element inputs and the committed root of the results.
  `ALTER TABLE tasks ADD COLUMN input_root TEXT;
   ALTER TABLE tasks ADD COLUMN result_root TEXT;
   CREATE INDEX tasks_input_root ON tasks(input_root);`,
  // 4: every signature of a transaction key (the first and its fee-bumped replacements under the same nonce).
  `CREATE TABLE tx_attempts (
     key TEXT NOT NULL,
     n INTEGER NOT NULL,
     hash TEXT NOT NULL,
     raw TEXT NOT NULL,
     status TEXT NOT NULL,
     max_fee_per_gas TEXT,
     max_priority_fee_per_gas TEXT,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (key, n)
   );
   CREATE INDEX tx_attempts_hash ON tx_attempts(hash);`,
  // 5: no trace root is committed any more (issue 13): results and tasks keep the output digest only; a trace root
  // exists only where a dispute or an audit computed one (disputes.trace_root).
  `ALTER TABLE results DROP COLUMN trace_root;
   ALTER TABLE tasks DROP COLUMN trace_root;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Task row status. Worker: open → claimed → computed → committed (→ challenged → committed | invalidated) →
 * finalized; lost (another worker claimed it); skipped (not served). Verifier: open → committed → verified |
 * challenged → invalidated | verified; skipped (not sampled). Requester: posting → posted → committed → finalized |
 * invalidated; failed (post reverted).
 */
export type TaskStatus =
  | 'posting'
  | 'posted'
  | 'open'
  | 'claimed'
  | 'computed'
  | 'committed'
  | 'challenged'
  | 'verified'
  | 'finalized'
  | 'invalidated'
  | 'cancelled'
  | 'lost'
  | 'failed'
  | 'skipped';

export interface TaskRow {
  taskId: string;
  /** The market's task id (equals taskId for worker and verifier rows; set after posting for a requester). */
  chainTaskId: string | null;
  modelId: string;
  modelRoot: string | null;
  requester: string | null;
  worker: string | null;
  itemCount: number;
  fee: string;
  deadline: number;
  inputHash: string | null;
  /** JSON: the input tensors (see src/node/tensors.ts); for a batch (itemCount > 1), one tensor list per element. */
  inputs: string | null;
  /** Batch tasks: PositionalMerkle root of inputLeaf(i, inputHash_i) (TaskPosted.inputRoot). */
  inputRoot: string | null;
  /** Batch tasks: the committed root of resultLeaf(i, outputHash_i). */
  resultRoot: string | null;
  status: TaskStatus;
  outputHash: string | null;
  /** JSON: the committed output tensors. */
  outputs: string | null;
  challengeDeadline: number | null;
  /** Transaction hashes by step (post, claim, commit, finalize, ...). */
  txs: Record<string, string>;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ResultRow {
  taskId: string;
  idx: number;
  outputHash: string;
  outputs: string;
  corrupted: boolean;
  createdAt: number;
}

export type DisputeSide = 'claimant' | 'challenger';

export interface DisputeRow {
  disputeId: string;
  gameId: string;
  taskId: string;
  idx: number;
  side: DisputeSide;
  /** Trace root this node plays from (its own run, recomputed when the dispute opened). */
  traceRoot: string;
  /** dispute-fsm state. */
  state: string;
  gamePhase: number;
  /** Unix time by which the current mover must move (null when unknown). */
  deadline: number | null;
  lastMoveTx: string | null;
  outcome: number;
  resolveTx: string | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

export type { TxRow, TxStatus } from '../chain/tx.js';

const now = (): number => Math.floor(Date.now() / 1000);

function camel<T>(row: Record<string, unknown> | undefined): T | undefined {
  if (!row) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  return out as T;
}

function taskOf(row: Record<string, unknown> | undefined): TaskRow | undefined {
  const t = camel<TaskRow & { txs: string }>(row);
  if (!t) return undefined;
  return { ...t, txs: JSON.parse(t.txs as unknown as string) as Record<string, string> };
}

function resultOf(row: Record<string, unknown> | undefined): ResultRow | undefined {
  const r = camel<ResultRow>(row);
  return r && { ...r, corrupted: Boolean(r.corrupted) };
}

const TASK_COLUMNS: Record<string, string> = {
  chainTaskId: 'chain_task_id',
  modelId: 'model_id',
  modelRoot: 'model_root',
  requester: 'requester',
  worker: 'worker',
  itemCount: 'item_count',
  fee: 'fee',
  deadline: 'deadline',
  inputHash: 'input_hash',
  inputs: 'inputs',
  inputRoot: 'input_root',
  resultRoot: 'result_root',
  status: 'status',
  outputHash: 'output_hash',
  outputs: 'outputs',
  challengeDeadline: 'challenge_deadline',
  error: 'error',
};

const DISPUTE_COLUMNS: Record<string, string> = {
  state: 'state',
  gamePhase: 'game_phase',
  deadline: 'deadline',
  lastMoveTx: 'last_move_tx',
  outcome: 'outcome',
  resolveTx: 'resolve_tx',
  error: 'error',
};

export interface OpenStoreOptions {
  /** Node data directory (created if missing): node.db and traces/ live here. */
  dataDir: string;
}

/** The node's state. Synchronous (better-sqlite3); one instance per process. */
export class NodeStore implements TxJournal {
  readonly db: Db;
  readonly dataDir: string;
  readonly traceDir: string;

  private constructor(db: Db, dataDir: string) {
    this.db = db;
    this.dataDir = dataDir;
    this.traceDir = join(dataDir, 'traces');
  }

  static open(opts: OpenStoreOptions): NodeStore {
    mkdirSync(join(opts.dataDir, 'traces'), { recursive: true });
    let db: Db;
    try {
      db = new Database(join(opts.dataDir, 'node.db'));
    } catch (e) {
      throw new StoreError('Cannot open the node database.', { details: `${opts.dataDir}/node.db: ${(e as Error).message}`, cause: e });
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const store = new NodeStore(db, opts.dataDir);
    store.migrate();
    return store;
  }

  /** Applies every migration newer than the recorded version, each in its own transaction. */
  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const current = this.schemaVersion();
    if (current > MIGRATIONS.length) {
      throw new StoreError('The node database is newer than this program.', {
        details: `schema version ${current}, this build knows ${MIGRATIONS.length}`,
        hint: 'Upgrade verity or use another --data directory.',
      });
    }
    for (let v = current + 1; v <= MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v - 1]!);
        this.db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(v, now());
      })();
    }
  }

  schemaVersion(): number {
    const r = this.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
    return r.v ?? 0;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs `fn` in one SQLite transaction. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ------------------------------------------------------------------ kv

  getKv(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setKv(key: string, value: string): void {
    this.db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // ------------------------------------------------------------------ tasks

  /** Inserts a task if unknown; returns true if inserted. */
  insertTask(t: Pick<TaskRow, 'taskId' | 'modelId' | 'status'> & Partial<Omit<TaskRow, 'taskId' | 'createdAt' | 'updatedAt'>>): boolean {
    const ts = now();
    const r = this.db
      .prepare(
        `INSERT OR IGNORE INTO tasks (task_id, chain_task_id, model_id, model_root, requester, worker, item_count, fee, deadline, input_hash, inputs, status,
           output_hash, outputs, challenge_deadline, txs, error, created_at, updated_at, input_root, result_root)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        t.taskId,
        t.chainTaskId ?? null,
        t.modelId,
        t.modelRoot ?? null,
        t.requester ?? null,
        t.worker ?? null,
        t.itemCount ?? 1,
        t.fee ?? '0',
        t.deadline ?? 0,
        t.inputHash ?? null,
        t.inputs ?? null,
        t.status,
        t.outputHash ?? null,
        t.outputs ?? null,
        t.challengeDeadline ?? null,
        JSON.stringify(t.txs ?? {}),
        t.error ?? null,
        ts,
        ts,
        t.inputRoot ?? null,
        t.resultRoot ?? null,
      );
    return r.changes === 1;
  }

  getTask(taskId: string): TaskRow | undefined {
    return taskOf(this.db.prepare('SELECT * FROM tasks WHERE task_id = ?').get(taskId) as Record<string, unknown> | undefined);
  }

  /** A task by local id or by the market's task id. */
  findTask(id: string): TaskRow | undefined {
    return this.getTask(id) ?? taskOf(this.db.prepare('SELECT * FROM tasks WHERE chain_task_id = ?').get(id) as Record<string, unknown> | undefined);
  }

  updateTask(taskId: string, patch: Partial<Omit<TaskRow, 'taskId' | 'txs' | 'createdAt' | 'updatedAt'>>): void {
    const sets: string[] = [];
    const vals: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      const col = TASK_COLUMNS[k];
      if (!col) throw new StoreError(`Unknown task field ${k}.`);
      sets.push(`${col} = ?`);
      vals.push(v ?? null);
    }
    sets.push('updated_at = ?');
    vals.push(now(), taskId);
    this.db.prepare(`UPDATE tasks SET ${sets.join(', ')} WHERE task_id = ?`).run(...vals);
  }

  /** Records a transaction hash of a task step (merged into its txs map). */
  addTaskTx(taskId: string, step: string, hash: string): void {
    this.tx(() => {
      const t = this.getTask(taskId);
      if (!t) return;
      const txs = { ...t.txs, [step]: hash };
      this.db.prepare('UPDATE tasks SET txs = ?, updated_at = ? WHERE task_id = ?').run(JSON.stringify(txs), now(), taskId);
    });
  }

  tasksByStatus(...statuses: TaskStatus[]): TaskRow[] {
    const q = `SELECT * FROM tasks WHERE status IN (${statuses.map(() => '?').join(',')}) ORDER BY CAST(task_id AS INTEGER)`;
    return (this.db.prepare(q).all(...statuses) as Record<string, unknown>[]).map((r) => taskOf(r)!);
  }

  listTasks(limit = 100): TaskRow[] {
    return (this.db.prepare('SELECT * FROM tasks ORDER BY CAST(task_id AS INTEGER) DESC LIMIT ?').all(limit) as Record<string, unknown>[]).map((r) => taskOf(r)!);
  }

  countTasksByStatus(): Record<string, number> {
    const rows = this.db.prepare('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status').all() as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  // ------------------------------------------------------------------ results

  putResult(r: Omit<ResultRow, 'createdAt'>): void {
    this.db
      .prepare(
        `INSERT INTO results (task_id, idx, output_hash, outputs, corrupted, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(task_id, idx) DO NOTHING`,
      )
      .run(r.taskId, r.idx, r.outputHash, r.outputs, r.corrupted ? 1 : 0, now());
  }

  /** Every stored element result of a task, in element order. */
  listResults(taskId: string): ResultRow[] {
    return (this.db.prepare('SELECT * FROM results WHERE task_id = ? ORDER BY idx').all(taskId) as Record<string, unknown>[]).map((r) => resultOf(r)!);
  }

  deleteResults(taskId: string): void {
    this.db.prepare('DELETE FROM results WHERE task_id = ?').run(taskId);
  }

  /** Several element results in one transaction (one journal sync for all of them). */
  putResults(rs: readonly Omit<ResultRow, 'createdAt'>[]): void {
    this.tx(() => {
      for (const r of rs) this.putResult(r);
    });
  }

  /**
   * Drops what a settled task no longer needs: for every task of `worker` whose status is final (finalized,
   * invalidated) and unchanged for at least `olderThanS` seconds, its element results, its kept inputs and its per-task kv
   * entries (`lie:`, `claim-attempt:`). Nothing can dispute or audit a settled task, so nothing recomputes
   * its traces; the row itself (ids, hashes, roots, a single
   * result's outputs, tx hashes) stays. Freed pages are reused by later inserts, so the
   * database stops growing with the number of tasks answered. Returns how many tasks were pruned.
   */
  pruneSettled(worker: string, olderThanS: number): number {
    const cutoff = now() - olderThanS;
    return this.tx(() => {
      const ids = (
        this.db
          .prepare(`SELECT task_id FROM tasks WHERE status IN ('finalized', 'invalidated') AND lower(worker) = ? AND updated_at <= ? AND (inputs IS NOT NULL OR EXISTS (SELECT 1 FROM results r WHERE r.task_id = tasks.task_id))`)
          .all(worker.toLowerCase(), cutoff) as { task_id: string }[]
      ).map((r) => r.task_id);
      const delResults = this.db.prepare('DELETE FROM results WHERE task_id = ?');
      const get = this.db.prepare('SELECT * FROM tasks WHERE task_id = ?');
      const del = this.db.prepare('DELETE FROM tasks WHERE task_id = ?');
      const delKv = this.db.prepare('DELETE FROM kv WHERE key IN (?, ?)');
      let put: import("better-sqlite3").Statement<unknown[]> | undefined;
      for (const id of ids) {
        delResults.run(id);
        // The row is deleted and re-inserted without its inputs rather than updated in place: an in-place update
        // leaves the inputs' share of its b-tree page as a hole new rows never fill (the file kept growing).
        const row = get.get(id) as Record<string, unknown>;
        del.run(id);
        const cols = Object.keys(row);
        put ??= this.db.prepare(`INSERT INTO tasks (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
        put.run(...cols.map((c) => (c === 'inputs' ? null : row[c])));
        delKv.run(`lie:${id}`, `claim-attempt:${id}`);
      }
      return ids.length;
    });
  }

  /** A task by its batch input root (the requester serving its inputs). */
  findTaskByInputRoot(inputRoot: string): TaskRow | undefined {
    return taskOf(this.db.prepare('SELECT * FROM tasks WHERE input_root = ? AND inputs IS NOT NULL ORDER BY updated_at DESC LIMIT 1').get(inputRoot.toLowerCase()) as Record<string, unknown> | undefined);
  }

  getResult(taskId: string, idx = 0): ResultRow | undefined {
    return resultOf(this.db.prepare('SELECT * FROM results WHERE task_id = ? AND idx = ?').get(taskId, idx) as Record<string, unknown> | undefined);
  }

  // ------------------------------------------------------------------ traces

  /** Path of the trace file for `root` (content-addressed). */
  tracePath(root: string): string {
    if (!/^0x[0-9a-f]{64}$/.test(root)) throw new StoreError('Not a trace root.', { details: root });
    return join(this.traceDir, `${root.slice(2)}.trace`);
  }

  /**
   * Stores trace bytes under their root: written to a temp file, fsynced, renamed into place, then indexed.
   * Idempotent (an existing file for the root is kept).
   */
  putTrace(root: string, modelRoot: string, bytes: Uint8Array): void {
    const file = this.tracePath(root);
    if (!existsSync(file)) {
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, bytes);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
      const dfd = openSync(this.traceDir, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    }
    this.db
      .prepare('INSERT OR IGNORE INTO traces (root, model_root, file, bytes, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(root, modelRoot, file, bytes.length, now());
  }

  hasTrace(root: string): boolean {
    return this.db.prepare('SELECT 1 FROM traces WHERE root = ?').get(root) !== undefined;
  }

  getTrace(root: string): { modelRoot: string; bytes: Uint8Array } | undefined {
    const r = this.db.prepare('SELECT model_root, file FROM traces WHERE root = ?').get(root) as { model_root: string; file: string } | undefined;
    if (!r || !existsSync(r.file)) return undefined;
    return { modelRoot: r.model_root, bytes: new Uint8Array(readFileSync(r.file)) };
  }

  // ------------------------------------------------------------------ disputes

  /** Starts tracking a dispute (idempotent); returns true if new. */
  insertDispute(d: Pick<DisputeRow, 'disputeId' | 'gameId' | 'taskId' | 'idx' | 'side' | 'traceRoot' | 'state'>): boolean {
    const ts = now();
    const r = this.db
      .prepare(
        `INSERT OR IGNORE INTO disputes (dispute_id, game_id, task_id, idx, side, trace_root, state, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(d.disputeId, d.gameId, d.taskId, d.idx, d.side, d.traceRoot, d.state, ts, ts);
    return r.changes === 1;
  }

  getDispute(disputeId: string): DisputeRow | undefined {
    return camel<DisputeRow>(this.db.prepare('SELECT * FROM disputes WHERE dispute_id = ?').get(disputeId) as Record<string, unknown> | undefined);
  }

  updateDispute(disputeId: string, patch: Partial<Pick<DisputeRow, 'state' | 'gamePhase' | 'deadline' | 'lastMoveTx' | 'outcome' | 'resolveTx' | 'error'>>): void {
    const sets: string[] = [];
    const vals: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      sets.push(`${DISPUTE_COLUMNS[k]!} = ?`);
      vals.push(v ?? null);
    }
    sets.push('updated_at = ?');
    vals.push(now(), disputeId);
    this.db.prepare(`UPDATE disputes SET ${sets.join(', ')} WHERE dispute_id = ?`).run(...vals);
  }

  listDisputes(opts: { active?: boolean } = {}): DisputeRow[] {
    const where = opts.active ? "WHERE state NOT IN ('done')" : '';
    return (this.db.prepare(`SELECT * FROM disputes ${where} ORDER BY CAST(dispute_id AS INTEGER)`).all() as Record<string, unknown>[]).map(
      (r) => camel<DisputeRow>(r)!,
    );
  }

  // ------------------------------------------------------------------ transactions

  getTx(key: string): TxRow | undefined {
    return camel<TxRow>(this.db.prepare('SELECT * FROM txs WHERE key = ?').get(key) as Record<string, unknown> | undefined);
  }

  /** Records the intent to send `call` under `key`. Returns the existing row if the key is known (never a second one). */
  recordIntent(key: string, account: string, call: string): TxRow {
    const ts = now();
    this.db
      .prepare("INSERT OR IGNORE INTO txs (key, account, call, status, created_at, updated_at) VALUES (?, ?, ?, 'intent', ?, ?)")
      .run(key, account.toLowerCase(), call, ts, ts);
    return this.getTx(key)!;
  }

  private addAttempt(key: string, hash: string, raw: string, fees?: Fees): void {
    const r = this.db.prepare('SELECT COALESCE(MAX(n) + 1, 0) AS n FROM tx_attempts WHERE key = ?').get(key) as { n: number };
    this.db
      .prepare("INSERT INTO tx_attempts (key, n, hash, raw, status, max_fee_per_gas, max_priority_fee_per_gas, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)")
      .run(key, r.n, hash, raw, fees ? String(fees.maxFeePerGas) : null, fees ? String(fees.maxPriorityFeePerGas) : null, Date.now());
  }

  /** intent → signed: the raw transaction and its hash are durable before anything is broadcast (attempt 0). */
  recordSigned(key: string, nonce: number, hash: string, raw: string, fees?: Fees): void {
    this.tx(() => {
      const r = this.db
        .prepare("UPDATE txs SET status = 'signed', nonce = ?, hash = ?, raw = ?, updated_at = ? WHERE key = ? AND status = 'intent'")
        .run(nonce, hash, raw, now(), key);
      if (r.changes !== 1) throw new StoreError(`Transaction ${key} is not an intent.`, { details: `status ${this.getTx(key)?.status}` });
      this.addAttempt(key, hash, raw, fees);
    });
  }

  /** A fee-bumped signature of the same nonce becomes current (if the current hash is still `prevHash`). */
  recordReplacement(key: string, prevHash: string, hash: string, raw: string, fees: Fees): boolean {
    return this.tx(() => {
      const r = this.db
        .prepare("UPDATE txs SET status = 'signed', hash = ?, raw = ?, updated_at = ? WHERE key = ? AND hash = ? AND status IN ('signed', 'sent')")
        .run(hash, raw, now(), key, prevHash);
      if (r.changes !== 1) return false;
      this.db.prepare("UPDATE tx_attempts SET status = 'replaced' WHERE key = ? AND status = 'pending'").run(key);
      this.addAttempt(key, hash, raw, fees);
      return true;
    });
  }

  /** Every signature of `key`, in order. */
  attemptsOf(key: string): TxAttempt[] {
    return (this.db.prepare('SELECT * FROM tx_attempts WHERE key = ? ORDER BY n').all(key) as Record<string, unknown>[]).map((r) => camel<TxAttempt>(r)!);
  }

  /** signed → sent (the node accepted the raw transaction). */
  recordSent(key: string): void {
    this.db.prepare("UPDATE txs SET status = 'sent', updated_at = ? WHERE key = ? AND status = 'signed'").run(now(), key);
  }

  /** → confirmed (mined, success) or failed (reverted, or could not be sent; `error` says why); `hash`: the mined attempt. */
  recordOutcome(key: string, outcome: { status: 'confirmed' | 'failed'; block?: number; error?: string; hash?: string }): void {
    this.tx(() => {
      const r = this.db
        .prepare("UPDATE txs SET status = ?, block = ?, error = ?, hash = COALESCE(?, hash), updated_at = ? WHERE key = ? AND status NOT IN ('confirmed', 'failed')")
        .run(outcome.status, outcome.block ?? null, outcome.error ?? null, outcome.hash ?? null, now(), key);
      if (r.changes === 1 && outcome.hash) {
        this.db.prepare("UPDATE tx_attempts SET status = CASE WHEN hash = ? THEN 'mined' WHEN status = 'pending' THEN 'replaced' ELSE status END WHERE key = ?").run(outcome.hash, key);
      }
    });
  }

  /** A signed transaction whose nonce was taken by another one: forget its nonce so the key can be signed again. */
  recordDropped(key: string, error: string): void {
    this.tx(() => {
      const r = this.db.prepare("UPDATE txs SET status = 'intent', nonce = NULL, hash = NULL, raw = NULL, error = ?, updated_at = ? WHERE key = ? AND status IN ('signed', 'sent')").run(error, now(), key);
      if (r.changes === 1) this.db.prepare("UPDATE tx_attempts SET status = 'dropped' WHERE key = ? AND status IN ('pending', 'replaced')").run(key);
    });
  }

  /** Transactions not yet confirmed or failed, oldest first. */
  unsettledTxs(account?: string): TxRow[] {
    const rows = account
      ? this.db.prepare("SELECT * FROM txs WHERE status IN ('intent', 'signed', 'sent') AND account = ? ORDER BY id").all(account.toLowerCase())
      : this.db.prepare("SELECT * FROM txs WHERE status IN ('intent', 'signed', 'sent') ORDER BY id").all();
    return (rows as Record<string, unknown>[]).map((r) => camel<TxRow>(r)!);
  }

  /** Confirmed or failed rows of `account` mined at or above `block`. */
  settledSince(account: string, block: number): TxRow[] {
    return (
      this.db
        .prepare("SELECT * FROM txs WHERE status IN ('confirmed', 'failed') AND account = ? AND hash IS NOT NULL AND block IS NOT NULL AND block >= ? ORDER BY id")
        .all(account.toLowerCase(), block) as Record<string, unknown>[]
    ).map((r) => camel<TxRow>(r)!);
  }

  /** After a reorg: the settled transaction moved to `block`, or is gone from the chain (back to sent, same bytes). */
  recordReorged(key: string, change: { block: number; outcome?: { status: 'confirmed' | 'failed'; error: string | null } } | 'gone'): void {
    if (change === 'gone') {
      this.tx(() => {
        const r = this.db.prepare("UPDATE txs SET status = 'sent', block = NULL, error = NULL, updated_at = ? WHERE key = ? AND status IN ('confirmed', 'failed')").run(now(), key);
        if (r.changes === 1) this.db.prepare("UPDATE tx_attempts SET status = 'pending' WHERE key = ? AND status = 'mined'").run(key);
      });
    } else {
      const o = change.outcome;
      this.db
        .prepare("UPDATE txs SET block = ?, status = COALESCE(?, status), error = CASE WHEN ? IS NULL THEN error ELSE ? END, updated_at = ? WHERE key = ? AND status IN ('confirmed', 'failed')")
        .run(change.block, o?.status ?? null, o ? 1 : null, o?.error ?? null, now(), key);
    }
  }

  /** Highest nonce this node has signed for `account` (−1 if none). */
  maxNonce(account: string): number {
    const r = this.db.prepare("SELECT MAX(nonce) AS n FROM txs WHERE account = ? AND nonce IS NOT NULL").get(account.toLowerCase()) as { n: number | null };
    return r.n ?? -1;
  }

  listTxs(limit = 100): TxRow[] {
    return (this.db.prepare('SELECT * FROM txs ORDER BY id DESC LIMIT ?').all(limit) as Record<string, unknown>[]).map((r) => camel<TxRow>(r)!);
  }

  countTxsByStatus(): Record<string, number> {
    const rows = this.db.prepare('SELECT status, COUNT(*) AS n FROM txs GROUP BY status').all() as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }
}
