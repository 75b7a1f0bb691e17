// AAQ Studio service worker: the app works offline once it has been loaded. On install it caches
// the files listed in precache.json (written at build time: the app, the demo and the WASM
// runtime); every other same-origin GET (the WebGPU runtime, say) is cached on first use.
// Nothing here ever talks to another origin.
const CACHE = 'aaq-studio';

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const res = await fetch('precache.json', { cache: 'no-store' });
      if (!res.ok) return;
      const { version, files } = await res.json();
      const cache = await caches.open(`${CACHE}-${version}`);
      await cache.addAll(files.map((f) => new URL(f.replace(/^\//, ''), self.registration.scope).href));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const res = await fetch('precache.json', { cache: 'no-store' }).catch(() => null);
      const version = res && res.ok ? (await res.json()).version : null;
      if (version) for (const k of await caches.keys()) if (k.startsWith(CACHE) && k !== `${CACHE}-${version}`) await caches.delete(k);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(
    (async () => {
      // ignoreVary: the preview server sends 'Vary: Origin', and module scripts carry an Origin header.
      const hit = await caches.match(req, { ignoreSearch: true, ignoreVary: true });
      // Network first for the page itself (new versions), cache first for everything else.
      if (hit && req.mode !== 'navigate') return hit;
      try {
        const res = await fetch(req);
        if (res.ok && res.type === 'basic') {
          const keys = await caches.keys();
          const name = keys.find((k) => k.startsWith(CACHE)) ?? `${CACHE}-runtime`;
          (await caches.open(name)).put(req, res.clone());
        }
        return res;
      } catch (e) {
        if (hit) return hit;
        if (req.mode === 'navigate') {
          const shell = await caches.match(new URL('./', self.registration.scope).href, { ignoreVary: true });
          if (shell) return shell;
        }
        throw e;
      }
    })(),
  );
});
