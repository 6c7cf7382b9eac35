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
  type RequestMethods,
  type ToHost,
  type ToWebview,
} from '../../src/protocol/editor';
import { RequestTracker, type ResponseBody } from '../../src/protocol/rpc';
import { check, type Validator } from '../../src/protocol/validate';

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

/** A request table (e.g. `RequestMethods`): each method's params and result. */
export type RequestTable<M> = { [K in keyof M]: { params: unknown; result: unknown } };

/** What a {@link PortClient} needs to know about its protocol. */
export interface PortProtocol<In extends { type: string }, M extends RequestTable<M>> {
  /** Validates every message that arrives. */
  readonly validate: Validator<In>;
  /** Prefix of request ids (`w1`, `w2`, … for the editor). */
  readonly idPrefix: string;
  /** Time-out per request method, ms. */
  readonly timeouts: { readonly [K in keyof M]: number };
  /** Who drops an invalid message, for the host log ("webview"). */
  readonly name: string;
  /** Why pending requests fail on dispose ("the editor closed"). */
  readonly closedReason: string;
}

/**
 * A webview's client of one protocol: posts to the injected {@link HostPort}, validates what arrives (a bad
 * message is dropped and reported to the host's log), answers responses through a `RequestTracker` and passes
 * every other message to the subscribers. The editor's {@link HostClient} and the inspector's client are this.
 */
export class PortClient<In extends { type: string }, Out, M extends RequestTable<M>> {
  protected readonly tracker: RequestTracker;
  private readonly listeners = new Set<(msg: Exclude<In, { type: 'response' }>) => void>();
  private readonly onWindowMessage = (ev: MessageEvent) => this.receive(ev.data);

  constructor(
    private readonly port: HostPort,
    private readonly target: Pick<Window, 'addEventListener' | 'removeEventListener'>,
    private readonly protocol: PortProtocol<In, M>,
  ) {
    this.tracker = new RequestTracker({ idPrefix: protocol.idPrefix });
    target.addEventListener('message', this.onWindowMessage);
  }

  /** Starts the conversation: the host answers with `init`. */
  ready(): void {
    this.post({ type: 'ready' } as Out);
  }

  post(msg: Out): void {
    this.port.postMessage(msg);
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.post({ type: 'log', level, message } as Out);
  }

  subscribe(fn: (msg: Exclude<In, { type: 'response' }>) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  request<K extends keyof M & string>(method: K, params: M[K]['params']): Promise<M[K]['result']> {
    return this.tracker.start<M[K]['result']>(method, (id) => this.post({ type: 'request', id, method, params } as Out), this.protocol.timeouts[method]);
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
    const r = check(this.protocol.validate, data, 'message');
    if (!r.ok) {
      this.log('warn', `${this.protocol.name} dropped an invalid message: ${r.error}`);
      return;
    }
    const msg = r.value;
    if (msg.type === 'response') {
      const res = msg as unknown as ResponseBody & { id: string };
      if (!this.tracker.resolve(res)) this.log('debug', `late or unknown response ${res.id}`);
      return;
    }
    for (const fn of this.listeners) fn(msg as Exclude<In, { type: 'response' }>);
  }

  dispose(): void {
    this.target.removeEventListener('message', this.onWindowMessage);
    this.tracker.dispose(this.protocol.closedReason);
    this.listeners.clear();
  }
}

export type Listener = (msg: ToWebview) => void;

/** The graph editor's client of the editor protocol (`src/protocol/editor.ts`). */
export class HostClient extends PortClient<ToWebview, ToHost, RequestMethods> {
  constructor(port: HostPort, target: Pick<Window, 'addEventListener' | 'removeEventListener'> = window) {
    super(port, target, { validate: validateToWebview, idPrefix: 'w', timeouts: REQUEST_TIMEOUT_MS, name: 'webview', closedReason: 'the editor closed' });
  }

  /**
   * Asks the host to apply graph ops as one edit. Resolves when the host has applied them (the new text comes
   * as `documentChanged`); rejects with the host's reason when it refused them, or on timeout.
   */
  applyOps(ops: readonly GraphOpWire[], label: string): Promise<unknown> {
    return this.tracker.start('applyOps', (id) => this.post({ type: 'applyOps', ops, label, id }), APPLY_TIMEOUT_MS);
  }
}
