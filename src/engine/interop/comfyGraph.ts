/**
 * ComfyUI's two JSON forms, read into one graph:
 *
 * - the API format (what "Save (API)" writes, what ComfyUI's /prompt endpoint takes and what a ComfyUI PNG carries in
 *   its `prompt` text chunk): `{ "<id>": { "class_type": …, "inputs": { name: value | [fromId, outputIndex] } } }`,
 *   optionally wrapped as `{ "prompt": { … } }`;
 * - the UI workflow (what "Save" writes and the PNG's `workflow` chunk): `nodes` with `inputs` (linked sockets),
 *   `outputs` and positional `widgets_values`, and `links`, as arrays `[id, fromNode, fromSlot, toNode, toSlot, type]`
 *   (version 0.4) or objects `{ id, origin_id, origin_slot, target_id, target_slot, type }` (version 1, whose
 *   counters live in `state`). Reroute nodes are followed, PrimitiveNode values are inlined, muted nodes (mode 2) are
 *   absent and bypassed nodes (mode 4) pass their input of the same type through, as ComfyUI's frontend does when it
 *   queues a workflow.
 *
 * Widget values are positional in the UI format, so each node class needs its widget names in order; `WIDGETS`
 * lists them for the classes the importer translates (a seed widget is followed by its "control after generate"
 * value). Every value keeps its JSON pointer, for located messages.
 */
import { parseTree, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { pointerOf } from '../format/locate';

export type ComfyInput =
  | { readonly kind: 'value'; readonly value: unknown; readonly pointer: string; /** The literal text of a number (seeds above 2⁵³). */ readonly raw?: string }
  | { readonly kind: 'link'; readonly node: string; readonly slot: number; readonly pointer: string };

export interface ComfyNode {
  readonly id: string;
  readonly classType: string;
  readonly title?: string;
  readonly inputs: Readonly<Record<string, ComfyInput>>;
  /** Pointer of the node object. */
  readonly pointer: string;
}

export interface ComfyGraph {
  readonly format: 'api' | 'workflow';
  /** Workflow version (0.4, 1) when the format is a workflow. */
  readonly version?: number;
  readonly nodes: ReadonlyMap<string, ComfyNode>;
  /** Problems met while reading (unknown widget layouts, links to missing nodes). */
  readonly problems: readonly { readonly message: string; readonly pointer: string; readonly severity: 'error' | 'warning' }[];
}

/** Widget names in order, per node class ("*" marks a seed, followed by its "control after generate" value). */
export const WIDGETS: Readonly<Record<string, readonly string[]>> = {
  KSampler: ['*seed', 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise'],
  KSamplerAdvanced: ['add_noise', '*noise_seed', 'steps', 'cfg', 'sampler_name', 'scheduler', 'start_at_step', 'end_at_step', 'return_with_leftover_noise'],
  SamplerCustom: ['add_noise', '*noise_seed', 'cfg'],
  SamplerCustomAdvanced: [],
  RandomNoise: ['*noise_seed'],
  DisableNoise: [],
  BasicScheduler: ['scheduler', 'steps', 'denoise'],
  KarrasScheduler: ['steps', 'sigma_max', 'sigma_min', 'rho'],
  ExponentialScheduler: ['steps', 'sigma_max', 'sigma_min'],
  PolyexponentialScheduler: ['steps', 'sigma_max', 'sigma_min', 'rho'],
  AlignYourStepsScheduler: ['model_type', 'steps', 'denoise'],
  GITSScheduler: ['coeff', 'steps', 'denoise'],
  BetaSamplingScheduler: ['steps', 'alpha', 'beta'],
  SplitSigmas: ['step'],
  FlipSigmas: [],
  KSamplerSelect: ['sampler_name'],
  SamplerEulerAncestral: ['eta', 's_noise'],
  SamplerEulerAncestralCFGPP: ['eta', 's_noise'],
  SamplerLMS: ['order'],
  SamplerDPMPP_3M_SDE: ['eta', 's_noise', 'noise_device'],
  SamplerDPMPP_2M_SDE: ['solver_type', 'eta', 's_noise', 'noise_device'],
  SamplerDPMPP_SDE: ['eta', 's_noise', 'r', 'noise_device'],
  SamplerDPMPP_2S_Ancestral: ['eta', 's_noise'],
  SamplerDPMAdaptative: ['order', 'rtol', 'atol', 'h_init', 'pcoeff', 'icoeff', 'dcoeff', 'accept_safety', 'eta', 's_noise'],
  SamplerER_SDE: ['solver_type', 'max_stage', 'eta', 's_noise'],
  CFGGuider: ['cfg'],
  BasicGuider: [],
  DualCFGGuider: ['cfg_conds', 'cfg_cond2_negative', 'style'],
  EmptyLatentImage: ['width', 'height', 'batch_size'],
  EmptySD3LatentImage: ['width', 'height', 'batch_size'],
  CLIPTextEncode: ['text'],
  CLIPSetLastLayer: ['stop_at_clip_layer'],
  CheckpointLoaderSimple: ['ckpt_name'],
  CheckpointLoader: ['config_name', 'ckpt_name'],
  UNETLoader: ['unet_name', 'weight_dtype'],
  CLIPLoader: ['clip_name', 'type', 'device'],
  DualCLIPLoader: ['clip_name1', 'clip_name2', 'type', 'device'],
  TripleCLIPLoader: ['clip_name1', 'clip_name2', 'clip_name3'],
  VAELoader: ['vae_name'],
  VAEDecode: [],
  VAEEncode: [],
  LoadImage: ['image', 'upload'],
  SaveImage: ['filename_prefix'],
  PreviewImage: [],
};

const SEED_CONTROLS = new Set(['fixed', 'increment', 'decrement', 'randomize']);

type Issue = { message: string; pointer: string; severity: 'error' | 'warning' };

/** The literal text of the JSON number at `path` (for seeds too large for a double). */
function literal(text: string, root: JsonNode | undefined, path: (string | number)[]): string | undefined {
  let node = root;
  for (const key of path) {
    if (!node) return undefined;
    if (node.type === 'object') node = node.children?.find((p) => p.children?.[0]?.value === key)?.children?.[1];
    else if (node.type === 'array') node = node.children?.[key as number];
    else return undefined;
  }
  return node?.type === 'number' ? text.slice(node.offset, node.offset + node.length) : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether parsed JSON looks like an API-format prompt (possibly wrapped in `{ prompt }`). */
export function isApiPrompt(json: unknown): boolean {
  const api = (p: unknown) => isObject(p) && Object.keys(p).length > 0 && Object.values(p).every((n) => isObject(n) && typeof n.class_type === 'string');
  return api(json) || (isObject(json) && api(json.prompt));
}

/** Whether parsed JSON looks like a UI workflow. */
export function isWorkflow(json: unknown): boolean {
  return isObject(json) && Array.isArray(json.nodes) && Array.isArray(json.links ?? []) && json.nodes.every((n) => isObject(n) && typeof n.type === 'string');
}

/** Reads an API-format prompt. `text` is the JSON text (for number literals), `json` its parsed value. */
export function readApiPrompt(text: string, json: unknown): ComfyGraph {
  const root = parseTree(text, [] as ParseError[]);
  const direct = isObject(json) && Object.values(json).every((n) => isObject(n) && typeof n.class_type === 'string');
  const base: (string | number)[] = direct ? [] : ['prompt'];
  const prompt = (base.length ? (json as Record<string, unknown>).prompt : json) as Record<string, Record<string, unknown>>;
  const nodes = new Map<string, ComfyNode>();
  const problems: Issue[] = [];
  for (const [id, n] of Object.entries(prompt)) {
    const inputs: Record<string, ComfyInput> = {};
    const raw = isObject(n.inputs) ? n.inputs : {};
    for (const [name, v] of Object.entries(raw)) {
      const path = [...base, id, 'inputs', name];
      const pointer = pointerOf(path);
      if (Array.isArray(v) && v.length === 2 && (typeof v[0] === 'string' || typeof v[0] === 'number') && typeof v[1] === 'number') {
        inputs[name] = { kind: 'link', node: String(v[0]), slot: v[1], pointer };
      } else {
        inputs[name] = { kind: 'value', value: v, pointer, raw: typeof v === 'number' ? literal(text, root, path) : undefined };
      }
    }
    const meta = isObject(n._meta) ? n._meta : {};
    nodes.set(id, { id, classType: String(n.class_type), title: typeof meta.title === 'string' ? meta.title : undefined, inputs, pointer: pointerOf([...base, id]) });
  }
  return { format: 'api', nodes, problems };
}

interface WfLink { readonly from: number; readonly fromSlot: number; readonly type: string }
interface WfSocket { readonly name: string; readonly type?: string; readonly link?: number | null; readonly widget?: { readonly name: string } }
interface WfNode {
  readonly id: number;
  readonly type: string;
  readonly title?: string;
  readonly mode?: number;
  readonly inputs?: readonly WfSocket[];
  readonly outputs?: readonly { readonly name?: string; readonly type?: string; readonly widget?: { readonly name: string } }[];
  readonly widgets_values?: readonly unknown[] | Record<string, unknown>;
}

/** Reads a UI workflow (versions 0.4 and 1) into the same graph as the API format. */
export function readWorkflow(text: string, json: unknown): ComfyGraph {
  const root = parseTree(text, [] as ParseError[]);
  const wf = json as { nodes: WfNode[]; links?: unknown[]; version?: number };
  const problems: Issue[] = [];
  const links = new Map<number, WfLink>();
  for (const l of wf.links ?? []) {
    if (Array.isArray(l) && l.length >= 5) links.set(Number(l[0]), { from: Number(l[1]), fromSlot: Number(l[2]), type: String(l[5] ?? '') });
    else if (isObject(l)) links.set(Number(l.id), { from: Number(l.origin_id), fromSlot: Number(l.origin_slot), type: String(l.type ?? '') });
  }
  const byId = new Map<number, { node: WfNode; index: number }>();
  wf.nodes.forEach((node, index) => byId.set(Number(node.id), { node, index }));

  /** Follows a link through Reroute, bypassed nodes and primitives to a real output, or to a literal value. */
  const resolve = (linkId: number, pointer: string, seen = new Set<number>()): ComfyInput | undefined => {
    const link = links.get(linkId);
    if (!link) {
      problems.push({ message: `link ${linkId} is not in the workflow's links`, pointer, severity: 'error' });
      return undefined;
    }
    const src = byId.get(link.from);
    if (!src) {
      problems.push({ message: `link ${linkId} comes from node ${link.from}, which is not in the workflow`, pointer, severity: 'error' });
      return undefined;
    }
    if (seen.has(link.from)) return undefined;
    seen.add(link.from);
    const n = src.node;
    if (n.mode === 2) return undefined;
    if (n.type === 'Reroute' || n.mode === 4) {
      const outType = n.outputs?.[link.fromSlot]?.type ?? link.type;
      const through = (n.inputs ?? []).find((i) => i.link != null && (n.type === 'Reroute' || i.type === outType));
      return through?.link != null ? resolve(through.link, pointer, seen) : undefined;
    }
    if (n.type === 'PrimitiveNode') {
      const v = Array.isArray(n.widgets_values) ? n.widgets_values[0] : undefined;
      const path = ['nodes', src.index, 'widgets_values', 0];
      return { kind: 'value', value: v, pointer: pointerOf(path), raw: typeof v === 'number' ? literal(text, root, path) : undefined };
    }
    return { kind: 'link', node: String(link.from), slot: link.fromSlot, pointer };
  };

  const nodes = new Map<string, ComfyNode>();
  wf.nodes.forEach((n, index) => {
    if (n.mode === 2 || n.mode === 4 || n.type === 'Reroute' || n.type === 'PrimitiveNode' || n.type === 'Note' || n.type === 'MarkdownNote') return;
    const inputs: Record<string, ComfyInput> = {};
    const names = WIDGETS[n.type];
    const values = n.widgets_values;
    if (Array.isArray(values) && names) {
      let k = 0;
      for (const spec of names) {
        const seed = spec.startsWith('*');
        const name = seed ? spec.slice(1) : spec;
        if (k < values.length) {
          const path = ['nodes', index, 'widgets_values', k];
          inputs[name] = { kind: 'value', value: values[k], pointer: pointerOf(path), raw: typeof values[k] === 'number' ? literal(text, root, path) : undefined };
        }
        k++;
        if (seed && typeof values[k] === 'string' && SEED_CONTROLS.has(values[k] as string)) k++;
      }
    } else if (isObject(values)) {
      for (const [name, v] of Object.entries(values)) {
        const path = ['nodes', index, 'widgets_values', name];
        inputs[name] = { kind: 'value', value: v, pointer: pointerOf(path), raw: typeof v === 'number' ? literal(text, root, path) : undefined };
      }
    } else if (Array.isArray(values) && values.length && !names) {
      problems.push({ message: `${n.type} (node ${n.id}): its widget values cannot be read without knowing the node's widgets`, pointer: pointerOf(['nodes', index, 'widgets_values']), severity: 'warning' });
    }
    (n.inputs ?? []).forEach((socket, j) => {
      if (socket.link == null) return;
      const r = resolve(socket.link, pointerOf(['nodes', index, 'inputs', j]));
      if (r) inputs[socket.name] = r;
      else delete inputs[socket.name];
    });
    nodes.set(String(n.id), { id: String(n.id), classType: n.type, title: n.title, inputs, pointer: pointerOf(['nodes', index]) });
  });
  return { format: 'workflow', version: typeof wf.version === 'number' ? wf.version : undefined, nodes, problems };
}
