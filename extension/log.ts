/**
 * The host's logger. In VS Code it writes to the "dpipe" Output channel (a LogOutputChannel, so the user picks the
 * level); in tests it collects lines. Every protocol message in and out is logged through {@link logMessage}.
 */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** High-frequency messages are logged at trace level so the default (info) channel stays readable. */
const CHATTY = new Set(['preview', 'previewAck', 'progress', 'runState']);

/**
 * Logs one protocol message: `→ webview init {…}`. Long strings (document text, image data) are shortened so
 * the log shows the message's shape, not megabytes of base64.
 */
export function logMessage(log: Logger, direction: string, msg: unknown): void {
  const type = typeof msg === 'object' && msg !== null ? String((msg as { type?: unknown }).type) : typeof msg;
  const line = `${direction} ${type} ${abbreviate(msg)}`;
  if (CHATTY.has(type)) log.trace(line);
  else log.info(line);
}

export function abbreviate(value: unknown, maxString = 80): string {
  try {
    return JSON.stringify(value, (key, v) => {
      if (typeof v === 'string' && v.length > maxString) return `${v.slice(0, maxString)}…(${v.length} chars)`;
      if (key === 'registry' && Array.isArray(v)) return `[${v.length} blocks]`;
      return v;
    });
  } catch {
    return String(value);
  }
}

export const nullLogger: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
