// Workers and edge runtimes (web workers, service workers, Cloudflare workerd, Vercel edge,
// Deno): only web-platform API, which is exactly the browser entry's loader. Pass a
// WebAssembly.Module where the platform imports .wasm files as modules (e.g. `import wasm from
// 'crmguard/crmguard.wasm'` in workerd); otherwise the .wasm next to the entry is fetched and
// compiled streaming.
export * from './browser.js';
export { default } from './browser.js';
