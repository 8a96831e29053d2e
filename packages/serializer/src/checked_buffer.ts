import { ByteBuffer } from 'flatbuffers';
import { FormatError } from './errors.js';

/**
 * The generated accessors read through a `ByteBuffer`, whose reads outside the bytes return 0
 * silently. Files are verified before any accessor runs (verify_buffer.ts); this subclass
 * checks every read as well, so a gap in the verifier becomes a FormatError, never a wrong read.
 */
export class CheckedByteBuffer extends ByteBuffer {
  private readonly size: number;

  constructor(bytes: Uint8Array) {
    super(bytes);
    this.size = bytes.length;
  }

  private check(offset: number, bytes: number): void {
    if (!(offset >= 0 && offset + bytes <= this.size)) {
      throw new FormatError(`a read of ${bytes} bytes at offset ${offset} lies outside the file (${this.size} bytes), in a part the verifier accepted; please report this file`);
    }
  }

  override readUint8(offset: number): number {
    this.check(offset, 1);
    return super.readUint8(offset);
  }

  override readUint16(offset: number): number {
    this.check(offset, 2);
    return super.readUint16(offset);
  }

  override readInt32(offset: number): number {
    this.check(offset, 4);
    return super.readInt32(offset);
  }
}
