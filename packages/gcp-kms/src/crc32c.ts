/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as Cloud KMS
 * checksums requests and responses. Pure JavaScript: the values are a few
 * hundred bytes at most (a DEK, a wrapped key, a PEM), where a native
 * binding buys nothing and breaks `npm install --omit=optional`.
 */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
