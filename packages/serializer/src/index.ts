/**
 * `@kiln/serializer` — the `.kiln` FlatBuffers format. **Skeleton:** the schema, reader and
 * writer come in a later issue. What exists now are the format's fixed constants, so the
 * reader and writer that follow start from one definition.
 */

/**
 * The FlatBuffers file identifier of a `.kiln` file: 4 ASCII bytes at offset 4 of the buffer.
 *
 * @example
 * ```ts
 * const id = new TextDecoder().decode(bytes.subarray(4, 8));
 * if (id !== KILN_FILE_IDENTIFIER) throw new Error('not a .kiln file');
 * ```
 */
export const KILN_FILE_IDENTIFIER = 'KILN';

/** The file extension of serialized models and checkpoints. */
export const KILN_FILE_EXTENSION = '.kiln';

/**
 * The schema version the writer will stamp into files and the loader will check, reporting
 * both numbers on a mismatch. A reader accepts files of its own major version with a minor
 * version up to its own. `0.x`: the format is not stable yet.
 */
export const KILN_SCHEMA_VERSION: Readonly<{ major: number; minor: number }> = Object.freeze({ major: 0, minor: 1 });

/** Weights live outside the FlatBuffers tables in a trailing segment with this alignment, in bytes. */
export const WEIGHTS_ALIGNMENT = 64;
