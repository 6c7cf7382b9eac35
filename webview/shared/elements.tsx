/**
 * Thin React wrappers over the @vscode-elements web components we use. Properties are set on the element
 * and events are attached with addEventListener, so the wrappers do not depend on how a React version maps
 * props onto custom elements. Only the components imported here end up in the bundle.
 */
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import { useEffect, useRef, type ReactNode, type CSSProperties } from 'react';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import type { VscodeTextarea } from '@vscode-elements/elements/dist/vscode-textarea/vscode-textarea.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeProgressBar } from '@vscode-elements/elements/dist/vscode-progress-bar/vscode-progress-bar.js';

type Intrinsic = { key?: React.Key; class?: string; id?: string; style?: CSSProperties; children?: ReactNode; ref?: unknown; [attr: `data-${string}`]: string | undefined; title?: string; slot?: string };
declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'vscode-textfield': Intrinsic;
      'vscode-textarea': Intrinsic;
      'vscode-single-select': Intrinsic;
      'vscode-option': Intrinsic & { value?: string; description?: string; selected?: boolean };
      'vscode-checkbox': Intrinsic;
      'vscode-button': Intrinsic & { secondary?: boolean; disabled?: boolean; appearance?: string };
      'vscode-progress-bar': Intrinsic;
      'vscode-badge': Intrinsic & { variant?: string };
    }
  }
}

/** Calls `handler` for DOM events of `name` on the element behind `ref`, always with the latest handler. */
function useEvent<E extends HTMLElement>(ref: React.RefObject<E | null>, name: string, handler: ((ev: Event) => void) | undefined): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const fn = (ev: Event) => latest.current?.(ev);
    el.addEventListener(name, fn);
    return () => el.removeEventListener(name, fn);
  }, [ref, name]);
}

export interface TextFieldProps {
  value: string;
  type?: 'text' | 'number';
  min?: number;
  max?: number;
  step?: number | 'any';
  invalid?: boolean;
  placeholder?: string;
  disabled?: boolean;
  testId?: string;
  ariaLabel?: string;
  /** Every keystroke. */
  onInput?: (value: string) => void;
  /** Commit: Enter or blur. */
  onChange?: (value: string) => void;
  className?: string;
}

export function TextField(p: TextFieldProps) {
  const ref = useRef<VscodeTextfield>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.type = p.type ?? 'text';
    el.min = p.min;
    el.max = p.max;
    (el as unknown as { step: number | string | undefined }).step = p.step;
    el.invalid = !!p.invalid;
    el.placeholder = p.placeholder;
    el.disabled = !!p.disabled;
    if (p.ariaLabel) el.setAttribute('aria-label', p.ariaLabel);
  }, [p.type, p.min, p.max, p.step, p.invalid, p.placeholder, p.disabled, p.ariaLabel]);
  // The value is pushed only when it differs, so typing is not interrupted by a re-render.
  useEffect(() => {
    const el = ref.current;
    if (el && el.value !== p.value) el.value = p.value;
  }, [p.value]);
  useEvent(ref, 'input', () => p.onInput?.(ref.current!.value));
  useEvent(ref, 'change', () => p.onChange?.(ref.current!.value));
  return <vscode-textfield ref={ref} class={p.className} data-testid={p.testId} />;
}

/** A multi-line text (prompts): committed on blur or Ctrl/Cmd+Enter, so Enter makes a new line. */
export function TextArea(p: Omit<TextFieldProps, 'type' | 'min' | 'max' | 'step'> & { rows?: number }) {
  const ref = useRef<VscodeTextarea>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.invalid = !!p.invalid;
    el.placeholder = p.placeholder ?? '';
    el.disabled = !!p.disabled;
    el.rows = p.rows ?? 3;
    el.resize = 'vertical';
    if (p.ariaLabel) el.setAttribute('aria-label', p.ariaLabel);
  }, [p.invalid, p.placeholder, p.disabled, p.ariaLabel, p.rows]);
  useEffect(() => {
    const el = ref.current;
    if (el && el.value !== p.value) el.value = p.value;
  }, [p.value]);
  useEvent(ref, 'input', () => p.onInput?.(ref.current!.value));
  useEvent(ref, 'change', () => p.onChange?.(ref.current!.value));
  useEvent(ref, 'keydown', (ev) => {
    const k = ev as KeyboardEvent;
    if (k.key === 'Enter' && (k.ctrlKey || k.metaKey)) {
      // Commit without running the pipeline: the host's Ctrl+Enter keybinding sees no event.
      k.stopPropagation();
      p.onChange?.(ref.current!.value);
    }
  });
  return <vscode-textarea ref={ref} class={p.className} data-testid={p.testId} />;
}

export interface SelectProps {
  value: string;
  options: readonly string[];
  optionDocs?: Readonly<Record<string, string>>;
  testId?: string;
  onChange: (value: string) => void;
}

export function SingleSelect(p: SelectProps) {
  const ref = useRef<VscodeSingleSelect>(null);
  useEffect(() => {
    const el = ref.current;
    if (el && el.value !== p.value) el.value = p.value;
  }, [p.value, p.options]);
  useEvent(ref, 'change', () => p.onChange(ref.current!.value));
  return (
    <vscode-single-select ref={ref} data-testid={p.testId}>
      {p.options.map((o) => (
        <vscode-option key={o} value={o} description={p.optionDocs?.[o]}>
          {o}
        </vscode-option>
      ))}
    </vscode-single-select>
  );
}

export interface CheckboxProps {
  checked: boolean;
  label: string;
  testId?: string;
  onChange: (checked: boolean) => void;
}

export function Checkbox(p: CheckboxProps) {
  const ref = useRef<VscodeCheckbox>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (el.checked !== p.checked) el.checked = p.checked;
    el.setAttribute('label', p.label);
  }, [p.checked, p.label]);
  useEvent(ref, 'change', () => p.onChange(ref.current!.checked));
  return <vscode-checkbox ref={ref} data-testid={p.testId} />;
}

export interface ButtonProps {
  children?: ReactNode;
  /** Codicon name without the `codicon-` prefix. */
  icon?: string;
  secondary?: boolean;
  disabled?: boolean;
  title?: string;
  testId?: string;
  onClick: () => void;
}

export function Button(p: ButtonProps) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    const el = ref.current as (HTMLElement & { disabled: boolean; secondary: boolean }) | null;
    if (!el) return;
    el.disabled = !!p.disabled;
    el.secondary = !!p.secondary;
  }, [p.disabled, p.secondary]);
  useEvent(ref, 'click', () => {
    if (!p.disabled) p.onClick();
  });
  return (
    <vscode-button ref={ref} title={p.title} data-testid={p.testId}>
      {p.icon && <span className={`codicon codicon-${p.icon} btn-icon`} aria-hidden="true" />}
      {p.children}
    </vscode-button>
  );
}

export function ProgressBar(p: { value?: number; max?: number; testId?: string; label?: string }) {
  const ref = useRef<VscodeProgressBar>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.max = p.max ?? 1;
    el.value = p.value;
    el.indeterminate = p.value === undefined;
    el.ariaLabel = p.label ?? 'Progress';
    el.longRunningThreshold = 1e9;
  }, [p.value, p.max, p.label]);
  return <vscode-progress-bar ref={ref} data-testid={p.testId} />;
}

/** A codicon as an inline element. */
export function Codicon({ name, className, title }: { name: string; className?: string; title?: string }) {
  return <span className={`codicon codicon-${name}${className ? ' ' + className : ''}`} title={title} aria-hidden={title ? undefined : true} />;
}
