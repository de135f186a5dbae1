// Thi Đua's service worker: keeps the app's files so it starts with no network.
// The version and the precache list below are filled in by scripts/postbuild.mjs after each build.
const VERSION = '__VERSION__';
const PRECACHE = __PRECACHE__;
const CACHE = 'thidua-' + VERSION;

// A new version downloads in the background and then WAITS: it takes over only when the user accepts
// "Có phiên bản mới — Tải lại" (the page posts SKIP_WAITING) or when every tab of the app is closed,
// so it never swaps the app's files under an open form.
self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

self.addEventListener('message', (event) => {
  if (event.data === 'SKIP_WAITING') self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('thidua-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  // the API is never cached: the app keeps its data in IndexedDB and syncs by itself
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (event.request.mode === 'navigate') {
    // the app shell, from the cache first: on 2G waiting for the network before showing anything is worse
    event.respondWith(caches.open(CACHE).then((cache) => cache.match('/index.html')).then((hit) => hit || fetch(event.request)));
    return;
  }
  event.respondWith(caches.open(CACHE).then((cache) => cache.match(event.request)).then((hit) => hit || fetch(event.request)));
});
