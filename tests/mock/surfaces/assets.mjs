// Static files for image-URL tests, recorded as provider "assets".
import { ASSETS } from '../common.mjs';

export function makeAssets(m) {
  const { state, log, record, sendJson } = m;

  // Static files for image-URL tests: GET /assets/<name>.png|.jpg|.webp (a tiny
  // real image), .html / .txt (not an image), /assets/redirect?to=URL (302).
  // Every fetch is recorded as provider "assets", endpoint "asset", so a test
  // can prove the gateway fetched (or did not fetch) a URL.
  function handleAsset(req, res, url) {
    const name = url.pathname.slice('/assets/'.length);
    const rec = record({ at: Date.now(), provider: 'assets', method: req.method, path: url.pathname, sub: `/${name}`, query: Object.fromEntries(url.searchParams), endpoint: 'asset', headers: { ...req.headers }, key: null, body: null, model: null, stream: false, status: null, outcome: 'ok', violation: null });
    if (log) process.stderr.write(`[mock] #${rec.seq} ${req.method} ${url.pathname} (asset)\n`);
    if (name === 'redirect') {
      rec.status = 302;
      res.writeHead(302, { location: url.searchParams.get('to') || '/assets/pixel.png', 'content-length': 0 });
      return res.end();
    }
    const gen = name.match(/^generated\/([\w-]+)\.png$/);
    if (gen) {
      const png = state.generated.get(gen[1]);
      if (!png) {
        rec.status = 404;
        return sendJson(res, 404, 'not found');
      }
      rec.status = 200;
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, 'cache-control': 'no-store' });
      return res.end(req.method === 'HEAD' ? undefined : png);
    }
    const ext = (name.match(/\.(\w+)$/) || [])[1];
    const a = ASSETS[ext];
    if (!a) {
      rec.status = 404;
      return sendJson(res, 404, 'not found');
    }
    rec.status = 200;
    res.writeHead(200, { 'content-type': a.type, 'content-length': a.bytes.length, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : a.bytes);
  }

  return { handleAsset };
}
