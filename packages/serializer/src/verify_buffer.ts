import { KILN_FILE_IDENTIFIER } from './constants.js';
import { FormatError } from './errors.js';
import type { FieldLayout, TableName } from './layout.js';
import { LAYOUT, slotOf } from './layout.js';
import type { SchemaVersion } from './types.js';

/**
 * The structural verifier: before any generated accessor reads the FlatBuffer, every table,
 * vtable, field, vector and string reachable from the root is checked to lie inside the
 * bytes, be aligned, and have a sane size (FlatBuffers' own C++ `Verifier`, for this schema).
 * Objects may not be shared or overlap beyond a small budget, so reading a verified file
 * takes time proportional to its size: a file of a few KB cannot make the reader loop on a
 * billion shared table references.
 */

// The packages build without DOM or Node typings; every JavaScript host has TextDecoder.
declare const TextDecoder: new (label: string, options: { fatal: boolean }) => { decode(bytes: Uint8Array): string };

const MAGIC = [...KILN_FILE_IDENTIFIER].map((c) => c.charCodeAt(0));
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Checks the length and the file identifier; returns the root table's position. */
export function checkHeader(bytes: Uint8Array): number {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(`expected the file's bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  if (bytes.length < 8) throw new FormatError(`the file is ${bytes.length} bytes long; a .kiln file starts with an 8-byte header (root offset, identifier 'KILN')`);
  if (!MAGIC.every((b, i) => bytes[4 + i] === b)) {
    const seen = [...bytes.subarray(4, 8)].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
    throw new FormatError(`not a .kiln file: bytes 4-7 are '${seen}', expected the identifier '${KILN_FILE_IDENTIFIER}'`);
  }
  const view = viewOf(bytes);
  return view.getUint32(0, true);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads the root table's `version` (field 0) after checking just what that needs. */
export function readVersion(bytes: Uint8Array): SchemaVersion {
  const root = checkHeader(bytes);
  const v = new Verifier(bytes);
  const { vtable, vtableSize, tableSize } = v.tableHeader(root, 'Model');
  const field = v.fieldPosition(root, vtable, vtableSize, tableSize, 0, 4, 'Model.version');
  if (field === 0) throw new FormatError('Model.version is missing: every .kiln file records its schema version in field 0 of the root table');
  return { major: v.view.getUint16(field, true), minor: v.view.getUint16(field + 2, true) };
}

/** Verifies the whole FlatBuffer part of the file; throws a FormatError naming the first problem. */
export function verifyBuffer(bytes: Uint8Array): void {
  const root = checkHeader(bytes);
  new Verifier(bytes).table(root, 'Model', 'Model');
}

class Verifier {
  readonly view: DataView;
  private readonly length: number;
  /** Bytes of objects still allowed to be visited: twice the file, plus slack for tiny files. */
  private budget: number;

  constructor(bytes: Uint8Array) {
    this.view = viewOf(bytes);
    this.length = bytes.length;
    this.budget = 2 * bytes.length + 4096;
  }

  private fail(what: string, at: number): never {
    throw new FormatError(`${what} (at byte ${at} of ${this.length})`);
  }

  private inBounds(at: number, size: number, what: string): void {
    if (!(at >= 0 && at + size <= this.length)) this.fail(`${what} lies outside the file: ${size} bytes at offset ${at}`, at);
  }

  private charge(size: number, what: string, at: number): void {
    this.budget -= size;
    if (this.budget < 0) this.fail(`${what}: the file's tables, vectors and strings are shared or overlap more than a well-formed file's can`, at);
  }

  tableHeader(pos: number, what: string): { vtable: number; vtableSize: number; tableSize: number } {
    if (pos % 4 !== 0) this.fail(`table ${what} is not 4-byte aligned`, pos);
    this.inBounds(pos, 4, `table ${what}`);
    const vtable = pos - this.view.getInt32(pos, true);
    if (vtable % 2 !== 0) this.fail(`the vtable of ${what} is not 2-byte aligned`, vtable);
    this.inBounds(vtable, 4, `the vtable of ${what}`);
    const vtableSize = this.view.getUint16(vtable, true);
    const tableSize = this.view.getUint16(vtable + 2, true);
    if (vtableSize < 4 || vtableSize % 2 !== 0) this.fail(`the vtable of ${what} has an invalid size ${vtableSize}`, vtable);
    this.inBounds(vtable, vtableSize, `the vtable of ${what}`);
    if (tableSize < 4) this.fail(`table ${what} has an invalid size ${tableSize}`, pos);
    this.inBounds(pos, tableSize, `table ${what}`);
    return { vtable, vtableSize, tableSize };
  }

  /** Absolute position of field `id` (0 when absent), checked to fit in the table and be aligned. */
  fieldPosition(pos: number, vtable: number, vtableSize: number, tableSize: number, id: number, size: number, what: string, align = size): number {
    const slot = slotOf(id);
    if (slot + 2 > vtableSize) return 0;
    const offset = this.view.getUint16(vtable + slot, true);
    if (offset === 0) return 0;
    if (offset < 4 || offset + size > tableSize) this.fail(`field ${what} (${size} bytes at table offset ${offset}) does not fit in its table of ${tableSize} bytes`, pos);
    const at = pos + offset;
    if (at % align !== 0) this.fail(`field ${what} is not ${align}-byte aligned`, at);
    return at;
  }

  table(pos: number, name: TableName, path: string): void {
    const { vtable, vtableSize, tableSize } = this.tableHeader(pos, path);
    this.charge(tableSize, path, pos);
    LAYOUT[name].forEach((field, id) => this.field(pos, vtable, vtableSize, tableSize, id, field, `${path}.${field.name}`));
  }

  private field(pos: number, vtable: number, vtableSize: number, tableSize: number, id: number, field: FieldLayout, path: string): void {
    const t = field.type;
    const inline = t.kind === 'scalar' ? t.size : t.kind === 'struct' ? t.size : 4;
    const align = t.kind === 'struct' ? t.align : inline;
    const at = this.fieldPosition(pos, vtable, vtableSize, tableSize, id, inline, path, align);
    if (at === 0) {
      if (field.required) this.fail(`required field ${path} is missing`, pos);
      return;
    }
    if (t.kind === 'scalar' || t.kind === 'struct') return;
    const target = this.follow(at, path);
    switch (t.kind) {
      case 'string': return this.string(target, path);
      case 'table': return this.table(target, t.table, path);
      case 'vector': return void this.vector(target, t.elementSize, t.align, path);
      case 'strings': {
        const n = this.vector(target, 4, 4, path);
        for (let i = 0; i < n; i++) this.string(this.follow(target + 4 + 4 * i, `${path}[${i}]`), `${path}[${i}]`);
        return;
      }
      case 'tables': {
        const n = this.vector(target, 4, 4, path);
        for (let i = 0; i < n; i++) this.table(this.follow(target + 4 + 4 * i, `${path}[${i}]`), t.table, `${path}[${i}]`);
        return;
      }
    }
  }

  /** The object an offset field at `at` points to (uoffset: relative to the field, forward). */
  private follow(at: number, path: string): number {
    const target = at + this.view.getUint32(at, true);
    if (target >= this.length) this.fail(`${path} points outside the file (to byte ${target})`, at);
    return target;
  }

  /** Checks a vector header and extent; returns its length. */
  private vector(pos: number, elementSize: number, align: number, path: string): number {
    if (pos % 4 !== 0) this.fail(`vector ${path} is not 4-byte aligned`, pos);
    this.inBounds(pos, 4, `the length of vector ${path}`);
    const count = this.view.getUint32(pos, true);
    const bytes = count * elementSize;
    if (pos + 4 + bytes > this.length) this.fail(`vector ${path} claims ${count} elements (${bytes} bytes), more than the file holds`, pos);
    if ((pos + 4) % align !== 0) this.fail(`the elements of vector ${path} are not ${align}-byte aligned`, pos + 4);
    this.charge(4 + bytes, path, pos);
    return count;
  }

  private string(pos: number, path: string): void {
    const n = this.vector(pos, 1, 1, path);
    this.inBounds(pos + 4 + n, 1, `the terminating zero of string ${path}`);
    if (this.view.getUint8(pos + 4 + n) !== 0) this.fail(`string ${path} is not zero-terminated`, pos + 4 + n);
    try {
      utf8.decode(new Uint8Array(this.view.buffer, this.view.byteOffset + pos + 4, n));
    } catch {
      this.fail(`string ${path} is not valid UTF-8`, pos + 4);
    }
  }
}
