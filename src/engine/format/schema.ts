/**
 * The JSON Schema (draft-07) of the .dpipe format.
 * - `structuralSchema()`: the shape of the document, independent of the blocks; the loader validates with it.
 * - `buildSchema(registry)`: the same plus, per node type, an `if/then` giving its params' types, ranges, enums and
 *   descriptions (VS Code shows them on hover and completes enums). `scripts/gen-schema.mjs` writes it to
 *   `schema/dpipe.schema.json`, which the extension contributes through `jsonValidation`.
 */
import { paramJsonSchema } from '../registry/params';
import type { NodeTypeInfo } from '../registry/types';
import { asRegistry, type BlockRegistry } from './registry';
import { FORMAT_VERSION, ENDPOINT_PATTERN, MAX_NODE_ID_LENGTH, NODE_ID_PATTERN, type RegistryLike } from './types';

export type JsonSchema = { [key: string]: unknown };

export const SCHEMA_ID = 'https://dpipe.dev/schema/dpipe.schema.json';

/** The document's shape; node `params` are checked per type by the loader (better messages than a schema gives). */
export function structuralSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_ID,
    title: 'dpipe pipeline',
    description: 'A diffusion-sampler pipeline: blocks (nodes) and typed connections between their ports (edges).',
    type: 'object',
    required: ['dpipe', 'nodes'],
    additionalProperties: false,
    properties: {
      $schema: { type: 'string', description: 'Optional: the JSON Schema this file follows.' },
      dpipe: {
        type: 'integer',
        minimum: 1,
        maximum: FORMAT_VERSION,
        description: `Format version. This build writes ${FORMAT_VERSION}; older files are migrated on load.`,
      },
      metadata: {
        type: 'object',
        description: 'Free-form information about the pipeline.',
        properties: {
          title: { type: 'string', description: 'A short title.' },
          description: { type: 'string', description: 'What the pipeline does and why.' },
        },
      },
      nodes: { type: 'array', description: 'The blocks.', items: { $ref: '#/definitions/node' } },
      edges: { type: 'array', description: 'Connections from an output port to an input port.', items: { $ref: '#/definitions/edge' } },
    },
    definitions: {
      node: {
        type: 'object',
        required: ['id', 'type'],
        additionalProperties: false,
        properties: {
          id: {
            type: 'string',
            pattern: NODE_ID_PATTERN.source,
            maxLength: MAX_NODE_ID_LENGTH,
            description: `Unique id: a letter or _ first, then letters, digits, _ or - (at most ${MAX_NODE_ID_LENGTH}). Edges name ports as "id.port".`,
          },
          type: { type: 'string', description: 'The block type (see `dpipe blocks`).' },
          params: { type: 'object', description: 'Parameters; omitted ones take the block default.' },
          position: { $ref: '#/definitions/position' },
        },
      },
      position: {
        type: 'object',
        description: 'Position on the canvas; omitted means automatic layout.',
        required: ['x', 'y'],
        additionalProperties: false,
        properties: { x: { type: 'number' }, y: { type: 'number' } },
      },
      edge: {
        type: 'object',
        required: ['from', 'to'],
        additionalProperties: false,
        properties: {
          from: { type: 'string', pattern: ENDPOINT_PATTERN.source, description: 'An output port, "nodeId.port".' },
          to: { type: 'string', pattern: ENDPOINT_PATTERN.source, description: 'An input port, "nodeId.port".' },
        },
      },
    },
  };
}

/** The full schema for editors: the structure plus each block's params. Deterministic for a given registry. */
export function buildSchema(registryLike: RegistryLike | BlockRegistry): JsonSchema {
  const registry = asRegistry(registryLike);
  const schema = structuralSchema();
  const defs = schema.definitions as Record<string, JsonSchema>;
  const node = defs.node as { properties: Record<string, JsonSchema>; allOf?: JsonSchema[] };
  const types = registry.all;
  if (types.length > 0) {
    node.properties.type = {
      type: 'string',
      description: 'The block type (see `dpipe blocks`).',
      enum: types.map((t) => t.type),
      enumDescriptions: types.map((t) => `${t.title} (${t.category}): ${firstSentence(t.doc)}`),
    };
    node.allOf = types.map((t) => ({
      if: { properties: { type: { const: t.type } }, required: ['type'] },
      then: { properties: { params: { $ref: `#/definitions/params:${t.type}` } } },
    }));
    for (const t of types) defs[`params:${t.type}`] = paramsSchema(t);
  }
  return schema;
}

function paramsSchema(t: NodeTypeInfo): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const p of t.params) properties[p.name] = paramJsonSchema(p);
  const ports = (dir: string, ps: NodeTypeInfo['inputs']): string =>
    ps.length ? ` ${dir}: ${ps.map((p) => `${p.name} (${p.type}${p.optional ? ', optional' : ''})`).join(', ')}.` : '';
  return {
    type: 'object',
    description: `${t.title}: ${t.doc}${ports('Inputs', t.inputs)}${ports('Outputs', t.outputs)}`,
    additionalProperties: false,
    properties,
  };
}

function firstSentence(doc: string): string {
  const m = /^(.*?[.!?])(\s|$)/s.exec(doc);
  return (m ? m[1] : doc).replace(/\s+/g, ' ').trim();
}

/** The schema file's text: 2-space JSON with a trailing newline. */
export function schemaText(registry: RegistryLike | BlockRegistry): string {
  return JSON.stringify(buildSchema(registry), null, 2) + '\n';
}
