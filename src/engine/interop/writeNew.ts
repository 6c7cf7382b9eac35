/**
 * Writing what an import or export produces: through a temporary file in the same folder renamed over the target
 * once complete (a full disk or Ctrl-C never leaves half a file), and never over an existing file unless asked. A
 * local helper until the shared atomic writer (run/files.ts writeFileAtomic, on the safety branch) is merged; it has
 * the same contract.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DpipeError } from '../core/errors';

/** Writes `data` to `file`; an existing file is an E_USAGE error unless `force`. */
export function writeNew(file: string, data: string | Uint8Array, force = false): void {
  if (!force && fs.existsSync(file)) throw new DpipeError('E_USAGE', `${file} exists; choose another name or pass --force to replace it`);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    fs.writeFileSync(tmp, data, { flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new DpipeError('E_FILE_MISSING', `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
