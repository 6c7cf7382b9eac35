/**
 * The webview's side of the host channel. The client talks to an injected {@link HostPort} — VS Code's
 * `acquireVsCodeApi()` in the product, a stand-in in tests — so it runs without VS Code. Every message that
 * arrives is validated against the protocol; a bad one is dropped and reported to the host's log. Requests
 * carry ids, time out ({@link REQUEST_TIMEOUT_MS}) and are cleaned up by the protocol's `RequestTracker`.
 */
import {
  REQUEST_TIMEOUT_MS,
  validateToWebview,
  type GraphOpWire,
  type RequestMethod,
  type RequestMethods,
  type ToHost,
  type ToWebview,
} from '../../src/protocol/editor';
import { RequestTracker } from '../../src/protocol/rpc';
import { check } from '../../src/protocol/validate';

/** What VS Code's webview API offers (and what a test stand-in must offer). */
export interface HostPort {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** How long the host may take to apply an edit before the webview reports it. */
const APPLY_TIMEOUT_MS = 15_000;

declare function acquireVsCodeApi(): HostPort;

/** VS Code's API when present (it may be acquired only once per page), else an inert port that logs. */
export function acquireHostPort(): HostPort {
  if (typeof acquireVsCodeApi === 'function') return acquireVsCodeApi();
  let state: unknown;
  return {
    postMessage: (m) => console.warn('[dpipe] no host; dropped', m),
    getState: () => state,
    setState: (s) => (state = s),
  };
}

export type Listener = (msg: ToWebview) => void;

export class HostClient {
  private readonly tracker = new RequestTracker({ idPrefix: 'w' });
  private readonly listeners = new Set<Listener>();
  private readonly onWindowMessage = (ev: MessageEvent) => this.receive(ev.data);

  constructor(
    private readonly port: HostPort,
    private readonly target: Pick<Window, 'addEventListener' | 'removeEventListener'> = window,
  ) {
    target.addEventListener('message', this.onWindowMessage);
  }

  /** Starts the conversation: the host answers with `init`. */
  ready(): void {
    this.post({ type: 'ready' });
  }

  post(msg: ToHost): void {
    this.port.postMessage(msg);
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.post({ type: 'log', level, message });
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  request<M extends RequestMethod>(method: M, params: RequestMethods[M]['params']): Promise<RequestMethods[M]['result']> {
    return this.tracker.start<RequestMethods[M]['result']>(
      method,
      (id) => this.post({ type: 'request', id, method, params } as ToHost),
      REQUEST_TIMEOUT_MS[method],
    );
  }

  /**
   * Asks the host to apply graph ops as one edit. Resolves when the host has applied them (the new text comes
   * as `documentChanged`); rejects with the host's reason when it refused them, or on timeout.
   */
  applyOps(ops: readonly GraphOpWire[], label: string): Promise<unknown> {
    return this.tracker.start('applyOps', (id) => this.post({ type: 'applyOps', ops, label, id }), APPLY_TIMEOUT_MS);
  }

  get pendingRequests(): number {
    return this.tracker.pendingCount;
  }

  getState<T>(): T | undefined {
    return (this.port.getState() as T | undefined) ?? undefined;
  }

  setState<T>(state: T): void {
    this.port.setState(state);
  }

  /** Validates and dispatches one incoming message. Exposed for tests. */
  receive(data: unknown): void {
    const r = check(validateToWebview, data, 'message');
    if (!r.ok) {
      this.log('warn', `webview dropped an invalid message: ${r.error}`);
      return;
    }
    const msg = r.value;
    if (msg.type === 'response') {
      if (!this.tracker.resolve(msg)) this.log('debug', `late or unknown response ${msg.id}`);
      return;
    }
    for (const fn of this.listeners) fn(msg);
  }

  dispose(): void {
    this.target.removeEventListener('message', this.onWindowMessage);
    this.tracker.dispose('the editor closed');
    this.listeners.clear();
  }
}
