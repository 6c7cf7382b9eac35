/**
 * The runner process (bundled to dist/runner.js, started by the extension host with child_process.fork). It owns
 * every model evaluation, so onnxruntime's blocking `run()` never stalls the extension host. Talks only through
 * validated protocol messages (src/protocol/runner.ts) on Node's IPC channel; exits when the host goes away.
 */
import { check, validateToRunner, type FromRunner } from '../../src/protocol';
import { RunnerCore } from './core';

function send(m: FromRunner): void {
  if (process.connected && process.send) process.send(m);
}

if (!process.send) {
  process.stderr.write('dist/runner.js is started by the dpipe extension (child_process.fork); it has no command line.\n');
  process.exit(2);
}

const core = new RunnerCore(send);

process.on('message', (raw: unknown) => {
  const r = check(validateToRunner, raw, 'host message');
  if (!r.ok) {
    send({ type: 'log', level: 'error', message: `runner dropped an invalid message: ${r.error}` });
    return;
  }
  if (r.value.type === 'shutdown') {
    core.abortActive();
    process.exit(0);
  }
  core.handle(r.value);
});

// The host died or closed the channel: nobody is listening, stop at once.
process.on('disconnect', () => {
  core.abortActive();
  process.exit(0);
});

process.on('uncaughtException', (e) => {
  process.stderr.write(`dpipe runner: uncaught exception: ${e.stack ?? e.message}\n`);
  process.exit(70);
});
process.on('unhandledRejection', (e) => {
  process.stderr.write(`dpipe runner: unhandled rejection: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(70);
});

send({ type: 'ready', pid: process.pid, node: process.version });
