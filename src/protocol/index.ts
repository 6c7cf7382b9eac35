/** The one protocol module: messages host↔webview (editor.ts) and host↔runner (runner.ts), validators, requests. */
export * from './validate';
export * from './rpc';
export * from './editor';
export * from './runner';
