import { type Static, type TSchema, Type } from 'typebox';

/** TypeBox helpers the core's schemas share (TypeBox has no HTTP in it). */

/** A schema that also accepts null, as one JSON Schema `type` list (ajv reports it in one line). */
export function Nullable<T extends TSchema>(schema: T) {
  const { type } = schema as unknown as { type: string };
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'] });
}
