// An independent implementation of the sealed-field format (docs/FORMAT.md §1-2) with
// WebCrypto only, no package code: the yardstick the package's two sealing paths are compared
// with byte for byte (test/webcrypto.test.mjs) and the WebCrypto side of bench/seal.mjs.
// WebCrypto has no raw AES block (ECB) operation: each XAES derivation block is AES-CBC over
// one block with a zero IV (the first output block is AES_K(block)).
const subtle = globalThis.crypto.subtle;
const enc = new TextEncoder();

const lp = (bytes) => {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
};

export const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};

export const toText = (bytes) => 'cg1:' + Buffer.from(bytes).toString('base64url');
export const fromText = (text) => Uint8Array.from(Buffer.from(text.slice(4), 'base64url'));

/**
 * An XAES-256-GCM sealer for one 32-byte key. `seal(ctx, plaintext, nonce, { scope, keyId,
 * json })` returns the `cg1:` text; scope 1 is a keyring key, 2 a data-subject key (then
 * `ctx.subject` is bound).
 */
export async function referenceSealer(keyBytes) {
  const cbc = await subtle.importKey('raw', keyBytes, 'AES-CBC', false, ['encrypt']);
  const aesBlock = async (block) =>
    new Uint8Array(await subtle.encrypt({ name: 'AES-CBC', iv: new Uint8Array(16) }, cbc, block)).subarray(0, 16);
  const L = await aesBlock(new Uint8Array(16));
  const k1 = new Uint8Array(16);
  for (let i = 0; i < 16; i++) k1[i] = ((L[i] << 1) | (i < 15 ? L[i + 1] >> 7 : 0)) & 0xff;
  if (L[0] & 0x80) k1[15] ^= 0x87;
  return async function seal(ctx, plaintext, nonce = crypto.getRandomValues(new Uint8Array(24)), { scope = 1, keyId = 1, json = false } = {}) {
    const header = new Uint8Array([1, scope, json ? 1 : 0, 0, 0, 0, 0]);
    new DataView(header.buffer).setUint32(3, keyId);
    const m = (c) => {
      const b = concat(new Uint8Array([0, c, 0x58, 0]), nonce.subarray(0, 12));
      for (let i = 0; i < 16; i++) b[i] ^= k1[i];
      return b;
    };
    const [a, b] = await Promise.all([aesBlock(m(1)), aesBlock(m(2))]);
    const gcm = await subtle.importKey('raw', concat(a, b), 'AES-GCM', false, ['encrypt']);
    const subject = scope === 2 ? ctx.subject : '';
    const aad = concat(
      lp(enc.encode('crmguard/sealed-field/v1')), header,
      ...[ctx.tenant, ctx.object, ctx.record, ctx.field, subject].map((s) => lp(enc.encode(s))),
    );
    const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce.subarray(12), additionalData: aad }, gcm, plaintext));
    return toText(concat(header, nonce, ct));
  };
}
