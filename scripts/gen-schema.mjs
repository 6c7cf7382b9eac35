// Writes schema/dpipe.schema.json (the .dpipe JSON Schema that VS Code uses through `jsonValidation`) from the
// engine's block registry. Run it after any change to a block's params:
//   node --import tsx scripts/gen-schema.mjs           # (re)write the file
//   node --import tsx scripts/gen-schema.mjs --check   # exit 1 if the committed file is stale
// test/format/schema.test.ts fails while the committed file differs from a fresh generation.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'schema', 'dpipe.schema.json');
const format = await import('../src/engine/format/schema.ts');
const registry = await import('../src/engine/registry/index.ts');
const schemaText = format.schemaText ?? format.default?.schemaText;
const registryInfo = registry.registryInfo ?? registry.default?.registryInfo;
const text = schemaText(registryInfo());

if (process.argv.includes('--check')) {
  const current = existsSync(out) ? readFileSync(out, 'utf8') : '';
  if (current !== text) {
    process.stderr.write(`${out} is stale: run \`node --import tsx scripts/gen-schema.mjs\` (npm run schema)\n`);
    process.exit(1);
  }
  process.stdout.write(`${out} is up to date\n`);
} else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  process.stdout.write(`wrote ${out} (${registryInfo().length} block types)\n`);
}
