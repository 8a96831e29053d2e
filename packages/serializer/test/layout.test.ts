/**
 * The verifier's table layouts (src/layout.ts) against the code flatc generated from
 * schema/kiln.fbs: field count, each field's id and storage, vector element sizes and
 * alignments, required fields. A schema edit not mirrored in layout.ts fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FieldLayout, TableName } from '../src/layout.js';
import { LAYOUT } from '../src/layout.js';

const generated = (table: string) => readFileSync(new URL(`../src/generated/kiln/fb/${table.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}.ts`, import.meta.url), 'utf8');
const pascal = (snake: string) => snake.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('');

/** What flatc's `addField<Kind>` says about a field's storage. */
function storageOf(field: FieldLayout): string {
  const t = field.type;
  if (t.kind === 'struct') return 'Struct';
  if (t.kind !== 'scalar') return 'Offset';
  return { 1: 'Int8', 2: 'Int16', 4: 'Int32|Float32', 8: 'Int64|Float64' }[t.size];
}

describe('layout.ts mirrors the generated code', () => {
  for (const [table, fields] of Object.entries(LAYOUT) as [TableName, readonly FieldLayout[]][]) {
    it(table, () => {
      const src = generated(table);
      expect(src).toContain(`builder.startObject(${fields.length});`);
      fields.forEach((field, id) => {
        const add = new RegExp(`static add${pascal(field.name)}\\(builder:flatbuffers\\.Builder, [^)]*\\) \\{\\s*builder\\.addField(\\w+)\\((\\d+),`).exec(src);
        expect(add, `${table}.${field.name}: no add${pascal(field.name)} in the generated code`).not.toBeNull();
        expect(Number(add![2]), `${table}.${field.name} id`).toBe(id);
        expect(add![1], `${table}.${field.name} storage`).toMatch(new RegExp(`^(${storageOf(field)})$`));
        const vector = new RegExp(`static start${pascal(field.name)}Vector\\(builder:flatbuffers\\.Builder, numElems:number\\) \\{\\s*builder\\.startVector\\((\\d+), numElems, (\\d+)\\)`).exec(src);
        const t = field.type;
        if (t.kind === 'vector') {
          expect(vector, `${table}.${field.name} is a vector`).not.toBeNull();
          expect([Number(vector![1]), Number(vector![2])], `${table}.${field.name} element size and alignment`).toEqual([t.elementSize, t.align]);
        } else if (t.kind === 'tables' || t.kind === 'strings') {
          expect([Number(vector![1]), Number(vector![2])]).toEqual([4, 4]);
        } else {
          expect(vector, `${table}.${field.name} is not a vector`).toBeNull();
        }
      });
      const required = [...src.matchAll(/builder\.requiredField\(offset, \d+\) \/\/ (\w+)/g)].map((m) => m[1]).sort();
      expect(required).toEqual(fields.filter((f) => f.required).map((f) => f.name).sort());
    });
  }
});
