/**
 * The inspector webview's side of the host channel: validates every message against the inspector protocol
 * (bad ones are dropped and reported to the host's log), and tracks requests with ids and time-outs
 * (`RequestTracker`). The port is injected: VS Code's `acquireVsCodeApi()` in the product, a shim in tests.
 */
import {
  INSPECTOR_TIMEOUT_MS,
  validateToInspector,
  type FromInspector,
  type InspectorMethod,
  type InspectorRequestMethods,
  type ToInspector,
} from '../../src/protocol/inspector';
import { RequestTracker } from '../../src/protocol/rpc';
import { check } from '../../src/protocol/validate';
import type { HostPort } from '../shared/host';

export type InspectorListener = (msg: Exclude<ToInspector, { type: 'response' }>) => void;

export class InspectorClient {
  private readonly tracker = new RequestTracker({ idPrefix: 'i' });
  private readonly listeners = new Set<InspectorListener>();
  private readonly onMessage = (ev: MessageEvent) => this.receive(ev.data);

  constructor(
    private readonly port: HostPort,
    private readonly target: Pick<Window, 'addEventListener' | 'removeEventListener'> = window,
  ) {
    target.addEventListener('message', this.onMessage);
  }

  post(msg: FromInspector): void {
    this.port.postMessage(msg);
  }

  ready(): void {
    this.post({ type: 'ready' });
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.post({ type: 'log', level, message });
  }

  subscribe(fn: InspectorListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  request<M extends InspectorMethod>(method: M, params: InspectorRequestMethods[M]['params']): Promise<InspectorRequestMethods[M]['result']> {
    return this.tracker.start(method, (id) => this.post({ type: 'request', id, method, params } as FromInspector), INSPECTOR_TIMEOUT_MS[method]);
  }

  get pendingRequests(): number {
    return this.tracker.pendingCount;
  }

  getState<T>(): T | undefined {
    return (this.port.getState() as T | undefined) ?? undefined;
  }

  setState<T>(s: T): void {
    this.port.setState(s);
  }

  receive(data: unknown): void {
    const r = check(validateToInspector, data, 'message');
    if (!r.ok) {
      this.log('warn', `inspector webview dropped an invalid message: ${r.error}`);
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
    this.target.removeEventListener('message', this.onMessage);
    this.tracker.dispose('the inspector closed');
    this.listeners.clear();
  }
}
