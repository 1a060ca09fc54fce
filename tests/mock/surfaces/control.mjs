// The control API under /__mock/ (documented in ../README.md).
import { ERROR_KINDS } from '../providers.mjs';

export function makeControl(m) {
  const { state, addRule, sendJson } = m;

  // ---- control API ----

  function filterRequests(q) {
    let out = state.requests;
    const f = (name, fn) => {
      const v = q.get(name);
      if (v !== null && v !== '') out = out.filter((r) => fn(r, v));
    };
    f('provider', (r, v) => r.provider === v);
    f('model', (r, v) => r.model === v);
    f('key', (r, v) => r.key === v);
    f('endpoint', (r, v) => r.endpoint === v);
    f('since', (r, v) => r.seq > Number(v));
    f('violations', (r, v) => (v === '1' || v === 'true' ? Boolean(r.violation) : true));
    return out;
  }

  async function control(req, res, url, rawBody) {
    const p = url.pathname.replace(/^\/__mock/, '');
    let body = {};
    if (rawBody.length) {
      try {
        body = JSON.parse(rawBody.toString('utf8'));
      } catch {
        return sendJson(res, 400, { error: 'control body is not JSON' });
      }
    }
    try {
      if (p === '/health') return sendJson(res, 200, { ok: true, port: m.server.address().port, seq: state.seq });
      if (p === '/providers') return sendJson(res, 200, { providers: state.providers, base_paths: state.basePaths, error_kinds: ERROR_KINDS });
      if (p === '/script') {
        if (req.method === 'GET') return sendJson(res, 200, { rules: state.rules });
        if (req.method === 'DELETE') {
          state.rules = [];
          return sendJson(res, 200, { ok: true });
        }
        const list = Array.isArray(body) ? body : Array.isArray(body.rules) ? body.rules : [body];
        const ids = list.map(addRule);
        return sendJson(res, 200, { ids });
      }
      if (p === '/requests') {
        if (req.method === 'DELETE') {
          state.requests = [];
          return sendJson(res, 200, { ok: true });
        }
        return sendJson(res, 200, { requests: filterRequests(url.searchParams) });
      }
      if (p === '/reset') {
        state.rules = [];
        state.requests = [];
        state.signatures.clear();
        state.tokens.clear();
        state.generated.clear();
        if (body.keys) state.keys = {};
        if (body.config) state.config = { strict: true, default_content: null, latency_ms: 0, live_text_frames: false };
        return sendJson(res, 200, { ok: true });
      }
      if (p === '/keys') {
        if (req.method === 'POST') {
          for (const [prov, list] of Object.entries(body)) {
            if (!state.providers[prov]) throw new Error(`unknown provider "${prov}"`);
            if (list === null) delete state.keys[prov];
            else state.keys[prov] = list;
          }
        }
        return sendJson(res, 200, { keys: state.keys });
      }
      if (p === '/signatures') {
        if (req.method === 'DELETE') {
          state.signatures.clear();
          return sendJson(res, 200, { ok: true });
        }
        return sendJson(res, 200, { signatures: [...state.signatures].map(([signature, v]) => ({ signature, ...v })) });
      }
      if (p === '/tokens') {
        if (req.method === 'DELETE') {
          state.tokens.clear();
          return sendJson(res, 200, { ok: true });
        }
        return sendJson(res, 200, { tokens: [...state.tokens.values()] });
      }
      if (p === '/config') {
        if (req.method === 'POST') Object.assign(state.config, body);
        return sendJson(res, 200, { config: state.config });
      }
      return sendJson(res, 404, { error: `unknown control path ${p}` });
    } catch (e) {
      return sendJson(res, 400, { error: String(e.message || e) });
    }
  }

  return { filterRequests, control };
}
