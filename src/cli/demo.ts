/**
 * `verity demo` (what `npm start` runs): imports the shipped models, runs their held-out rows on the
 * integer engine, commits every trace, and prints what a newcomer wants to see.
 */
import type { Command } from 'commander';
import { quantizeInput, dequantizeOutput, argmax } from '../onnx/import.js';
import { importShipped, shippedData } from '../onnx/shipped.js';
import { prepareModel, runModel } from '../engine/run.js';
import { keccakReady, modelRootHex, traceRootHex } from '../commit/index.js';
import { printTable, progressBar } from './progress.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('import the shipped models, run their held-out data on the integer engine and commit every trace')
    .option('--network', 'run the protocol instead: embedded chain, 3 workers (1 dishonest), 2 verifiers, a requester')
    .option('--tasks <n>', 'tasks the requester sends (with --network)', '24')
    .option('--hold <seconds>', 'with --network: keep the nodes and the dashboard up this long after the summary', '0')
    .action(async (o: { network?: boolean; tasks: string; hold: string }) => {
      if (o.network) {
        const { runNetworkDemo } = await import('./demo-network.js');
        await runNetworkDemo({ tasks: Number(o.tasks), hold: Number(o.hold) });
      } else await runDemo();
    });
}

export async function runDemo(): Promise<void> {
  await keccakReady;
  const rows: string[][] = [['model', 'int ops', 'quantized', 'float', 'rows', 'ms/row', 'model root', 'trace root (row 0)']];
  for (const name of ['wine-mlp', 'digits-convnet', 'tiny-gpt']) {
    const data = shippedData(name);
    const q = importShipped(name, { onProgress: progressBar(`${name}: calibrating`) });
    const p = prepareModel(q);
    const bar = progressBar(`${name}: running + committing`);
    let score = 0;
    let count = 0;
    let firstRoot = '';
    const started = performance.now();
    data.x.forEach((row, r) => {
      const trace = runModel(p, [quantizeInput(q, row)]);
      if (r === 0) firstRoot = traceRootHex(trace);
      else traceRootHex(trace);
      if (data.vocab) {
        const V = data.vocab.length;
        const logits = dequantizeOutput(q, trace[q.outputs[0]]);
        const targets = (data.y as number[][])[r];
        for (let t = 0; t < targets.length; t++) {
          const l = logits.subarray(t * V, (t + 1) * V);
          let mx = -Infinity;
          for (const v of l) mx = Math.max(mx, v);
          let s = 0;
          for (const v of l) s += Math.exp(v - mx);
          score += Math.log(s) + mx - l[targets[t]];
          count++;
        }
      } else {
        if (argmax(trace[q.outputs[0]].data) === (data.y as number[])[r]) score++;
        count++;
      }
      bar(r + 1, data.x.length);
    });
    const ms = (performance.now() - started) / data.x.length;
    const metric = data.vocab
      ? [`CE ${(score / count).toFixed(3)}`, `CE ${data.float_val_loss!.toFixed(3)}`]
      : [`${((score / count) * 100).toFixed(1)}%`, `${(data.float_accuracy! * 100).toFixed(1)}%`];
    rows.push([name, String(q.nodes.length), ...metric, String(data.x.length), ms.toFixed(2), short(modelRootHex(q)), short(firstRoot)]);
  }
  console.log('');
  printTable(rows);
  console.log('\nEvery row ran integer-only; each trace root commits to every intermediate tensor of that run.');
}

function short(h: string): string {
  return `${h.slice(0, 10)}…${h.slice(-6)}`;
}

