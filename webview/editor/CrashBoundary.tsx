/**
 * Last line of defence against a blank page: if rendering throws, show what happened with "Open as text" and
 * "Reload editor", and report the error to the host's log.
 */
import { Component, type ReactNode } from 'react';
import type { HostClient } from '../shared/host';
import { Button, Codicon } from '../shared/elements';

interface Props {
  client: HostClient;
  children: ReactNode;
}

export class CrashBoundary extends Component<Props, { error?: Error }> {
  override state: { error?: Error } = {};

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidCatch(error: Error, info: { componentStack?: string | null }) {
    this.props.client.log('error', `editor crashed: ${error.stack ?? error.message}${info.componentStack ?? ''}`);
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="dp-app">
        <div className="dp-fatal" data-testid="crash-banner" role="alert">
          <h2>
            <Codicon name="error" /> The graph editor stopped working
          </h2>
          <p>Your file is not affected. You can open it as text, or reload the editor.</p>
          <pre>{this.state.error.message}</pre>
          <div className="dp-actions">
            <Button icon="go-to-file" onClick={() => this.props.client.post({ type: 'command', command: 'openAsText' })} testId="crash-open-as-text">
              Open as text
            </Button>
            <Button icon="refresh" secondary onClick={() => this.setState({ error: undefined })} testId="crash-reload">
              Reload editor
            </Button>
          </div>
        </div>
      </div>
    );
  }
}
