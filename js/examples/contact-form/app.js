// Seals e-mail and phone to the tenant's public key (HPKE) in the browser, then posts the
// form. The browser never holds the tenant's keyring; only the server's private key opens
// the values, each bound to its tenant, object, record and field.
import init, { sealToTenant, CrmGuardError } from 'crmguard';

const form = document.getElementById('contact');
const status = document.getElementById('status');
const send = document.getElementById('send');

const fromBase64url = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

// The form's configuration: tenant, the record id the server reserved, the tenant public key.
const [, config] = await Promise.all([init(), fetch('./form-config').then((r) => r.json())]);
const publicKey = fromBase64url(config.publicKey);
send.disabled = false;

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const context = (field) => ({ tenant: config.tenant, object: 'contact', record: config.record, field });
  try {
    const body = {
      record: config.record,
      name: document.getElementById('name').value,
      email: sealToTenant(publicKey, context('email'), document.getElementById('email').value),
      phone: sealToTenant(publicKey, context('phone'), document.getElementById('phone').value),
    };
    const response = await fetch(config.submit, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    status.textContent = response.ok ? 'Thank you — we will be in touch.' : `Failed: HTTP ${response.status}`;
  } catch (e) {
    status.textContent = e instanceof CrmGuardError ? `Failed: ${e.code}` : 'Failed';
  }
});
