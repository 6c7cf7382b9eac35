/**
 * What an import or export reports: errors (something the other tool does that dpipe does not reproduce — the
 * import or export stops and writes nothing) and warnings (written, but not bit-identical or needing the user's
 * attention), each located by a JSON pointer into the source (or, for an A1111 infotext, by the field's name).
 */
export interface InteropIssue {
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** JSON pointer into the source document (ComfyUI JSON, scheduler config) or into the .dpipe (export). */
  readonly pointer?: string;
  /** A1111 infotext: the field (e.g. "Sampler"), and its character offset and length in the text. */
  readonly field?: string;
  readonly offset?: number;
  readonly length?: number;
  /** Export: the block the problem concerns. */
  readonly nodeId?: string;
}

export function hasErrorIssues(issues: readonly InteropIssue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}
