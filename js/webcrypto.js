// The *Async field methods: from WEBCRYPTO_MIN_BYTES the AES-256-GCM step runs in WebCrypto
// (AES hardware); key derivation and format stay in wasm, so the bytes are the sync methods'.
/** The crossover measured by bench/seal.mjs (docs/BENCHMARKS.md). */
export const WEBCRYPTO_MIN_BYTES = 1024;

const subtle = globalThis.crypto?.subtle;
let minBytes = WEBCRYPTO_MIN_BYTES;

/** Tests and benchmarks only (0: always WebCrypto, Infinity: never). */
export function __setWebCryptoMinBytes(n) {
  minBytes = n;
}

const threshold = () => (subtle ? minBytes : Infinity);

/** AES-256-GCM of `[key, iv, aad, data]`; the key becomes a non-extractable CryptoKey and
 * its bytes are wiped (importKey copied them). */
async function gcm(op, [raw, iv, additionalData, data]) {
  let key;
  try {
    key = subtle.importKey('raw', raw, 'AES-GCM', false, [op]);
  } finally {
    raw.fill(0);
  }
  return new Uint8Array(await subtle[op]({ name: 'AES-GCM', iv, additionalData }, await key, data));
}

async function seal(keyring, context, value) {
  const prepared = keyring.__prepareSeal(context, value, threshold());
  if (typeof prepared === 'string') return prepared;
  const [pending, ...step] = prepared;
  try {
    return pending.finish(await gcm('encrypt', step));
  } finally {
    step[3].fill(0); // the plaintext copy
    pending.free();
  }
}

async function open(keyring, context, sealed, wasm, asBytes) {
  const step = keyring.__prepareOpen(context, sealed, threshold());
  if (step === undefined) {
    return asBytes ? keyring.openFieldBytes(context, sealed) : keyring.openField(context, sealed);
  }
  let plain;
  try {
    plain = await gcm('decrypt', step);
  } catch (e) {
    // The core's opaque error, as in openField.
    if (e?.name === 'OperationError') throw wasm.__sealedFieldAuthError();
    throw e;
  }
  if (asBytes) return plain;
  try {
    return wasm.__openedValue(step[4], plain);
  } finally {
    plain.fill(0);
  }
}

/** Adds the async methods to the glue's Keyring class. */
export function installAsyncMethods(wasm) {
  Object.assign(wasm.Keyring.prototype, {
    sealFieldAsync(context, value) {
      return seal(this, context, value);
    },
    openFieldAsync(context, sealed) {
      return open(this, context, sealed, wasm, false);
    },
    openFieldBytesAsync(context, sealed) {
      return open(this, context, sealed, wasm, true);
    },
  });
}
