/**
 * The inspector webview's side of the host channel: the shared {@link PortClient} on the inspector protocol.
 * It validates every message (bad ones are dropped and reported to the host's log) and tracks requests with ids
 * and time-outs (`RequestTracker`). The port is injected: VS Code's `acquireVsCodeApi()` in the product, a shim
 * in tests.
 */
import { INSPECTOR_TIMEOUT_MS, validateToInspector, type FromInspector, type InspectorRequestMethods, type ToInspector } from '../../src/protocol/inspector';
import { PortClient, type HostPort } from '../shared/host';

export type InspectorListener = (msg: Exclude<ToInspector, { type: 'response' }>) => void;

export class InspectorClient extends PortClient<ToInspector, FromInspector, InspectorRequestMethods> {
  constructor(port: HostPort, target: Pick<Window, 'addEventListener' | 'removeEventListener'> = window) {
    super(port, target, {
      validate: validateToInspector,
      idPrefix: 'i',
      timeouts: INSPECTOR_TIMEOUT_MS,
      name: 'inspector webview',
      closedReason: 'the inspector closed',
    });
  }
}
