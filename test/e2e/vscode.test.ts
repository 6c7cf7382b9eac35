/**
 * Runs the real-VS-Code end-to-end test (test/e2e/vscode-e2e.mjs: code-server + Chromium) as part of `npm test`
 * when code-server is installed (`npm run e2e:setup`, which CI runs). Without it the test is skipped, unless
 * DPIPE_E2E=1 demands it; DPIPE_E2E=0 skips it. Screenshots: test-results/e2e/.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const E2E = process.env.E2E_DIR ?? path.join(ROOT, '.e2e');
const INSTALLED = existsSync(path.join(E2E, 'cs', 'node_modules', 'code-server', 'out', 'node', 'entry.js'));

describe('extension in a real VS Code (code-server e2e)', function () {
  this.timeout(700_000);
  it('opens a pipeline, edits it both ways, runs it from the palette, sees preview and files, undoes', function () {
    if (process.env.DPIPE_E2E === '0') this.skip();
    if (!INSTALLED) {
      if (process.env.DPIPE_E2E === '1') assert.fail(`code-server is not installed in ${E2E}; run npm run e2e:setup`);
      console.log(`      (skipped: code-server is not installed in ${E2E}; run \`npm run e2e:setup\`)`);
      this.skip();
    }
    if (!existsSync(path.join(ROOT, 'dist', 'webview', 'editor.js'))) assert.fail('dist/ is not built; run node scripts/build.mjs (npm test does)');
    const drive = () => spawnSync(process.execPath, [path.join(ROOT, 'test', 'e2e', 'vscode-e2e.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 340_000, env: { ...process.env, E2E_TIMEOUT_S: '330' } });
    let r = drive();
    let out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (r.status !== 0) {
      // A real browser on a shared 2-core machine can miss a beat; a real defect fails twice. Both logs are kept.
      console.log(`      e2e attempt 1 failed (exit ${r.status}); its output:\n${out}\n      retrying once`);
      r = drive();
      out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
      if (r.status !== 0) console.log(out);
    }
    assert.equal(r.status, 0, `the e2e driver failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}); its output is above`);
    assert.match(r.stdout, /\bPASS\b/);
    // Every step asserted something; list them in the test report.
    const oks = out.split('\n').filter((l) => l.includes(' ok: '));
    assert.ok(oks.length >= 20, `only ${oks.length} assertions ran`);
  });
});
