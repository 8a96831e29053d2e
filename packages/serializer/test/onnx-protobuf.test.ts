/**
 * The protobuf encoder against the wire-format examples of the protobuf documentation
 * (protobuf.dev/programming-guides/encoding), a round trip through the decoder for random
 * messages, and the decoder on hostile bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFields, int64Of, ProtobufError, ProtoWriter } from '../src/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('ProtoWriter: the documented encodings', () => {
  it('writes a varint field (150 → 08 96 01)', () => {
    expect(hex(new ProtoWriter().int(1, 150).finish())).toBe('089601');
  });

  it('writes a string field ("testing" → 12 07 74 65 73 74 69 6e 67)', () => {
    expect(hex(new ProtoWriter().string(2, 'testing').finish())).toBe('120774657374696e67');
  });

  it('writes an embedded message (Test3 { c: { a: 150 } } → 1a 03 08 96 01)', () => {
    expect(hex(new ProtoWriter().message(3, (m) => m.int(1, 150)).finish())).toBe('1a03089601');
  });

  it('writes a packed repeated int field ([3, 270, 86942] → 22 06 03 8e 02 9e a7 05)', () => {
    expect(hex(new ProtoWriter().packedInts(4, [3, 270, 86942]).finish())).toBe('2206038e029ea705');
  });

  it('writes negative int64 as ten-byte two\'s complement, and 64-bit bigints', () => {
    expect(hex(new ProtoWriter().int(1, -1).finish())).toBe('08ffffffffffffffffff01');
    expect(hex(new ProtoWriter().int(1, -2n).finish())).toBe('08feffffffffffffffff01');
    expect(hex(new ProtoWriter().int(1, 2n ** 63n - 1n).finish())).toBe('08ffffffffffffffff7f');
    expect(hex(new ProtoWriter().int(1, 0).finish())).toBe('0800');
    expect(hex(new ProtoWriter().int(1, true).finish())).toBe('0801');
  });

  it('writes floats and doubles little-endian (fixed32, fixed64)', () => {
    expect(hex(new ProtoWriter().float(1, 1.5).finish())).toBe('0d0000c03f');
    expect(hex(new ProtoWriter().double(2, -2).finish())).toBe('1100000000000000c0');
    expect(hex(new ProtoWriter().packedFloats(7, [1, -1]).finish())).toBe('3a080000803f000080bf');
  });

  it('writes multi-byte field numbers and omits empty packed fields', () => {
    expect(hex(new ProtoWriter().int(20, 7).finish())).toBe('a00107');
    expect(new ProtoWriter().packedInts(1, []).packedFloats(2, []).finish().length).toBe(0);
  });

  it('keeps large blobs and many small fields in order', () => {
    const blob = Uint8Array.from({ length: 70_000 }, (_, i) => i % 251);
    const w = new ProtoWriter();
    for (let i = 0; i < 100; i++) w.int(1, i);
    w.bytes(2, blob).string(3, 'end');
    const fields = decodeFields(w.finish());
    expect(fields.length).toBe(102);
    expect(fields.slice(0, 100).map((f) => f.value)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i)));
    expect(fields[100].value).toEqual(blob);
    expect(new TextDecoder().decode(fields[101].value as Uint8Array)).toBe('end');
  });

  it('refuses field numbers outside 1..2^29-1 and unsafe integers', () => {
    expect(() => new ProtoWriter().int(0, 1)).toThrow(ProtobufError);
    expect(() => new ProtoWriter().int(2 ** 29, 1)).toThrow(ProtobufError);
    expect(() => new ProtoWriter().int(1, 2 ** 60)).toThrow(/not a safe integer/);
    expect(() => new ProtoWriter().int(1, 2n ** 64n)).toThrow(/64 bits/);
  });
});

type Field = { kind: 'int'; field: number; value: bigint } | { kind: 'bytes'; field: number; value: Uint8Array } | { kind: 'float'; field: number; value: number };

describe('decodeFields', () => {
  it('reads back what ProtoWriter writes (random messages)', () => {
    const field = fc.integer({ min: 1, max: 2 ** 29 - 1 });
    const arb = fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('int' as const), field, value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }),
        fc.record({ kind: fc.constant('bytes' as const), field, value: fc.uint8Array({ maxLength: 300 }) }),
        fc.record({ kind: fc.constant('float' as const), field, value: fc.float({ noNaN: true }) }),
      ),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(arb, (fields: Field[]) => {
        const w = new ProtoWriter();
        for (const f of fields) {
          if (f.kind === 'int') w.int(f.field, f.value);
          else if (f.kind === 'bytes') w.bytes(f.field, f.value);
          else w.float(f.field, f.value);
        }
        const back = decodeFields(w.finish());
        expect(back.map((f) => f.field)).toEqual(fields.map((f) => f.field));
        back.forEach((b, i) => {
          const f = fields[i];
          if (f.kind === 'int') expect(int64Of(b.value)).toBe(Number(f.value));
          else if (f.kind === 'bytes') expect(b.value).toEqual(f.value);
          else expect(new DataView((b.value as Uint8Array).slice().buffer).getFloat32(0, true)).toBe(f.value);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('names the problem in hostile bytes', () => {
    expect(() => decodeFields(Uint8Array.of(0x08, 0x96))).toThrow(/truncated varint at byte 2/);
    expect(() => decodeFields(Uint8Array.of(0x08, ...new Array<number>(11).fill(0xff)))).toThrow(/longer than 10 bytes/);
    expect(() => decodeFields(Uint8Array.of(0x12, 0x02, 0x61))).toThrow(/field 2 of 2 bytes at byte 2 runs past the end/);
    expect(() => decodeFields(Uint8Array.of(0x12, 0xff, 0xff, 0xff, 0xff, 0x0f))).toThrow(/larger than the message/);
    expect(() => decodeFields(Uint8Array.of(0x0b))).toThrow(/unsupported wire type 3/);
    expect(() => decodeFields(Uint8Array.of(0x00))).toThrow(/field number 0/);
    expect(() => decodeFields(Uint8Array.of(0x0d, 0x00))).toThrow(/fixed32/);
  });

  it('either decodes or throws a ProtobufError for random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          for (const f of decodeFields(bytes)) if (f.value instanceof Uint8Array) expect(f.value.buffer).toBe(bytes.buffer);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtobufError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
