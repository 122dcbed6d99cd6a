/** Reads what a test needs from a PNG: the signature and the IHDR chunk. */

/** The eight bytes every PNG starts with. */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Image header fields; throws when `png` is not a PNG whose first chunk is a well-formed IHDR. */
export function readIhdr(png: Buffer): {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
} {
  if (png.length < 33 || !png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG signature');
  const length = png.readUInt32BE(8);
  const type = png.toString('latin1', 12, 16);
  if (type !== 'IHDR' || length !== 13) throw new Error(`first chunk is ${type} (${length} bytes), not IHDR`);
  return {
    width: png.readUInt32BE(16),
    height: png.readUInt32BE(20),
    bitDepth: png.readUInt8(24),
    colorType: png.readUInt8(25),
  };
}

/** True when the PNG ends with an IEND chunk (a truncated file does not). */
export function hasIend(png: Buffer): boolean {
  return png.length >= 12 && png.toString('latin1', png.length - 8, png.length - 4) === 'IEND';
}
