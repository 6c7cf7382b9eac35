/**
 * Writing files without losing any: the one place dpipe writes a user's file or a run's outputs.
 *
 * - {@link writeFileAtomic}: the new content goes to a temporary file in the same folder and is renamed over the
 *   target only once it is complete, so a full disk, a crash or Ctrl-C leaves the old file byte for byte. The
 *   rename replaces a symbolic link at the target rather than writing through it. Every rewrite of a user's file
 *   (`dpipe fit`, migrations, imports, saved layouts) goes through it.
 * - {@link RunFolder}: the folder a run writes into, created atomically, never shared by two runs, never
 *   overwriting a file that was there (unless the user forces it), never following a link out of the folder, and
 *   never writing over an input of the run (its pipeline, model, sidecar or .npy files). It keeps the list of what
 *   it wrote, so a failed write can say what was written and what was not.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DpipeError } from '../core/errors';

/** What an errno of a failed file operation means, for messages ("no space left on device (ENOSPC)"). */
export function ioReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const why: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EFBIG: 'the file is too large for the file system',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    EEXIST: 'a file of that name exists',
    EISDIR: 'a folder of that name exists',
    ENOTDIR: 'a part of the path is not a folder',
    ENOENT: 'the folder does not exist',
    ENAMETOOLONG: 'the name is too long for the file system',
    ELOOP: 'a symbolic link is in the way',
    EIO: 'input/output error',
    EMFILE: 'too many open files',
  };
  if (code && why[code]) return `${why[code]} (${code})`;
  return code ?? (e instanceof Error ? e.message : String(e));
}

/** Whether an error is a failed file-system call (it carries an errno code and a syscall). */
export function isIoError(e: unknown): e is NodeJS.ErrnoException {
  const x = e as NodeJS.ErrnoException | undefined;
  return x instanceof Error && typeof x.code === 'string' && typeof x.syscall === 'string';
}

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

function modeOf(file: string): number | undefined {
  try {
    const st = fs.lstatSync(file);
    return st.isFile() ? st.mode & 0o7777 : undefined;
  } catch {
    return undefined;
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
}

function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/**
 * Replaces `file` with `data` atomically (see the module comment). Errors: E_WRITE, saying the file was left as it
 * was. The folder must exist.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const abs = path.resolve(file);
  const tmp = tempName(abs);
  const mode = modeOf(abs);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', mode ?? 0o666);
    writeAll(fd, bytesOf(data));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, abs);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    const kept = mode !== undefined ? '; the file is unchanged' : '';
    throw new DpipeError('E_WRITE', `${abs} was not written: ${ioReason(e)}${kept}`);
  }
}

/** How a run may use its output folder. */
export type OutMode =
  /** A fresh folder of that name, or `NAME-2`, `NAME-3`, … when taken (the default folders). */
  | 'unique'
  /** The folder the user named: created if missing; an existing one must hold none of the files the run writes. */
  | 'new'
  /** The folder the user named with `--force`: files of the same name are replaced (inputs of the run never). */
  | 'force';

export interface RunFolderOptions {
  readonly mode: OutMode;
  /** Files the run reads (pipeline, models, sidecars, .npy): never written, whatever the mode. */
  readonly inputs?: readonly string[];
}

const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

function realOrResolved(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** The output folder of one run. See the module comment. */
export class RunFolder {
  /** Files written, relative to the folder, in order (complete files only). */
  readonly written: string[] = [];
  private readonly inputs: Set<string>;
  private readonly subdirs = new Set<string>();

  private constructor(readonly dir: string, private readonly mode: OutMode, inputs: readonly string[]) {
    this.inputs = new Set(inputs.map(realOrResolved));
  }

  /** Creates (or, for `new`/`force`, opens) the folder. Errors: E_WRITE. */
  static create(dir: string, opts: RunFolderOptions): RunFolder {
    const abs = path.resolve(dir);
    try {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
    } catch (e) {
      throw new DpipeError('E_WRITE', `cannot create the output folder ${abs}: ${ioReason(e)}`);
    }
    if (opts.mode === 'unique') {
      for (let k = 1; k <= 10_000; k++) {
        const cand = k === 1 ? abs : `${abs}-${k}`;
        try {
          fs.mkdirSync(cand);
          return new RunFolder(fs.realpathSync(cand), opts.mode, opts.inputs ?? []);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new DpipeError('E_WRITE', `cannot create the output folder ${cand}: ${ioReason(e)}`);
        }
      }
      throw new DpipeError('E_WRITE', `cannot create the output folder ${abs}: 10,000 folders of that name exist`);
    }
    try {
      fs.mkdirSync(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new DpipeError('E_WRITE', `cannot create the output folder ${abs}: ${ioReason(e)}`);
      if (!fs.statSync(abs).isDirectory()) throw new DpipeError('E_WRITE', `the output folder ${abs} is a file; give a folder`);
      if (opts.mode === 'new' && fs.readdirSync(abs).length > 0) {
        throw new DpipeError('E_WRITE', `the output folder ${abs} is not empty; give a new folder, or --force to write into it (files of the same name are replaced)`);
      }
    }
    return new RunFolder(fs.realpathSync(abs), opts.mode, opts.inputs ?? []);
  }

  /** Absolute path of a file or folder of the run, e.g. `trajectory/index.json`. */
  pathOf(rel: string): string {
    return path.join(this.dir, ...rel.split('/'));
  }

  /** Creates a subfolder (one level, e.g. `trajectory`), refusing a link or a file in its place. */
  subdir(name: string): string {
    const abs = this.pathOf(name);
    if (this.subdirs.has(name)) return abs;
    if (!SAFE_NAME.test(name)) throw new DpipeError('E_WRITE', `"${name}" is not a plain folder name`);
    try {
      fs.mkdirSync(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new DpipeError('E_WRITE', `cannot create ${abs}: ${ioReason(e)}`);
      const st = fs.lstatSync(abs);
      if (st.isSymbolicLink()) throw new DpipeError('E_WRITE', `${abs} is a symbolic link; dpipe does not follow links out of the output folder — remove it or choose another folder`);
      if (!st.isDirectory()) throw new DpipeError('E_WRITE', `${abs} is a file; dpipe needs a folder there — remove it or choose another folder`);
      if (this.mode !== 'force' && fs.readdirSync(abs).length > 0) {
        throw new DpipeError('E_WRITE', `${abs} already holds files; choose another output folder, or --force to replace them`);
      }
    }
    this.subdirs.add(name);
    return abs;
  }

  /** Writes a new file of the run (`name` or `sub/name`). Errors: E_WRITE, naming what was written before. */
  writeSync(rel: string, data: string | Uint8Array): string {
    const abs = this.target(rel);
    if (this.mode === 'force') {
      writeFileAtomic(abs, data);
    } else {
      let fd: number | undefined;
      try {
        fd = fs.openSync(abs, 'wx');
        writeAll(fd, bytesOf(data));
        fs.closeSync(fd);
        fd = undefined;
      } catch (e) {
        if (fd !== undefined) {
          fs.closeSync(fd);
          fs.rmSync(abs, { force: true });
        }
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new DpipeError('E_WRITE', `${abs} already exists and was not overwritten; choose another output folder, or --force to replace existing files`);
        }
        throw new DpipeError('E_WRITE', `${abs} was not written: ${ioReason(e)}`);
      }
    }
    this.written.push(rel);
    return abs;
  }

  /** {@link writeSync} for callers that await (same checks, same guarantees). */
  async write(rel: string, data: string | Uint8Array): Promise<string> {
    return this.writeSync(rel, data);
  }

  /** "5 files (a.png, b.png, …, trajectory/ with 20 files)" — what this run wrote so far. */
  summary(): string {
    if (this.written.length === 0) return 'nothing';
    const top = this.written.filter((f) => !f.includes('/'));
    const nested = new Map<string, number>();
    for (const f of this.written) if (f.includes('/')) nested.set(f.split('/')[0], (nested.get(f.split('/')[0]) ?? 0) + 1);
    const parts = [...top, ...[...nested].map(([d, n]) => `${d}/ (${n} file${n === 1 ? '' : 's'})`)];
    return parts.length > 8 ? `${parts.slice(0, 8).join(', ')}, … (${this.written.length} files)` : parts.join(', ');
  }

  private target(rel: string): string {
    const parts = rel.split('/');
    if (parts.length > 2 || parts.some((p) => !SAFE_NAME.test(p))) throw new DpipeError('E_WRITE', `"${rel}" is not a file name dpipe writes into a run folder`);
    if (parts.length === 2) this.subdir(parts[0]);
    const abs = this.pathOf(rel);
    if (this.inputs.has(abs) || this.inputs.has(realOrResolved(abs))) {
      throw new DpipeError('E_WRITE', `${abs} is an input of this run and was not overwritten; give the output another name or choose another output folder`);
    }
    return abs;
  }
}

/**
 * Writes a file the user asked for (a new pipeline, an import, an export): never over an existing file unless
 * `force`, and atomically ({@link writeFileAtomic}). Errors: E_WRITE.
 */
export function writeNewFile(file: string, data: string | Uint8Array, force = false): void {
  if (!force && fs.existsSync(file)) throw new DpipeError('E_WRITE', `${file} exists; choose another name or pass --force to replace it`);
  writeFileAtomic(file, data);
}
