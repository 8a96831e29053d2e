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

/**
 * The file extension of serialized models and checkpoints.
 *
 * @example
 * ```ts
 * writeFileSync(`model${KILN_FILE_EXTENSION}`, bytes);
 * ```
 */
export const KILN_FILE_EXTENSION = '.kiln';

/**
 * The schema version the writer stamps into files and the reader checks, reporting both
 * numbers on a mismatch. A reader reads files of its own major version, any minor (fields a
 * newer minor added are ignored; see docs/format.md, "Compatibility"), and refuses other majors.
 *
 * @example
 * ```ts
 * KILN_SCHEMA_VERSION; // { major: 1, minor: 0 }
 * ```
 */
export const KILN_SCHEMA_VERSION: Readonly<{ major: number; minor: number }> = Object.freeze({ major: 1, minor: 0 });

/**
 * Weights live outside the FlatBuffers tables in a trailing segment with this alignment, in bytes.
 *
 * @example
 * ```ts
 * const file = readModel(bytes);
 * (file.weights[1]!.byteOffset - bytes.byteOffset) % WEIGHTS_ALIGNMENT; // 0
 * ```
 */
export const WEIGHTS_ALIGNMENT = 64;

/**
 * The producer name and version the writer records when the caller gives none.
 *
 * @example
 * ```ts
 * readModel(writeModel(content)).producer; // { name: 'kiln', version: '0.1.0' }
 * ```
 */
export const DEFAULT_PRODUCER: Readonly<{ name: string; version: string }> = Object.freeze({ name: 'kiln', version: '0.1.0' });
