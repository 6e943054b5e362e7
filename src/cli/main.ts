/** The `verity` command. Errors of the project print their message and hint and exit 1; others are bugs. */
import { Command } from 'commander';
import { registerModelCommands } from './model.js';
import { registerDemoCommand } from './demo.js';
import { registerNodeCommands } from './node.js';
import { registerAgentsCommands } from './agents.js';
import { BaseError } from '../errors.js';

const program = new Command();
program.name('verity').description('Verity: verified integer inference, off-chain compute with on-chain fraud proofs').version('0.1.0');
registerModelCommands(program);
registerDemoCommand(program);
registerNodeCommands(program);
registerAgentsCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof BaseError) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
