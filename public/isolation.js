// Cross-origin isolation where the host cannot send the headers for it (GitHub Pages). The
// threaded worker shares its memory (a SharedArrayBuffer), which browsers allow only in a page
// served with `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy:
// require-corp`. This one file plays two parts:
// - In the page (a script in index.html's head, before the app): where the page is not isolated,
//   it registers itself as the page's service worker and reloads the page once, under it. The app
//   waits on `window.headlightIsolation` before it draws anything, so nothing typed is lost. Where
//   that fails (no service workers, a private window, a browser that ignores the headers), it
//   gives up within 3 s and the model runs on one thread; it tries once per tab.
// - As the service worker: it adds the two headers to this site's pages and worker scripts,
//   the only responses they act on. Every other request goes to the network untouched, the
//   model downloads among them, so their redirects stay visible to the worker's checks; those to
//   other origins (the Hugging Face Hub and its CDN) are CORS requests, which require-corp lets
//   through.
const ISOLATED = new Set(["document", "worker"]);
if (typeof window === "undefined") {
  self.addEventListener("install", () => self.skipWaiting());
  self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
  self.addEventListener("fetch", (event) => {
    const request = event.request;
    if (new URL(request.url).origin !== self.location.origin || !ISOLATED.has(request.destination)) return;
    event.respondWith(
      fetch(request).then((response) => {
        const headers = new Headers(response.headers);
        headers.set("Cross-Origin-Opener-Policy", "same-origin");
        headers.set("Cross-Origin-Embedder-Policy", "require-corp");
        return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
      }),
    );
  });
} else {
  const script = document.currentScript.src;
  window.headlightIsolation = (async () => {
    if (window.crossOriginIsolated || !window.isSecureContext || !("serviceWorker" in navigator)) return;
    const tried = "headlight.isolation";
    try {
      if (sessionStorage.getItem(tried)) return;
      sessionStorage.setItem(tried, "1");
      await navigator.serviceWorker.register(script);
      if (!navigator.serviceWorker.controller) {
        const controlled = new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
        const late = new Promise((_, reject) => setTimeout(() => reject(new Error("the service worker did not take over within 3 s")), 3000));
        await Promise.race([controlled, late]);
      }
      location.reload();
      await new Promise(() => {}); // the page is going: the app never starts in it
    } catch (error) {
      console.warn("headlight: the page is not cross-origin isolated, so the model runs on one thread:", error);
    }
  })();
}
