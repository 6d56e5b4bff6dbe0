import type { Type } from '@nestjs/common';
import { Type as TransformType } from 'class-transformer';
import { getMetadataStorage, ValidatorOptions } from 'class-validator';
import { createHash } from 'node:crypto';

/**
 * What a payload class's rules are, computed once per class at discovery (`payloadRulesOf`). The enqueue
 * records `fingerprint` with the row (`payload_rules`); a worker whose class has the same fingerprint
 * knows the stored payload passed these exact rules and skips class-validator (see `toPerformPayload`).
 */
export interface PayloadRules {
  /**
   * A hash of everything that decides whether a payload is valid and what the handler's instance looks
   * like: class-validator's metadata of the class and every class reachable through `@Type` (decorator
   * names, constraints, options, groups, custom constraint classes' source), class-transformer's type,
   * transform, expose and exclude metadata, the classes' own source text (field defaults, getters), the
   * module's `validatorOptions`, and the versions of both packages. `undefined` when it cannot be
   * computed (a `@Type` function that needs an object, a throwing getter in a constraint, `whitelist`
   * on, a second copy of class-transformer): such rows are always validated.
   */
  fingerprint: string | undefined;
  /**
   * True when `plainToInstance` would only copy the payload into a new instance (no class-transformer
   * metadata on the class or its ancestors), so `plainCopy` can stand in for it.
   */
  plainCopy: boolean;
}

/** Bump when what goes into the fingerprint changes, so rows fingerprinted before are validated again. */
const FINGERPRINT_VERSION = 'payload-rules/1';

/** The parts of class-transformer's metadata storage read here (its fields, not a public API). */
interface TransformerStorage {
  _typeMetadatas: Map<unknown, Map<string, TypeMetadataLike>>;
  _transformMetadatas: Map<unknown, Map<string, unknown[]>>;
  _exposeMetadatas: Map<unknown, Map<string | undefined, unknown>>;
  _excludeMetadatas: Map<unknown, Map<string | undefined, unknown>>;
}

interface TypeMetadataLike {
  typeFunction?: (options: object) => unknown;
  reflectedType?: unknown;
  options?: { discriminator?: { subTypes?: Array<{ value?: unknown }> } };
}

let transformerStorage: TransformerStorage | null | undefined;

/**
 * class-transformer's metadata storage, or `null` when it cannot be read or is not the one its decorators
 * write to (a bundler that resolved `class-transformer` to its ESM build has a second storage): checked
 * by decorating a probe class, once. The storage is not exported (Nest's own mapped-types reads it the
 * same way).
 */
function storageOfTransformer(): TransformerStorage | null {
  if (transformerStorage !== undefined) return transformerStorage;
  transformerStorage = null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require('class-transformer/cjs/storage') as {
      defaultMetadataStorage?: Partial<TransformerStorage>;
    };
    const storage = loaded.defaultMetadataStorage;
    class StorageProbe {}
    TransformType(() => String)(StorageProbe.prototype, 'probe');
    if (
      storage?._typeMetadatas?.get(StorageProbe)?.has('probe') &&
      storage._transformMetadatas instanceof Map &&
      storage._exposeMetadatas instanceof Map &&
      storage._excludeMetadatas instanceof Map
    ) {
      storage._typeMetadatas.delete(StorageProbe);
      transformerStorage = storage as TransformerStorage;
    }
  } catch {
    // left null: no fingerprint, every payload validated at perform as before
  }
  return transformerStorage;
}

/**
 * The rules of a payload class (see `PayloadRules`). Never throws: anything it cannot read leaves the
 * fingerprint out, and then the worker validates as it always did.
 */
export function payloadRulesOf(
  type: Type<object>,
  validatorOptions: ValidatorOptions,
): PayloadRules {
  const storage = storageOfTransformer();
  if (!storage) return { fingerprint: undefined, plainCopy: false };
  let plainCopy = false;
  try {
    const { text, transformed } = describeRules(type, storage, validatorOptions);
    plainCopy = !transformed;
    // `whitelist` strips undecorated properties from the instance while validating: skipping the
    // validator would hand them to the handler, so such payloads are always validated.
    if (validatorOptions.whitelist) return { fingerprint: undefined, plainCopy };
    const fingerprint = createHash('sha256').update(text).digest('base64url').slice(0, 16);
    return { fingerprint, plainCopy };
  } catch {
    return { fingerprint: undefined, plainCopy: false };
  }
}

/**
 * The text that is hashed: one section per class reachable from `root` (itself, its ancestors, and the
 * classes its `@Type` functions and discriminators name, transitively), in the order met.
 */
function describeRules(
  root: Type<object>,
  storage: TransformerStorage,
  validatorOptions: ValidatorOptions,
): { text: string; transformed: boolean } {
  const validation = getMetadataStorage();
  const parts = [
    FINGERPRINT_VERSION,
    `class-validator@${packageVersion('class-validator')}`,
    `class-transformer@${packageVersion('class-transformer')}`,
    `options:${canonical(validatorOptions)}`,
  ];
  let transformed = false;
  const seen = new Set<unknown>();
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const cls = pending.shift();
    if (typeof cls !== 'function' || seen.has(cls) || isBuiltIn(cls)) continue;
    seen.add(cls);
    // The effective rules, inherited ones included (the validator's own look-up, all groups).
    const rules = validation.getTargetValidationMetadatas(cls as Type<object>, '', false, false);
    parts.push(`class ${canonical(cls)}`);
    for (const m of rules) {
      const constraintMeta = validation.getTargetValidatorConstraints(m.constraintCls);
      parts.push(
        `validate ${canonical([m.type, m.name, m.propertyName, m.constraints, m.constraintCls])}` +
          ` ${canonical([m.each, m.message, m.groups, m.always, m.context, m.validationTypeOptions, m.validateIf])}` +
          ` ${canonical(constraintMeta.map((c) => [c.name, c.async]))}`,
      );
    }
    for (let c: unknown = cls; typeof c === 'function' && c !== Function.prototype;) {
      if (c !== cls) pending.push(c); // ancestors: their source (field defaults) matters too
      const types = storage._typeMetadatas.get(c);
      const transforms = storage._transformMetadatas.get(c);
      const exposed = storage._exposeMetadatas.get(c);
      const excluded = storage._excludeMetadatas.get(c);
      if (types || transforms || exposed || excluded) transformed = true;
      for (const [property, t] of types ?? []) {
        parts.push(`type ${canonical([property, t])}`);
        pending.push(...nestedTypesOf(t, property));
      }
      for (const [property, list] of transforms ?? [])
        parts.push(`transform ${canonical([property, list])}`);
      for (const [property, e] of exposed ?? []) parts.push(`expose ${canonical([property, e])}`);
      for (const [property, e] of excluded ?? []) parts.push(`exclude ${canonical([property, e])}`);
      c = Object.getPrototypeOf(c);
    }
  }
  return { text: parts.join('\n'), transformed };
}

/**
 * The classes a `@Type` names: its function's result and its discriminator's. A function that takes the
 * object (`@Type((o) => …)`) may name a different class per payload, which cannot be known here: it
 * throws, and the class gets no fingerprint (always validated).
 */
function nestedTypesOf(t: TypeMetadataLike, property: string): unknown[] {
  const out: unknown[] = [t.reflectedType];
  if (t.typeFunction && t.typeFunction.length > 0) {
    throw new Error(`@Type of ${property} depends on the object`);
  }
  if (t.typeFunction) out.push(t.typeFunction({ newObject: {}, object: {}, property }));
  for (const sub of t.options?.discriminator?.subTypes ?? []) out.push(sub.value);
  return out;
}

/** Object, Array, String, Date…: their source is `[native code]` and they hold no rules of their own. */
function isBuiltIn(cls: unknown): boolean {
  return (
    typeof cls === 'function' &&
    Function.prototype.toString.call(cls).endsWith('{ [native code] }') &&
    !getMetadataStorage().getTargetValidationMetadatas(cls as Type<object>, '', false, false).length
  );
}

function packageVersion(name: string): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(`${name}/package.json`) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * A deterministic text for any value found in metadata: functions and classes by name and source text
 * (so a changed custom validator or `@Transform` changes the fingerprint), RegExps by source and flags,
 * Dates by time, objects by sorted keys; cycles cut. Throwing getters throw (the caller gives up).
 */
function canonical(value: unknown, seen = new Set<object>()): string {
  switch (typeof value) {
    case 'function':
      return `fn ${JSON.stringify(value.name)} ${JSON.stringify(Function.prototype.toString.call(value))}`;
    case 'string':
      return JSON.stringify(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return `sym ${JSON.stringify(value.description ?? '')}`;
    case 'object': {
      if (value === null) return 'null';
      if (value instanceof RegExp) return `re ${JSON.stringify(value.source)}/${value.flags}`;
      if (value instanceof Date) return `date ${value.getTime()}`;
      if (seen.has(value)) return 'cycle';
      seen.add(value);
      let out: string;
      if (Array.isArray(value)) out = `[${value.map((v) => canonical(v, seen)).join(',')}]`;
      else if (value instanceof Map || value instanceof Set)
        out = `${value.constructor.name}${canonical([...value.entries()], seen)}`;
      else {
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record).sort();
        out = `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k], seen)}`).join(',')}}`;
        const proto = Object.getPrototypeOf(value) as object | null;
        if (proto !== Object.prototype && proto !== null)
          out = `${canonical(proto.constructor, seen)}${out}`;
      }
      seen.delete(value);
      return out;
    }
    default:
      return String(value); // number, boolean, undefined
  }
}

/**
 * What `plainToInstance(type, payload)` returns for a payload read back from `jsonb` (plain objects,
 * arrays, strings, numbers, booleans, null) when the class tree has no class-transformer metadata
 * (`PayloadRules.plainCopy`), for a fraction of its cost: a new instance (its constructor runs, so field
 * defaults apply), then every own key copied, skipping what class-transformer skips (`__proto__`,
 * `constructor`, a key that is a getter without setter on the class's prototype or a function on the
 * instance), nested objects and arrays copied as new plain ones. Returns `undefined` for a payload with
 * anything class-transformer would treat specially (a nested object with a key `Object.prototype` has,
 * such as `constructor` or `toString`): the caller then uses `plainToInstance` itself.
 */
export function plainCopy(
  type: Type<object>,
  payload: Record<string, unknown>,
): object | undefined {
  const instance = new type() as Record<string, unknown>;
  const proto = (instance.constructor as { prototype?: object } | undefined)?.prototype;
  for (const key of Object.keys(payload)) {
    if (key === '__proto__' || key === 'constructor') continue;
    if (proto) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      if ((descriptor && !descriptor.set) || instance[key] instanceof Function) continue;
    }
    const copied = copyPlain(payload[key]);
    if (copied === UNUSUAL) return undefined;
    instance[key] = copied;
  }
  return instance;
}

const UNUSUAL = Symbol('unusual');

/** A deep copy of a JSON value, or `UNUSUAL` (see `plainCopy`). */
function copyPlain(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const copied = copyPlain(value[i]);
      if (copied === UNUSUAL) return UNUSUAL;
      out[i] = copied;
    }
    return out;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return UNUSUAL;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key in Object.prototype) return UNUSUAL;
    const copied = copyPlain((value as Record<string, unknown>)[key]);
    if (copied === UNUSUAL) return UNUSUAL;
    out[key] = copied;
  }
  return out;
}
